/**
 * A real node:http server around the `gatehouse/next` API helpers, and the client side the HTTP integration
 * tests share: requests with the session cookie, reading it back from Set-Cookie, and signing up.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect } from "vitest";
import { createGatehouse, type Gatehouse, type GatehouseOptions } from "../../src/core/gatehouse.js";
import type { OAuthProvider } from "../../src/core/oauth-providers.js";
import type { RateLimitOptions } from "../../src/core/rate-limit.js";
import { profileInput } from "../../src/http/inputs.js";
import { gatehouseAdminHandler, gatehouseApiHandler, readJsonBody, withApiAuth } from "../../src/next/api.js";
import type { SessionStrategyName } from "../../src/session/config.js";
import { createRedisStore, type RedisStore, type RedisStoreOptions } from "../../src/stores/redis.js";
import type { Store } from "../../src/stores/types.js";
import { CHEAP_ARGON2, PASSWORD, TEST_SECRET } from "./credentials.js";
import { openTempSqliteStore, type TempSqliteStore } from "./temp-sqlite.js";

/** The default cookie name; the servers here leave it as it is (and secureCookies off, so no __Host- prefix). */
export const SESSION_COOKIE = "gatehouse.session";

/** A node:http server on a free port of 127.0.0.1. */
export interface LocalServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Listens first and builds the handler after, because gatehouseApiHandler needs the server's URL (it checks
 * each request's Origin against it), and the port is only known once listening.
 */
export async function listenOnLocalhost(handlerFor: (url: string) => http.RequestListener): Promise<LocalServer> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  server.on("request", handlerFor(url));
  return {
    url,
    port,
    async close() {
      // Keep-alive sockets would hold close() open until they time out.
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export interface TestServer extends LocalServer {
  origin: string;
  /** The server's clock: frozen at `startedAt` (a whole second) until moved with `setClock`. */
  startedAt: number;
  setClock(ms: number): void;
  gatehouse: Gatehouse;
  /** The store of users the gatehouse uses (and of sessions and counters, unless `redis` has them). */
  store: Store;
  /** The Redis store of sessions and counters, with `options.redis`. */
  redis: RedisStore | null;
  /** The SQLite file; `""` when the server was given `options.store`. */
  dbFile: string;
}

/**
 * The per-IP limits are off on the shared test servers: every request of a suite comes from 127.0.0.1, and
 * a suite signs up far more than 20 accounts. The per-account limit stays at its default. Tests about the
 * limits themselves pass their own `rateLimits`.
 */
export const SUITE_RATE_LIMITS: RateLimitOptions = Object.freeze({
  signupPerIp: false,
  loginPerIp: false,
  passkeyOptionsPerIp: false,
  oauthPerIp: false,
});

/** How a test server's gatehouse is set up beyond the defaults. */
export interface TestServerOptions {
  /** Default {@link SUITE_RATE_LIMITS}. */
  rateLimits?: RateLimitOptions;
  trustedOrigins?: readonly string[];
  trustedProxies?: number;
  freshAuthSeconds?: number;
  /** Default `false` (plain names, no Secure): with `true`, the cookies are `__Host-` ones. */
  secureCookies?: boolean;
  /**
   * A store to use instead of the temp SQLite file (PostgreSQL, say). The caller owns it: close() leaves it
   * open, so one store can serve several servers; `dbFile` is then `""`.
   */
  store?: Store;
  /** Sessions and rate-limit counters in this Redis; the Redis store is closed with the server. */
  redis?: RedisStoreOptions;
  /** A store of sessions to use instead (the caller owns it). */
  sessionStore?: GatehouseOptions["sessionStore"];
  /** A store of rate-limit counters to use instead (the caller owns it). */
  rateLimitStore?: GatehouseOptions["rateLimitStore"];
  /** OAuth / OpenID Connect providers (`oidc({ … })`, …), passed to `createGatehouse` as they are. */
  providers?: readonly OAuthProvider[];
  /** Email options (`mailer`, `requireEmailVerification`, …), passed to `createGatehouse` as they are. */
  email?: Pick<
    GatehouseOptions,
    | "mailer"
    | "requireEmailVerification"
    | "emailVerification"
    | "passwordResetLifetimeSeconds"
    | "emailLinks"
    | "appName"
    | "mailDelivery"
  >;
}

type Route = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

function sendJson(res: http.ServerResponse, body: unknown): void {
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify(body));
}

/**
 * /api/auth/* → gatehouseApiHandler; /api/admin/* → gatehouseAdminHandler; /api/me and /api/admin (permission
 * users:read) → withApiAuth;
 * PATCH /api/profile → withApiAuth + readJsonBody + updateProfile; anything else 404. All on a SQLite file of
 * the server's own, deleted by close(), unless `options.store` names another. The gatehouse is made with `url`
 * set to the server's own origin, and that is the only origin either helper is told about.
 */
export async function startServer(strategy: SessionStrategyName, options: TestServerOptions = {}): Promise<TestServer> {
  const sqlite = options.store ? null : openTempSqliteStore();
  const store = options.store ?? (sqlite as TempSqliteStore).store;
  const redis = options.redis ? createRedisStore(options.redis) : null;
  // Frozen, and at a whole second, so Max-Age comes out exact and no session slides or expires by itself.
  const startedAt = Math.floor(Date.now() / 1000) * 1000;
  let clock = startedAt;
  let gatehouse: Gatehouse | undefined;
  const server = await listenOnLocalhost((url) => {
    const instance = createGatehouse({
      store,
      ...(redis && { sessionStore: redis, rateLimitStore: redis }),
      ...(options.sessionStore && { sessionStore: options.sessionStore }),
      ...(options.rateLimitStore && { rateLimitStore: options.rateLimitStore }),
      url,
      secret: TEST_SECRET,
      strategy,
      secureCookies: options.secureCookies ?? false,
      argon2: CHEAP_ARGON2,
      now: () => clock,
      rateLimits: options.rateLimits ?? SUITE_RATE_LIMITS,
      ...(options.trustedOrigins && { trustedOrigins: options.trustedOrigins }),
      ...(options.trustedProxies !== undefined && { trustedProxies: options.trustedProxies }),
      ...(options.freshAuthSeconds !== undefined && { freshAuthSeconds: options.freshAuthSeconds }),
      ...(options.providers && { providers: options.providers }),
      ...options.email,
    });
    gatehouse = instance;
    const routes: Record<string, Route> = {
      auth: gatehouseApiHandler(instance),
      adminApi: gatehouseAdminHandler(instance),
      me: withApiAuth(instance, (_req, res, { user }) => sendJson(res, { user })),
      admin: withApiAuth(instance, { permission: "users:read" }, (_req, res, { user }) =>
        sendJson(res, { admin: user.email }),
      ),
      // The order before 0.2.0 (options last), deprecated but still served.
      "admin-legacy": withApiAuth(instance, (_req, res, { user }) => sendJson(res, { admin: user.email }), {
        permission: "users:read",
      }),
      profile: withApiAuth(instance, async (req, res, { user }) => {
        if (req.method !== "PATCH") {
          res.statusCode = 405;
          res.setHeader("Allow", "PATCH");
          res.end();
          return;
        }
        sendJson(res, { user: await instance.updateProfile(user.id, profileInput(await readJsonBody(req))) });
      }),
    };
    return (req, res) => {
      const { pathname } = new URL(req.url ?? "/", url);
      const route = pathname.startsWith("/api/auth/")
        ? "auth"
        : pathname.startsWith("/api/admin/")
          ? "adminApi"
          : (/^\/api\/(me|admin|admin-legacy|profile)$/.exec(pathname)?.[1] ?? "");
      const handler = routes[route];
      if (!handler) {
        res.statusCode = 404;
        res.end();
        return;
      }
      // A handler that throws would leave the request hanging; 599 and the error make the failing test say why.
      handler(req, res).catch((error: unknown) => {
        res.statusCode = 599;
        res.end(String(error));
      });
    };
  });
  return {
    ...server,
    origin: new URL(server.url).origin,
    startedAt,
    setClock: (ms) => {
      clock = ms;
    },
    gatehouse: gatehouse as Gatehouse,
    store,
    redis,
    dbFile: sqlite?.dbFile ?? "",
    async close() {
      await server.close();
      // The mail sender first: it must not poll a store that is closing.
      await gatehouse?.close();
      await redis?.close();
      await sqlite?.close();
    },
  };
}

/**
 * A server for the enclosing describe block: started before its tests, closed after them. The object is
 * filled in by beforeAll, so read it only inside tests and hooks.
 */
export function useTestServer(strategy: SessionStrategyName, options: TestServerOptions = {}): TestServer {
  const app = {} as TestServer;
  let started = false;
  beforeAll(async () => {
    Object.assign(app, await startServer(strategy, options));
    started = true;
  });
  afterAll(async () => {
    if (started) await app.close();
  });
  return app;
}

/** The session cookie's value in a response's Set-Cookie headers (`""` when it is cleared). */
export function sessionCookieOf(response: Response): string | undefined {
  const header = response.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  return header?.split(";", 1)[0]?.slice(SESSION_COOKIE.length + 1);
}

/** A Cookie request header that carries `value` as the session cookie. */
export function sessionCookieHeader(value: string): string {
  return `${SESSION_COOKIE}=${value}`;
}

export interface ApiRequestInit {
  /** Default GET, or POST when there is a `json` body. */
  method?: string;
  json?: unknown;
  /** A body sent exactly as given (set its Content-Type in `headers`), instead of `json`. */
  body?: string;
  /** The session cookie's value. */
  cookie?: string;
  /** Default the server's own, so the CSRF check lets the request through. */
  origin?: string;
  headers?: Record<string, string>;
}

/** A request to the server as a same-origin page's script would send it. Redirects are returned, not followed. */
export function apiRequest(server: { url: string }, route: string, init: ApiRequestInit = {}): Promise<Response> {
  const headers: Record<string, string> = { Origin: init.origin ?? new URL(server.url).origin, ...init.headers };
  if (init.json !== undefined) headers["Content-Type"] = "application/json";
  if (init.cookie !== undefined) headers.Cookie = sessionCookieHeader(init.cookie);
  const body = init.body ?? (init.json === undefined ? undefined : JSON.stringify(init.json));
  return fetch(`${server.url}${route}`, {
    method: init.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    body,
    redirect: "manual",
  });
}

/** A browser that keeps every cookie responses set (not only the session cookie) and sends them back. */
export interface Browser {
  /** {@link apiRequest} with the cookies held; a `Cookie` in `init.headers` replaces them for this request. */
  request(route: string, init?: Omit<ApiRequestInit, "cookie">): Promise<Response>;
  /** The value of the cookie `name` held, if any. */
  cookie(name: string): string | undefined;
  /** Plants a cookie, as another site or a copied cookie would. */
  setCookie(name: string, value: string): void;
  deleteCookie(name: string): void;
}

/** A fresh {@link Browser} with no cookies; a Set-Cookie with an empty value or `Max-Age=0` deletes one. */
export function createBrowser(server: { url: string }): Browser {
  const jar = new Map<string, string>();
  return {
    async request(route, init = {}) {
      const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join("; ");
      const response = await apiRequest(server, route, {
        ...init,
        headers: { ...(cookie && { Cookie: cookie }), ...init.headers },
      });
      for (const header of response.headers.getSetCookie()) {
        const [pair = "", ...attributes] = header.split(";").map((part) => part.trim());
        const at = pair.indexOf("=");
        const name = pair.slice(0, at);
        const value = pair.slice(at + 1);
        if (value === "" || attributes.some((attribute) => /^max-age=0$/i.test(attribute))) jar.delete(name);
        else jar.set(name, value);
      }
      return response;
    },
    cookie: (name) => jar.get(name),
    setCookie: (name, value) => {
      jar.set(name, value);
    },
    deleteCookie: (name) => {
      jar.delete(name);
    },
  };
}

/**
 * Checks a refused request: the status, a JSON `{ error: { code } }` body with this code, and no cookie set.
 * Resolves to the error object, for tests that look at `fields` or the message.
 */
export async function expectError(
  response: Response,
  status: number,
  code: string,
): Promise<{ code: string; message: string; fields: Record<string, { code: string; message: string }> }> {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  const body = await response.json();
  expect(body.error.code).toBe(code);
  expect(response.headers.getSetCookie()).toEqual([]);
  return body.error;
}

/** Signs `email` up with {@link PASSWORD} through the JSON API; fails the test unless that answers 201. */
export async function signUpViaApi(
  server: { url: string },
  email: string,
  headers: Record<string, string> = {},
): Promise<{ email: string; cookie: string }> {
  const response = await apiRequest(server, "/api/auth/signup", { json: { email, password: PASSWORD }, headers });
  expect(response.status).toBe(201);
  return { email, cookie: sessionCookieOf(response) as string };
}

/** `prefix1-label@example.com`, `prefix2-label@example.com`, …: a new address for every account a test makes. */
export function uniqueEmails(prefix: string, label: string): () => string {
  let counter = 0;
  return () => `${prefix}${++counter}-${label}@example.com`;
}

/** A response read in full by {@link rawRequest}. */
export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * A request sent exactly as written, through node:http rather than fetch: the path is not normalised (`..`,
 * `%2e%2e`), and headers fetch would refuse or rewrite (`Host`, `X-Forwarded-Host`, repeated headers) go as given.
 */
export function rawRequest(
  server: { port: number },
  init: { method: string; path: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer },
): Promise<RawResponse> {
  const headers: http.OutgoingHttpHeaders = { ...init.headers };
  // node:http frames a DELETE (or GET) body only when told its length; unframed, the server reads it as a new request.
  if (init.body !== undefined && !Object.keys(headers).some((name) => name.toLowerCase() === "content-length")) {
    headers["Content-Length"] = Buffer.byteLength(init.body);
  }
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port: server.port, method: init.method, path: init.path, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
        );
      },
    );
    req.on("error", reject);
    req.end(init.body);
  });
}

/** The session cookie's value in a raw response's Set-Cookie headers (`""` when it is cleared). */
export function rawSessionCookieOf(response: RawResponse): string | undefined {
  const header = (response.headers["set-cookie"] ?? []).find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  return header?.split(";", 1)[0]?.slice(SESSION_COOKIE.length + 1);
}

import type { IncomingMessage, ServerResponse } from "node:http";
import type { NextApiRequest, NextApiResponse } from "next";
import { originsOf } from "../core/config.js";
import type { Gatehouse } from "../core/gatehouse.js";
import { ConfigurationError, ForbiddenError, UnauthenticatedError } from "../errors.js";
import { createAdminRoutes, createAuthRoutes } from "../http/auth-routes.js";
import { assertSameOrigin, MAX_BODY_BYTES, readRequestBody } from "../http/guards.js";
import { errorResponse, type HttpResponse } from "../http/response.js";
import type { AuthPages, AuthRequest } from "../http/router.js";
import { clientIp, headerOf, readBody, sendHttpResponse } from "./node-http.js";
import { type Auth, verifySession } from "./session.js";
import { type GatehouseSource, resolveGatehouse } from "./source.js";

/** Options for {@link gatehouseApiHandler}. */
export interface ApiHandlerOptions {
  /**
   * The app's public origin, e.g. `process.env.GATEHOUSE_URL`. Requests from other origins get 403 `csrf`.
   * Default: the `url` given to `createGatehouse`.
   */
  url?: string;
  /** More origins allowed to call the auth API (e.g. a separate marketing site). */
  trustedOrigins?: readonly string[];
  /** Where the routes are mounted. Default `/api/auth`. */
  basePath?: string;
  /** Pages that HTML form posts are redirected to. */
  pages?: Partial<AuthPages>;
}

type NodeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** Where the auth routes send HTML form posts and OAuth callbacks, unless `pages` says otherwise. */
export const DEFAULT_PAGES: Readonly<AuthPages> = Object.freeze({
  login: "/login",
  signup: "/signup",
  afterLogin: "/dashboard",
  afterLogout: "/login",
  verifyLogin: "/login/verify",
  settings: "/settings",
});

/**
 * The catch-all API route for `pages/api/auth/[...gatehouse].ts`: `POST signup`, `POST login`,
 * `POST logout`, `GET session`. Turn Next's body parser off for this route; Gatehouse reads and limits
 * the body itself so that malformed input gets a JSON error.
 *
 * @example
 * ```ts
 * // pages/api/auth/[...gatehouse].ts
 * import { gatehouseApiHandler } from "gatehouse-auth/next";
 * import { gatehouse } from "@/lib/gatehouse";
 *
 * export const config = { api: { bodyParser: false } };
 * export default gatehouseApiHandler(gatehouse);
 * ```
 */
export function gatehouseApiHandler(gatehouse: GatehouseSource, options: ApiHandlerOptions = {}): NodeHandler {
  return nodeRoutesHandler(
    gatehouse,
    { ...options, name: "gatehouseApiHandler", basePath: options.basePath ?? "/api/auth" },
    createAuthRoutes,
  );
}

/** Options for {@link gatehouseAdminHandler}. */
export interface AdminHandlerOptions {
  /** The app's public origin; default the `url` given to `createGatehouse` (as for {@link ApiHandlerOptions}). */
  url?: string;
  /** More origins allowed to call the admin API. */
  trustedOrigins?: readonly string[];
  /** Where the admin routes are mounted. Default `/api/admin`. */
  basePath?: string;
}

/**
 * The catch-all API route of the admin console, for `pages/api/admin/[...gatehouse].ts`: users, bans, roles,
 * impersonation, the audit log and the outbox (see the README's HTTP contract). Every route answers 401 to a
 * visitor, 403 `forbidden` to a user whose role is not `admin` and 403 `impersonation_forbidden` to an
 * impersonated session; every write needs the administrator's password in the body. Turn Next's body parser
 * off for this route, as for the auth routes.
 *
 * @example
 * ```ts
 * // pages/api/admin/[...gatehouse].ts
 * import { gatehouseAdminHandler } from "gatehouse-auth/next";
 * import { gatehouse } from "@/lib/gatehouse";
 *
 * export const config = { api: { bodyParser: false } };
 * export default gatehouseAdminHandler(gatehouse);
 * ```
 */
export function gatehouseAdminHandler(gatehouse: GatehouseSource, options: AdminHandlerOptions = {}): NodeHandler {
  return nodeRoutesHandler(
    gatehouse,
    { ...options, name: "gatehouseAdminHandler", basePath: options.basePath ?? "/api/admin" },
    createAdminRoutes,
  );
}

/** A router of the core's HTTP API (`createAuthRoutes`, `createAdminRoutes`) for a Pages Router API route. */
function nodeRoutesHandler(
  gatehouse: GatehouseSource,
  options: ApiHandlerOptions & { name: string; basePath: string },
  create: (
    gatehouse: Gatehouse,
    options: { origins: ReadonlySet<string>; pages: AuthPages },
  ) => (request: AuthRequest) => Promise<HttpResponse>,
): NodeHandler {
  const basePath = options.basePath.replace(/\/+$/, "");
  const extraOrigins = originsOf(
    [options.url, ...(options.trustedOrigins ?? [])],
    (url) =>
      `${options.name}: "${url}" is not a URL. Pass the app's public origin, e.g. url: process.env.GATEHOUSE_URL.`,
  );
  const pages: AuthPages = { ...DEFAULT_PAGES, ...options.pages };
  let routes: ((request: AuthRequest) => Promise<HttpResponse>) | undefined;
  return async (req, res) => {
    let response: HttpResponse;
    try {
      const instance = resolveGatehouse(gatehouse);
      routes ??= create(instance, { origins: allowedOrigins(instance, extraOrigins), pages });
      const { pathname: path, searchParams: query } = new URL(req.url ?? "/", "http://gatehouse.invalid");
      const route = path.startsWith(`${basePath}/`) ? path.slice(basePath.length + 1).split("/") : [];
      response = await routes({
        method: req.method ?? "GET",
        route,
        query,
        header: (name) => headerOf(req, name),
        readBody: (limit) => readBody(req, limit),
        ip: clientIp(req, instance.trustedProxies),
      });
    } catch (error) {
      response = errorResponse(error);
    }
    sendHttpResponse(res, response);
  };
}

const NO_ORIGINS: ReadonlySet<string> = new Set();

/** The instance's origins plus the handler's own; an app with none configured cannot accept a write. */
export function allowedOrigins(gatehouse: Gatehouse, extra: ReadonlySet<string> = NO_ORIGINS): ReadonlySet<string> {
  // Without extras the instance's own set serves as is: guarded writes call this on every request.
  const origins = extra.size === 0 ? gatehouse.origins : new Set([...gatehouse.origins, ...extra]);
  if (origins.size === 0) {
    throw new ConfigurationError(
      "Gatehouse needs the app's public origin to check where requests come from: set url in createGatehouse (GATEHOUSE_URL).",
    );
  }
  return origins;
}

/** What a guarded route requires beyond being signed in. */
export interface GuardOptions {
  /** A permission the user's role must grant (see `roles`). */
  permission?: string;
  /** A role the user must have. Prefer `permission`. */
  role?: string;
}

/**
 * The guard's options as given, checked once when the guard is built: a plain object whose keys are only
 * those of `allowed`, each a non-empty string. A typo (`{ permisson }`), a string or a function in its place
 * would otherwise guard nothing, silently.
 */
export function checkGuardOptions<T extends object>(guard: string, options: unknown, allowed: readonly string[]): T {
  if (options === undefined) return {} as T;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError(`${guard}: the options must be an object like { permission: "users:read" }.`);
  }
  for (const [key, value] of Object.entries(options)) {
    if (!allowed.includes(key)) {
      throw new TypeError(`${guard}: unknown option "${key}"; the options are ${allowed.join(", ")}.`);
    }
    if (value !== undefined && (typeof value !== "string" || value === "")) {
      throw new TypeError(`${guard}: the option "${key}" must be a non-empty string.`);
    }
  }
  return options as T;
}

/** The options of every guard of a route or an action (`withApiAuth`, `withRouteAuth`, `guardAction`). */
export const GUARD_OPTIONS = ["permission", "role"] as const;

/**
 * Throws `ForbiddenError` unless `auth` satisfies `options`: the check of {@link withApiAuth}'s options, for
 * code that authenticated by itself.
 *
 * @example
 * ```ts
 * assertAllowed(gatehouse, auth, { permission: "users:write" });
 * ```
 */
export function assertAllowed(gatehouse: Gatehouse, auth: Auth, options: GuardOptions): void {
  if (options.role !== undefined && auth.user.role !== options.role) throw new ForbiddenError();
  if (options.permission !== undefined && !gatehouse.can(auth.user, options.permission)) throw new ForbiddenError();
}

/** The handler a guarded API route runs once the request is signed in and allowed, with the {@link Auth}. */
export type AuthedApiHandler<Req, Res> = (req: Req, res: Res, auth: Auth) => unknown;

/**
 * Guards a Pages Router API route: 401 `unauthenticated` without a valid session, 403 `forbidden` when the
 * role lacks the permission, 403 `csrf` for a write from another origin, 503 `unavailable` when the store is
 * down. The handler comes last and receives `NextApiRequest`, `NextApiResponse` and the {@link Auth}; the
 * options (a permission or a role) go in the middle, as for {@link withPageAuth}.
 *
 * @example
 * ```ts
 * // pages/api/admin/users.ts
 * export default withApiAuth(getGatehouse, { permission: "users:read" }, async (req, res, { user }) => {
 *   res.status(200).json({ users: await getGatehouse().users.list() });
 * });
 * ```
 */
export function withApiAuth<Req extends IncomingMessage = NextApiRequest, Res extends ServerResponse = NextApiResponse>(
  gatehouse: GatehouseSource,
  handler: AuthedApiHandler<Req, Res>,
): (req: Req, res: Res) => Promise<void>;
/** {@link withApiAuth} with a permission or a role: `withApiAuth(getGatehouse, { permission }, handler)`. */
export function withApiAuth<Req extends IncomingMessage = NextApiRequest, Res extends ServerResponse = NextApiResponse>(
  gatehouse: GatehouseSource,
  options: GuardOptions,
  handler: AuthedApiHandler<Req, Res>,
): (req: Req, res: Res) => Promise<void>;
/**
 * @deprecated The options now come before the handler, as for `withPageAuth`:
 * `withApiAuth(gatehouse, options, handler)`. This order still works and goes away in 1.0.
 */
export function withApiAuth<Req extends IncomingMessage = NextApiRequest, Res extends ServerResponse = NextApiResponse>(
  gatehouse: GatehouseSource,
  handler: AuthedApiHandler<Req, Res>,
  options: GuardOptions,
): (req: Req, res: Res) => Promise<void>;
export function withApiAuth<Req extends IncomingMessage, Res extends ServerResponse>(
  gatehouse: GatehouseSource,
  first: GuardOptions | AuthedApiHandler<Req, Res>,
  second?: GuardOptions | AuthedApiHandler<Req, Res>,
): (req: Req, res: Res) => Promise<void> {
  const [handler, given] = typeof first === "function" ? [first, second] : [second, first];
  if (typeof handler !== "function") {
    throw new TypeError("withApiAuth(gatehouse, options, handler): the handler must be a function.");
  }
  const options = checkGuardOptions<GuardOptions>("withApiAuth", given, GUARD_OPTIONS);
  return async (req, res) => {
    const instance = resolveGatehouse(gatehouse);
    try {
      // Cookie-authenticated writes get the same CSRF check as the auth routes.
      assertSameOrigin(
        { method: req.method ?? "GET", header: (name) => headerOf(req, name) },
        allowedOrigins(instance, NO_ORIGINS),
      );
      const auth = await verifySession(instance, req, res);
      if (!auth) throw new UnauthenticatedError();
      assertAllowed(instance, auth, options);
      res.setHeader("Cache-Control", "private, no-store");
      await handler(req, res, auth);
    } catch (error) {
      if (res.headersSent) throw error;
      sendHttpResponse(res, errorResponse(error));
    }
  };
}

/**
 * Reads a JSON request body for your own routes with the same rules as the auth API: at most `limit`
 * bytes (413), `application/json` only (415), well-formed (400 `invalid_json`). Inside {@link withApiAuth}
 * a thrown error becomes that JSON answer. Turn Next's body parser off for the route.
 *
 * @example
 * ```ts
 * export const config = { api: { bodyParser: false } };
 * export default withApiAuth(getGatehouse, async (req, res, { user }) => {
 *   const body = await readJsonBody(req);
 *   res.json({ user: await getGatehouse().updateProfile(user.id, profileInput(body)) });
 * });
 * ```
 */
export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const body = await readRequestBody(
    { method: req.method ?? "POST", header: (name) => headerOf(req, name), readBody: (max) => readBody(req, max) },
    { limit },
  );
  return body.kind === "json" ? body.data : undefined;
}

/**
 * A real OpenID Provider on loopback: `oidc-provider` 9 (panva's certified implementation) with its
 * devInteractions login and consent pages, PKCE required, an RS256 key made for the run, and accounts whose
 * claims a test sets. Nothing here stands in for the provider's protocol: the tests' OAuth clients talk to it
 * over real HTTP, as they would to Google or Entra ID.
 *
 * Clients live in an adapter of our own rather than in the static `clients` list, so that a redirect URI
 * (the app's, known only once the app listens) or another client can be added after the provider is made.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair } from "jose";
// oidc-provider ships no type declarations; the few members used are typed below.
// @ts-expect-error TS7016: no declaration file for "oidc-provider".
import ProviderClass from "oidc-provider";

export interface TestOidcAccount {
  email?: string | null;
  emailVerified?: boolean;
  name?: string;
}

export interface TestOidcClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  /** How the client authenticates at the token endpoint. Default `client_secret_basic` (OIDC's default). */
  tokenEndpointAuthMethod?: "client_secret_basic" | "client_secret_post";
}

/** What a request to the provider was, for tests that check whether a client called it at all. */
export interface TestOidcRequest {
  method: string;
  /** The path without the query. */
  path: string;
}

/**
 * Rewrites a successful token response (its parsed JSON body) before it leaves the provider: an attacker in
 * the middle of the token endpoint, for the ID-token checks.
 */
export type TokenResponseTamperer = (
  body: Record<string, unknown>,
) => Record<string, unknown> | Promise<Record<string, unknown>>;

export interface TestOidcProvider {
  /** http://127.0.0.1:<port> */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Claims of the account whose login name is `login` (sub = login). Default: email = login, email_verified true, name "Test <login>". */
  setAccount(login: string, account: TestOidcAccount): void;
  /** Registers another redirect URI for the client `clientId` (default the main client). */
  addRedirectUri(uri: string, clientId?: string): void;
  /** Registers another client (for audience tests, or a second provider entry of the app). */
  addClient(client: TestOidcClient): void;
  /**
   * Follows an authorization URL over HTTP like a browser would: devInteractions login form with `login`,
   * consent, and resolves to the callback URL the provider redirects to (with code, state, iss). Keeps the
   * provider's own cookies per call. With `deny: true` the user aborts and the callback carries
   * error=access_denied.
   */
  authorize(authorizationUrl: string, login: string, options?: { deny?: boolean }): Promise<string>;
  /** Private signing key (JWK) the provider uses, so a test can forge ID tokens signed by "the provider" with bad claims. */
  signingKey: JsonWebKey & { kid: string };
  /** Every request the provider received since start (or `clearRequests()`), oldest first. */
  readonly requests: readonly TestOidcRequest[];
  clearRequests(): void;
  /** Rewrites successful token responses until set to `null`. */
  tamperTokenResponses(tamperer: TokenResponseTamperer | null): void;
  /** Makes the provider look down (connections refused) until `up()`. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

interface AccountClaims {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
}

/** The members of oidc-provider's Provider used here. */
interface OidcProviderInstance {
  callback(): http.RequestListener;
  on(event: string, listener: (...args: unknown[]) => void): void;
}
type OidcProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => OidcProviderInstance;

/** oidc-provider's adapter interface, as its models call it. */
interface Adapter {
  upsert(id: string, payload: Record<string, unknown>, expiresIn?: number): Promise<void>;
  find(id: string): Promise<Record<string, unknown> | undefined>;
  findByUserCode(userCode: string): Promise<Record<string, unknown> | undefined>;
  findByUid(uid: string): Promise<Record<string, unknown> | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

interface Stored {
  payload: Record<string, unknown>;
  expiresAt: number;
}

/**
 * An in-memory adapter of the provider's own (one per provider, nothing shared between files), which also
 * serves the clients from a map the test can change: oidc-provider looks an adapter-held client up again on
 * every request and rebuilds it when its metadata changed.
 */
function memoryAdapterFactory(clients: Map<string, Record<string, unknown>>): (model: string) => Adapter {
  const rows = new Map<string, Stored>();
  const key = (model: string, id: string) => `${model}:${id}`;
  const live = (k: string): Record<string, unknown> | undefined => {
    const row = rows.get(k);
    if (!row) return undefined;
    if (row.expiresAt <= Date.now()) {
      rows.delete(k);
      return undefined;
    }
    return row.payload;
  };
  return (model) => ({
    async upsert(id, payload, expiresIn) {
      const expiresAt = typeof expiresIn === "number" ? Date.now() + expiresIn * 1000 : Number.POSITIVE_INFINITY;
      rows.set(key(model, id), { payload, expiresAt });
    },
    async find(id) {
      if (model === "Client") {
        const client = clients.get(id);
        return client && structuredClone(client);
      }
      return live(key(model, id));
    },
    async findByUserCode(userCode) {
      for (const [k] of rows) {
        const payload = k.startsWith(`${model}:`) ? live(k) : undefined;
        if (payload?.userCode === userCode) return payload;
      }
      return undefined;
    },
    async findByUid(uid) {
      for (const [k] of rows) {
        const payload = k.startsWith(`${model}:`) ? live(k) : undefined;
        if (payload?.uid === uid) return payload;
      }
      return undefined;
    },
    async consume(id) {
      const payload = live(key(model, id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    },
    async destroy(id) {
      rows.delete(key(model, id));
    },
    async revokeByGrantId(grantId) {
      for (const [k, row] of rows) if (row.payload.grantId === grantId) rows.delete(k);
    },
  });
}

function clientMetadata(client: TestOidcClient): Record<string, unknown> {
  return {
    client_id: client.clientId,
    client_secret: client.clientSecret,
    redirect_uris: [...client.redirectUris],
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: client.tokenEndpointAuthMethod ?? "client_secret_basic",
    id_token_signed_response_alg: "RS256",
  };
}

/**
 * Lets `tamper` rewrite a successful JSON response before it is sent: Koa hands the whole body to one
 * `res.end`, with the headers not yet written, so the body and its Content-Length can still change.
 */
function interceptBody(res: http.ServerResponse, tamper: TokenResponseTamperer): void {
  const end = res.end.bind(res) as (chunk?: unknown) => http.ServerResponse;
  res.end = ((chunk?: unknown) => {
    const text = Buffer.isBuffer(chunk) ? chunk.toString("utf8") : typeof chunk === "string" ? chunk : "";
    if (res.statusCode !== 200 || !text) return end(chunk);
    void (async () => {
      let replaced: string;
      try {
        replaced = JSON.stringify(await tamper(JSON.parse(text) as Record<string, unknown>));
      } catch (error) {
        console.error("oidc-provider test tamperer failed", error);
        replaced = text;
      }
      res.setHeader("Content-Length", Buffer.byteLength(replaced));
      end(replaced);
    })();
    return res;
  }) as typeof res.end;
}

/**
 * Starts the provider on a free port of 127.0.0.1. The node:http server listens first, so the issuer (its
 * URL) is known when the Provider is made; `redirectUris` may be empty and filled in with `addRedirectUri`
 * once the app listens.
 */
export async function startOidcProvider(options: {
  redirectUris: string[];
  clientId?: string;
  clientSecret?: string;
  tokenEndpointAuthMethod?: TestOidcClient["tokenEndpointAuthMethod"];
}): Promise<TestOidcProvider> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;

  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const signingKey = {
    ...(await exportJWK(privateKey)),
    kid: `test-${port}-${Date.now()}`,
    alg: "RS256",
    use: "sig",
  } as JsonWebKey & { kid: string };

  const clientId = options.clientId ?? "gatehouse-test";
  const clientSecret = options.clientSecret ?? "gatehouse-test-secret-0123456789";
  const clients = new Map<string, Record<string, unknown>>();
  clients.set(
    clientId,
    clientMetadata({
      clientId,
      clientSecret,
      redirectUris: options.redirectUris,
      tokenEndpointAuthMethod: options.tokenEndpointAuthMethod,
    }),
  );

  const accounts = new Map<string, TestOidcAccount>();
  const claimsOf = (login: string): AccountClaims => {
    const account = accounts.get(login) ?? {};
    const email = account.email === undefined ? login : account.email;
    return {
      sub: login,
      ...(email !== null && { email, email_verified: account.emailVerified ?? true }),
      name: account.name ?? `Test ${login}`,
    };
  };

  const Provider = ProviderClass as OidcProviderConstructor;
  const provider = new Provider(issuer, {
    adapter: memoryAdapterFactory(clients),
    jwks: { keys: [signingKey] },
    cookies: { keys: [`cookie-key-${port}-0123456789abcdef`] },
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    scopes: ["openid", "email", "profile"],
    // The scopes' claims in the ID token too (as Google and Entra ID put them), not only at userinfo.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    async findAccount(_ctx: unknown, sub: string) {
      return { accountId: sub, claims: async () => claimsOf(sub) };
    },
  });
  // Refused requests (the point of many tests) are ordinary OAuth errors; a server_error is a bug, and shown.
  provider.on("server_error", (_ctx, error) => console.error("oidc-provider server_error", error));

  const requests: TestOidcRequest[] = [];
  let tamperer: TokenResponseTamperer | null = null;
  const handle = provider.callback();
  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = new URL(req.url ?? "/", issuer).pathname;
    requests.push({ method: req.method ?? "GET", path });
    const tamper = tamperer;
    if (tamper && req.method === "POST" && path === "/token") interceptBody(res, tamper);
    handle(req, res);
  });

  let sockets = new Set<import("node:net").Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  let isDown = false;

  const self: TestOidcProvider = {
    issuer,
    clientId,
    clientSecret,
    signingKey,
    get requests() {
      return requests;
    },
    clearRequests() {
      requests.length = 0;
    },
    setAccount(login, account) {
      accounts.set(login, { ...account });
    },
    addRedirectUri(uri, forClient = clientId) {
      const client = clients.get(forClient);
      if (!client) throw new Error(`no client ${forClient}`);
      const uris = client.redirect_uris as string[];
      if (!uris.includes(uri)) clients.set(forClient, { ...client, redirect_uris: [...uris, uri] });
    },
    addClient(client) {
      if (clients.has(client.clientId)) throw new Error(`client ${client.clientId} exists`);
      clients.set(client.clientId, clientMetadata(client));
    },
    authorize: (authorizationUrl, login, authorizeOptions = {}) =>
      followAuthorization(issuer, authorizationUrl, login, authorizeOptions.deny ?? false),
    tamperTokenResponses(next) {
      tamperer = next;
    },
    async down() {
      if (isDown) return;
      isDown = true;
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets of the app's fetch would otherwise still reach the provider.
        for (const socket of sockets) socket.destroy();
        sockets = new Set();
      });
    },
    async up() {
      if (!isDown) return;
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => {
          server.off("error", reject);
          resolve();
        });
      });
      isDown = false;
    },
    async close() {
      if (isDown) return;
      isDown = true;
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return self;
}

/** A browser's cookie jar for one origin, as far as oidc-provider's cookies need: name, Path, deletion. */
class CookieJar {
  readonly #cookies = new Map<string, { name: string; value: string; path: string }>();

  store(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = header.split(";").map((part) => part.trim());
      const at = pair.indexOf("=");
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      const path = attributes.find((attribute) => /^path=/i.test(attribute))?.slice(5) || "/";
      const expired = attributes.some(
        (attribute) =>
          /^max-age=(0|-\d+)$/i.test(attribute) ||
          (/^expires=/i.test(attribute) && Date.parse(attribute.slice(8)) <= Date.now()),
      );
      const key = `${name}\u0000${path}`;
      if (expired || value === "") this.#cookies.delete(key);
      else this.#cookies.set(key, { name, value, path });
    }
  }

  header(url: URL): string {
    return [...this.#cookies.values()]
      .filter(({ path }) => url.pathname === path || url.pathname.startsWith(path.endsWith("/") ? path : `${path}/`))
      .map(({ name, value }) => `${name}=${value}`)
      .join("; ");
  }
}

/** The value of the hidden `prompt` input of a devInteractions page, and its form's action. */
function interactionForm(html: string): { prompt: string; action: string } | null {
  const action = /<form[^>]*action="([^"]+)"[^>]*method="post"/i.exec(html)?.[1];
  const prompt = /<input type="hidden" name="prompt" value="([^"]+)"\/>/.exec(html)?.[1];
  return action && prompt ? { action: action.replaceAll("&amp;", "&"), prompt } : null;
}

/**
 * The browser side of an authorization at the provider: follow its redirects, fill in the login page
 * (devInteractions takes any password), confirm the consent page (or, denying, follow the page's Cancel
 * link), until a redirect leaves the provider: that is the callback, which is returned, not followed.
 */
async function followAuthorization(issuer: string, start: string, login: string, deny: boolean): Promise<string> {
  const origin = new URL(issuer).origin;
  const jar = new CookieJar();
  let url = new URL(start);
  let init: RequestInit = { method: "GET" };
  for (let step = 0; step < 20; step++) {
    if (url.origin !== origin) return url.href;
    const cookie = jar.header(url);
    const response = await fetch(url, {
      ...init,
      redirect: "manual",
      headers: { ...(init.headers as Record<string, string>), ...(cookie && { Cookie: cookie }) },
    });
    jar.store(response);
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      url = new URL(location, url);
      init = { method: "GET" };
      continue;
    }
    const html = await response.text();
    if (response.status !== 200) {
      throw new Error(`provider answered ${response.status} at ${url.pathname}: ${html.slice(0, 500)}`);
    }
    const form = interactionForm(html);
    if (!form) throw new Error(`no interaction form at ${url.pathname}: ${html.slice(0, 500)}`);
    if (deny) {
      const abort = /<a href="([^"]+\/abort)">/.exec(html)?.[1];
      if (!abort) throw new Error(`no Cancel link at ${url.pathname}`);
      url = new URL(abort.replaceAll("&amp;", "&"), url);
      init = { method: "GET" };
      continue;
    }
    const fields: Record<string, string> =
      form.prompt === "login" ? { prompt: "login", login, password: "any password" } : { prompt: form.prompt };
    url = new URL(form.action, url);
    init = {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    };
  }
  throw new Error("the authorization did not come back to the client in 20 steps");
}

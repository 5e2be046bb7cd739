/**
 * The GitHub preset over real HTTP, for both session strategies, against a stand-in of GitHub Enterprise
 * Server's OAuth and REST endpoints on loopback (support/github-standin.ts): a browser (a cookie jar and
 * fetch, redirects followed by hand, no Origin on navigations as a browser sends none) goes from the app to
 * the stand-in's authorize page and back to the callback. The rule under test is GitHub's email: only an
 * entry of `/user/emails` that is primary and verified is taken; the public profile email never is. The
 * subject is GitHub's numeric user id, so a renamed login is the same account. Also: account_exists for a
 * password account's address, a denial, GitHub's errors-in-a-200 token answers, a used code, GitHub down,
 * the RFC 9207 `iss` GitHub sends, linking from settings (and identity_in_use), and racing callbacks. Every
 * refused sign-in is checked against the raw rows of the SQLite file: no user, identity or session row
 * changes. The first block checks the stand-in itself with openid-client as a plain OAuth 2.0 client.
 */
import http from "node:http";
import * as openid from "openid-client";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { createGatehouse, type Gatehouse } from "../src/core/gatehouse.js";
import { github } from "../src/index.js";
import { gatehouseApiHandler, withApiAuth } from "../src/next/api.js";
import type { SessionStrategyName } from "../src/session/config.js";
import { CHEAP_ARGON2, PASSWORD, TEST_SECRET } from "./support/credentials.js";
import { type GitHubAccount, type GitHubStandin, s256, startGitHubStandin } from "./support/github-standin.js";
import { listenOnLocalhost, SESSION_COOKIE, SUITE_RATE_LIMITS, uniqueEmails } from "./support/http-server.js";
import { openTempSqliteStore, querySqliteFile } from "./support/temp-sqlite.js";

/** The test servers run without secureCookies, so no __Host- prefix. */
const FLOW_COOKIE = "gatehouse.oauth";

type Row = Record<string, unknown>;
type Route = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

interface App {
  url: string;
  origin: string;
  callbackUrl: string;
  dbFile: string;
  gatehouse: Gatehouse;
  close(): Promise<void>;
}

/**
 * /api/auth/* → gatehouseApiHandler, /api/me → withApiAuth, on a SQLite file of its own; the gatehouse has
 * `url` set to the server's origin and the one provider `github({ enterpriseUrl: gitHub.url })`.
 */
async function startApp(
  strategy: SessionStrategyName,
  gitHub: Pick<GitHubStandin, "clientId" | "clientSecret" | "url">,
): Promise<App> {
  const sqlite = openTempSqliteStore();
  // The store migrates on first use; the raw reads of the tests may come first.
  await sqlite.store.migrate();
  let gatehouse: Gatehouse | undefined;
  const server = await listenOnLocalhost((url) => {
    const instance = createGatehouse({
      store: sqlite.store,
      url,
      secret: TEST_SECRET,
      strategy,
      secureCookies: false,
      argon2: CHEAP_ARGON2,
      rateLimits: SUITE_RATE_LIMITS,
      providers: [github({ clientId: gitHub.clientId, clientSecret: gitHub.clientSecret, enterpriseUrl: gitHub.url })],
    });
    gatehouse = instance;
    const auth: Route = gatehouseApiHandler(instance);
    const me: Route = withApiAuth(instance, (_req, res, { user }) => {
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ user }));
    });
    return (req: http.IncomingMessage, res: http.ServerResponse) => {
      const { pathname } = new URL(req.url ?? "/", url);
      const handler = pathname.startsWith("/api/auth/") ? auth : pathname === "/api/me" ? me : null;
      if (!handler) {
        res.statusCode = 404;
        res.end();
        return;
      }
      handler(req, res).catch((error: unknown) => {
        res.statusCode = 599;
        res.end(String(error));
      });
    };
  });
  return {
    url: server.url,
    origin: new URL(server.url).origin,
    callbackUrl: `${server.url}/api/auth/oauth/github/callback`,
    dbFile: sqlite.dbFile,
    gatehouse: gatehouse as Gatehouse,
    async close() {
      await server.close();
      await sqlite.close();
    },
  };
}

/** A Set-Cookie header for `name`: its value and attributes (names lower-cased). */
function setCookieOf(response: Response, name: string): { value: string; attributes: string[] } | undefined {
  const header = response.headers.getSetCookie().find((cookie) => cookie.startsWith(`${name}=`));
  if (header === undefined) return undefined;
  const [pair = "", ...attributes] = header.split(";").map((part) => part.trim());
  return {
    value: pair.slice(name.length + 1),
    attributes: attributes.map((a) => a.replace(/^[^=]+/, (k) => k.toLowerCase())),
  };
}

/**
 * A browser: keeps the app's cookies (the stand-in sets none) and sends them back; navigations are GETs
 * without Origin, as a browser's top-level navigations are; `post` is a same-origin script's fetch.
 */
interface Navigator {
  get(url: string): Promise<Response>;
  post(route: string, body: unknown, method?: string): Promise<Response>;
  cookie(name: string): string | undefined;
}

function createNavigator(app: App): Navigator {
  const jar = new Map<string, string>();
  async function send(url: URL, init: RequestInit): Promise<Response> {
    const own = url.origin === app.origin;
    const cookie = own ? [...jar].map(([name, value]) => `${name}=${value}`).join("; ") : "";
    const headers = new Headers(init.headers);
    if (cookie) headers.set("Cookie", cookie);
    const response = await fetch(url, { ...init, headers, redirect: "manual" });
    if (own) {
      for (const header of response.headers.getSetCookie()) {
        const [pair = "", ...attributes] = header.split(";").map((part) => part.trim());
        const at = pair.indexOf("=");
        const name = pair.slice(0, at);
        const value = pair.slice(at + 1);
        if (value === "" || attributes.some((a) => /^max-age=0$/i.test(a))) jar.delete(name);
        else jar.set(name, value);
      }
    }
    return response;
  }
  return {
    get: (url) => send(new URL(url, app.url), { method: "GET" }),
    post: (route, body, method = "POST") =>
      send(new URL(route, app.url), {
        method,
        headers: { Origin: app.origin, "Content-Type": "application/json" },
        body: JSON.stringify(body),
      }),
    cookie: (name) => jar.get(name),
  };
}

/** A 302's Location, resolved against the app (a relative one is on the app). */
function locationOf(response: Response, base: string): URL {
  expect(response.status, "a 302").toBe(302);
  const location = response.headers.get("location");
  expect(location, "a Location header").toBeTruthy();
  return new URL(location as string, base);
}

/**
 * The stand-in itself, driven by openid-client as a plain OAuth 2.0 client: it must accept what GitHub
 * accepts and refuse what GitHub refuses, or the tests below prove nothing.
 */
describe("the GitHub stand-in", () => {
  let standin: GitHubStandin;
  const CALLBACK = "http://127.0.0.1:9/api/auth/oauth/github/callback";

  beforeAll(async () => {
    standin = await startGitHubStandin();
    standin.callbackUrl = CALLBACK;
  });
  afterAll(() => standin?.close());
  beforeEach(() => {
    standin.account = {
      user: { id: 583231, login: "octocat", name: null, email: "octocat@github.example" },
      emails: [{ email: "octocat@example.com", primary: true, verified: true, visibility: "private" }],
    };
  });

  function configuration(auth: "post" | "basic" = "post", secret = standin.clientSecret) {
    const config = new openid.Configuration(
      {
        issuer: `${standin.url}/login/oauth`,
        authorization_endpoint: `${standin.url}/login/oauth/authorize`,
        token_endpoint: `${standin.url}/login/oauth/access_token`,
      },
      standin.clientId,
      undefined,
      auth === "post" ? openid.ClientSecretPost(secret) : openid.ClientSecretBasic(secret),
    );
    openid.allowInsecureRequests(config);
    return config;
  }

  /** An authorization request of `config` answered: the callback URL, the verifier and the state. */
  async function authorize(config: openid.Configuration, extra: Record<string, string> = {}) {
    const verifier = openid.randomPKCECodeVerifier();
    const state = openid.randomState();
    const url = openid.buildAuthorizationUrl(config, {
      redirect_uri: CALLBACK,
      scope: "read:user user:email",
      state,
      code_challenge: await openid.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      ...extra,
    });
    const response = await fetch(url, { redirect: "manual" });
    return { callback: locationOf(response, standin.url), verifier, state };
  }

  const api = (token: string, path: string, headers: Record<string, string> = {}) =>
    fetch(`${standin.url}/api/v3${path}`, { headers: { Authorization: `Bearer ${token}`, ...headers } });

  it.each(["post", "basic"] as const)(
    "exchanges a code (client_secret_%s) and answers /user and /user/emails",
    async (auth) => {
      const config = configuration(auth);
      const { callback, verifier, state } = await authorize(config);
      expect(callback.searchParams.get("state")).toBe(state);
      const tokens = await openid.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: verifier,
        expectedState: state,
      });
      expect(tokens.token_type).toBe("bearer");
      expect(tokens.scope).toBe("read:user,user:email");
      const user = await api(tokens.access_token, "/user");
      expect(user.status).toBe(200);
      expect(await user.json()).toMatchObject({
        id: 583231,
        login: "octocat",
        name: null,
        email: "octocat@github.example",
      });
      const emails = await api(tokens.access_token, "/user/emails");
      expect(await emails.json()).toEqual(standin.account.emails);
      expect((await api("gho_wrong", "/user")).status).toBe(401);
    },
  );

  it("refuses a wrong verifier, a used code, a wrong secret and another redirect_uri with a 200 { error }", async () => {
    const config = configuration();
    const first = await authorize(config);
    await expect(
      openid.authorizationCodeGrant(config, first.callback, {
        pkceCodeVerifier: openid.randomPKCECodeVerifier(),
        expectedState: first.state,
      }),
    ).rejects.toThrow();
    expect(standin.tokenAnswers.at(-1)).toMatchObject({ error: "bad_verification_code" });
    // Used up by the failed exchange.
    await expect(
      openid.authorizationCodeGrant(config, first.callback, {
        pkceCodeVerifier: first.verifier,
        expectedState: first.state,
      }),
    ).rejects.toThrow();
    expect(standin.tokenAnswers.at(-1)).toMatchObject({ error: "bad_verification_code" });

    const second = await authorize(config);
    const wrongSecret = configuration("post", "not-the-secret");
    await expect(
      openid.authorizationCodeGrant(wrongSecret, second.callback, {
        pkceCodeVerifier: second.verifier,
        expectedState: second.state,
      }),
    ).rejects.toThrow();
    expect(standin.tokenAnswers.at(-1)).toMatchObject({ error: "incorrect_client_credentials" });

    const third = await authorize(config);
    const raw = await fetch(`${standin.url}/login/oauth/access_token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body: new URLSearchParams({
        client_id: standin.clientId,
        client_secret: standin.clientSecret,
        code: third.callback.searchParams.get("code") ?? "",
        redirect_uri: "http://127.0.0.1:9/elsewhere",
        code_verifier: third.verifier,
      }),
    });
    expect(raw.status).toBe(200);
    expect(await raw.json()).toMatchObject({ error: "redirect_uri_mismatch" });
  });

  it("answers a form without Accept: application/json, as GitHub does", async () => {
    const { callback, verifier } = await authorize(configuration());
    const raw = await fetch(`${standin.url}/login/oauth/access_token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        client_id: standin.clientId,
        client_secret: standin.clientSecret,
        code: callback.searchParams.get("code") ?? "",
        redirect_uri: CALLBACK,
        code_verifier: verifier,
      }),
    });
    expect(raw.headers.get("content-type")).toMatch(/^application\/x-www-form-urlencoded/);
    const form = new URLSearchParams(await raw.text());
    expect(form.get("access_token")).toMatch(/^gho_/);
    expect(form.get("token_type")).toBe("bearer");
  });

  it("sends back an error, never a code, without PKCE S256 or when the user cancels", async () => {
    const config = configuration();
    for (const extra of <Record<string, string>[]>[{ code_challenge_method: "plain" }, { code_challenge: "" }]) {
      const { callback } = await authorize(config, extra);
      expect(callback.searchParams.get("error")).toBe("invalid_request");
      expect(callback.searchParams.has("code")).toBe(false);
    }
    standin.nextAuthorize = "deny";
    const denied = await authorize(config);
    expect(denied.callback.searchParams.get("error")).toBe("access_denied");
    expect(denied.callback.searchParams.get("state")).toBe(denied.state);
    // An unregistered redirect_uri gets a page, not a redirect.
    const elsewhere = openid.buildAuthorizationUrl(config, {
      redirect_uri: "http://127.0.0.1:9/elsewhere",
      state: "x",
    });
    expect((await fetch(elsewhere, { redirect: "manual" })).status).toBe(400);
  });

  it("404s /user/emails for a token without the user:email scope, and 403s a request without User-Agent", async () => {
    const config = configuration();
    const { callback, verifier, state } = await authorize(config, { scope: "read:user" });
    const tokens = await openid.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    expect((await api(tokens.access_token, "/user/emails")).status).toBe(404);
    expect((await api(tokens.access_token, "/user")).status).toBe(200);
    const bare = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${standin.url}/api/v3/user`);
      http
        .get(
          {
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            headers: { Authorization: `Bearer ${tokens.access_token}` },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        )
        .on("error", reject);
    });
    expect(bare).toBe(403);
  });
});

describe.each(["database", "stateless"] as const)(
  "GitHub sign-in against a GHES stand-in (%s sessions)",
  (strategy) => {
    let standin: GitHubStandin;
    let app: App;
    const uniqueEmail = uniqueEmails("github", strategy);
    let nextGitHubId = strategy === "database" ? 5_000_000 : 6_000_000;
    let warn: MockInstance<typeof console.warn>;

    beforeAll(async () => {
      standin = await startGitHubStandin();
      app = await startApp(strategy, standin);
      standin.callbackUrl = app.callbackUrl;
    });
    afterAll(async () => {
      await app?.close();
      await standin?.close();
    });
    beforeEach(() => {
      standin.nextAuthorize = "approve";
      standin.nextTokenError = null;
      standin.apiStatus = {};
      standin.iss = `${standin.url}/login/oauth`;
      warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    });
    afterEach(() => {
      warn.mockRestore();
    });

    /** A new GitHub account with one primary, verified email, set as the one that signs in. */
    function newAccount(overrides: Partial<GitHubAccount["user"]> = {}): GitHubAccount & { email: string } {
      const id = ++nextGitHubId;
      const email = uniqueEmail();
      const account = {
        user: { id, login: `user${id}`, name: `User ${id}`, email: null, ...overrides },
        emails: [{ email, primary: true, verified: true, visibility: "private" as const }],
      };
      standin.account = account;
      return { ...account, email };
    }

    function rawRows(): { users: Row[]; identities: Row[]; sessions: Row[] } {
      return querySqliteFile(app.dbFile, (db) => {
        const all = (query: string) => db.prepare(query).all() as Row[];
        return {
          users: all("SELECT * FROM gatehouse_users ORDER BY id"),
          identities: all("SELECT * FROM gatehouse_identities ORDER BY provider, subject"),
          sessions: all("SELECT * FROM gatehouse_sessions ORDER BY id"),
        };
      });
    }

    const rawUser = (email: string) =>
      querySqliteFile(app.dbFile, (db) => db.prepare("SELECT * FROM gatehouse_users WHERE email = ?").get(email)) as
        | Row
        | undefined;
    const rawIdentity = (subject: string) =>
      querySqliteFile(app.dbFile, (db) =>
        db.prepare("SELECT * FROM gatehouse_identities WHERE provider = 'github' AND subject = ?").get(subject),
      ) as Row | undefined;

    /**
     * App → stand-in's authorize → back to the callback. Resolves to each hop's response; the checks along the
     * way are only that each hop is the redirect it must be.
     */
    async function throughGitHub(browser: Navigator, query = "") {
      const start = await browser.get(`/api/auth/oauth/github${query}`);
      const authorizeUrl = locationOf(start, app.url);
      expect(`${authorizeUrl.origin}${authorizeUrl.pathname}`).toBe(`${standin.url}/login/oauth/authorize`);
      const atGitHub = await browser.get(authorizeUrl.href);
      const back = locationOf(atGitHub, standin.url);
      expect(`${back.origin}${back.pathname}`).toBe(app.callbackUrl);
      const callback = await browser.get(back.href);
      return { start, authorizeUrl, back, callback };
    }

    /** The callback redirected to `path` (path and query) on the app, and cleared the flow cookie. */
    function expectLanding(callback: Response, path: string): void {
      const landing = locationOf(callback, app.url);
      expect(landing.origin).toBe(app.origin);
      expect(`${landing.pathname}${landing.search}`).toBe(path);
      const flow = setCookieOf(callback, FLOW_COOKIE);
      expect(flow, "the flow cookie is cleared").toBeDefined();
      expect(flow?.value).toBe("");
      expect(flow?.attributes).toContain("max-age=0");
    }

    /** A refused callback: /login?error=<code>, no session cookie, the reason logged without code or token. */
    function expectRefused(callback: Response, code: string): void {
      expectLanding(callback, `/login?error=${code}`);
      const session = setCookieOf(callback, SESSION_COOKIE);
      expect(session === undefined || session.value === "", "no session cookie").toBe(true);
      expectLoggedSafely();
    }

    /** Some `gatehouse: oauth github:` warning was logged, and no warning carries a code or token of the stand-in. */
    function expectLoggedSafely(): void {
      const lines = warn.mock.calls.map((args) => args.map(String).join(" "));
      expect(
        lines.some((line) => line.startsWith("gatehouse: oauth github:")),
        lines.join("\n"),
      ).toBe(true);
      for (const line of lines) {
        for (const secret of [...standin.issuedCodes, ...standin.issuedTokens, standin.clientSecret]) {
          expect(line).not.toContain(secret);
        }
      }
    }

    async function me(browser: Navigator): Promise<Response> {
      return browser.get("/api/me");
    }

    it("creates the account from the primary, verified email, and sends what GitHub expects", async () => {
      const account = newAccount({ name: "Mona Lisa", email: "public-profile@example.com" });
      // Another verified address first, not primary: only the primary one is the account's email.
      standin.account.emails.unshift({
        email: `other-${account.email}`,
        primary: false,
        verified: true,
        visibility: "public",
      });
      const before = rawRows();
      const browser = createNavigator(app);
      const requestsBefore = standin.requests.length;
      const { start, authorizeUrl, callback } = await throughGitHub(browser, "?next=%2Fwelcome%3Ftab%3D1");

      // The flow cookie.
      const flow = setCookieOf(start, FLOW_COOKIE);
      expect(flow?.value).toBeTruthy();
      expect(flow?.attributes).toEqual(expect.arrayContaining(["httponly", "samesite=Lax", "path=/", "max-age=600"]));
      // The authorization request: code flow, PKCE S256, a state of at least 128 bits, the callback on `url`.
      const q = authorizeUrl.searchParams;
      expect(q.get("response_type")).toBe("code");
      expect(q.get("client_id")).toBe(standin.clientId);
      expect(q.get("redirect_uri")).toBe(app.callbackUrl);
      expect(q.get("code_challenge_method")).toBe("S256");
      expect(q.get("scope")?.split(/[\s,]+/)).toContain("user:email");
      expect(Buffer.from(q.get("state") ?? "", "base64url").length).toBeGreaterThanOrEqual(16);

      // Signed in, on `next`.
      expectLanding(callback, "/welcome?tab=1");
      expect(setCookieOf(callback, SESSION_COOKIE)?.value).toBeTruthy();
      const meResponse = await me(browser);
      expect(meResponse.status).toBe(200);
      const { user } = await meResponse.json();
      expect(user).toMatchObject({ email: account.email, name: "Mona Lisa", emailVerified: true });

      // The token exchange: client secret, the code's redirect_uri, a verifier matching the challenge, JSON asked for.
      const token = standin.requests.slice(requestsBefore).find((r) => r.url === "/login/oauth/access_token");
      expect(token?.method).toBe("POST");
      expect(token?.headers.accept).toMatch(/application\/json/);
      expect(token?.form?.redirect_uri).toBe(app.callbackUrl);
      expect(s256(token?.form?.code_verifier ?? "")).toBe(q.get("code_challenge"));
      expect(standin.tokenAnswers.at(-1)).toHaveProperty("access_token");
      // The REST calls with the token, as a Bearer.
      const apiCalls = standin.requests.slice(requestsBefore).filter((r) => r.url.startsWith("/api/v3/"));
      expect(apiCalls.map((r) => r.url)).toEqual(expect.arrayContaining(["/api/v3/user", "/api/v3/user/emails"]));
      for (const call of apiCalls) {
        expect(call.headers.authorization).toBe(`Bearer ${standin.issuedTokens.at(-1)}`);
      }

      // The rows: one new user, without a password, verified; one identity, by the numeric id; no tokens kept.
      const after = rawRows();
      expect(after.users).toHaveLength(before.users.length + 1);
      const row = rawUser(account.email);
      expect(row?.id).toBe(user.id);
      expect(row?.email_verified_at).not.toBeNull();
      expect(row?.password_hash ?? "").toBe("");
      expect(rawIdentity(String(account.user.id))).toMatchObject({
        provider: "github",
        subject: String(account.user.id),
        user_id: user.id,
        email: account.email,
        email_verified: 1,
        tokens: null,
      });
      expect(after.identities).toHaveLength(before.identities.length + 1);
      // Nobody has the public profile address or the other verified one.
      expect(rawUser("public-profile@example.com")).toBeUndefined();
      expect(rawUser(`other-${account.email}`)).toBeUndefined();

      // The JSON API agrees.
      const identities = await browser.get("/api/auth/identities");
      expect(identities.status).toBe(200);
      const body = await identities.json();
      expect(body.hasPassword).toBe(false);
      expect(body.identities).toEqual([{ provider: "github", email: account.email, createdAt: expect.any(String) }]);
      expect(new Date(body.identities[0].createdAt).toISOString()).toBe(body.identities[0].createdAt);
    });

    it("names the user by their login when GitHub has no name, and lands on /dashboard without next", async () => {
      const account = newAccount({ name: null });
      const browser = createNavigator(app);
      const { callback } = await throughGitHub(browser);
      expectLanding(callback, "/dashboard");
      const { user } = await (await me(browser)).json();
      expect(user).toMatchObject({ email: account.email, name: account.user.login });
    });

    it("finds the same account on a second sign-in, by the numeric id, after the login and email changed", async () => {
      const account = newAccount();
      const first = createNavigator(app);
      expectLanding((await throughGitHub(first)).callback, "/dashboard");
      const { user } = await (await me(first)).json();
      const before = rawRows();

      // Renamed on GitHub, and a new primary address: still the same GitHub account.
      standin.account = {
        user: { ...account.user, login: `renamed${account.user.id}`, name: "Renamed" },
        emails: [{ email: uniqueEmail(), primary: true, verified: true, visibility: "private" }],
      };
      const second = createNavigator(app);
      expectLanding((await throughGitHub(second)).callback, "/dashboard");
      const again = await (await me(second)).json();
      expect(again.user.id).toBe(user.id);
      expect(again.user.email).toBe(account.email);
      const after = rawRows();
      expect(after.users).toEqual(before.users);
      expect(after.identities.filter((row) => row.user_id === user.id)).toHaveLength(1);
    });

    it("ends the session the browser came with when it signs in again", async () => {
      newAccount();
      const browser = createNavigator(app);
      await throughGitHub(browser);
      const earlier = browser.cookie(SESSION_COOKIE);
      expect(earlier).toBeTruthy();
      const { callback } = await throughGitHub(browser);
      expectLanding(callback, "/dashboard");
      expect(browser.cookie(SESSION_COOKIE)).not.toBe(earlier);
      expect((await me(browser)).status).toBe(200);
      const stale = await fetch(`${app.url}/api/me`, { headers: { Cookie: `${SESSION_COOKIE}=${earlier}` } });
      expect(stale.status).toBe(401);
    });

    const noUsableEmail: Array<[string, (email: string) => Pick<GitHubAccount, "emails"> & { publicEmail?: string }]> =
      [
        [
          "an unverified primary email",
          (email) => ({ emails: [{ email, primary: true, verified: false, visibility: "private" }] }),
        ],
        [
          "a verified email that is not primary (the primary one unverified)",
          (email) => ({
            emails: [
              { email: `unverified-${email}`, primary: true, verified: false, visibility: "private" },
              { email, primary: false, verified: true, visibility: "public" },
            ],
          }),
        ],
        ["no email at all", () => ({ emails: [] })],
        ["only a public profile email on /user", (email) => ({ emails: [], publicEmail: email })],
      ];

    it.each(noUsableEmail)("does not take %s: no account is created (oauth_failed)", async (_label, emailsOf) => {
      const account = newAccount();
      const { emails, publicEmail } = emailsOf(account.email);
      standin.account = { user: { ...account.user, email: publicEmail ?? null }, emails };
      const before = rawRows();
      const browser = createNavigator(app);
      const { callback } = await throughGitHub(browser);
      expectRefused(callback, "oauth_failed");
      expect(rawRows()).toEqual(before);
      expect(rawIdentity(String(account.user.id))).toBeUndefined();
      expect(browser.cookie(SESSION_COOKIE)).toBeUndefined();
    });

    it.each([
      ["the same address", (email: string) => email],
      ["the address in other letter case", (email: string) => email.toUpperCase()],
    ])("answers account_exists for a password account with %s, and links nothing", async (_label, spell) => {
      const account = newAccount();
      const signup = await fetch(`${app.url}/api/auth/signup`, {
        method: "POST",
        headers: { Origin: app.origin, "Content-Type": "application/json" },
        body: JSON.stringify({ email: account.email, password: PASSWORD }),
      });
      expect(signup.status).toBe(201);
      standin.account.emails = [{ email: spell(account.email), primary: true, verified: true, visibility: "private" }];
      const before = rawRows();
      const browser = createNavigator(app);
      const { callback } = await throughGitHub(browser);
      expectRefused(callback, "account_exists");
      expect(rawRows()).toEqual(before);
      expect(rawIdentity(String(account.user.id))).toBeUndefined();
    });

    it("answers oauth_denied when the user cancels at GitHub, without asking for a token", async () => {
      newAccount();
      standin.nextAuthorize = "deny";
      const before = rawRows();
      const requestsBefore = standin.requests.length;
      const browser = createNavigator(app);
      const { back, callback } = await throughGitHub(browser);
      expect(back.searchParams.get("error")).toBe("access_denied");
      expectRefused(callback, "oauth_denied");
      expect(rawRows()).toEqual(before);
      expect(standin.requests.slice(requestsBefore).map((r) => r.url.split("?")[0])).toEqual([
        "/login/oauth/authorize",
      ]);
    });

    it("answers oauth_failed when the token endpoint refuses with a 200 { error }, and reads no API", async () => {
      newAccount();
      standin.nextTokenError = "bad_verification_code";
      const before = rawRows();
      const requestsBefore = standin.requests.length;
      const browser = createNavigator(app);
      const { callback } = await throughGitHub(browser);
      expect(standin.tokenAnswers.at(-1)).toMatchObject({ error: "bad_verification_code" });
      expectRefused(callback, "oauth_failed");
      expect(rawRows()).toEqual(before);
      expect(standin.requests.slice(requestsBefore).filter((r) => r.url.startsWith("/api/v3/"))).toEqual([]);
    });

    it("answers oauth_failed to a replayed callback and to an old code under a new flow's state", async () => {
      newAccount();
      const browser = createNavigator(app);
      const { back, callback } = await throughGitHub(browser);
      expectLanding(callback, "/dashboard");
      const before = rawRows();

      // The same callback again: the flow cookie is gone.
      const replay = await browser.get(back.href);
      expectRefused(replay, "oauth_failed");

      // A new flow, called back with the used code: GitHub refuses the code.
      const start = await browser.get("/api/auth/oauth/github");
      const state = locationOf(start, app.url).searchParams.get("state") ?? "";
      const stale = new URL(back.href);
      stale.searchParams.set("state", state);
      const oldCode = await browser.get(stale.href);
      expectRefused(oldCode, "oauth_failed");
      expect(standin.tokenAnswers.at(-1)).toMatchObject({ error: "bad_verification_code" });
      const after = rawRows();
      expect(after.users).toEqual(before.users);
      expect(after.identities).toEqual(before.identities);
    });

    it("links GitHub from settings to a signed-in password account, which it then signs in to", async () => {
      const account = newAccount();
      const browser = createNavigator(app);
      const signup = await browser.post("/api/auth/signup", { email: account.email, password: PASSWORD });
      expect(signup.status).toBe(201);
      const userId = String(rawUser(account.email)?.id);

      const link = await browser.post("/api/auth/oauth/github/link", { password: PASSWORD });
      expect(link.status).toBe(200);
      const { url } = await link.json();
      expect(url).toMatch(new RegExp(`^${standin.url}/login/oauth/authorize\\?`));
      const back = locationOf(await browser.get(url), standin.url);
      const callback = await browser.get(back.href);
      expectLanding(callback, "/settings?linked=github");
      expect(rawIdentity(String(account.user.id))).toMatchObject({ user_id: userId, email: account.email });

      const identities = await (await browser.get("/api/auth/identities")).json();
      expect(identities).toMatchObject({
        hasPassword: true,
        identities: [{ provider: "github", email: account.email }],
      });

      // A new browser, through GitHub: the linked account.
      const other = createNavigator(app);
      expectLanding((await throughGitHub(other)).callback, "/dashboard");
      expect((await (await me(other)).json()).user.id).toBe(userId);
    });

    it("answers oauth_failed when a REST endpoint fails, and writes nothing", async () => {
      for (const path of ["/user", "/user/emails"] as const) {
        const account = newAccount();
        standin.apiStatus = { [path]: 503 };
        const before = rawRows();
        const { callback } = await throughGitHub(createNavigator(app));
        expectRefused(callback, "oauth_failed");
        expect(rawRows()).toEqual(before);
        expect(rawIdentity(String(account.user.id))).toBeUndefined();
        standin.apiStatus = {};
      }
    });

    it("answers oauth_failed, not a 500, when GitHub cannot be reached at the callback", async () => {
      // A gatehouse pointed at a closed port: the start needs no request to GitHub (no discovery), the code exchange does.
      const closed = await listenOnLocalhost(() => () => {});
      const deadUrl = closed.url;
      await closed.close();
      const dead = await startApp(strategy, { clientId: "id", clientSecret: "secret", url: deadUrl });
      try {
        const browser = createNavigator(dead);
        const start = await browser.get("/api/auth/oauth/github");
        const authorizeUrl = locationOf(start, dead.url);
        expect(authorizeUrl.origin).toBe(deadUrl);
        const callback = new URL(dead.callbackUrl);
        callback.searchParams.set("code", "0123456789abcdef0123");
        callback.searchParams.set("state", authorizeUrl.searchParams.get("state") ?? "");
        const response = await browser.get(callback.href);
        expect(locationOf(response, dead.url).pathname + locationOf(response, dead.url).search).toBe(
          "/login?error=oauth_failed",
        );
        expect(setCookieOf(response, SESSION_COOKIE)?.value ?? "").toBe("");
        expect(warn.mock.calls.map((args) => String(args[0])).join("\n")).toMatch(/^gatehouse: oauth github:/m);
      } finally {
        await dead.close();
      }
    });

    it("404s a provider that is not configured, and keeps next on the app", async () => {
      for (const route of ["/api/auth/oauth/gitlab", "/api/auth/oauth/gitlab/callback?code=x&state=y"]) {
        const response = await createNavigator(app).get(route);
        expect(response.status).toBe(404);
        expect((await response.json()).error.code).toBe("not_found");
      }
      for (const next of ["https://evil.example/", "//evil.example/x", "/\\evil.example"]) {
        newAccount();
        const { callback } = await throughGitHub(createNavigator(app), `?next=${encodeURIComponent(next)}`);
        expectLanding(callback, "/dashboard");
      }
    });

    it("makes an account without a password: a password log-in is refused, and its only identity cannot be unlinked", async () => {
      const account = newAccount();
      const browser = createNavigator(app);
      expectLanding((await throughGitHub(browser)).callback, "/dashboard");
      const login = await createNavigator(app).post("/api/auth/login", { email: account.email, password: PASSWORD });
      expect(login.status).toBe(401);
      expect((await login.json()).error.code).toBe("invalid_credentials");

      const before = rawRows();
      const unlink = await browser.post("/api/auth/identities/github", {}, "DELETE");
      expect(unlink.status).toBe(409);
      expect((await unlink.json()).error.code).toBe("last_sign_in_method");
      expect(rawRows().identities).toEqual(before.identities);
    });

    it("refuses to link a GitHub account another user has (identity_in_use), or a second one (409)", async () => {
      // The GitHub account signs up on its own first.
      const taken = newAccount();
      expectLanding((await throughGitHub(createNavigator(app))).callback, "/dashboard");

      const browser = createNavigator(app);
      const email = uniqueEmail();
      expect((await browser.post("/api/auth/signup", { email, password: PASSWORD })).status).toBe(201);
      const before = rawRows();
      const link = await browser.post("/api/auth/oauth/github/link", { password: PASSWORD });
      expect(link.status).toBe(200);
      const back = locationOf(await browser.get((await link.json()).url), standin.url);
      expectLanding(await browser.get(back.href), "/settings?error=identity_in_use");
      expect(rawRows().identities).toEqual(before.identities);
      expect(rawIdentity(String(taken.user.id))?.user_id).not.toBe(rawUser(email)?.id);

      // Linked to a GitHub account of their own, a second link is refused up front.
      const own = newAccount();
      const again = await browser.post("/api/auth/oauth/github/link", { password: PASSWORD });
      const url = (await again.json()).url;
      expectLanding(await browser.get(locationOf(await browser.get(url), standin.url).href), "/settings?linked=github");
      expect(rawIdentity(String(own.user.id))?.user_id).toBe(rawUser(email)?.id);
      const second = await browser.post("/api/auth/oauth/github/link", { password: PASSWORD });
      expect(second.status).toBe(409);
      expect((await second.json()).error.code).toBe("provider_already_linked");
    });

    it("checks the iss of the authorization response when GitHub sends one (RFC 9207)", async () => {
      // None, as GitHub sent before it turned RFC 9207 on: accepted.
      newAccount();
      standin.iss = null;
      expectLanding((await throughGitHub(createNavigator(app))).callback, "/dashboard");

      // Another issuer's: refused before any code exchange.
      for (const iss of ["https://github.com/login/oauth", `${standin.url}/login/oauth/`, standin.url]) {
        const account = newAccount();
        standin.iss = iss;
        const before = rawRows();
        const tokensBefore = standin.tokenAnswers.length;
        const { back, callback } = await throughGitHub(createNavigator(app));
        expect(back.searchParams.get("iss")).toBe(iss);
        expectRefused(callback, "oauth_failed");
        expect(standin.tokenAnswers).toHaveLength(tokensBefore);
        expect(rawRows()).toEqual(before);
        expect(rawIdentity(String(account.user.id))).toBeUndefined();
      }
    });

    it("lets one of two callbacks with the same flow cookie through", async () => {
      newAccount();
      const browser = createNavigator(app);
      const start = await browser.get("/api/auth/oauth/github");
      const back = locationOf(await browser.get(locationOf(start, app.url).href), standin.url);
      const usersBefore = rawRows().users.length;
      const answers = await Promise.all([browser.get(back.href), browser.get(back.href)]);
      const landings = answers.map((response) => {
        const landing = locationOf(response, app.url);
        return `${landing.pathname}${landing.search}`;
      });
      expect(landings.sort()).toEqual(["/dashboard", "/login?error=oauth_failed"]);
      expect(rawRows().users).toHaveLength(usersBefore + 1);
    });

    it("makes one account of two first sign-ins of one GitHub account at once", async () => {
      const account = newAccount();
      const browsers = [createNavigator(app), createNavigator(app)];
      // Both flows go through GitHub first; only the callbacks race.
      const backs: URL[] = [];
      for (const browser of browsers) {
        const start = await browser.get("/api/auth/oauth/github");
        backs.push(locationOf(await browser.get(locationOf(start, app.url).href), standin.url));
      }
      const usersBefore = rawRows().users.length;
      const callbacks = await Promise.all(browsers.map((browser, i) => browser.get(backs[i]?.href ?? "")));
      for (const callback of callbacks) expectLanding(callback, "/dashboard");
      const ids = await Promise.all(browsers.map(async (browser) => (await (await me(browser)).json()).user.id));
      expect(ids[0]).toBe(ids[1]);
      expect(rawRows().users).toHaveLength(usersBefore + 1);
      expect(rawIdentity(String(account.user.id))?.user_id).toBe(ids[0]);
    });

    it("stores the address in lower case, and leaves out a name the app would refuse", async () => {
      const account = newAccount({ name: "x".repeat(500) });
      const mixed = account.email
        .replace(/^[a-z]+/, (local) => local.toUpperCase())
        .replace("example.com", "Example.COM");
      standin.account.emails = [{ email: mixed, primary: true, verified: true, visibility: "private" }];
      const browser = createNavigator(app);
      expectLanding((await throughGitHub(browser)).callback, "/dashboard");
      const { user } = await (await me(browser)).json();
      expect(user.email).toBe(account.email);
      expect(user.name).not.toBe("x".repeat(500));
      expect(rawIdentity(String(account.user.id))?.email).toBe(account.email);
    });
  },
);

/**
 * OpenID Connect sign-in over real HTTP, for both session strategies, against a real OpenID Provider on
 * loopback (oidc-provider 9 with its devInteractions pages, support/oidc-provider.ts): sign-up by OIDC, signing
 * in again, the `next` target, linking from settings and unlinking (with their fresh-auth rules), the
 * account_exists and identity_in_use refusals, the second step for TOTP users, and the providers list. The
 * app is configured with two entries at the same provider, `oidc` and `corp`, each with a client of its own.
 * What the routes store is read raw from the SQLite file, never through the store.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { oidc } from "../src/index.js";
import { PASSWORD } from "./support/credentials.js";
import {
  apiRequest,
  type Browser,
  createBrowser,
  expectError,
  SESSION_COOKIE,
  sessionCookieOf,
  startServer,
  type TestServer,
  uniqueEmails,
  useTestServer,
} from "./support/http-server.js";
import {
  deliverCallback,
  FLOW_COOKIE,
  rawIdentitiesOf,
  rawOAuthTables,
  redirectTarget,
  startOAuthFlow,
} from "./support/oauth-flow.js";
import { startOidcProvider } from "./support/oidc-provider.js";
import { rawUserByEmail } from "./support/temp-sqlite.js";
import { DEVICE_COOKIE, mfaClient, PENDING_COOKIE, STEP_MS, setCookieLine, totpCode } from "./support/totp.js";

const MINUTE = 60_000;

const provider = await startOidcProvider({ redirectUris: [] });
const CORP = { clientId: "gatehouse-corp", clientSecret: "gatehouse-corp-secret-0123456789" };
provider.addClient({ ...CORP, redirectUris: [] });
afterAll(() => provider.close());

const PROVIDERS = [
  oidc({ issuer: provider.issuer, clientId: provider.clientId, clientSecret: provider.clientSecret }),
  oidc({ id: "corp", name: "Corp SSO", issuer: provider.issuer, ...CORP }),
];

/** The app's callback URLs, registered at the provider once the app listens. */
function registerApp(app: TestServer): void {
  provider.addRedirectUri(`${app.url}/api/auth/oauth/oidc/callback`);
  provider.addRedirectUri(`${app.url}/api/auth/oauth/corp/callback`, CORP.clientId);
}

/** The attributes of a Set-Cookie line, lower-cased and sorted. */
function cookieAttributes(line: string | undefined): string[] {
  expect(line).toBeDefined();
  return (line as string)
    .split(/;\s*/)
    .slice(1)
    .map((attribute) => attribute.toLowerCase())
    .sort();
}

/** How many bits of randomness a base64url or hex string can carry at most. */
function bitsOf(value: string): number {
  if (/^[0-9a-f]+$/i.test(value)) return value.length * 4;
  expect(value).toMatch(/^[A-Za-z0-9_-]+$/);
  return value.length * 6;
}

describe("the authorization request", () => {
  const app = useTestServer("database", { providers: PROVIDERS });
  beforeAll(() => registerApp(app));

  it("GET providers lists the enabled providers, in configured order", async () => {
    const response = await apiRequest(app, "/api/auth/providers");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      providers: [
        { id: "oidc", name: "Single sign-on" },
        { id: "corp", name: "Corp SSO" },
      ],
    });
  });

  it("GET oauth/oidc answers 302 to the discovered authorization endpoint: code flow, PKCE S256, state and nonce of ≥128 bits, the configured redirect_uri", async () => {
    const discovery = await (await fetch(`${provider.issuer}/.well-known/openid-configuration`)).json();
    const browser = createBrowser(app);
    const response = await browser.request("/api/auth/oauth/oidc?next=/settings");
    expect(response.status).toBe(302);
    const url = new URL(response.headers.get("location") as string);
    expect(url.origin + url.pathname).toBe(discovery.authorization_endpoint);
    const params = url.searchParams;
    expect(params.get("response_type")).toBe("code");
    expect(params.get("client_id")).toBe(provider.clientId);
    expect(params.get("redirect_uri")).toBe(`${app.url}/api/auth/oauth/oidc/callback`);
    expect((params.get("scope") ?? "").split(" ").sort()).toEqual(["email", "openid", "profile"]);
    expect(params.get("code_challenge_method")).toBe("S256");
    // SHA-256 in base64url without padding.
    expect(params.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    for (const name of ["state", "nonce"]) {
      expect(bitsOf(params.get(name) ?? ""), name).toBeGreaterThanOrEqual(128);
    }
    expect(params.get("state")).not.toBe(params.get("nonce"));

    // A second start: every value new.
    const again = new URL((await createBrowser(app).request("/api/auth/oauth/oidc")).headers.get("location") as string);
    for (const name of ["state", "nonce", "code_challenge"]) {
      expect(again.searchParams.get(name), name).not.toBe(params.get(name));
    }
  });

  it("the flow cookie is HttpOnly, SameSite=Lax, Path=/, Max-Age=600, and sealed: none of the flow's values in it", async () => {
    const response = await createBrowser(app).request("/api/auth/oauth/oidc");
    expect(response.status).toBe(302);
    const setCookies = response.headers.getSetCookie();
    expect(setCookies).toHaveLength(1);
    const line = setCookieLine(response, FLOW_COOKIE);
    expect(cookieAttributes(line)).toEqual(["httponly", "max-age=600", "path=/", "samesite=lax"]);
    const value = (line as string).split(";", 1)[0]?.slice(FLOW_COOKIE.length + 1) as string;
    const params = new URL(response.headers.get("location") as string).searchParams;
    for (const name of ["state", "nonce", "code_challenge"]) {
      expect(value, name).not.toContain(params.get(name));
      expect(decodeURIComponent(value), name).not.toContain(params.get(name));
    }
    expect(sessionCookieOf(response)).toBeUndefined();
  });

  it("with secureCookies, the flow cookie is __Host-gatehouse.oauth and Secure", async () => {
    const secure = await startServer("database", { providers: PROVIDERS, secureCookies: true });
    try {
      const response = await apiRequest(secure, "/api/auth/oauth/oidc");
      expect(response.status).toBe(302);
      const line = setCookieLine(response, `__Host-${FLOW_COOKIE}`);
      expect(cookieAttributes(line)).toEqual(["httponly", "max-age=600", "path=/", "samesite=lax", "secure"]);
    } finally {
      await secure.close();
    }
  });

  it("an unknown provider answers 404 not_found on start, callback and link", async () => {
    await expectError(await apiRequest(app, "/api/auth/oauth/nope"), 404, "not_found");
    await expectError(await apiRequest(app, "/api/auth/oauth/nope/callback?code=x&state=y"), 404, "not_found");
    const { id } = await app.gatehouse.users.create({ email: "oauth-404@example.com", password: PASSWORD });
    expect(id).toBeTruthy();
    const login = await apiRequest(app, "/api/auth/login", {
      json: { email: "oauth-404@example.com", password: PASSWORD },
    });
    const cookie = sessionCookieOf(login) as string;
    await expectError(
      await apiRequest(app, "/api/auth/oauth/nope/link", { json: { password: PASSWORD }, cookie }),
      404,
      "not_found",
    );
  });
});

describe.each(["database", "stateless"] as const)("OpenID Connect sign-in over HTTP (%s sessions)", (strategy) => {
  const app = useTestServer(strategy, { providers: PROVIDERS });
  beforeAll(async () => {
    registerApp(app);
    // The tables exist before the first raw read.
    await app.store.migrate();
  });
  afterEach(() => app.setClock(app.startedAt));
  const uniqueEmail = uniqueEmails("oauth", strategy);
  const mfa = mfaClient(app);

  /** A whole sign-in in `browser` as the provider's account `login`: start, the provider's pages, the callback. */
  async function oidcSignIn(
    login: string,
    options: { browser?: Browser; next?: string; providerId?: string } = {},
  ): Promise<{ browser: Browser; response: Response; callbackUrl: string }> {
    const browser = options.browser ?? createBrowser(app);
    const providerId = options.providerId ?? "oidc";
    const url = await startOAuthFlow(browser, provider, providerId, options.next);
    const callbackUrl = await provider.authorize(url.href, login);
    expect(callbackUrl.startsWith(`${app.url}/api/auth/oauth/${providerId}/callback?`)).toBe(true);
    const response = await deliverCallback(browser, callbackUrl);
    return { browser, response, callbackUrl };
  }

  /** A sign-in that must succeed into `/dashboard` (or `next`): the browser, signed in, and the user. */
  async function signedInByOidc(login: string, options: { next?: string } = {}) {
    const { browser, response } = await oidcSignIn(login, options);
    expect(redirectTarget(response, app.url)).toBe(options.next ?? "/dashboard");
    const user = await sessionUser(browser);
    expect(user).not.toBeNull();
    return { browser, user: user as { id: string; email: string; name: string | null; emailVerified: boolean } };
  }

  /** GET session's user in `browser`. */
  async function sessionUser(browser: Browser) {
    const response = await browser.request("/api/auth/session");
    expect(response.status).toBe(200);
    return (await response.json()).user;
  }

  /** A password account signed in in a browser of its own. */
  async function passwordUser(email = uniqueEmail()) {
    const { id } = await app.gatehouse.users.create({ email, password: PASSWORD });
    const browser = createBrowser(app);
    const response = await browser.request("/api/auth/login", { json: { email, password: PASSWORD } });
    expect(response.status).toBe(200);
    return { id, email, browser };
  }

  /** POST oauth/<provider>/link, which must answer 200 {url}, then the provider's pages and the callback. */
  async function link(browser: Browser, login: string, providerId = "oidc", body: unknown = { password: PASSWORD }) {
    const started = await browser.request(`/api/auth/oauth/${providerId}/link`, { json: body });
    expect(started.status, await started.clone().text()).toBe(200);
    const { url } = await started.json();
    expect(new URL(url).origin).toBe(provider.issuer);
    expect(browser.cookie(FLOW_COOKIE)).toBeTruthy();
    const callbackUrl = await provider.authorize(url, login);
    return deliverCallback(browser, callbackUrl);
  }

  async function identities(browser: Browser) {
    const response = await browser.request("/api/auth/identities");
    expect(response.status).toBe(200);
    return response.json() as Promise<{
      identities: Array<{ provider: string; email: string | null; createdAt: string }>;
      hasPassword: boolean;
    }>;
  }

  const unlink = (browser: Browser, providerId: string, body?: unknown) =>
    browser.request(`/api/auth/identities/${providerId}`, {
      method: "DELETE",
      ...(body !== undefined && { json: body }),
    });

  describe("sign-up and sign-in", () => {
    it("a first sign-in creates the user without a password, verified as the provider says: 302 /dashboard with a session and a device cookie, the flow cookie cleared", async () => {
      const login = uniqueEmail();
      provider.setAccount(login, { email: login, emailVerified: true, name: "Ada Lovelace" });
      const before = rawOAuthTables(app.dbFile);
      const { browser, response } = await oidcSignIn(login);
      expect(redirectTarget(response, app.url)).toBe("/dashboard");
      expect(sessionCookieOf(response)).toBeTruthy();
      expect(setCookieLine(response, SESSION_COOKIE)).toMatch(/HttpOnly/i);
      expect(setCookieLine(response, DEVICE_COOKIE)).toBeTruthy();
      expect(cookieAttributes(setCookieLine(response, FLOW_COOKIE))).toContain("max-age=0");
      expect(browser.cookie(FLOW_COOKIE)).toBeUndefined();

      const user = await sessionUser(browser);
      expect(user).toMatchObject({ email: login, name: "Ada Lovelace", emailVerified: true });
      const me = await browser.request("/api/me");
      expect(me.status).toBe(200);
      expect((await me.json()).user.id).toBe(user.id);

      const after = rawOAuthTables(app.dbFile);
      expect(after.users).toHaveLength(before.users.length + 1);
      const row = rawUserByEmail(app.dbFile, login) as Record<string, unknown>;
      expect(row.id).toBe(user.id);
      expect([null, ""]).toContain(row.password_hash);
      expect(row.email_verified_at).not.toBeNull();
      expect(rawIdentitiesOf(app.dbFile, user.id)).toEqual([
        {
          identity_key: expect.stringMatching(/^[0-9a-f]{64}$/),
          provider: "oidc",
          subject: login,
          user_id: user.id,
          email: login,
          email_verified: 1,
          tokens: null,
          created_at: expect.any(Number),
        },
      ]);
      const listed = await identities(browser);
      expect(listed).toEqual({
        identities: [{ provider: "oidc", email: login, createdAt: expect.any(String) }],
        hasPassword: false,
      });
      const createdAt = rawIdentitiesOf(app.dbFile, user.id)[0]?.created_at as number;
      expect(listed.identities[0]?.createdAt).toBe(new Date(createdAt).toISOString());
    });

    it("an email the provider did not verify makes an unverified user", async () => {
      const login = uniqueEmail();
      provider.setAccount(login, { email: login, emailVerified: false });
      const { user } = await signedInByOidc(login);
      expect(user).toMatchObject({ email: login, name: `Test ${login}`, emailVerified: false });
      expect(rawUserByEmail(app.dbFile, login)?.email_verified_at).toBeNull();
      expect(rawIdentitiesOf(app.dbFile, user.id)).toMatchObject([{ email: login, email_verified: 0 }]);
    });

    it("signing in again is the same user: no new user or identity, a new session", async () => {
      const login = uniqueEmail();
      const first = await signedInByOidc(login);
      const before = rawOAuthTables(app.dbFile);
      const second = await signedInByOidc(login);
      expect(second.user.id).toBe(first.user.id);
      const after = rawOAuthTables(app.dbFile);
      expect(after.users).toEqual(before.users);
      expect(after.identities).toEqual(before.identities);
      expect(second.browser.cookie(SESSION_COOKIE)).not.toBe(first.browser.cookie(SESSION_COOKIE));
      // Both sessions work.
      expect(await sessionUser(first.browser)).toMatchObject({ id: first.user.id });
      expect(await sessionUser(second.browser)).toMatchObject({ id: first.user.id });
    });

    it("the identity is the provider's subject, not the email: a changed email at the provider signs in to the same user", async () => {
      const login = uniqueEmail();
      const first = await signedInByOidc(login);
      const before = rawOAuthTables(app.dbFile);
      provider.setAccount(login, { email: uniqueEmail() });
      const second = await signedInByOidc(login);
      expect(second.user).toMatchObject({ id: first.user.id, email: login });
      expect(rawOAuthTables(app.dbFile).users).toEqual(before.users);
    });

    it("a session cookie the browser came with is ended", async () => {
      const other = await passwordUser();
      const planted = other.browser.cookie(SESSION_COOKIE) as string;
      const browser = createBrowser(app);
      browser.setCookie(SESSION_COOKIE, planted);
      const { response } = await oidcSignIn(uniqueEmail(), { browser });
      expect(redirectTarget(response, app.url)).toBe("/dashboard");
      expect(browser.cookie(SESSION_COOKIE)).not.toBe(planted);
      expect(await sessionUser(browser)).not.toMatchObject({ id: other.id });
      expect((await apiRequest(app, "/api/me", { cookie: planted })).status).toBe(401);
    });

    it("a password log-in to an account made by OIDC answers 401 invalid_credentials", async () => {
      const login = uniqueEmail();
      await signedInByOidc(login);
      for (const password of [PASSWORD, "any other password"]) {
        await expectError(
          await apiRequest(app, "/api/auth/login", { json: { email: login, password } }),
          401,
          "invalid_credentials",
        );
      }
    });

    it("`next` is kept through the provider: the callback goes to it", async () => {
      const next = "/settings/profile?tab=security";
      const { user } = await signedInByOidc(uniqueEmail(), { next });
      expect(user).toBeTruthy();
    });

    it("an off-site or malformed `next` falls back to /dashboard", async () => {
      for (const next of ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"]) {
        const { response } = await oidcSignIn(uniqueEmail(), { next });
        expect(redirectTarget(response, app.url), next).toBe("/dashboard");
      }
    });

    it("the provider's Cancel answers 302 /login?error=oauth_denied and creates nothing", async () => {
      const before = rawOAuthTables(app.dbFile);
      const browser = createBrowser(app);
      const url = await startOAuthFlow(browser, provider, "oidc");
      const callbackUrl = await provider.authorize(url.href, uniqueEmail(), { deny: true });
      expect(new URL(callbackUrl).searchParams.get("error")).toBe("access_denied");
      const response = await deliverCallback(browser, callbackUrl);
      expect(redirectTarget(response, app.url)).toBe("/login?error=oauth_denied");
      expect(sessionCookieOf(response)).toBeFalsy();
      expect(await sessionUser(browser)).toBeNull();
      expect(rawOAuthTables(app.dbFile)).toEqual(before);
    });
  });

  describe("an existing account with the provider's email", () => {
    for (const emailVerified of [true, false]) {
      it(`answers 302 /login?error=account_exists (provider says verified: ${emailVerified}), links nothing and signs in no one`, async () => {
        const existing = await passwordUser();
        const login = uniqueEmail();
        // The existing address in another case: still the same account.
        provider.setAccount(login, { email: existing.email.toUpperCase(), emailVerified });
        const before = rawOAuthTables(app.dbFile);
        const { browser, response } = await oidcSignIn(login);
        expect(redirectTarget(response, app.url)).toBe("/login?error=account_exists");
        expect(sessionCookieOf(response)).toBeFalsy();
        expect(cookieAttributes(setCookieLine(response, FLOW_COOKIE))).toContain("max-age=0");
        expect(await sessionUser(browser)).toBeNull();
        expect(rawOAuthTables(app.dbFile)).toEqual(before);
      });
    }
  });

  describe("linking from settings", () => {
    it("a password account: POST link needs the password (403 without, 400 wrong), then the callback adds the identity: 302 /settings?linked=oidc", async () => {
      const user = await passwordUser();
      const route = "/api/auth/oauth/oidc/link";
      const before = rawOAuthTables(app.dbFile);
      await expectError(await user.browser.request(route, { json: {} }), 403, "reauthentication_required");
      const wrong = await expectError(
        await user.browser.request(route, { json: { password: "not the password" } }),
        400,
        "invalid_input",
      );
      expect(wrong.fields.password?.code).toBe("incorrect_password");
      expect(rawOAuthTables(app.dbFile)).toEqual(before);

      const login = uniqueEmail();
      const response = await link(user.browser, login);
      expect(redirectTarget(response, app.url)).toBe("/settings?linked=oidc");
      expect(cookieAttributes(setCookieLine(response, FLOW_COOKIE))).toContain("max-age=0");
      expect(await sessionUser(user.browser)).toMatchObject({ id: user.id });
      expect(await identities(user.browser)).toEqual({
        identities: [{ provider: "oidc", email: login, createdAt: expect.any(String) }],
        hasPassword: true,
      });
      expect(rawIdentitiesOf(app.dbFile, user.id)).toMatchObject([{ provider: "oidc", subject: login }]);
      const after = rawOAuthTables(app.dbFile);
      expect(after.users).toEqual(before.users);

      // Now the provider signs in to that account.
      const signedIn = await signedInByOidc(login);
      expect(signedIn.user).toMatchObject({ id: user.id, email: user.email });
    });

    it("an HTML form POST to link answers 303 to the provider", async () => {
      const user = await passwordUser();
      const response = await user.browser.request("/api/auth/oauth/oidc/link", {
        method: "POST",
        body: new URLSearchParams({ password: PASSWORD }).toString(),
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
      });
      expect(response.status).toBe(303);
      const url = new URL(response.headers.get("location") as string);
      expect(url.origin).toBe(provider.issuer);
      expect(url.searchParams.get("code_challenge_method")).toBe("S256");
      expect(user.browser.cookie(FLOW_COOKIE)).toBeTruthy();
      const callback = await deliverCallback(user.browser, await provider.authorize(url.href, uniqueEmail()));
      expect(redirectTarget(callback, app.url)).toBe("/settings?linked=oidc");
    });

    it("an identity that belongs to another user: 302 /settings?error=identity_in_use, nothing changed", async () => {
      const login = uniqueEmail();
      const owner = await signedInByOidc(login);
      const user = await passwordUser();
      const before = rawOAuthTables(app.dbFile);
      const response = await link(user.browser, login);
      expect(redirectTarget(response, app.url)).toBe("/settings?error=identity_in_use");
      expect(rawOAuthTables(app.dbFile)).toEqual(before);
      expect(await identities(user.browser)).toEqual({ identities: [], hasPassword: true });
      expect(await sessionUser(owner.browser)).toMatchObject({ id: owner.user.id });
    });

    it("a provider the user has linked already: POST link answers 409 provider_already_linked", async () => {
      const { browser } = await signedInByOidc(uniqueEmail());
      await expectError(
        await browser.request("/api/auth/oauth/oidc/link", { json: {} }),
        409,
        "provider_already_linked",
      );
    });

    it("the provider's Cancel on a link: 302 /settings?error=oauth_denied, nothing linked", async () => {
      const user = await passwordUser();
      const started = await user.browser.request("/api/auth/oauth/oidc/link", { json: { password: PASSWORD } });
      const { url } = await started.json();
      const before = rawOAuthTables(app.dbFile);
      const response = await deliverCallback(
        user.browser,
        await provider.authorize(url, uniqueEmail(), { deny: true }),
      );
      expect(redirectTarget(response, app.url)).toBe("/settings?error=oauth_denied");
      expect(rawOAuthTables(app.dbFile)).toEqual(before);
    });

    it("a link whose session ended before the callback: 302 /settings?error=oauth_failed, nothing linked", async () => {
      const user = await passwordUser();
      const started = await user.browser.request("/api/auth/oauth/oidc/link", { json: { password: PASSWORD } });
      const { url } = await started.json();
      const callbackUrl = await provider.authorize(url, uniqueEmail());
      expect((await user.browser.request("/api/auth/logout", { method: "POST" })).status).toBeLessThan(300);
      const before = rawOAuthTables(app.dbFile);
      const response = await deliverCallback(user.browser, callbackUrl);
      expect(redirectTarget(response, app.url)).toBe("/settings?error=oauth_failed");
      expect(sessionCookieOf(response) ?? "").toBe("");
      expect(rawOAuthTables(app.dbFile)).toEqual(before);
    });

    it("an account without a password links with a fresh session, and gets 403 reauthentication_required past freshAuthSeconds", async () => {
      const { browser, user } = await signedInByOidc(uniqueEmail());
      app.setClock(app.startedAt + 10 * MINUTE + 1_000);
      // A request at the new time first, so that the session's last_seen_at has moved before the snapshot.
      expect(await sessionUser(browser)).toMatchObject({ id: user.id });
      const before = rawOAuthTables(app.dbFile);
      await expectError(
        await browser.request("/api/auth/oauth/corp/link", { json: {} }),
        403,
        "reauthentication_required",
      );
      expect(rawOAuthTables(app.dbFile)).toEqual(before);

      app.setClock(app.startedAt + 10 * MINUTE - 1_000);
      const response = await link(browser, uniqueEmail(), "corp", {});
      expect(redirectTarget(response, app.url)).toBe("/settings?linked=corp");
      expect((await identities(browser)).identities.map((identity) => identity.provider)).toEqual(["oidc", "corp"]);
      expect(rawIdentitiesOf(app.dbFile, user.id)).toHaveLength(2);
    });
  });

  describe("unlinking", () => {
    it("a password account: DELETE identities/oidc needs the password, then unlinks; the identity then no longer signs in", async () => {
      const user = await passwordUser();
      const login = uniqueEmail();
      provider.setAccount(login, { email: user.email });
      expect(redirectTarget(await link(user.browser, login), app.url)).toBe("/settings?linked=oidc");
      const before = rawOAuthTables(app.dbFile);

      await expectError(await unlink(user.browser, "oidc"), 403, "reauthentication_required");
      const wrong = await expectError(
        await unlink(user.browser, "oidc", { password: "not the password" }),
        400,
        "invalid_input",
      );
      expect(wrong.fields.password?.code).toBe("incorrect_password");
      expect(rawOAuthTables(app.dbFile)).toEqual(before);

      const response = await unlink(user.browser, "oidc", { password: PASSWORD });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ ok: true });
      expect(await identities(user.browser)).toEqual({ identities: [], hasPassword: true });
      expect(rawIdentitiesOf(app.dbFile, user.id)).toEqual([]);
      await expectError(await unlink(user.browser, "oidc", { password: PASSWORD }), 404, "not_found");

      // The provider's account has the same email: now that is an account it has not linked.
      const { response: again } = await oidcSignIn(login);
      expect(redirectTarget(again, app.url)).toBe("/login?error=account_exists");
    });

    it("an account made by OIDC cannot unlink its only way in: 409 last_sign_in_method; with a second identity it can, until one is left", async () => {
      const { browser, user } = await signedInByOidc(uniqueEmail());
      const before = rawOAuthTables(app.dbFile);
      await expectError(await unlink(browser, "oidc", {}), 409, "last_sign_in_method");
      expect(rawOAuthTables(app.dbFile)).toEqual(before);

      expect(redirectTarget(await link(browser, uniqueEmail(), "corp", {}), app.url)).toBe("/settings?linked=corp");
      const response = await unlink(browser, "oidc", {});
      expect(response.status).toBe(200);
      expect((await identities(browser)).identities.map((identity) => identity.provider)).toEqual(["corp"]);
      await expectError(await unlink(browser, "corp", {}), 409, "last_sign_in_method");
      expect(rawIdentitiesOf(app.dbFile, user.id)).toMatchObject([{ provider: "corp" }]);
      await expectError(await unlink(browser, "oidc", {}), 404, "not_found");
    });

    it("an account without a password needs a session younger than freshAuthSeconds to unlink", async () => {
      const { browser, user } = await signedInByOidc(uniqueEmail());
      expect(redirectTarget(await link(browser, uniqueEmail(), "corp", {}), app.url)).toBe("/settings?linked=corp");
      app.setClock(app.startedAt + 10 * MINUTE + 1_000);
      expect(await sessionUser(browser)).toMatchObject({ id: user.id });
      const before = rawOAuthTables(app.dbFile);
      await expectError(await unlink(browser, "corp", {}), 403, "reauthentication_required");
      expect(rawOAuthTables(app.dbFile)).toEqual(before);
    });

    it("signed out: GET identities and DELETE answer 401", async () => {
      await expectError(await apiRequest(app, "/api/auth/identities"), 401, "unauthenticated");
      await expectError(
        await apiRequest(app, "/api/auth/identities/oidc", { method: "DELETE", json: {} }),
        401,
        "unauthenticated",
      );
    });
  });

  describe("an account with TOTP", () => {
    it("an OIDC sign-in answers 302 /login/verify?next=… with the pending cookie and no session; the TOTP code finishes it", async () => {
      app.setClock(app.startedAt);
      const totp = await mfa.totpUser(uniqueEmail(), app.startedAt);
      const browser = createBrowser(app);
      browser.setCookie(SESSION_COOKIE, totp.cookie);
      const login = uniqueEmail();
      expect(redirectTarget(await link(browser, login), app.url)).toBe("/settings?linked=oidc");

      const now = app.startedAt + STEP_MS;
      app.setClock(now);
      const before = rawOAuthTables(app.dbFile);
      const fresh = createBrowser(app);
      const { response } = await oidcSignIn(login, { browser: fresh, next: "/settings" });
      const target = new URL(redirectTarget(response, app.url), app.url);
      expect(target.pathname).toBe("/login/verify");
      expect(target.searchParams.get("next")).toBe("/settings");
      expect(sessionCookieOf(response)).toBeFalsy();
      const pending = fresh.cookie(PENDING_COOKIE);
      expect(pending).toBeTruthy();
      expect(await sessionUser(fresh)).toBeNull();
      expect(rawOAuthTables(app.dbFile).sessions).toEqual(before.sessions);

      const verified = await mfa.verify(pending as string, { code: totpCode(totp.secret, now) });
      expect(verified.status).toBe(200);
      expect((await verified.json()).user).toMatchObject({ id: totp.id });
    });
  });
});

describe("with requireEmailVerification", () => {
  const app = useTestServer("database", { providers: PROVIDERS, email: { requireEmailVerification: true } });
  beforeAll(async () => {
    registerApp(app);
    await app.store.migrate();
  });
  const uniqueEmail = uniqueEmails("oauth-verify", "x");

  it("an unverified provider email makes the account but signs no one in: 302 /login?error=email_unverified", async () => {
    const login = uniqueEmail();
    provider.setAccount(login, { email: login, emailVerified: false });
    const browser = createBrowser(app);
    const url = await startOAuthFlow(browser, provider, "oidc");
    const response = await deliverCallback(browser, await provider.authorize(url.href, login));
    expect(redirectTarget(response, app.url)).toBe("/login?error=email_unverified");
    expect(sessionCookieOf(response) ?? "").toBe("");
    expect(rawUserByEmail(app.dbFile, login)?.email_verified_at).toBeNull();
    expect(rawOAuthTables(app.dbFile).sessions).toEqual([]);
  });

  it("a verified one signs in", async () => {
    const login = uniqueEmail();
    const browser = createBrowser(app);
    const url = await startOAuthFlow(browser, provider, "oidc");
    const response = await deliverCallback(browser, await provider.authorize(url.href, login));
    expect(redirectTarget(response, app.url)).toBe("/dashboard");
    expect(sessionCookieOf(response)).toBeTruthy();
  });
});

describe("with storeTokens", () => {
  const app = useTestServer("database", {
    providers: [
      oidc({
        id: "keep",
        issuer: provider.issuer,
        clientId: provider.clientId,
        clientSecret: provider.clientSecret,
        storeTokens: true,
      }),
      ...PROVIDERS,
    ],
  });
  beforeAll(async () => {
    registerApp(app);
    provider.addRedirectUri(`${app.url}/api/auth/oauth/keep/callback`);
    await app.store.migrate();
  });
  const uniqueEmail = uniqueEmails("oauth-tokens", "x");

  async function signIn(providerId: string, login: string) {
    const browser = createBrowser(app);
    let accessToken: unknown;
    provider.tamperTokenResponses((body) => {
      accessToken = body.access_token;
      return body;
    });
    try {
      const url = await startOAuthFlow(browser, provider, providerId);
      const response = await deliverCallback(browser, await provider.authorize(url.href, login));
      expect(redirectTarget(response, app.url)).toBe("/dashboard");
    } finally {
      provider.tamperTokenResponses(null);
    }
    const user = (await (await browser.request("/api/auth/session")).json()).user as { id: string };
    expect(typeof accessToken).toBe("string");
    return { user, accessToken: accessToken as string };
  }

  it("keeps the provider's access token sealed at rest, and providerTokens() opens it", async () => {
    const { user, accessToken } = await signIn("keep", uniqueEmail());
    const [row] = rawIdentitiesOf(app.dbFile, user.id);
    expect(typeof row?.tokens).toBe("string");
    expect(row?.tokens as string).not.toContain(accessToken);
    const tokens = await app.gatehouse.providerTokens(user.id, "keep");
    expect(tokens?.accessToken).toBe(accessToken);
    expect(tokens?.expiresAt).toBeInstanceOf(Date);
  });

  it("keeps nothing for a provider without it", async () => {
    const { user } = await signIn("oidc", uniqueEmail());
    expect(rawIdentitiesOf(app.dbFile, user.id)[0]?.tokens).toBeNull();
    expect(await app.gatehouse.providerTokens(user.id, "oidc")).toBeNull();
  });
});

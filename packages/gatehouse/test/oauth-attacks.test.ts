/**
 * Attacks on the OpenID Connect sign-in, over real HTTP against a real OpenID Provider on loopback
 * (support/oidc-provider.ts). Each refused callback must answer a 302 to `/login?error=…` (never a 500), set no
 * session cookie, leave the browser signed out, and leave the users, identities and sessions rows exactly as
 * they were (read raw from the SQLite file). For the ID-token checks the provider's token responses pass
 * through an attacker in the middle that re-signs the ID token with the provider's own key and one claim
 * changed; a control case re-signs it unchanged and must sign in, so each forgery is refused only for the
 * claim it changes. The app has two entries at the provider, `oidc` and `other`, with a client each.
 */
import { decodeJwt, decodeProtectedHeader, generateKeyPair, importJWK, type JWTPayload, SignJWT } from "jose";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { oidc } from "../src/index.js";
import { PASSWORD } from "./support/credentials.js";
import {
  type Browser,
  createBrowser,
  sessionCookieOf,
  startServer,
  uniqueEmails,
  useTestServer,
} from "./support/http-server.js";
import {
  deliverCallback,
  FLOW_COOKIE,
  type RawOAuthTables,
  rawOAuthTables,
  redirectTarget,
  startOAuthFlow,
  withParam,
} from "./support/oauth-flow.js";
import { startOidcProvider } from "./support/oidc-provider.js";

const provider = await startOidcProvider({ redirectUris: [] });
const OTHER = { clientId: "gatehouse-other", clientSecret: "gatehouse-other-secret-0123456789" };
provider.addClient({ ...OTHER, redirectUris: [] });
afterAll(() => provider.close());

const MAIN_PROVIDER = oidc({
  issuer: provider.issuer,
  clientId: provider.clientId,
  clientSecret: provider.clientSecret,
});
const PROVIDERS = [MAIN_PROVIDER, oidc({ id: "other", name: "Other", issuer: provider.issuer, ...OTHER })];

const providerKey = await importJWK(provider.signingKey, "RS256");

describe("attacks on the OpenID Connect sign-in (database sessions)", () => {
  const app = useTestServer("database", { providers: PROVIDERS });
  beforeAll(async () => {
    provider.addRedirectUri(`${app.url}/api/auth/oauth/oidc/callback`);
    provider.addRedirectUri(`${app.url}/api/auth/oauth/other/callback`, OTHER.clientId);
    // The tables exist before the first raw read.
    await app.store.migrate();
  });
  const uniqueEmail = uniqueEmails("oauth-attack", "x");

  /** console.warn, where the library tells the operator why a callback failed. */
  let warn: MockInstance<typeof console.warn>;
  beforeEach(() => {
    warn = vi.spyOn(console, "warn").mockImplementation(() => {});
  });
  afterEach(() => {
    warn.mockRestore();
    provider.tamperTokenResponses(null);
    app.setClock(app.startedAt);
  });
  const warnings = () => warn.mock.calls.map((args) => args.map(String).join(" "));

  /** Whether the provider's token endpoint was called since `provider.clearRequests()`. */
  const tokenRequested = () => provider.requests.some(({ method, path }) => method === "POST" && path === "/token");

  async function sessionUser(browser: Browser) {
    const response = await browser.request("/api/auth/session");
    expect(response.status).toBe(200);
    return (await response.json()).user;
  }

  /** A flow started in a new browser and authorized at the provider as `login`; the callback not yet delivered. */
  async function authorized(login = uniqueEmail(), options: { next?: string; providerId?: string } = {}) {
    const browser = createBrowser(app);
    const url = await startOAuthFlow(browser, provider, options.providerId ?? "oidc", options.next);
    const callbackUrl = await provider.authorize(url.href, login);
    return { browser, url, callbackUrl, login };
  }

  /**
   * A refused callback: 302 to `${page}?error=${code}`, no session cookie set and none in the browser, the flow
   * cookie cleared, the rows as in `before`, and (for oauth_failed) a reason logged that carries none of `secrets`.
   */
  async function expectRefused(
    browser: Browser,
    response: Response,
    before: RawOAuthTables,
    options: { code?: string; secrets?: readonly string[] } = {},
  ) {
    const code = options.code ?? "oauth_failed";
    expect(redirectTarget(response, app.url)).toBe(`/login?error=${code}`);
    expect(sessionCookieOf(response) ?? "").toBe("");
    const flow = response.headers.getSetCookie().find((line) => line.startsWith(`${FLOW_COOKIE}=`));
    if (flow !== undefined) expect(flow).toMatch(/Max-Age=0/i);
    expect(browser.cookie(FLOW_COOKIE)).toBeUndefined();
    expect(await sessionUser(browser)).toBeNull();
    expect(rawOAuthTables(app.dbFile)).toEqual(before);
    if (code === "oauth_failed") {
      const logged = warnings();
      expect(
        logged.some((line) => line.startsWith("gatehouse: oauth ")),
        JSON.stringify(logged),
      ).toBe(true);
      for (const secret of options.secrets ?? []) {
        for (const line of logged) expect(line).not.toContain(secret);
      }
    }
  }

  /** The query parameters of a callback URL that must never reach the log. */
  function callbackSecrets(callbackUrl: string): string[] {
    const params = new URL(callbackUrl).searchParams;
    return [params.get("code"), params.get("state")].filter((value): value is string => !!value);
  }

  /**
   * From now on, the ID token of each token response is replaced by `change(claims)`, signed with `key`
   * (default: the provider's own) under the provider's kid. Resolves the original ID tokens into `seen`.
   */
  function forgeIdTokens(change: (claims: JWTPayload) => JWTPayload, key: CryptoKey | Uint8Array = providerKey) {
    const seen: string[] = [];
    provider.tamperTokenResponses(async (body) => {
      const idToken = body.id_token as string;
      seen.push(idToken, body.access_token as string);
      const { kid } = decodeProtectedHeader(idToken);
      const forged = await new SignJWT(change({ ...decodeJwt(idToken) }))
        .setProtectedHeader({ alg: "RS256", kid: kid ?? provider.signingKey.kid, typ: "JWT" })
        .sign(key);
      seen.push(forged);
      return { ...body, id_token: forged };
    });
    return seen;
  }

  describe("ID token checks (an attacker re-signing the provider's ID token)", () => {
    it("control: the same claims re-signed with the provider's key sign in", async () => {
      const seen = forgeIdTokens((claims) => claims);
      const { browser, callbackUrl, login } = await authorized();
      const response = await deliverCallback(browser, callbackUrl);
      expect(redirectTarget(response, app.url)).toBe("/dashboard");
      expect(await sessionUser(browser)).toMatchObject({ email: login });
      expect(seen).toHaveLength(3);
    });

    const nowSeconds = () => Math.floor(Date.now() / 1000);
    const forgeries: Array<[string, (claims: JWTPayload) => JWTPayload]> = [
      ["a wrong nonce", (claims) => ({ ...claims, nonce: "an-attackers-nonce-0123456789abcdefgh" })],
      [
        "no nonce",
        ({ nonce: _, ...claims }) => {
          void _;
          return claims;
        },
      ],
      ["another client's audience", (claims) => ({ ...claims, aud: OTHER.clientId })],
      ["an expired token", (claims) => ({ ...claims, iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 })],
      ["another issuer", (claims) => ({ ...claims, iss: "http://127.0.0.1:1" })],
    ];
    for (const [what, change] of forgeries) {
      it(`${what}: /login?error=oauth_failed, nothing stored`, async () => {
        const seen = forgeIdTokens(change);
        const { browser, callbackUrl } = await authorized();
        const before = rawOAuthTables(app.dbFile);
        provider.clearRequests();
        const response = await deliverCallback(browser, callbackUrl);
        // The code was exchanged: it is the ID token that is refused.
        expect(tokenRequested()).toBe(true);
        expect(seen).toHaveLength(3);
        await expectRefused(browser, response, before, { secrets: [...seen, ...callbackSecrets(callbackUrl)] });
      });
    }

    it("a bad signature (another key under the provider's kid): /login?error=oauth_failed, nothing stored", async () => {
      const { privateKey } = await generateKeyPair("RS256");
      const seen = forgeIdTokens((claims) => claims, privateKey);
      const { browser, callbackUrl } = await authorized();
      const before = rawOAuthTables(app.dbFile);
      provider.clearRequests();
      const response = await deliverCallback(browser, callbackUrl);
      expect(tokenRequested()).toBe(true);
      await expectRefused(browser, response, before, { secrets: [...seen, ...callbackSecrets(callbackUrl)] });
    });
  });

  describe("the authorization response", () => {
    it("missing state: oauth_failed, the code never redeemed", async () => {
      const { browser, callbackUrl } = await authorized();
      const before = rawOAuthTables(app.dbFile);
      provider.clearRequests();
      const response = await deliverCallback(browser, withParam(callbackUrl, "state", null));
      await expectRefused(browser, response, before, { secrets: callbackSecrets(callbackUrl) });
      expect(tokenRequested()).toBe(false);
    });

    it("a wrong state: oauth_failed, the code never redeemed", async () => {
      const { browser, callbackUrl } = await authorized();
      const before = rawOAuthTables(app.dbFile);
      provider.clearRequests();
      const wrong = withParam(callbackUrl, "state", "A".repeat(43));
      await expectRefused(browser, await deliverCallback(browser, wrong), before, {
        secrets: callbackSecrets(callbackUrl),
      });
      expect(tokenRequested()).toBe(false);
    });

    it("a replayed callback (the same URL twice) fails the second time, even with the flow cookie put back", async () => {
      const { browser, callbackUrl } = await authorized();
      const flowCookie = browser.cookie(FLOW_COOKIE) as string;
      const first = await deliverCallback(browser, callbackUrl);
      expect(redirectTarget(first, app.url)).toBe("/dashboard");
      const before = rawOAuthTables(app.dbFile);
      provider.clearRequests();

      // Another browser (the attacker's), with the URL and a copy of the flow cookie.
      for (const withCookie of [false, true]) {
        const attacker = createBrowser(app);
        if (withCookie) attacker.setCookie(FLOW_COOKIE, flowCookie);
        await expectRefused(attacker, await deliverCallback(attacker, callbackUrl), before);
      }
      // And the same browser again: still one session, its own.
      const again = await deliverCallback(browser, callbackUrl);
      expect(redirectTarget(again, app.url)).toBe("/login?error=oauth_failed");
      expect(sessionCookieOf(again) ?? "").toBe("");
      expect(rawOAuthTables(app.dbFile)).toEqual(before);
      // The flow is used up in the app: the code is not even sent to the provider again (which would refuse it).
      expect(tokenRequested()).toBe(false);
    });

    it("a code used twice: a redeemed code delivered on a new flow fails", async () => {
      const victim = await authorized();
      expect(redirectTarget(await deliverCallback(victim.browser, victim.callbackUrl), app.url)).toBe("/dashboard");
      const before = rawOAuthTables(app.dbFile);

      const attacker = createBrowser(app);
      const url = await startOAuthFlow(attacker, provider, "oidc");
      provider.clearRequests();
      const injected = withParam(victim.callbackUrl, "state", url.searchParams.get("state"));
      await expectRefused(attacker, await deliverCallback(attacker, injected), before, {
        secrets: callbackSecrets(victim.callbackUrl),
      });
    });

    it("code injection: an unredeemed code of another flow fails on this one (PKCE), and signs no one in", async () => {
      const attackersCode = await authorized();
      const victim = createBrowser(app);
      const url = await startOAuthFlow(victim, provider, "oidc");
      const before = rawOAuthTables(app.dbFile);
      const injected = withParam(attackersCode.callbackUrl, "state", url.searchParams.get("state"));
      await expectRefused(victim, await deliverCallback(victim, injected), before);
    });

    it("a flow started with provider oidc called back on provider other: oauth_failed, and the code is not sent to other's token endpoint", async () => {
      const { browser, callbackUrl } = await authorized();
      const before = rawOAuthTables(app.dbFile);
      provider.clearRequests();
      const response = await deliverCallback(browser, callbackUrl, "other");
      await expectRefused(browser, response, before, { secrets: callbackSecrets(callbackUrl) });
      expect(tokenRequested()).toBe(false);
    });

    it("mix-up: an `iss` of another issuer, or none although the provider sends one, fails before the code is redeemed", async () => {
      for (const iss of ["http://127.0.0.1:1", `${provider.issuer}/`, null]) {
        const { browser, callbackUrl } = await authorized();
        expect(new URL(callbackUrl).searchParams.get("iss")).toBe(provider.issuer);
        const before = rawOAuthTables(app.dbFile);
        provider.clearRequests();
        const response = await deliverCallback(browser, withParam(callbackUrl, "iss", iss));
        await expectRefused(browser, response, before, { secrets: callbackSecrets(callbackUrl) });
        expect(tokenRequested(), String(iss)).toBe(false);
      }
    });

    it("error=access_denied: /login?error=oauth_denied; another error: oauth_failed", async () => {
      const denied = createBrowser(app);
      const url = await startOAuthFlow(denied, provider, "oidc");
      const callbackUrl = await provider.authorize(url.href, uniqueEmail(), { deny: true });
      const before = rawOAuthTables(app.dbFile);
      await expectRefused(denied, await deliverCallback(denied, callbackUrl), before, { code: "oauth_denied" });

      const failed = createBrowser(app);
      const started = await startOAuthFlow(failed, provider, "oidc");
      const errorUrl = new URL(`${app.url}/api/auth/oauth/oidc/callback`);
      errorUrl.search = new URLSearchParams({
        error: "temporarily_unavailable",
        state: started.searchParams.get("state") as string,
        iss: provider.issuer,
      }).toString();
      await expectRefused(failed, await deliverCallback(failed, errorUrl.href), before);
    });
  });

  describe("the flow cookie", () => {
    it("is bound to the browser: the callback delivered to another browser fails, with or without a flow of its own; the first browser then finishes", async () => {
      const { browser, callbackUrl, login } = await authorized();
      const before = rawOAuthTables(app.dbFile);
      provider.clearRequests();

      const bare = createBrowser(app);
      await expectRefused(bare, await deliverCallback(bare, callbackUrl), before);
      const withOwnFlow = createBrowser(app);
      await startOAuthFlow(withOwnFlow, provider, "oidc");
      await expectRefused(withOwnFlow, await deliverCallback(withOwnFlow, callbackUrl), before);
      expect(tokenRequested()).toBe(false);

      const response = await deliverCallback(browser, callbackUrl);
      expect(redirectTarget(response, app.url)).toBe("/dashboard");
      expect(await sessionUser(browser)).toMatchObject({ email: login });
    });

    it("tampered with (one character changed): oauth_failed, the code never redeemed", async () => {
      const { browser, callbackUrl } = await authorized();
      const value = browser.cookie(FLOW_COOKIE) as string;
      const at = Math.floor(value.length / 2);
      const tampered = value.slice(0, at) + (value[at] === "A" ? "B" : "A") + value.slice(at + 1);
      browser.setCookie(FLOW_COOKIE, tampered);
      const before = rawOAuthTables(app.dbFile);
      provider.clearRequests();
      await expectRefused(browser, await deliverCallback(browser, callbackUrl), before);
      expect(tokenRequested()).toBe(false);
    });

    it("older than 10 minutes (the cookie still sent): oauth_failed, the code never redeemed", async () => {
      const { browser, callbackUrl } = await authorized();
      app.setClock(app.startedAt + 10 * 60_000 + 1_000);
      const before = rawOAuthTables(app.dbFile);
      provider.clearRequests();
      await expectRefused(browser, await deliverCallback(browser, callbackUrl), before);
      expect(tokenRequested()).toBe(false);
    });
  });

  describe("accounts", () => {
    it("an unverified provider email matching an existing account: account_exists, nothing linked, no one signed in", async () => {
      const email = uniqueEmail();
      await app.gatehouse.users.create({ email, password: PASSWORD });
      const login = uniqueEmail();
      provider.setAccount(login, { email, emailVerified: false });
      const { browser, callbackUrl } = await authorized(login);
      const before = rawOAuthTables(app.dbFile);
      await expectRefused(browser, await deliverCallback(browser, callbackUrl), before, { code: "account_exists" });
      // And the account's password still signs in to it, alone.
      const logIn = await browser.request("/api/auth/login", { json: { email, password: PASSWORD } });
      expect(logIn.status).toBe(200);
    });

    it("no email from the provider: oauth_failed, no user made", async () => {
      const login = uniqueEmail();
      provider.setAccount(login, { email: null });
      const { browser, callbackUrl } = await authorized(login);
      const before = rawOAuthTables(app.dbFile);
      await expectRefused(browser, await deliverCallback(browser, callbackUrl), before);
    });

    it("`next` pointing off-site: the sign-in lands on /dashboard", async () => {
      for (const next of [
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "https:evil.example",
        "%2F%2Fevil.example",
      ]) {
        const { browser, callbackUrl } = await authorized(uniqueEmail(), { next });
        const response = await deliverCallback(browser, callbackUrl);
        expect(redirectTarget(response, app.url), next).toBe("/dashboard");
        expect(response.headers.get("location")).not.toContain("evil.example");
      }
    });
  });

  describe("the provider down", () => {
    it("at the start (discovery refused): 302 /login?error=oauth_failed, no flow cookie; once it is up, the start works", async () => {
      await provider.down();
      const fresh = await startServer("database", { providers: [MAIN_PROVIDER] });
      try {
        const browser = createBrowser(fresh);
        const response = await browser.request("/api/auth/oauth/oidc");
        expect(redirectTarget(response, fresh.url)).toBe("/login?error=oauth_failed");
        expect(response.status).toBe(302);
        expect(browser.cookie(FLOW_COOKIE)).toBeUndefined();
        expect(sessionCookieOf(response)).toBeUndefined();
        expect(warnings().some((line) => line.startsWith("gatehouse: oauth oidc:"))).toBe(true);

        await provider.up();
        const again = await browser.request("/api/auth/oauth/oidc");
        expect(again.status).toBe(302);
        expect(new URL(again.headers.get("location") as string).origin).toBe(provider.issuer);
      } finally {
        await provider.up();
        await fresh.close();
      }
    });

    it("at the callback (token endpoint refused): 302 /login?error=oauth_failed, nothing stored", async () => {
      const { browser, callbackUrl } = await authorized();
      const before = rawOAuthTables(app.dbFile);
      await provider.down();
      try {
        await expectRefused(browser, await deliverCallback(browser, callbackUrl), before, {
          secrets: callbackSecrets(callbackUrl),
        });
      } finally {
        await provider.up();
      }
    });
  });
});

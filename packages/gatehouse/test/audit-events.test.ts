/**
 * The audit log over real HTTP, on a SQLite file and on PostgreSQL: each security event of the account's own
 * routes is recorded with its type, outcome, user, actor, client address and user agent, read back raw from
 * the audit table (never through the store); an administrator's impersonation is the actor of what it does;
 * the sink receives what was committed; and no event row holds a password, code, token or cookie used in the
 * file (the last test scans every row, all columns, for every one of them).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { oidc } from "../src/index.js";
import type { AuditEvent } from "../src/stores/types.js";
import {
  type AuditBackend,
  type AuditServer,
  auditBackends,
  CLIENT_HEADERS,
  CLIENT_IP,
  expectEventRow,
  expectNoSecrets,
  plantImpersonation,
  type Row,
  startAuditServer,
  USER_AGENT,
} from "./support/audit.js";
import { PASSWORD } from "./support/credentials.js";
import {
  type ApiRequestInit,
  createBrowser,
  SESSION_COOKIE,
  SUITE_RATE_LIMITS,
  uniqueEmails,
} from "./support/http-server.js";
import { FLOW_COOKIE, redirectTarget } from "./support/oauth-flow.js";
import { startOidcProvider } from "./support/oidc-provider.js";
import { PENDING_COOKIE, STEP_MS, totpCode, wrongCode } from "./support/totp.js";
import { createSoftwareAuthenticator } from "./support/webauthn.js";

const NEW_PASSWORD = "a brand new passphrase for audits";
const backends = await auditBackends();
const provider = await startOidcProvider({ redirectUris: [] });
afterAll(() => provider.close());

/** The value a Set-Cookie line sets (`""` when it clears the cookie). */
const cookieValueOf = (line: string) => (line.split(";", 1)[0] as string).replace(/^[^=]*=/, "");

describe.each(backends)("the audit log on $name", ({ name, open }) => {
  let backend: AuditBackend;
  let app: AuditServer;
  /** The same store, with requireEmailVerification. */
  let strict: AuditServer;
  const sunk: AuditEvent[] = [];
  /** Every password, code, token and cookie value a request sent or received: none may be in an event. */
  const secrets = new Set<string>([PASSWORD, NEW_PASSWORD]);
  const uniqueEmail = uniqueEmails("audit", name.toLowerCase());

  beforeAll(async () => {
    backend = await open();
    app = await startAuditServer(backend.store, {
      strategy: "database",
      providers: [oidc({ issuer: provider.issuer, clientId: provider.clientId, clientSecret: provider.clientSecret })],
      onEvent: (event) => {
        sunk.push(event);
      },
      // Three wrong passwords per account and address, then 429: the rate-limited failure is reachable.
      rateLimits: { ...SUITE_RATE_LIMITS, loginPerAccountAndIp: { max: 3, windowSeconds: 900 } },
    });
    provider.addRedirectUri(`${app.url}/api/auth/oauth/oidc/callback`);
    strict = await startAuditServer(backend.store, { strategy: "database", requireEmailVerification: true });
  });
  afterAll(async () => {
    await app?.close();
    await strict?.close();
    await backend?.close();
  });

  /** A browser whose requests carry {@link CLIENT_HEADERS}; every cookie it is given goes on the secrets list. */
  function client(server: AuditServer = app) {
    const browser = createBrowser(server);
    return {
      browser,
      async request(route: string, init: Omit<ApiRequestInit, "cookie"> = {}): Promise<Response> {
        const response = await browser.request(route, { ...init, headers: { ...CLIENT_HEADERS, ...init.headers } });
        for (const line of response.headers.getSetCookie()) {
          const value = cookieValueOf(line);
          if (value === "") continue;
          secrets.add(value);
          // A database session's cookie is `id.secret`: its secret alone must not be found either.
          const secret = /^[A-Za-z0-9_-]{16}\.([A-Za-z0-9_-]{32})$/.exec(value)?.[1];
          if (secret) secrets.add(secret);
        }
        return response;
      },
      cookie: (cookieName: string) => browser.cookie(cookieName),
    };
  }
  type Client = ReturnType<typeof client>;

  const param = (index: number) => (backend.name === "SQLite" ? "?" : `$${index}`);

  /** The user's events, raw, oldest first; of one type when given. */
  async function eventsOf(userId: string, type?: string): Promise<Row[]> {
    const rows = await backend.rows(`SELECT * FROM gatehouse_audit WHERE user_id = ${param(1)} ORDER BY at, id`, [
      userId,
    ]);
    return type === undefined ? rows : rows.filter((row) => row.type === type);
  }

  /** The one event of `type` of the user. */
  async function onlyEvent(userId: string, type: string): Promise<Row> {
    const rows = await eventsOf(userId, type);
    expect(rows.map((row) => row.type)).toEqual([type]);
    return rows[0] as Row;
  }

  const detailOf = (row: Row) => JSON.parse(String(row.detail)) as Record<string, unknown>;

  /** Signs a new account up through the API in `c`: its id and email. */
  async function signUp(c: Client = client()): Promise<{ id: string; email: string; client: Client }> {
    const email = uniqueEmail();
    const response = await c.request("/api/auth/signup", { json: { email, password: PASSWORD } });
    expect(response.status).toBe(201);
    return { id: (await response.json()).user.id, email, client: c };
  }

  async function logIn(email: string, password = PASSWORD): Promise<{ client: Client; response: Response }> {
    const c = client();
    return { client: c, response: await c.request("/api/auth/login", { json: { email, password } }) };
  }

  const sessionIdOf = (c: Client) => (c.cookie(SESSION_COOKIE) as string).split(".", 1)[0] as string;

  it("a password sign-up, log-in and log-out are user.signup, login.success and logout, with the client's address and user agent", async () => {
    const { id, email } = await signUp();
    const { client: browser, response } = await logIn(email);
    expect(response.status).toBe(200);
    const sessionId = sessionIdOf(browser);
    expect((await browser.request("/api/auth/logout", { method: "POST" })).status).toBe(200);

    expectEventRow(await onlyEvent(id, "user.signup"), {
      type: "user.signup",
      userId: id,
      userEmail: email,
      detail: { method: "password" },
    });
    expectEventRow(await onlyEvent(id, "login.success"), {
      type: "login.success",
      userId: id,
      userEmail: email,
      detail: { method: "password" },
    });
    expectEventRow(await onlyEvent(id, "logout"), { type: "logout", userId: id, detail: { sessionId } });

    // The sink was handed each of them, as committed (the frozen clock gives them one time: no order to check).
    const ids = (await eventsOf(id)).map((row) => row.id).sort();
    await expect
      .poll(() =>
        sunk
          .filter((event) => event.userId === id)
          .map((event) => event.id)
          .sort(),
      )
      .toEqual(ids);
  });

  it("failed log-ins are login.failure with their reason: wrong_password, unknown_account, rate_limited", async () => {
    const { id, email } = await signUp();
    for (let i = 0; i < 3; i++) expect((await logIn(email, `${PASSWORD} nope`)).response.status).toBe(401);
    expect((await logIn(email, `${PASSWORD} nope`)).response.status).toBe(429);
    const failures = await eventsOf(id, "login.failure");
    expect(failures.map((row) => detailOf(row).reason).sort()).toEqual([
      "rate_limited",
      "wrong_password",
      "wrong_password",
      "wrong_password",
    ]);
    for (const row of failures) {
      expectEventRow(row, {
        type: "login.failure",
        outcome: "failure",
        userId: id,
        userEmail: email,
        detail: { method: "password" },
      });
    }

    const nobody = uniqueEmail();
    expect((await logIn(nobody)).response.status).toBe(401);
    const unknown = await backend.rows(`SELECT * FROM gatehouse_audit WHERE user_email = ${param(1)}`, [nobody]);
    expect(unknown).toHaveLength(1);
    expectEventRow(unknown[0], {
      type: "login.failure",
      outcome: "failure",
      userId: null,
      userEmail: nobody,
      actor: { type: "system", id: null },
      detail: { reason: "unknown_account", method: "password" },
    });

    // A password typed into the email field is no address: the event keeps none of it.
    const typedInTheWrongField = "my secret passphrase typed here";
    secrets.add(typedInTheWrongField);
    const before = new Set((await backend.events()).map((row) => row.id));
    expect((await logIn(typedInTheWrongField)).response.status).toBe(401);
    const added = (await backend.events()).filter((row) => !before.has(row.id));
    expect(added).toHaveLength(1);
    expectEventRow(added[0], {
      type: "login.failure",
      outcome: "failure",
      userId: null,
      userEmail: null,
      actor: { type: "system", id: null },
      detail: { reason: "unknown_account" },
    });
  });

  it("with stateless sessions too: a log-in and a log-out are login.success and logout", async () => {
    const stateless = await startAuditServer(backend.store, { strategy: "stateless" });
    try {
      const email = uniqueEmail();
      const { id } = await stateless.gatehouse.users.create({ email, password: PASSWORD });
      const c = client(stateless);
      expect((await c.request("/api/auth/login", { json: { email, password: PASSWORD } })).status).toBe(200);
      expect((await c.request("/api/auth/logout", { method: "POST" })).status).toBe(200);
      expectEventRow(await onlyEvent(id, "login.success"), { type: "login.success", userId: id });
      expectEventRow(await onlyEvent(id, "logout"), { type: "logout", userId: id });
    } finally {
      await stateless.close();
    }
  });

  it("a log-in before the address is verified (requireEmailVerification) is login.failure unverified; an account made by users.create is user.signup by the system", async () => {
    const email = uniqueEmail();
    const { id } = await strict.gatehouse.users.create({ email, password: PASSWORD });
    const response = await client(strict).request("/api/auth/login", { json: { email, password: PASSWORD } });
    expect(response.status).toBe(403);
    expect((await response.json()).error.code).toBe("email_unverified");
    expectEventRow(await onlyEvent(id, "login.failure"), {
      type: "login.failure",
      outcome: "failure",
      userId: id,
      detail: { reason: "unverified", method: "password" },
    });
    expectEventRow(await onlyEvent(id, "user.signup"), {
      type: "user.signup",
      userId: id,
      actor: { type: "system", id: null },
      ip: null,
      userAgent: null,
    });
  });

  it("ending one session, then the others, is session.revoke of one (its id) and of the others", async () => {
    const { id, email, client: mine } = await signUp();
    const { client: second } = await logIn(email);
    await logIn(email);
    const secondId = sessionIdOf(second);
    expect((await mine.request(`/api/auth/sessions/${secondId}`, { method: "DELETE" })).status).toBe(200);
    const others = await mine.request("/api/auth/sessions/revoke-others", { method: "POST" });
    expect(await others.json()).toEqual({ revoked: 1 });
    const revokes = await eventsOf(id, "session.revoke");
    expect(revokes.map((row) => detailOf(row).scope).sort()).toEqual(["one", "others"]);
    expectEventRow(
      revokes.find((row) => detailOf(row).scope === "one"),
      { type: "session.revoke", userId: id, detail: { scope: "one", sessionId: secondId } },
    );
    expectEventRow(
      revokes.find((row) => detailOf(row).scope === "others"),
      { type: "session.revoke", userId: id, detail: { scope: "others" } },
    );
  });

  it("a password change is password.change; a refused one (wrong current password) records nothing", async () => {
    const { id, client: mine } = await signUp();
    const wrong = await mine.request("/api/auth/password", {
      json: { currentPassword: `${PASSWORD}!`, newPassword: NEW_PASSWORD },
    });
    expect(wrong.status).toBe(400);
    expect(await eventsOf(id, "password.change")).toEqual([]);
    const changed = await mine.request("/api/auth/password", {
      json: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
    });
    expect(changed.status).toBe(200);
    expectEventRow(await onlyEvent(id, "password.change"), { type: "password.change", userId: id });
  });

  it("TOTP: mfa.enable, a wrong second step (mfa_failure), log-ins finished by a code and by a recovery code (recovery_code.use), recovery_codes.regenerate, mfa.disable", async () => {
    const { id, email, client: mine } = await signUp();
    const setUp = await mine.request("/api/auth/mfa/totp/setup", { json: { password: PASSWORD } });
    const { secret } = await setUp.json();
    secrets.add(secret);
    let clock = app.startedAt;
    const code = totpCode(secret, clock);
    secrets.add(code);
    const confirmed = await mine.request("/api/auth/mfa/totp/confirm", { json: { code } });
    expect(confirmed.status).toBe(200);
    const { recoveryCodes } = (await confirmed.json()) as { recoveryCodes: string[] };
    for (const recoveryCode of recoveryCodes) secrets.add(recoveryCode).add(recoveryCode.replace("-", ""));
    expectEventRow(await onlyEvent(id, "mfa.enable"), { type: "mfa.enable", userId: id });

    try {
      // A new step, so the code of the confirmation is not a replay.
      clock += STEP_MS;
      app.setClock(clock);
      const { client: pending, response } = await logIn(email);
      expect(response.status).toBe(403);
      secrets.add(pending.cookie(PENDING_COOKIE) as string);
      const wrong = wrongCode(secret, clock);
      expect((await pending.request("/api/auth/mfa/verify", { json: { code: wrong } })).status).toBe(401);
      const right = totpCode(secret, clock);
      secrets.add(right);
      expect((await pending.request("/api/auth/mfa/verify", { json: { code: right } })).status).toBe(200);
      expectEventRow(await onlyEvent(id, "login.failure"), {
        type: "login.failure",
        outcome: "failure",
        userId: id,
        detail: { reason: "mfa_failure", method: "totp", secondFactor: true },
      });
      expectEventRow(await onlyEvent(id, "login.success"), {
        type: "login.success",
        userId: id,
        detail: { method: "totp", secondFactor: true },
      });

      const { client: recovering } = await logIn(email);
      const used = recoveryCodes[0] as string;
      expect((await recovering.request("/api/auth/mfa/verify", { json: { recoveryCode: used } })).status).toBe(200);
      expectEventRow(await onlyEvent(id, "recovery_code.use"), { type: "recovery_code.use", userId: id });
      const successes = await eventsOf(id, "login.success");
      expect(successes.map((row) => detailOf(row).method).sort()).toEqual(["recovery_code", "totp"]);

      const regenerated = await mine.request("/api/auth/mfa/recovery-codes", { json: { password: PASSWORD } });
      expect(regenerated.status).toBe(200);
      for (const recoveryCode of (await regenerated.json()).recoveryCodes as string[]) {
        secrets.add(recoveryCode).add(recoveryCode.replace("-", ""));
      }
      expectEventRow(await onlyEvent(id, "recovery_codes.regenerate"), {
        type: "recovery_codes.regenerate",
        userId: id,
      });
      expect((await mine.request("/api/auth/mfa/totp/disable", { json: { password: PASSWORD } })).status).toBe(200);
      expectEventRow(await onlyEvent(id, "mfa.disable"), { type: "mfa.disable", userId: id });
      // Off already: refused, and nothing more is recorded.
      expect((await mine.request("/api/auth/mfa/totp/disable", { json: { password: PASSWORD } })).status).toBe(409);
      expect(await eventsOf(id, "mfa.disable")).toHaveLength(1);
    } finally {
      app.setClock(app.startedAt);
    }
  });

  it("passkeys: passkey.add, a passkey log-in (login.success), a forged answer (passkey_failure), passkey.remove", async () => {
    const { id, client: mine } = await signUp();
    const authenticator = createSoftwareAuthenticator({ origin: new URL(app.url).origin });
    const options = await (
      await mine.request("/api/auth/passkeys/register/options", { json: { password: PASSWORD } })
    ).json();
    const { response } = authenticator.create(options);
    const registered = await mine.request("/api/auth/passkeys/register", { json: { response, name: "Laptop" } });
    expect(registered.status).toBe(201);
    const { passkey } = await registered.json();
    expectEventRow(await onlyEvent(id, "passkey.add"), {
      type: "passkey.add",
      userId: id,
      detail: { id: passkey.id, name: "Laptop" },
    });

    async function passkeyLogIn(tamperSignature: boolean): Promise<Response> {
      const c = client();
      const loginOptions = await (await c.request("/api/auth/passkeys/login/options", { method: "POST" })).json();
      const assertion = authenticator.get(loginOptions, { tamperSignature });
      return c.request("/api/auth/passkeys/login", { json: { response: assertion } });
    }
    expect((await passkeyLogIn(false)).status).toBe(200);
    expect((await passkeyLogIn(true)).status).toBe(401);
    expectEventRow(await onlyEvent(id, "login.success"), {
      type: "login.success",
      userId: id,
      detail: { method: "passkey" },
    });
    expectEventRow(await onlyEvent(id, "login.failure"), {
      type: "login.failure",
      outcome: "failure",
      userId: id,
      detail: { reason: "passkey_failure", method: "passkey" },
    });

    const removed = await mine.request(`/api/auth/passkeys/${passkey.id}`, {
      method: "DELETE",
      json: { password: PASSWORD },
    });
    expect(removed.status).toBe(200);
    expectEventRow(await onlyEvent(id, "passkey.remove"), {
      type: "passkey.remove",
      userId: id,
      detail: { id: passkey.id },
    });
  });

  /** A sign-in at the provider as `login`, started and finished in `c`: the callback's response. */
  async function oauthFlow(c: Client, start: () => Promise<string>, login: string): Promise<Response> {
    const callbackUrl = new URL(await provider.authorize(await start(), login));
    for (const name of ["code", "state"]) secrets.add(callbackUrl.searchParams.get(name) as string);
    secrets.add(c.cookie(FLOW_COOKIE) as string);
    return c.request(`${callbackUrl.pathname}${callbackUrl.search}`);
  }

  const startSignIn = (c: Client) => async () => {
    const started = await c.request("/api/auth/oauth/oidc");
    expect(started.status).toBe(302);
    return started.headers.get("location") as string;
  };

  it("OAuth: a first sign-in is user.signup and login.success (method oauth, the provider); an address that has an account is oauth_failure", async () => {
    const login = uniqueEmail();
    provider.setAccount(login, { email: login, emailVerified: true, name: "Ada" });
    const c = client();
    expect(redirectTarget(await oauthFlow(c, startSignIn(c), login), app.url)).toBe("/dashboard");
    const user = (await (await c.request("/api/auth/session")).json()).user;
    expectEventRow(await onlyEvent(user.id, "user.signup"), {
      type: "user.signup",
      userId: user.id,
      userEmail: login,
      detail: { method: "oauth", provider: "oidc" },
    });
    expectEventRow(await onlyEvent(user.id, "login.success"), {
      type: "login.success",
      userId: user.id,
      detail: { method: "oauth", provider: "oidc" },
    });

    const { email: taken } = await signUp();
    const squatter = uniqueEmail();
    provider.setAccount(squatter, { email: taken, emailVerified: true });
    const other = client();
    const refused = await oauthFlow(other, startSignIn(other), squatter);
    expect(redirectTarget(refused, app.url)).toBe("/login?error=account_exists");
    const failures = await backend.rows(
      `SELECT * FROM gatehouse_audit WHERE type = 'login.failure' AND user_id IS NULL AND detail LIKE ${param(1)}`,
      ['%"account_exists"%'],
    );
    expect(failures.length).toBeGreaterThanOrEqual(1);
    expectEventRow(failures[failures.length - 1], {
      type: "login.failure",
      outcome: "failure",
      userId: null,
      userEmail: null,
      actor: { type: "system", id: null },
      detail: { reason: "oauth_failure", method: "oauth", provider: "oidc", failure: "account_exists" },
    });
  });

  it("OAuth: linking a provider from settings is oauth.link, unlinking it oauth.unlink", async () => {
    const { id, client: mine } = await signUp();
    const login = uniqueEmail();
    provider.setAccount(login, { email: login, emailVerified: true });
    const linked = await oauthFlow(
      mine,
      async () => {
        const started = await mine.request("/api/auth/oauth/oidc/link", { json: { password: PASSWORD } });
        expect(started.status).toBe(200);
        return (await started.json()).url;
      },
      login,
    );
    expect(redirectTarget(linked, app.url)).toBe("/settings?linked=oidc");
    expectEventRow(await onlyEvent(id, "oauth.link"), { type: "oauth.link", userId: id, detail: { provider: "oidc" } });
    const unlinked = await mine.request("/api/auth/identities/oidc", {
      method: "DELETE",
      json: { password: PASSWORD },
    });
    expect(unlinked.status).toBe(200);
    expectEventRow(await onlyEvent(id, "oauth.unlink"), {
      type: "oauth.unlink",
      userId: id,
      detail: { provider: "oidc" },
    });
    // Nothing linked any more: refused, and nothing recorded.
    expect(
      (await mine.request("/api/auth/identities/oidc", { method: "DELETE", json: { password: PASSWORD } })).status,
    ).toBe(404);
    expect(await eventsOf(id, "oauth.unlink")).toHaveLength(1);
  });

  it("account administration (gatehouse.users) records its changes, acted by the system: admin.factors.reset, role.change", async () => {
    const { id, email, client: mine } = await signUp();
    const { secret } = await (await mine.request("/api/auth/mfa/totp/setup", { json: { password: PASSWORD } })).json();
    secrets.add(secret);
    const code = totpCode(secret, app.startedAt);
    secrets.add(code);
    expect((await mine.request("/api/auth/mfa/totp/confirm", { json: { code } })).status).toBe(200);
    expect(await app.gatehouse.users.resetSecondFactors(email)).toMatchObject({ totp: true, recoveryCodes: 10 });
    const system = { type: "system", id: null };
    expectEventRow(await onlyEvent(id, "admin.factors.reset"), {
      type: "admin.factors.reset",
      userId: id,
      actor: system,
      ip: null,
      userAgent: null,
    });
    expect((await app.gatehouse.users.setRole(email, "admin"))?.role).toBe("admin");
    expectEventRow(await onlyEvent(id, "role.change"), {
      type: "role.change",
      userId: id,
      actor: system,
      ip: null,
      userAgent: null,
      detail: { from: "user", to: "admin" },
    });
    // Nothing left to remove, the same role again: no change, no event.
    await app.gatehouse.users.resetSecondFactors(email);
    await app.gatehouse.users.setRole(email, "admin");
    expect(await eventsOf(id, "admin.factors.reset")).toHaveLength(1);
    expect(await eventsOf(id, "role.change")).toHaveLength(1);
  });

  it("deleting one's account is user.delete, and the account's events outlive it", async () => {
    const { id, email, client: mine } = await signUp();
    const deleted = await mine.request("/api/auth/account", { method: "DELETE", json: { password: PASSWORD } });
    expect(deleted.status).toBe(200);
    expect(await backend.rows(`SELECT id FROM gatehouse_users WHERE id = ${param(1)}`, [id])).toEqual([]);
    expectEventRow(await onlyEvent(id, "user.delete"), { type: "user.delete", userId: id, userEmail: email });
    expect((await eventsOf(id)).map((row) => row.type)).toEqual(expect.arrayContaining(["user.signup", "user.delete"]));
  });

  it("what an administrator does while viewing the app as the user has the administrator as its actor; the password stays the user's", async () => {
    const { id, email } = await signUp();
    const { client: second } = await logIn(email);
    const { id: adminId } = await signUp();
    const user = await backend.store.getUserById(id);
    const cookie = await plantImpersonation(backend.store, user as NonNullable<typeof user>, adminId, app.startedAt);
    secrets.add(cookie).add(cookie.split(".")[1] as string);
    const support = client();
    const asAdmin = { headers: { Cookie: `${SESSION_COOKIE}=${cookie}` } };
    const admin = { type: "admin", id: adminId };

    const secondId = sessionIdOf(second);
    expect((await support.request(`/api/auth/sessions/${secondId}`, { method: "DELETE", ...asAdmin })).status).toBe(
      200,
    );
    expect((await support.request("/api/auth/sessions/revoke-others", { method: "POST", ...asAdmin })).status).toBe(
      200,
    );
    const forbidden = await support.request("/api/auth/password", {
      ...asAdmin,
      json: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
    });
    expect(forbidden.status).toBe(403);
    expect((await forbidden.json()).error.code).toBe("impersonation_forbidden");
    expect((await support.request("/api/auth/logout", { method: "POST", ...asAdmin })).status).toBe(200);

    const revokes = await eventsOf(id, "session.revoke");
    expect(revokes).toHaveLength(2);
    for (const row of revokes) expectEventRow(row, { type: "session.revoke", userId: id, actor: admin });
    expectEventRow(await onlyEvent(id, "logout"), { type: "logout", userId: id, actor: admin });
    expect(await eventsOf(id, "password.change")).toEqual([]);
  });

  it("no event row holds a password, code, token or cookie value used in this file", async () => {
    const rows = await backend.events();
    expect(rows.length).toBeGreaterThan(30);
    // The columns are all there: the scan reads whole rows, not a projection of them.
    expect(Object.keys(rows[0] as Row).sort()).toEqual([
      "actor_id",
      "actor_type",
      "at",
      "detail",
      "id",
      "ip",
      "outcome",
      "type",
      "user_agent",
      "user_email",
      "user_id",
    ]);
    expect(secrets.size).toBeGreaterThan(40);
    expectNoSecrets(rows, secrets);
    // And the client details are the request's, never made up.
    for (const row of rows) {
      expect([CLIENT_IP, null]).toContain(row.ip);
      expect([USER_AGENT, null]).toContain(row.user_agent);
    }
  });
});

/**
 * Impersonation ("view as user") over HTTP, as a browser holding every cookie sees it: the session is the
 * user's, marked with the administrator in `GET /api/auth/session`; it cannot change the password, the email,
 * a second factor or a linked provider; it ends 30 minutes after it starts, however it is used; and stopping it
 * puts the administrator's own session back. Start and stop are in the audit log.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { github } from "../src/core/oauth-providers.js";
import { type Account, type AdminBackend, accountOf, LAST_ADMIN_BACKENDS, ok, rawEvents } from "./support/admin.js";
import { PASSWORD } from "./support/credentials.js";
import {
  apiRequest,
  type Browser,
  createBrowser,
  expectError,
  SESSION_COOKIE,
  startServer,
  type TestServer,
  useTestServer,
} from "./support/http-server.js";
import { createRedisPrefix, REDIS_URL, requireService } from "./support/services.js";
import { rawSqliteTables } from "./support/temp-sqlite.js";

const redisAvailable = await requireService("redis");
const ASIDE_COOKIE = `${SESSION_COOKIE}-impersonator`;
const MINUTE = 60_000;

const SETUPS = (["database", "stateless"] as const).flatMap((strategy) => [
  { strategy, name: "SQLite sessions", redis: false },
  ...(redisAvailable ? [{ strategy, name: "Redis sessions", redis: true }] : []),
]);

describe.each(SETUPS)("impersonation ($strategy sessions, $name)", ({ strategy, redis }) => {
  const keys = createRedisPrefix();
  const app: TestServer = useTestServer(strategy, {
    providers: [github({ clientId: "gatehouse-test", clientSecret: "gatehouse-test-secret" })],
    ...(redis && { redis: { url: REDIS_URL, keyPrefix: keys.prefix } }),
  });
  afterAll(async () => {
    if (redis) await keys.drop();
  });
  let counter = 0;
  const email = (label: string) => `${label}${++counter}-${strategy}${redis ? "-redis" : ""}@example.com`;

  /** A browser signed in as a new admin, and a user of its console. */
  async function adminBrowser(): Promise<{
    browser: Browser;
    admin: { id: string; email: string };
    user: Account;
  }> {
    const admin = await app.gatehouse.users.create({ email: email("admin"), password: PASSWORD, role: "admin" });
    const user = await accountOf(app, email("user"));
    const browser = createBrowser(app);
    expect(
      (await browser.request("/api/auth/login", { json: { email: admin.email, password: PASSWORD } })).status,
    ).toBe(200);
    return { browser, admin, user };
  }

  /** The browser starts viewing the app as `userId`: the answer, which must be 200. */
  async function start(browser: Browser, userId: string): Promise<Response> {
    const response = await browser.request(`/api/admin/users/${userId}/impersonate`, {
      method: "POST",
      json: { password: PASSWORD },
    });
    expect(response.status, await response.clone().text()).toBe(200);
    return response;
  }

  async function session(browser: Browser): Promise<Record<string, unknown>> {
    const response = await browser.request("/api/auth/session");
    expect(response.status).toBe(200);
    return response.json();
  }

  it("gives the browser a session of the user, marked with the admin, and keeps the admin's own cookie aside", async () => {
    const { browser, admin, user } = await adminBrowser();
    const own = browser.cookie(SESSION_COOKIE) as string;
    const response = await start(browser, user.id);
    const body = await response.json();
    expect(body).toEqual({
      user: { id: user.id, email: user.email, name: null, role: "user", emailVerified: false },
      impersonatedBy: { id: admin.id, email: admin.email },
      expiresAt: new Date(app.startedAt + 30 * MINUTE).toISOString(),
    });
    const cookies = response.headers.getSetCookie();
    expect(cookies).toHaveLength(2);
    const [sessionLine, asideLine] = cookies as [string, string];
    expect(sessionLine).toMatch(new RegExp(`^${SESSION_COOKIE}=[^;]+; Max-Age=1800; Path=/; HttpOnly; SameSite=Lax$`));
    expect(asideLine).toMatch(new RegExp(`^${ASIDE_COOKIE}=[^;]+; Max-Age=\\d+; Path=/; HttpOnly; SameSite=Lax$`));
    expect(browser.cookie(ASIDE_COOKIE)).toBe(own);
    expect(browser.cookie(SESSION_COOKIE)).not.toBe(own);

    expect(await session(browser)).toMatchObject({
      user: { id: user.id, email: user.email },
      impersonatedBy: { id: admin.id, email: admin.email },
      session: { expiresAt: new Date(app.startedAt + 30 * MINUTE).toISOString() },
    });
    // The user's own session knows nothing of it.
    expect(
      (await (await apiRequest(app, "/api/auth/session", { cookie: user.cookie })).json()).impersonatedBy,
    ).toBeNull();
    expect(rawEvents(app.dbFile, "impersonation.start").filter((event) => event.user_id === user.id)).toEqual([
      expect.objectContaining({ actor_type: "admin", actor_id: admin.id, user_email: user.email }),
    ]);
    // Listed among the user's sessions, for admins, with who is viewing.
    const detail = await ok<{ sessions: Array<{ impersonatedBy: string | null }> }>(
      apiRequest(app, `/api/admin/users/${user.id}`, { cookie: own }),
    );
    const marks = detail.sessions.map((each) => each.impersonatedBy);
    expect(marks).toHaveLength(2);
    expect(marks).toEqual(expect.arrayContaining([admin.id, null]));
  });

  it("cannot change the password, the email, a second factor, a linked provider, or delete the account", async () => {
    const { browser, user } = await adminBrowser();
    await start(browser, user.id);
    const before = rawSqliteTables(app.dbFile);
    const changes: Array<[string, string, unknown]> = [
      ["POST", "/api/auth/password", { currentPassword: PASSWORD, newPassword: "an entirely new passphrase" }],
      ["POST", "/api/auth/email-change", { email: "elsewhere@example.com", password: PASSWORD }],
      ["POST", "/api/auth/mfa/totp/setup", { password: PASSWORD }],
      ["POST", "/api/auth/mfa/totp/disable", { password: PASSWORD }],
      ["POST", "/api/auth/mfa/recovery-codes", { password: PASSWORD }],
      ["POST", "/api/auth/passkeys/register/options", { password: PASSWORD }],
      ["DELETE", "/api/auth/passkeys/AAAAAAAAAAAAAAAA", { password: PASSWORD }],
      ["POST", "/api/auth/oauth/github/link", { password: PASSWORD }],
      ["DELETE", "/api/auth/identities/github", { password: PASSWORD }],
      ["DELETE", "/api/auth/account", { password: PASSWORD }],
      // Without the password too: a young session must not pass for a fresh sign-in.
      ["POST", "/api/auth/mfa/totp/setup", {}],
      ["DELETE", "/api/auth/account", {}],
    ];
    for (const [method, route, json] of changes) {
      const response = await browser.request(route, { method, json });
      expect(response.status, `${method} ${route}`).toBe(403);
      expect((await response.json()).error.code, `${method} ${route}`).toBe("impersonation_forbidden");
    }
    const after = rawSqliteTables(app.dbFile);
    expect({ users: after.users, sessions: after.sessions }).toEqual({
      users: before.users,
      sessions: before.sessions,
    });
  });

  it("ends 30 minutes after it starts: never slid forward, whatever the use", async () => {
    const { browser, user } = await adminBrowser();
    await start(browser, user.id);
    try {
      for (const minutes of [1, 10, 20, 29]) {
        app.setClock(app.startedAt + minutes * MINUTE);
        const response = await browser.request("/api/auth/session");
        const body = await response.json();
        expect(body.user?.id, `at +${minutes} min`).toBe(user.id);
        expect(body.session.expiresAt).toBe(new Date(app.startedAt + 30 * MINUTE).toISOString());
        expect(response.headers.getSetCookie().filter((line) => line.startsWith(`${SESSION_COOKIE}=`))).toEqual([]);
      }
      app.setClock(app.startedAt + 30 * MINUTE);
      expect((await session(browser)).user).toBeNull();
      await expectError(
        await browser.request("/api/auth/impersonation", { method: "DELETE", json: {} }),
        401,
        "unauthenticated",
      );
    } finally {
      app.setClock(app.startedAt);
    }
  });

  it("stops with DELETE /api/auth/impersonation, which puts the admin's own session back", async () => {
    const { browser, admin, user } = await adminBrowser();
    const own = browser.cookie(SESSION_COOKIE) as string;
    await start(browser, user.id);
    const impersonated = browser.cookie(SESSION_COOKIE) as string;
    const stopped = await browser.request("/api/auth/impersonation", { method: "DELETE", json: {} });
    expect(stopped.status).toBe(200);
    expect(await stopped.json()).toEqual({
      user: { id: admin.id, email: admin.email, name: null, role: "admin", emailVerified: false },
    });
    const cookies = stopped.headers.getSetCookie();
    expect(cookies.find((line) => line.startsWith(`${SESSION_COOKIE}=`))).toMatch(
      /Max-Age=[1-9]\d*; Path=\/; HttpOnly/,
    );
    expect(cookies.find((line) => line.startsWith(`${ASIDE_COOKIE}=`))).toMatch(/^[^=]+=; Max-Age=0;/);
    expect(browser.cookie(SESSION_COOKIE)).toBe(own);
    expect(browser.cookie(ASIDE_COOKIE)).toBeUndefined();
    expect(await session(browser)).toMatchObject({ user: { id: admin.id }, impersonatedBy: null });
    // The impersonated session is over, for whoever kept its cookie.
    expect((await (await apiRequest(app, "/api/auth/session", { cookie: impersonated })).json()).user).toBeNull();
    expect(rawEvents(app.dbFile, "impersonation.stop").filter((event) => event.user_id === user.id)).toEqual([
      expect.objectContaining({ actor_type: "admin", actor_id: admin.id }),
    ]);
    // The admin is back in the console.
    await ok(browser.request("/api/admin/users"));
  });

  it("stops without bringing back an admin session that ended meanwhile", async () => {
    const { browser, admin, user } = await adminBrowser();
    await start(browser, user.id);
    // Their session kept aside ends on its own (revoked from another of their browsers): the epoch stays.
    const [kept, ...others] = await app.gatehouse.listSessions(admin.id);
    expect(others).toEqual([]);
    expect(await app.gatehouse.revokeSession(admin.id, kept?.id as string)).toBe(true);
    const stopped = await browser.request("/api/auth/impersonation", { method: "DELETE", json: {} });
    expect(stopped.status).toBe(200);
    expect(await stopped.json()).toEqual({ user: null });
    expect(browser.cookie(SESSION_COOKIE)).toBeUndefined();
    expect(browser.cookie(ASIDE_COOKIE)).toBeUndefined();
  });

  it("ends with the admin's own sessions: once they are all ended, the impersonation is over too", async () => {
    const { browser, admin, user } = await adminBrowser();
    await start(browser, user.id);
    await app.gatehouse.revokeAllSessions(admin.id);
    expect((await session(browser)).user).toBeNull();
    await expectError(
      await browser.request("/api/auth/impersonation", { method: "DELETE", json: {} }),
      401,
      "unauthenticated",
    );
    // The user's own sessions are not the admin's: untouched.
    expect((await (await apiRequest(app, "/api/auth/session", { cookie: user.cookie })).json()).user?.id).toBe(user.id);
  });

  it("answers 404 not_found to DELETE /api/auth/impersonation from a session that is not one", async () => {
    const { browser } = await adminBrowser();
    await expectError(
      await browser.request("/api/auth/impersonation", { method: "DELETE", json: {} }),
      404,
      "not_found",
    );
    await expectError(
      await apiRequest(app, "/api/auth/impersonation", { method: "DELETE", json: {} }),
      401,
      "unauthenticated",
    );
    expect((await session(browser)).user).not.toBeNull();
  });

  it("signs out altogether at a log-out, the admin's own session kept aside included; recorded as the admin's, with the impersonation's stop", async () => {
    const { browser, admin, user } = await adminBrowser();
    const own = browser.cookie(SESSION_COOKIE) as string;
    await start(browser, user.id);
    expect((await browser.request("/api/auth/logout", { method: "POST", json: {} })).status).toBe(200);
    expect(rawEvents(app.dbFile, "logout").filter((event) => event.user_id === user.id)).toEqual([
      expect.objectContaining({ actor_type: "admin", actor_id: admin.id }),
    ]);
    expect(rawEvents(app.dbFile, "impersonation.stop").filter((event) => event.user_id === user.id)).toEqual([
      expect.objectContaining({ actor_type: "admin", actor_id: admin.id, detail: { reason: "logout" } }),
    ]);
    expect((await session(browser)).user).toBeNull();
    expect((await (await apiRequest(app, "/api/auth/session", { cookie: own })).json()).user).toBeNull();
  });

  it("answers 403 forbidden to impersonating an admin, or oneself, and starts no session", async () => {
    const { browser, admin } = await adminBrowser();
    const other = await accountOf(app, email("other-admin"), "admin");
    const sessionsBefore = rawSqliteTables(app.dbFile).sessions;
    for (const target of [other.id, admin.id]) {
      await expectError(
        await browser.request(`/api/admin/users/${target}/impersonate`, {
          method: "POST",
          json: { password: PASSWORD },
        }),
        403,
        "forbidden",
      );
    }
    expect(rawSqliteTables(app.dbFile).sessions).toEqual(sessionsBefore);
    expect(browser.cookie(ASIDE_COOKIE)).toBeUndefined();
  });

  it("needs the admin's password to start, like every admin write", async () => {
    const { browser, user } = await adminBrowser();
    await expectError(
      await browser.request(`/api/admin/users/${user.id}/impersonate`, { method: "POST", json: {} }),
      403,
      "reauthentication_required",
    );
    const wrong = await expectError(
      await browser.request(`/api/admin/users/${user.id}/impersonate`, {
        method: "POST",
        json: { password: "not the password" },
      }),
      400,
      "invalid_input",
    );
    expect(wrong.fields.password?.code).toBe("incorrect_password");
    expect(rawEvents(app.dbFile, "impersonation.start").filter((event) => event.user_id === user.id)).toEqual([]);
  });
});

describe.each(LAST_ADMIN_BACKENDS)(
  "impersonation against its admin's sign-out everywhere, at once ($name)",
  (backend) => {
    let opened: Awaited<ReturnType<AdminBackend["open"]>>;
    let app: TestServer;
    beforeAll(async () => {
      opened = await backend.open();
      app = await startServer("database", { store: opened.store });
    });
    afterAll(async () => {
      await app?.close();
      await opened?.close();
    });

    // The impersonation reads the admin's epoch before its session is written; an end of the admin's sessions
    // that lands in between must still end it. Each round starts the end a little later, to cross every step.
    it("never leaves an impersonation running once the admin's sessions have ended (10 rounds)", async () => {
      let started = 0;
      for (let round = 0; round < 10; round++) {
        const tag = `${backend.name.toLowerCase()}-${round}`;
        const admin = await app.gatehouse.users.create({
          email: `race-admin-${tag}@example.com`,
          password: PASSWORD,
          role: "admin",
        });
        const user = await accountOf(app, `race-user-${tag}@example.com`);
        const browser = createBrowser(app);
        const login = await browser.request("/api/auth/login", { json: { email: admin.email, password: PASSWORD } });
        expect(login.status).toBe(200);
        const [impersonation] = await Promise.all([
          browser.request(`/api/admin/users/${user.id}/impersonate`, { method: "POST", json: { password: PASSWORD } }),
          new Promise((resolve) => setTimeout(resolve, round * 3)).then(() =>
            app.gatehouse.revokeAllSessions(admin.id),
          ),
        ]);
        expect([200, 401], `round ${round}`).toContain(impersonation.status);
        if (impersonation.status === 200) started++;
        const answer = await (await browser.request("/api/auth/session")).json();
        expect(answer.user, `round ${round}: ${impersonation.status}`).toBeNull();
        // Nobody is left signed in as the admin either, and the user's own session is untouched.
        expect(await app.gatehouse.listSessions(admin.id)).toEqual([]);
        const own = await (await apiRequest(app, "/api/auth/session", { cookie: user.cookie })).json();
        expect(own.user?.id, `round ${round}`).toBe(user.id);
      }
      // Not a vacuous race: some impersonations started before the end reached them.
      expect(started).toBeGreaterThan(0);
    });
  },
);

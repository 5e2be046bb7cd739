import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOutboxMailer } from "../src/mail/outbox.js";
import { createMysqlStore } from "../src/stores/mysql.js";
import { createPostgresStore } from "../src/stores/postgres.js";
import type { Store } from "../src/stores/types.js";
import {
  type Account,
  type AdminBackend,
  accountOf,
  adminRequest,
  LAST_ADMIN_BACKENDS,
  ok,
  rawEvents,
  rawUser,
} from "./support/admin.js";
import { PASSWORD, TEST_SECRET } from "./support/credentials.js";
import {
  apiRequest,
  type Browser,
  createBrowser,
  expectError,
  rawRequest,
  SESSION_COOKIE,
  sessionCookieHeader,
  sessionCookieOf,
  startServer,
  type TestServer,
  useTestServer,
} from "./support/http-server.js";
import {
  createMysqlDatabase,
  createPostgresDatabase,
  createRedisPrefix,
  REDIS_URL,
  requireService,
} from "./support/services.js";
import { openTempSqliteStore, querySqliteFile, rawSqliteTables } from "./support/temp-sqlite.js";
import { mfaClient, STEP_MS, totpCode } from "./support/totp.js";

const redisAvailable = await requireService("redis");
const postgresAvailable = await requireService("postgres");
const mysqlAvailable = await requireService("mysql");

const ASIDE_COOKIE = `${SESSION_COOKIE}-impersonator`;
const MINUTE = 60_000;
const EVIL_ORIGIN = "https://evil.example";

/** The user a session cookie value is answered for by `GET /api/auth/session`, or `null`. */
async function sessionUser(app: TestServer, cookie: string): Promise<{ id: string; role: string } | null> {
  const response = await apiRequest(app, "/api/auth/session", { cookie });
  expect(response.status).toBe(200);
  return (await response.json()).user;
}

/** What `GET /api/auth/session` answers a browser. */
async function whoAmI(browser: Browser): Promise<{ user: { id: string } | null; impersonatedBy: unknown }> {
  const response = await browser.request("/api/auth/session");
  expect(response.status).toBe(200);
  return response.json();
}

/** A browser signed in with the password of a new account of `role`. */
async function signedInBrowser(app: TestServer, email: string, role = "admin") {
  const account = await app.gatehouse.users.create({ email, password: PASSWORD, role });
  const browser = createBrowser(app);
  const response = await browser.request("/api/auth/login", { json: { email, password: PASSWORD } });
  expect(response.status).toBe(200);
  return { browser, account };
}

/** The browser starts viewing the app as `userId`; the answer must be 200. */
async function impersonate(browser: Browser, userId: string): Promise<void> {
  const response = await browser.request(`/api/admin/users/${userId}/impersonate`, {
    method: "POST",
    json: { password: PASSWORD },
  });
  expect(response.status, await response.text()).toBe(200);
}

const SESSION_SETUPS = (["database", "stateless"] as const).flatMap((strategy) => [
  { strategy, name: "SQLite sessions", redis: false },
  ...(redisAvailable ? [{ strategy, name: "Redis sessions", redis: true }] : []),
]);

describe.each(SESSION_SETUPS)("attacking impersonation ($strategy sessions, $name)", ({ strategy, redis }) => {
  const keys = createRedisPrefix();
  const app = useTestServer(strategy, redis ? { redis: { url: REDIS_URL, keyPrefix: keys.prefix } } : {});
  afterAll(async () => {
    if (redis) await keys.drop();
  });
  let counter = 0;
  const email = (label: string) => `${label}${++counter}-${strategy}${redis ? "-redis" : ""}@example.com`;

  /** An admin's browser viewing the app as a new user, a second admin, and the user. */
  async function impersonating() {
    const { browser, account: admin } = await signedInBrowser(app, email("imp-admin"));
    const other = await accountOf(app, email("other-admin"), "admin");
    const user = await accountOf(app, email("imp-user"));
    const own = browser.cookie(SESSION_COOKIE) as string;
    await impersonate(browser, user.id);
    expect((await whoAmI(browser)).user?.id).toBe(user.id);
    return { browser, admin, other, user, own, impersonated: browser.cookie(SESSION_COOKIE) as string };
  }

  // Bug (fixed, session/manager.ts): an impersonation outlived its administrator's ban. The ban ended the
  // admin's own sessions, but the impersonated session is the user's, so the banned admin kept acting as the
  // user for up to 30 minutes.
  it("ends an impersonation at its next request once its administrator is banned", async () => {
    const { browser, admin, other, user, impersonated } = await impersonating();
    await ok(
      adminRequest(app, "PATCH", `/users/${admin.id}`, {
        cookie: other.cookie,
        json: { password: PASSWORD, banned: true },
      }),
    );
    expect(await sessionUser(app, impersonated)).toBeNull();
    expect((await whoAmI(browser)).user).toBeNull();
    // Nor may it act as the user in a write.
    const write = await apiRequest(app, "/api/auth/sessions/revoke-others", { cookie: impersonated, json: {} });
    expect(write.status).toBe(401);
    // The user's own session is untouched.
    expect((await sessionUser(app, user.cookie))?.id).toBe(user.id);
    const listed = await ok<{ sessions: unknown[] }>(
      adminRequest(app, "GET", `/users/${user.id}`, { cookie: other.cookie }),
    );
    expect(listed.sessions).toHaveLength(1);
  });

  // Same bug as above, for a deleted administrator.
  it("ends an impersonation once its administrator's account is deleted", async () => {
    const { browser, admin, other, impersonated } = await impersonating();
    await ok(adminRequest(app, "DELETE", `/users/${admin.id}`, { cookie: other.cookie, json: { password: PASSWORD } }));
    expect(await sessionUser(app, impersonated)).toBeNull();
    expect((await whoAmI(browser)).user).toBeNull();
  });

  // Same bug as above, for a demoted administrator (fixed, session/manager.ts and session/store.ts: the role an
  // impersonator must keep is the session layer's IMPERSONATOR_ROLE, which ADMIN_ROLE now is).
  it("ends an impersonation once its administrator is demoted", async () => {
    const { other, admin, impersonated } = await impersonating();
    await ok(
      adminRequest(app, "PATCH", `/users/${admin.id}`, {
        cookie: other.cookie,
        json: { password: PASSWORD, role: "user" },
      }),
    );
    expect(await sessionUser(app, impersonated)).toBeNull();
  });

  // Bug (fixed, session/manager.ts): an administrator who signed out everywhere (or whose password was changed
  // or reset: someone else had their session) left the impersonations they started running, for up to 30
  // minutes. The impersonated session is the user's, in the user's epoch; it now keeps the administrator's
  // epoch of when it began (impersonator_epoch), and is refused once theirs moves on.
  it("ends an impersonation once its administrator's sessions are all ended", async () => {
    const { admin, impersonated } = await impersonating();
    await app.gatehouse.revokeAllSessions(admin.id);
    expect(await sessionUser(app, impersonated)).toBeNull();
  });

  it("ends an impersonation once its administrator's password is changed from another browser", async () => {
    const { browser, admin, impersonated } = await impersonating();
    const elsewhere = createBrowser(app);
    const login = await elsewhere.request("/api/auth/login", { json: { email: admin.email, password: PASSWORD } });
    expect(login.status).toBe(200);
    const changed = await elsewhere.request("/api/auth/password", {
      json: { currentPassword: PASSWORD, newPassword: "an entirely new passphrase 42" },
    });
    expect(changed.status).toBe(200);
    // The browser that changed it stays signed in as the administrator.
    expect((await whoAmI(elsewhere)).user?.id).toBe(admin.id);
    expect(await sessionUser(app, impersonated)).toBeNull();
    expect((await whoAmI(browser)).user).toBeNull();
  });

  // Bug (fixed, http/routes/admin.ts): an admin whose session the impersonate request itself rotated (their
  // privileges changed since it was issued: a promotion) had the old, deleted cookie kept aside, and the new one
  // thrown away: stopping signed them out, and the rotated session lived on with no browser holding it.
  it("keeps aside the admin's session as the request rotated it, and stopping brings that one back", async () => {
    const { browser, account: admin } = await signedInBrowser(app, email("rotated-admin"));
    const user = await accountOf(app, email("rotated-user"));
    await app.store.bumpSessionVersion(admin.id);
    await impersonate(browser, user.id);
    const stopped = await browser.request("/api/auth/impersonation", { method: "DELETE", json: {} });
    expect(stopped.status).toBe(200);
    expect((await stopped.json()).user?.id).toBe(admin.id);
    expect((await whoAmI(browser)).user?.id).toBe(admin.id);
    await ok(browser.request("/api/admin/users"));
    // One live session of the admin's: the one the browser holds.
    const detail = await ok<{ sessions: unknown[] }>(browser.request(`/api/admin/users/${admin.id}`));
    expect(detail.sessions).toHaveLength(1);
  });

  it("never stops into a session other than the administrator's own, whatever the kept-aside cookie holds", async () => {
    const otherUser = await accountOf(app, email("bystander"));
    const forgeries = (other: Account, user: Account) => [
      ["another admin's session", other.cookie],
      ["the impersonated user's own session", user.cookie],
      ["a bystander's session", otherUser.cookie],
      ["garbage", "not-a-session"],
      ["an oversized value", "a".repeat(5000)],
      [
        "a value of the other strategy",
        strategy === "database" ? "v1.AAAA.BBBB" : `${"A".repeat(16)}.${"B".repeat(32)}`,
      ],
    ];
    for (let i = 0; i < 6; i++) {
      const { browser, other, user } = await impersonating();
      const [label, value] = forgeries(other, user)[i] as [string, string];
      browser.setCookie(ASIDE_COOKIE, value);
      const stopped = await browser.request("/api/auth/impersonation", { method: "DELETE", json: {} });
      expect(stopped.status, label).toBe(200);
      expect(await stopped.json(), label).toEqual({ user: null });
      expect(browser.cookie(SESSION_COOKIE), label).toBeUndefined();
      expect(browser.cookie(ASIDE_COOKIE), label).toBeUndefined();
      // Whoever's session was planted is still signed in, as themselves.
      expect((await sessionUser(app, other.cookie))?.id, label).toBe(other.id);
      expect((await sessionUser(app, user.cookie))?.id, label).toBe(user.id);
    }
  });

  it("gives an impersonated session no way into admin powers, its administrator's password and cookie or not", async () => {
    const { browser, other, user } = await impersonating();
    for (const target of [other.id, user.id]) {
      await expectError(
        await browser.request(`/api/admin/users/${target}/impersonate`, {
          method: "POST",
          json: { password: PASSWORD },
        }),
        403,
        "impersonation_forbidden",
      );
    }
    // The kept-aside cookie is no session of its own: sent alone, it signs nobody in.
    const aside = browser.cookie(ASIDE_COOKIE) as string;
    const alone = await apiRequest(app, "/api/admin/users", { headers: { Cookie: `${ASIDE_COOKIE}=${aside}` } });
    expect(alone.status).toBe(401);
    // A user promoted while being viewed stays out of reach of the admin API in the impersonated session.
    await ok(
      adminRequest(app, "PATCH", `/users/${user.id}`, {
        cookie: other.cookie,
        json: { password: PASSWORD, role: "admin" },
      }),
    );
    // (Its session is rotated by that request: the refusal carries the new cookie.)
    const refused = await browser.request("/api/admin/users");
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.code).toBe("impersonation_forbidden");
  });

  it("keeps the 30-minute cap through a rotation of the impersonated session", async () => {
    const { browser, user } = await impersonating();
    try {
      app.setClock(app.startedAt + 20 * MINUTE);
      await app.store.bumpSessionVersion(user.id);
      const before = browser.cookie(SESSION_COOKIE);
      const rotated = await browser.request("/api/auth/session");
      const body = await rotated.json();
      expect(body.user?.id).toBe(user.id);
      expect(browser.cookie(SESSION_COOKIE)).not.toBe(before);
      expect(body.impersonatedBy).not.toBeNull();
      expect(body.session.expiresAt).toBe(new Date(app.startedAt + 30 * MINUTE).toISOString());
      app.setClock(app.startedAt + 29 * MINUTE);
      expect((await whoAmI(browser)).user?.id).toBe(user.id);
      app.setClock(app.startedAt + 30 * MINUTE);
      expect((await whoAmI(browser)).user).toBeNull();
    } finally {
      app.setClock(app.startedAt);
    }
  });

  it("ends with the user's own 'sign out other sessions', leaving the admin's kept session as it was", async () => {
    const { browser, admin, user, own, impersonated } = await impersonating();
    await ok(apiRequest(app, "/api/auth/sessions/revoke-others", { cookie: user.cookie, json: {} }));
    expect(await sessionUser(app, impersonated)).toBeNull();
    expect((await whoAmI(browser)).user).toBeNull();
    expect((await sessionUser(app, own))?.id).toBe(admin.id);
  });
});

describe("attacking the admin API as a plain user", () => {
  const app = useTestServer("database");

  it("gives a user no way to make themselves an admin", async () => {
    const user = await accountOf(app, "climber@example.com");
    const profile = await apiRequest(app, "/api/profile", {
      method: "PATCH",
      cookie: user.cookie,
      json: { name: "Climber", role: "admin" },
    });
    expect(profile.status).toBe(200);
    const signup = await apiRequest(app, "/api/auth/signup", {
      json: { email: "signup-climber@example.com", password: PASSWORD, role: "admin" },
    });
    expect(signup.status).toBe(201);
    for (const [method, route, json] of [
      ["PATCH", `/users/${user.id}`, { password: PASSWORD, role: "admin" }],
      ["POST", `/users/${user.id}/impersonate`, { password: PASSWORD }],
      ["DELETE", `/users/${user.id}/sessions`, { password: PASSWORD }],
    ] as const) {
      await expectError(await adminRequest(app, method, route, { cookie: user.cookie, json }), 403, "forbidden");
    }
    expect(rawUser(app.dbFile, user.id)?.role).toBe("user");
    expect(
      querySqliteFile(app.dbFile, (db) => db.prepare("SELECT role FROM gatehouse_users WHERE role = 'admin'").all()),
    ).toEqual([]);
  });

  it("answers an admin 400 to every role that is not one of the configured ones, changing nothing", async () => {
    const admin = await accountOf(app, "roles-admin@example.com", "admin");
    const user = await accountOf(app, "roles-user@example.com");
    const before = rawSqliteTables(app.dbFile).users;
    const roles: unknown[] = [
      "__proto__",
      "constructor",
      "toString",
      "hasOwnProperty",
      "ADMIN",
      "Admin",
      " admin",
      "admin ",
      "admin\u0000",
      "ａｄｍｉｎ",
      "",
      ["admin"],
      { admin: true },
      null,
      1,
      true,
    ];
    for (const role of roles) {
      const response = await adminRequest(app, "PATCH", `/users/${user.id}`, {
        cookie: admin.cookie,
        json: { password: PASSWORD, role },
      });
      expect(response.status, JSON.stringify(role)).toBe(400);
      expect((await response.json()).error.code, JSON.stringify(role)).toBe("invalid_input");
    }
    // A role hidden in the prototype of the body is no role at all.
    for (const text of [
      `{"password":"${PASSWORD}","__proto__":{"role":"admin"}}`,
      `{"password":"${PASSWORD}","constructor":{"prototype":{"role":"admin"}}}`,
    ]) {
      const response = await apiRequest(app, `/api/admin/users/${user.id}`, {
        method: "PATCH",
        cookie: admin.cookie,
        body: text,
        headers: { "Content-Type": "application/json" },
      });
      expect(response.status, text).toBe(400);
    }
    expect(rawSqliteTables(app.dbFile).users).toEqual(before);
    expect(({} as Record<string, unknown>).role).toBeUndefined();
  });
});

describe("fresh authentication of admin writes", () => {
  const app = useTestServer("database");

  it("counts a password of any other type as a wrong one: 400 fields.password, never a 5xx or a pass", async () => {
    const user = await accountOf(app, "typed-user@example.com");
    const values: unknown[] = [null, 0, 1, true, false, [], [PASSWORD], {}, { toString: PASSWORD }, "", " "];
    // Two admins: the (account, address) budget is 10 failures, and this is more.
    for (const [index, chunk] of [values.slice(0, 6), values.slice(6)].entries()) {
      const admin = await accountOf(app, `typed-admin${index}@example.com`, "admin");
      const before = rawSqliteTables(app.dbFile).users;
      for (const password of chunk) {
        const response = await adminRequest(app, "PATCH", `/users/${user.id}`, {
          cookie: admin.cookie,
          json: { password, banned: true },
        });
        expect(response.status, JSON.stringify(password)).toBe(400);
        expect((await response.json()).error.fields?.password?.code, JSON.stringify(password)).toBe(
          "incorrect_password",
        );
      }
      expect(rawSqliteTables(app.dbFile).users).toEqual(before);
    }
  });

  it("asks an admin without a password (an OAuth sign-up) to sign in again once the session is old", async () => {
    const id = `oauthadmin${Date.now().toString(36)}`;
    await app.store.createUser({ id, email: "oauth-admin@example.com", name: null, role: "admin", passwordHash: null });
    const started = await app.gatehouse.startSession(id);
    const line = started?.setCookie ?? "";
    const cookie = line.slice(SESSION_COOKIE.length + 1, line.indexOf(";"));
    const user = await accountOf(app, "oauth-target@example.com");
    await ok(adminRequest(app, "DELETE", `/users/${user.id}/sessions`, { cookie, json: {} }));
    try {
      app.setClock(app.startedAt + 601_000);
      // A rotation keeps the session's creation time: it does not make the session fresh again.
      await app.store.bumpSessionVersion(id);
      const rotated = await apiRequest(app, "/api/auth/session", { cookie });
      const renewed = sessionCookieOf(rotated) as string;
      expect(renewed).toBeTruthy();
      for (const json of [{}, { password: "anything at all" }, { password: PASSWORD }, { password: null }]) {
        await expectError(
          await adminRequest(app, "DELETE", `/users/${user.id}/sessions`, { cookie: renewed, json }),
          403,
          "reauthentication_required",
        );
      }
    } finally {
      app.setClock(app.startedAt);
    }
  });

  it("limits guessing the admin's password through admin writes as a log-in would: 429, the right one included", async () => {
    const admin = await accountOf(app, "guessed-admin@example.com", "admin");
    const user = await accountOf(app, "guessed-target@example.com");
    for (let i = 0; i < 10; i++) {
      const response = await adminRequest(app, "PATCH", `/users/${user.id}`, {
        cookie: admin.cookie,
        json: { password: `guess number ${i}`, banned: true },
      });
      expect(response.status).toBe(400);
    }
    await expectError(
      await adminRequest(app, "PATCH", `/users/${user.id}`, {
        cookie: admin.cookie,
        json: { password: PASSWORD, banned: true },
      }),
      429,
      "rate_limited",
    );
    expect(rawUser(app.dbFile, user.id)?.banned_at).toBeNull();
    // One budget: the guesses through the console count against the admin's log-in from that address too.
    const login = await apiRequest(app, "/api/auth/login", { json: { email: admin.email, password: PASSWORD } });
    expect(login.status).toBe(429);
  });
});

/**
 * The store, with a hold on the next call of `method`: `hold(method)` resolves when that call is made, and the
 * call goes on only once `release()` is called. For putting a change between two steps of one request.
 */
function holdingStore(store: Store) {
  let held: { method: string; reached(): void; gate: Promise<void> } | null = null;
  let release: () => void = () => undefined;
  const wrapped = new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        const hold = held;
        if (hold && hold.method === name) {
          held = null;
          hold.reached();
          await hold.gate;
        }
        return value.apply(target, args);
      };
    },
  });
  return {
    store: wrapped as Store,
    hold(method: keyof Store): Promise<void> {
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      return new Promise((reached) => {
        held = { method, reached, gate };
      });
    },
    release: () => release(),
  };
}

describe("an admin write that races its own admin's end", () => {
  const sqlite = openTempSqliteStore();
  const held = holdingStore(sqlite.store);
  beforeAll(() => sqlite.store.migrate());
  afterAll(() => sqlite.close());
  const app = useTestServer("database", { store: held.store });

  // Bug (fixed, core/admin.ts): an admin write checked the role and the session before the password's hash,
  // then wrote after it. An admin banned (or demoted, or signed out everywhere) while their password was being
  // checked still had the write made: the role and the session are read again once the password is right.
  for (const [label, end] of [
    ["banned", (store: Store, id: string) => store.endSessions(id, { update: { bannedAt: new Date() } })],
    ["demoted", (store: Store, id: string) => store.updateUser(id, { role: "user" })],
  ] as const) {
    it(`makes no write for an admin ${label} while their password was being checked`, async () => {
      const admin = await accountOf(app, `racing-${label}-admin@example.com`, "admin");
      await accountOf(app, `racing-${label}-other@example.com`, "admin");
      const user = await accountOf(app, `racing-${label}-user@example.com`);
      // The settling of the password check's counters: after the hash, before the write.
      const reached = held.hold("settleAttempts");
      const write = adminRequest(app, "PATCH", `/users/${user.id}`, {
        cookie: admin.cookie,
        json: { password: PASSWORD, banned: true },
      });
      await reached;
      await end(sqlite.store, admin.id);
      held.release();
      const response = await write;
      expect([401, 403]).toContain(response.status);
      expect(rawUser(sqlite.dbFile, user.id)?.banned_at).toBeNull();
      expect(rawEvents(sqlite.dbFile, "user.ban").filter((event) => event.user_id === user.id)).toEqual([]);
    });
  }

  it("starts no impersonation of a user promoted to admin while the admin's password was being checked", async () => {
    const admin = await accountOf(app, "racing-imp-admin@example.com", "admin");
    const user = await accountOf(app, "racing-imp-user@example.com");
    const reached = held.hold("settleAttempts");
    const started = adminRequest(app, "POST", `/users/${user.id}/impersonate`, {
      cookie: admin.cookie,
      json: { password: PASSWORD },
    });
    await reached;
    await sqlite.store.updateUser(user.id, { role: "admin" });
    held.release();
    await expectError(await started, 403, "forbidden");
    expect(rawEvents(sqlite.dbFile, "impersonation.start").filter((event) => event.user_id === user.id)).toEqual([]);
  });
});

describe("a ban against a log-in under way, and a reset", () => {
  const sqlite = openTempSqliteStore();
  beforeAll(() => sqlite.store.migrate());
  afterAll(() => sqlite.close());
  const app = useTestServer("database", { store: sqlite.store, email: { mailer: createOutboxMailer(sqlite.store) } });

  it("refuses the second step of a log-in whose account was banned after its password step", async () => {
    const admin = await accountOf(app, "step-admin@example.com", "admin");
    const mfa = mfaClient(app);
    const user = await mfa.totpUser("step-user@example.com", app.startedAt);
    const pending = await mfa.pendingLogIn(user.email);
    await ok(
      adminRequest(app, "PATCH", `/users/${user.id}`, {
        cookie: admin.cookie,
        json: { password: PASSWORD, banned: true },
      }),
    );
    try {
      app.setClock(app.startedAt + STEP_MS);
      const verified = await mfa.verify(pending, { code: totpCode(user.secret, app.startedAt + STEP_MS) });
      // The ban moved the account's revocation epoch, which voids the pending log-in (401) before its code
      // would be told it is banned (403): either way, no session.
      expect([401, 403]).toContain(verified.status);
      expect(sessionCookieOf(verified) ?? "").toBe("");
    } finally {
      app.setClock(app.startedAt);
    }
    expect(rawSqliteTables(sqlite.dbFile).sessions.filter((session) => session.user_id === user.id)).toEqual([]);
  });

  it("lets a banned user reset their password, which signs nobody in, and still refuses their log-in", async () => {
    const admin = await accountOf(app, "reset-ban-admin@example.com", "admin");
    const user = await accountOf(app, "reset-ban-user@example.com");
    await ok(
      adminRequest(app, "PATCH", `/users/${user.id}`, {
        cookie: admin.cookie,
        json: { password: PASSWORD, banned: true },
      }),
    );
    // Sent by the admin (an admin may mail a banned user a link): the ban voided none that came after it.
    await ok(
      adminRequest(app, "POST", `/users/${user.id}/password-reset`, {
        cookie: admin.cookie,
        json: { password: PASSWORD },
      }),
    );
    await expect.poll(async () => (await app.gatehouse.outboxMessages(50)).some((m) => m.to === user.email)).toBe(true);
    const message = (await app.gatehouse.outboxMessages(50)).find((m) => m.to === user.email);
    const token = /[?&]token=([A-Za-z0-9_-]{32})/.exec(message?.text ?? "")?.[1] as string;
    const newPassword = "a brand new passphrase for a banned user";
    const confirmed = await apiRequest(app, "/api/auth/password-reset/confirm", {
      json: { token, password: newPassword },
    });
    expect(confirmed.status).toBe(200);
    expect(sessionCookieOf(confirmed) ?? "").toBe("");
    const login = await apiRequest(app, "/api/auth/login", { json: { email: user.email, password: newPassword } });
    expect(login.status).toBe(403);
    expect((await login.json()).error.code).toBe("banned");
    expect(sessionCookieOf(login) ?? "").toBe("");
  });
});

/**
 * The store, whose next calls of any of `methods` are held until `count` of them have been made, then let go
 * together: two different writes (a ban and a deletion, say) meet at the database.
 */
function meetingStore(store: Store) {
  let armed: { methods: readonly string[]; count: number; arrived: number; open(): void; gate: Promise<void> } | null =
    null;
  const wrapped = new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        const barrier = armed;
        if (barrier?.methods.includes(name as string) && barrier.arrived < barrier.count) {
          barrier.arrived += 1;
          if (barrier.arrived === barrier.count) {
            armed = null;
            barrier.open();
          }
          await barrier.gate;
        }
        return value.apply(target, args);
      };
    },
  });
  return {
    store: wrapped as Store,
    arm(methods: readonly (keyof Store)[], count: number): Promise<void> {
      let open!: () => void;
      const gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      armed = { methods, count, arrived: 0, open, gate };
      return gate;
    },
  };
}

describe.each(LAST_ADMIN_BACKENDS)("attacking the last-admin rule ($name)", (backend) => {
  let opened: Awaited<ReturnType<AdminBackend["open"]>>;
  let met: ReturnType<typeof meetingStore>;
  let app: TestServer;
  let counter = 0;
  const email = (label: string) => `${label}${++counter}-last-${backend.name.toLowerCase()}@example.com`;

  beforeAll(async () => {
    opened = await backend.open();
    met = meetingStore(opened.store);
    app = await startServer("database", { store: met.store });
  });
  afterAll(async () => {
    await app?.close();
    await opened?.close();
  });

  /** `count` new admins, and no other unbanned one (earlier tests' admins demoted through the store). */
  async function onlyAdmins(count: number): Promise<Account[]> {
    for (const { id } of await opened.admins()) await opened.store.updateUser(id, { role: "user" });
    const admins: Account[] = [];
    for (let i = 0; i < count; i++) admins.push(await accountOf(app, email("admin"), "admin"));
    return admins;
  }

  const liveAdmins = async () => (await opened.admins()).filter((admin) => !admin.banned);

  const ban = (actor: Account, target: Account) =>
    adminRequest(app, "PATCH", `/users/${target.id}`, {
      cookie: actor.cookie,
      json: { password: PASSWORD, banned: true },
    });
  const demote = (actor: Account, target: Account) =>
    adminRequest(app, "PATCH", `/users/${target.id}`, {
      cookie: actor.cookie,
      json: { password: PASSWORD, role: "user" },
    });
  const remove = (actor: Account, target: Account) =>
    adminRequest(app, "DELETE", `/users/${target.id}`, { cookie: actor.cookie, json: { password: PASSWORD } });

  for (const [label, first, second, methods] of [
    ["bans the other while the other deletes them", ban, remove, ["endSessions", "deleteUser"]],
    ["demotes the other while the other bans them", demote, ban, ["updateUser", "endSessions"]],
    ["deletes the other while the other demotes them", remove, demote, ["deleteUser", "updateUser"]],
  ] as const) {
    it(`keeps one admin when each of two ${label}, at the same moment`, async () => {
      for (let round = 0; round < 3; round++) {
        const [a, b] = (await onlyAdmins(2)) as [Account, Account];
        const meeting = met.arm(methods, 2);
        const answers = await Promise.all([first(a, b), second(b, a)]);
        await meeting;
        const statuses = answers.map((answer) => answer.status).sort();
        expect(statuses, `round ${round}`).toEqual([200, 409]);
        expect(await liveAdmins(), `round ${round}`).toHaveLength(1);
      }
    });
  }

  // DELETE /api/auth/account once deleted the last admin's account without the last-admin rule.
  it("keeps the last admin from deleting their own account through DELETE /api/auth/account", async () => {
    const [admin] = (await onlyAdmins(1)) as [Account];
    await expectError(
      await apiRequest(app, "/api/auth/account", {
        method: "DELETE",
        cookie: admin.cookie,
        json: { password: PASSWORD },
      }),
      409,
      "last_admin",
    );
    expect(await liveAdmins()).toHaveLength(1);
  });

  it("counts neither a banned admin nor a deleted one; and the last one can neither leave nor ban itself", async () => {
    const [a, b] = (await onlyAdmins(2)) as [Account, Account];
    await ok(ban(a, b));
    await expectError(await demote(a, a), 409, "last_admin");
    await expectError(await remove(a, a), 409, "last_admin");
    await expectError(await ban(a, a), 409, "cannot_ban_self");
    // Lifting the ban brings the second admin back: then either may step down.
    await ok(
      adminRequest(app, "PATCH", `/users/${b.id}`, { cookie: a.cookie, json: { password: PASSWORD, banned: false } }),
    );
    await ok(demote(a, a));
    expect((await liveAdmins()).map((admin) => admin.id)).toEqual([b.id]);
  });
});

describe("cross-site requests to the admin and impersonation routes", () => {
  const app = useTestServer("database");

  it("answers 403 or 415 to a cross-site start, stop or ban, and changes nothing", async () => {
    const { browser } = await signedInBrowser(app, "csrf-admin@example.com");
    const user = await accountOf(app, "csrf-user@example.com");
    const adminCookie = browser.cookie(SESSION_COOKIE) as string;
    const before = rawSqliteTables(app.dbFile);
    const variants: Array<[string, Record<string, string>, string]> = [
      [
        "evil Origin",
        { Origin: EVIL_ORIGIN, "Content-Type": "application/json" },
        JSON.stringify({ password: PASSWORD }),
      ],
      ["Origin null", { Origin: "null", "Content-Type": "application/json" }, JSON.stringify({ password: PASSWORD })],
      ["no Origin", { "Content-Type": "application/json" }, JSON.stringify({ password: PASSWORD })],
      [
        "cross-site fetch",
        { "Sec-Fetch-Site": "cross-site", "Content-Type": "application/json" },
        JSON.stringify({ password: PASSWORD }),
      ],
      ["text/plain", { Origin: app.origin, "Content-Type": "text/plain" }, JSON.stringify({ password: PASSWORD })],
      [
        "a form",
        { Origin: app.origin, "Content-Type": "application/x-www-form-urlencoded" },
        `password=${encodeURIComponent(PASSWORD)}`,
      ],
    ];
    for (const [label, headers, body] of variants) {
      for (const [method, path] of [
        ["POST", `/api/admin/users/${user.id}/impersonate`],
        ["PATCH", `/api/admin/users/${user.id}`],
        ["DELETE", `/api/admin/users/${user.id}`],
        ["DELETE", "/api/auth/impersonation"],
      ] as const) {
        const response = await rawRequest(app, {
          method,
          path,
          headers: { ...headers, Cookie: sessionCookieHeader(adminCookie) },
          body: method === "PATCH" ? body.replace("}", ',"banned":true}') : body,
        });
        expect([403, 415], `${label}: ${method} ${path} → ${response.status} ${response.body}`).toContain(
          response.status,
        );
        expect(response.headers["set-cookie"] ?? [], label).toEqual([]);
      }
    }
    const after = rawSqliteTables(app.dbFile);
    expect({ users: after.users, sessions: after.sessions }).toEqual({
      users: before.users,
      sessions: before.sessions,
    });
  });
});

describe("what the admin API tells an admin", () => {
  const sqlite = openTempSqliteStore();
  beforeAll(() => sqlite.store.migrate());
  afterAll(() => sqlite.close());
  const app = useTestServer("database", { store: sqlite.store, email: { mailer: createOutboxMailer(sqlite.store) } });

  it("never includes a password, hash, token, secret, cookie, code or mail body", async () => {
    const admin = await accountOf(app, "leak-admin@example.com", "admin");
    const mfa = mfaClient(app);
    const totp = await mfa.totpUser("leak-user@example.com", app.startedAt);
    await ok(
      adminRequest(app, "POST", `/users/${totp.id}/password-reset`, {
        cookie: admin.cookie,
        json: { password: PASSWORD },
      }),
    );
    await expect.poll(async () => (await app.gatehouse.outboxMessages(20)).some((m) => m.to === totp.email)).toBe(true);
    const reset = (await app.gatehouse.outboxMessages(20)).find((m) => m.to === totp.email);
    const resetToken = /[?&]token=([A-Za-z0-9_-]{32})/.exec(reset?.text ?? "")?.[1] as string;
    expect(resetToken).toBeTruthy();

    // Every secret the database holds of the account, and the secrets the test itself knows.
    const stored = querySqliteFile(sqlite.dbFile, (db) => {
      const column = (query: string) =>
        (db.prepare(query).all() as Array<Record<string, unknown>>).map((row) => Object.values(row)[0]);
      return [
        ...column("SELECT password_hash FROM gatehouse_users"),
        ...column("SELECT secret_hash FROM gatehouse_sessions"),
        ...column("SELECT token_hash FROM gatehouse_tokens"),
        ...column("SELECT secret FROM gatehouse_totp"),
        ...column("SELECT code_hash FROM gatehouse_recovery_codes"),
        ...column("SELECT sealed_body FROM gatehouse_mail"),
      ];
    }).filter((value): value is string => typeof value === "string" && value.length >= 16);
    const secrets = [
      ...stored,
      PASSWORD,
      TEST_SECRET,
      totp.secret,
      ...totp.recoveryCodes,
      totp.cookie,
      admin.cookie,
      resetToken,
    ].filter((value) => value.length >= 6);
    expect(stored.length).toBeGreaterThan(5);

    const answers = await Promise.all(
      [
        `/users/${totp.id}`,
        `/users/${admin.id}`,
        "/users?query=leak",
        "/audit?limit=100",
        `/audit?userId=${totp.id}`,
        "/mail",
        "/mail?status=sent",
      ].map(
        async (route) =>
          [route, await (await adminRequest(app, "GET", route, { cookie: admin.cookie })).text()] as const,
      ),
    );
    for (const [route, text] of answers) {
      expect(text.length, route).toBeGreaterThan(10);
      for (const secret of secrets)
        expect(text.includes(secret), `${route} contains ${secret.slice(0, 12)}…`).toBe(false);
    }
  });
});

describe("the audit trail of every admin action", () => {
  const sqlite = openTempSqliteStore();
  beforeAll(() => sqlite.store.migrate());
  afterAll(() => sqlite.close());
  const app = useTestServer("database", { store: sqlite.store, email: { mailer: createOutboxMailer(sqlite.store) } });

  const eventsAbout = (userId: string) => rawEvents(sqlite.dbFile).filter((event) => event.user_id === userId);

  it("records each with the acting admin as its actor and the user it was done to", async () => {
    const { browser, account: admin } = await signedInBrowser(app, "trail-admin@example.com");
    const mfa = mfaClient(app);
    const user = await mfa.totpUser("trail-user@example.com", app.startedAt);
    const write = (method: string, route: string, json: Record<string, unknown> = {}) =>
      ok(browser.request(`/api/admin${route}`, { method, json: { password: PASSWORD, ...json } }));

    await write("PATCH", `/users/${user.id}`, { role: "admin" });
    await write("PATCH", `/users/${user.id}`, { role: "user" });
    await write("PATCH", `/users/${user.id}`, { banned: true, reason: "spam" });
    await write("PATCH", `/users/${user.id}`, { banned: false });
    await write("DELETE", `/users/${user.id}/sessions`);
    await write("POST", `/users/${user.id}/password-reset`);
    await write("DELETE", `/users/${user.id}/factors`);
    await impersonate(browser, user.id);
    // What the impersonated session does is the admin's doing too.
    await ok(browser.request("/api/auth/sessions/revoke-others", { json: {} }));
    await ok(browser.request("/api/auth/impersonation", { method: "DELETE", json: {} }));
    await write("DELETE", `/users/${user.id}`);

    // All but the user's own sign-up, log-in and TOTP set-up, before any of this. (The clock is frozen, so the
    // events share one time: their order is not what is compared.)
    const own = ["user.signup", "login.success", "mfa.enable"];
    const trail = eventsAbout(user.id).filter((event) => !own.includes(event.type));
    expect(trail.map((event) => event.type).sort()).toEqual(
      [
        "role.change",
        "role.change",
        "user.ban",
        "user.unban",
        "admin.sessions.revoke",
        "admin.password_reset",
        "admin.factors.reset",
        "impersonation.start",
        "session.revoke",
        "impersonation.stop",
        "user.delete",
      ].sort(),
    );
    for (const event of trail) {
      expect({ type: event.type, actor: [event.actor_type, event.actor_id] }).toEqual({
        type: event.type,
        actor: ["admin", admin.id],
      });
      expect(event.user_email).toBe(user.email);
    }
    expect(trail.filter((event) => event.type === "role.change").map((event) => event.detail)).toEqual(
      expect.arrayContaining([
        { from: "user", to: "admin" },
        { from: "admin", to: "user" },
      ]),
    );
    expect(trail.find((event) => event.type === "user.ban")?.detail).toEqual({ reason: "spam" });
    const text = JSON.stringify(trail);
    for (const secret of [PASSWORD, user.secret, ...user.recoveryCodes, user.cookie])
      expect(text).not.toContain(secret);
  });

  // Bug (fixed, core/admin.ts): banning a user who is already banned moved `bannedAt` and recorded a second
  // `user.ban`, though a change to what already is should change and record nothing.
  it("records nothing, and keeps the ban's time, for a ban of a user already banned", async () => {
    const admin = await accountOf(app, "reban-admin@example.com", "admin");
    const user = await accountOf(app, "reban-user@example.com");
    const first = await ok<{ user: { bannedAt: string } }>(
      adminRequest(app, "PATCH", `/users/${user.id}`, {
        cookie: admin.cookie,
        json: { password: PASSWORD, banned: true },
      }),
    );
    try {
      app.setClock(app.startedAt + 5 * MINUTE);
      const again = await ok<{ user: { bannedAt: string } }>(
        adminRequest(app, "PATCH", `/users/${user.id}`, {
          cookie: admin.cookie,
          json: { password: PASSWORD, banned: true },
        }),
      );
      expect(again.user.bannedAt).toBe(first.user.bannedAt);
    } finally {
      app.setClock(app.startedAt);
    }
    expect(eventsAbout(user.id).filter((event) => event.type === "user.ban")).toHaveLength(1);
  });

  // Bug (fixed, core/admin.ts): POST /api/admin/mail/:id/retry is an admin write, but it recorded no event. It
  // records admin.mail.retry now, in the retry's transaction, and nothing for a message that is not failed.
  it("records a retry of a failed message", async () => {
    const admin = await accountOf(app, "retry-admin@example.com", "admin");
    const id = `m${Math.random().toString(36).slice(2, 14)}`;
    await app.store.enqueueMail([
      { id, to: "bounced@example.com", subject: "Reset", sealedBody: "sealed", createdAt: new Date(app.startedAt) },
    ]);
    await app.store.claimMail(new Date(app.startedAt + 10 * MINUTE), 10, 60_000);
    expect(await app.store.settleMail(id, 1, { status: "failed", error: "550" })).toBe(true);
    // The clock stands still: events of one time are in id order, so the new ones are told apart by id.
    const before = new Set(rawEvents(sqlite.dbFile).map((event) => event.id));
    await ok(adminRequest(app, "POST", `/mail/${id}/retry`, { cookie: admin.cookie, json: { password: PASSWORD } }));
    const added = rawEvents(sqlite.dbFile).filter((event) => !before.has(event.id));
    expect(added.filter((event) => event.actor_type === "admin" && event.actor_id === admin.id)).toHaveLength(1);
    expect(added.find((event) => event.type === "admin.mail.retry")).toMatchObject({
      outcome: "success",
      actor_type: "admin",
      actor_id: admin.id,
      detail: { messageId: id },
    });
    // A message that is not there is 404, and records nothing.
    const unknown = await adminRequest(app, "POST", `/mail/m${"0".repeat(12)}/retry`, {
      cookie: admin.cookie,
      json: { password: PASSWORD },
    });
    expect(unknown.status).toBe(404);
    expect(rawEvents(sqlite.dbFile).filter((event) => event.type === "admin.mail.retry")).toHaveLength(1);
  });
});

/** A server of another SQL backend, for bad input that only a real database would choke on. */
const SQL_BACKENDS = [
  ...(postgresAvailable
    ? [
        {
          name: "PostgreSQL",
          async open() {
            const database = await createPostgresDatabase();
            const store = createPostgresStore({ url: database.url });
            return { store, drop: () => database.drop() };
          },
        },
      ]
    : []),
  ...(mysqlAvailable
    ? [
        {
          name: "MariaDB",
          async open() {
            const database = await createMysqlDatabase();
            const store = createMysqlStore({ url: database.url });
            return { store, drop: () => database.drop() };
          },
        },
      ]
    : []),
];

describe.each(SQL_BACKENDS)("bad input to the admin API on $name", (backend) => {
  let opened: { store: Store; drop(): Promise<void> };
  let app: TestServer;
  let admin: Account;
  let user: Account;
  beforeAll(async () => {
    opened = await backend.open();
    await opened.store.migrate();
    app = await startServer("database", {
      store: opened.store,
      rateLimits: { loginPerAccountAndIp: false, loginPerAccount: false, loginPerIp: false, signupPerIp: false },
    });
    admin = await accountOf(app, "bad-input-admin@example.com", "admin");
    user = await accountOf(app, "bad-input-user@example.com");
  });
  afterAll(async () => {
    await app?.close();
    await opened?.store.close();
    await opened?.drop();
  });

  const TEXT = [
    "\\",
    "\\\\",
    "%",
    "_",
    "!",
    "'",
    '"',
    "'; DROP TABLE gatehouse_users; --",
    "😀",
    "\u{1F600}\u{1F600}",
    "\uFFFD",
    "ß",
    "İ",
    "\u202E",
    "\u2028",
    "é",
    "e\u0301",
    "a".repeat(320),
    "😀".repeat(160),
  ];

  it("answers every odd query, id, cursor and type with 200 or a 4xx, never a 5xx", async () => {
    const routes = [
      ...TEXT.flatMap((text) => {
        const value = encodeURIComponent(text);
        return [
          `/users?query=${value}`,
          `/users?cursor=${encodeURIComponent(Buffer.from(text, "utf8").toString("base64url"))}`,
          `/audit?type=${value}`,
          `/audit?userId=${value}`,
          `/audit?cursor=${encodeURIComponent(Buffer.from(`${Date.now()}.${text}`, "utf8").toString("base64url"))}`,
          `/mail?status=${value}`,
          `/users/${value}`,
        ];
      }),
      "/audit?cursor=OTk5OTk5OTk5OTk5OTk5LmFiYw",
      "/audit?cursor=MC5h",
      "/users?limit=0",
      "/users?limit=9999",
      "/users?query=%ED%A0%80",
      "/users?cursor=%ED%A0%80",
      `/users?cursor=${Buffer.from("\uFFFF", "utf8").toString("base64url")}`,
    ];
    for (const route of routes) {
      const response = await adminRequest(app, "GET", route, { cookie: admin.cookie });
      expect(response.status, `${route}: ${await response.clone().text()}`).toBeLessThan(500);
    }
  });

  it("answers every odd ban reason with 200 or a 4xx, never a 5xx", async () => {
    for (const reason of [...TEXT, "x".repeat(500), "😀".repeat(250), "\ud800", "a\udc00b"]) {
      const response = await adminRequest(app, "PATCH", `/users/${user.id}`, {
        cookie: admin.cookie,
        json: { password: PASSWORD, banned: true, reason },
      });
      expect(response.status, `${JSON.stringify(reason)}: ${await response.clone().text()}`).toBeLessThan(500);
      if (response.status === 200) {
        await ok(
          adminRequest(app, "PATCH", `/users/${user.id}`, {
            cookie: admin.cookie,
            json: { password: PASSWORD, banned: false },
          }),
        );
      }
    }
  });
});

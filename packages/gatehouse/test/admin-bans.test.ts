/**
 * Bans and the last-admin rule through the admin API. A ban ends every session of the user, of both
 * strategies and wherever sessions live (Redis too), in the ban's transaction: their next request is signed
 * out, and a log-in that proves the account answers 403 `banned`. The last unbanned admin cannot be demoted,
 * banned or deleted, even by two admins acting on each other at the same moment (on SQLite and PostgreSQL).
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../src/stores/types.js";
import {
  type Account,
  type AdminBackend,
  accountOf,
  adminRequest,
  barrierStore,
  LAST_ADMIN_BACKENDS,
  logIn,
  ok,
  rawEvents,
} from "./support/admin.js";
import { PASSWORD } from "./support/credentials.js";
import { apiRequest, expectError, startServer, type TestServer, useTestServer } from "./support/http-server.js";
import { createRedisPrefix, REDIS_URL, requireService } from "./support/services.js";
import { querySqliteFile, rawSessionIdsOf } from "./support/temp-sqlite.js";

const redisAvailable = await requireService("redis");

/** Where the sessions of a ban test live. */
const SESSION_STORES = [
  { name: "SQLite sessions", redis: false },
  ...(redisAvailable ? [{ name: "Redis sessions", redis: true }] : []),
] as const;

/** A refusal's status and code (its cookies aside: a dead session's is cleared, a demoted one's rotated). */
async function expectCode(response: Response, status: number, code: string): Promise<void> {
  expect(response.status).toBe(status);
  expect((await response.json()).error.code).toBe(code);
}

/** The session answered for a cookie: its user, or `null`. */
async function sessionUser(app: TestServer, cookie: string): Promise<{ id: string } | null> {
  const response = await apiRequest(app, "/api/auth/session", { cookie });
  expect(response.status).toBe(200);
  return (await response.json()).user;
}

describe.each(
  SESSION_STORES.flatMap((where) => (["database", "stateless"] as const).map((strategy) => ({ ...where, strategy }))),
)("a ban ($strategy sessions, $name)", ({ strategy, redis }) => {
  const keys = createRedisPrefix();
  const app = useTestServer(strategy, redis ? { redis: { url: REDIS_URL, keyPrefix: keys.prefix } } : {});
  let raw: Redis | undefined;
  let counter = 0;
  const email = (label: string) => `${label}${++counter}-${strategy}@example.com`;

  beforeAll(() => {
    if (redis) raw = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await raw?.quit();
    if (redis) await keys.drop();
  });

  /** The ids of the user's session records, wherever they live, read around the store. */
  async function storedSessions(userId: string): Promise<string[]> {
    if (!raw) return rawSessionIdsOf(app.dbFile, userId);
    const found = await raw.keys(`${keys.prefix}session:*`);
    const owners = await Promise.all(found.map((key) => raw?.hget(key, "user_id")));
    return found.filter((_, i) => owners[i] === userId).map((key) => key.slice(`${keys.prefix}session:`.length));
  }

  it("ends every session of the user at their next request, and log-in then answers 403 banned", async () => {
    const admin = await accountOf(app, email("admin"), "admin");
    const user = await accountOf(app, email("user"));
    const otherDevice = await logIn(app, user.email);
    expect(await storedSessions(user.id)).toHaveLength(2);

    const body = await ok<{ user: Record<string, unknown> }>(
      adminRequest(app, "PATCH", `/users/${user.id}`, {
        cookie: admin.cookie,
        json: { password: PASSWORD, banned: true, reason: "  Sent spam  " },
      }),
    );
    expect(body.user).toMatchObject({
      id: user.id,
      banned: true,
      bannedAt: new Date(app.startedAt).toISOString(),
      banReason: "Sent spam",
    });
    // Gone from the store in the ban's request: not left to expire.
    expect(await storedSessions(user.id)).toEqual([]);
    for (const cookie of [user.cookie, otherDevice]) {
      expect(await sessionUser(app, cookie)).toBeNull();
      // Signed out, and the dead cookie cleared.
      await expectCode(await apiRequest(app, "/api/me", { cookie }), 401, "unauthenticated");
    }
    const [event] = rawEvents(app.dbFile, "user.ban").filter((each) => each.user_id === user.id);
    expect(event).toMatchObject({ actor_type: "admin", actor_id: admin.id, detail: { reason: "Sent spam" } });

    // The right password proves the account, and only then is the ban told; a wrong one learns nothing.
    await expectError(
      await apiRequest(app, "/api/auth/login", { json: { email: user.email, password: PASSWORD } }),
      403,
      "banned",
    );
    await expectError(
      await apiRequest(app, "/api/auth/login", { json: { email: user.email, password: "not the password" } }),
      401,
      "invalid_credentials",
    );
    expect(await storedSessions(user.id)).toEqual([]);
  });

  it("is lifted by unban: the user can sign in again, and the ended sessions stay ended", async () => {
    const admin = await accountOf(app, email("admin"), "admin");
    const user = await accountOf(app, email("user"));
    await ok(
      adminRequest(app, "PATCH", `/users/${user.id}`, {
        cookie: admin.cookie,
        json: { password: PASSWORD, banned: true },
      }),
    );
    const lifted = await ok<{ user: Record<string, unknown> }>(
      adminRequest(app, "PATCH", `/users/${user.id}`, {
        cookie: admin.cookie,
        json: { password: PASSWORD, banned: false },
      }),
    );
    expect(lifted.user).toMatchObject({ banned: false, bannedAt: null, banReason: null });
    expect(rawEvents(app.dbFile, "user.unban").filter((each) => each.user_id === user.id)).toEqual([
      expect.objectContaining({ actor_type: "admin", actor_id: admin.id }),
    ]);
    expect(await sessionUser(app, user.cookie)).toBeNull();
    expect(await sessionUser(app, await logIn(app, user.email))).toMatchObject({ id: user.id });
    // Lifting a ban that is not there changes and records nothing.
    await ok(
      adminRequest(app, "PATCH", `/users/${user.id}`, {
        cookie: admin.cookie,
        json: { password: PASSWORD, banned: false },
      }),
    );
    expect(rawEvents(app.dbFile, "user.unban").filter((each) => each.user_id === user.id)).toHaveLength(1);
  });

  it("makes a banned user impossible to impersonate", async () => {
    const admin = await accountOf(app, email("admin"), "admin");
    const user = await accountOf(app, email("user"));
    await ok(
      adminRequest(app, "PATCH", `/users/${user.id}`, {
        cookie: admin.cookie,
        json: { password: PASSWORD, banned: true },
      }),
    );
    await expectError(
      await adminRequest(app, "POST", `/users/${user.id}/impersonate`, {
        cookie: admin.cookie,
        json: { password: PASSWORD },
      }),
      403,
      "forbidden",
    );
    expect(await storedSessions(user.id)).toEqual([]);
  });
});

describe("a ban and its event are one transaction", () => {
  const app = useTestServer("database");

  it("a ban whose event cannot be written bans nobody and ends no session", async () => {
    const admin = await accountOf(app, "atomic-admin@example.com", "admin");
    const user = await accountOf(app, "atomic-user@example.com");
    // The failure, injected in the database itself: between the ban's update and its event.
    querySqliteFile(app.dbFile, (db) =>
      db.exec(`CREATE TRIGGER test_fail_ban BEFORE INSERT ON gatehouse_audit WHEN NEW.type = 'user.ban'
               BEGIN SELECT RAISE(ABORT, 'injected failure'); END;`),
    );
    const response = await adminRequest(app, "PATCH", `/users/${user.id}`, {
      cookie: admin.cookie,
      json: { password: PASSWORD, banned: true },
    });
    await expectError(response, 503, "unavailable");
    querySqliteFile(app.dbFile, (db) => db.exec("DROP TRIGGER test_fail_ban"));
    expect(await sessionUser(app, user.cookie)).toMatchObject({ id: user.id });
    expect(
      querySqliteFile(app.dbFile, (db) =>
        db.prepare("SELECT banned_at FROM gatehouse_users WHERE id = ?").get(user.id),
      ),
    ).toEqual({
      banned_at: null,
    });
    expect(rawEvents(app.dbFile, "user.ban")).toEqual([]);
  });
});

describe.each(LAST_ADMIN_BACKENDS)("the last admin ($name)", (backend) => {
  let opened: Awaited<ReturnType<AdminBackend["open"]>>;
  let held: ReturnType<typeof barrierStore>;
  let app: TestServer;
  let counter = 0;
  const email = (label: string) => `${label}${++counter}-${backend.name.toLowerCase()}@example.com`;

  beforeAll(async () => {
    opened = await backend.open();
    held = barrierStore(opened.store);
    app = await startServer("database", { store: held.store });
  });
  afterAll(async () => {
    await app?.close();
    await opened?.close();
  });

  /**
   * `count` new admins, and no other unbanned one: the admins of earlier tests are demoted first, through the
   * store itself (its guard is the API's, not the store's).
   */
  async function onlyAdmins(count: number): Promise<Account[]> {
    for (const { id } of await opened.admins()) await opened.store.updateUser(id, { role: "user" });
    const admins: Account[] = [];
    for (let i = 0; i < count; i++) admins.push(await accountOf(app, email("admin"), "admin"));
    return admins;
  }

  const unbannedAdmins = async () => (await opened.admins()).filter((admin) => !admin.banned);

  it("cannot be demoted or deleted, by themselves: 409 last_admin, nothing changed", async () => {
    const [admin] = (await onlyAdmins(1)) as [Account];
    await expectError(
      await adminRequest(app, "PATCH", `/users/${admin.id}`, {
        cookie: admin.cookie,
        json: { password: PASSWORD, role: "user" },
      }),
      409,
      "last_admin",
    );
    await expectError(
      await adminRequest(app, "DELETE", `/users/${admin.id}`, { cookie: admin.cookie, json: { password: PASSWORD } }),
      409,
      "last_admin",
    );
    expect(await unbannedAdmins()).toEqual([{ id: admin.id, banned: false }]);
    expect(await sessionUser(app, admin.cookie)).toMatchObject({ id: admin.id });
  });

  it("is the last one once the others are banned: a banned admin does not count", async () => {
    const [first, second] = (await onlyAdmins(2)) as [Account, Account];
    await ok(
      adminRequest(app, "PATCH", `/users/${second.id}`, {
        cookie: first.cookie,
        json: { password: PASSWORD, banned: true },
      }),
    );
    await expectError(
      await adminRequest(app, "PATCH", `/users/${first.id}`, {
        cookie: first.cookie,
        json: { password: PASSWORD, role: "user" },
      }),
      409,
      "last_admin",
    );
    await expectError(
      await adminRequest(app, "DELETE", `/users/${first.id}`, { cookie: first.cookie, json: { password: PASSWORD } }),
      409,
      "last_admin",
    );
    expect(await unbannedAdmins()).toEqual([{ id: first.id, banned: false }]);
  });

  it("may step down while another admin remains", async () => {
    const [first, second] = (await onlyAdmins(2)) as [Account, Account];
    await ok(
      adminRequest(app, "PATCH", `/users/${first.id}`, {
        cookie: first.cookie,
        json: { password: PASSWORD, role: "user" },
      }),
    );
    expect(await unbannedAdmins()).toEqual([{ id: second.id, banned: false }]);
    await expectCode(await adminRequest(app, "GET", "/users", { cookie: first.cookie }), 403, "forbidden");
  });

  /** Two admins at once, each at the other: the writes meet at `method`, and the database decides. */
  async function race(method: keyof Store, write: (actor: Account, target: Account) => Promise<Response>) {
    for (let round = 0; round < 3; round++) {
      const [first, second] = (await onlyAdmins(2)) as [Account, Account];
      const met = held.arm(method, 2);
      const answers = await Promise.all([write(first, second), write(second, first)]);
      await met;
      const statuses = answers.map((answer) => answer.status).sort();
      const codes = await Promise.all(
        answers.map(async (answer) => (answer.status === 200 ? null : (await answer.json()).error.code)),
      );
      expect(statuses, `round ${round}: ${codes}`).toEqual([200, 409]);
      expect(codes.filter(Boolean)).toEqual(["last_admin"]);
      expect(await unbannedAdmins(), `round ${round}`).toHaveLength(1);
    }
  }

  it("survives two admins demoting each other at the same moment: one wins, the other gets 409", async () => {
    await race("updateUser", (actor, target) =>
      adminRequest(app, "PATCH", `/users/${target.id}`, {
        cookie: actor.cookie,
        json: { password: PASSWORD, role: "user" },
      }),
    );
  });

  it("survives two admins banning each other at the same moment: one wins, the other gets 409", async () => {
    await race("endSessions", (actor, target) =>
      adminRequest(app, "PATCH", `/users/${target.id}`, {
        cookie: actor.cookie,
        json: { password: PASSWORD, banned: true },
      }),
    );
  });

  it("survives two admins deleting each other at the same moment: one wins, the other gets 409", async () => {
    await race("deleteUser", (actor, target) =>
      adminRequest(app, "DELETE", `/users/${target.id}`, { cookie: actor.cookie, json: { password: PASSWORD } }),
    );
  });
});

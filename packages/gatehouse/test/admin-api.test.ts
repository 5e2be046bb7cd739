/**
 * The admin console's API over HTTP: who may call it (401 signed out, 403 for a user or an impersonated session,
 * on every route), fresh authentication on every write, each route's answer, and bad input of every kind
 * answered with a 4xx JSON error that changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUDIT_EVENT_TYPES } from "../src/core/audit.js";
import { createOutboxMailer } from "../src/mail/outbox.js";
import { createPostgresStore } from "../src/stores/postgres.js";
import type { Store } from "../src/stores/types.js";
import { type Account, accountOf, adminRequest, logIn, ok, rawEvents, rawUser } from "./support/admin.js";
import { PASSWORD } from "./support/credentials.js";
import { apiRequest, expectError, type TestServer, useTestServer } from "./support/http-server.js";
import { createPostgresDatabase, requireService } from "./support/services.js";
import { openTempSqliteStore, querySqliteFile, rawSqliteTables } from "./support/temp-sqlite.js";
import { mfaClient } from "./support/totp.js";

const postgresAvailable = await requireService("postgres");

const EVIL_ORIGIN = "https://evil.example";
const ADMIN_USER_KEYS = [
  "banReason",
  "banned",
  "bannedAt",
  "createdAt",
  "email",
  "emailVerified",
  "id",
  "name",
  "role",
  "totpEnabled",
];
const EVENT_KEYS = ["actor", "at", "detail", "id", "ip", "outcome", "type", "userAgent", "userEmail", "userId"];

/** Every route of the admin API, as `[method, route]` for a user `id` (and a mail message `mail`). */
function everyRoute(id: string, mail = "AAAAAAAAAAAAAAAAAAAAAA"): Array<[string, string]> {
  return [
    ["GET", "/users"],
    ["GET", `/users/${id}`],
    ["PATCH", `/users/${id}`],
    ["DELETE", `/users/${id}`],
    ["DELETE", `/users/${id}/sessions`],
    ["POST", `/users/${id}/password-reset`],
    ["DELETE", `/users/${id}/factors`],
    ["POST", `/users/${id}/impersonate`],
    ["GET", "/audit"],
    ["GET", "/mail"],
    ["POST", `/mail/${mail}/retry`],
  ];
}

/** Every write of the admin API, with a body that is right but for the password. */
function everyWrite(id: string): Array<[string, string, Record<string, unknown>]> {
  return [
    ["PATCH", `/users/${id}`, { role: "admin" }],
    ["PATCH", `/users/${id}`, { banned: true, reason: "spam" }],
    ["DELETE", `/users/${id}`, {}],
    ["DELETE", `/users/${id}/sessions`, {}],
    ["POST", `/users/${id}/password-reset`, {}],
    ["DELETE", `/users/${id}/factors`, {}],
    ["POST", `/users/${id}/impersonate`, {}],
  ];
}

/** Users and sessions as the database holds them: what a refused request must leave as it was. */
function usersAndSessions(app: TestServer) {
  const { users, sessions } = rawSqliteTables(app.dbFile);
  return { users, sessions, events: rawEvents(app.dbFile).filter((event) => event.actor_type === "admin") };
}

describe.each(["database", "stateless"] as const)("who may call the admin API (%s sessions)", (strategy) => {
  const app = useTestServer(strategy);
  let counter = 0;
  const email = (label: string) => `${label}${++counter}-${strategy}@example.com`;

  it("answers 401 unauthenticated on every route without a session, or with a dead one", async () => {
    const target = await accountOf(app, email("target"));
    for (const [method, route] of everyRoute(target.id)) {
      for (const cookie of [undefined, "garbage", `AAAAAAAAAAAAAAAA.${"B".repeat(32)}`]) {
        const response = await adminRequest(app, method, route, {
          ...(cookie !== undefined && { cookie }),
          ...(method !== "GET" && { json: { password: PASSWORD } }),
        });
        expect(response.status, `${method} ${route} ${cookie}`).toBe(401);
        expect((await response.json()).error.code).toBe("unauthenticated");
      }
    }
  });

  it("answers 403 forbidden on every route to a signed-in user who is not an admin, their password or not", async () => {
    const user = await accountOf(app, email("user"));
    const target = await accountOf(app, email("target"));
    const before = usersAndSessions(app);
    for (const [method, route] of everyRoute(target.id)) {
      const response = await adminRequest(app, method, route, {
        cookie: user.cookie,
        ...(method !== "GET" && { json: { password: PASSWORD, role: "admin" } }),
      });
      await expectError(response, 403, "forbidden");
    }
    expect(usersAndSessions(app)).toEqual(before);
  });

  it("answers 403 impersonation_forbidden on every route to an impersonated session", async () => {
    const admin = await accountOf(app, email("admin"), "admin");
    const target = await accountOf(app, email("target"));
    const started = await adminRequest(app, "POST", `/users/${target.id}/impersonate`, {
      cookie: admin.cookie,
      json: { password: PASSWORD },
    });
    expect(started.status).toBe(200);
    const impersonated = cookieNamed(started, "gatehouse.session");
    const before = usersAndSessions(app);
    for (const [method, route] of everyRoute(admin.id)) {
      const response = await adminRequest(app, method, route, {
        cookie: impersonated,
        ...(method !== "GET" && { json: { password: PASSWORD } }),
      });
      await expectError(response, 403, "impersonation_forbidden");
    }
    expect(usersAndSessions(app)).toEqual(before);
  });

  it("answers 403 csrf to a write from another origin, before looking at the session", async () => {
    const admin = await accountOf(app, email("admin"), "admin");
    const target = await accountOf(app, email("target"));
    for (const [method, route, body] of everyWrite(target.id)) {
      const response = await adminRequest(app, method, route, {
        cookie: admin.cookie,
        json: { ...body, password: PASSWORD },
        origin: EVIL_ORIGIN,
      });
      await expectError(response, 403, "csrf");
    }
    expect(rawUser(app.dbFile, target.id)).toMatchObject({ role: "user", banned_at: null });
  });
});

/** The value of the cookie `name` a response sets. */
function cookieNamed(response: Response, name: string): string {
  const line = response.headers.getSetCookie().find((cookie) => cookie.startsWith(`${name}=`));
  if (!line) throw new Error(`no ${name} cookie in the answer`);
  return line.split(";", 1)[0]?.slice(name.length + 1) as string;
}

describe("the admin API's routes", () => {
  const app = useTestServer("database");
  let counter = 0;
  const email = (label: string) => `${label}${++counter}@example.com`;

  async function setUp(): Promise<{ admin: Account; user: Account }> {
    return { admin: await accountOf(app, email("admin"), "admin"), user: await accountOf(app, email("user")) };
  }

  describe("fresh authentication", () => {
    it("answers 403 reauthentication_required to every write without the password, changing nothing", async () => {
      const { admin, user } = await setUp();
      const before = usersAndSessions(app);
      for (const [method, route, body] of everyWrite(user.id)) {
        await expectError(
          await adminRequest(app, method, route, { cookie: admin.cookie, json: body }),
          403,
          "reauthentication_required",
        );
      }
      // A write with no body at all is missing the password too.
      await expectError(
        await adminRequest(app, "DELETE", `/users/${user.id}/sessions`, { cookie: admin.cookie }),
        403,
        "reauthentication_required",
      );
      expect(usersAndSessions(app)).toEqual(before);
    });

    it("answers 400 invalid_input fields.password to every write with a wrong password, changing nothing", async () => {
      const { admin, user } = await setUp();
      const before = usersAndSessions(app);
      // Nine wrong passwords: under the ten that one address may try on an account.
      const attempts: Array<[string, string, Record<string, unknown>]> = [
        ...everyWrite(user.id).map(([method, route, body]): [string, string, Record<string, unknown>] => [
          method,
          route,
          { ...body, password: "not the password" },
        ]),
        ["PATCH", `/users/${user.id}`, { role: "admin", password: 42 }],
        ["PATCH", `/users/${user.id}`, { role: "admin", password: "" }],
      ];
      for (const [method, route, json] of attempts) {
        const error = await expectError(
          await adminRequest(app, method, route, { cookie: admin.cookie, json }),
          400,
          "invalid_input",
        );
        expect(error.fields.password?.code, `${method} ${route}`).toBe("incorrect_password");
      }
      expect(usersAndSessions(app)).toEqual(before);
    });
  });

  describe("GET /api/admin/users", () => {
    it("pages through the users by email, and finds them by part of their email or name, in any case", async () => {
      const { admin } = await setUp();
      const tag = `page${counter}`;
      const made: string[] = [];
      for (const name of ["Ada Lovelace", "Grace Hopper", "Alan Turing"]) {
        const address = `${tag}-${name.split(" ")[0]?.toLowerCase()}@example.com`;
        await app.gatehouse.users.create({ email: address, password: PASSWORD, name });
        made.push(address);
      }
      const first = await ok<{ users: Array<Record<string, unknown>>; nextCursor: string }>(
        adminRequest(app, "GET", `/users?query=${tag.toUpperCase()}&limit=2`, { cookie: admin.cookie }),
      );
      expect(Object.keys(first).sort()).toEqual(["nextCursor", "users"]);
      expect(first.users.map((user) => user.email)).toEqual([made[0], made[2]]);
      expect(Object.keys(first.users[0] as object).sort()).toEqual(ADMIN_USER_KEYS);
      expect(first.users[0]).toMatchObject({
        name: "Ada Lovelace",
        role: "user",
        emailVerified: false,
        banned: false,
        bannedAt: null,
        banReason: null,
        totpEnabled: false,
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      });
      const second = await ok<{ users: Array<Record<string, unknown>>; nextCursor: string | null }>(
        adminRequest(app, "GET", `/users?query=${tag}&limit=2&cursor=${first.nextCursor}`, { cookie: admin.cookie }),
      );
      expect(second).toEqual({ users: [expect.objectContaining({ email: made[1] })], nextCursor: null });

      const byName = await ok<{ users: Array<{ email: string }> }>(
        adminRequest(app, "GET", "/users?query=grace%20HOP", { cookie: admin.cookie }),
      );
      expect(byName.users.map((user) => user.email)).toEqual([made[1]]);
      // LIKE's wildcards are plain characters.
      const wildcard = await ok<{ users: unknown[] }>(
        adminRequest(app, "GET", "/users?query=%25", { cookie: admin.cookie }),
      );
      expect(wildcard.users).toEqual([]);
    });

    it("answers 400 invalid_input to a bad limit, query or cursor", async () => {
      const { admin } = await setUp();
      const cases: Array<[string, string]> = [
        ["limit=0", "limit"],
        ["limit=101", "limit"],
        ["limit=ten", "limit"],
        ["limit=-1", "limit"],
        ["limit=1.5", "limit"],
        [`query=${"a".repeat(321)}`, "query"],
        ["query=%00", "query"],
        [`cursor=${"A".repeat(513)}`, "cursor"],
        ["cursor=%0A", "cursor"],
      ];
      for (const [query, field] of cases) {
        const error = await expectError(
          await adminRequest(app, "GET", `/users?${query}`, { cookie: admin.cookie }),
          400,
          "invalid_input",
        );
        expect(Object.keys(error.fields), query).toEqual([field]);
      }
    });
  });

  describe("GET /api/admin/users/:id", () => {
    it("answers the user with their sessions, identities, factors and recent events", async () => {
      const { admin, user } = await setUp();
      const body = await ok<Record<string, unknown>>(
        adminRequest(app, "GET", `/users/${user.id}`, { cookie: admin.cookie }),
      );
      expect(Object.keys(body).sort()).toEqual(["events", "factors", "identities", "sessions", "user"]);
      expect(body.user).toMatchObject({ id: user.id, email: user.email, banned: false });
      const sessions = body.sessions as Array<Record<string, unknown>>;
      expect(sessions).toHaveLength(1);
      expect(Object.keys(sessions[0] as object).sort()).toEqual([
        "createdAt",
        "expiresAt",
        "id",
        "impersonatedBy",
        "ip",
        "lastSeenAt",
        "userAgent",
      ]);
      expect(sessions[0]).toMatchObject({ impersonatedBy: null, ip: "127.0.0.1" });
      expect(body.identities).toEqual([]);
      expect(body.factors).toEqual({ totp: false, passkeys: [], recoveryCodes: 0 });
      const events = body.events as Array<Record<string, unknown>>;
      expect(events.length).toBeGreaterThan(0);
      for (const event of events) {
        expect(Object.keys(event).sort()).toEqual(EVENT_KEYS);
        expect(event.userId).toBe(user.id);
      }
      expect(events.map((event) => event.type)).toContain("login.success");
    });

    it("answers 404 not_found for an unknown or malformed id", async () => {
      const { admin } = await setUp();
      for (const id of ["AAAAAAAAAAAAAAAA", "no.such", "%2e%2e", "a".repeat(65)]) {
        await expectError(await adminRequest(app, "GET", `/users/${id}`, { cookie: admin.cookie }), 404, "not_found");
      }
    });
  });

  describe("PATCH /api/admin/users/:id", () => {
    it("changes the role, records role.change, and the user's next request carries the new role", async () => {
      const { admin, user } = await setUp();
      const body = await ok<{ user: Record<string, unknown> }>(
        adminRequest(app, "PATCH", `/users/${user.id}`, {
          cookie: admin.cookie,
          json: { password: PASSWORD, role: "admin" },
        }),
      );
      expect(Object.keys(body)).toEqual(["user"]);
      expect(Object.keys(body.user).sort()).toEqual(ADMIN_USER_KEYS);
      expect(body.user).toMatchObject({ id: user.id, role: "admin" });
      expect(rawUser(app.dbFile, user.id)).toMatchObject({ role: "admin" });
      const [event] = rawEvents(app.dbFile, "role.change").filter((each) => each.user_id === user.id);
      expect(event).toMatchObject({
        actor_type: "admin",
        actor_id: admin.id,
        user_email: user.email,
        outcome: "success",
        detail: { from: "user", to: "admin" },
      });
      // Their session is rotated at its next check, and the promoted user may now use the console.
      const session = await apiRequest(app, "/api/auth/session", { cookie: user.cookie });
      expect((await session.json()).user.role).toBe("admin");
      const rotated = session.headers.getSetCookie().find((line) => line.startsWith("gatehouse.session="));
      expect(rotated).toBeDefined();
    });

    it("records nothing for a role the user already has", async () => {
      const { admin, user } = await setUp();
      await ok(
        adminRequest(app, "PATCH", `/users/${user.id}`, {
          cookie: admin.cookie,
          json: { password: PASSWORD, role: "user" },
        }),
      );
      expect(rawEvents(app.dbFile, "role.change").filter((event) => event.user_id === user.id)).toEqual([]);
    });

    it("answers 400 invalid_input naming the field to every malformed change, before the password, changing nothing", async () => {
      const { admin, user } = await setUp();
      const before = usersAndSessions(app);
      const cases: Array<[unknown, string[]]> = [
        [{ password: PASSWORD, role: "emperor" }, ["role"]],
        [{ password: PASSWORD, role: 7 }, ["role"]],
        [{ password: PASSWORD, role: "__proto__" }, ["role"]],
        [{ password: PASSWORD, role: "hasOwnProperty" }, ["role"]],
        [{ password: PASSWORD, role: "admin", reason: "x" }, ["reason"]],
        [{ password: PASSWORD, banned: "yes" }, ["banned"]],
        [{ password: PASSWORD, banned: 1 }, ["banned"]],
        [{ password: PASSWORD, banned: true, reason: 5 }, ["reason"]],
        [{ password: PASSWORD, banned: true, reason: "x".repeat(501) }, ["reason"]],
        [{ password: PASSWORD, banned: true, reason: "line\nbreak" }, ["reason"]],
        [{ password: PASSWORD, banned: false, reason: "x" }, ["reason"]],
        [{ password: PASSWORD, role: "admin", banned: true }, []],
        [{ password: PASSWORD }, []],
        [{ wrong: "password" }, []],
        [[], []],
        ["admin", []],
        [null, []],
      ];
      for (const [json, fields] of cases) {
        const error = await expectError(
          await adminRequest(app, "PATCH", `/users/${user.id}`, { cookie: admin.cookie, json }),
          400,
          "invalid_input",
        );
        expect(Object.keys(error.fields ?? {}), JSON.stringify(json)).toEqual(fields);
      }
      expect(usersAndSessions(app)).toEqual(before);
    });

    it("answers 404 not_found for an unknown user, before the password", async () => {
      const { admin } = await setUp();
      await expectError(
        await adminRequest(app, "PATCH", "/users/AAAAAAAAAAAAAAAA", { cookie: admin.cookie, json: { role: "admin" } }),
        404,
        "not_found",
      );
    });

    it("answers 409 cannot_ban_self to an admin banning their own account", async () => {
      const { admin } = await setUp();
      await expectError(
        await adminRequest(app, "PATCH", `/users/${admin.id}`, {
          cookie: admin.cookie,
          json: { password: PASSWORD, banned: true },
        }),
        409,
        "cannot_ban_self",
      );
      expect(rawUser(app.dbFile, admin.id)).toMatchObject({ banned_at: null });
    });
  });

  describe("the other writes", () => {
    it("DELETE /users/:id/sessions ends every session of the user and records admin.sessions.revoke", async () => {
      const { admin, user } = await setUp();
      const body = await ok(
        adminRequest(app, "DELETE", `/users/${user.id}/sessions`, {
          cookie: admin.cookie,
          json: { password: PASSWORD },
        }),
      );
      expect(body).toEqual({ ended: 1 });
      expect((await (await apiRequest(app, "/api/auth/session", { cookie: user.cookie })).json()).user).toBeNull();
      expect(rawEvents(app.dbFile, "admin.sessions.revoke").at(-1)).toMatchObject({
        user_id: user.id,
        actor_type: "admin",
        actor_id: admin.id,
      });
    });

    it("DELETE /users/:id/factors removes the user's second factors and records admin.factors.reset", async () => {
      const admin = await accountOf(app, email("admin"), "admin");
      const user = await mfaClient(app).totpUser(email("totp"), app.startedAt);
      const reset = () =>
        ok(
          adminRequest(app, "DELETE", `/users/${user.id}/factors`, {
            cookie: admin.cookie,
            json: { password: PASSWORD },
          }),
        );
      expect(await reset()).toEqual({ removed: { totp: true, recoveryCodes: user.recoveryCodes.length, passkeys: 0 } });
      const events = () => rawEvents(app.dbFile, "admin.factors.reset").filter((event) => event.user_id === user.id);
      expect(events()).toEqual([expect.objectContaining({ actor_type: "admin", actor_id: admin.id })]);
      expect(rawUser(app.dbFile, user.id)).toMatchObject({ totp_enabled: 0 });
      // The password alone signs them in again.
      await logIn(app, user.email);
      // Nothing left to remove: nothing changes, nothing is recorded.
      expect(await reset()).toEqual({ removed: { totp: false, recoveryCodes: 0, passkeys: 0 } });
      expect(events()).toHaveLength(1);
    });

    it("DELETE /users/:id deletes the user and their sessions, keeps their events, and records user.delete", async () => {
      const { admin, user } = await setUp();
      expect(
        await ok(
          adminRequest(app, "DELETE", `/users/${user.id}`, { cookie: admin.cookie, json: { password: PASSWORD } }),
        ),
      ).toEqual({ deleted: true });
      expect(rawUser(app.dbFile, user.id)).toBeUndefined();
      expect((await (await apiRequest(app, "/api/auth/session", { cookie: user.cookie })).json()).user).toBeNull();
      const events = rawEvents(app.dbFile).filter((event) => event.user_id === user.id);
      expect(events.map((event) => event.type)).toContain("login.success");
      expect(events.find((event) => event.type === "user.delete")).toMatchObject({
        actor_type: "admin",
        actor_id: admin.id,
        user_email: user.email,
      });
      await expectError(
        await adminRequest(app, "DELETE", `/users/${user.id}`, { cookie: admin.cookie, json: { password: PASSWORD } }),
        404,
        "not_found",
      );
    });

    it("answers 404 not_found to every write for an unknown user, changing nothing", async () => {
      const { admin } = await setUp();
      const before = usersAndSessions(app);
      for (const [method, route, body] of everyWrite("AAAAAAAAAAAAAAAA")) {
        await expectError(
          await adminRequest(app, method, route, { cookie: admin.cookie, json: { ...body, password: PASSWORD } }),
          404,
          "not_found",
        );
      }
      expect(usersAndSessions(app)).toEqual(before);
    });

    it("refuses bodies that are not JSON objects, too large or of another type, changing nothing", async () => {
      const { admin, user } = await setUp();
      const before = usersAndSessions(app);
      const send = (body: string, type: string) =>
        apiRequest(app, `/api/admin/users/${user.id}/sessions`, {
          method: "DELETE",
          body,
          cookie: admin.cookie,
          headers: { "Content-Type": type },
        });
      await expectError(await send("{", "application/json"), 400, "invalid_json");
      await expectError(await send("[1]", "application/json"), 400, "invalid_input");
      await expectError(await send(`"${PASSWORD}"`, "application/json"), 400, "invalid_input");
      await expectError(
        await send(`password=${PASSWORD}`, "application/x-www-form-urlencoded"),
        415,
        "unsupported_media_type",
      );
      await expectError(
        await send(JSON.stringify({ password: "x".repeat(20_000) }), "application/json"),
        413,
        "payload_too_large",
      );
      expect(usersAndSessions(app)).toEqual(before);
    });

    it("answers 405 with Allow to another method, and 404 to a route that does not exist", async () => {
      const { admin, user } = await setUp();
      const wrong = await adminRequest(app, "POST", `/users/${user.id}`, { cookie: admin.cookie, json: {} });
      expect(wrong.status).toBe(405);
      expect(wrong.headers.get("allow")).toBe("GET, PATCH, DELETE");
      await expectError(await adminRequest(app, "GET", "/nothing", { cookie: admin.cookie }), 404, "not_found");
    });
  });

  describe("GET /api/admin/audit", () => {
    it("pages the whole log newest first, by type and by user", async () => {
      const { admin, user } = await setUp();
      // A second apart, so that newest first is one order (events of the same millisecond go by their ids).
      app.setClock(app.startedAt + 1000);
      await ok(
        adminRequest(app, "PATCH", `/users/${user.id}`, {
          cookie: admin.cookie,
          json: { password: PASSWORD, role: "admin" },
        }),
      );
      app.setClock(app.startedAt + 2000);
      await ok(
        adminRequest(app, "PATCH", `/users/${user.id}`, {
          cookie: admin.cookie,
          json: { password: PASSWORD, role: "user" },
        }),
      );
      app.setClock(app.startedAt);

      const all = await ok<{ events: Array<Record<string, unknown>>; nextCursor: string | null }>(
        adminRequest(app, "GET", "/audit?limit=100", { cookie: admin.cookie }),
      );
      expect(all.events.length).toBe(Math.min(100, rawEvents(app.dbFile).length));
      for (const event of all.events) expect(Object.keys(event).sort()).toEqual(EVENT_KEYS);
      const newestFirst = [...all.events].sort((a, b) => String(b.at).localeCompare(String(a.at)));
      expect(all.events.map((event) => event.at)).toEqual(newestFirst.map((event) => event.at));

      const changes = await ok<{ events: Array<Record<string, unknown>>; nextCursor: string | null }>(
        adminRequest(app, "GET", `/audit?type=role.change&userId=${user.id}&limit=1`, { cookie: admin.cookie }),
      );
      expect(changes.events).toEqual([
        expect.objectContaining({
          type: "role.change",
          userId: user.id,
          userEmail: user.email,
          actor: { type: "admin", id: admin.id },
          detail: { from: "admin", to: "user" },
        }),
      ]);
      expect(changes.nextCursor).toEqual(expect.any(String));
      const older = await ok<{ events: Array<Record<string, unknown>>; nextCursor: string | null }>(
        adminRequest(app, "GET", `/audit?type=role.change&userId=${user.id}&limit=1&cursor=${changes.nextCursor}`, {
          cookie: admin.cookie,
        }),
      );
      expect(older.events).toEqual([expect.objectContaining({ detail: { from: "user", to: "admin" } })]);
      expect(older.nextCursor).toBeNull();
    });

    it("answers 400 invalid_input to an unknown type, a malformed user id, cursor or limit", async () => {
      const { admin } = await setUp();
      for (const [query, field] of [
        ["type=user.explode", "type"],
        ["userId=not%20an%20id", "userId"],
        ["cursor=garbage!", "cursor"],
        ["cursor=MTIz", "cursor"],
        [`cursor=${"A".repeat(600)}`, "cursor"],
        ["limit=0", "limit"],
        ["limit=1000", "limit"],
        ["limit=x", "limit"],
      ] as const) {
        const error = await expectError(
          await adminRequest(app, "GET", `/audit?${query}`, { cookie: admin.cookie }),
          400,
          "invalid_input",
        );
        expect(Object.keys(error.fields), query).toEqual([field]);
      }
    });

    it("knows every event type", async () => {
      const { admin } = await setUp();
      for (const type of AUDIT_EVENT_TYPES) {
        await ok(adminRequest(app, "GET", `/audit?type=${type}&limit=1`, { cookie: admin.cookie }));
      }
    });
  });
});

describe.runIf(postgresAvailable)("GET /api/admin/users on PostgreSQL", () => {
  let database: { url: string; drop(): Promise<void> };
  let store: Store;
  beforeAll(async () => {
    database = await createPostgresDatabase();
    store = createPostgresStore({ url: database.url });
    await store.migrate();
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });
  // A getter: the store exists once the hook above has run.
  const app = useTestServer("database", {
    get store() {
      return store;
    },
  });

  it("pages by email, and answers 400 invalid_input to a cursor that no page gave (not 503)", async () => {
    const admin = await accountOf(app, "pg-admin@example.com", "admin");
    await accountOf(app, "pg-user@example.com");
    const first = await ok<{ users: Array<{ email: string }>; nextCursor: string }>(
      adminRequest(app, "GET", "/users?query=pg-&limit=1", { cookie: admin.cookie }),
    );
    expect(first.users.map((user) => user.email)).toEqual(["pg-admin@example.com"]);
    const second = await ok<{ users: Array<{ email: string }> }>(
      adminRequest(app, "GET", `/users?query=pg-&limit=1&cursor=${first.nextCursor}`, { cookie: admin.cookie }),
    );
    expect(second.users.map((user) => user.email)).toEqual(["pg-user@example.com"]);
    // Base64url of a NUL byte: text PostgreSQL refuses to compare.
    for (const cursor of ["AA", "AAAA", "_-_-"]) {
      const response = await adminRequest(app, "GET", `/users?cursor=${cursor}`, { cookie: admin.cookie });
      expect(response.status, `${cursor}: ${await response.clone().text()}`).toBeLessThan(500);
    }
  });
});

describe("POST /api/admin/users/:id/password-reset", () => {
  const sqlite = openTempSqliteStore();
  // Hooks run in order and after-hooks in reverse: the store is migrated before the server starts, closed after it.
  beforeAll(() => sqlite.store.migrate());
  afterAll(() => sqlite.close());
  const app = useTestServer("database", { store: sqlite.store, email: { mailer: createOutboxMailer(sqlite.store) } });

  /** The reset link's token in the newest outbox message to `to`, once the sender has delivered it. */
  async function resetTokenFor(to: string): Promise<string> {
    await expect.poll(async () => (await app.gatehouse.outboxMessages(20)).some((m) => m.to === to)).toBe(true);
    const message = (await app.gatehouse.outboxMessages(20)).find((m) => m.to === to);
    return /[?&]token=([A-Za-z0-9_-]{32})/.exec(message?.text ?? "")?.[1] as string;
  }

  it("mails the user a reset link through the outbox, with admin.password_reset; the link then works", async () => {
    const admin = await accountOf(app, "reset-admin@example.com", "admin");
    const user = await accountOf(app, "reset-user@example.com");
    expect(
      await ok(
        adminRequest(app, "POST", `/users/${user.id}/password-reset`, {
          cookie: admin.cookie,
          json: { password: PASSWORD },
        }),
      ),
    ).toEqual({ sent: true });
    const [row] = querySqliteFile(sqlite.dbFile, (db) =>
      db.prepare("SELECT recipient FROM gatehouse_mail WHERE recipient = ?").all(user.email),
    ) as Array<{ recipient: string }>;
    expect(row).toEqual({ recipient: user.email });
    expect(rawEvents(sqlite.dbFile, "admin.password_reset")).toEqual([
      expect.objectContaining({ user_id: user.id, actor_type: "admin", actor_id: admin.id }),
    ]);
    const token = await resetTokenFor(user.email);
    const confirmed = await apiRequest(app, "/api/auth/password-reset/confirm", {
      json: { token, password: "a brand new passphrase" },
    });
    expect(confirmed.status).toBe(200);
    await logIn(app, user.email, "a brand new passphrase");
    // Nothing secret in the event: not the link's token, not the admin's password.
    const text = JSON.stringify(rawEvents(sqlite.dbFile));
    expect(text).not.toContain(token);
    expect(text).not.toContain(PASSWORD);
  });
});

describe("POST /api/admin/users/:id/password-reset without a mailer", () => {
  const app = useTestServer("database");

  it("answers 503 mail_unavailable and writes no token, mail or event", async () => {
    const admin = await accountOf(app, "nomail-admin@example.com", "admin");
    const user = await accountOf(app, "nomail-user@example.com");
    await expectError(
      await adminRequest(app, "POST", `/users/${user.id}/password-reset`, {
        cookie: admin.cookie,
        json: { password: PASSWORD },
      }),
      503,
      "mail_unavailable",
    );
    const count = (table: string) =>
      querySqliteFile(app.dbFile, (db) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n);
    expect([count("gatehouse_tokens"), count("gatehouse_mail")]).toEqual([0, 0]);
    expect(rawEvents(app.dbFile, "admin.password_reset")).toEqual([]);
  });
});

describe("the admin API's mail routes", () => {
  const app = useTestServer("database");

  /** A message of the outbox that failed for good, written and settled through the store. */
  async function failedMessage(to: string): Promise<string> {
    const id = `m${Math.random().toString(36).slice(2, 14)}`;
    const createdAt = new Date(app.startedAt);
    await app.store.enqueueMail([{ id, to, subject: "Reset your password", sealedBody: "sealed", createdAt }]);
    const [claimed] = await app.store.claimMail(new Date(app.startedAt), 1, 60_000);
    expect(claimed?.id).toBe(id);
    expect(await app.store.settleMail(id, 1, { status: "failed", error: "550 mailbox unavailable" })).toBe(true);
    return id;
  }

  it("GET /mail lists the outbox without bodies, with the count of each status; ?status= filters it", async () => {
    const admin = await accountOf(app, "mail-admin1@example.com", "admin");
    const id = await failedMessage("bounced@example.com");
    const body = await ok<{ messages: Array<Record<string, unknown>>; counts: Record<string, number> }>(
      adminRequest(app, "GET", "/mail?status=failed", { cookie: admin.cookie }),
    );
    expect(Object.keys(body).sort()).toEqual(["counts", "messages"]);
    expect(body.messages).toEqual([
      {
        id,
        to: "bounced@example.com",
        subject: "Reset your password",
        status: "failed",
        attempts: 1,
        lastError: "550 mailbox unavailable",
        createdAt: new Date(app.startedAt).toISOString(),
        nextAttemptAt: expect.any(String),
        sentAt: null,
      },
    ]);
    expect(body.counts).toEqual({ pending: 0, sent: 0, failed: 1 });
    expect(JSON.stringify(body)).not.toContain("sealed");
    await expectError(
      await adminRequest(app, "GET", "/mail?status=lost", { cookie: admin.cookie }),
      400,
      "invalid_input",
    );
  });

  it("POST /mail/:id/retry puts a failed message back in the queue, once; 404 for one that is not failed", async () => {
    const admin = await accountOf(app, "mail-admin2@example.com", "admin");
    const id = await failedMessage("bounced2@example.com");
    await expectError(
      await adminRequest(app, "POST", `/mail/${id}/retry`, { cookie: admin.cookie, json: {} }),
      403,
      "reauthentication_required",
    );
    expect(
      await ok(adminRequest(app, "POST", `/mail/${id}/retry`, { cookie: admin.cookie, json: { password: PASSWORD } })),
    ).toEqual({ retried: true });
    const status = querySqliteFile(app.dbFile, (db) =>
      db.prepare("SELECT status FROM gatehouse_mail WHERE id = ?").get(id),
    );
    expect(status).toEqual({ status: "pending" });
    await expectError(
      await adminRequest(app, "POST", `/mail/${id}/retry`, { cookie: admin.cookie, json: { password: PASSWORD } }),
      404,
      "not_found",
    );
    await expectError(
      await adminRequest(app, "POST", "/mail/AAAAAAAAAAAAAAAA/retry", {
        cookie: admin.cookie,
        json: { password: PASSWORD },
      }),
      404,
      "not_found",
    );
  });
});

describe("the admin API and the events page when the store fails", () => {
  const app = useTestServer("database");

  it("answer 503 unavailable, never a page, while the audit and mail tables cannot be read", async () => {
    const admin = await accountOf(app, "failing-store-admin@example.com", "admin");
    // A real failure of the database, not of a stand-in: the tables the reads need are gone for a moment.
    querySqliteFile(app.dbFile, (db) =>
      db.exec("ALTER TABLE gatehouse_audit RENAME TO audit_away; ALTER TABLE gatehouse_mail RENAME TO mail_away;"),
    );
    try {
      for (const path of ["/audit", "/mail", `/users/${admin.id}`])
        await expectError(await adminRequest(app, "GET", path, { cookie: admin.cookie }), 503, "unavailable");
      await expectError(await apiRequest(app, "/api/auth/events", { cookie: admin.cookie }), 503, "unavailable");
    } finally {
      querySqliteFile(app.dbFile, (db) =>
        db.exec("ALTER TABLE audit_away RENAME TO gatehouse_audit; ALTER TABLE mail_away RENAME TO gatehouse_mail;"),
      );
    }
    expect(
      (await ok<{ events: unknown[] }>(adminRequest(app, "GET", "/audit", { cookie: admin.cookie }))).events,
    ).not.toHaveLength(0);
  });
});

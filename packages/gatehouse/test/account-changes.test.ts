/**
 * What a signed-in user may change about their own account, over real HTTP, for both strategies: the
 * password (POST /api/auth/password), the account itself (DELETE /api/auth/account) and the profile (a
 * withApiAuth PATCH route calling updateProfile). Every outcome is checked by reading the SQLite file raw.
 */
import { afterEach, describe, expect, it } from "vitest";
import { PASSWORD } from "./support/credentials.js";
import {
  type ApiRequestInit,
  apiRequest,
  sessionCookieOf,
  signUpViaApi,
  uniqueEmails,
  useTestServer,
} from "./support/http-server.js";
import { validateSession } from "./support/session-fixtures.js";
import { rawSessionIdsOf, rawSqliteTables, rawUserByEmail } from "./support/temp-sqlite.js";

const NEW_PASSWORD = "a brand new passphrase";
const MINUTE = 60_000;

describe.each(["database", "stateless"] as const)("account changes over HTTP (%s sessions)", (strategy) => {
  const app = useTestServer(strategy);
  const uniqueEmail = uniqueEmails("account", strategy);

  afterEach(() => app.setClock(app.startedAt));

  const request = (route: string, init?: ApiRequestInit) => apiRequest(app, route, init);
  const logIn = (email: string, password = PASSWORD) => request("/api/auth/login", { json: { email, password } });
  const me = (cookie: string) => request("/api/me", { cookie });

  /** A user signed in three times: `cookie` makes the requests, `others` are their other sessions. */
  async function signedInUser(): Promise<{ email: string; id: string; cookie: string; others: string[] }> {
    const { email, cookie } = await signUpViaApi(app, uniqueEmail());
    const others: string[] = [];
    for (let i = 0; i < 2; i++) {
      const response = await logIn(email);
      expect(response.status).toBe(200);
      others.push(sessionCookieOf(response) as string);
    }
    return { email, id: String(rawUserByEmail(app.dbFile, email)?.id), cookie, others };
  }

  const rawHash = (email: string) => rawUserByEmail(app.dbFile, email)?.password_hash;

  describe("POST /api/auth/password", () => {
    const change = (cookie: string, json: unknown) => request("/api/auth/password", { json, cookie });

    it("with a wrong or missing current password answers 400 naming currentPassword, and changes nothing (raw read)", async () => {
      const user = await signedInUser();
      for (const body of [
        { currentPassword: "not my password", newPassword: NEW_PASSWORD },
        { currentPassword: "", newPassword: NEW_PASSWORD },
        { currentPassword: 42, newPassword: NEW_PASSWORD },
        { newPassword: NEW_PASSWORD },
        { currentPassword: PASSWORD.toUpperCase(), newPassword: NEW_PASSWORD },
      ]) {
        const hash = rawHash(user.email);
        const sessions = rawSessionIdsOf(app.dbFile, user.id);
        const response = await change(user.cookie, body);
        expect(response.status, JSON.stringify(body)).toBe(400);
        const { error } = await response.json();
        expect(error.code).toBe("invalid_input");
        expect(Object.keys(error.fields)).toEqual(["currentPassword"]);
        expect(response.headers.getSetCookie()).toEqual([]);
        expect(rawHash(user.email)).toBe(hash);
        expect(rawSessionIdsOf(app.dbFile, user.id)).toEqual(sessions);
      }
      for (const cookie of [user.cookie, ...user.others]) expect((await me(cookie)).status).toBe(200);
      expect((await logIn(user.email, NEW_PASSWORD)).status).toBe(401);
    });

    it("counts wrong current passwords toward the account's log-in limit: after 10, even the right one is 429", async () => {
      const user = await signedInUser();
      const hash = rawHash(user.email);
      for (let i = 0; i < 10; i++)
        expect((await change(user.cookie, { currentPassword: "guess", newPassword: NEW_PASSWORD })).status).toBe(400);
      const refused = await change(user.cookie, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
      expect(refused.status).toBe(429);
      expect((await refused.json()).error.code).toBe("rate_limited");
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(rawHash(user.email)).toBe(hash);
      // The same counter guards the log-in form.
      expect((await logIn(user.email)).status).toBe(429);
    });

    it("with the right current password answers 200 and a new cookie; every other session and the old cookie are signed out", async () => {
      const user = await signedInUser();
      const oldHash = rawHash(user.email);
      const response = await change(user.cookie, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
      expect(response.status).toBe(200);
      const body = await response.json();
      expect(Object.keys(body)).toEqual(["user"]);
      expect(body.user.email).toBe(user.email);
      expect(JSON.stringify(body)).not.toMatch(/argon2|hash|password/i);
      const fresh = sessionCookieOf(response);
      expect(fresh).toBeTruthy();
      expect(fresh).not.toBe(user.cookie);

      for (const cookie of [user.cookie, ...user.others]) {
        const replay = await me(cookie);
        expect(replay.status).toBe(401);
        expect((await request("/api/auth/session", { cookie })).status).toBe(200);
        expect(await (await request("/api/auth/session", { cookie })).json()).toEqual({ user: null });
      }
      expect((await me(fresh as string)).status).toBe(200);
      expect(rawSessionIdsOf(app.dbFile, user.id)).toHaveLength(1);
      expect(rawSessionIdsOf(app.dbFile, user.id)).toEqual([
        (await validateSession(app.gatehouse, fresh as string))?.session.id,
      ]);

      const newHash = rawHash(user.email);
      expect(newHash).not.toBe(oldHash);
      expect(String(newHash)).not.toContain(NEW_PASSWORD);
      expect((await logIn(user.email, NEW_PASSWORD)).status).toBe(200);
      expect((await logIn(user.email, PASSWORD)).status).toBe(401);
    });

    it("with a new password that fails the policy answers 400 naming newPassword, and changes nothing", async () => {
      const user = await signedInUser();
      for (const newPassword of [
        "short",
        "password1234",
        "iloveyou12",
        "x".repeat(257),
        "",
        undefined,
        "with a \u0000 NUL in it",
      ]) {
        const before = rawSqliteTables(app.dbFile);
        const response = await change(user.cookie, { currentPassword: PASSWORD, newPassword });
        expect(response.status, String(newPassword)).toBe(400);
        const { error } = await response.json();
        expect(error.code).toBe("invalid_input");
        expect(Object.keys(error.fields)).toEqual(["newPassword"]);
        expect(response.headers.getSetCookie()).toEqual([]);
        expect(rawSqliteTables(app.dbFile)).toEqual(before);
      }
      expect(
        (await (await change(user.cookie, { currentPassword: PASSWORD, newPassword: "password1234" })).json()).error
          .fields.newPassword,
      ).toMatchObject({ code: "too_common", message: expect.stringMatching(/common/i) });
      for (const cookie of [user.cookie, ...user.others]) expect((await me(cookie)).status).toBe(200);
    });

    it("answers 401 without a session", async () => {
      const response = await request("/api/auth/password", {
        json: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
      });
      expect(response.status).toBe(401);
    });
  });

  describe("DELETE /api/auth/account", () => {
    const remove = (cookie: string, json?: unknown) =>
      request("/api/auth/account", { method: "DELETE", cookie, ...(json !== undefined && { json }) });

    it("with the right password answers 200, clears the cookie, and deletes the user and every session (raw read)", async () => {
      const user = await signedInUser();
      const response = await remove(user.cookie, { password: PASSWORD });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ ok: true });
      const [clear] = response.headers.getSetCookie();
      expect(clear).toMatch(/^gatehouse\.session=;/);
      expect(clear).toMatch(/Max-Age=0/);
      expect(rawUserByEmail(app.dbFile, user.email)).toBeUndefined();
      expect(rawSessionIdsOf(app.dbFile, user.id)).toEqual([]);
      for (const cookie of [user.cookie, ...user.others]) expect((await me(cookie)).status).toBe(401);
      expect((await logIn(user.email)).status).toBe(401);
    });

    it("with a wrong password answers 400 naming password, and deletes nothing", async () => {
      const user = await signedInUser();
      for (const password of ["not my password", "", null, 7]) {
        const sessions = rawSessionIdsOf(app.dbFile, user.id);
        const response = await remove(user.cookie, { password });
        expect(response.status, String(password)).toBe(400);
        const { error } = await response.json();
        expect(error.code).toBe("invalid_input");
        expect(Object.keys(error.fields)).toEqual(["password"]);
        expect(rawUserByEmail(app.dbFile, user.email)).toBeDefined();
        expect(rawSessionIdsOf(app.dbFile, user.id)).toEqual(sessions);
      }
      for (const cookie of [user.cookie, ...user.others]) expect((await me(cookie)).status).toBe(200);
    });

    it("without a password, a session older than freshAuthSeconds (600) gets 403 reauthentication_required and nothing is deleted", async () => {
      const user = await signedInUser();
      app.setClock(app.startedAt + 10 * MINUTE + 1_000);
      for (const body of [undefined, {}, { name: "x" }]) {
        const response = await remove(user.cookie, body);
        expect(response.status, JSON.stringify(body)).toBe(403);
        expect((await response.json()).error.code).toBe("reauthentication_required");
        expect(rawUserByEmail(app.dbFile, user.email)).toBeDefined();
        expect(rawSessionIdsOf(app.dbFile, user.id)).toHaveLength(3);
      }
      // The password still works for an old session.
      expect((await remove(user.cookie, { password: PASSWORD })).status).toBe(200);
      expect(rawUserByEmail(app.dbFile, user.email)).toBeUndefined();
    });

    it("a session rotated after a role change keeps its age: still 403 without the password", async () => {
      const user = await signedInUser();
      app.setClock(app.startedAt + 11 * MINUTE);
      await app.gatehouse.users.setRole(user.email, "admin");
      const rotated = sessionCookieOf(await request("/api/auth/session", { cookie: user.cookie }));
      expect(rotated).toBeTruthy();
      const response = await remove(rotated as string);
      expect(response.status).toBe(403);
      expect(rawUserByEmail(app.dbFile, user.email)).toBeDefined();
    });

    it("without a password, a session within freshAuthSeconds deletes the account", async () => {
      const user = await signedInUser();
      app.setClock(app.startedAt + 10 * MINUTE - 1_000);
      const response = await remove(user.cookie);
      expect(response.status).toBe(200);
      expect(response.headers.getSetCookie()[0]).toMatch(/Max-Age=0/);
      expect(rawUserByEmail(app.dbFile, user.email)).toBeUndefined();
      expect(rawSessionIdsOf(app.dbFile, user.id)).toEqual([]);
      for (const cookie of [user.cookie, ...user.others]) expect((await me(cookie)).status).toBe(401);
    });

    it("answers 401 without a session, and deletes nothing", async () => {
      const user = await signedInUser();
      expect((await request("/api/auth/account", { method: "DELETE", json: { password: PASSWORD } })).status).toBe(401);
      expect(rawUserByEmail(app.dbFile, user.email)).toBeDefined();
    });
  });

  describe("PATCH /api/profile (withApiAuth + readJsonBody + updateProfile)", () => {
    const patch = (cookie: string | undefined, json: unknown) =>
      request("/api/profile", { method: "PATCH", json, ...(cookie !== undefined && { cookie }) });

    it('{"role":"admin"} answers 200 and the role stays user (raw read); admin routes stay closed', async () => {
      const user = await signedInUser();
      for (const body of [
        { role: "admin" },
        { role: "admin", name: "Mallory" },
        JSON.parse('{"__proto__":{"role":"admin"}}'),
      ]) {
        const response = await patch(user.cookie, body);
        expect(response.status, JSON.stringify(body)).toBe(200);
        expect((await response.json()).user.role).toBe("user");
        expect(rawUserByEmail(app.dbFile, user.email)?.role).toBe("user");
      }
      expect(rawUserByEmail(app.dbFile, user.email)?.name).toBe("Mallory");
      expect((await request("/api/admin", { cookie: user.cookie })).status).toBe(403);
    });

    it('{"name":"Ada"} changes the name; 100 characters are fine and 101 answer 400 with nothing changed', async () => {
      const user = await signedInUser();
      const renamed = await patch(user.cookie, { name: "Ada" });
      expect(renamed.status).toBe(200);
      expect((await renamed.json()).user.name).toBe("Ada");
      expect(rawUserByEmail(app.dbFile, user.email)?.name).toBe("Ada");

      expect((await patch(user.cookie, { name: "n".repeat(100) })).status).toBe(200);
      const before = rawUserByEmail(app.dbFile, user.email);
      for (const name of ["n".repeat(101), "Ada\nLovelace", 42]) {
        const response = await patch(user.cookie, { name });
        expect(response.status, String(name)).toBe(400);
        const { error } = await response.json();
        expect(error.code).toBe("invalid_input");
        expect(Object.keys(error.fields)).toEqual(["name"]);
        expect(rawUserByEmail(app.dbFile, user.email)).toEqual(before);
      }
    });

    it("answers 401 without a session and 400 for a body that is not an object", async () => {
      expect((await patch(undefined, { name: "Ada" })).status).toBe(401);
      const user = await signedInUser();
      for (const body of [[{ name: "Ada" }], "Ada", null, 1]) {
        const response = await patch(user.cookie, body);
        expect(response.status, JSON.stringify(body)).toBe(400);
      }
    });
  });
});

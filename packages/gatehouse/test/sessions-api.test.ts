import { describe, expect, it } from "vitest";
import { PASSWORD } from "./support/credentials.js";
import {
  type ApiRequestInit,
  apiRequest,
  rawRequest,
  SESSION_COOKIE,
  sessionCookieHeader,
  sessionCookieOf,
  signUpViaApi,
  uniqueEmails,
  useTestServer,
} from "./support/http-server.js";
import { validateSession } from "./support/session-fixtures.js";
import { querySqliteFile } from "./support/temp-sqlite.js";

const EVIL_ORIGIN = "https://evil.example";
/** Well-formed, but no session has it. */
const UNKNOWN_ID = "AAAAAAAAAAAAAAAA";

/** Every key of a JSON value, at any depth. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) => [key, ...keysOf(inner)]);
}

describe.each(["database", "stateless"] as const)("session management API over HTTP (%s sessions)", (strategy) => {
  const app = useTestServer(strategy);
  const uniqueEmail = uniqueEmails("user", strategy);

  interface RequestInit extends Omit<ApiRequestInit, "headers"> {
    userAgent?: string;
  }

  /** Every request says it is JSON and names its browser, which the sessions list shows. */
  function request(route: string, { userAgent = "sessions-api-test", ...init }: RequestInit = {}): Promise<Response> {
    return apiRequest(app, route, {
      ...init,
      headers: { "Content-Type": "application/json", "User-Agent": userAgent },
    });
  }

  /** A request whose path is sent exactly as written (fetch would normalise `..` and `%2e%2e`). */
  function rawDelete(rawPath: string, cookie: string) {
    return rawRequest(app, {
      method: "DELETE",
      path: rawPath,
      headers: { Origin: app.origin, "Content-Type": "application/json", Cookie: sessionCookieHeader(cookie) },
    });
  }

  async function signUp(email: string, userAgent = "Firefox/140"): Promise<string> {
    return (await signUpViaApi(app, email, { "User-Agent": userAgent })).cookie;
  }

  async function logIn(email: string, userAgent = "Safari/18"): Promise<string> {
    const response = await request("/api/auth/login", { json: { email, password: PASSWORD }, userAgent });
    expect(response.status).toBe(200);
    return sessionCookieOf(response) as string;
  }

  /** A user with `count` sessions (a sign-up, then log-ins); their cookie values. */
  async function userWithSessions(count: number, email = uniqueEmail()): Promise<{ email: string; cookies: string[] }> {
    const cookies = [await signUp(email)];
    while (cookies.length < count) cookies.push(await logIn(email));
    return { email, cookies };
  }

  /** The session id behind a cookie, as the server sees it (at a frozen clock this writes nothing). */
  async function sessionIdOf(cookie: string): Promise<string> {
    const valid = await validateSession(app.gatehouse, cookie);
    if (!valid) throw new Error("not a live session cookie");
    return valid.session.id;
  }

  async function listSessions(cookie: string): Promise<Array<Record<string, unknown>>> {
    const response = await request("/api/auth/sessions", { cookie });
    expect(response.status).toBe(200);
    return (await response.json()).sessions;
  }

  async function currentUser(cookie: string): Promise<{ email: string; role: string } | null> {
    const response = await request("/api/auth/session", { cookie });
    expect(response.status).toBe(200);
    return (await response.json()).user;
  }

  function rawSecretHashes(): string[] {
    const query = "SELECT secret_hash FROM gatehouse_sessions";
    const rows = querySqliteFile(app.dbFile, (db) => db.prepare(query).all() as Array<{ secret_hash: string }>);
    return rows.map((row) => row.secret_hash).filter((hash) => hash !== "");
  }

  describe("GET /api/auth/sessions", () => {
    it("answers 401 unauthenticated without a session or with a dead one", async () => {
      for (const cookie of [undefined, "", "garbage", `${UNKNOWN_ID}.${"B".repeat(32)}`]) {
        const response = await request("/api/auth/sessions", cookie === undefined ? {} : { cookie });
        expect(response.status, String(cookie)).toBe(401);
        expect((await response.json()).error.code).toBe("unauthenticated");
      }
    });

    it("lists the caller's sessions with exactly id, createdAt, lastSeenAt, expiresAt, userAgent, ip and current", async () => {
      const { cookies } = await userWithSessions(2);
      const [first, second] = cookies as [string, string];
      await userWithSessions(1);

      const response = await request("/api/auth/sessions", { cookie: second });
      expect(response.status).toBe(200);
      expect(response.headers.get("cache-control")).toContain("no-store");
      const body = await response.json();
      expect(Object.keys(body)).toEqual(["sessions"]);
      const sessions = body.sessions as Array<Record<string, unknown>>;
      expect(sessions).toHaveLength(2);
      for (const session of sessions) {
        expect(Object.keys(session).sort()).toEqual([
          "createdAt",
          "current",
          "expiresAt",
          "id",
          "ip",
          "lastSeenAt",
          "userAgent",
        ]);
        for (const key of ["createdAt", "lastSeenAt", "expiresAt"]) {
          expect(new Date(session[key] as string).toISOString(), key).toBe(session[key]);
        }
        expect(session.ip).toMatch(/127\.0\.0\.1$/);
      }
      expect(sessions.map((s) => s.id).sort()).toEqual([await sessionIdOf(first), await sessionIdOf(second)].sort());
      expect(sessions.map((s) => s.userAgent).sort()).toEqual(["Firefox/140", "Safari/18"]);
      expect(sessions.filter((s) => s.current === true).map((s) => s.id)).toEqual([await sessionIdOf(second)]);
      expect(sessions.filter((s) => s.current === false)).toHaveLength(1);

      const fromFirst = await listSessions(first);
      expect(fromFirst.filter((s) => s.current === true).map((s) => s.id)).toEqual([await sessionIdOf(first)]);
    });

    it("never contains a session token, secret or secret hash", async () => {
      const { cookies } = await userWithSessions(2);
      const response = await request("/api/auth/sessions", { cookie: cookies[0] });
      const text = await response.text();
      expect(keysOf(JSON.parse(text)).filter((key) => /token|secret|hash|value/i.test(key))).toEqual([]);
      for (const cookie of cookies) {
        expect(text).not.toContain(cookie);
        // A database token is id.secret: the id is listed, the secret must not be.
        const secret = cookie.split(".")[1] as string;
        expect(text).not.toContain(secret);
      }
      for (const hash of rawSecretHashes()) expect(text).not.toContain(hash);
    });
  });

  describe("DELETE /api/auth/sessions/:id", () => {
    it("ends another session of mine: 200, and that session's cookie is signed out", async () => {
      const [current, other] = (await userWithSessions(2)).cookies as [string, string];
      const response = await request(`/api/auth/sessions/${await sessionIdOf(other)}`, {
        method: "DELETE",
        cookie: current,
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ ok: true });
      expect(sessionCookieOf(response)).toBeUndefined();

      expect((await request("/api/auth/sessions", { cookie: other })).status).toBe(401);
      expect(await currentUser(other)).toBeNull();
      expect(await currentUser(current)).not.toBeNull();
      expect(await listSessions(current)).toHaveLength(1);
    });

    it("answers 404 not_found for another user's session id, and that session keeps working", async () => {
      const [mine] = (await userWithSessions(1)).cookies as [string];
      const { email: theirEmail, cookies } = await userWithSessions(1);
      const theirs = cookies[0] as string;
      const response = await request(`/api/auth/sessions/${await sessionIdOf(theirs)}`, {
        method: "DELETE",
        cookie: mine,
      });
      expect(response.status).toBe(404);
      expect((await response.json()).error.code).toBe("not_found");
      expect((await currentUser(theirs))?.email).toBe(theirEmail);
    });

    it("answers 404 not_found for an id no session has", async () => {
      const [mine] = (await userWithSessions(1)).cookies as [string];
      const response = await request(`/api/auth/sessions/${UNKNOWN_ID}`, { method: "DELETE", cookie: mine });
      expect(response.status).toBe(404);
      expect((await response.json()).error.code).toBe("not_found");
      expect(await currentUser(mine)).not.toBeNull();
    });

    it("is no route for the template's own text: /sessions/:id answers the router's 404, and nothing ends", async () => {
      const [mine] = (await userWithSessions(1)).cookies as [string];
      const response = await request("/api/auth/sessions/:id", { method: "DELETE", cookie: mine });
      expect(response.status).toBe(404);
      expect((await response.json()).error).toEqual({ code: "not_found", message: "There is no such auth route." });
      expect(await currentUser(mine)).not.toBeNull();
    });

    it("ends my current session: 200 with a Set-Cookie that clears the cookie", async () => {
      const [current, other] = (await userWithSessions(2)).cookies as [string, string];
      const response = await request(`/api/auth/sessions/${await sessionIdOf(current)}`, {
        method: "DELETE",
        cookie: current,
      });
      expect(response.status).toBe(200);
      const clear = response.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`));
      expect(clear).toMatch(/^gatehouse\.session=;/);
      expect(clear).toMatch(/Max-Age=0/i);
      expect(await currentUser(current)).toBeNull();
      expect(await currentUser(other)).not.toBeNull();
    });

    it("answers 403 csrf from another origin, and deletes nothing", async () => {
      const [current, other] = (await userWithSessions(2)).cookies as [string, string];
      for (const origin of [EVIL_ORIGIN, "null"]) {
        for (const target of [other, current]) {
          const response = await request(`/api/auth/sessions/${await sessionIdOf(target)}`, {
            method: "DELETE",
            cookie: current,
            origin,
          });
          expect(response.status, origin).toBe(403);
          expect((await response.json()).error.code).toBe("csrf");
          expect(sessionCookieOf(response)).toBeUndefined();
        }
      }
      expect(await listSessions(current)).toHaveLength(2);
      expect(await currentUser(other)).not.toBeNull();
    });

    it("answers 401 without a session, whatever the id", async () => {
      const [target] = (await userWithSessions(1)).cookies as [string];
      const response = await request(`/api/auth/sessions/${await sessionIdOf(target)}`, { method: "DELETE" });
      expect(response.status).toBe(401);
      expect(await currentUser(target)).not.toBeNull();
    });
  });

  describe("POST /api/auth/sessions/revoke-others", () => {
    it("ends every other session of mine, answers how many, and keeps the current one", async () => {
      const [current, ...others] = (await userWithSessions(3)).cookies as [string, ...string[]];
      const [bystander] = (await userWithSessions(1)).cookies as [string];
      const response = await request("/api/auth/sessions/revoke-others", { json: {}, cookie: current });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ revoked: 2 });
      for (const other of others) expect(await currentUser(other)).toBeNull();
      expect(await currentUser(current)).not.toBeNull();
      expect((await listSessions(current)).map((s) => s.id)).toEqual([await sessionIdOf(current)]);
      expect(await currentUser(bystander)).not.toBeNull();
    });

    it("answers 403 csrf from another origin, and revokes nothing", async () => {
      const [current, other] = (await userWithSessions(2)).cookies as [string, string];
      const response = await request("/api/auth/sessions/revoke-others", {
        json: {},
        cookie: current,
        origin: EVIL_ORIGIN,
      });
      expect(response.status).toBe(403);
      expect((await response.json()).error.code).toBe("csrf");
      expect(await currentUser(other)).not.toBeNull();
    });
  });

  describe("routing", () => {
    it("answers 405 with Allow for a method a sessions route does not take", async () => {
      const [cookie] = (await userWithSessions(1)).cookies as [string];
      for (const [method, route, allow] of [
        ["POST", "/api/auth/sessions", "GET"],
        ["DELETE", "/api/auth/sessions", "GET"],
        ["GET", "/api/auth/sessions/revoke-others", "POST"],
        ["DELETE", "/api/auth/sessions/revoke-others", "POST"],
        ["GET", `/api/auth/sessions/${UNKNOWN_ID}`, "DELETE"],
        ["POST", `/api/auth/sessions/${UNKNOWN_ID}`, "DELETE"],
        ["PUT", `/api/auth/sessions/${await sessionIdOf(cookie)}`, "DELETE"],
      ] as const) {
        const response = await request(route, { method, cookie });
        expect(response.status, `${method} ${route}`).toBe(405);
        expect(response.headers.get("allow"), `${method} ${route}`).toBe(allow);
        expect((await response.json()).error.code).toBe("method_not_allowed");
      }
      expect(await currentUser(cookie)).not.toBeNull();
    });

    it("answers 404 for a path below a session id", async () => {
      const [cookie] = (await userWithSessions(1)).cookies as [string];
      for (const method of ["GET", "DELETE"]) {
        const response = await request("/api/auth/sessions/a/b", { method, cookie });
        expect(response.status, method).toBe(404);
        expect((await response.json()).error.code).toBe("not_found");
      }
    });

    it("answers 404, never 500, for ids with odd characters, and deletes nothing", async () => {
      const { cookies } = await userWithSessions(2);
      const [cookie] = cookies as [string];
      for (const id of [
        "%2e%2e",
        "..",
        ".",
        "%2E%2E%2F",
        "A".repeat(200),
        "a.b",
        "%00",
        "%2F",
        "a%20b",
        ":id",
        "*",
        "%F0%9F%8D%AA",
      ]) {
        const response = await rawDelete(`/api/auth/sessions/${id}`, cookie);
        expect(response.status, id).toBe(404);
        expect(JSON.parse(response.body).error.code, id).toBe("not_found");
      }
      expect(await listSessions(cookie)).toHaveLength(2);
    });
  });

  describe("rotation after a role change", () => {
    it("GET /api/auth/session reports the new role with a new cookie value, and the old value is signed out", async () => {
      const email = uniqueEmail();
      const old = await signUp(email);
      await app.gatehouse.users.setRole(email, "admin");

      const response = await request("/api/auth/session", { cookie: old });
      expect(response.status).toBe(200);
      expect((await response.json()).user).toMatchObject({ email, role: "admin" });
      const rotated = sessionCookieOf(response);
      expect(rotated).toBeTruthy();
      expect(rotated).not.toBe(old);

      const again = await request("/api/auth/session", { cookie: rotated as string });
      expect((await again.json()).user).toMatchObject({ email, role: "admin" });
      expect(sessionCookieOf(again)).toBeUndefined();

      const stale = await request("/api/auth/session", { cookie: old });
      expect(await stale.json()).toEqual({ user: null });
    });

    it("GET /api/auth/sessions rotates too, and marks the new session as current", async () => {
      const email = uniqueEmail();
      const old = await signUp(email);
      const oldId = await sessionIdOf(old);
      await app.gatehouse.users.setRole(email, "admin");

      const response = await request("/api/auth/sessions", { cookie: old });
      expect(response.status).toBe(200);
      const rotated = sessionCookieOf(response) as string;
      expect(rotated).toBeTruthy();
      const { sessions } = (await response.json()) as { sessions: Array<{ id: string; current: boolean }> };
      expect(sessions.map((s) => s.id)).toEqual([await sessionIdOf(rotated)]);
      expect(sessions[0]?.id).not.toBe(oldId);
      expect(sessions[0]?.current).toBe(true);
    });

    it("a sessions request that fails after rotating still leaves the user signed in", async () => {
      const email = uniqueEmail();
      const old = await signUp(email);
      await app.gatehouse.users.setRole(email, "admin");

      const response = await request(`/api/auth/sessions/${UNKNOWN_ID}`, { method: "DELETE", cookie: old });
      expect(response.status).toBe(404);
      // The browser keeps its cookie unless the response replaces it.
      const held = sessionCookieOf(response) ?? old;
      expect(await currentUser(held)).toMatchObject({ email, role: "admin" });
    });
  });
});

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
import { querySqliteFile } from "./support/temp-sqlite.js";

describe.each(["database", "stateless"] as const)("auth API over HTTP (%s sessions)", (strategy) => {
  const app = useTestServer(strategy);
  const uniqueEmail = uniqueEmails("user", strategy);

  afterEach(() => {
    app.setClock(app.startedAt);
  });

  const request = (route: string, init?: ApiRequestInit) => apiRequest(app, route, init);
  const signUp = (email = uniqueEmail()) => signUpViaApi(app, email);

  async function logIn(email: string, password = PASSWORD, cookie?: string): Promise<Response> {
    return request("/api/auth/login", { json: { email, password }, ...(cookie === undefined ? {} : { cookie }) });
  }

  function rawUser(email: string): Record<string, unknown> | undefined {
    const query = "SELECT * FROM gatehouse_users WHERE email = ?";
    return querySqliteFile(app.dbFile, (db) => db.prepare(query).get(email) as Record<string, unknown> | undefined);
  }

  describe("POST /api/auth/signup", () => {
    it("answers 201 with exactly {user:{id,email,name,role,emailVerified}} and a hardened session cookie", async () => {
      const email = uniqueEmail();
      const response = await request("/api/auth/signup", {
        json: { email: `  ${email.toUpperCase()} `, password: PASSWORD, name: "Ada" },
      });
      expect(response.status).toBe(201);
      const text = await response.text();
      const body = JSON.parse(text);
      expect(Object.keys(body)).toEqual(["user"]);
      expect(Object.keys(body.user).sort()).toEqual(["email", "emailVerified", "id", "name", "role"]);
      expect(body.user).toMatchObject({ email, name: "Ada", role: "user", emailVerified: false });
      expect(text).not.toMatch(/argon2|password|hash|token|secret/i);

      const setCookies = response.headers.getSetCookie();
      expect(setCookies).toHaveLength(1);
      const [setCookie] = setCookies as [string];
      expect(setCookie).toMatch(/^gatehouse\.session=[^;]+;/);
      expect(setCookie).toMatch(/; HttpOnly/i);
      expect(setCookie).toMatch(/; SameSite=Lax/i);
      expect(setCookie).toMatch(/; Path=\//);
      expect(setCookie).not.toMatch(/Domain=/i);
      expect(Number(/Max-Age=(\d+)/i.exec(setCookie)?.[1])).toBe(7 * 24 * 3600);
      expect(text).not.toContain(sessionCookieOf(response));
      expect(response.headers.get("cache-control")).toContain("no-store");
    });

    it("answers 400 invalid_input naming email and password, and creates nothing", async () => {
      const response = await request("/api/auth/signup", { json: { email: "not-an-email", password: "short" } });
      expect(response.status).toBe(400);
      const body = await response.json();
      expect(body.error.code).toBe("invalid_input");
      expect(Object.keys(body.error.fields).sort()).toEqual(["email", "password"]);
      // Each field names its problem with a stable code (translatable) and an English message.
      expect(body.error.fields.email).toEqual({ code: "invalid_email", message: expect.any(String) });
      expect(body.error.fields.password).toEqual({ code: "too_short", message: expect.any(String), min: 8 });
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(rawUser("not-an-email")).toBeUndefined();
    });

    it("answers 409 email_taken for a registered email, whatever its case and surrounding spaces", async () => {
      const { email } = await signUp();
      for (const variant of [
        email,
        email.toUpperCase(),
        `  ${email} `,
        `\t${email[0]?.toUpperCase()}${email.slice(1)}`,
      ]) {
        const response = await request("/api/auth/signup", { json: { email: variant, password: PASSWORD } });
        expect(response.status, variant).toBe(409);
        expect((await response.json()).error.code).toBe("email_taken");
        expect(response.headers.getSetCookie()).toEqual([]);
      }
    });

    it("ignores a role field in the body", async () => {
      const email = uniqueEmail();
      const response = await request("/api/auth/signup", { json: { email, password: PASSWORD, role: "admin" } });
      expect(response.status).toBe(201);
      expect((await response.json()).user.role).toBe("user");
      expect(rawUser(email)?.role).toBe("user");
      const cookie = sessionCookieOf(response) as string;
      expect((await request("/api/admin", { cookie })).status).toBe(403);
    });
  });

  describe("POST /api/auth/login", () => {
    it("answers 200 with the user and a new cookie value each time", async () => {
      const { email, cookie: signUpCookie } = await signUp();
      const first = await logIn(email);
      const second = await logIn(email);
      expect(first.status).toBe(200);
      expect(second.status).toBe(200);
      const body = await first.json();
      expect(Object.keys(body)).toEqual(["user"]);
      expect(body.user.email).toBe(email);
      const values = [signUpCookie, sessionCookieOf(first), sessionCookieOf(second)];
      expect(new Set(values).size).toBe(3);
      for (const cookie of values.slice(1)) {
        expect((await request("/api/me", { cookie: cookie as string })).status).toBe(200);
      }
    });

    it("answers 401 invalid_credentials with byte-identical responses for an unknown email and a wrong password", async () => {
      const { email } = await signUp();
      const wrongPassword = await logIn(email, "wrong password!");
      const unknownEmail = await logIn(uniqueEmail(), PASSWORD);
      const malformedEmail = await logIn("not-an-email", PASSWORD);
      const bodies = await Promise.all([wrongPassword, unknownEmail, malformedEmail].map((r) => r.text()));
      for (const response of [wrongPassword, unknownEmail, malformedEmail]) {
        expect(response.status).toBe(401);
        expect(response.headers.getSetCookie()).toEqual([]);
      }
      expect(JSON.parse(bodies[0] as string).error.code).toBe("invalid_credentials");
      expect(bodies[1]).toBe(bodies[0]);
      expect(bodies[2]).toBe(bodies[0]);
      expect(unknownEmail.headers.get("content-type")).toBe(wrongPassword.headers.get("content-type"));
      expect(unknownEmail.headers.get("content-length")).toBe(wrongPassword.headers.get("content-length"));
    });

    it("refuses the password's prefix and its case-flipped form", async () => {
      const { email } = await signUp();
      expect((await logIn(email, PASSWORD.slice(0, -1))).status).toBe(401);
      expect((await logIn(email, PASSWORD.toUpperCase())).status).toBe(401);
    });

    it("revokes the session cookie the request came with (no fixation)", async () => {
      const { cookie: planted } = await signUp();
      const { email } = await signUp();
      const response = await logIn(email, PASSWORD, planted);
      expect(response.status).toBe(200);
      expect((await request("/api/me", { cookie: planted })).status).toBe(401);
      expect((await request("/api/me", { cookie: sessionCookieOf(response) as string })).status).toBe(200);
    });
  });

  describe("POST /api/auth/logout", () => {
    it("clears the cookie with Max-Age=0, and the old cookie no longer works", async () => {
      const { cookie } = await signUp();
      expect((await request("/api/me", { cookie })).status).toBe(200);
      const response = await request("/api/auth/logout", {
        method: "POST",
        cookie,
        headers: { "Content-Type": "application/json" },
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ ok: true });
      const setCookies = response.headers.getSetCookie();
      expect(setCookies).toHaveLength(1);
      expect(setCookies[0]).toMatch(/^gatehouse\.session=;/);
      expect(setCookies[0]).toMatch(/Max-Age=0/);

      const replay = await request("/api/me", { cookie });
      expect(replay.status).toBe(401);
      expect((await replay.json()).error.code).toBe("unauthenticated");
      const session = await request("/api/auth/session", { cookie });
      expect(await session.json()).toEqual({ user: null });
    });

    it("answers 200 and clears the cookie even without a session", async () => {
      const response = await request("/api/auth/logout", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
      });
      expect(response.status).toBe(200);
      expect(response.headers.getSetCookie()[0]).toMatch(/Max-Age=0/);
    });
  });

  describe("GET /api/auth/session", () => {
    it("answers {user:null} without a cookie, and sets none", async () => {
      const response = await request("/api/auth/session");
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ user: null });
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(response.headers.get("cache-control")).toContain("no-store");
    });

    it("answers {user, session:{expiresAt}, impersonatedBy: null} for a live session", async () => {
      const { email, cookie } = await signUp();
      const response = await request("/api/auth/session", { cookie });
      expect(response.status).toBe(200);
      const body = await response.json();
      expect(Object.keys(body).sort()).toEqual(["impersonatedBy", "session", "user"]);
      expect(body.impersonatedBy).toBeNull();
      expect(Object.keys(body.user).sort()).toEqual(["email", "emailVerified", "id", "name", "role"]);
      expect(body.user).toMatchObject({ email, emailVerified: false });
      expect(Object.keys(body.session)).toEqual(["expiresAt"]);
      const expiresAt = Date.parse(body.session.expiresAt);
      expect(new Date(expiresAt).toISOString()).toBe(body.session.expiresAt);
      expect(expiresAt).toBeGreaterThan(Date.now());
      expect(JSON.stringify(body)).not.toContain(cookie);
    });

    it("answers {user:null} and clears a dead cookie", async () => {
      const response = await request("/api/auth/session", { cookie: "not-a-session" });
      expect(await response.json()).toEqual({ user: null });
      expect(response.headers.getSetCookie()[0]).toMatch(/^gatehouse\.session=;.*Max-Age=0/);
    });
  });

  describe("guarded routes", () => {
    it("/api/me answers 401 unauthenticated without a cookie", async () => {
      const response = await request("/api/me");
      expect(response.status).toBe(401);
      expect((await response.json()).error.code).toBe("unauthenticated");
    });

    it("/api/me answers 200 with the user DTO and private, no-store caching", async () => {
      const { email, cookie } = await signUp();
      const response = await request("/api/me", { cookie });
      expect(response.status).toBe(200);
      const { user } = await response.json();
      expect(Object.keys(user).sort()).toEqual(["email", "emailVerified", "id", "name", "role"]);
      expect(user).toMatchObject({ email, emailVerified: false });
      expect(response.headers.get("cache-control")).toBe("private, no-store");
    });

    // withApiAuth(gatehouse, options, handler), and the deprecated withApiAuth(gatehouse, handler, options).
    it.each(["/api/admin", "/api/admin-legacy"])(
      "%s answers 401 signed out, 403 for a user and 200 for an admin",
      async (path) => {
        expect((await request(path)).status).toBe(401);

        const { cookie: userCookie } = await signUp();
        const forbidden = await request(path, { cookie: userCookie });
        expect(forbidden.status).toBe(403);
        expect((await forbidden.json()).error.code).toBe("forbidden");

        const adminEmail = uniqueEmail();
        await app.gatehouse.users.create({ email: adminEmail, password: PASSWORD, role: "admin" });
        const adminCookie = sessionCookieOf(await logIn(adminEmail)) as string;
        const allowed = await request(path, { cookie: adminCookie });
        expect(allowed.status).toBe(200);
        expect(await allowed.json()).toEqual({ admin: adminEmail });
      },
    );

    it("/api/admin answers 403 at the next call once the admin is demoted, with the same cookie", async () => {
      const adminEmail = uniqueEmail();
      await app.gatehouse.users.create({ email: adminEmail, password: PASSWORD, role: "admin" });
      const cookie = sessionCookieOf(await logIn(adminEmail)) as string;
      expect((await request("/api/admin", { cookie })).status).toBe(200);
      await app.gatehouse.users.setRole(adminEmail, "user");
      expect((await request("/api/admin", { cookie })).status).toBe(403);
    });

    it("answers 401 once the user is deleted", async () => {
      const { email, cookie } = await signUp();
      const user = await app.store.getUserByEmail(email);
      await app.store.deleteUser(user?.id as string);
      expect((await request("/api/me", { cookie })).status).toBe(401);
    });
  });

  describe("sliding over HTTP", () => {
    const DAY = 24 * 60 * 60 * 1000;

    for (const route of ["/api/me", "/api/auth/session"]) {
      it(`${route} re-sends the session cookie with a full Max-Age once half of it has passed`, async () => {
        const { cookie } = await signUp();
        app.setClock(app.startedAt + 3 * DAY);
        expect((await request(route, { cookie })).headers.getSetCookie()).toEqual([]);

        app.setClock(app.startedAt + 4 * DAY);
        const response = await request(route, { cookie });
        expect(response.status).toBe(200);
        const [setCookie] = response.headers.getSetCookie();
        expect(setCookie).toMatch(/^gatehouse\.session=[^;]+;/);
        expect(setCookie).toMatch(/Max-Age=604800/);
        const renewed = sessionCookieOf(response) as string;
        if (strategy === "database") expect(renewed).toBe(cookie);
        else expect(renewed).not.toBe(cookie);

        app.setClock(app.startedAt + 10 * DAY);
        expect((await request("/api/me", { cookie: renewed })).status).toBe(200);
      });
    }

    it("answers 401 and clears the cookie for a session unused for longer than maxAge", async () => {
      const { cookie } = await signUp();
      app.setClock(app.startedAt + 7 * DAY);
      const response = await request("/api/me", { cookie });
      expect(response.status).toBe(401);
      expect(response.headers.getSetCookie()[0]).toMatch(/^gatehouse\.session=;.*Max-Age=0/);
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXAMPLE_APPS, type RunningApp, startApp } from "./support/app";
import { createClient, PASSWORD, sessionCookieName, uniqueEmail } from "./support/http";

const cases = EXAMPLE_APPS.flatMap((example) =>
  (["database", "stateless"] as const).map((strategy) => ({ example, strategy })),
);

describe.each(cases)("the $example example app's JSON API ($strategy sessions)", ({ example, strategy }) => {
  let app: RunningApp;

  beforeAll(async () => {
    app = await startApp({ strategy, app: example });
  });
  afterAll(async () => {
    await app?.stop();
  });

  async function signUp(email = uniqueEmail()) {
    const client = createClient(app.url);
    const response = await client.request("/api/auth/signup", { json: { email, password: PASSWORD, name: "Ada" } });
    expect(response.status).toBe(201);
    return { client, email, body: (await response.json()) as { user: Record<string, unknown> } };
  }

  it("signs up with 201, the user DTO and a hardened session cookie", async () => {
    const client = createClient(app.url);
    const email = uniqueEmail();
    const response = await client.request("/api/auth/signup", {
      json: { email: `  ${email.toUpperCase()} `, password: PASSWORD },
    });
    expect(response.status).toBe(201);
    const body = await response.json();
    expect(Object.keys(body)).toEqual(["user"]);
    expect(Object.keys(body.user).sort()).toEqual(["email", "emailVerified", "id", "name", "role"]);
    expect(body.user).toMatchObject({ email, name: null, role: "user" });
    const [setCookie] = response.headers.getSetCookie();
    expect(setCookie).toBeDefined();
    expect(setCookie).toMatch(/^__Host-gatehouse\.session=/);
    expect(setCookie).toMatch(/; HttpOnly/i);
    expect(setCookie).toMatch(/; SameSite=Lax/i);
    expect(setCookie).toMatch(/; Path=\//);
    expect(setCookie).toMatch(/; Secure/i);
    expect(setCookie).not.toMatch(/Domain=/i);
    const maxAge = Number(/Max-Age=(\d+)/i.exec(setCookie as string)?.[1]);
    expect(maxAge).toBeGreaterThan(6 * 24 * 3600);
    expect(maxAge).toBeLessThanOrEqual(7 * 24 * 3600);
    expect((setCookie as string).split(";", 1)[0]!.length).toBeLessThanOrEqual(4096);
    expect(response.headers.get("cache-control")).toContain("no-store");
    expect(client.cookie).toBeDefined();
  });

  it("answers 400 invalid_input with per-field messages", async () => {
    const client = createClient(app.url);
    const response = await client.request("/api/auth/signup", { json: { email: "not-an-email", password: "short" } });
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body.error.code).toBe("invalid_input");
    expect(typeof body.error.message).toBe("string");
    expect(Object.keys(body.error.fields).sort()).toEqual(["email", "password"]);
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("answers 409 email_taken for an email that is already registered, whatever its case", async () => {
    const { email } = await signUp();
    const response = await createClient(app.url).request("/api/auth/signup", {
      json: { email: email.toUpperCase(), password: PASSWORD },
    });
    expect(response.status).toBe(409);
    expect((await response.json()).error.code).toBe("email_taken");
  });

  it("logs in with 200, the user and a new session value each time", async () => {
    const { email, client: first } = await signUp();
    const second = createClient(app.url);
    const response = await second.request("/api/auth/login", { json: { email, password: PASSWORD } });
    expect(response.status).toBe(200);
    expect((await response.json()).user.email).toBe(email);
    expect(second.cookie).toBeDefined();
    expect(second.cookie).not.toBe(first.cookie);
  });

  it("answers 401 invalid_credentials with the same body for an unknown email and a wrong password", async () => {
    const { email } = await signUp();
    const wrong = await createClient(app.url).request("/api/auth/login", {
      json: { email, password: "wrong password!" },
    });
    const unknown = await createClient(app.url).request("/api/auth/login", {
      json: { email: uniqueEmail("nobody"), password: "wrong password!" },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const wrongBody = await wrong.text();
    expect(wrongBody).toBe(await unknown.text());
    expect(JSON.parse(wrongBody).error.code).toBe("invalid_credentials");
    expect(wrong.headers.getSetCookie()).toEqual(unknown.headers.getSetCookie());
  });

  it("logs out: the cookie is cleared and the old value no longer works", async () => {
    const { client } = await signUp();
    const oldCookie = client.cookie as string;
    expect((await client.request("/api/me")).status).toBe(200);
    const response = await client.request("/api/auth/logout", { method: "POST" });
    expect(response.status).toBeGreaterThanOrEqual(200);
    expect(response.status).toBeLessThan(300);
    const [clear] = response.headers.getSetCookie();
    expect(clear).toMatch(/Max-Age=0/i);
    expect(sessionCookieName(clear as string)).toBe(oldCookie.split("=")[0]);
    const replay = await fetch(`${app.url}/api/me`, { headers: { cookie: oldCookie } });
    expect(replay.status).toBe(401);
  });

  it("GET /api/auth/session answers {user:null} or {user, session:{expiresAt}}", async () => {
    const anonymous = await createClient(app.url).request("/api/auth/session");
    expect(anonymous.status).toBe(200);
    expect(await anonymous.json()).toEqual({ user: null });
    const { client, body } = await signUp();
    const signedIn = await client.request("/api/auth/session");
    const session = await signedIn.json();
    expect(session.user).toEqual(body.user);
    expect(Date.parse(session.session.expiresAt)).toBeGreaterThan(Date.now());
  });

  it("GET /api/me answers 401 unauthenticated or 200 {user}", async () => {
    const anonymous = await createClient(app.url).request("/api/me");
    expect(anonymous.status).toBe(401);
    expect((await anonymous.json()).error.code).toBe("unauthenticated");
    const { client, body } = await signUp();
    const me = await client.request("/api/me");
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ user: body.user });
  });

  it("GET /api/admin/users answers 401, 403 forbidden for a user, and 200 for an admin made with the CLI", async () => {
    expect((await createClient(app.url).request("/api/admin/users")).status).toBe(401);
    const { client } = await signUp();
    const forbidden = await client.request("/api/admin/users");
    expect(forbidden.status).toBe(403);
    expect((await forbidden.json()).error.code).toBe("forbidden");

    const adminEmail = uniqueEmail("admin");
    const created = app.cli(["users", "create", "--email", adminEmail, "--password", PASSWORD, "--role", "admin"]);
    expect(created.status, created.stderr).toBe(0);
    const admin = createClient(app.url);
    expect((await admin.request("/api/auth/login", { json: { email: adminEmail, password: PASSWORD } })).status).toBe(
      200,
    );
    const list = await admin.request("/api/admin/users");
    expect(list.status).toBe(200);
    const { users, nextCursor } = await list.json();
    expect(users.some((u: { email: string }) => u.email === adminEmail)).toBe(true);
    expect(nextCursor).toBeNull();
    // The admin API's user: the account's standing, and nothing of its password or factors' secrets.
    for (const user of users)
      expect(Object.keys(user).sort()).toEqual([
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
      ]);
  });

  it("a demoted admin loses admin access on the next request", async () => {
    const email = uniqueEmail("demoted");
    expect(app.cli(["users", "create", "--email", email, "--password", PASSWORD, "--role", "admin"]).status).toBe(0);
    const client = createClient(app.url);
    await client.request("/api/auth/login", { json: { email, password: PASSWORD } });
    expect((await client.request("/api/admin/users")).status).toBe(200);
    expect(app.cli(["users", "set-role", "--email", email, "--role", "user"]).status).toBe(0);
    expect((await client.request("/api/admin/users")).status).toBe(403);
  });

  it("GET /api/health answers 200 without a session", async () => {
    const response = await fetch(`${app.url}/api/health`);
    expect(response.status).toBe(200);
  });

  describe("bad input is a 4xx JSON error, never a 500", () => {
    it.each([
      ["malformed JSON", '{"email": "a@example.com", "password": ', 400, "invalid_json"],
      ["a JSON array", "[]", 400, "invalid_input"],
      ["a JSON string", '"hello"', 400, "invalid_input"],
      ["null", "null", 400, "invalid_input"],
      ["non-string fields", '{"email": 42, "password": {"x": 1}}', 400, "invalid_input"],
      ["missing fields", "{}", 400, "invalid_input"],
      ["prototype keys", '{"__proto__": {"email": "a@example.com"}, "constructor": 1}', 400, "invalid_input"],
    ])("login with %s", async (_name, body, status, code) => {
      for (const route of ["login", "signup"]) {
        const response = await fetch(`${app.url}/api/auth/${route}`, {
          method: "POST",
          headers: { "content-type": "application/json", origin: app.url },
          body,
        });
        expect(response.status).toBe(status);
        expect((await response.json()).error.code).toBe(code);
      }
    });

    it("a 1 MB body gets 413", async () => {
      const response = await fetch(`${app.url}/api/auth/signup`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: app.url },
        body: JSON.stringify({ email: uniqueEmail(), password: "x".repeat(1024 * 1024) }),
      });
      expect(response.status).toBe(413);
      expect((await response.json()).error.code).toBe("payload_too_large");
    });

    it("a text/plain body gets 415", async () => {
      const response = await fetch(`${app.url}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "text/plain", origin: app.url },
        body: JSON.stringify({ email: uniqueEmail(), password: PASSWORD }),
      });
      expect(response.status).toBe(415);
      expect((await response.json()).error.code).toBe("unsupported_media_type");
    });

    it("a state-changing request from another origin gets 403 csrf and changes nothing", async () => {
      const email = uniqueEmail("csrf");
      const response = await fetch(`${app.url}/api/auth/signup`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: "https://evil.example" },
        body: JSON.stringify({ email, password: PASSWORD }),
      });
      expect(response.status).toBe(403);
      expect((await response.json()).error.code).toBe("csrf");
      const login = await createClient(app.url).request("/api/auth/login", { json: { email, password: PASSWORD } });
      expect(login.status).toBe(401);
    });

    it.each([
      ["a tampered cookie", (value: string) => value.slice(0, -2) + (value.endsWith("AA") ? "BB" : "AA")],
      ["a truncated cookie", (value: string) => value.slice(0, Math.floor(value.length / 2))],
      ["8 KB of garbage", () => "z".repeat(8 * 1024)],
      ["binary-looking garbage", () => "%00%ff%fe\u00e9\u{1F600}"],
    ])("%s gets 401 from the API and a redirect from pages", async (_name, mangle) => {
      const { client } = await signUp();
      const [name, value] = (client.cookie as string).split("=") as [string, string];
      const cookie = `${name}=${encodeURIComponent(mangle(value)).slice(0, 8 * 1024)}`;
      const me = await fetch(`${app.url}/api/me`, { headers: { cookie } });
      expect(me.status).toBe(401);
      expect((await me.json()).error.code).toBe("unauthenticated");
      const page = await fetch(`${app.url}/dashboard`, { headers: { cookie }, redirect: "manual" });
      expect([302, 303, 307, 308]).toContain(page.status);
      const location = new URL(page.headers.get("location") as string, app.url);
      // The App Router's page cannot clear the cookie: it sends the visitor to log in through the auth API.
      const login =
        location.pathname === "/api/auth/session/clear"
          ? new URL(location.searchParams.get("next") ?? "", app.url)
          : location;
      expect(login.pathname).toBe("/login");
    });
  });

  describe("pages and the proxy", () => {
    it("redirects a signed-out visitor from protected pages to /login?next=<path>", async () => {
      for (const path of ["/dashboard", "/profile", "/admin"]) {
        const response = await fetch(`${app.url}${path}`, { redirect: "manual" });
        expect([302, 303, 307, 308]).toContain(response.status);
        const location = new URL(response.headers.get("location") as string, app.url);
        expect(location.pathname).toBe("/login");
        expect(location.searchParams.get("next")).toBe(path);
      }
    });

    it("a forged x-middleware-subrequest header gains nothing", async () => {
      for (const value of [
        "middleware:middleware:middleware:middleware:middleware",
        "proxy:proxy:proxy:proxy:proxy",
        "src/middleware:src/middleware:src/middleware:src/middleware:src/middleware",
      ]) {
        const page = await fetch(`${app.url}/dashboard`, {
          headers: { "x-middleware-subrequest": value },
          redirect: "manual",
        });
        expect(page.status).not.toBe(200);
        expect(new URL(page.headers.get("location") ?? "/x", app.url).pathname).toBe("/login");
        const api = await fetch(`${app.url}/api/me`, { headers: { "x-middleware-subrequest": value } });
        expect(api.status).toBe(401);
      }
    });

    it("sends a signed-in visitor from /login and /signup to /dashboard", async () => {
      const { client } = await signUp();
      for (const path of ["/login", "/signup"]) {
        const response = await client.request(path);
        expect([302, 303, 307, 308]).toContain(response.status);
        expect(new URL(response.headers.get("location") as string, app.url).pathname).toBe("/dashboard");
      }
    });

    it("renders protected pages for a signed-in user, and 403 on /admin for a non-admin", async () => {
      const { client, email } = await signUp();
      const dashboard = await client.request("/dashboard");
      expect(dashboard.status).toBe(200);
      expect(await dashboard.text()).toContain(email);
      expect((await client.request("/profile")).status).toBe(200);
      const admin = await client.request("/admin");
      expect(admin.status).toBe(403);
      expect(await admin.text()).not.toContain("@example.com</td>");
    });

    it.each([
      "https://evil.example",
      "//evil.example",
      "/\\evil.example",
      "https:evil.example",
      "%2F%2Fevil.example",
      "javascript:alert(1)",
    ])("never follows next=%s off-site", async (next) => {
      const { email } = await signUp();
      const client = createClient(app.url);
      const response = await client.request("/api/auth/login", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ email, password: PASSWORD, next }).toString(),
      });
      expect(response.status).toBe(303);
      const location = new URL(response.headers.get("location") as string, app.url);
      expect(location.origin).toBe(new URL(app.url).origin);
      expect(location.pathname).toBe("/dashboard");
    });

    it("follows a same-site next after a form log-in", async () => {
      const { email } = await signUp();
      const response = await createClient(app.url).request("/api/auth/login", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ email, password: PASSWORD, next: "/profile?tab=1" }).toString(),
      });
      expect(response.status).toBe(303);
      expect(response.headers.get("location")).toBe("/profile?tab=1");
    });
  });
});

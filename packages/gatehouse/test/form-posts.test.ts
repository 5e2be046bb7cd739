import { describe, expect, it } from "vitest";
import { PASSWORD } from "./support/credentials.js";
import { sessionCookieHeader, sessionCookieOf, uniqueEmails, useTestServer } from "./support/http-server.js";

describe.each(["database", "stateless"] as const)("HTML form posts (%s sessions)", (strategy) => {
  const app = useTestServer(strategy);
  const uniqueEmail = uniqueEmails("form", strategy);

  function postForm(
    route: string,
    fields: Record<string, string>,
    headers: Record<string, string> = { Origin: app.origin },
  ): Promise<Response> {
    return fetch(`${app.url}${route}`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
      body: new URLSearchParams(fields).toString(),
      redirect: "manual",
    });
  }

  async function createUser(): Promise<string> {
    const email = uniqueEmail();
    await app.gatehouse.users.create({ email, password: PASSWORD });
    return email;
  }

  it("logs in and answers 303 to next with a session cookie", async () => {
    const email = await createUser();
    const response = await postForm("/api/auth/login", { email, password: PASSWORD, next: "/profile" });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/profile");
    const cookie = sessionCookieOf(response);
    expect(cookie).toBeTruthy();
    expect(response.headers.getSetCookie()[0]).toMatch(/HttpOnly/i);
    const me = await fetch(`${app.url}/api/me`, { headers: { Cookie: sessionCookieHeader(cookie as string) } });
    expect((await me.json()).user.email).toBe(email);
  });

  it("keeps the query of a same-site next", async () => {
    const email = await createUser();
    const response = await postForm("/api/auth/login", { email, password: PASSWORD, next: "/dashboard?tab=2#top" });
    expect(response.headers.get("location")).toBe("/dashboard?tab=2#top");
  });

  it("answers 303 to /dashboard without next", async () => {
    const email = await createUser();
    const response = await postForm("/api/auth/login", { email, password: PASSWORD });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/dashboard");
  });

  it("answers 303 to /login?error=invalid_credentials on a wrong password, without a cookie", async () => {
    const email = await createUser();
    const response = await postForm("/api/auth/login", { email, password: "wrong password!" });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/login?error=invalid_credentials");
    expect(sessionCookieOf(response)).toBeUndefined();
  });

  it("answers the same redirect for an unknown email", async () => {
    const response = await postForm("/api/auth/login", { email: uniqueEmail(), password: PASSWORD });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/login?error=invalid_credentials");
  });

  it.each([
    "//evil.example",
    "https://evil.example",
    "/\\evil.example",
    "https:evil.example",
    "%2F%2Fevil.example",
    "javascript:alert(1)",
  ])("sends a successful log-in with next=%s to /dashboard", async (next) => {
    const email = await createUser();
    const response = await postForm("/api/auth/login", { email, password: PASSWORD, next });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/dashboard");
  });

  it("does not carry a hostile next into the failure redirect", async () => {
    const response = await postForm("/api/auth/login", {
      email: uniqueEmail(),
      password: PASSWORD,
      next: "//evil.example",
    });
    const location = new URL(response.headers.get("location") as string, app.origin);
    expect(location.origin).toBe(app.origin);
    expect(location.pathname).toBe("/login");
    expect(location.searchParams.get("error")).toBe("invalid_credentials");
    expect(location.searchParams.get("next")).toBe("/dashboard");
  });

  it("signs up with 303 and ignores a role field", async () => {
    const email = uniqueEmail();
    const response = await postForm("/api/auth/signup", { email, password: PASSWORD, role: "admin", next: "/profile" });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/profile");
    expect((await app.store.getUserByEmail(email))?.role).toBe("user");
  });

  it("answers 303 to /signup?error=… for invalid sign-up input", async () => {
    const response = await postForm("/api/auth/signup", { email: "not-an-email", password: "short" });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/signup?error=invalid_input");
    expect(sessionCookieOf(response)).toBeUndefined();
  });

  it("logs out with 303 to /login and clears the cookie", async () => {
    const email = await createUser();
    const cookie = sessionCookieOf(await postForm("/api/auth/login", { email, password: PASSWORD })) as string;
    const response = await postForm(
      "/api/auth/logout",
      {},
      { Origin: app.origin, Cookie: sessionCookieHeader(cookie) },
    );
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/login");
    expect(response.headers.getSetCookie()[0]).toMatch(/^gatehouse\.session=;.*Max-Age=0/);
    const me = await fetch(`${app.url}/api/me`, { headers: { Cookie: sessionCookieHeader(cookie) } });
    expect(me.status).toBe(401);
  });

  it("refuses a form post without Origin or Sec-Fetch-Site, and one from another site, with 403 csrf and no session", async () => {
    const email = await createUser();
    const attempts: Array<Record<string, string>> = [
      {},
      { Origin: "https://evil.example" },
      { Origin: "null" },
      { "Sec-Fetch-Site": "cross-site" },
      { "Sec-Fetch-Site": "none" },
    ];
    for (const headers of attempts) {
      const response = await postForm(
        "/api/auth/login",
        { email, password: PASSWORD, next: "//evil.example" },
        headers,
      );
      expect(response.status, JSON.stringify(headers)).toBe(403);
      expect((await response.json()).error.code).toBe("csrf");
      expect(response.headers.get("location")).toBeNull();
      expect(response.headers.getSetCookie()).toEqual([]);
    }
  });

  it("refuses a cross-site form sign-up without creating the user", async () => {
    const email = uniqueEmail();
    const response = await postForm(
      "/api/auth/signup",
      { email, password: PASSWORD },
      { Origin: "https://evil.example" },
    );
    expect(response.status).toBe(403);
    expect((await response.json()).error.code).toBe("csrf");
    expect(await app.store.getUserByEmail(email)).toBeNull();
  });

  it("refuses a cross-site form log-out and keeps the session", async () => {
    const email = await createUser();
    const cookie = sessionCookieOf(await postForm("/api/auth/login", { email, password: PASSWORD })) as string;
    const response = await postForm(
      "/api/auth/logout",
      {},
      { Origin: "https://evil.example", Cookie: sessionCookieHeader(cookie) },
    );
    expect(response.status).toBe(403);
    expect((await response.json()).error.code).toBe("csrf");
    expect(response.headers.getSetCookie()).toEqual([]);
    const me = await fetch(`${app.url}/api/me`, { headers: { Cookie: sessionCookieHeader(cookie) } });
    expect(me.status).toBe(200);
  });

  it("accepts a form post with Sec-Fetch-Site: same-origin and no Origin", async () => {
    const email = await createUser();
    const response = await postForm(
      "/api/auth/login",
      { email, password: PASSWORD },
      { "Sec-Fetch-Site": "same-origin" },
    );
    expect(response.status).toBe(303);
  });
});

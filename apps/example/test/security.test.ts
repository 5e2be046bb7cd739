import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApp, startApp } from "./support/app";
import { createClient, PASSWORD, uniqueEmail } from "./support/http";

describe("security hardening of the example app", () => {
  let app: RunningApp;

  beforeAll(async () => {
    // The default per-account limit (10 failures per 15 minutes) stays in force here.
    app = await startApp({ strategy: "database" });
  });
  afterAll(async () => {
    await app?.stop();
  });

  async function signUp() {
    const client = createClient(app.url);
    const email = uniqueEmail("sec");
    expect((await client.request("/api/auth/signup", { json: { email, password: PASSWORD } })).status).toBe(201);
    return { client, email };
  }

  it("sends the security headers on pages and API responses", async () => {
    for (const path of ["/", "/login", "/api/health", "/api/auth/session"]) {
      const response = await fetch(`${app.url}${path}`, { redirect: "manual" });
      expect(response.headers.get("content-security-policy"), path).toContain("frame-ancestors 'none'");
      expect(response.headers.get("x-frame-options"), path).toBe("DENY");
      expect(response.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(response.headers.get("strict-transport-security"), path).toBe("max-age=31536000; includeSubDomains");
    }
    expect((await fetch(`${app.url}/`)).headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
    for (const path of ["/login", "/signup", "/api/auth/session"]) {
      expect((await fetch(`${app.url}${path}`)).headers.get("referrer-policy"), path).toBe("no-referrer");
    }
  });

  it("sends a CSP that allows only this origin's files: no inline or eval'd script, no plugin, no <base>, never framed", async () => {
    for (const path of ["/", "/login", "/forgot-password", "/no-such-page", "/api/health"]) {
      const header =
        (await fetch(`${app.url}${path}`, { redirect: "manual" })).headers.get("content-security-policy") ?? "";
      const directives = Object.fromEntries(
        header
          .split(";")
          .map((d) => d.trim().split(/\s+/))
          .map(([name, ...sources]) => [name, sources]),
      );
      expect(directives, path).toEqual({
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
      });
    }
  });

  it("never lets auth and session responses be cached", async () => {
    const { client } = await signUp();
    for (const path of ["/api/auth/session", "/api/auth/sessions", "/api/me"]) {
      expect((await client.request(path)).headers.get("cache-control"), path).toContain("no-store");
    }
    expect((await client.request("/dashboard")).headers.get("cache-control")).toContain("no-store");
  });

  it("PATCH /api/me changes the name but never the role", async () => {
    const { client } = await signUp();
    const response = await client.request("/api/me", { method: "PATCH", json: { role: "admin", name: "Ada" } });
    expect(response.status).toBe(200);
    expect((await response.json()).user).toMatchObject({ name: "Ada", role: "user" });
    expect((await client.request("/api/admin/users")).status).toBe(403);
  });

  it("refuses cookie-authenticated writes from another origin or without one", async () => {
    const { client } = await signUp();
    for (const origin of ["https://evil.example", "null"]) {
      const response = await client.request("/api/me", {
        method: "PATCH",
        json: { name: "Mallory" },
        headers: { origin },
      });
      expect(response.status, origin).toBe(403);
      expect((await response.json()).error.code).toBe("csrf");
    }
    const bare = await fetch(`${app.url}/api/me`, {
      method: "PATCH",
      headers: { "content-type": "application/json", cookie: client.cookie as string },
      body: JSON.stringify({ name: "Mallory" }),
    });
    expect(bare.status).toBe(403);
    expect((await (await client.request("/api/me")).json()).user.name).toBeNull();
  });

  it("answers malformed JSON and wrong content types on PATCH /api/me with 4xx JSON", async () => {
    const { client } = await signUp();
    const malformed = await client.request("/api/me", {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: "{",
    });
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error.code).toBe("invalid_json");
    const text = await client.request("/api/me", {
      method: "PATCH",
      headers: { "content-type": "text/plain" },
      body: "name=x",
    });
    expect(text.status).toBe(415);
  });

  it("locks one account from one IP after 10 failures, even for the right password, with Retry-After", async () => {
    const { email } = await signUp();
    for (let attempt = 1; attempt <= 10; attempt++) {
      const response = await createClient(app.url).request("/api/auth/login", {
        json: { email, password: "not the password" },
      });
      expect(response.status, `attempt ${attempt}`).toBe(401);
    }
    const limited = await createClient(app.url).request("/api/auth/login", { json: { email, password: PASSWORD } });
    expect(limited.status).toBe(429);
    expect((await limited.json()).error.code).toBe("rate_limited");
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
  });
});

describe("a misconfigured deployment", () => {
  it("answers clients with the generic 500 and writes the details to the server log only", async () => {
    const app = await startApp({ env: { GATEHOUSE_SESSION_STRATEGY: "jwt" } });
    try {
      for (const path of ["/api/auth/login", "/api/auth/signup"]) {
        const response = await createClient(app.url).request(path, {
          json: { email: uniqueEmail("misconfigured"), password: PASSWORD },
        });
        expect(response.status, path).toBe(500);
        expect(await response.json(), path).toEqual({
          error: { code: "internal_error", message: "Something went wrong on our side." },
        });
      }
      await expect.poll(() => app.logs()).toContain('gatehouse: configuration error: Unknown session strategy "jwt"');
    } finally {
      await app.stop();
    }
  });
});

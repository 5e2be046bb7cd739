import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXAMPLE_APPS, type ExampleApp, type RunningApp, startApp } from "./support/app";
import { createClient, PASSWORD, uniqueEmail } from "./support/http";

/**
 * The script sources a page may run. The Pages Router's are all files (`'self'`); the App Router inlines its
 * RSC payload, so its proxy gives each response a fresh nonce (and `'strict-dynamic'` lets those scripts load
 * the chunks). No app allows `'unsafe-inline'` or `'unsafe-eval'`.
 */
function scriptSources(example: ExampleApp, path: string): unknown[] {
  if (example === "pages" || path.startsWith("/api/")) return ["'self'"];
  return ["'self'", expect.stringMatching(/^'nonce-[A-Za-z0-9+/_-]{22,}={0,2}'$/), "'strict-dynamic'"];
}

describe.each(EXAMPLE_APPS)("security hardening of the %s example app", (example) => {
  let app: RunningApp;

  beforeAll(async () => {
    // The default per-account limit (10 failures per 15 minutes) stays in force here.
    app = await startApp({ strategy: "database", app: example });
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
    // The auth pages never leak their URL (a reset link's token) to another site. The App Router's are
    // `same-origin`, not `no-referrer`: under `no-referrer` a browser posts a form with `Origin: null`, which a
    // Server Action must refuse (and Next does), so no form would work without JavaScript.
    const authPagePolicy = example === "pages" ? "no-referrer" : "same-origin";
    for (const path of ["/login", "/signup", "/reset-password", "/api/auth/session"]) {
      expect((await fetch(`${app.url}${path}`)).headers.get("referrer-policy"), path).toBe(
        path.startsWith("/api/") ? "no-referrer" : authPagePolicy,
      );
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
        "script-src": scriptSources(example, path),
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
      });
    }
    if (example === "app-router") {
      // A nonce is only worth something if nobody can know it in advance: a new one for every response.
      const nonces = await Promise.all(
        [1, 2].map(
          async () =>
            /'nonce-([^']+)'/.exec((await fetch(`${app.url}/login`)).headers.get("content-security-policy") ?? "")?.[1],
        ),
      );
      expect(nonces[0]).toBeDefined();
      expect(nonces[0]).not.toBe(nonces[1]);
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

describe.each(EXAMPLE_APPS)("a misconfigured deployment of the %s example app", (example) => {
  it("answers clients with the generic 500 and writes the details to the server log only", async () => {
    const app = await startApp({ env: { GATEHOUSE_SESSION_STRATEGY: "jwt" }, app: example });
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

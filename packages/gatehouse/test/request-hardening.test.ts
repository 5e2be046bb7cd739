import { describe, expect, it } from "vitest";
import { PASSWORD } from "./support/credentials.js";
import {
  expectError,
  SESSION_COOKIE,
  sessionCookieHeader,
  signUpViaApi,
  uniqueEmails,
  useTestServer,
} from "./support/http-server.js";

describe.each(["database", "stateless"] as const)("malformed and hostile requests (%s sessions)", (strategy) => {
  const app = useTestServer(strategy);
  const uniqueEmail = uniqueEmails("hostile", strategy);

  function post(route: string, body: BodyInit, headers: Record<string, string>): Promise<Response> {
    return fetch(`${app.url}${route}`, { method: "POST", headers, body, redirect: "manual" });
  }

  function postJson(route: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
    return post(route, body, { Origin: app.origin, "Content-Type": "application/json", ...headers });
  }

  const signUp = () => signUpViaApi(app, uniqueEmail());

  function me(cookieHeader: string): Promise<Response> {
    return fetch(`${app.url}/api/me`, { headers: { Cookie: cookieHeader } });
  }

  describe("bodies", () => {
    it("answers 400 invalid_json for malformed JSON", async () => {
      for (const route of ["/api/auth/signup", "/api/auth/login"]) {
        for (const body of ["{", '{"email": "a@b.co",}', "{'email':'a@b.co'}", "nul"]) {
          await expectError(await postJson(route, body), 400, "invalid_json");
        }
      }
    });

    it("answers 400 invalid_input for a JSON array, number, string, null or empty body", async () => {
      for (const route of ["/api/auth/signup", "/api/auth/login"]) {
        for (const body of [
          '[{"email":"a@b.co","password":"correct horse battery"}]',
          "42",
          '"a@b.co"',
          "null",
          "true",
          "",
        ]) {
          await expectError(await postJson(route, body), 400, "invalid_input");
        }
      }
    });

    it("does not take fields from a __proto__ key", async () => {
      const body = `{"__proto__":{"email":"${uniqueEmail()}","password":"${PASSWORD}"}}`;
      await expectError(await postJson("/api/auth/signup", body), 400, "invalid_input");
    });

    it("answers 415 for text/plain and other non-JSON types", async () => {
      const body = JSON.stringify({ email: uniqueEmail(), password: PASSWORD });
      for (const type of [
        "text/plain",
        "text/plain;charset=UTF-8",
        "multipart/form-data; boundary=x",
        "application/xml",
      ]) {
        await expectError(
          await post("/api/auth/signup", body, { Origin: app.origin, "Content-Type": type }),
          415,
          "unsupported_media_type",
        );
      }
    });

    it("accepts application/json with a charset parameter", async () => {
      const response = await post("/api/auth/signup", JSON.stringify({ email: uniqueEmail(), password: PASSWORD }), {
        Origin: app.origin,
        "Content-Type": "application/json; charset=utf-8",
      });
      expect(response.status).toBe(201);
    });

    it("answers 413 for a 20 KB body with a Content-Length", async () => {
      const body = JSON.stringify({ email: uniqueEmail(), password: PASSWORD, name: "x".repeat(20 * 1024) });
      await expectError(await postJson("/api/auth/signup", body), 413, "payload_too_large");
    });

    it("answers 413 for a 20 KB body sent chunked, without a Content-Length", async () => {
      const chunk = new TextEncoder().encode(" ".repeat(1024));
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 20) controller.enqueue(chunk);
          else controller.close();
        },
      });
      const response = await fetch(`${app.url}/api/auth/login`, {
        method: "POST",
        headers: { Origin: app.origin, "Content-Type": "application/json" },
        body: stream,
        duplex: "half",
      } as RequestInit);
      await expectError(response, 413, "payload_too_large");
    });

    it("answers 413 to a 1 MB password, before any hashing", async () => {
      const response = await postJson(
        "/api/auth/login",
        JSON.stringify({ email: uniqueEmail(), password: "p".repeat(1024 * 1024) }),
      );
      expect(response.status).toBe(413);
    });
  });

  describe("cross-site requests (CSRF)", () => {
    it("answers 403 csrf for another Origin, creates no user, and reflects nothing", async () => {
      const email = uniqueEmail();
      const response = await postJson("/api/auth/signup", JSON.stringify({ email, password: PASSWORD }), {
        Origin: "https://evil.example",
      });
      await expectError(response, 403, "csrf");
      expect(response.headers.get("access-control-allow-origin")).toBeNull();
      expect(response.headers.get("access-control-allow-credentials")).toBeNull();
      expect(await app.store.getUserByEmail(email)).toBeNull();
    });

    it('answers 403 csrf for Origin "null"', async () => {
      const email = uniqueEmail();
      await expectError(
        await postJson("/api/auth/signup", JSON.stringify({ email, password: PASSWORD }), { Origin: "null" }),
        403,
        "csrf",
      );
      expect(await app.store.getUserByEmail(email)).toBeNull();
    });

    it("answers 403 csrf for an Origin that only resembles the app's", async () => {
      const { hostname, port } = new URL(app.url);
      for (const evil of [
        `https://${hostname}:${port}`,
        `http://${hostname}.evil.example:${port}`,
        `http://${hostname}:${Number(port) + 1}`,
      ]) {
        await expectError(
          await postJson("/api/auth/login", JSON.stringify({ email: "a@b.co", password: PASSWORD }), { Origin: evil }),
          403,
          "csrf",
        );
      }
    });

    it("answers 403 csrf for Sec-Fetch-Site: cross-site without Origin", async () => {
      const response = await post("/api/auth/signup", JSON.stringify({ email: uniqueEmail(), password: PASSWORD }), {
        "Content-Type": "application/json",
        "Sec-Fetch-Site": "cross-site",
      });
      await expectError(response, 403, "csrf");
    });

    it("refuses a log-out from another origin and keeps the session", async () => {
      const { cookie } = await signUp();
      const response = await post("/api/auth/logout", "", {
        Origin: "https://evil.example",
        "Content-Type": "application/json",
        Cookie: sessionCookieHeader(cookie),
      });
      await expectError(response, 403, "csrf");
      expect((await me(sessionCookieHeader(cookie))).status).toBe(200);
    });

    it("checks the Origin before the size, so a hostile 20 KB body gets 403", async () => {
      const body = JSON.stringify({ email: uniqueEmail(), password: PASSWORD, name: "x".repeat(20 * 1024) });
      await expectError(await postJson("/api/auth/signup", body, { Origin: "https://evil.example" }), 403, "csrf");
    });
  });

  describe("session cookies that are not ours", () => {
    it("answers 401 (never 500) for a tampered, truncated or garbage cookie, and clears it", async () => {
      const { cookie } = await signUp();
      const middle = Math.floor(cookie.length / 2);
      const flipped = `${cookie.slice(0, middle)}${cookie[middle] === "A" ? "B" : "A"}${cookie.slice(middle + 1)}`;
      for (const value of [
        flipped,
        cookie.slice(0, -1),
        cookie.slice(0, 10),
        `${cookie}x`,
        "garbage",
        "%zz%E0%A4%A",
        "g1.",
        "🍪",
      ]) {
        const response = await me(sessionCookieHeader(encodeURIComponent(value)));
        expect(response.status, value).toBe(401);
        expect((await response.json()).error.code).toBe("unauthenticated");
        expect(response.headers.getSetCookie()[0]).toMatch(/Max-Age=0/);
      }
      expect((await me(sessionCookieHeader(cookie))).status).toBe(200);
    });

    it("answers 401 (never 500) for an 8 KB garbage cookie", async () => {
      for (const value of ["x".repeat(8 * 1024), `g1.${"A".repeat(8 * 1024)}`]) {
        const response = await me(sessionCookieHeader(value));
        expect(response.status).toBe(401);
        expect((await response.json()).error.code).toBe("unauthenticated");
      }
    });

    it("answers {user:null} on /api/auth/session for a garbage cookie", async () => {
      const response = await fetch(`${app.url}/api/auth/session`, {
        headers: { Cookie: sessionCookieHeader("x".repeat(8 * 1024)) },
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ user: null });
    });

    it("ignores the session token when it comes in another header or the query", async () => {
      const { cookie } = await signUp();
      for (const [route, headers] of [
        [`/api/me?${SESSION_COOKIE}=${encodeURIComponent(cookie)}`, {}],
        ["/api/me", { Authorization: `Bearer ${cookie}` }],
        ["/api/me", { Cookie: `other=${cookie}` }],
      ] as const) {
        expect((await fetch(`${app.url}${route}`, { headers })).status).toBe(401);
      }
    });
  });

  describe("routing", () => {
    it("answers 404 not_found for an unknown auth route", async () => {
      for (const route of [
        "/api/auth/unknown",
        "/api/auth/login/extra",
        "/api/auth/",
        "/api/auth/__proto__",
        "/api/auth/constructor",
      ]) {
        const response = await fetch(`${app.url}${route}`, { method: "POST", headers: { Origin: app.origin } });
        expect(response.status, route).toBe(404);
        expect((await response.json()).error.code).toBe("not_found");
      }
    });

    it("answers 405 method_not_allowed with Allow for a wrong method", async () => {
      for (const [method, route, allow] of [
        ["GET", "/api/auth/login", "POST"],
        ["GET", "/api/auth/signup", "POST"],
        ["PUT", "/api/auth/logout", "POST"],
        ["DELETE", "/api/auth/session", "GET"],
        ["POST", "/api/auth/session", "GET"],
      ] as const) {
        const response = await fetch(`${app.url}${route}`, { method, headers: { Origin: app.origin } });
        expect(response.status, `${method} ${route}`).toBe(405);
        expect(response.headers.get("allow")).toBe(allow);
        expect((await response.json()).error.code).toBe("method_not_allowed");
      }
    });
  });
});

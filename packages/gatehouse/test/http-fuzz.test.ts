/**
 * HTTP-level fuzzing: arbitrary JSON values and arbitrary strings, with assorted Content-Types, posted to every
 * JSON route of the auth API and the withApiAuth PATCH route on a real server, signed in or not. Whatever the
 * body, the answer is a client error or a success, never a 5xx (nor the test server's 599 for a handler that
 * threw past the library).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HUGE_STRINGS, hostileJsonObject, hostileJsonValue, hostileString } from "./support/fuzz.js";
import { rawRequest, sessionCookieHeader, signUpViaApi, uniqueEmails, useTestServer } from "./support/http-server.js";
import { validateSession } from "./support/session-fixtures.js";

const ROUTES: Array<{ method: string; path: string; fields: string[] }> = [
  { method: "POST", path: "/api/auth/signup", fields: ["email", "password", "name", "role", "next"] },
  { method: "POST", path: "/api/auth/login", fields: ["email", "password", "next"] },
  { method: "POST", path: "/api/auth/logout", fields: [] },
  { method: "POST", path: "/api/auth/password", fields: ["currentPassword", "newPassword"] },
  { method: "DELETE", path: "/api/auth/account", fields: ["password"] },
  { method: "POST", path: "/api/auth/sessions/revoke-others", fields: [] },
  { method: "DELETE", path: "/api/auth/sessions/:id", fields: [] },
  { method: "POST", path: "/api/auth/mfa/totp/setup", fields: ["password"] },
  { method: "POST", path: "/api/auth/mfa/totp/confirm", fields: ["code"] },
  { method: "POST", path: "/api/auth/mfa/totp/disable", fields: ["password"] },
  { method: "POST", path: "/api/auth/mfa/recovery-codes", fields: ["password"] },
  { method: "POST", path: "/api/auth/mfa/verify", fields: ["code", "recoveryCode", "passkey", "next"] },
  { method: "POST", path: "/api/auth/mfa/passkey/options", fields: [] },
  { method: "POST", path: "/api/auth/passkeys/register/options", fields: ["password"] },
  { method: "POST", path: "/api/auth/passkeys/register", fields: ["response", "name"] },
  { method: "PATCH", path: "/api/auth/passkeys/:id", fields: ["name"] },
  { method: "DELETE", path: "/api/auth/passkeys/:id", fields: ["password"] },
  { method: "POST", path: "/api/auth/passkeys/login/options", fields: [] },
  { method: "POST", path: "/api/auth/passkeys/login", fields: ["response"] },
  { method: "PATCH", path: "/api/profile", fields: ["name", "role", "email"] },
];

const body = fc.oneof(
  {
    arbitrary: hostileJsonObject([
      "email",
      "password",
      "name",
      "role",
      "currentPassword",
      "newPassword",
      "next",
      "code",
      "recoveryCode",
      "passkey",
      "response",
    ]).map((v) => JSON.stringify(v)),
    weight: 5,
  },
  { arbitrary: hostileJsonValue.map((value) => JSON.stringify(value) ?? ""), weight: 3 },
  { arbitrary: hostileString(300), weight: 3 },
  {
    arbitrary: fc.constantFrom(
      `{"password":"${"x".repeat(15_000)}"}`,
      HUGE_STRINGS[0] as string,
      "{".repeat(5000),
      "[".repeat(5000) + "]".repeat(5000),
    ),
    weight: 1,
  },
);

const contentType = fc.oneof(
  { arbitrary: fc.constant("application/json"), weight: 8 },
  {
    arbitrary: fc.constantFrom(
      "application/json; charset=utf-8",
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "",
      "application/json;;",
      "APPLICATION/JSON",
    ),
    weight: 2,
  },
  { arbitrary: hostileString(30).filter((type) => /^[\t\x20-\x7e]*$/.test(type)), weight: 1 },
);

/** A path parameter for DELETE /sessions/:id: ids, near-ids, and percent-escaped junk. */
const sessionId = fc.oneof(
  fc.string({ unit: fc.constantFrom(..."ABCabc012-_".split("")), minLength: 1, maxLength: 70 }),
  // Every byte escaped (encodeURIComponent throws on a lone surrogate; TextEncoder writes U+FFFD for it).
  hostileString(20).map((text) =>
    [...new TextEncoder().encode(text)].map((byte) => `%${byte.toString(16).padStart(2, "0")}`).join(""),
  ),
  fc.constantFrom("..", "%2e%2e", "%00", "a%2Fb", "__proto__", "constructor"),
);

describe.each(["database", "stateless"] as const)("fuzzing the JSON routes over HTTP (%s sessions)", (strategy) => {
  // No limits: the point is the parsers and handlers, not the counters (which would soon answer only 429).
  const app = useTestServer(strategy, {
    rateLimits: { loginPerAccountAndIp: false, loginPerIp: false, signupPerIp: false },
  });
  const uniqueEmail = uniqueEmails("fuzz", strategy);

  it("answers every request with 2xx, 3xx for forms, or 4xx; never 5xx", async () => {
    let cookie = (await signUpViaApi(app, uniqueEmail())).cookie;
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        body,
        contentType,
        fc.boolean(),
        sessionId,
        async (route, text, type, signedIn, id) => {
          // A run may have signed the account out, changed its password or deleted it: start again from a live session.
          if (!(await validateSession(app.gatehouse, cookie))) cookie = (await signUpViaApi(app, uniqueEmail())).cookie;
          const response = await rawRequest(app, {
            method: route.method,
            path: route.path.replace(":id", id),
            headers: {
              Origin: app.origin,
              ...(type !== "" && { "Content-Type": type }),
              ...(signedIn && { Cookie: sessionCookieHeader(cookie) }),
            },
            body: text,
          });
          seen.set(response.status, (seen.get(response.status) ?? 0) + 1);
          const form = type.toLowerCase().startsWith("application/x-www-form-urlencoded");
          const allowed =
            response.status < 300 ||
            (response.status === 303 && form) ||
            (response.status >= 400 && response.status < 500);
          expect(
            allowed,
            `${route.method} ${route.path} ${type} → ${response.status} ${response.body.slice(0, 200)}`,
          ).toBe(true);
          if (response.status >= 400) {
            expect(() => JSON.parse(response.body)).not.toThrow();
          }
        },
      ),
      { numRuns: 400 },
    );
    // The fuzzing reached past the parsers: some requests succeeded and some were refused.
    expect([...seen.keys()].some((status) => status < 300)).toBe(true);
    expect([...seen.keys()].some((status) => status >= 400)).toBe(true);
  });

  it("answers any Cookie header with 2xx or 4xx; never 5xx", async () => {
    const { cookie } = await signUpViaApi(app, uniqueEmail());
    // Header values travel as Latin-1 without CR or LF; anything else the client library refuses to send.
    const headerSafe = (text: string) => /^[\t\x20-\x7e\x80-\xff]*$/.test(text);
    const cookieValue = fc.oneof(
      hostileString(120).filter(headerSafe),
      fc.constantFrom(`${cookie}x`, cookie.slice(0, -1), `g1.${"A".repeat(5000)}`, "%zz", '""', cookie.toUpperCase()),
      fc.string({ unit: fc.constantFrom(...'ABCabc012-_.%=";, '.split("")), maxLength: 100 }),
    );
    await fc.assert(
      fc.asyncProperty(
        cookieValue,
        fc.constantFrom("/api/auth/session", "/api/auth/sessions", "/api/me", "/api/auth/logout"),
        async (value, path) => {
          const method = path === "/api/auth/logout" ? "POST" : "GET";
          const response = await rawRequest(app, {
            method,
            path,
            headers: { Origin: app.origin, Cookie: sessionCookieHeader(value) },
          });
          expect(
            response.status < 300 || (response.status >= 400 && response.status < 500),
            `${path} ${JSON.stringify(value)} → ${response.status}`,
          ).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

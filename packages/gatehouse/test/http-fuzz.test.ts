/**
 * HTTP-level fuzzing: arbitrary JSON values and arbitrary strings, with assorted Content-Types, posted to every
 * JSON route of the auth API and the withApiAuth PATCH route on a real server, signed in or not. Whatever the
 * body, the answer is a client error or a success, never a 5xx (nor the test server's 599 for a handler that
 * threw past the library).
 */
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { oauth2 } from "../src/index.js";
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
  { method: "POST", path: "/api/auth/oauth/:id/link", fields: ["password"] },
  { method: "DELETE", path: "/api/auth/identities/:id", fields: ["password"] },
  { method: "GET", path: "/api/auth/identities", fields: [] },
  { method: "GET", path: "/api/auth/providers", fields: [] },
];

/**
 * The provider of the fuzz servers: plain OAuth 2.0 with fixed endpoints, so a start needs no discovery. Its
 * token endpoint is a closed loopback port: a callback that gets as far as redeeming the code fails there.
 */
const FUZZ_PROVIDER = oauth2({
  id: "fuzz",
  name: "Fuzz",
  authorizationEndpoint: "http://127.0.0.1:9/authorize",
  tokenEndpoint: "http://127.0.0.1:9/token",
  clientId: "fuzz-client",
  clientSecret: "fuzz-secret",
  scopes: ["profile"],
  profile: async () => ({ subject: "fuzz", email: "fuzz@example.com", emailVerified: true, name: null }),
});

/** The flow cookie's name on the fuzz servers (secureCookies off). */
const FLOW_COOKIE = "gatehouse.oauth";

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
  // The configured provider, so the OAuth routes get past their 404.
  fc.constant("fuzz"),
);

describe.each(["database", "stateless"] as const)("fuzzing the JSON routes over HTTP (%s sessions)", (strategy) => {
  // No limits: the point is the parsers and handlers, not the counters (which would soon answer only 429).
  const app = useTestServer(strategy, {
    rateLimits: { loginPerAccountAndIp: false, loginPerIp: false, signupPerIp: false, oauthPerIp: false },
    providers: [FUZZ_PROVIDER],
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
          // A GET carries no body a route reads: it answers what the route answers (the providers list, 401…).
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
  it("answers GET oauth/<id> and oauth/<id>/callback with any query and any flow cookie with a 302, 404 or other 4xx; never 5xx", async () => {
    // Real flows (a cookie and its state), so some callbacks get as far as redeeming the code (which then fails).
    async function startFlow(): Promise<{ state: string; cookie: string }> {
      const started = await rawRequest(app, { method: "GET", path: "/api/auth/oauth/fuzz" });
      expect(started.status).toBe(302);
      const state = new URL(started.headers.location as string).searchParams.get("state") as string;
      const line = (started.headers["set-cookie"] ?? []).find((header) => header.startsWith(`${FLOW_COOKIE}=`));
      return { state, cookie: (line as string).split(";", 1)[0]?.slice(FLOW_COOKIE.length + 1) as string };
    }
    const { cookie: realFlow } = await startFlow();
    /** Stands for the state of a flow started for the run (with its cookie sent). */
    const STATE = "STATEOFAFRESHFLOW";
    const FRESH = "\u0000fresh flow\u0000";
    const headerSafe = (text: string) => /^[\t\x20-\x7e\x80-\xff]*$/.test(text);
    const name = fc.oneof(
      {
        arbitrary: fc.constantFrom("code", "state", "iss", "error", "error_description", "next", "response"),
        weight: 4,
      },
      { arbitrary: fc.constantFrom("code[]", "state[0]", "__proto__", "constructor[prototype]", ""), weight: 1 },
      { arbitrary: hostileString(12), weight: 1 },
    );
    const value = fc.oneof(
      { arbitrary: hostileString(40), weight: 4 },
      { arbitrary: fc.constantFrom(STATE, "access_denied", "http://127.0.0.1:9", "//evil.example"), weight: 2 },
      { arbitrary: fc.constantFrom("a".repeat(6000), "%".repeat(300)), weight: 1 },
    );
    // Encoded pairs, or raw text of URL-safe characters (`%zz`, `&&`, `==` included), as a client could send.
    const query = fc.oneof(
      fc.array(fc.tuple(name, value), { maxLength: 6 }).map((pairs) => new URLSearchParams(pairs).toString()),
      fc.string({ unit: fc.constantFrom(..."abc=&%zZ09[]._-~+/?:@!$'()*,;".split("")), maxLength: 80 }),
    );
    const flowCookie = fc.oneof(
      fc.constant(null),
      fc.constant(FRESH),
      fc.constant(FRESH),
      fc.constant(realFlow),
      fc.constantFrom(`${realFlow}x`, realFlow.slice(0, -2), realFlow.toUpperCase(), `g1.${"A".repeat(3000)}`, "%zz"),
      hostileString(120).filter(headerSafe),
    );
    const providerId = fc.oneof(
      { arbitrary: fc.constant("fuzz"), weight: 6 },
      { arbitrary: fc.constantFrom("__proto__", "constructor", "hasOwnProperty", "FUZZ", "..%2f", "%00"), weight: 1 },
    );
    const seen = new Set<number>();
    // Each failed callback is logged for the operator: kept out of the test output.
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      await fc.assert(
        fc.asyncProperty(providerId, fc.boolean(), query, flowCookie, async (id, callback, rawSearch, flow) => {
          let search = rawSearch;
          let cookie = flow;
          if (flow === FRESH) {
            const fresh = await startFlow();
            cookie = fresh.cookie;
            search = search.replaceAll(STATE, fresh.state);
          }
          const path = `/api/auth/oauth/${id}${callback ? "/callback" : ""}${search ? `?${search}` : ""}`;
          const response = await rawRequest(app, {
            method: "GET",
            path,
            headers: cookie === null ? {} : { Cookie: `${FLOW_COOKIE}=${cookie}` },
          });
          seen.add(response.status);
          expect(
            response.status === 302 || (response.status >= 400 && response.status < 500),
            `GET ${path.slice(0, 200)} (flow cookie ${JSON.stringify(cookie?.slice(0, 40))}) → ${response.status} ${response.body.slice(0, 200)}`,
          ).toBe(true);
          if (response.status === 302) {
            // Either the provider's authorization endpoint (a start) or a page of the app.
            const location = response.headers.location as string;
            expect(
              location.startsWith("http://127.0.0.1:9/authorize?") || /^\/(?![/\\])/.test(location),
              location,
            ).toBe(true);
            const setsSession = (response.headers["set-cookie"] ?? []).some((line) =>
              /^gatehouse\.session=[^;]/.test(line),
            );
            expect(setsSession, "no callback here can sign anyone in").toBe(false);
          }
        }),
        { numRuns: 300 },
      );
    } finally {
      warn.mockRestore();
    }
    expect(seen.has(302)).toBe(true);
  });
});

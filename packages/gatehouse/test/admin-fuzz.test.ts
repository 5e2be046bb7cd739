/**
 * The admin API fuzzed over HTTP, as a signed-in admin: arbitrary JSON values and strings (with the right
 * password mixed in, so that requests get past the fresh authentication) to every write, arbitrary queries to
 * every read, and near-ids in the paths. Whatever is sent, the answer is a success or a 4xx JSON error, never a
 * 5xx (nor the test server's 599 for a handler that threw past the library).
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOutboxMailer } from "../src/mail/outbox.js";
import { type Account, accountOf } from "./support/admin.js";
import { PASSWORD } from "./support/credentials.js";
import { hostileJsonObject, hostileJsonValue, hostileString } from "./support/fuzz.js";
import { rawRequest, sessionCookieHeader, startServer, type TestServer } from "./support/http-server.js";
import { openTempSqliteStore, type TempSqliteStore } from "./support/temp-sqlite.js";

const WRITES = [
  { method: "PATCH", path: "/api/admin/users/:id" },
  { method: "DELETE", path: "/api/admin/users/:id" },
  { method: "DELETE", path: "/api/admin/users/:id/sessions" },
  { method: "POST", path: "/api/admin/users/:id/password-reset" },
  { method: "DELETE", path: "/api/admin/users/:id/factors" },
  { method: "POST", path: "/api/admin/users/:id/impersonate" },
  { method: "POST", path: "/api/admin/mail/:id/retry" },
];
const READS = ["/api/admin/users", "/api/admin/users/:id", "/api/admin/audit", "/api/admin/mail"];

const body = fc.oneof(
  {
    arbitrary: fc
      .tuple(hostileJsonObject(["password", "role", "banned", "reason"]), fc.boolean())
      .map(([value, withPassword]) =>
        JSON.stringify(
          withPassword && typeof value === "object" && value !== null && !Array.isArray(value)
            ? { ...value, password: PASSWORD }
            : value,
        ),
      ),
    weight: 6,
  },
  {
    arbitrary: fc
      .tuple(fc.constantFrom("admin", "user", "root", "__proto__", ""), fc.constantFrom(true, false, "true", null))
      .map(([role, banned]) =>
        JSON.stringify({ password: PASSWORD, [banned === null ? "role" : "banned"]: banned ?? role }),
      ),
    weight: 3,
  },
  { arbitrary: hostileJsonValue.map((value) => JSON.stringify(value) ?? ""), weight: 2 },
  { arbitrary: hostileString(300), weight: 2 },
);

const queryValue = fc.oneof(
  hostileString(40),
  fc.constantFrom("", "0", "1", "20", "100", "101", "-1", "1e2", "AA", "MTIz", "user.ban", "failed", "admin"),
  fc.constant("a".repeat(2000)),
);
const query = fc.oneof(
  fc
    .array(fc.tuple(fc.constantFrom("query", "cursor", "limit", "type", "userId", "status", "__proto__"), queryValue), {
      maxLength: 5,
    })
    .map((pairs) => new URLSearchParams(pairs).toString()),
  fc.string({ unit: fc.constantFrom(..."abc=&%zZ09[]._-~+/?:@!$'()*,;".split("")), maxLength: 60 }),
);

describe("fuzzing the admin API over HTTP", () => {
  let sqlite: TempSqliteStore;
  let app: TestServer;
  let admin: Account;
  let targets: string[] = [];

  beforeAll(async () => {
    sqlite = openTempSqliteStore();
    await sqlite.store.migrate();
    app = await startServer("database", {
      store: sqlite.store,
      // No limits: the point is the parsers and handlers, not the counters (which would soon answer only 429).
      rateLimits: { loginPerAccountAndIp: false, loginPerAccount: false, loginPerIp: false, signupPerIp: false },
      email: { mailer: createOutboxMailer(sqlite.store) },
    });
    admin = await accountOf(app, "fuzz-admin@example.com", "admin");
  });
  afterAll(async () => {
    await app?.close();
    await sqlite?.close();
  });

  let made = 0;
  /** A user for the run to act on: new ones as runs delete, ban or demote them. */
  async function target(): Promise<string> {
    if (targets.length < 3) targets.push((await accountOf(app, `fuzz-target${++made}@example.com`)).id);
    return targets[made % targets.length] as string;
  }

  const id = fc.oneof(
    { arbitrary: fc.constant("TARGET"), weight: 6 },
    {
      arbitrary: fc.string({ unit: fc.constantFrom(..."ABCabc012-_".split("")), minLength: 1, maxLength: 70 }),
      weight: 2,
    },
    { arbitrary: fc.constantFrom("..", "%2e%2e", "%00", "a%2Fb", "__proto__", "constructor", "%zz"), weight: 1 },
  );

  function check(label: string, response: { status: number; body: string }): void {
    const allowed = response.status < 300 || (response.status >= 400 && response.status < 500);
    expect(allowed, `${label} → ${response.status} ${response.body.slice(0, 200)}`).toBe(true);
    if (response.status >= 400) expect(() => JSON.parse(response.body), label).not.toThrow();
  }

  /** The admin's session, signed in again if a run ended it (an impersonation, a revocation of its own). */
  async function adminCookie(): Promise<string> {
    const found = await app.gatehouse.authenticate(sessionCookieHeader(admin.cookie), { canSetCookie: false });
    if (!found.user)
      admin = { ...admin, cookie: (await accountOf(app, `fuzz-admin${++made}@example.com`, "admin")).cookie };
    return admin.cookie;
  }

  it("answers every write with 2xx or a 4xx JSON error; never 5xx", async () => {
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...WRITES), body, id, async (route, text, rawId) => {
        const cookie = await adminCookie();
        const user = rawId === "TARGET" ? await target() : rawId;
        const path = route.path.replace(":id", user);
        const response = await rawRequest(app, {
          method: route.method,
          path,
          headers: { Origin: app.origin, "Content-Type": "application/json", Cookie: sessionCookieHeader(cookie) },
          body: text,
        });
        seen.add(response.status);
        check(`${route.method} ${path} ${text.slice(0, 80)}`, response);
        // A target deleted, banned or made an admin is of no more use: the next run gets a new one.
        if (response.status === 200) targets = targets.filter((each) => each !== user);
      }),
      { numRuns: 300 },
    );
    expect([...seen].some((status) => status === 200)).toBe(true);
    expect([...seen].some((status) => status >= 400)).toBe(true);
  });

  it("answers every read, whatever its query, with 200 or a 4xx JSON error; never 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...READS), query, id, async (route, search, rawId) => {
        const cookie = await adminCookie();
        const path = `${route.replace(":id", rawId === "TARGET" ? await target() : rawId)}?${search}`;
        const response = await rawRequest(app, {
          method: "GET",
          path,
          headers: { Cookie: sessionCookieHeader(cookie) },
        });
        check(`GET ${path.slice(0, 200)}`, response);
      }),
      { numRuns: 300 },
    );
  });
});

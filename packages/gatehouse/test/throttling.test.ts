/**
 * Brute-force limits over real HTTP, with the counters in SQLite and, with a Redis store for sessions and counters, in
 * Redis. Counters are read back raw (the SQLite file through a connection of the test's own, or Redis keys).
 */
import { createHash } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSWORD } from "./support/credentials.js";
import {
  apiRequest,
  rawRequest,
  type TestServer,
  type TestServerOptions,
  uniqueEmails,
  useTestServer,
} from "./support/http-server.js";
import { createRedisPrefix, REDIS_URL, rawRedisCounter, requireService } from "./support/services.js";
import { querySqliteFile, rawUserByEmail } from "./support/temp-sqlite.js";

const redisUp = await requireService("redis");

const SECOND = 1000;
const WRONG = "not the right password";

interface Backend {
  name: string;
  /** Whether windows follow the gatehouse's movable clock (SQL) rather than the backend's own (Redis TTLs). */
  movableClock: boolean;
  /** A test server whose counters live in this backend, for the enclosing describe block. */
  useServer(options: TestServerOptions): { app: TestServer; counter(key: string): Promise<number | null> };
}

const sqlite: Backend = {
  name: "SQLite",
  movableClock: true,
  useServer(options) {
    const app = useTestServer("database", options);
    return {
      app,
      async counter(key) {
        const query = "SELECT count FROM gatehouse_rate_limits WHERE key = ?";
        const row = querySqliteFile(app.dbFile, (db) => db.prepare(query).get(key) as { count: number } | undefined);
        return row ? Number(row.count) : null;
      },
    };
  },
};

const redisOverSqlite: Backend = {
  name: "SQLite users, Redis counters",
  movableClock: false,
  useServer(options) {
    const keys = createRedisPrefix();
    const app = useTestServer("database", {
      ...options,
      redis: { url: REDIS_URL, keyPrefix: keys.prefix },
    });
    let redis: Redis | undefined;
    beforeAll(() => {
      redis = new Redis(REDIS_URL);
    });
    afterAll(async () => {
      await redis?.quit();
      await keys.drop();
    });
    return {
      app,
      async counter(key) {
        return (await rawRedisCounter(redis as Redis, `${keys.prefix}rate-limit:${key}`))?.count ?? null;
      },
    };
  },
};

const BACKENDS = redisUp ? [sqlite, redisOverSqlite] : [sqlite];

const accountKey = (email: string, ip: string) =>
  `login-account:${createHash("sha256").update(email).digest("hex")}:${ip}`;

function logIn(
  app: TestServer,
  email: string,
  password: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return apiRequest(app, "/api/auth/login", { json: { email, password }, headers });
}

/** 429 rate_limited, with a Retry-After of whole seconds from 1 to `maxSeconds`, and no cookie. Returns the seconds. */
async function expectRateLimited(response: Response, maxSeconds: number): Promise<number> {
  expect(response.status).toBe(429);
  expect((await response.clone().json()).error.code).toBe("rate_limited");
  const retryAfter = response.headers.get("retry-after") ?? "";
  expect(retryAfter).toMatch(/^[1-9][0-9]*$/);
  expect(Number(retryAfter)).toBeLessThanOrEqual(maxSeconds);
  expect(response.headers.getSetCookie()).toEqual([]);
  return Number(retryAfter);
}

async function expectInvalidCredentials(response: Response, label = ""): Promise<void> {
  expect(response.status, label).toBe(401);
  expect((await response.clone().json()).error.code, label).toBe("invalid_credentials");
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(BACKENDS)("brute-force limits over HTTP ($name)", (backend) => {
  describe("failed log-ins per account and IP (default: 10 per 15 minutes)", () => {
    const { app, counter } = backend.useServer({ rateLimits: { loginPerIp: false, signupPerIp: false } });
    const uniqueEmail = uniqueEmails("acct", backend.movableClock ? "sql" : "redis");

    async function newUser(): Promise<string> {
      const email = uniqueEmail();
      await app.gatehouse.users.create({ email, password: PASSWORD });
      return email;
    }

    it("10 wrong passwords, then the 11th attempt is 429 rate_limited even with the right password", async () => {
      const email = await newUser();
      for (let i = 1; i <= 10; i++) await expectInvalidCredentials(await logIn(app, email, WRONG), `attempt ${i}`);
      expect(await counter(accountKey(email, "127.0.0.1"))).toBe(10);
      await expectRateLimited(await logIn(app, email, PASSWORD), 900);
      await expectRateLimited(await logIn(app, email, WRONG), 900);
      // Whether refused attempts count too is the limiter's business; they never bring the counter down.
      expect(await counter(accountKey(email, "127.0.0.1"))).toBeGreaterThanOrEqual(10);
    });

    it("answers an unknown account exactly as a known one: ten 401s, then the same 429", async () => {
      const known = await newUser();
      const unknown = uniqueEmail();
      const answers: Record<string, string[]> = { known: [], unknown: [] };
      for (const [label, email] of [
        ["known", known],
        ["unknown", unknown],
      ] as const) {
        for (let i = 1; i <= 10; i++) {
          const response = await logIn(app, email, WRONG);
          await expectInvalidCredentials(response, `${label} ${i}`);
          answers[label]?.push(await response.text());
        }
        const limited = await logIn(app, email, PASSWORD);
        await expectRateLimited(limited, 900);
        answers[label]?.push(await limited.text());
      }
      expect(answers.unknown).toEqual(answers.known);
      expect(await counter(accountKey(unknown, "127.0.0.1"))).toBeGreaterThanOrEqual(10);
    });

    it("a success before the limit resets the account's counter", async () => {
      const email = await newUser();
      for (let i = 0; i < 9; i++) await expectInvalidCredentials(await logIn(app, email, WRONG));
      expect((await logIn(app, email, PASSWORD)).status).toBe(200);
      // Back at 0 (the row stays until its window ends).
      expect(await counter(accountKey(email, "127.0.0.1"))).toBe(0);
      for (let i = 1; i <= 10; i++) await expectInvalidCredentials(await logIn(app, email, WRONG), `after reset ${i}`);
      await expectRateLimited(await logIn(app, email, PASSWORD), 900);
    });

    it("limits the account, not the IP: another account logs in from the same IP", async () => {
      const locked = await newUser();
      const other = await newUser();
      for (let i = 0; i < 10; i++) await logIn(app, locked, WRONG);
      await expectRateLimited(await logIn(app, locked, PASSWORD), 900);
      expect((await logIn(app, other, PASSWORD)).status).toBe(200);
    });

    it("normalises the email before counting: case and spaces do not give fresh counters", async () => {
      const email = await newUser();
      for (let i = 0; i < 10; i++) await logIn(app, i % 2 ? email.toUpperCase() : `  ${email} `, WRONG);
      await expectRateLimited(await logIn(app, email, PASSWORD), 900);
    });

    it("a burst of 29 wrong passwords and then the right one, all at once, does not log in", async () => {
      // The limit is "10 guesses per window". Checked before hashing but counted only after, all of a burst
      // pass the check, every password in it is tried, and the right one among them logs in.
      const email = await newUser();
      const meta = { ip: "192.0.2.77" };
      const attempts = [...Array<string>(29).fill(WRONG), PASSWORD].map((password) =>
        app.gatehouse.logIn({ email, password }, meta).then(
          () => "signed in",
          (error: { code?: string }) => error.code ?? "threw",
        ),
      );
      const outcomes = await Promise.all(attempts);
      expect(outcomes.at(-1), "the right password, 30th of the burst").toBe("rate_limited");
      expect(outcomes.filter((outcome) => outcome === "invalid_credentials").length).toBeLessThanOrEqual(10);
    });
  });

  describe("the window ends", () => {
    // SQL windows follow the gatehouse's clock, which the test moves; Redis windows are key TTLs on Redis's
    // own clock, so there the test waits out a 1-second window.
    // With real time, few attempts, so they all land well within the 1-second window even on a busy machine.
    const windowSeconds = backend.movableClock ? 15 * 60 : 1;
    const max = backend.movableClock ? 10 : 3;
    const { app } = backend.useServer({
      rateLimits: { loginPerIp: false, signupPerIp: false, loginPerAccountAndIp: { max, windowSeconds } },
    });
    const uniqueEmail = uniqueEmails("window", backend.movableClock ? "sql" : "redis");

    it("the limit lifts once the window has passed, and holds until then", async () => {
      const email = uniqueEmail();
      await app.gatehouse.users.create({ email, password: PASSWORD });
      for (let i = 0; i < max; i++) await expectInvalidCredentials(await logIn(app, email, WRONG));
      expect(await expectRateLimited(await logIn(app, email, PASSWORD), windowSeconds)).toBe(windowSeconds);
      if (backend.movableClock) {
        app.setClock(app.startedAt + (windowSeconds - 1) * SECOND);
        expect(await expectRateLimited(await logIn(app, email, PASSWORD), windowSeconds)).toBe(1);
        app.setClock(app.startedAt + windowSeconds * SECOND);
      } else {
        await sleep(windowSeconds * SECOND + 200);
      }
      expect((await logIn(app, email, PASSWORD)).status).toBe(200);
      app.setClock(app.startedAt);
    });
  });

  describe("log-in attempts per IP across accounts (max 5)", () => {
    const { app, counter } = backend.useServer({
      rateLimits: { signupPerIp: false, loginPerIp: { max: 5, windowSeconds: 15 * 60 } },
    });
    const uniqueEmail = uniqueEmails("perip", backend.movableClock ? "sql" : "redis");

    it("counts every failure from the IP, whatever the account, and no success; X-Forwarded-For is ignored by default", async () => {
      const emails = [uniqueEmail(), uniqueEmail(), uniqueEmail()];
      for (const email of emails) await app.gatehouse.users.create({ email, password: PASSWORD });
      expect((await logIn(app, emails[0] as string, PASSWORD)).status).toBe(200);
      await expectInvalidCredentials(await logIn(app, emails[1] as string, WRONG));
      await expectInvalidCredentials(await logIn(app, uniqueEmail(), WRONG));
      expect((await logIn(app, emails[2] as string, PASSWORD)).status).toBe(200);
      await expectInvalidCredentials(await logIn(app, emails[0] as string, WRONG));
      expect(await counter("login-ip:127.0.0.1")).toBe(3);
      // A busy address (an office behind one NAT) is not limited for signing in successfully.
      for (let i = 0; i < 6; i++) expect((await logIn(app, emails[2] as string, PASSWORD)).status).toBe(200);
      expect(await counter("login-ip:127.0.0.1")).toBe(3);
      await expectInvalidCredentials(await logIn(app, uniqueEmail(), WRONG));
      await expectInvalidCredentials(await logIn(app, uniqueEmail(), WRONG));
      expect(await counter("login-ip:127.0.0.1")).toBe(5);
      await expectRateLimited(await logIn(app, emails[1] as string, PASSWORD), 900);

      // trustedProxies is 0: whatever a client writes in forwarding headers, its address is the socket's.
      for (let i = 1; i <= 5; i++) {
        const headers = {
          "X-Forwarded-For": `203.0.113.${i}`,
          "X-Real-IP": `203.0.113.${i}`,
          Forwarded: `for=203.0.113.${i}`,
        };
        await expectRateLimited(await logIn(app, emails[2] as string, PASSWORD, headers), 900);
        expect(await counter(`login-ip:203.0.113.${i}`)).toBeNull();
      }
    });
  });

  describe("behind one trusted proxy (trustedProxies: 1)", () => {
    const { app, counter } = backend.useServer({
      trustedProxies: 1,
      rateLimits: { signupPerIp: false, loginPerIp: { max: 5, windowSeconds: 15 * 60 } },
    });
    const uniqueEmail = uniqueEmails("proxy", backend.movableClock ? "sql" : "redis");

    it("takes the last X-Forwarded-For entry as the client: different last entries have separate counters", async () => {
      const email = uniqueEmail();
      await app.gatehouse.users.create({ email, password: PASSWORD });
      const from = (chain: string) => ({ "X-Forwarded-For": chain });
      for (let i = 0; i < 5; i++) await expectInvalidCredentials(await logIn(app, email, WRONG, from("198.51.100.1")));
      expect(await counter("login-ip:198.51.100.1")).toBe(5);
      await expectRateLimited(await logIn(app, email, PASSWORD, from("198.51.100.1")), 900);
      // Entries before the last were written by the client: a spoofed first entry changes nothing.
      await expectRateLimited(await logIn(app, email, PASSWORD, from("198.51.100.99, 198.51.100.1")), 900);
      await expectRateLimited(await logIn(app, email, PASSWORD, from("10.0.0.1,198.51.100.1")), 900);
      expect(await counter("login-ip:198.51.100.99")).toBeNull();

      await expectInvalidCredentials(await logIn(app, email, WRONG, from("198.51.100.1, 198.51.100.2")));
      expect(await counter("login-ip:198.51.100.2")).toBe(1);
      const other = await logIn(app, email, PASSWORD, from("198.51.100.1, 198.51.100.2"));
      expect(other.status).toBe(200);
      expect(await counter("login-ip:127.0.0.1")).toBeNull();
      // The session records the same address.
      const sessions = await app.gatehouse.listSessions(String(rawUserByEmail(app.dbFile, email)?.id));
      expect(sessions.map((session) => session.ip)).toEqual(["198.51.100.2"]);
    });

    it("counts failures per account and client address", async () => {
      const email = uniqueEmail();
      await app.gatehouse.users.create({ email, password: PASSWORD });
      for (let i = 0; i < 5; i++) await logIn(app, email, WRONG, { "X-Forwarded-For": "198.51.100.10" });
      for (let i = 0; i < 5; i++) await logIn(app, email, WRONG, { "X-Forwarded-For": "198.51.100.11" });
      expect(await counter(accountKey(email, "198.51.100.10"))).toBe(5);
      expect(await counter(accountKey(email, "198.51.100.11"))).toBe(5);
    });
  });

  describe("sign-ups per IP (max 3 per hour)", () => {
    const windowSeconds = backend.movableClock ? 3600 : 1;
    const { app } = backend.useServer({ rateLimits: { loginPerIp: false, signupPerIp: { max: 3, windowSeconds } } });
    const uniqueEmail = uniqueEmails("signup", backend.movableClock ? "sql" : "redis");

    function signUp(email: string): Promise<Response> {
      return apiRequest(app, "/api/auth/signup", { json: { email, password: PASSWORD } });
    }

    it("3 sign-ups, then 429 with Retry-After and no account; after the window, sign-up works again", async () => {
      for (let i = 0; i < 3; i++) expect((await signUp(uniqueEmail())).status).toBe(201);
      const refused = uniqueEmail();
      expect(await expectRateLimited(await signUp(refused), windowSeconds)).toBe(windowSeconds);
      expect(rawUserByEmail(app.dbFile, refused)).toBeUndefined();
      // A form sign-up is limited too, and goes back to the page with the code.
      const form = await rawRequest(app, {
        method: "POST",
        path: "/api/auth/signup",
        headers: { Origin: app.origin, "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ email: refused, password: PASSWORD }).toString(),
      });
      expect(form.status).toBe(303);
      expect(form.headers.location).toBe("/signup?error=rate_limited");
      expect(rawUserByEmail(app.dbFile, refused)).toBeUndefined();

      if (backend.movableClock) app.setClock(app.startedAt + windowSeconds * SECOND);
      else await sleep(windowSeconds * SECOND + 200);
      expect((await signUp(refused)).status).toBe(201);
      app.setClock(app.startedAt);
    });
  });
});

describe("failed log-ins on one account from many addresses (SQLite, default limits)", () => {
  const { app } = sqlite.useServer({ trustedProxies: 1, rateLimits: {} });

  it("are throttled by attempt 100 at the latest (NIST SP 800-63B §3.2.2, checklist item 9)", async () => {
    const email = "stuffed@example.com";
    await app.gatehouse.users.create({ email, password: PASSWORD });
    // A botnet: each address stays well below the per-IP and per-account-and-IP limits.
    const statuses: number[] = [];
    for (let attempt = 1; attempt <= 100; attempt++) {
      const response = await logIn(app, email, WRONG, { "X-Forwarded-For": `203.0.113.${attempt}` });
      statuses.push(response.status);
    }
    expect(statuses.filter((status) => status !== 401 && status !== 429)).toEqual([]);
    // After 100 failures the account must be throttled, whichever address the next guess comes from.
    await expectRateLimited(await logIn(app, email, PASSWORD, { "X-Forwarded-For": "203.0.113.101" }), 3600);
  });
});

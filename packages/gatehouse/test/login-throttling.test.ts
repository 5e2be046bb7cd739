/**
 * The log-in limits as an attacker meets them, over real HTTP: one address cannot lock an account's owner
 * out; a parallel burst gets no more hashes than the limit allows, and a burst of right passwords is not
 * refused (also across two app instances sharing one database, or one Redis); a known device keeps its own
 * budget; a daily window per account; the password checks of sensitive changes count against the same
 * limits; IPv6 addresses count by /64. On SQLite, PostgreSQL and with the counters in Redis. Counters are
 * read back raw (a connection of the test's own, or Redis keys), never through the store under test.
 */
import { createHash } from "node:crypto";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_RATE_LIMITS } from "../src/core/rate-limit.js";
import { createSealer } from "../src/crypto/seal.js";
import { createPostgresStore } from "../src/stores/postgres.js";
import { createRedisStore, type RedisStore } from "../src/stores/redis.js";
import { createSqliteStore } from "../src/stores/sqlite.js";
import type { Store } from "../src/stores/types.js";
import { PASSWORD, TEST_SECRET } from "./support/credentials.js";
import {
  type ApiRequestInit,
  apiRequest,
  rawRequest,
  SESSION_COOKIE,
  sessionCookieOf,
  startServer,
  type TestServer,
  type TestServerOptions,
  uniqueEmails,
} from "./support/http-server.js";
import {
  createPostgresDatabase,
  createRedisPrefix,
  REDIS_URL,
  rawRedisCounter,
  requireService,
} from "./support/services.js";
import { createSqliteDatabase, querySqliteFile } from "./support/temp-sqlite.js";

const postgresUp = await requireService("postgres");
const redisUp = await requireService("redis");

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WRONG = "not the right password";
const NEW_PASSWORD = "a brand new passphrase";
/** The test servers run without secureCookies, so no __Host- prefix. */
const DEVICE_COOKIE = "gatehouse.device";
const DEVICE_MAX_AGE_SECONDS = 365 * 24 * 60 * 60;
/** Every test server here sits behind one proxy: the last X-Forwarded-For entry is the client. */
const BEHIND_ONE_PROXY = { trustedProxies: 1 } as const;

// ---------------------------------------------------------------------------------------------------------
// Deployments: one database (and Redis prefix) that one or more app instances share.

/** What the app instances of one describe block share, and raw reads of it. */
interface Deployment {
  /** The stores of one more app instance: a connection pool (and Redis client) of its own, same data. */
  instance(): Instance;
  /**
   * The count of the rate-limit counter `key`, read raw; `null` when there is none — or when it is at 0: a
   * success leaves its counters at 0 until their window ends, and that counts nothing.
   */
  counter(key: string): Promise<number | null>;
  /** Every counter above 0 whose key starts with `prefix`, read raw: key → count. */
  countersUnder(prefix: string): Promise<Record<string, number>>;
  /** The user row's password hash, read raw. */
  passwordHash(email: string): Promise<string | undefined>;
  close(): Promise<void>;
}

/** An app instance's stores: users (and counters) in SQL, or counters and sessions in Redis. */
interface Instance {
  store: Store;
  redis?: RedisStore;
}

interface Backend {
  name: string;
  open(): Promise<Deployment>;
}

function sqliteRows(file: string, query: string, ...params: unknown[]): Array<Record<string, unknown>> {
  return querySqliteFile(file, (db) => db.prepare(query).all(...params) as Array<Record<string, unknown>>);
}

function countsOf(rows: Array<Record<string, unknown>>, prefix: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const row of rows)
    if (String(row.key).startsWith(prefix) && Number(row.count) > 0) counts[String(row.key)] = Number(row.count);
  return counts;
}

/** Opens stores over one SQLite file, each with a Redis store of its own for counters and sessions if `redis`. */
function sqliteDeployment(redis?: { url: string; keyPrefix: string }): Deployment & { file: string } {
  const database = createSqliteDatabase();
  const stores: Array<Store | RedisStore> = [];
  return {
    file: database.file,
    instance() {
      const instance: Instance = { store: createSqliteStore({ url: database.url }) };
      if (redis) instance.redis = createRedisStore(redis);
      stores.push(instance.store, ...(instance.redis ? [instance.redis] : []));
      return instance;
    },
    async counter(key) {
      const [row] = sqliteRows(database.file, "SELECT count FROM gatehouse_rate_limits WHERE key = ?", key);
      return Number(row?.count ?? 0) || null;
    },
    async countersUnder(prefix) {
      return countsOf(sqliteRows(database.file, "SELECT key, count FROM gatehouse_rate_limits"), prefix);
    },
    async passwordHash(email) {
      const [row] = sqliteRows(database.file, "SELECT password_hash FROM gatehouse_users WHERE email = ?", email);
      return row?.password_hash as string | undefined;
    },
    async close() {
      for (const store of stores) await store.close();
      await database.drop();
    },
  };
}

const SQLITE: Backend = { name: "SQLite", open: async () => sqliteDeployment() };

const POSTGRES: Backend = {
  name: "PostgreSQL",
  async open() {
    const database = await createPostgresDatabase();
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    const stores: Store[] = [];
    return {
      instance() {
        const store = createPostgresStore({ url: database.url });
        stores.push(store);
        return { store };
      },
      async counter(key) {
        const { rows } = await admin.query("SELECT count FROM gatehouse_rate_limits WHERE key = $1", [key]);
        return Number(rows[0]?.count ?? 0) || null;
      },
      async countersUnder(prefix) {
        return countsOf((await admin.query("SELECT key, count FROM gatehouse_rate_limits")).rows, prefix);
      },
      async passwordHash(email) {
        const { rows } = await admin.query("SELECT password_hash FROM gatehouse_users WHERE email = $1", [email]);
        return rows[0]?.password_hash;
      },
      async close() {
        for (const store of stores) await store.close();
        // A closed pool has sent its goodbyes, but the server may not have ended those backends yet; dropping
        // the database now would kill them, and each pool would log a lost connection.
        const others =
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()";
        for (let i = 0; i < 100 && (await admin.query(others)).rows[0].n > 0; i++)
          await new Promise((resolve) => setTimeout(resolve, 20));
        await admin.end();
        await database.drop();
      },
    };
  },
};

/** Users in one SQLite file, sessions and counters in Redis under one prefix: every instance shares both. */
const REDIS: Backend = {
  name: "SQLite users, Redis counters",
  async open() {
    const keys = createRedisPrefix();
    const redis = new Redis(REDIS_URL);
    const users = sqliteDeployment({ url: REDIS_URL, keyPrefix: keys.prefix });
    const limitPrefix = `${keys.prefix}rate-limit:`;
    return {
      instance: () => users.instance(),
      async counter(key) {
        return (await rawRedisCounter(redis, `${limitPrefix}${key}`))?.count || null;
      },
      async countersUnder(prefix) {
        const counts: Record<string, number> = {};
        let cursor = "0";
        do {
          const [next, found] = await redis.scan(cursor, "MATCH", `${limitPrefix}*`, "COUNT", 500);
          for (const key of found) {
            const name = key.slice(limitPrefix.length);
            const counter = name.startsWith(prefix) ? await rawRedisCounter(redis, key) : null;
            if (counter && counter.count > 0) counts[name] = counter.count;
          }
          cursor = next;
        } while (cursor !== "0");
        return counts;
      },
      passwordHash: (email) => users.passwordHash(email),
      async close() {
        await redis.quit();
        await users.close();
        await keys.drop();
      },
    };
  },
};

const BACKENDS = [SQLITE, ...(postgresUp ? [POSTGRES] : []), ...(redisUp ? [REDIS] : [])];
/** Backends whose windows follow the gatehouse's movable clock (Redis keys also expire on Redis's own). */
const SQL_BACKENDS = [SQLITE, ...(postgresUp ? [POSTGRES] : [])];

/**
 * Watches the rate-limit calls of a deployment's stores (one probe for all its instances). Each attempt is
 * counted once against the per-address budget, first, when it arrives: those calls are the attempts that
 * have arrived. Against the (account, address) budget an attempt is counted until it gets a place (a
 * waiting one tries again and again); one that got a place can be held there, before its hash, until
 * released. Works on reservations and on the plain hits of older code alike.
 */
class StoreProbe {
  private readonly calls = new Map<string, number>();
  private readonly placed = new Map<string, number>();
  private readonly waiters: Array<{ ready(): boolean; resolve(): void }> = [];
  private held: { key: string; max: number; released: Promise<void> } | null = null;

  wrap<T extends object>(inner: T): T {
    return new Proxy(inner, {
      get: (target, property) => {
        const value: unknown = Reflect.get(target, property);
        if (typeof value !== "function") return value;
        if (property === "hitRateLimit") {
          return async (key: string, ...rest: unknown[]) => {
            this.bump(this.calls, key);
            return value.call(target, key, ...rest);
          };
        }
        if (property !== "reserveAttempts") return value.bind(target);
        // One call reserves an attempt against each of its counters: each counts as one call at its key.
        return async (requests: Array<{ key: string }>, ...rest: unknown[]) => {
          for (const { key } of requests) this.bump(this.calls, key);
          const windows = (await value.call(target, requests, ...rest)) as Array<{ count: number }>;
          const at = requests.findIndex(({ key }) => key === this.held?.key);
          const window = windows[at];
          const held = this.held && window && window.count <= this.held.max ? this.held.released : null;
          if (held) this.bump(this.placed, this.held?.key as string);
          await held;
          return windows;
        };
      },
    });
  }

  private bump(counts: Map<string, number>, key: string): void {
    counts.set(key, (counts.get(key) ?? 0) + 1);
    for (const waiter of [...this.waiters]) {
      if (waiter.ready()) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  /** Attempts that have arrived from `ip` so far (each is counted once against the per-address budget). */
  arrivalsFrom(ip: string): number {
    return this.calls.get(keys.ip(ip)) ?? 0;
  }

  /** Reservations (or hits) against the counter `key` so far, the retries of waiting attempts included. */
  callsAt(key: string): number {
    return this.calls.get(key) ?? 0;
  }

  /** Attempts held with a place in `key`'s budget so far. */
  heldAt(key: string): number {
    return this.placed.get(key) ?? 0;
  }

  /** Resolves once `ready()` holds; it is looked at after every watched store call. */
  until(ready: () => boolean): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ ready, resolve }));
  }

  /**
   * From now on, holds every attempt that gets a place in the budget of counter `key` (its count, this
   * attempt included, at most `max`) right there, before its hash, until the returned function is called.
   */
  hold(key: string, max: number): () => void {
    let release!: () => void;
    this.held = { key, max, released: new Promise<void>((resolve) => (release = resolve)) };
    return () => {
      this.held = null;
      release();
    };
  }
}

interface Deployed {
  /** The app instances, filled in by beforeAll: read them only inside tests. */
  apps: TestServer[];
  /** Watches every instance's store. */
  probe: StoreProbe;
  db: Deployment;
}

/** `instances` test servers over one fresh deployment of `backend`, for the enclosing describe block. */
function useDeployment(backend: Backend, options: TestServerOptions, instances = 1): Deployed {
  const deployed: Deployed = {
    apps: Array.from({ length: instances }, () => ({}) as TestServer),
    probe: new StoreProbe(),
    db: {} as Deployment,
  };
  const started: TestServer[] = [];
  beforeAll(async () => {
    Object.assign(deployed.db, await backend.open());
    for (let i = 0; i < instances; i++) {
      const { store, redis } = deployed.db.instance();
      // Migrated before any request, so two instances never race to migrate one database.
      await store.migrate();
      await redis?.migrate();
      // The probe watches whichever store keeps the counters.
      const stores = redis
        ? { store, sessionStore: redis, rateLimitStore: deployed.probe.wrap(redis) }
        : { store: deployed.probe.wrap(store) };
      const server = await startServer("database", { ...options, ...stores });
      started.push(server);
      Object.assign(deployed.apps[i] as TestServer, server);
    }
  });
  afterAll(async () => {
    for (const server of started) await server.close();
    if (deployed.db.close) await deployed.db.close();
  });
  return deployed;
}

// ---------------------------------------------------------------------------------------------------------
// Requests and answers.

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const keys = {
  ip: (ip: string) => `login-ip:${ip}`,
  accountAndIp: (email: string, ip: string) => `login-account:${sha256(email)}:${ip}`,
  account: (email: string) => `login-account:${sha256(email)}`,
  accountDaily: (email: string) => `login-account-day:${sha256(email)}`,
  device: (id: string) => `login-device:${id}`,
};

let addresses = 0;
/** A client address no other request of this file comes from: 100.64.0.1, 100.64.0.2, … */
function freshAddress(): string {
  addresses++;
  return `100.64.${addresses >> 8}.${addresses & 255}`;
}

/** Headers that make the request come from `ip`, as the trusted proxy reports it. */
const from = (ip: string): Record<string, string> => ({ "X-Forwarded-For": ip });

function logIn(
  app: TestServer,
  email: string,
  password: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return apiRequest(app, "/api/auth/login", { json: { email, password }, headers });
}

let accountCount = 0;
async function newAccount(app: TestServer, label: string): Promise<string> {
  const email = `lt${++accountCount}-${label}@example.com`;
  await app.gatehouse.users.create({ email, password: PASSWORD });
  return email;
}

/** 429 rate_limited, with a Retry-After of whole seconds from 1 to `maxSeconds`, and no cookie. Returns the seconds. */
async function expectRateLimited(response: Response, maxSeconds: number, label = ""): Promise<number> {
  expect(response.status, label).toBe(429);
  expect((await response.clone().json()).error.code, label).toBe("rate_limited");
  const retryAfter = response.headers.get("retry-after") ?? "";
  expect(retryAfter, label).toMatch(/^[1-9][0-9]*$/);
  expect(Number(retryAfter), label).toBeLessThanOrEqual(maxSeconds);
  expect(response.headers.getSetCookie(), label).toEqual([]);
  return Number(retryAfter);
}

async function expectInvalidCredentials(response: Response, label = ""): Promise<void> {
  expect(response.status, label).toBe(401);
  expect((await response.clone().json()).error.code, label).toBe("invalid_credentials");
  expect(response.headers.getSetCookie(), label).toEqual([]);
}

/** What each answer was: its error code, or "ok" for a 2xx. */
async function outcomes(responses: Response[]): Promise<string[]> {
  return Promise.all(responses.map(async (r) => (r.ok ? "ok" : ((await r.json()).error.code as string))));
}

const tally = (items: string[]): Record<string, number> =>
  items.reduce<Record<string, number>>((counts, item) => {
    counts[item] = (counts[item] ?? 0) + 1;
    return counts;
  }, {});

/** The Set-Cookie header that sets `name`, or undefined. */
function setCookieNamed(headers: readonly string[], name: string): string | undefined {
  return headers.find((header) => header.startsWith(`${name}=`));
}

/** `name=value` of the device cookie a log-in set: what the browser sends back. Fails the test without one. */
function deviceCookieOf(response: Response): string {
  const header = setCookieNamed(response.headers.getSetCookie(), DEVICE_COOKIE);
  expect(header, "a device cookie").toBeDefined();
  return (header as string).split(";", 1)[0] as string;
}

/** The device id inside a device cookie, opened as the gatehouse opens it (AES-GCM, purpose "device"). */
async function deviceIdOf(pair: string): Promise<string> {
  const payload = (await createSealer([TEST_SECRET], "device").open(pair.slice(DEVICE_COOKIE.length + 1))) as {
    d: string;
  };
  return payload.d;
}

/** The default (account, address) budget: 10 failures per 15 minutes. */
const NARROW_MAX = 10;

/**
 * Sends the log-ins `send` makes (one account, one address) so that they are all in flight together: the
 * first 10 to get a place in the (account, address) budget are held there, before their hash, until every
 * request has arrived and been counted against that budget, so the others meet a budget full of attempts
 * in flight. Resolves, once they are released, to the responses still to come.
 */
async function allInFlight(
  probe: StoreProbe,
  email: string,
  ip: string,
  send: () => Array<Promise<Response>>,
): Promise<Array<Promise<Response>>> {
  const narrow = keys.accountAndIp(email, ip);
  const [held, arrived, judged] = [probe.heldAt(narrow), probe.arrivalsFrom(ip), probe.callsAt(narrow)];
  const release = probe.hold(narrow, NARROW_MAX);
  const pending = send();
  await probe.until(
    () =>
      probe.heldAt(narrow) >= held + NARROW_MAX &&
      probe.arrivalsFrom(ip) >= arrived + pending.length &&
      probe.callsAt(narrow) >= judged + pending.length,
  );
  release();
  return pending;
}

/**
 * `wrong` wrong passwords at once, and the right one (`right`) sent while ten of them hold their place in
 * the (account, address) budget, before their hash; all released once the right one has arrived too.
 */
async function burstThenRight(
  probe: StoreProbe,
  email: string,
  ip: string,
  wrong: () => Array<Promise<Response>>,
  right: () => Promise<Response>,
): Promise<{ wrong: Response[]; right: Response }> {
  const narrow = keys.accountAndIp(email, ip);
  const [held, arrived] = [probe.heldAt(narrow), probe.arrivalsFrom(ip)];
  const release = probe.hold(narrow, NARROW_MAX);
  const guesses = wrong();
  await probe.until(() => probe.heldAt(narrow) >= held + NARROW_MAX);
  const last = right();
  await probe.until(() => probe.arrivalsFrom(ip) >= arrived + guesses.length + 1);
  release();
  return { wrong: await Promise.all(guesses), right: await last };
}

/** Locks `email`'s account with 100 wrong passwords, each from an address of its own (a botnet). */
async function lockFromManyAddresses(app: TestServer, email: string, failures = 100): Promise<void> {
  for (let i = 1; i <= failures; i++)
    await expectInvalidCredentials(await logIn(app, email, WRONG, from(freshAddress())), `botnet guess ${i}`);
  await expectRateLimited(await logIn(app, email, PASSWORD, from(freshAddress())), 900, "locked");
}

// ---------------------------------------------------------------------------------------------------------

describe.each(BACKENDS)("log-in limits on $name", (backend) => {
  describe("one address guessing one account (default limits)", () => {
    const { apps, db } = useDeployment(backend, { ...BEHIND_ONE_PROXY, rateLimits: {} });
    const [app] = apps as [TestServer];

    it("is stopped after 10, adds only those 10 to the account, and the owner still logs in from another address", async () => {
      const email = await newAccount(app, "one-ip");
      const attacker = "203.0.113.9";
      const statuses: number[] = [];
      for (let i = 0; i < 120; i++) statuses.push((await logIn(app, email, WRONG, from(attacker))).status);
      expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
      expect(statuses.slice(10)).toEqual(Array(110).fill(429));

      const owner = await logIn(app, email, PASSWORD, from("198.51.100.20"));
      expect(owner.status, "the owner, from another address").toBe(200);
      // Refused attempts (no hash) count nowhere: not for the account, not for the address.
      expect(await db.counter(keys.accountDaily(email))).toBe(10);
      expect(await db.counter(keys.ip(attacker))).toBe(10);
      // The owner's success cleared the account's counter, not the attacker's own.
      expect(await db.counter(keys.account(email))).toBeNull();
      expect(await db.counter(keys.accountAndIp(email, attacker))).toBe(10);
      await expectRateLimited(await logIn(app, email, PASSWORD, from(attacker)), 900);
    });

    it("while the attacker keeps at it, the account-wide counter holds at most 10 of its failures", async () => {
      const email = await newAccount(app, "one-ip-count");
      for (let i = 0; i < 150; i++) await logIn(app, email, WRONG, from("203.0.113.10"));
      const account = await db.counter(keys.account(email));
      expect(account).toBe(10);
      expect(await db.counter(keys.accountAndIp(email, "203.0.113.10"))).toBe(10);
      expect((await logIn(app, email, PASSWORD, from("198.51.100.21"))).status).toBe(200);
    });
  });

  describe("parallel bursts from one address (default limits)", () => {
    const { apps, probe, db } = useDeployment(backend, { ...BEHIND_ONE_PROXY, rateLimits: {} });
    const [app] = apps as [TestServer];

    it("30 wrong passwords and then the right one, in parallel: 10 reach the hash, and the right one is refused", async () => {
      const email = await newAccount(app, "burst");
      const ip = freshAddress();
      const burst = await burstThenRight(
        probe,
        email,
        ip,
        () => Array.from({ length: 30 }, () => logIn(app, email, WRONG, from(ip))),
        () => logIn(app, email, PASSWORD, from(ip)),
      );
      await expectRateLimited(burst.right, 900, "the right password, last of the burst");
      // Each 401 is a hash run; a 429 is refused before the hash.
      expect(tally(await outcomes(burst.wrong))).toEqual({ invalid_credentials: 10, rate_limited: 20 });
      expect(await db.counter(keys.accountAndIp(email, ip))).toBe(10);
      expect(await db.counter(keys.account(email))).toBe(10);
    });

    it("20 right passwords for one account from one address, all at once, all log in", async () => {
      const email = await newAccount(app, "parallel-ok");
      const ip = freshAddress();
      const pending = await allInFlight(probe, email, ip, () =>
        Array.from({ length: 20 }, () => logIn(app, email, PASSWORD, from(ip))),
      );
      const responses = await Promise.all(pending);
      expect(tally(await outcomes(responses))).toEqual({ ok: 20 });
      for (const response of responses) {
        expect(sessionCookieOf(response)).toBeTruthy();
        expect(setCookieNamed(response.headers.getSetCookie(), DEVICE_COOKIE)).toBeDefined();
      }
      // Successes are not counted: nothing is left of them.
      expect(await db.countersUnder(`login-account:${sha256(email)}`)).toEqual({});
      expect(await db.counter(keys.accountDaily(email))).toBeNull();
      expect(await db.counter(keys.ip(ip))).toBeNull();
    });

    it("the right password among 9 wrong ones, in parallel, logs in", async () => {
      const email = await newAccount(app, "mixed");
      const ip = freshAddress();
      const responses = await Promise.all([
        ...Array.from({ length: 9 }, () => logIn(app, email, WRONG, from(ip))),
        logIn(app, email, PASSWORD, from(ip)),
      ]);
      const answers = await outcomes(responses);
      expect(answers.at(-1)).toBe("ok");
      expect(tally(answers)).toEqual({ invalid_credentials: 9, ok: 1 });
    });
  });

  describe("two app instances sharing one budget", () => {
    const { apps, probe, db } = useDeployment(backend, { ...BEHIND_ONE_PROXY, rateLimits: {} }, 2);
    const [a, b] = apps as [TestServer, TestServer];

    it("20 right passwords at once, split across both instances, all log in: the wait works across instances", async () => {
      const email = await newAccount(a, "two-instances");
      const ip = freshAddress();
      const pending = await allInFlight(probe, email, ip, () =>
        Array.from({ length: 20 }, (_, i) => logIn(i % 2 ? b : a, email, PASSWORD, from(ip))),
      );
      expect(tally(await outcomes(await Promise.all(pending)))).toEqual({ ok: 20 });
      expect(await db.countersUnder(`login-account:${sha256(email)}`)).toEqual({});
    });

    it("failures through one instance count for the other: 5 + 5 wrong, then both refuse", async () => {
      const email = await newAccount(a, "shared-budget");
      const ip = freshAddress();
      for (let i = 0; i < 5; i++) await expectInvalidCredentials(await logIn(a, email, WRONG, from(ip)), `via a ${i}`);
      for (let i = 0; i < 5; i++) await expectInvalidCredentials(await logIn(b, email, WRONG, from(ip)), `via b ${i}`);
      expect(await db.counter(keys.accountAndIp(email, ip))).toBe(10);
      await expectRateLimited(await logIn(a, email, PASSWORD, from(ip)), 900, "via a");
      await expectRateLimited(await logIn(b, email, PASSWORD, from(ip)), 900, "via b");
    });

    it("30 wrong and then the right one, split across both instances: 10 hashes in all, and the right one is refused", async () => {
      const email = await newAccount(a, "two-instance-burst");
      const ip = freshAddress();
      const burst = await burstThenRight(
        probe,
        email,
        ip,
        () => Array.from({ length: 30 }, (_, i) => logIn(i % 2 ? b : a, email, WRONG, from(ip))),
        () => logIn(b, email, PASSWORD, from(ip)),
      );
      await expectRateLimited(burst.right, 900, "the right password, last of the burst");
      expect(tally(await outcomes(burst.wrong))).toEqual({ invalid_credentials: 10, rate_limited: 20 });
    });
  });
});

describe("attempts in flight that do not settle within the wait (SQLite)", () => {
  const { apps, probe } = useDeployment(SQLITE, { ...BEHIND_ONE_PROXY, rateLimits: {} });
  const [app] = apps as [TestServer];

  it("the right password is refused, not let through, while ten wrong ones are held at the hash", async () => {
    const email = await newAccount(app, "held");
    const ip = freshAddress();
    const narrow = keys.accountAndIp(email, ip);
    const release = probe.hold(narrow, NARROW_MAX);
    const wrong = Array.from({ length: 10 }, () => logIn(app, email, WRONG, from(ip)));
    await probe.until(() => probe.heldAt(narrow) >= NARROW_MAX);
    // The budget is full of attempts in flight, and they stay in flight: the wait is bounded, and then 429.
    await expectRateLimited(await logIn(app, email, PASSWORD, from(ip)), 900);
    release();
    expect(tally(await outcomes(await Promise.all(wrong)))).toEqual({ invalid_credentials: 10 });
    await expectRateLimited(await logIn(app, email, PASSWORD, from(ip)), 900);
  });
});

describe("device cookies (SQLite, default limits)", () => {
  const { apps, db } = useDeployment(SQLITE, { ...BEHIND_ONE_PROXY, rateLimits: {} });
  const [app] = apps as [TestServer];

  function logInWith(device: string, email: string, password: string, ip = freshAddress()): Promise<Response> {
    return logIn(app, email, password, { ...from(ip), Cookie: device });
  }

  it("a log-in leaves a device cookie next to the session cookie: HttpOnly, SameSite=Lax, Path=/, one year; a failed one sets none", async () => {
    const email = await newAccount(app, "device-attrs");
    await expectInvalidCredentials(await logIn(app, email, WRONG, from(freshAddress())));
    const response = await logIn(app, email, PASSWORD, from(freshAddress()));
    expect(response.status).toBe(200);
    const headers = response.headers.getSetCookie();
    expect(setCookieNamed(headers, SESSION_COOKIE)).toBeDefined();
    const device = setCookieNamed(headers, DEVICE_COOKIE);
    expect(device, "a device cookie").toBeDefined();
    const [pair, ...attributes] = (device as string).split(";").map((part) => part.trim());
    expect(pair?.length).toBeGreaterThan(DEVICE_COOKIE.length + 1);
    expect(pair).not.toContain(email.split("@")[0]);
    const attrs = new Map(attributes.map((part) => [part.split("=")[0]?.toLowerCase(), part.split("=")[1]]));
    expect(attrs.has("httponly")).toBe(true);
    expect(attrs.get("samesite")).toBe("Lax");
    expect(attrs.get("path")).toBe("/");
    expect(attrs.get("max-age")).toBe(String(DEVICE_MAX_AGE_SECONDS));
    expect(attrs.has("domain")).toBe(false);

    // An HTML form log-in sets it too, beside the session cookie.
    const form = await rawRequest(app, {
      method: "POST",
      path: "/api/auth/login",
      headers: { Origin: app.origin, "Content-Type": "application/x-www-form-urlencoded", ...from(freshAddress()) },
      body: new URLSearchParams({ email, password: PASSWORD }).toString(),
    });
    expect(form.status).toBe(303);
    const formCookies = form.headers["set-cookie"] ?? [];
    expect(setCookieNamed(formCookies, SESSION_COOKIE)).toBeDefined();
    expect(setCookieNamed(formCookies, DEVICE_COOKIE)).toMatch(/HttpOnly/i);
    // A failed form log-in sets none.
    const failed = await rawRequest(app, {
      method: "POST",
      path: "/api/auth/login",
      headers: { Origin: app.origin, "Content-Type": "application/x-www-form-urlencoded", ...from(freshAddress()) },
      body: new URLSearchParams({ email, password: WRONG }).toString(),
    });
    expect(failed.status).toBe(303);
    expect(failed.headers["set-cookie"]).toBeUndefined();
  });

  it("while failures from everywhere lock the account, the owner's browser logs in with its device cookie; nothing else does", async () => {
    const email = await newAccount(app, "device-lock");
    const other = await newAccount(app, "device-other");
    const ownBrowser = deviceCookieOf(await logIn(app, email, PASSWORD, from("198.51.100.30")));
    const othersBrowser = deviceCookieOf(await logIn(app, other, PASSWORD, from("198.51.100.31")));
    await lockFromManyAddresses(app, email);
    expect(await db.counter(keys.account(email))).toBe(100);

    await expectRateLimited(
      await logIn(app, email, PASSWORD, from("198.51.100.30")),
      900,
      "no device cookie, the owner's usual address",
    );
    const owner = await logInWith(ownBrowser, email, PASSWORD, "198.51.100.30");
    expect(owner.status, "the owner's browser").toBe(200);
    expect(sessionCookieOf(owner)).toBeTruthy();
    // The owner's success on the device's budget does not lift the account's lock for anyone else.
    await expectRateLimited(
      await logIn(app, email, PASSWORD, from(freshAddress())),
      900,
      "no device cookie, after the owner's log-in",
    );
    expect(await db.counter(keys.account(email))).toBe(100);

    await expectRateLimited(await logInWith(othersBrowser, email, PASSWORD), 900, "another account's device cookie");
    // The other account's own device still works for that account.
    expect((await logInWith(othersBrowser, other, PASSWORD)).status).toBe(200);

    const value = ownBrowser.slice(DEVICE_COOKIE.length + 1);
    const forgedPayload = { d: "forged", a: sha256(email), i: Math.floor(app.startedAt / SECOND) };
    const forgeries: Record<string, string> = {
      "a changed character": `${value.slice(0, 20)}${value[20] === "A" ? "B" : "A"}${value.slice(21)}`,
      "a truncated value": value.slice(0, -4),
      "sealed with another secret": await createSealer(["some-other-secret-of-enough-length-0123"], "device").seal(
        forgedPayload,
      ),
      "sealed for sessions": await createSealer([TEST_SECRET], "session").seal(forgedPayload),
      "plain JSON": encodeURIComponent(JSON.stringify(forgedPayload)),
      garbage: "g1.not-a-sealed-value",
      empty: "",
      oversized: "g1.".padEnd(6000, "A"),
    };
    for (const [label, forged] of Object.entries(forgeries)) {
      await expectRateLimited(await logInWith(`${DEVICE_COOKIE}=${forged}`, email, PASSWORD), 900, label);
    }
    // And the owner's genuine cookie still works after all that.
    expect((await logInWith(ownBrowser, email, PASSWORD)).status).toBe(200);
  });

  it("a device has a budget of its own: after 10 wrong passwords it is refused, other devices and the account are not", async () => {
    const email = await newAccount(app, "device-budget");
    const laptop = deviceCookieOf(await logIn(app, email, PASSWORD, from(freshAddress())));
    const phone = deviceCookieOf(await logIn(app, email, PASSWORD, from(freshAddress())));
    for (let i = 1; i <= 10; i++)
      await expectInvalidCredentials(await logInWith(laptop, email, WRONG), `laptop guess ${i}`);
    expect(await db.counter(keys.device(await deviceIdOf(laptop)))).toBe(10);
    await expectRateLimited(await logInWith(laptop, email, PASSWORD), 900, "the laptop, right password");
    // The laptop's failures are its own: not the account's, not its addresses'.
    expect(await db.countersUnder(`login-account:${sha256(email)}`)).toEqual({});
    expect((await logInWith(phone, email, PASSWORD)).status, "the phone").toBe(200);
    expect((await logIn(app, email, PASSWORD, from(freshAddress()))).status, "a browser without a device cookie").toBe(
      200,
    );
    await expectRateLimited(await logInWith(laptop, email, PASSWORD), 900, "the laptop, still");
  });

  it("a success with the device cookie clears that device's failures", async () => {
    const email = await newAccount(app, "device-reset");
    const device = deviceCookieOf(await logIn(app, email, PASSWORD, from(freshAddress())));
    for (let i = 0; i < 9; i++) await expectInvalidCredentials(await logInWith(device, email, WRONG));
    expect((await logInWith(device, email, PASSWORD)).status).toBe(200);
    expect(await db.counter(keys.device(await deviceIdOf(device)))).toBeNull();
    for (let i = 1; i <= 10; i++)
      await expectInvalidCredentials(await logInWith(device, email, WRONG), `after the reset ${i}`);
    await expectRateLimited(await logInWith(device, email, PASSWORD), 900);
  });
});

describe("the 15 minutes and the day both full (SQLite, 20 each)", () => {
  const { apps } = useDeployment(SQLITE, {
    ...BEHIND_ONE_PROXY,
    rateLimits: {
      loginPerAccount: { max: 20, windowSeconds: 15 * 60 },
      loginPerAccountDaily: { max: 20, windowSeconds: 24 * 60 * 60 },
    },
  });
  const [app] = apps as [TestServer];

  it("Retry-After names the day's wait, not the 15 minutes after which the answer is 429 again", async () => {
    const email = await newAccount(app, "both-full");
    for (let i = 1; i <= 20; i++)
      await expectInvalidCredentials(await logIn(app, email, WRONG, from(freshAddress())), `failure ${i}`);
    expect(await expectRateLimited(await logIn(app, email, PASSWORD, from(freshAddress())), 24 * 60 * 60)).toBe(
      DAY / SECOND,
    );
  });
});

describe("with the device limit turned off (loginPerDevice: false)", () => {
  const { apps } = useDeployment(SQLITE, { ...BEHIND_ONE_PROXY, rateLimits: { loginPerDevice: false } });
  const [app] = apps as [TestServer];

  it("a device cookie earns nothing: its checks get the ordinary limits", async () => {
    const email = await newAccount(app, "no-device-limit");
    const device = deviceCookieOf(await logIn(app, email, PASSWORD, from(freshAddress())));
    const ip = freshAddress();
    for (let i = 1; i <= 10; i++)
      await expectInvalidCredentials(await logIn(app, email, WRONG, { ...from(ip), Cookie: device }), `guess ${i}`);
    await expectRateLimited(await logIn(app, email, PASSWORD, { ...from(ip), Cookie: device }), 900);
  });
});

describe.each(SQL_BACKENDS)("the daily window per account ($name)", (backend) => {
  const { apps, db } = useDeployment(backend, {
    ...BEHIND_ONE_PROXY,
    rateLimits: {
      loginPerAccount: { max: 20, windowSeconds: 15 * 60 },
      loginPerAccountDaily: { max: 30, windowSeconds: 24 * 60 * 60 },
    },
  });
  const [app] = apps as [TestServer];

  it("holds failures across 15-minute windows and a success in between, and lifts after 24 hours", async () => {
    const email = await newAccount(app, "daily");
    for (let i = 1; i <= 20; i++)
      await expectInvalidCredentials(await logIn(app, email, WRONG, from(freshAddress())), `first window ${i}`);
    expect(await expectRateLimited(await logIn(app, email, PASSWORD, from(freshAddress())), 900)).toBe(900);

    app.setClock(app.startedAt + 15 * MINUTE);
    // A success does not clear the daily count (it would let a daily owner reopen the window for guessing).
    expect((await logIn(app, email, PASSWORD, from(freshAddress()))).status, "the owner, in the next window").toBe(200);
    for (let i = 1; i <= 10; i++)
      await expectInvalidCredentials(await logIn(app, email, WRONG, from(freshAddress())), `second window ${i}`);
    const wait = await expectRateLimited(
      await logIn(app, email, PASSWORD, from(freshAddress())),
      24 * 60 * 60,
      "daily limit",
    );
    expect(wait, "until the daily window ends").toBe((DAY - 15 * MINUTE) / SECOND);
    expect(await db.counter(keys.account(email)), "the 15-minute window has room").toBe(10);
    expect(await db.counter(keys.accountDaily(email))).toBe(30);

    app.setClock(app.startedAt + DAY - SECOND);
    expect(await expectRateLimited(await logIn(app, email, PASSWORD, from(freshAddress())), 24 * 60 * 60)).toBe(1);
    app.setClock(app.startedAt + DAY);
    expect((await logIn(app, email, PASSWORD, from(freshAddress()))).status, "after 24 hours").toBe(200);
    app.setClock(app.startedAt);
  });

  it("is on by default: 1,000 failures per 24 hours", () => {
    expect(DEFAULT_RATE_LIMITS.loginPerAccountDaily).toEqual({ max: 1000, windowSeconds: 24 * 60 * 60 });
  });
});

describe("the password checks of sensitive changes (SQLite, default limits)", () => {
  const sent: Array<{ to: string; subject: string }> = [];
  const { apps, db } = useDeployment(SQLITE, {
    ...BEHIND_ONE_PROXY,
    rateLimits: {},
    email: { mailer: { send: async (message) => void sent.push(message) } },
  });
  const [app] = apps as [TestServer];

  /**
   * The victim, logged in from home: the session cookie (which the attacker steals) and the `name=value` of
   * the device cookie the log-in left, if any.
   */
  async function victim(label: string): Promise<{ email: string; session: string; device: string | undefined }> {
    const email = await newAccount(app, label);
    const response = await logIn(app, email, PASSWORD, from(freshAddress()));
    expect(response.status).toBe(200);
    const device = setCookieNamed(response.headers.getSetCookie(), DEVICE_COOKIE)?.split(";", 1)[0];
    return { email, session: sessionCookieOf(response) as string, device };
  }

  function sensitive(route: string, init: ApiRequestInit & { ip?: string; device?: string }): Promise<Response> {
    const { ip = freshAddress(), device, cookie, ...rest } = init;
    const cookies = [`${SESSION_COOKIE}=${cookie}`, ...(device ? [device] : [])].join("; ");
    return apiRequest(app, route, { ...rest, headers: { ...from(ip), Cookie: cookies } });
  }
  const changePassword = (cookie: string, currentPassword: string, extra: { ip?: string; device?: string } = {}) =>
    sensitive("/api/auth/password", { json: { currentPassword, newPassword: NEW_PASSWORD }, cookie, ...extra });
  const deleteAccount = (cookie: string, password: string, extra: { ip?: string } = {}) =>
    sensitive("/api/auth/account", { method: "DELETE", json: { password }, cookie, ...extra });
  const changeEmail = (cookie: string, email: string, password: string, extra: { ip?: string } = {}) =>
    sensitive("/api/auth/email-change", { json: { email, password }, cookie, ...extra });

  it("a stolen session guessing currentPassword from rotating addresses is refused by attempt 101, and log-in is locked with it", async () => {
    const { email, session } = await victim("stolen");
    const hash = await db.passwordHash(email);
    let refusedAt = 0;
    for (let attempt = 1; attempt <= 300 && refusedAt === 0; attempt++) {
      const response = await changePassword(session, `guess ${attempt}`);
      if (response.status === 429) refusedAt = attempt;
      else expect(response.status, `guess ${attempt}`).toBe(400);
    }
    expect(refusedAt, "the first 429 (0: none in 300 guesses)").toBeGreaterThan(0);
    expect(refusedAt).toBeLessThanOrEqual(101);
    await expectRateLimited(await changePassword(session, PASSWORD), 900, "the right current password, now");
    await expectRateLimited(
      await logIn(app, email, PASSWORD, from(freshAddress())),
      900,
      "log-in from a fresh address",
    );
    expect(await db.passwordHash(email)).toBe(hash);
  });

  it("after log-in is locked, a password change, deletion or email change with the right password is 429 and changes nothing; the owner's device still can", async () => {
    const { email, session, device } = await victim("locked");
    const hash = await db.passwordHash(email);
    await lockFromManyAddresses(app, email);

    await expectRateLimited(await changePassword(session, PASSWORD), 900, "password change");
    await expectRateLimited(await deleteAccount(session, PASSWORD), 900, "account deletion");
    const newAddress = `new-${email}`;
    await expectRateLimited(await changeEmail(session, newAddress, PASSWORD), 900, "email change");
    expect(await db.passwordHash(email), "the password is unchanged").toBe(hash);
    expect(
      (await apiRequest(app, "/api/me", { cookie: session })).status,
      "the account and its session are still there",
    ).toBe(200);
    expect(sent.filter((message) => message.to === newAddress)).toEqual([]);

    // The owner's own browser presents its device cookie: its budget, not the locked account's.
    expect(device, "the device cookie of the victim's log-in").toBeDefined();
    const changed = await changePassword(session, PASSWORD, { device: device as string });
    expect(changed.status, "password change from the owner's device").toBe(200);
    expect(await db.passwordHash(email)).not.toBe(hash);
    // The browser that changed the password gets a device cookie for the new one; the old one is void.
    const renewed = setCookieNamed(changed.headers.getSetCookie(), DEVICE_COOKIE)?.split(";", 1)[0];
    expect(renewed, "a new device cookie with the password change").toBeDefined();
    expect((await logIn(app, email, NEW_PASSWORD, { ...from(freshAddress()), Cookie: renewed as string })).status).toBe(
      200,
    );
    await expectRateLimited(
      await logIn(app, email, NEW_PASSWORD, { ...from(freshAddress()), Cookie: device as string }),
      900,
      "the device cookie from before the change",
    );
  });

  it("device cookies collected while the password was known are worth nothing once it changes", async () => {
    const { email, session } = await victim("collected");
    // Someone who knew the password logged in again and again, collecting a device budget each time.
    const collected = await Promise.all(
      Array.from({ length: 5 }, async () => deviceCookieOf(await logIn(app, email, PASSWORD, from(freshAddress())))),
    );
    expect((await changePassword(session, PASSWORD)).status).toBe(200);
    const ip = freshAddress();
    for (let i = 1; i <= 10; i++) {
      await expectInvalidCredentials(
        await logIn(app, email, `guess ${i}`, { ...from(ip), Cookie: collected[i % 5] as string }),
        `guess ${i}`,
      );
    }
    // Each guess was counted as one without a device cookie: the address's budget for the account is spent.
    expect(await db.counter(keys.accountAndIp(email, ip))).toBe(10);
    await expectRateLimited(
      await logIn(app, email, NEW_PASSWORD, { ...from(ip), Cookie: collected[0] as string }),
      900,
    );
  });

  it("one address adds at most 10 failed password checks to the account, and the owner changes the password from elsewhere", async () => {
    const { email, session } = await victim("narrow");
    const ip = freshAddress();
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) statuses.push((await changePassword(session, `guess ${i}`, { ip })).status);
    expect(statuses).toEqual([...Array(10).fill(400), ...Array(5).fill(429)]);
    expect(await db.counter(keys.account(email))).toBe(10);
    expect(await db.counter(keys.accountAndIp(email, ip))).toBe(10);
    expect((await changePassword(session, PASSWORD)).status, "from another address").toBe(200);
  });

  it("wrong passwords on deletion and email change count like wrong current passwords", async () => {
    const { email, session } = await victim("mixed-checks");
    const ip = freshAddress();
    for (let i = 0; i < 4; i++) expect((await deleteAccount(session, `guess ${i}`, { ip })).status).toBe(400);
    for (let i = 0; i < 3; i++)
      expect((await changeEmail(session, `elsewhere-${i}-${email}`, `guess ${i}`, { ip })).status).toBe(400);
    for (let i = 0; i < 3; i++) expect((await changePassword(session, `guess ${i}`, { ip })).status).toBe(400);
    expect(await db.counter(keys.accountAndIp(email, ip))).toBe(10);
    await expectRateLimited(await logIn(app, email, PASSWORD, from(ip)), 900, "log-in from that address");
    await expectRateLimited(await deleteAccount(session, PASSWORD, { ip }), 900, "deletion from that address");
  });
});

describe("the per-address limit counts sensitive changes' password checks (SQLite, loginPerIp 5)", () => {
  const { apps, db } = useDeployment(SQLITE, {
    ...BEHIND_ONE_PROXY,
    rateLimits: { loginPerIp: { max: 5, windowSeconds: 15 * 60 } },
    email: { mailer: { send: async () => undefined } },
  });
  const [app] = apps as [TestServer];

  /** An account logged in from an address of its own; `request` sends its session cookie from `ip`. */
  async function signedIn(label: string, ip: string) {
    const email = await newAccount(app, label);
    const session = sessionCookieOf(await logIn(app, email, PASSWORD, from(freshAddress()))) as string;
    const request = (route: string, init: ApiRequestInit) =>
      apiRequest(app, route, { ...init, headers: { ...from(ip), Cookie: `${SESSION_COOKIE}=${session}` } });
    return { email, request };
  }

  it("5 wrong passwords in changes of five accounts from one address, then that address is refused for log-in too", async () => {
    const ip = freshAddress();
    const guesses = [
      (await signedIn("per-ip-1", ip)).request("/api/auth/password", {
        json: { currentPassword: WRONG, newPassword: NEW_PASSWORD },
      }),
      (await signedIn("per-ip-2", ip)).request("/api/auth/password", {
        json: { currentPassword: WRONG, newPassword: NEW_PASSWORD },
      }),
      (await signedIn("per-ip-3", ip)).request("/api/auth/account", { method: "DELETE", json: { password: WRONG } }),
      (await signedIn("per-ip-4", ip)).request("/api/auth/email-change", {
        json: { email: "new-4@example.com", password: WRONG },
      }),
      (await signedIn("per-ip-5", ip)).request("/api/auth/email-change", {
        json: { email: "new-5@example.com", password: WRONG },
      }),
    ];
    const statuses: number[] = [];
    for (const guess of guesses) statuses.push((await guess).status);
    expect(statuses).toEqual([400, 400, 400, 400, 400]);
    expect(await db.counter(keys.ip(ip))).toBe(5);

    const sixth = await signedIn("per-ip-6", ip);
    await expectRateLimited(await logIn(app, sixth.email, PASSWORD, from(ip)), 900, "log-in of a sixth account");
    const change = await sixth.request("/api/auth/password", {
      json: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
    });
    await expectRateLimited(change, 900, "password change of the sixth account");
    expect((await logIn(app, sixth.email, PASSWORD, from(freshAddress()))).status, "from another address").toBe(200);
  });
});

describe("IPv6 addresses count by /64 (SQLite)", () => {
  describe("the narrow limit (default limits)", () => {
    const { apps, db } = useDeployment(SQLITE, { ...BEHIND_ONE_PROXY, rateLimits: {} });
    const [app] = apps as [TestServer];

    it("10 wrong passwords from ten addresses of one /64, then every address of it is refused; another /64 is not", async () => {
      const email = await newAccount(app, "v6");
      for (let i = 1; i <= 10; i++) {
        await expectInvalidCredentials(
          await logIn(app, email, WRONG, from(`2001:db8:1:2::${i.toString(16)}`)),
          `2001:db8:1:2::${i}`,
        );
      }
      // Whichever address of the /64, however it is written.
      for (const ip of [
        "2001:db8:1:2::ff",
        "2001:db8:1:2:ffff:ffff:ffff:ffff",
        "2001:0DB8:0001:0002:0000:0000:0000:0abc",
      ]) {
        await expectRateLimited(await logIn(app, email, PASSWORD, from(ip)), 900, ip);
      }
      const perAddress = await db.countersUnder(`${keys.account(email)}:`);
      expect(Object.values(perAddress), "one counter for the /64").toEqual([10]);
      expect((await logIn(app, email, PASSWORD, from("2001:db8:1:3::1"))).status, "the next /64").toBe(200);
    });

    it("an IPv4-mapped address counts as the IPv4 address", async () => {
      const email = await newAccount(app, "mapped");
      for (let i = 0; i < 5; i++)
        await expectInvalidCredentials(await logIn(app, email, WRONG, from("::ffff:198.51.100.7")));
      for (let i = 0; i < 5; i++) await expectInvalidCredentials(await logIn(app, email, WRONG, from("198.51.100.7")));
      expect(await db.counter(keys.accountAndIp(email, "198.51.100.7"))).toBe(10);
      await expectRateLimited(await logIn(app, email, PASSWORD, from("198.51.100.7")), 900);
      await expectRateLimited(await logIn(app, email, PASSWORD, from("::ffff:198.51.100.7")), 900);
      expect((await logIn(app, email, PASSWORD, from("198.51.100.8"))).status).toBe(200);
    });
  });

  describe("the per-address limits (loginPerIp 5, signupPerIp 3)", () => {
    const { apps } = useDeployment(SQLITE, {
      ...BEHIND_ONE_PROXY,
      rateLimits: { loginPerIp: { max: 5, windowSeconds: 15 * 60 }, signupPerIp: { max: 3, windowSeconds: 60 * 60 } },
    });
    const [app] = apps as [TestServer];
    const uniqueEmail = uniqueEmails("v6-signup", "sqlite");

    it("log-in failures for five accounts from five addresses of one /64 use up the /64's budget", async () => {
      for (let i = 1; i <= 5; i++) {
        const email = await newAccount(app, `v6-ip-${i}`);
        await expectInvalidCredentials(await logIn(app, email, WRONG, from(`2001:db8:9:9::${i}`)));
      }
      const email = await newAccount(app, "v6-ip-owner");
      await expectRateLimited(await logIn(app, email, PASSWORD, from("2001:db8:9:9:abcd::1")), 900);
      expect((await logIn(app, email, PASSWORD, from("2001:db8:9:a::1"))).status).toBe(200);
    });

    it("sign-ups from three addresses of one /64 use up the /64's budget", async () => {
      const signUp = (ip: string) =>
        apiRequest(app, "/api/auth/signup", { json: { email: uniqueEmail(), password: PASSWORD }, headers: from(ip) });
      for (let i = 1; i <= 3; i++) expect((await signUp(`2001:db8:5:5::${i}`)).status).toBe(201);
      await expectRateLimited(await signUp("2001:db8:5:5::4"), 3600);
      expect((await signUp("2001:db8:5:6::4")).status).toBe(201);
    });
  });
});

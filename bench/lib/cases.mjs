// The in-process session checks. Each case sets up a real session the way its library issues one, then
// exposes `run(value)`: the per-request check, resolving to the user id, or `null` when refused.
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { join } from "node:path";
import { cookieFromSetCookie, cookieHeaderFrom, randomSecret, tamper } from "./util.mjs";

const ORIGIN = "http://127.0.0.1:3000";
const PASSWORD = "correct horse battery staple 42";
const COOKIE = "__Host-gatehouse.session";

/**
 * The session every peer carries: the same ids and times as a Gatehouse stateless cookie. JWT peers get
 * them under the registered claim names (`sub`, `iat`, `exp`) plus `sid`.
 */
function samplePayload() {
  const now = Math.floor(Date.now() / 1000);
  return {
    s: randomBytes(12).toString("base64url"),
    u: randomBytes(12).toString("base64url"),
    c: now,
    e: now + 7 * 24 * 3600,
  };
}
const asClaims = (p) => ({ sub: p.u, sid: p.s, iat: p.c, exp: p.e });

/** A secure check whose answer cannot carry a cookie, as in a hot loop: nothing is rotated or renewed. */
const NO_COOKIE = Object.freeze({ canSetCookie: false });

/**
 * A case of Gatehouse's secure check: `authenticate` given the Cookie header, as every adapter calls it, with a
 * forged value (one character changed, at `tamperAt` when given) that it must refuse.
 */
function secureCheck(fx, close, tamperAt) {
  return {
    run: async (input) => (await fx.gatehouse.authenticate(input, NO_COOKIE)).user?.id ?? null,
    value: fx.cookie,
    expected: fx.user.id,
    tampered: `${COOKIE}=${tamper(fx.value, tamperAt)}`,
    cookie: fx.cookie,
    close,
  };
}

/** Users in SQLite and sessions in Redis, closed together. */
const closingBoth = (users, sessions) => ({ close: () => Promise.all([users.close(), sessions.close()]) });

/** A Gatehouse instance on its own SQLite file (or another store), with one user and one session. */
async function gatehouseFixture({ dir, strategy, store, redis }) {
  const { createGatehouse } = await import("gatehouse-auth");
  const secret = randomSecret();
  // Production settings, as the example app runs: Secure, and the `__Host-` cookie name.
  const stores = redis ? { store, sessionStore: redis, rateLimitStore: redis } : { store };
  const gatehouse = createGatehouse({ ...stores, secret, strategy, url: ORIGIN, secureCookies: true });
  const user = await gatehouse.users.create({
    email: `bench-${randomBytes(6).toString("hex")}@example.com`,
    password: PASSWORD,
    name: "Ada Lovelace",
  });
  const signedIn = await gatehouse.startSession(user.id, { userAgent: "bench", ip: "127.0.0.1" });
  const value = cookieFromSetCookie(signedIn.setCookie, COOKIE);
  if (!value) throw new Error(`no ${COOKIE} cookie in ${signedIn.setCookie}`);
  return { gatehouse, secret, user, value, dir, cookie: `${COOKIE}=${value}` };
}

async function sqliteStore(dir, name) {
  const { createSqliteStore } = await import("gatehouse-auth/stores/sqlite");
  const path = join(dir, `${name}.db`);
  return { store: createSqliteStore({ url: `file:${path}` }), path };
}

/**
 * A database floor: split the `id.secret` cookie, fetch the stored record with `lookup(id)`, compare
 * SHA-256(secret) with its `secret_hash` in constant time, and answer `userOf(record)`.
 */
function tokenFloor(fx, lookup, userOf, close) {
  const run = async (input) => {
    const dot = input.indexOf(".");
    const record = await lookup(input.slice(0, dot));
    if (!record?.secret_hash) return null;
    const digest = createHash("sha256")
      .update(input.slice(dot + 1))
      .digest("hex");
    return timingSafeEqual(Buffer.from(digest), Buffer.from(record.secret_hash)) ? userOf(record) : null;
  };
  return {
    run,
    value: fx.value,
    expected: fx.user.id,
    tampered: tamper(fx.value, fx.value.length - 5),
    cookie: fx.cookie,
    close,
  };
}

const SESSION_AND_USER_SQL = `select s.id, s.user_id, s.secret_hash, s.user_version, s.created_at, s.expires_at, s.last_seen_at,
  s.user_agent, s.ip, u.id as uid, u.email, u.name, u.role, u.password_hash, u.session_version, u.created_at as u_created_at,
  u.updated_at from gatehouse_sessions s inner join gatehouse_users u on u.id = s.user_id where s.id = `;

/**
 * @typedef {object} CaseInstance A set-up case.
 * @property {(value: string) => Promise<string | null>} run The per-request check: the user id, or `null`.
 * @property {string} value The cookie value (Better Auth: the Cookie header) of a live session.
 * @property {string} expected The user id `run(value)` must answer.
 * @property {string} tampered A forged value that `run` must refuse.
 * @property {string} cookie The `name=value` pair(s) a browser sends back, for the cookie-size figure.
 * @property {() => unknown} [close]
 *
 * @typedef {object} CaseSpec
 * @property {string} id
 * @property {string} label
 * @property {"floor" | "check" | "peer"} kind
 * @property {string} [floor] The raw baseline this case is compared with.
 * @property {string} [likeForLike] A second baseline doing exactly the same work without the library.
 * @property {"postgres" | "redis"} [needs] A service the case requires.
 * @property {boolean} [info] Reported, but not a peer comparison.
 * @property {(context: { dir: string, postgres?: any, redis?: any }) => Promise<CaseInstance>} setup
 */

/** @type {CaseSpec[]} Every case. */
export const CASES = [
  {
    id: "floor-aes-gcm",
    label: "floor: node:crypto AES-256-GCM + JSON.parse",
    kind: "floor",
    async setup() {
      const key = randomBytes(32);
      const aad = Buffer.from("g1");
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      cipher.setAAD(aad);
      const payload = samplePayload();
      const body = Buffer.concat([cipher.update(JSON.stringify(payload)), cipher.final(), cipher.getAuthTag()]);
      const value = Buffer.concat([iv, body]).toString("base64url");
      // base64url decode, decipher, authenticate, parse: the least any sealed-cookie check must do.
      const run = async (input) => {
        try {
          const raw = Buffer.from(input, "base64url");
          const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
          decipher.setAAD(aad);
          decipher.setAuthTag(raw.subarray(raw.length - 16));
          const plain = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
          return JSON.parse(plain.toString("utf8")).u;
        } catch {
          return null;
        }
      };
      return { run, value, expected: payload.u, tampered: tamper(value), cookie: `${COOKIE}=g1.${value}` };
    },
  },
  {
    id: "gatehouse-stateless",
    label: "Gatehouse stateless (cookie check)",
    kind: "check",
    floor: "floor-aes-gcm",
    async setup({ dir }) {
      const { createOptimisticCheck } = await import("gatehouse-auth");
      const { store } = await sqliteStore(dir, "stateless-optimistic");
      const fx = await gatehouseFixture({ dir, strategy: "stateless", store });
      const check = createOptimisticCheck({ secret: fx.secret, strategy: "stateless" });
      const run = async (input) => (await check(input))?.userId ?? null;
      return {
        run,
        value: fx.value,
        expected: fx.user.id,
        tampered: tamper(fx.value),
        cookie: fx.cookie,
        close: () => store.close(),
      };
    },
  },
  {
    id: "gatehouse-stateless-cold",
    label: "Gatehouse stateless, a cookie's first check ²",
    kind: "check",
    floor: "floor-aes-gcm",
    async setup({ dir }) {
      const { createOptimisticCheck } = await import("gatehouse-auth");
      const { store } = await sqliteStore(dir, "stateless-cold");
      const fx = await gatehouseFixture({ dir, strategy: "stateless", store });
      // Twice as many genuine cookies as the check remembers, taken in turn: every call decrypts.
      const pool = [];
      for (let i = 0; i < 2048; i++) {
        pool.push(cookieFromSetCookie((await fx.gatehouse.startSession(fx.user.id, {})).setCookie, COOKIE));
      }
      const check = createOptimisticCheck({ secret: fx.secret, strategy: "stateless" });
      let next = 0;
      const run = async (input) =>
        (await check(input === fx.value ? pool[next++ % pool.length] : input))?.userId ?? null;
      return {
        run,
        value: fx.value,
        expected: fx.user.id,
        tampered: tamper(fx.value),
        cookie: fx.cookie,
        close: () => store.close(),
      };
    },
  },
  {
    id: "gatehouse-stateless-secure",
    label: "Gatehouse stateless + its record (secure check, SQLite)",
    kind: "check",
    floor: "floor-aes-gcm",
    info: true,
    async setup({ dir }) {
      const { store } = await sqliteStore(dir, "stateless-secure");
      const fx = await gatehouseFixture({ dir, strategy: "stateless", store });
      return secureCheck(fx, () => store.close());
    },
  },
  {
    id: "floor-sqlite",
    label: "floor: SHA-256 + prepared SELECT (better-sqlite3)",
    kind: "floor",
    async setup({ dir }) {
      const { default: Database } = await import("better-sqlite3");
      const { store, path } = await sqliteStore(dir, "floor");
      const fx = await gatehouseFixture({ dir, strategy: "database", store });
      const db = new Database(path, { readonly: true });
      const statement = db.prepare(`${SESSION_AND_USER_SQL}?`);
      return tokenFloor(
        fx,
        (id) => statement.get(id),
        (row) => row.uid,
        async () => {
          db.close();
          await store.close();
        },
      );
    },
  },
  {
    id: "gatehouse-db-sqlite",
    label: "Gatehouse database, SQLite",
    kind: "check",
    floor: "floor-sqlite",
    async setup({ dir }) {
      const { store } = await sqliteStore(dir, "database");
      const fx = await gatehouseFixture({ dir, strategy: "database", store });
      return secureCheck(fx, () => store.close(), fx.value.length - 5);
    },
  },
  {
    id: "floor-postgres",
    label: "floor: one pg round trip (same SELECT, prepared)",
    kind: "floor",
    needs: "postgres",
    async setup({ dir, postgres }) {
      const { default: pg } = await import("pg");
      const { createPostgresStore } = await import("gatehouse-auth/stores/postgres");
      const store = createPostgresStore({ url: postgres.url });
      const fx = await gatehouseFixture({ dir, strategy: "database", store });
      const pool = new pg.Pool({ connectionString: postgres.url, max: 10 });
      const text = `${SESSION_AND_USER_SQL}$1`;
      // A named statement, as Gatehouse uses: the floor is the round trip, not the server re-planning.
      const lookup = async (id) => (await pool.query({ name: "bench_floor_lookup", text, values: [id] })).rows[0];
      return tokenFloor(
        fx,
        lookup,
        (row) => row.uid,
        async () => {
          await pool.end();
          await store.close();
        },
      );
    },
  },
  {
    id: "gatehouse-db-postgres",
    label: "Gatehouse database, PostgreSQL",
    kind: "check",
    floor: "floor-postgres",
    needs: "postgres",
    async setup({ dir, postgres }) {
      const { createPostgresStore } = await import("gatehouse-auth/stores/postgres");
      const store = createPostgresStore({ url: postgres.url });
      const fx = await gatehouseFixture({ dir, strategy: "database", store });
      return secureCheck(fx, () => store.close(), fx.value.length - 5);
    },
  },
  {
    id: "floor-redis",
    label: "floor: one ioredis round trip (HGETALL)",
    kind: "floor",
    needs: "redis",
    async setup({ dir, redis }) {
      const { Redis } = await import("ioredis");
      const { createRedisStore } = await import("gatehouse-auth/stores/redis");
      const { store: users } = await sqliteStore(dir, "redis-floor");
      const prefix = `${redis.prefix}floor:`;
      const sessions = createRedisStore({ url: redis.url, keyPrefix: prefix });
      const store = closingBoth(users, sessions);
      const fx = await gatehouseFixture({ dir, strategy: "database", store: users, redis: sessions });
      const client = new Redis(redis.url);
      return tokenFloor(
        fx,
        (id) => client.hgetall(`${prefix}session:${id}`),
        (hash) => hash.user_id,
        async () => {
          client.disconnect();
          await store.close();
        },
      );
    },
  },
  {
    id: "floor-redis-sqlite",
    label: "floor: ioredis HGETALL + prepared user SELECT",
    kind: "floor",
    needs: "redis",
    async setup({ dir, redis }) {
      const { Redis } = await import("ioredis");
      const { default: Database } = await import("better-sqlite3");
      const { createRedisStore } = await import("gatehouse-auth/stores/redis");
      const { store: users, path } = await sqliteStore(dir, "redis-floor2");
      const prefix = `${redis.prefix}floor2:`;
      const sessions = createRedisStore({ url: redis.url, keyPrefix: prefix });
      const store = closingBoth(users, sessions);
      const fx = await gatehouseFixture({ dir, strategy: "database", store: users, redis: sessions });
      const client = new Redis(redis.url);
      const db = new Database(path, { readonly: true });
      const userById = db.prepare("select * from gatehouse_users where id = ?");
      const session = (id) => client.hgetall(`${prefix}session:${id}`);
      return tokenFloor(
        fx,
        session,
        (hash) => userById.get(hash.user_id)?.id ?? null,
        async () => {
          client.disconnect();
          db.close();
          await store.close();
        },
      );
    },
  },
  {
    id: "gatehouse-db-redis",
    label: "Gatehouse database, Redis sessions (users in SQLite)",
    kind: "check",
    floor: "floor-redis",
    likeForLike: "floor-redis-sqlite",
    needs: "redis",
    async setup({ dir, redis }) {
      const { createRedisStore } = await import("gatehouse-auth/stores/redis");
      const { store: users } = await sqliteStore(dir, "redis");
      const sessions = createRedisStore({ url: redis.url, keyPrefix: `${redis.prefix}db:` });
      const store = closingBoth(users, sessions);
      const fx = await gatehouseFixture({ dir, strategy: "database", store: users, redis: sessions });
      return secureCheck(fx, () => store.close(), fx.value.length - 5);
    },
  },
  {
    id: "jose-jwe",
    label: "jose jwtDecrypt (dir, A256GCM)",
    kind: "peer",
    floor: "floor-aes-gcm",
    async setup() {
      const { EncryptJWT, jwtDecrypt } = await import("jose");
      // A CryptoKey imported once: jose's fastest key form in Node (raw bytes and KeyObjects are converted per call).
      const key = await crypto.subtle.importKey("raw", randomBytes(32), "AES-GCM", false, ["encrypt", "decrypt"]);
      const payload = samplePayload();
      const value = await new EncryptJWT(asClaims(payload))
        .setProtectedHeader({ alg: "dir", enc: "A256GCM" })
        .encrypt(key);
      const options = { keyManagementAlgorithms: ["dir"], contentEncryptionAlgorithms: ["A256GCM"] };
      const run = async (input) => {
        try {
          return (await jwtDecrypt(input, key, options)).payload.sub ?? null;
        } catch {
          return null;
        }
      };
      return {
        run,
        value,
        expected: payload.u,
        tampered: tamper(value, value.length - 30),
        cookie: `session=${value}`,
      };
    },
  },
  {
    id: "jose-jws",
    label: "jose jwtVerify (HS256)",
    kind: "peer",
    floor: "floor-aes-gcm",
    async setup() {
      const { SignJWT, jwtVerify } = await import("jose");
      const key = await crypto.subtle.importKey("raw", randomBytes(32), { name: "HMAC", hash: "SHA-256" }, false, [
        "sign",
        "verify",
      ]);
      const payload = samplePayload();
      const value = await new SignJWT(asClaims(payload)).setProtectedHeader({ alg: "HS256" }).sign(key);
      const options = { algorithms: ["HS256"] };
      const run = async (input) => {
        try {
          return (await jwtVerify(input, key, options)).payload.sub ?? null;
        } catch {
          return null;
        }
      };
      return {
        run,
        value,
        expected: payload.u,
        tampered: tamper(value, value.length - 10),
        cookie: `session=${value}`,
      };
    },
  },
  {
    id: "iron-session",
    label: "iron-session 8 unsealData",
    kind: "peer",
    floor: "floor-aes-gcm",
    async setup() {
      const { sealData, unsealData } = await import("iron-session");
      const password = randomSecret();
      const payload = samplePayload();
      const ttl = 7 * 24 * 3600;
      const value = await sealData(payload, { password, ttl });
      // unsealData answers {} for a bad seal rather than throwing.
      const run = async (input) => (await unsealData(input, { password, ttl })).u ?? null;
      return {
        run,
        value,
        expected: payload.u,
        tampered: tamper(value, value.length - 30),
        cookie: `iron-session=${value}`,
      };
    },
  },
  {
    id: "authjs",
    label: "@auth/core jwt.decode (A256CBC-HS512)",
    kind: "peer",
    floor: "floor-aes-gcm",
    async setup() {
      const { encode, decode } = await import("auth-core/jwt");
      const secret = randomSecret();
      const salt = "__Secure-authjs.session-token"; // the cookie's name in production, and the key's salt
      const payload = samplePayload();
      const value = await encode({ token: { sub: payload.u, sid: payload.s }, secret, salt });
      const run = async (input) => {
        try {
          return (await decode({ token: input, secret, salt }))?.sub ?? null;
        } catch {
          return null;
        }
      };
      return {
        run,
        value,
        expected: payload.u,
        tampered: tamper(value, value.length - 30),
        cookie: `${salt}=${value}`,
      };
    },
  },
  ...[false, true].map((cookieCache) => ({
    id: cookieCache ? "better-auth-cache" : "better-auth",
    label: cookieCache ? "Better Auth getSession, cookie cache" : "Better Auth getSession (SQLite)",
    kind: "peer",
    floor: cookieCache ? "floor-aes-gcm" : "floor-sqlite",
    async setup({ dir }) {
      return betterAuthCase(dir, cookieCache);
    },
  })),
];

/** A real `betterAuth()` on SQLite (better-sqlite3), one signed-up user, and its `auth.api.getSession`. */
async function betterAuthCase(dir, cookieCache) {
  const { betterAuth } = await import("better-auth");
  const { getMigrations } = await import("better-auth/db/migration");
  const { default: Database } = await import("better-sqlite3");
  const database = new Database(join(dir, `better-auth-${cookieCache ? "cache" : "db"}.db`));
  database.pragma("journal_mode = WAL");
  const options = {
    database,
    secret: randomSecret(),
    baseURL: ORIGIN.replace("http:", "https:"), // production cookies: `__Secure-` names, as the others get
    emailAndPassword: { enabled: true },
    session: { cookieCache: { enabled: cookieCache, maxAge: 300 } },
    telemetry: { enabled: false },
    logger: { disabled: true },
  };
  const { runMigrations } = await getMigrations(options);
  await runMigrations();
  const auth = betterAuth(options);
  const { headers, response } = await auth.api.signUpEmail({
    body: { email: "bench@example.com", password: PASSWORD, name: "Ada Lovelace" },
    returnHeaders: true,
  });
  const cookie = cookieHeaderFrom(headers.getSetCookie());
  const tokenPair = cookie.split("; ").find((pair) => pair.startsWith("__Secure-better-auth.session_token="));
  if (!tokenPair) throw new Error(`Better Auth set no session cookie: ${cookie}`);
  if (cookieCache && !cookie.includes("__Secure-better-auth.session_data="))
    throw new Error(`Better Auth set no cookie cache: ${cookie}`);
  const run = async (input) =>
    (await auth.api.getSession({ headers: new Headers({ cookie: input }) }))?.user.id ?? null;
  // Forge the signed token (its value is `token.signature`); the cache cookie stays intact.
  const forged = cookie.replace(tokenPair, tamper(tokenPair, tokenPair.length - 8));
  return { run, value: cookie, expected: response.user.id, tampered: forged, cookie, close: () => database.close() };
}

/** The cases this run can set up, given which services answered. */
export function casesFor(services, only) {
  const wanted = new Set(only ?? CASES.map((c) => c.id));
  // A case is only reported with its floors, so they come along.
  for (const c of CASES)
    if (wanted.has(c.id)) for (const floor of ["floor-aes-gcm", c.floor, c.likeForLike]) if (floor) wanted.add(floor);
  return CASES.filter((c) => wanted.has(c.id) && (!c.needs || services[c.needs]));
}

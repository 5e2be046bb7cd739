// Sections 2 and 4: end to end over HTTP (autocannon against `next start`), and the example app's memory
// after 10,000 sessions. Each target is one server: the example app per strategy and store, and the two
// peer apps in bench/peers/.

import { join } from "node:path";
import autocannon from "autocannon";
import { ensureExampleBuilt, ensurePeerBuilt, exampleDir, migrate, startNext } from "./servers.mjs";
import { openPostgres, openRedis } from "./services.mjs";
import { log, median, randomSecret, scratchDir, sleep, summarize } from "./util.mjs";

const USER = { email: "bench@example.com", password: "correct horse battery staple 42", name: "Ada Lovelace" };

/** Environment of the example app for one strategy and store. */
function exampleEnv({ strategy, databaseUrl, redis }) {
  const secret = randomSecret();
  const base = {
    GATEHOUSE_SECRET: secret,
    GATEHOUSE_SESSION_STRATEGY: strategy,
    DATABASE_URL: databaseUrl,
    // Every request of the bench comes from 127.0.0.1: lift the per-IP limits out of the way.
    GATEHOUSE_SIGNUP_LIMIT_PER_IP: "1000000000",
    GATEHOUSE_LOGIN_LIMIT_PER_IP: "1000000000",
    ...(redis ? { REDIS_URL: redis.url, REDIS_KEY_PREFIX: `${redis.prefix}${strategy}:` } : {}),
  };
  return base;
}

/** Signs up through the app's own API and returns the Cookie header its Set-Cookie asks for. */
async function signUpCookie(url) {
  const response = await fetch(`${url}/api/auth/signup`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: url },
    body: JSON.stringify({ ...USER, email: `bench-${randomSecret(6)}@example.com` }),
  });
  if (response.status !== 201) throw new Error(`sign-up answered ${response.status}: ${await response.text()}`);
  return response.headers
    .getSetCookie()
    .map((header) => header.split(";")[0])
    .join("; ");
}

/**
 * The servers the HTTP section loads. `prepare` resolves to the app folder and environment, or `null`
 * when a service it needs is unreachable; `session` mints or obtains the Cookie header.
 */
export const TARGETS = [
  ...[
    { id: "gatehouse-stateless", label: "Gatehouse stateless (SQLite record)", strategy: "stateless", store: "sqlite" },
    { id: "gatehouse-db-sqlite", label: "Gatehouse database, SQLite", strategy: "database", store: "sqlite" },
    { id: "gatehouse-db-postgres", label: "Gatehouse database, PostgreSQL", strategy: "database", store: "postgres" },
    { id: "gatehouse-db-redis", label: "Gatehouse database, Redis sessions", strategy: "database", store: "redis" },
  ].map((t) => ({
    ...t,
    app: "example",
    kind: t.strategy === "stateless" ? "stateless" : "database",
    async prepare(scratch) {
      let postgres = null;
      let redis = null;
      let databaseUrl = `file:${join(scratch, `${t.id}.db`)}`;
      if (t.store === "postgres") {
        postgres = await openPostgres();
        if (!postgres) return null;
        databaseUrl = postgres.url;
      }
      if (t.store === "redis") {
        redis = await openRedis();
        if (!redis) return null;
      }
      const env = exampleEnv({ strategy: t.strategy, databaseUrl, redis });
      migrate({ ...process.env, ...env });
      return {
        dir: exampleDir,
        env: (url) => ({ ...env, GATEHOUSE_URL: url }),
        session: (server) => signUpCookie(server.url),
        async cleanup() {
          await postgres?.drop();
          await redis?.clear();
        },
      };
    },
  })),
  {
    id: "peer-iron-session",
    label: "iron-session 8 app",
    app: "peer",
    kind: "peer",
    async prepare() {
      const dir = ensurePeerBuilt("iron-session");
      const password = randomSecret();
      const { sealData } = await import("iron-session");
      return {
        dir,
        env: () => ({ IRON_SESSION_PASSWORD: password }),
        session: async () =>
          `iron-session=${await sealData({ user: { id: "u_bench", ...userFields() } }, { password })}`,
      };
    },
  },
  {
    id: "peer-next-auth",
    label: "next-auth 4 app (JWT, getServerSession)",
    app: "peer",
    kind: "peer",
    async prepare() {
      const dir = ensurePeerBuilt("next-auth");
      const secret = randomSecret();
      const { encode } = await import("next-auth/jwt");
      return {
        dir,
        env: (url) => ({ NEXTAUTH_SECRET: secret, NEXTAUTH_URL: url }),
        // The token next-auth's default jwt callback builds from a user: name, email, picture, sub.
        session: async () =>
          `next-auth.session-token=${await encode({ token: { ...userFields(), picture: null, sub: "u_bench" }, secret })}`,
      };
    },
  },
];

const userFields = () => ({ email: USER.email, name: USER.name });

/** One autocannon run; fails when any response was not 2xx, so a broken session cannot pass as fast. */
async function load(url, path, cookie, seconds, connections) {
  const result = await autocannon({
    url: `${url}${path}`,
    connections,
    duration: seconds,
    headers: cookie ? { cookie } : {},
  });
  const bad = result.non2xx + result.errors + result.timeouts;
  if (bad > 0)
    throw new Error(`${path}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`);
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    p50: result.latency.p50,
    requests: result.requests.total,
  };
}

/**
 * `/api/health` and `/api/me` alternated on the same server: a warm-up of each, then `rounds` rounds
 * whose order flips each round, so neither endpoint always runs on a warmer or cooler machine.
 */
export async function loadRounds(server, cookie, { rounds, seconds, warmupSeconds, connections }) {
  await load(server.url, "/api/health", null, warmupSeconds, connections);
  await load(server.url, "/api/me", cookie, warmupSeconds, connections);
  const health = [];
  const me = [];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ["health", "me"] : ["me", "health"];
    for (const which of order) {
      if (which === "health") health.push(await load(server.url, "/api/health", null, seconds, connections));
      else me.push(await load(server.url, "/api/me", cookie, seconds, connections));
    }
  }
  const ratios = me.map((m, i) => m.rps / health[i].rps);
  return {
    health: {
      rps: summarize(health.map((h) => h.rps)),
      p99: median(health.map((h) => h.p99)),
      p50: median(health.map((h) => h.p50)),
    },
    me: { rps: summarize(me.map((m) => m.rps)), p99: median(me.map((m) => m.p99)), p50: median(me.map((m) => m.p50)) },
    ratio: { median: median(me.map((m) => m.rps)) / median(health.map((h) => h.rps)), perRound: ratios },
    rounds,
    seconds,
    connections,
  };
}

/** Checks the session works and a request without it is refused, before any figure is taken. */
async function verifySession(server, cookie) {
  const signedIn = await fetch(`${server.url}/api/me`, { headers: { cookie } });
  const body = await signedIn.json().catch(() => null);
  if (signedIn.status !== 200 || !body?.user)
    throw new Error(`GET /api/me with the session answered ${signedIn.status}`);
  const anonymous = await fetch(`${server.url}/api/me`);
  if (anonymous.status !== 401) throw new Error(`GET /api/me without a session answered ${anonymous.status}, not 401`);
  return body.user;
}

/**
 * Creates `count` users with one session each, directly through the library on the app's store and
 * secret (`startSession`, so no argon2 per user), then presents every cookie to the app once.
 */
async function memoryAfterSessions(server, count, concurrency = 16) {
  const { createGatehouse, createArgon2idHasher } = await import("gatehouse-auth");
  const { createStoreFromUrl } = await import("gatehouse-auth/stores");
  const env = server.env;
  const stores = createStoreFromUrl({
    databaseUrl: env.DATABASE_URL,
    redisUrl: env.REDIS_URL,
    redisKeyPrefix: env.REDIS_KEY_PREFIX,
  });
  const { store } = stores;
  const gatehouse = createGatehouse({
    ...stores,
    secret: env.GATEHOUSE_SECRET,
    strategy: env.GATEHOUSE_SESSION_STRATEGY,
    url: env.GATEHOUSE_URL,
    secureCookies: env.NODE_ENV === "production", // as the app decides it, so the cookie names match
  });
  const passwordHash = await createArgon2idHasher().hash(randomSecret());
  await fetch(`${server.url}/api/health`);
  const idle = server.rss();
  const started = performance.now();
  const cookies = new Array(count);
  let next = 0;
  const tag = randomSecret(6);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const user = await store.createUser({
          id: `m${tag}${i}`,
          email: `m${i}-${tag}@example.com`,
          name: null,
          role: "user",
          passwordHash,
        });
        const signedIn = await gatehouse.startSession(user.id, { ip: "127.0.0.1", userAgent: "bench" });
        cookies[i] = signedIn.setCookie.split(";")[0];
      }
    }),
  );
  const createMs = performance.now() - started;
  let presented = 0;
  next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const response = await fetch(`${server.url}/api/me`, { headers: { cookie: cookies[i] } });
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`session ${i} answered ${response.status}`);
        presented++;
      }
    }),
  );
  await stores.close();
  await sleep(1000);
  return { sessions: count, presented, idleRss: idle, rss: server.rss(), createMs };
}

/**
 * Runs the HTTP and/or memory sections. `only` narrows targets by id; `parts` picks `http` and/or `memory`.
 * Resolves to `{ http: [...], memory: [...], skipped: [...] }`.
 */
/**
 * @param {{ parts: string[], only?: string[], rounds?: number, seconds?: number, warmupSeconds?: number, connections?: number, sessions?: number }} options
 */
export async function runServers({
  parts,
  only,
  rounds = 3,
  seconds = 4,
  warmupSeconds = 2,
  connections = 10,
  sessions = 10_000,
}) {
  ensureExampleBuilt();
  /** @type {{ http: any[], memory: any[], skipped: Array<{ id: string, reason: string }> }} */
  const out = { http: [], memory: [], skipped: [] };
  const { dir: scratch, remove } = scratchDir();
  try {
    for (const target of TARGETS) {
      if (only && !only.includes(target.id)) continue;
      const wantsHttp = parts.includes("http");
      const wantsMemory = parts.includes("memory") && target.app === "example";
      if (!wantsHttp && !wantsMemory) continue;
      const prepared = await target.prepare(scratch);
      if (!prepared) {
        out.skipped.push({ id: target.id, reason: `${target.store} not reachable` });
        continue;
      }
      log(`  ${target.label}: starting next start…`);
      const server = await startNext(prepared.dir, prepared.env);
      try {
        if (wantsMemory) {
          log(`  ${target.label}: ${sessions} sessions…`);
          const memory = await memoryAfterSessions(server, sessions);
          out.memory.push({ id: target.id, label: target.label, ...memory });
        }
        if (wantsHttp) {
          const cookie = await prepared.session(server);
          await verifySession(server, cookie);
          log(`  ${target.label}: ${rounds} rounds × ${seconds} s of /api/health and /api/me…`);
          const result = await loadRounds(server, cookie, { rounds, seconds, warmupSeconds, connections });
          out.http.push({
            id: target.id,
            label: target.label,
            kind: target.kind,
            cookieBytes: Buffer.byteLength(cookie),
            ...result,
          });
        }
      } catch (error) {
        throw new Error(`${target.label}: ${error.message}\n--- server output ---\n${server.logs().slice(-3000)}`);
      } finally {
        await server.stop();
        await prepared.cleanup?.();
      }
    }
  } finally {
    remove();
  }
  return out;
}

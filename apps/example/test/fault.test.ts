import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createPostgresDatabase,
  createRedisPrefix,
  POSTGRES_URL,
  REDIS_URL,
  requireService,
} from "../../../packages/gatehouse/test/support/services";
import { type RunningApp, startApp } from "./support/app";
import { runCli } from "./support/cli";
import { createClient, PASSWORD, uniqueEmail } from "./support/http";
import { startTcpProxy, type TcpProxy } from "./support/tcp-proxy";

// The app talks to PostgreSQL and Redis through TCP forwarders that the tests cut and restore while the app
// serves requests. During an outage every guarded answer must fail closed (503 `unavailable`, never a 200
// and never a 500), the process must stay up, and once the link is back the same requests must succeed
// again without a restart, with the users and sessions made before the outage intact.

const hasPostgres = await requireService("postgres");
const hasRedis = await requireService("redis");

/** Requests made during a cut, and how long the test waits for recovery. */
const OUTAGE_REQUESTS = 30;
const OUTAGE_MAX_MS = 20_000;
const REQUEST_TIMEOUT_MS = 15_000;
const RECOVERY_MAX_MS = 20_000;
/** The stores' own limits (PostgreSQL store 5000 ms, Redis 2000 ms), plus slack for a loaded machine. */
const STORE_TIMEOUT_MS = { postgres: 5000, redis: 2000 } as const;
const TIMEOUT_SLACK_MS = 2500;

type Probe = "me" | "session" | "login" | "admin" | "dashboard";
const PROBES: readonly Probe[] = ["me", "session", "login", "admin", "dashboard"];

interface Answer {
  probe: Probe;
  status: number;
  body: string;
  setCookies: string[];
  ms: number;
}

/** An app on a fresh database (and Redis prefix) reached through forwarders, with a user and an admin signed in. */
interface Fixture {
  app: RunningApp;
  postgres: TcpProxy;
  redis: TcpProxy | undefined;
  label: string;
  email: string;
  adminEmail: string;
  user: { id: string; email: string };
  userCookie: string;
  adminCookie: string;
  sessionId: string;
  /** DATABASE_URL, REDIS_URL, REDIS_KEY_PREFIX and GATEHOUSE_SECRET of this app, but straight to the servers. */
  directEnv: NodeJS.ProcessEnv;
  dispose(): Promise<void>;
}

async function setUp(strategy: "database" | "stateless", withRedis: boolean): Promise<Fixture> {
  const cleanups: Array<() => Promise<void>> = [];
  const dispose = async () => {
    for (const cleanup of cleanups.reverse())
      await cleanup().catch((error) => console.error("[fault] cleanup:", error));
  };
  try {
    const database = await createPostgresDatabase();
    cleanups.push(() => database.drop());
    const target = new URL(POSTGRES_URL);
    const postgres = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    cleanups.push(() => postgres.close());
    const env: NodeJS.ProcessEnv = { DATABASE_URL: postgres.url(database.url) };
    const directEnv: NodeJS.ProcessEnv = { DATABASE_URL: database.url };
    let redis: TcpProxy | undefined;
    if (withRedis) {
      const prefix = createRedisPrefix();
      cleanups.push(() => prefix.drop());
      const redisTarget = new URL(REDIS_URL);
      redis = await startTcpProxy({ host: redisTarget.hostname, port: Number(redisTarget.port || 6379) });
      cleanups.push(() => redis!.close());
      env.REDIS_URL = redis.url(REDIS_URL);
      env.REDIS_KEY_PREFIX = prefix.prefix;
      directEnv.REDIS_URL = REDIS_URL;
      directEnv.REDIS_KEY_PREFIX = prefix.prefix;
    }
    const app = await startApp({ strategy, env });
    directEnv.GATEHOUSE_SECRET = app.env.GATEHOUSE_SECRET;
    cleanups.push(async () => {
      postgres.restore();
      redis?.restore();
      await app.stop();
    });

    const email = uniqueEmail(`fault-${strategy}`);
    const adminEmail = uniqueEmail(`fault-admin-${strategy}`);
    const client = createClient(app.url);
    const signUp = await client.request("/api/auth/signup", { json: { email, password: PASSWORD, name: "Faulty" } });
    expect(signUp.status, app.logs()).toBe(201);
    const user = ((await signUp.json()) as { user: { id: string; email: string } }).user;
    // Not app.cli(): its spawnSync would freeze the forwarders, which run in this process.
    const created = await runCli(app, [
      "users",
      "create",
      "--email",
      adminEmail,
      "--password",
      PASSWORD,
      "--role",
      "admin",
    ]);
    expect(created.status, created.stderr).toBe(0);
    const admin = createClient(app.url);
    expect((await admin.request("/api/auth/login", { json: { email: adminEmail, password: PASSWORD } })).status).toBe(
      200,
    );
    const sessions = await fetch(`${app.url}/api/auth/sessions`, { headers: { cookie: client.cookie as string } });
    expect(sessions.status).toBe(200);
    const sessionId = ((await sessions.json()) as { sessions: { id: string }[] }).sessions[0]!.id;
    // The app really goes through the forwarders.
    expect(postgres.openConnections).toBeGreaterThan(0);
    if (redis) expect(redis.openConnections).toBeGreaterThan(0);
    return {
      app,
      postgres,
      redis,
      label: `${strategy}${withRedis ? " + Redis" : ""}`,
      email,
      adminEmail,
      user,
      userCookie: client.cookie as string,
      adminCookie: admin.cookie as string,
      sessionId,
      directEnv,
      dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}

async function probe(fx: Fixture, kind: Probe): Promise<Answer> {
  const started = Date.now();
  const signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  let response: Response;
  if (kind === "login") {
    response = await fetch(`${fx.app.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: fx.app.url },
      body: JSON.stringify({ email: fx.email, password: PASSWORD }),
      signal,
    });
  } else {
    const path = { me: "/api/me", session: "/api/auth/session", admin: "/api/admin/users", dashboard: "/dashboard" }[
      kind
    ];
    const cookie = kind === "admin" ? fx.adminCookie : fx.userCookie;
    response = await fetch(`${fx.app.url}${path}`, { headers: { cookie }, redirect: "manual", signal });
  }
  const body = await response.text();
  return {
    probe: kind,
    status: response.status,
    body,
    setCookies: response.headers.getSetCookie(),
    ms: Date.now() - started,
  };
}

function describeAnswers(fx: Fixture, answers: Answer[]): string {
  const lines = answers.map(
    (a) => `${a.probe}: ${a.status} in ${a.ms} ms ${a.probe === "dashboard" ? "" : a.body.slice(0, 200)}`,
  );
  return `${lines.join("\n")}\n--- app logs (last 4000 chars) ---\n${fx.app.logs().slice(-4000)}`;
}

/** The checks every request must pass while a store is unreachable. */
function expectFailedClosed(fx: Fixture, answers: Answer[]): void {
  const context = describeAnswers(fx, answers);
  for (const answer of answers) {
    // A dead store must never end the visitor's session: nothing may clear the cookie.
    expect(
      answer.setCookies.filter((c) => /gatehouse\.session=/.test(c)),
      context,
    ).toEqual([]);
    if (answer.probe === "dashboard") {
      // The page says "try again shortly", with status 503 and without the user's data.
      expect(answer.status, context).toBe(503);
      expect(answer.body).toContain("Temporarily unavailable");
      expect(answer.body).not.toContain(fx.email);
      expect(answer.body).not.toContain(fx.user.id);
      continue;
    }
    expect(answer.status, context).toBe(503);
    const parsed = JSON.parse(answer.body) as { error?: { code?: string } };
    expect(parsed.error?.code, context).toBe("unavailable");
    expect(answer.body).not.toContain(fx.email);
  }
}

/** Still alive: /api/health (no store) answers. */
async function expectAlive(fx: Fixture): Promise<void> {
  const health = await fetch(`${fx.app.url}/api/health`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  expect(health.status, fx.app.logs()).toBe(200);
}

/** Polls /api/me (one request at a time, as steady traffic) until it answers 200, within a bounded wait. */
async function expectRecovery(fx: Fixture, name: string): Promise<void> {
  const restored = Date.now();
  const seen: string[] = [];
  let last: Answer | undefined;
  for (let i = 0; i < 200 && Date.now() - restored < RECOVERY_MAX_MS; i += 1) {
    last = await probe(fx, "me");
    seen.push(`${last.status}@${last.ms}ms`);
    if (last.status === 200) break;
    expect(last.status, describeAnswers(fx, [last])).toBe(503);
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(
    last?.status,
    `not recovered ${RECOVERY_MAX_MS} ms after the ${name} link came back (no restart); /api/me answered ${seen.join(" ")}\n` +
      `--- app logs (last 4000 chars) ---\n${fx.app.logs().slice(-4000)}`,
  ).toBe(200);
  console.info(`[fault] ${name} (${fx.label}) recovered in ${Date.now() - restored} ms`);
}

/** Every probe succeeds, with the user and the session made before the outages. */
async function expectWorking(fx: Fixture): Promise<void> {
  const answers: Answer[] = [];
  for (const kind of PROBES) answers.push(await probe(fx, kind));
  const context = describeAnswers(fx, answers);
  const [me, session, login, admin, dashboard] = answers as [Answer, Answer, Answer, Answer, Answer];
  expect(me.status, context).toBe(200);
  expect(JSON.parse(me.body)).toEqual({ user: fx.user });
  expect(session.status, context).toBe(200);
  expect(JSON.parse(session.body).user).toEqual(fx.user);
  expect(login.status, context).toBe(200);
  expect(JSON.parse(login.body).user).toEqual(fx.user);
  expect(admin.status, context).toBe(200);
  const emails = (JSON.parse(admin.body) as { users: { email: string }[] }).users.map((u) => u.email);
  expect(emails).toEqual(expect.arrayContaining([fx.email, fx.adminEmail]));
  expect(dashboard.status, context).toBe(200);
  expect(dashboard.body).toContain(fx.email);
  const sessions = await fetch(`${fx.app.url}/api/auth/sessions`, { headers: { cookie: fx.userCookie } });
  expect(sessions.status).toBe(200);
  const listed = ((await sessions.json()) as { sessions: { id: string; current: boolean }[] }).sessions;
  expect(listed.find((s) => s.id === fx.sessionId)?.current).toBe(true);
}

/** Cuts the link (connections reset, new ones refused), sends ~30 requests over a few seconds, restores it. */
async function cutOutage(fx: Fixture, link: TcpProxy, name: string): Promise<void> {
  link.cut();
  const answers: Answer[] = [];
  const deadline = Date.now() + OUTAGE_MAX_MS;
  try {
    for (let i = 0; i < OUTAGE_REQUESTS && Date.now() < deadline; i += 1) {
      answers.push(await probe(fx, PROBES[i % PROBES.length]!));
      await new Promise((r) => setTimeout(r, 100));
    }
    await expectAlive(fx);
  } finally {
    link.restore();
  }
  expect(
    answers.length,
    `only ${answers.length} requests in ${OUTAGE_MAX_MS} ms\n${describeAnswers(fx, answers)}`,
  ).toBe(OUTAGE_REQUESTS);
  console.info(
    `[fault] ${name} cut (${fx.label}): ${answers.length} requests, slowest ${Math.max(...answers.map((a) => a.ms))} ms`,
  );
  expectFailedClosed(fx, answers);
  await expectRecovery(fx, name);
  await expectWorking(fx);
}

const configurations = [
  { strategy: "database", redis: true },
  { strategy: "stateless", redis: true },
  { strategy: "database", redis: false },
] as const;

describe.skipIf(!hasPostgres || !hasRedis).each(configurations)("store links cut (%o)", ({ strategy, redis }) => {
  let fx: Fixture;

  beforeAll(async () => {
    fx = await setUp(strategy, redis);
  });
  afterAll(async () => {
    await fx?.dispose();
  });

  it.skipIf(!redis)("Redis unreachable: 503 unavailable everywhere, then back without a restart", async () => {
    await expectWorking(fx);
    await cutOutage(fx, fx.redis!, "Redis");
  });

  it("PostgreSQL unreachable: 503 unavailable everywhere, then back without a restart", async () => {
    await expectWorking(fx);
    await cutOutage(fx, fx.postgres, "PostgreSQL");
  });

  it("the process never crashed nor logged an unexpected error", () => {
    expect(fx.app.logs()).not.toMatch(/unexpected error|uncaught|unhandled/i);
  });
});

// A link that hangs instead of resetting (a partition, or a firewall that drops packets): requests must still
// fail closed within the stores' time limits rather than pile up. Afterwards the partition either heals (the
// hung connections resume) or the hung connections stay dead for good (the middlebox forgot them and no
// reset ever comes; new connections work) — the app must recover from both without a restart.
describe.skipIf(!hasPostgres || !hasRedis).each(["postgres", "redis"] as const)("store link hangs (%s)", (service) => {
  let fx: Fixture;
  const link = () => (service === "postgres" ? fx.postgres : fx.redis!);
  const name = service === "postgres" ? "PostgreSQL" : "Redis";

  beforeAll(async () => {
    fx = await setUp("database", service === "redis");
  });
  afterAll(async () => {
    await fx?.dispose();
  });

  /** Hangs the link and sends one round of every probe at once: each must be a 503 within the store's limit. */
  async function hang(): Promise<void> {
    link().stall();
    const answers = await Promise.all(PROBES.map((kind) => probe(fx, kind)));
    await expectAlive(fx);
    console.info(
      `[fault] ${name} hang (${fx.label}): ${answers.map((a) => `${a.probe} ${a.status}@${a.ms}ms`).join(", ")}`,
    );
    expectFailedClosed(fx, answers);
    for (const answer of answers) {
      expect(answer.ms, describeAnswers(fx, answers)).toBeLessThan(STORE_TIMEOUT_MS[service] + TIMEOUT_SLACK_MS);
    }
  }

  it(`${name} hangs, then the partition heals: 503 within the time limit, then back`, async () => {
    await expectWorking(fx);
    try {
      await hang();
    } finally {
      link().restore();
    }
    await expectRecovery(fx, `${name} (healed)`);
    await expectWorking(fx);
  });

  it(`${name} hangs and its open connections never come back: back on new connections without a restart`, async () => {
    await expectWorking(fx);
    try {
      await hang();
    } finally {
      link().restore({ abandonStalled: true });
    }
    await expectRecovery(fx, `${name} (hung connections abandoned)`);
    await expectWorking(fx);
  });
});

// A Redis connection that is not up yet (a process that just started, a remote server, a TLS handshake) is
// not an outage: the first commands must wait for it (within the store's limit) rather than fail at once.
describe.skipIf(!hasPostgres || !hasRedis)("Redis connection not ready yet", () => {
  let fx: Fixture;
  let fresh: RunningApp | undefined;

  beforeAll(async () => {
    fx = await setUp("database", true);
  });
  afterAll(async () => {
    await fresh?.stop();
    await fx?.dispose();
  });

  it("the CLI waits for a Redis that takes 300 ms to connect instead of failing", async () => {
    fx.redis!.setConnectDelay(300);
    try {
      const result = await runCli(fx.app, ["sessions", "revoke", "--email", uniqueEmail("nobody")]);
      // Exit 1 with "No user with email …" is the right answer; a Redis error is not.
      expect(result.stderr).not.toMatch(/unavailable|writeable/i);
      expect(result.stderr).toContain("No user with email");
      expect(result.status).toBe(1);
    } finally {
      fx.redis!.setConnectDelay(0);
    }
  });

  it("a freshly started instance serves an existing session at its very first request (direct connections)", async () => {
    // No forwarder, no delay: straight to the real servers, like a new instance joining a running cluster.
    fresh = await startApp({ strategy: "database", env: fx.directEnv });
    const answers: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const response = await fetch(`${fresh.url}/api/me`, { headers: { cookie: fx.userCookie } });
      answers.push(`${response.status} ${await response.text()}`);
    }
    expect(answers, `--- app logs ---\n${fresh.logs()}`).toEqual(
      Array(3).fill(`200 ${JSON.stringify({ user: fx.user })}`),
    );
  });
});

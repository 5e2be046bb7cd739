// PostgreSQL and Redis for the cases that need them: reachability, a private database or key prefix each
// run, and clean-up. Outside CI an unreachable service skips its cases loudly; under CI=true it fails.
import { randomBytes } from "node:crypto";
import { warnSkip } from "./util.mjs";

export const POSTGRES_URL = process.env.BENCH_POSTGRES_URL || "postgres://postgres@127.0.0.1:5432/test";
export const REDIS_URL = process.env.BENCH_REDIS_URL || "redis://127.0.0.1:6379";

const inCi = () => process.env.CI === "true" || process.env.CI === "1";

/** Thrown (under CI) or reported (elsewhere) when a service the bench wants is not there. */
export class ServiceUnavailable extends Error {}

function unavailable(what, error) {
  const message = `${what} is not reachable (${error instanceof Error ? error.message : String(error)})`;
  if (inCi()) throw new ServiceUnavailable(`${message}; under CI=true the ${what} cases must run.`);
  warnSkip(
    `the ${what} cases`,
    `${message}. Start it, or set BENCH_${what === "PostgreSQL" ? "POSTGRES" : "REDIS"}_URL.`,
  );
  return null;
}

/**
 * Creates a private PostgreSQL database for this run. Resolves to `{ url, drop }`, or `null` (skipped)
 * when PostgreSQL cannot be reached outside CI.
 */
export async function openPostgres() {
  const { default: pg } = await import("pg");
  const admin = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (error) {
    await admin.end().catch(() => undefined);
    return unavailable("PostgreSQL", error);
  }
  const name = `gatehouse_bench_${randomBytes(4).toString("hex")}`;
  await admin.query(`create database ${name}`);
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.query(`drop database if exists ${name} with (force)`).catch(() => undefined);
      await admin.end().catch(() => undefined);
    },
  };
}

/**
 * A private Redis key prefix for this run. Resolves to `{ url, prefix, clear }`, or `null` (skipped)
 * when Redis cannot be reached outside CI.
 */
export async function openRedis() {
  const { Redis } = await import("ioredis");
  const client = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    return unavailable("Redis", error);
  }
  const prefix = `gatehouse-bench:${randomBytes(4).toString("hex")}:`;
  return {
    url: REDIS_URL,
    prefix,
    async clear() {
      let cursor = "0";
      do {
        const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
        if (keys.length > 0) await client.del(...keys);
        cursor = next;
      } while (cursor !== "0");
      client.disconnect();
    },
  };
}

import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { Redis } from "ioredis";
import mysql from "mysql2/promise";
import pg from "pg";

/** The servers the machines run (see the README); override with TEST_POSTGRES_URL and friends. */
export const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const MYSQL_URL = process.env.TEST_MYSQL_URL ?? "mysql://root@127.0.0.1:3306/test";
export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export type ServiceName = "postgres" | "mysql" | "redis";

const URLS: Record<ServiceName, string> = { postgres: POSTGRES_URL, mysql: MYSQL_URL, redis: REDIS_URL };

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port), timeout: 1500 });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Whether tests that need `service` can run. Under `CI=true` an unreachable server is an error (the run
 * fails); elsewhere the tests are skipped with a loud message.
 */
export async function requireService(service: ServiceName): Promise<boolean> {
  const url = URLS[service];
  if (await reachable(url)) return true;
  const message = `${service} is not reachable at ${new URL(url).host}`;
  if (process.env.CI === "true") throw new Error(`${message}, and CI=true requires it.`);
  console.warn(`\n*** SKIPPING ${service} tests: ${message}. Start it, or set CI=true to make this an error. ***\n`);
  return false;
}

/** A fresh PostgreSQL database for one test file; `drop()` removes it. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `gatehouse_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** A fresh MySQL/MariaDB database for one test file; `drop()` removes it. */
export async function createMysqlDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `gatehouse_test_${randomBytes(6).toString("hex")}`;
  const admin = await mysql.createConnection(MYSQL_URL);
  await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4`);
  await admin.end();
  const url = new URL(MYSQL_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = await mysql.createConnection(MYSQL_URL);
      await client.query(`DROP DATABASE IF EXISTS ${name}`);
      await client.end();
    },
  };
}

/** A Redis key prefix of its own for one test file; `drop()` deletes every key under it. */
export function createRedisPrefix(): { prefix: string; drop(): Promise<void> } {
  const prefix = `gatehouse-test-${randomBytes(6).toString("hex")}:`;
  return {
    prefix,
    async drop() {
      const redis = new Redis(REDIS_URL);
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== "0");
      await redis.quit();
    },
  };
}

/**
 * A rate-limit counter as withRedisSessions keeps it under `key` (the full key, prefix included), read raw:
 * a plain counter whose TTL is the window, or a hash with the count and the window's end. `resetAt` is in ms
 * since the epoch; `null` when there is no such key.
 */
export async function rawRedisCounter(redis: Redis, key: string): Promise<{ count: number; resetAt: number } | null> {
  const type = await redis.type(key);
  if (type === "none") return null;
  if (type === "hash") {
    const hash = await redis.hgetall(key);
    const resetAt = hash.reset ?? hash.reset_at ?? hash.resetAt;
    return { count: Number(hash.count), resetAt: Number(resetAt) };
  }
  const [count, ttl] = await Promise.all([redis.get(key), redis.pttl(key)]);
  if (count === null) return null;
  return { count: Number(count), resetAt: ttl >= 0 ? Date.now() + ttl : Number.POSITIVE_INFINITY };
}

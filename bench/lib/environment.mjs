// What the figures were measured on: machine, OS, Node, the version of every package compared, the
// database servers, and the commit.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { join } from "node:path";
import { repoRoot } from "./servers.mjs";

const require = createRequire(join(repoRoot, "bench", "package.json"));

/** The installed version of a package as seen from bench/ (`alias` when installed under another name). */
function installed(name, alias = name) {
  try {
    const manifestPath = require.resolve(`${alias}/package.json`);
    return JSON.parse(readFileSync(manifestPath, "utf8")).version;
  } catch {
    // Packages without "./package.json" in their exports: walk from the entry point.
    try {
      let dir = require.resolve(alias);
      while (!dir.endsWith(`/node_modules/${alias}`) && dir !== "/") dir = join(dir, "..");
      return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).version;
    } catch {
      return null;
    }
  }
}

function osName() {
  try {
    const release = readFileSync("/etc/os-release", "utf8");
    return /^PRETTY_NAME="?([^"\n]+)"?/m.exec(release)?.[1] ?? `${os.type()} ${os.release()}`;
  } catch {
    return `${os.type()} ${os.release()}`;
  }
}

function git(args) {
  try {
    return execFileSync("git", args, { cwd: repoRoot, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

export function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model?.trim() ?? "unknown",
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: osName(),
    kernel: os.release(),
    arch: process.arch,
    node: process.version,
  };
}

export function versions() {
  return {
    "gatehouse-auth": installed("gatehouse-auth"),
    jose: installed("jose"),
    "iron-session": installed("iron-session"),
    "@auth/core": installed("@auth/core", "auth-core"),
    "better-auth": installed("better-auth"),
    "next-auth": installed("next-auth"),
    next: installed("next"),
    react: installed("react"),
    kysely: installed("kysely"),
    "better-sqlite3": installed("better-sqlite3"),
    pg: installed("pg"),
    ioredis: installed("ioredis"),
    "@node-rs/argon2": installed("@node-rs/argon2"),
    mitata: installed("mitata"),
    autocannon: installed("autocannon"),
  };
}

export function commit() {
  const head = git(["rev-parse", "--short", "HEAD"]);
  const dirty = git(["status", "--porcelain", "--", "packages/gatehouse/src", "apps/example"]);
  return head ? `${head}${dirty ? " (library or app sources modified)" : ""}` : null;
}

/** Server versions of PostgreSQL and Redis, when reachable. */
export async function serverVersions() {
  const out = {};
  const { POSTGRES_URL, REDIS_URL } = await import("./services.mjs");
  try {
    const { default: pg } = await import("pg");
    const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
    await client.connect();
    out.postgres = (await client.query("show server_version")).rows[0].server_version;
    await client.end();
  } catch {
    out.postgres = null;
  }
  try {
    const { Redis } = await import("ioredis");
    const client = new Redis(REDIS_URL, {
      lazyConnect: true,
      connectTimeout: 2000,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on("error", () => undefined);
    await client.connect();
    out.redis = /redis_version:(\S+)/.exec(await client.info("server"))?.[1] ?? null;
    client.disconnect();
  } catch {
    out.redis = null;
  }
  return out;
}

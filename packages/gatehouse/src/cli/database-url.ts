import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { ConfigurationError } from "../errors.js";

const CONFIG_FILE = "gatehouse.config.json";
const DEFAULT_URL = "file:data/gatehouse.db";

/**
 * Which database the CLI opens, in order: `--database-url`, `DATABASE_URL`, `databaseUrl` in the nearest
 * `gatehouse.config.json` (a relative `file:` path resolves from that file's folder), then `file:data/gatehouse.db`.
 */
export function resolveDatabaseUrl(flag: string | undefined, cwd: string = process.cwd()): { url: string; source: string } {
  if (flag) return { url: flag, source: "--database-url" };
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, source: "DATABASE_URL" };
  const configPath = findUp(CONFIG_FILE, cwd);
  if (configPath) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(configPath, "utf8"));
    } catch {
      throw new ConfigurationError(`${configPath} is not valid JSON.`);
    }
    const url = (parsed as { databaseUrl?: unknown } | null)?.databaseUrl;
    if (typeof url !== "string" || url === "") throw new ConfigurationError(`${configPath} has no "databaseUrl" string.`);
    return { url: resolveFileUrl(url, dirname(configPath)), source: configPath };
  }
  return { url: resolveFileUrl(DEFAULT_URL, cwd), source: "default" };
}

function resolveFileUrl(url: string, base: string): string {
  if (!url.startsWith("file:") || url.startsWith("file://")) return url;
  const path = url.slice("file:".length);
  return path === ":memory:" || isAbsolute(path) ? url : `file:${resolve(base, path)}`;
}

function findUp(name: string, from: string): string | null {
  let dir = resolve(from);
  for (;;) {
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

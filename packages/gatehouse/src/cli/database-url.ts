import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { ConfigurationError } from "../errors.js";
import { databaseKind } from "../stores/from-url.js";

const CONFIG_FILE = "gatehouse.config.json";
const DEFAULT_URL = "file:data/gatehouse.db";

/**
 * Which database the CLI opens, in order: `--database-url`, `DATABASE_URL`, `databaseUrl` in the nearest
 * `gatehouse.config.json` (a relative `file:` path resolves from that file's folder), then `file:data/gatehouse.db`.
 */
export function resolveDatabaseUrl(
  flag: string | undefined,
  cwd: string = process.cwd(),
): { url: string; source: string } {
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
    if (typeof url !== "string" || url === "")
      throw new ConfigurationError(`${configPath} has no "databaseUrl" string.`);
    return { url: resolveFileUrl(url, dirname(configPath)), source: configPath };
  }
  return { url: resolveFileUrl(DEFAULT_URL, cwd), source: "default" };
}

/** Query parameters that may carry a secret: `password`, `sslpassword`, mysql2's `password1`, `passwd`, tokens, keys, … */
const PASSWORD_PARAMETER = /pass|pwd|secret|token|key/i;

/**
 * `url` as it may be printed: the password of its user info and of every query parameter named like one
 * (`?password=`, `?sslpassword=`, …) become `***`. The WHATWG URL parser ends the user info at the last `@`
 * before the host, as the drivers do, so all of `p@ss` is hidden in `postgres://user:p@ss@host/db`. A URL
 * that does not parse is shown by its scheme only; a SQLite URL is a path and is shown whole.
 *
 * @example
 * ```ts
 * redactDatabaseUrl("postgres://app:p@ss@db.internal/app?sslpassword=x"); // "postgres://app:***@db.internal/app?sslpassword=***"
 * ```
 */
export function redactDatabaseUrl(url: string): string {
  if (databaseKind(url) === "sqlite") return url;
  if (!URL.canParse(url)) return `${/^[a-z][a-z\d+.-]*:/i.exec(url)?.[0] ?? ""}***`;
  const parsed = new URL(url);
  const secretParameters = [...parsed.searchParams.keys()].filter((name) => PASSWORD_PARAMETER.test(name));
  if (!parsed.password && secretParameters.length === 0) return url;
  if (parsed.password) parsed.password = "***";
  for (const name of secretParameters) parsed.searchParams.set(name, "***");
  return parsed.href;
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

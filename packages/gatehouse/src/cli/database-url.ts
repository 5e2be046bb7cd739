import { dirname, isAbsolute, resolve } from "node:path";
import { databaseKind } from "../stores/from-url.js";
import type { CliConfig } from "./config.js";

const DEFAULT_URL = "file:data/gatehouse.db";

/** Where the CLI may find its database URL; see {@link resolveDatabaseUrl}. */
export interface DatabaseUrlSources {
  /** `--database-url`. */
  flag?: string | undefined;
  /** The environment, after the env files were loaded into it. */
  env: Readonly<Record<string, string | undefined>>;
  /** The env file that set `DATABASE_URL`, when one did (rather than the process environment). */
  envFile?: string | undefined;
  /** The folder the env files are in: `next` runs there, so a relative `file:` path in them resolves from it. */
  envDir: string;
  /** The nearest `gatehouse.config.json`. */
  config: CliConfig | null;
  /** The working directory: a relative path on the command line or in the process environment resolves from it. */
  cwd: string;
}

/**
 * Which database the CLI opens, in order: `--database-url`; `DATABASE_URL` from the process environment, then
 * from the env files (as the app sees it); `databaseUrl` in the nearest `gatehouse.config.json` (a relative
 * `file:` path resolves from that file's folder); then `file:data/gatehouse.db` in the app's folder (its
 * `appDir`, or the working directory).
 *
 * @example
 * ```ts
 * resolveDatabaseUrl({ env: {}, envDir: "/srv/app", config: null, cwd: "/srv/app" });
 * // { url: "file:/srv/app/data/gatehouse.db", source: "default" }
 * ```
 */
export function resolveDatabaseUrl(sources: DatabaseUrlSources): { url: string; source: string } {
  const { flag, env, envFile, envDir, config, cwd } = sources;
  if (flag) return { url: flag, source: "--database-url" };
  const fromEnv = env.DATABASE_URL;
  if (fromEnv && envFile) return { url: resolveFileUrl(fromEnv, envDir), source: `DATABASE_URL in ${envFile}` };
  if (fromEnv) return { url: fromEnv, source: "DATABASE_URL" };
  if (config?.databaseUrl) {
    return { url: resolveFileUrl(config.databaseUrl, dirname(config.path)), source: config.path };
  }
  return { url: resolveFileUrl(DEFAULT_URL, config?.appDir ?? cwd), source: "default" };
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
export function redactDatabaseUrl(given: string): string {
  if (databaseKind(given) === "sqlite") return given;
  const url = maskUserinfo(given);
  if (!URL.canParse(url)) return `${/^[a-z][a-z\d+.-]*:/i.exec(url)?.[0] ?? ""}***`;
  const parsed = new URL(url);
  const secretParameters = [...parsed.searchParams.keys()].filter((name) => PASSWORD_PARAMETER.test(name));
  if (!parsed.password && secretParameters.length === 0) return url;
  if (parsed.password) parsed.password = "***";
  for (const name of secretParameters) parsed.searchParams.set(name, "***");
  return parsed.href;
}

/**
 * Masks the password up to the last `@`, before any parsing: a password with an unescaped `#`, `/` or `?`
 * would otherwise be split by the URL parser and partly shown as a host or a fragment. An `@` later in the
 * query masks more than needed, never less.
 */
function maskUserinfo(url: string): string {
  const start = url.indexOf("://");
  const at = url.lastIndexOf("@");
  if (start === -1 || at < start) return url;
  const colon = url.indexOf(":", start + 3);
  return colon === -1 || colon > at ? url : `${url.slice(0, colon)}:***${url.slice(at)}`;
}

function resolveFileUrl(url: string, base: string): string {
  if (!url.startsWith("file:") || url.startsWith("file://")) return url;
  const path = url.slice("file:".length);
  return path === ":memory:" || isAbsolute(path) ? url : `file:${resolve(base, path)}`;
}

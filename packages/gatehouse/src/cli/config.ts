import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ConfigurationError } from "../errors.js";

const CONFIG_FILE = "gatehouse.config.json";

/** The nearest `gatehouse.config.json`, with its paths resolved from the folder it is in. */
export interface CliConfig {
  /** The file itself. */
  path: string;
  /** `databaseUrl`, as written (a relative `file:` path resolves from the file's folder). */
  databaseUrl?: string;
  /**
   * `appDir`, absolute: the Next.js app whose `.env*` files the CLI reads and from which the default database
   * `file:data/gatehouse.db` resolves, as `next` itself runs there. A monorepo's root names its app with it.
   */
  appDir?: string;
  /**
   * `protectedRoutes`: the path prefixes `gatehouse check-routes` requires a secure check under, e.g.
   * `["/dashboard", "/admin"]` (default: the prefixes the app's `proxy.ts` protects).
   */
  protectedRoutes?: string[];
}

/**
 * Reads the nearest `gatehouse.config.json` in `from` or a folder above it, or returns `null` when there is none.
 * A file that is not JSON, has none of `databaseUrl`, `appDir` and `protectedRoutes`, or has one of the wrong
 * type, throws: it is there to be used.
 */
export function findConfig(from: string): CliConfig | null {
  const path = findUp(CONFIG_FILE, from);
  if (!path) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw new ConfigurationError(`${path} is not valid JSON.`);
  }
  const { databaseUrl, appDir, protectedRoutes } = (parsed ?? {}) as Record<string, unknown>;
  const config: CliConfig = { path };
  if (databaseUrl !== undefined) {
    if (typeof databaseUrl !== "string" || databaseUrl === "")
      throw new ConfigurationError(`${path}: "databaseUrl" must be a non-empty string, like "file:data/gatehouse.db".`);
    config.databaseUrl = databaseUrl;
  }
  if (appDir !== undefined) {
    if (typeof appDir !== "string" || appDir === "")
      throw new ConfigurationError(`${path}: "appDir" must be a non-empty string, like "apps/web".`);
    config.appDir = resolve(dirname(path), appDir);
  }
  if (protectedRoutes !== undefined) {
    const paths: unknown[] = Array.isArray(protectedRoutes) ? protectedRoutes : [];
    if (!Array.isArray(protectedRoutes) || !paths.every((item) => typeof item === "string" && item.startsWith("/")))
      throw new ConfigurationError(`${path}: "protectedRoutes" must be a list of path prefixes, like ["/dashboard"].`);
    config.protectedRoutes = (paths as string[]).map(normalizePrefix);
  }
  if (!config.databaseUrl && !config.appDir && !config.protectedRoutes)
    throw new ConfigurationError(`${path} has none of "databaseUrl", "appDir" and "protectedRoutes".`);
  return config;
}

/** A path prefix as written, without its trailing `/` (`/admin/` → `/admin`); one not starting with `/` throws. */
export function normalizePrefix(prefix: string): string {
  if (!prefix.startsWith("/"))
    throw new ConfigurationError(`"${prefix}" is not a path prefix: write it as /dashboard.`);
  return prefix.replace(/\/+$/, "") || "/";
}

/**
 * The nearest `name` from `from` upward, within the project: the search stops at the first folder with a
 * `package.json` or a `.git` (the app's or the repository's root), so a file planted above it is never read.
 */
function findUp(name: string, from: string): string | null {
  let dir = resolve(from);
  for (;;) {
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir || existsSync(join(dir, "package.json")) || existsSync(join(dir, ".git"))) return null;
    dir = parent;
  }
}

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
}

/**
 * Reads the nearest `gatehouse.config.json` in `from` or a folder above it, or returns `null` when there is none.
 * A file that is not JSON, or has neither `databaseUrl` nor `appDir` as a string, throws: it is there to be used.
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
  const { databaseUrl, appDir } = (parsed ?? {}) as { databaseUrl?: unknown; appDir?: unknown };
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
  if (!config.databaseUrl && !config.appDir)
    throw new ConfigurationError(`${path} has neither a "databaseUrl" nor an "appDir" string.`);
  return config;
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

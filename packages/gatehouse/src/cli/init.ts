import { chmodSync, existsSync, lstatSync, readFileSync, type Stats, writeFileSync } from "node:fs";
import { join } from "node:path";
import dotenv from "dotenv";
import { randomToken } from "../crypto/random.js";
import { ConfigurationError } from "../errors.js";

/** The origin `init` writes when given none: `next dev`'s. */
export const DEFAULT_APP_URL = "http://localhost:3000";

/** A new secret for `GATEHOUSE_SECRET`: 32 bytes from the CSPRNG, 43 base64url characters. */
export function newSecret(): string {
  return randomToken(32);
}

/** What {@link initApp} did to one file. */
export interface FileReport {
  /** The file did not exist and was written. */
  created: boolean;
  /** What was added: variable names for `.env.local`, patterns for `.gitignore`. */
  added: string[];
}

/** What {@link initApp} did, so that the CLI can say it. */
export interface InitReport {
  envLocal: FileReport & {
    /** Variables left alone because an env file read in development already sets them, with that file. */
    kept: Array<{ name: string; file: string }>;
    /** The origin written, when `GATEHOUSE_URL` was added. */
    url: string;
  };
  gitignore: FileReport & { alreadyIgnored: string[] };
}

/** The env files `next dev` reads, by precedence: a variable set in any of them is not written again. */
const DEVELOPMENT_ENV_FILES = [".env.development.local", ".env.local", ".env.development", ".env"];
/** The default SQLite file, `file:data/gatehouse.db`, lands in this folder of the app. */
const DATA_PATTERN = "/data/";
const ENV_LOCAL_PATTERN = ".env*.local";

/**
 * Sets up a Next.js app's folder for Gatehouse, adding only what is missing, so that a second run changes
 * nothing: `.env.local` gains `GATEHOUSE_SECRET` (a new random secret) and `GATEHOUSE_URL` unless an env file
 * read in development sets them already (a new file is created with mode 0600; an existing one keeps its
 * lines and mode); `.gitignore` gains `/data/` (the SQLite database) and `.env*.local` unless a line ignores
 * them already (`data`, `/data`, `data/`, `/data/`; `.env*.local`, `.env*`, `*.local`, …).
 *
 * @example
 * ```ts
 * const report = initApp("/srv/app", { url: "http://localhost:3000" });
 * report.envLocal.added; // ["GATEHOUSE_SECRET", "GATEHOUSE_URL"] the first time, [] the next
 * ```
 */
export function initApp(dir: string, options: { url?: string } = {}): InitReport {
  const url = options.url ?? DEFAULT_APP_URL;
  const envPath = join(dir, ".env.local");
  const ignorePath = join(dir, ".gitignore");
  assertPlainFile(envPath);
  assertPlainFile(ignorePath);
  // .gitignore first: if writing the secret then fails, it was never written where git would take it.
  const gitignore = addIgnorePatterns(ignorePath);
  return {
    envLocal: { ...addEnvVariables(dir, { GATEHOUSE_SECRET: newSecret(), GATEHOUSE_URL: url }), url },
    gitignore,
  };
}

function addEnvVariables(
  dir: string,
  variables: Record<string, string>,
): FileReport & { kept: Array<{ name: string; file: string }> } {
  const path = join(dir, ".env.local");
  const texts = DEVELOPMENT_ENV_FILES.map((file) => ({ file, text: readIfExists(join(dir, file)) }));
  const kept: Array<{ name: string; file: string }> = [];
  const lines: string[] = [];
  for (const [name, value] of Object.entries(variables)) {
    const setIn = texts.find(({ text }) => text !== null && setsVariable(text, name));
    if (setIn) kept.push({ name, file: setIn.file });
    else lines.push(`${name}=${value}`);
  }
  const existing = readIfExists(path);
  if (lines.length > 0) {
    const comment = "# Gatehouse (npx gatehouse init): keep this file out of git";
    appendBlock(path, existing, `${comment}\n${lines.join("\n")}\n`, { mode: 0o600 });
    // The mode above applies only to a new file, and only as far as the umask allows.
    if (existing === null) chmodSync(path, 0o600);
  }
  const added = lines.map((line) => line.slice(0, line.indexOf("=")));
  return { created: existing === null && lines.length > 0, added, kept };
}

/**
 * Whether a dotenv text gives `name` a value, read by the parser `@next/env` itself bundles (dotenv 16.3.1),
 * so that `KEY: value`, quoted and multi-line values count as Next counts them. The last assignment wins; an
 * empty or blank one does not count, and the line `init` then appends, coming later, wins over it.
 */
function setsVariable(text: string, name: string): boolean {
  const value = dotenv.parse(text)[name];
  return value !== undefined && value.trim() !== "";
}

function addIgnorePatterns(path: string): FileReport & { alreadyIgnored: string[] } {
  const existing = readIfExists(path);
  const patterns = (existing ?? "")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#") && !line.startsWith("!"));
  const wanted = [
    { pattern: DATA_PATTERN, comment: "# the SQLite database, file:data/gatehouse.db", ignored: ignoresDataFolder },
    {
      pattern: ENV_LOCAL_PATTERN,
      comment: "# local env files: .env.local holds GATEHOUSE_SECRET",
      ignored: ignoresEnvLocal,
    },
  ];
  const missing = wanted.filter((entry) => !patterns.some(entry.ignored));
  if (missing.length > 0) {
    const block = missing.map((entry) => `${entry.comment}\n${entry.pattern}\n`).join("");
    appendBlock(path, existing, block);
  }
  return {
    created: existing === null,
    added: missing.map((entry) => entry.pattern),
    alreadyIgnored: wanted.filter((entry) => !missing.includes(entry)).map((entry) => entry.pattern),
  };
}

/** `data`, `/data`, `data/` and `/data/` all ignore the app's data folder. */
function ignoresDataFolder(pattern: string): boolean {
  return pattern.replace(/^\//, "").replace(/\/$/, "") === "data";
}

/** A pattern ignores the local env files when it matches both `.env.local` and `.env.development.local`. */
function ignoresEnvLocal(pattern: string): boolean {
  const glob = pattern.replace(/^\//, "");
  if (glob.includes("/")) return false;
  const source = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, "[^/]*")
    .replace(/\?/g, "[^/]");
  const regex = new RegExp(`^${source}$`);
  return regex.test(".env.local") && regex.test(".env.development.local");
}

/**
 * Refuses a symbolic link (dangling or not) or anything else that is not a plain file: the secret must land in
 * the app's own `.env.local`, never in a file elsewhere that the link points at (one Next might serve).
 */
function assertPlainFile(path: string): void {
  let stats: Stats;
  try {
    stats = lstatSync(path);
  } catch {
    return;
  }
  if (!stats.isFile()) {
    throw new ConfigurationError(
      `init: ${path} is ${stats.isSymbolicLink() ? "a symbolic link" : "not a file"}; make it a plain file or remove it.`,
    );
  }
}

/** Writes `block` after a file's `existing` text, a blank line between them; `mode` applies to a new file. */
function appendBlock(path: string, existing: string | null, block: string, options: { mode?: number } = {}): void {
  const separator = existing === null || existing === "" ? "" : existing.endsWith("\n") ? "\n" : "\n\n";
  writeFileSync(path, `${existing ?? ""}${separator}${block}`, options);
}

function readIfExists(path: string): string | null {
  return existsSync(path) ? readFileSync(path, "utf8") : null;
}

/** The lines `gatehouse init` prints: what it did in `dirLabel`, then the next steps. */
export function formatInitReport(report: InitReport, dirLabel: string): string {
  const { envLocal, gitignore } = report;
  const changed = envLocal.added.length > 0 || gitignore.added.length > 0;
  const envParts = [
    ...envLocal.added.map((name) =>
      name === "GATEHOUSE_SECRET" ? "added GATEHOUSE_SECRET (a new random secret)" : `added ${name}=${envLocal.url}`,
    ),
    ...envLocal.kept.map(({ name, file }) => `kept ${name} (already set in ${file})`),
  ];
  const ignoreParts = [
    ...(gitignore.added.length > 0 ? [`added ${gitignore.added.join(", ")}`] : []),
    ...(gitignore.alreadyIgnored.length > 0 ? [`already ignores ${gitignore.alreadyIgnored.join(", ")}`] : []),
  ];
  const verb = (file: FileReport): string =>
    file.created ? "created" : file.added.length > 0 ? "updated" : "unchanged";
  return [
    changed ? `Set up Gatehouse in ${dirLabel}:` : `Nothing to change in ${dirLabel}: it is set up already.`,
    `  ${verb(envLocal)} .env.local${envLocal.created ? " (mode 0600)" : ""}: ${envParts.join("; ")}`,
    `  ${verb(gitignore)} .gitignore: ${ignoreParts.join("; ")}`,
    "",
    'Next steps (the code is in the README, "Add it to your Pages Router app in five minutes"):',
    "  npm install gatehouse-auth better-sqlite3",
    "  npx gatehouse migrate                 creates the database, data/gatehouse.db",
    "  lib/gatehouse.ts                      createGatehouse({ store, secret, url }), created once",
    "  pages/api/auth/[...gatehouse].ts      export default gatehouseApiHandler(getGatehouse)",
    "  proxy.ts (or middleware.ts)           export const proxy = gatehouseProxy({ secret, protectedRoutes })",
    "  npx gatehouse doctor                  checks the result",
    "",
  ].join("\n");
}

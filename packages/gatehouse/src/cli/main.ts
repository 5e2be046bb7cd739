import { statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createAccounts } from "../core/accounts.js";
import { type AuditActor, createAudit } from "../core/audit.js";
import { resolveCredentialConfig } from "../core/config.js";
import { normalizeEmail } from "../core/email.js";
import { resolveRoles } from "../core/stores.js";
import { isGatehouseError } from "../errors.js";
import { createArgon2idHasher } from "../password/hasher.js";
import { createStoreFromUrl, databaseKind, type StoresFromUrl, unsupportedDatabaseUrl } from "../stores/from-url.js";
import type { Store } from "../stores/types.js";
import { type EventFilter, exportEvents, printable, printableJson, tailEvents } from "./audit.js";
import { type CliConfig, findConfig, normalizePrefix } from "./config.js";
import { redactDatabaseUrl, resolveDatabaseUrl } from "./database-url.js";
import { checkEnvironment, checkOutbox, checkSqliteFile, checkStore } from "./doctor.js";
import { type LoadedEnv, loadEnvFiles } from "./env-files.js";
import { DEFAULT_APP_URL, formatInitReport, initApp, newSecret } from "./init.js";

const USAGE = `Usage: gatehouse <command> [options]

Commands:
  init [dir] [--url URL]                    Set up a Next.js app (default: the app, below): write GATEHOUSE_SECRET
                                            and GATEHOUSE_URL (default ${DEFAULT_APP_URL}) to .env.local,
                                            add data/ and .env*.local to .gitignore, print the next steps
  migrate                                   Apply pending database migrations
  secret                                    Print a new random secret for GATEHOUSE_SECRET
  users create --email E --password P [--role R] [--name N] [--verified]
                                            Create a user (--password-stdin reads the password from stdin;
                                            --verified marks the email address as verified)
  users set-role --email E --role R         Change a user's role
  users list [--json]                       List users
  users mfa-reset --email E                 Remove a locked-out user's second factors and passkeys
  sessions revoke --email E                 End every session of a user (both strategies)
  audit export [--since DATE] [--user U]    Write the audit log as JSON lines, oldest first (--since: an ISO
                                            date or time; --user: a user's id or email)
  audit tail [--user U]                     Print the newest events, then each new one as it arrives, as JSON
                                            lines, until Ctrl-C
  doctor                                    Check this deployment's configuration and say what to fix
  check-routes [dir] [--protected P,…] [--json]
                                            List every route of a Next.js app (default: the app, below), both
                                            routers, and the secure check that guards it; exit 1 when a route
                                            under a protected prefix has none (proxy.ts or a layout alone is
                                            not one). Prefixes: --protected /dashboard,/admin, else
                                            "protectedRoutes" in gatehouse.config.json, else the proxy's

Options:
  --database-url URL   file:<path>, postgres://… or mysql://…. Default: DATABASE_URL, then
                       gatehouse.config.json, then file:data/gatehouse.db. REDIS_URL, when set, holds the sessions.
  --cwd DIR            Run as if started in DIR
  -h, --help           Show this help

Environment: like \`next dev\` (\`next start\` when NODE_ENV=production), every command but init and check-routes
first reads the app's .env.development.local, .env.local, .env.development and .env (.env.production… in
production); variables already set in the environment win. The app is the current folder, or the "appDir" of the
nearest gatehouse.config.json ({ "appDir": "apps/web", "databaseUrl": "file:…", "protectedRoutes": ["/admin"] }).
stderr names the files read.
`;

/** Exit codes: 0 success, 1 the operation failed, 2 the command line was wrong. */
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

/** The command line itself is wrong: print usage, exit 2. */
class UsageError extends Error {}
/** The named user does not exist: exit 1. */
class UserNotFoundError extends Error {}

function isUsageError(error: unknown): error is Error {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof UsageError || (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"));
}

/** Where a command runs: the app's folder, whose env files were read, and the config that named it. */
interface Context {
  configFile: CliConfig | null;
  appDir: string;
  env: LoadedEnv;
}

function openStore(flag: string | undefined, context: Context): { stores: StoresFromUrl; url: string } {
  const { url } = resolveDatabaseUrl({
    flag,
    env: process.env,
    envFile: context.env.origins.DATABASE_URL,
    envDir: context.appDir,
    config: context.configFile,
    cwd: process.cwd(),
  });
  if (!databaseKind(url)) {
    throw new UsageError(unsupportedDatabaseUrl(url));
  }
  const stores = createStoreFromUrl({
    databaseUrl: url,
    redisUrl: process.env.REDIS_URL || undefined,
    redisKeyPrefix: process.env.REDIS_KEY_PREFIX || undefined,
    autoMigrate: false,
  });
  return { stores, url: redactDatabaseUrl(url) };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === "") throw new UsageError(`Missing ${flag}.`);
  return value;
}

async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      "database-url": { type: "string" },
      email: { type: "string" },
      password: { type: "string" },
      "password-stdin": { type: "boolean" },
      role: { type: "string" },
      name: { type: "string" },
      json: { type: "boolean" },
      verified: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      cwd: { type: "string" },
      url: { type: "string" },
      protected: { type: "string" },
      since: { type: "string" },
      user: { type: "string" },
    },
  });
  const [command, sub] = positionals;
  if (values.help || command === undefined || command === "help") {
    process.stdout.write(USAGE);
    if (command === undefined && !values.help) process.exitCode = EXIT_USAGE;
    return;
  }

  if (!["init", "secret", "migrate", "users", "sessions", "audit", "doctor", "check-routes"].includes(command))
    throw new UsageError(`Unknown command "${command}".`);
  if (command === "audit" && sub !== "export" && sub !== "tail")
    throw new UsageError(`Unknown audit command "${sub ?? ""}". Use export or tail.`);
  if (values.since !== undefined && !(command === "audit" && sub === "export"))
    throw new UsageError("--since is an option of audit export only.");
  if (values.user !== undefined && command !== "audit") throw new UsageError("--user is an option of audit only.");
  const since = values.since === undefined ? undefined : sinceDate(values.since);
  if (command === "users" && !["create", "set-role", "list", "mfa-reset"].includes(sub ?? "")) {
    throw new UsageError(`Unknown users command "${sub ?? ""}". Use create, set-role, list or mfa-reset.`);
  }
  if (command === "sessions" && sub !== "revoke")
    throw new UsageError(`Unknown sessions command "${sub ?? ""}". Use revoke.`);
  if ((command === "init" || command === "check-routes") && positionals.length > 2)
    throw new UsageError(`${command} takes one folder, not ${positionals.length - 1}.`);
  if (values.url !== undefined && command !== "init") throw new UsageError("--url is an option of init only.");
  if (values.protected !== undefined && command !== "check-routes")
    throw new UsageError("--protected is an option of check-routes only.");
  const protectedPrefixes = values.protected === undefined ? undefined : prefixList(values.protected);
  const appUrl = appOrigin(values.url ?? DEFAULT_APP_URL);

  if (values.cwd !== undefined) process.chdir(existingDirectory(values.cwd, "--cwd"));
  const configFile = findConfig(process.cwd());
  const appDir = configFile?.appDir ?? process.cwd();

  if (command === "init") {
    const dir = existingDirectory(sub ?? appDir, "init");
    const report = initApp(dir, { url: appUrl });
    process.stdout.write(formatInitReport(report, dir));
    return;
  }

  if (command === "check-routes") {
    const dir = existingDirectory(sub ?? appDir, "check-routes");
    // The config nearest the app, or the one here that names it as its appDir.
    const config = findConfig(dir) ?? (configFile?.appDir === dir ? configFile : null);
    // The parser loads for this command only.
    const { auditExitCode, checkRoutes, formatRouteAudit } = await import("./check-routes.js");
    const audit = checkRoutes(dir, { protected: protectedPrefixes, config });
    for (const problem of audit.problems) process.stderr.write(`gatehouse: ${problem}\n`);
    process.stdout.write(values.json ? `${JSON.stringify(audit.report, null, 2)}\n` : formatRouteAudit(audit));
    process.exitCode = auditExitCode(audit.report);
    return;
  }

  const env = loadEnvFiles(appDir, process.env.NODE_ENV === "production" ? "production" : "development");
  const named = (file: string): string => shown(join(appDir, file));
  // stderr, so that the output of `secret` and `users list --json` stays what a pipe reads.
  if (env.files.length > 0) process.stderr.write(`Loaded env from ${env.files.map(named).join(", ")}\n`);
  const context: Context = { configFile, appDir, env };

  if (command === "secret") {
    process.stdout.write(`${newSecret()}\n`);
    return;
  }

  const { stores, url } = openStore(values["database-url"], context);
  const { store } = stores;
  try {
    if (command === "doctor") {
      const origins = Object.fromEntries(Object.entries(env.origins).map(([name, file]) => [name, named(file)]));
      const sources = { origins, envLocal: named(".env.local") };
      const storeFinding = (await checkSqliteFile(url)) ?? (await checkStore(stores, url));
      const outbox = storeFinding.ok ? [await checkOutbox(store)] : [];
      const findings = [...checkEnvironment(process.env, sources), storeFinding, ...outbox];
      for (const finding of findings) {
        process.stdout.write(
          `${finding.ok ? "ok  " : "FIX "} ${finding.check}${finding.fix ? `\n     → ${finding.fix}` : ""}\n`,
        );
      }
      if (findings.some((finding) => !finding.ok)) process.exitCode = EXIT_FAILURE;
      return;
    }
    await stores.migrate();
    if (command === "migrate") {
      process.stdout.write(`Database is up to date: ${url}\n`);
      return;
    }
    if (command === "audit") {
      const filter: EventFilter = {
        ...(since && { since }),
        ...(values.user !== undefined && { userId: await userIdOf(store, values.user) }),
      };
      if (sub === "export") {
        await exportEvents(store, filter, process.stdout);
        return;
      }
      // Ctrl-C ends the tail; the store is closed below, and the command exits 0.
      const stop = new AbortController();
      const end = () => stop.abort();
      process.once("SIGINT", end);
      process.once("SIGTERM", end);
      try {
        await tailEvents(store, filter, process.stdout, {
          initial: TAIL_INITIAL,
          intervalMs: TAIL_INTERVAL_MS,
          signal: stop.signal,
        });
      } finally {
        process.off("SIGINT", end);
        process.off("SIGTERM", end);
      }
      return;
    }
    const config = resolveCredentialConfig({});
    // What the CLI changes is recorded in the audit log, acted by the CLI.
    const audit = createAudit(store, {}, Date.now);
    const accounts = createAccounts(resolveRoles(stores), config, createArgon2idHasher(config.argon2), audit);
    const by = { actor: CLI_ACTOR };
    if (sub === "list") {
      const users = await accounts.list();
      // A name is the user's own text: printed escaped, so it can neither drive the terminal nor add a column.
      if (values.json) process.stdout.write(`${printableJson(JSON.stringify(users, null, 2))}\n`);
      else if (users.length === 0) process.stdout.write("No users yet.\n");
      else
        for (const u of users)
          process.stdout.write(`${u.id}\t${u.role}\t${u.email}${u.name ? `\t${printable(u.name)}` : ""}\n`);
      return;
    }
    const email = required(values.email, "--email");
    if (command === "sessions") {
      const user = await store.getUserByEmail(normalizeEmail(email));
      if (!user) throw new UserNotFoundError(`No user with email ${email}.`);
      const count = await accounts.revokeAllSessions(user.id, by);
      process.stdout.write(`Ended ${plural(count, "session")} of ${user.email}\n`);
      return;
    }
    if (sub === "mfa-reset") {
      const removed = await accounts.resetSecondFactors(email, by);
      if (!removed) throw new UserNotFoundError(`No user with email ${email}.`);
      const what = [
        ...(removed.totp ? ["the authenticator app (TOTP)"] : []),
        ...(removed.recoveryCodes > 0 ? [plural(removed.recoveryCodes, "recovery code")] : []),
        ...(removed.passkeys > 0 ? [plural(removed.passkeys, "passkey")] : []),
      ];
      process.stdout.write(
        what.length === 0
          ? `${normalizeEmail(email)} had no second factor or passkey: nothing removed\n`
          : `Removed from ${normalizeEmail(email)}: ${what.join(", ")}. They can sign in with their password alone now.\n`,
      );
      return;
    }
    if (sub === "create") {
      const password = values["password-stdin"]
        ? await readStdin()
        : required(values.password, "--password (or --password-stdin)");
      const user = await accounts.create({ email, password, name: values.name ?? null, role: values.role }, by);
      if (values.verified) await store.updateUser(user.id, { emailVerifiedAt: new Date() });
      process.stdout.write(
        `Created ${user.role} ${user.email} (${user.id})${values.verified ? ", email verified" : ""}\n`,
      );
      return;
    }
    const user = await accounts.setRole(email, required(values.role, "--role"), by);
    if (!user) throw new UserNotFoundError(`No user with email ${email}.`);
    process.stdout.write(`${user.email} is now ${user.role}\n`);
  } finally {
    await stores.close();
  }
}

/** `audit tail` starts with this many of the newest events, and asks for new ones this often. */
const TAIL_INITIAL = 10;
const TAIL_INTERVAL_MS = 1000;

const CLI_ACTOR: AuditActor = { type: "cli", id: null };

/** `--since` as a time: an ISO date (`2026-01-31`, midnight UTC) or date and time; anything else is a usage error. */
function sinceDate(value: string): Date {
  const iso = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
  const time = iso.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time))
    throw new UsageError(`--since "${value}" is not an ISO date or time, like 2026-01-31 or 2026-01-31T12:00:00Z.`);
  return new Date(time);
}

/** `--user` as a user id: an email is looked up (exit 1 when no user has it); an id is taken as it is. */
async function userIdOf(store: Store, value: string): Promise<string> {
  if (value.includes("@")) {
    const user = await store.getUserByEmail(normalizeEmail(value));
    if (!user) throw new UserNotFoundError(`No user with email ${value}.`);
    return user.id;
  }
  // Events outlive their users: the id of a deleted one still names their events.
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(value))
    throw new UsageError(`--user "${value}" is neither an email nor a user id.`);
  return value;
}

/** `--protected /dashboard,/admin` as prefixes; an empty list or one not starting with `/` is a usage error. */
function prefixList(value: string): string[] {
  const prefixes = value
    .split(",")
    .map((prefix) => prefix.trim())
    .filter((prefix) => prefix !== "");
  if (prefixes.length === 0)
    throw new UsageError("--protected needs path prefixes, like --protected /dashboard,/admin.");
  const wrong = prefixes.find((prefix) => !prefix.startsWith("/"));
  if (wrong !== undefined) throw new UsageError(`--protected "${wrong}" is not a path prefix: write it as /${wrong}.`);
  return prefixes.map(normalizePrefix);
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** `path` as the user should read it: relative to the working directory when inside it. */
function shown(path: string): string {
  const fromHere = relative(process.cwd(), path);
  return fromHere.startsWith("..") ? path : fromHere;
}

/** `path`, absolute, when it is a directory; otherwise the command fails (exit 1) saying so. */
function existingDirectory(path: string, what: string): string {
  const absolute = resolve(path);
  const stat = statSync(absolute, { throwIfNoEntry: false });
  if (!stat)
    throw new Error(`${what}: ${path} does not exist. Create the app first, for example with npx create-next-app.`);
  if (!stat.isDirectory()) throw new Error(`${what}: ${path} is not a directory.`);
  return absolute;
}

/** `--url` as the origin `GATEHOUSE_URL` holds; anything but an http(s) URL is a usage error. */
function appOrigin(url: string): string {
  const parsed = URL.canParse(url) ? new URL(url) : null;
  if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:"))
    throw new UsageError(`--url "${url}" is not an http:// or https:// URL, like https://app.example.com.`);
  // The parser drops newlines and the like silently, and .env.local expands `$`: such input is refused.
  if (/[\s$"'`\\{}]/.test(url) || !/^https?:\/\/([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:\d+)?$/.test(parsed.origin))
    throw new UsageError(
      `--url "${url}" is not a plain origin: use one like https://app.example.com or http://localhost:3000.`,
    );
  return parsed.origin;
}

run(process.argv.slice(2)).catch((error: unknown) => {
  if (isUsageError(error)) {
    process.stderr.write(`gatehouse: ${error.message}\n\n${USAGE}`);
    process.exitCode = EXIT_USAGE;
    return;
  }
  if (isGatehouseError(error) && error.fields) {
    const details = Object.entries(error.fields).map(([field, problem]) => `  --${field}: ${problem.message}`);
    process.stderr.write(`gatehouse: ${error.message}\n${details.join("\n")}\n`);
  } else if (isGatehouseError(error) || error instanceof UserNotFoundError) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
    process.stderr.write(`gatehouse: ${error.message}${cause}\n`);
  } else {
    process.stderr.write(`gatehouse: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exitCode = EXIT_FAILURE;
});

import { existsSync } from "node:fs";
import { isGatehouseError } from "../errors.js";
import { MIN_SECRET_LENGTH } from "../session/config.js";
import { databaseKind, type StoresFromUrl } from "../stores/from-url.js";
import type { MailStore } from "../stores/types.js";

/** One finding: what was checked, whether it is fine, and what to do when it is not. */
export interface Finding {
  ok: boolean;
  check: string;
  fix?: string;
}

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** What {@link checkEnvironment} knows of where the variables come from. */
export interface EnvironmentSources {
  /** Variable → the env file that set it (the rest came from the process environment, or are unset). */
  origins?: Readonly<Record<string, string>>;
  /** The `.env.local` the CLI reads, as it should be named to the user. Default `.env.local`. */
  envLocal?: string;
}

/**
 * Checks the deployment's environment (the variables the example app and the CLI read). With `sources`, the
 * secret's and the origin's findings say which env file set them, and the fixes name the `.env.local` to edit.
 *
 * @example
 * ```ts
 * checkEnvironment(process.env, { origins: { GATEHOUSE_SECRET: ".env.local" } });
 * // [{ ok: true, check: "GATEHOUSE_SECRET is set (43 characters, from .env.local)" }, …]
 * ```
 */
export function checkEnvironment(env: NodeJS.ProcessEnv, sources: EnvironmentSources = {}): Finding[] {
  const findings: Finding[] = [];
  const production = env.NODE_ENV === "production";
  const envLocal = sources.envLocal ?? ".env.local";
  const from = (name: string): string => `from ${sources.origins?.[name] ?? "the environment"}`;
  const secret = env.GATEHOUSE_SECRET ?? "";
  findings.push(
    secret.length >= MIN_SECRET_LENGTH
      ? { ok: true, check: `GATEHOUSE_SECRET is set (${secret.length} characters, ${from("GATEHOUSE_SECRET")})` }
      : {
          ok: false,
          check: secret
            ? `GATEHOUSE_SECRET is only ${secret.length} characters (${from("GATEHOUSE_SECRET")})`
            : "GATEHOUSE_SECRET is not set",
          fix:
            `set it to at least ${MIN_SECRET_LENGTH} random characters, in the environment or in ${envLocal}: ` +
            `npx gatehouse init writes one there, npx gatehouse secret prints one`,
        },
  );

  const strategy = env.GATEHOUSE_SESSION_STRATEGY || "database";
  findings.push(
    strategy === "database" || strategy === "stateless"
      ? { ok: true, check: `session strategy: ${strategy}` }
      : { ok: false, check: `GATEHOUSE_SESSION_STRATEGY is "${strategy}"`, fix: 'use "database" or "stateless"' },
  );

  const url = env.GATEHOUSE_URL;
  if (!url || !URL.canParse(url)) {
    findings.push({
      ok: false,
      check: url ? `GATEHOUSE_URL "${url}" is not a URL` : "GATEHOUSE_URL is not set",
      fix: `set it to the app's public origin, like https://app.example.com (CSRF checks and links use it); in development, npx gatehouse init writes http://localhost:3000 to ${envLocal}`,
    });
  } else {
    const parsed = new URL(url);
    const local = LOCAL_HOSTS.has(parsed.hostname);
    findings.push(
      parsed.protocol === "https:" || local
        ? { ok: true, check: `GATEHOUSE_URL is ${parsed.origin} (${from("GATEHOUSE_URL")})` }
        : {
            ok: false,
            check: `GATEHOUSE_URL ${parsed.origin} is not HTTPS`,
            fix: "serve the app over HTTPS: session cookies are Secure in production and browsers drop them over plain HTTP",
          },
    );
    findings.push(
      production
        ? { ok: true, check: "cookies are Secure with the __Host- prefix (NODE_ENV=production)" }
        : {
            ok: false,
            check: "cookies are not Secure (NODE_ENV is not production)",
            fix: "run with NODE_ENV=production in deployment",
          },
    );
  }

  const origins = (env.GATEHOUSE_TRUSTED_ORIGINS ?? "")
    .split(",")
    .map((o) => o.trim())
    .filter(Boolean);
  const badOrigins = origins.filter((o) => !URL.canParse(o) || (production && new URL(o).protocol !== "https:"));
  findings.push(
    badOrigins.length === 0
      ? { ok: true, check: origins.length ? `trusted origins: ${origins.join(", ")}` : "no extra trusted origins" }
      : {
          ok: false,
          check: `GATEHOUSE_TRUSTED_ORIGINS has ${badOrigins.join(", ")}`,
          fix: "list HTTPS origins only, comma-separated",
        },
  );

  const proxies = env.GATEHOUSE_TRUSTED_PROXIES ?? "0";
  findings.push(
    /^\d+$/.test(proxies)
      ? {
          ok: true,
          check:
            proxies === "0"
              ? "X-Forwarded-For is ignored (no trusted proxies): behind a load balancer, set GATEHOUSE_TRUSTED_PROXIES"
              : `${proxies} trusted proxy hop(s) in X-Forwarded-For`,
        }
      : {
          ok: false,
          check: `GATEHOUSE_TRUSTED_PROXIES is "${proxies}"`,
          fix: "use the number of proxies in front of the app",
        },
  );
  findings.push(checkMail(env.SMTP_URL, production));
  return findings;
}

/** Email is how users verify their address and recover a forgotten password. */
function checkMail(smtpUrl: string | undefined, production: boolean): Finding {
  if (smtpUrl) {
    return /^smtps?:\/\//.test(smtpUrl) && URL.canParse(smtpUrl)
      ? { ok: true, check: `email is sent through ${new URL(smtpUrl).host}` }
      : {
          ok: false,
          check: "SMTP_URL is not an smtp:// or smtps:// URL",
          fix: "use smtp://user:password@host:587 or smtps://user:password@host:465",
        };
  }
  return production
    ? {
        ok: false,
        check: "SMTP_URL is not set: no verification or password-reset email can be sent",
        fix: "set SMTP_URL to your mail provider's SMTP server, like smtps://user:password@smtp.example.com:465",
      }
    : { ok: true, check: "no SMTP_URL: in development, emails go to the dev outbox" };
}

/**
 * For a SQLite URL whose file does not exist, the finding that says so; otherwise `null`. The doctor asks this
 * before {@link checkStore}, whose first query would create an empty database (and its folder) as a side effect.
 */
export async function checkSqliteFile(url: string): Promise<Finding | null> {
  if (databaseKind(url) !== "sqlite") return null;
  const path = (await import("../stores/sqlite.js")).sqlitePathFromUrl(url);
  if (path === ":memory:" || existsSync(path)) return null;
  return {
    ok: false,
    check: `no database at ${path}`,
    fix: "run npx gatehouse migrate: it creates the file, its folder and the schema",
  };
}

/** Checks that the store answers and that its schema matches this version of Gatehouse. */
export async function checkStore(stores: StoresFromUrl, label: string): Promise<Finding> {
  try {
    // Any call runs the schema check first, because the CLI opens stores with autoMigrate off.
    await stores.store.peekRateLimit("gatehouse-doctor", Date.now());
    await stores.rateLimitStore?.peekRateLimit("gatehouse-doctor", Date.now());
    return { ok: true, check: `store reachable and migrations current: ${label}` };
  } catch (error) {
    if (isGatehouseError(error) && error.code === "configuration") {
      return {
        ok: false,
        check: `store schema: ${error.message}`,
        fix: "run npx gatehouse migrate (or upgrade Gatehouse)",
      };
    }
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return {
      ok: false,
      check: `store unreachable (${label})${cause}`,
      fix: "check DATABASE_URL / REDIS_URL and that the server is running",
    };
  }
}

/**
 * Checks the durable outbox for mail that failed for good: messages the sender tried `mailDelivery.maxAttempts`
 * times. Ask it once {@link checkStore} passed.
 *
 * @example
 * ```ts
 * await checkOutbox(stores.store);
 * // { ok: false, check: "2 emails failed for good (the last: connect ECONNREFUSED …)", fix: "…" }
 * ```
 */
export async function checkOutbox(store: MailStore): Promise<Finding> {
  try {
    const counts = await store.countMail();
    if (counts.failed === 0) {
      return {
        ok: true,
        check: `no failed email (${counts.pending} waiting to be sent, ${counts.sent} sent this week)`,
      };
    }
    const [last] = await store.listMail({ status: "failed", limit: 1 });
    return {
      ok: false,
      check: `${counts.failed === 1 ? "1 email" : `${counts.failed} emails`} failed for good (the last: ${last?.lastError ?? "no answer recorded"})`,
      fix: "fix the mail server or SMTP_URL, then retry them as an admin (GET /api/admin/mail?status=failed, POST /api/admin/mail/:id/retry)",
    };
  } catch (error) {
    return {
      ok: false,
      check: `the outbox cannot be read: ${error instanceof Error ? error.message : String(error)}`,
      fix: "run npx gatehouse migrate (or upgrade Gatehouse)",
    };
  }
}

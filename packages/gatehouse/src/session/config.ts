import { ConfigurationError } from "../errors.js";

/** How sessions are kept. */
export type SessionStrategyName = "database" | "stateless";

const DAY = 24 * 60 * 60;
/** The longest a session cookie may live, whatever is configured. */
export const MAX_COOKIE_AGE_SECONDS = 30 * DAY;
/** Secrets shorter than this are refused: they are guessable offline from one sealed cookie. */
export const MIN_SECRET_LENGTH = 32;

/** Options shared by the full Gatehouse instance and the database-free proxy check. */
export interface SessionCookieOptions {
  /**
   * One secret, or several for rotation: the first seals new stateless sessions, all of them open
   * existing ones. Each must be at least 32 characters (`npx gatehouse secret` prints a good one).
   */
  secret: string | readonly string[];
  /** `"database"` (default): an opaque token, checked against the store. `"stateless"`: an encrypted cookie. */
  strategy?: SessionStrategyName;
  /**
   * Adds `Secure` and the `__Host-` name prefix to the session cookie. Default: `true` when
   * `NODE_ENV === "production"`.
   */
  secureCookies?: boolean;
  /** Cookie name without the `__Host-` prefix. Default `"gatehouse.session"`. */
  cookieName?: string;
  /** Session lifetime in seconds, extended while in use. Default 7 days; at most 30 days. */
  maxAgeSeconds?: number;
  /** Hard cap on a session's life however often it is extended, in seconds. Default 30 days. */
  absoluteMaxAgeSeconds?: number;
  /**
   * A session not used for this long ends, in seconds (checked to the minute: last-seen times are written
   * at most once a minute). Default: `maxAgeSeconds`.
   */
  idleTimeoutSeconds?: number;
  /** Clock in milliseconds since the epoch; replace it in tests. */
  now?: () => number;
}

/** The resolved, validated form of {@link SessionCookieOptions}. */
export interface SessionCookieConfig {
  secrets: readonly string[];
  strategy: SessionStrategyName;
  secureCookies: boolean;
  cookieName: string;
  maxAgeSeconds: number;
  absoluteMaxAgeSeconds: number;
  idleTimeoutSeconds: number;
  now: () => number;
}

/** Validates session options. Throws a `ConfigurationError` that says how to fix a mistake. */
export function resolveSessionConfig(options: SessionCookieOptions): SessionCookieConfig {
  const secrets = (typeof options.secret === "string" ? [options.secret] : [...(options.secret ?? [])]).filter(
    (s) => typeof s === "string",
  );
  if (secrets.length === 0) {
    throw new ConfigurationError(
      "Gatehouse needs a secret. Set GATEHOUSE_SECRET to a random string of at least 32 characters (npx gatehouse secret prints one).",
    );
  }
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH) {
      throw new ConfigurationError(
        `Every Gatehouse secret must be at least ${MIN_SECRET_LENGTH} characters long (one is ${secret.length}). Run npx gatehouse secret to make one.`,
      );
    }
  }
  const strategy = options.strategy ?? "database";
  if (strategy !== "database" && strategy !== "stateless") {
    throw new ConfigurationError(`Unknown session strategy "${String(strategy)}". Use "database" or "stateless".`);
  }
  const maxAgeSeconds = options.maxAgeSeconds ?? 7 * DAY;
  const absoluteMaxAgeSeconds = options.absoluteMaxAgeSeconds ?? MAX_COOKIE_AGE_SECONDS;
  if (!Number.isInteger(maxAgeSeconds) || maxAgeSeconds <= 0 || maxAgeSeconds > MAX_COOKIE_AGE_SECONDS) {
    throw new ConfigurationError(
      `maxAgeSeconds must be a whole number of seconds from 1 to ${MAX_COOKIE_AGE_SECONDS} (30 days).`,
    );
  }
  if (!Number.isInteger(absoluteMaxAgeSeconds) || absoluteMaxAgeSeconds < maxAgeSeconds) {
    throw new ConfigurationError("absoluteMaxAgeSeconds must be a whole number of seconds, at least maxAgeSeconds.");
  }
  const idleTimeoutSeconds = options.idleTimeoutSeconds ?? maxAgeSeconds;
  if (!Number.isInteger(idleTimeoutSeconds) || idleTimeoutSeconds < 60 || idleTimeoutSeconds > absoluteMaxAgeSeconds) {
    throw new ConfigurationError(
      "idleTimeoutSeconds must be a whole number of seconds from 60 to absoluteMaxAgeSeconds.",
    );
  }
  const cookieName = options.cookieName ?? "gatehouse.session";
  if (!/^[A-Za-z0-9._-]+$/.test(cookieName) || cookieName.startsWith("__")) {
    throw new ConfigurationError(
      `Cookie name "${cookieName}" must use letters, digits, ".", "_" or "-" and not start with "__".`,
    );
  }
  return {
    secrets,
    strategy,
    secureCookies: options.secureCookies ?? process.env.NODE_ENV === "production",
    cookieName,
    maxAgeSeconds,
    absoluteMaxAgeSeconds,
    idleTimeoutSeconds,
    now: options.now ?? Date.now,
  };
}

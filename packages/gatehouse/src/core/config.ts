import { type RolePermissions, resolveRoles } from "../authz/roles.js";
import { ConfigurationError } from "../errors.js";
import type { Mailer } from "../mail/mailer.js";
import { type Argon2Params, OWASP_ARGON2ID } from "../password/hasher.js";
import { DEFAULT_PASSWORD_POLICY, type PasswordPolicy } from "../password/policy.js";
import { DEFAULT_RATE_LIMITS, type RateLimitOptions, type ResolvedRateLimits } from "./rate-limit.js";

/** Options for {@link createGatehouse}'s password handling and roles, on top of the session options. */
export interface CredentialOptions {
  /**
   * The app's public origin, e.g. `https://app.example.com` (`GATEHOUSE_URL`). State-changing requests must
   * come from it (CSRF); it is never taken from the request's `Host`.
   */
  url?: string;
  /** More origins allowed to send state-changing requests. */
  trustedOrigins?: readonly string[];
  /**
   * How many reverse proxies in front of the app append to `X-Forwarded-For`. Default 0: the header is
   * ignored and the socket's address is the client's. Set it only when every request passes those proxies.
   */
  trustedProxies?: number;
  /** Brute-force limits. */
  rateLimits?: RateLimitOptions;
  /** How recent a log-in must be for account deletion without the password, in seconds. Default 600. */
  freshAuthSeconds?: number;
  /** Length rules. Default 8 to 256 characters. */
  password?: Partial<PasswordPolicy>;
  /** argon2id costs. Default OWASP's m=19456 KiB, t=2, p=1. Changing them rehashes each password at its next log-in. */
  argon2?: Argon2Params;
  /** Extra roles, or replacements for the built-in `user` and `admin` permission lists. */
  roles?: RolePermissions;
  /** Role given at sign-up. Default `"user"`. */
  defaultRole?: string;
  /**
   * Sends verification, password-reset and notice emails (`createSmtpMailer` from `gatehouse/mail`). Without
   * one, the routes that must send mail answer 503 `mail_unavailable`. Needs `url`: links are built on it.
   */
  mailer?: Mailer;
  /** Unverified users cannot log in: they get 403 `email_unverified` (and a fresh link). Default `false`. */
  requireEmailVerification?: boolean;
  /** How addresses are verified. */
  emailVerification?: {
    /** `"link"` (default) sends a one-time link; `"code"` an 8-digit code, limited to 10 tries an hour. */
    method?: "link" | "code";
    /** How long a link or code is valid, in seconds. Default 86400 (24 hours). */
    lifetimeSeconds?: number;
  };
  /** How long a password-reset link is valid, in seconds. Default 3600 (1 hour). */
  passwordResetLifetimeSeconds?: number;
  /** Paths of the pages that email links open, on `url`. Default `/verify-email` and `/reset-password`. */
  emailLinks?: { verifyEmail?: string; resetPassword?: string };
  /** The app's name, used in email subjects and text. Default `"Gatehouse"`. */
  appName?: string;
}

/** Resolved email options. */
export interface EmailConfig {
  mailer: Mailer | null;
  requireVerification: boolean;
  verificationMethod: "link" | "code";
  verificationLifetimeSeconds: number;
  resetLifetimeSeconds: number;
  /** Absolute URLs of the pages that links open (a `token` query parameter is added). */
  verifyEmailUrl: string | null;
  resetPasswordUrl: string | null;
  appName: string;
}

/** Resolved password and role options. */
export interface CredentialConfig {
  /** The app's public URL (`url`), when configured: passkeys are bound to its host and origin. */
  url: URL | null;
  origins: ReadonlySet<string>;
  trustedProxies: number;
  rateLimits: ResolvedRateLimits;
  freshAuthSeconds: number;
  passwordPolicy: PasswordPolicy;
  argon2: Argon2Params;
  roles: RolePermissions;
  defaultRole: string;
  email: EmailConfig;
}

/**
 * The origins of configured URLs (`https://app.example/` → `https://app.example`), skipping `undefined`;
 * anything that is not a URL is a `ConfigurationError` whose message `problem` words.
 */
export function originsOf(urls: readonly unknown[], problem: (url: string) => string): Set<string> {
  const origins = new Set<string>();
  for (const url of urls) {
    if (url === undefined) continue;
    if (typeof url !== "string" || !URL.canParse(url)) throw new ConfigurationError(problem(String(url)));
    origins.add(new URL(url).origin);
  }
  return origins;
}

function positiveSeconds(value: number | undefined, fallback: number, name: string): number {
  const seconds = value ?? fallback;
  if (!Number.isInteger(seconds) || seconds < 60)
    throw new ConfigurationError(`${name} must be a whole number of seconds, at least 60.`);
  return seconds;
}

function resolveEmailConfig(options: CredentialOptions): EmailConfig {
  const method = options.emailVerification?.method ?? "link";
  if (method !== "link" && method !== "code") {
    throw new ConfigurationError(`emailVerification.method must be "link" or "code", not "${String(method)}".`);
  }
  if (options.mailer && !options.url) {
    throw new ConfigurationError(
      "Set url (GATEHOUSE_URL) when a mailer is configured: email links are built on it, never on the request's Host.",
    );
  }
  const links = { verifyEmail: "/verify-email", resetPassword: "/reset-password", ...options.emailLinks };
  for (const [name, path] of Object.entries(links)) {
    if (typeof path !== "string" || !path.startsWith("/") || path.startsWith("//")) {
      throw new ConfigurationError(`emailLinks.${name} must be a path on the app, like /verify-email.`);
    }
  }
  const link = (path: string) => (options.url ? new URL(path, options.url).href : null);
  return {
    mailer: options.mailer ?? null,
    requireVerification: options.requireEmailVerification ?? false,
    verificationMethod: method,
    verificationLifetimeSeconds: positiveSeconds(
      options.emailVerification?.lifetimeSeconds,
      24 * 60 * 60,
      "emailVerification.lifetimeSeconds",
    ),
    resetLifetimeSeconds: positiveSeconds(
      options.passwordResetLifetimeSeconds,
      60 * 60,
      "passwordResetLifetimeSeconds",
    ),
    verifyEmailUrl: link(links.verifyEmail),
    resetPasswordUrl: link(links.resetPassword),
    appName: options.appName ?? "Gatehouse",
  };
}

/** Validates credential options. */
export function resolveCredentialConfig(options: CredentialOptions): CredentialConfig {
  const passwordPolicy = { ...DEFAULT_PASSWORD_POLICY, ...options.password };
  if (
    passwordPolicy.minLength < 1 ||
    passwordPolicy.maxLength < 64 ||
    passwordPolicy.minLength > passwordPolicy.maxLength
  ) {
    throw new ConfigurationError(
      "password.minLength must be at least 1 and password.maxLength at least 64 and not below minLength.",
    );
  }
  const roles = resolveRoles(options.roles);
  const defaultRole = options.defaultRole ?? "user";
  if (!Object.hasOwn(roles, defaultRole)) {
    throw new ConfigurationError(
      `defaultRole "${defaultRole}" is not one of the roles: ${Object.keys(roles).join(", ")}.`,
    );
  }
  const origins = originsOf(
    [options.url, ...(options.trustedOrigins ?? [])],
    (url) => `"${url}" is not a URL. Set url (GATEHOUSE_URL) to the app's public origin, like https://app.example.com.`,
  );
  const trustedProxies = options.trustedProxies ?? 0;
  if (!Number.isInteger(trustedProxies) || trustedProxies < 0) {
    throw new ConfigurationError("trustedProxies must be a whole number (0 when no proxy appends X-Forwarded-For).");
  }
  const rateLimits = { ...DEFAULT_RATE_LIMITS, ...options.rateLimits };
  for (const [name, rule] of Object.entries(rateLimits)) {
    if (
      rule !== false &&
      !(Number.isInteger(rule.max) && rule.max > 0 && Number.isInteger(rule.windowSeconds) && rule.windowSeconds > 0)
    ) {
      throw new ConfigurationError(
        `rateLimits.${name} must be false or { max, windowSeconds } with positive whole numbers.`,
      );
    }
  }
  const freshAuthSeconds = options.freshAuthSeconds ?? 600;
  return {
    url: options.url === undefined ? null : new URL(options.url),
    passwordPolicy,
    argon2: options.argon2 ?? OWASP_ARGON2ID,
    roles,
    defaultRole,
    origins,
    trustedProxies,
    rateLimits,
    freshAuthSeconds,
    email: resolveEmailConfig(options),
  };
}

import { serialize } from "cookie";
import { sha256Hex } from "../crypto/digest.js";
import { randomToken } from "../crypto/random.js";
import type { SessionCookieConfig } from "../session/config.js";
import { readCookie } from "../session/cookie.js";
import type { ChallengePurpose, ChallengeRecord, FactorStore } from "../stores/types.js";

/** How long a pending log-in or a WebAuthn challenge lives: 5 minutes. */
export const CEREMONY_SECONDS = 5 * 60;
/** 24 random bytes (192 bits): the handle a cookie carries; only its SHA-256 is stored. */
const HANDLE_BYTES = 24;
const HANDLE = /^[A-Za-z0-9_-]{32}$/;

/**
 * A short-lived cookie naming a single-use record of the store: the pending log-in between a password and
 * its second step, or a WebAuthn challenge. The cookie grants nothing by itself; the record it names is used
 * up by the step that completes it.
 */
export interface CeremonyCookie {
  readonly name: string;
  /** The handle the request's cookie carries, or `null` when it carries none that could be one. */
  read(cookieHeader: string | null | undefined): string | null;
  /**
   * Stores a new record for `purpose` and resolves to its handle and the `Set-Cookie` that hands it to the
   * browser (HttpOnly, SameSite=Lax, 5 minutes).
   */
  issue(record: {
    purpose: ChallengePurpose;
    userId: string | null;
    challenge: string;
    revocationEpoch: number;
  }): Promise<{ handle: string; setCookie: string }>;
  /** A `Set-Cookie` that deletes the cookie. */
  clear(): string;
}

/** The stored key of a handle. */
export function handleHash(handle: string): string {
  return sha256Hex(`ceremony:${handle}`);
}

/** Whether a stored record is still within its life at `now`. */
export function isLive(record: ChallengeRecord, now: number): boolean {
  return record.expiresAt.getTime() > now;
}

/**
 * `gatehouse.session` → `gatehouse.<suffix>`, with `__Host-` (and `Secure`) where the session cookie has it:
 * these cookies follow the session cookie's rules.
 */
export function ceremonyCookieName(config: SessionCookieConfig, suffix: "mfa" | "challenge" | "oauth"): string {
  const base = `${config.cookieName.replace(/\.session$/, "")}.${suffix}`;
  return config.secureCookies ? `__Host-${base}` : base;
}

/** A {@link CeremonyCookie} named after the session cookie (see {@link ceremonyCookieName}). */
export function createCeremonyCookie(
  config: SessionCookieConfig,
  store: Pick<FactorStore, "createChallenge">,
  suffix: "mfa" | "challenge",
): CeremonyCookie {
  const name = ceremonyCookieName(config, suffix);
  const options = { httpOnly: true, sameSite: "lax", path: "/", secure: config.secureCookies } as const;
  return {
    name,
    read(cookieHeader) {
      const value = readCookie(cookieHeader, name);
      return value && HANDLE.test(value) ? value : null;
    },
    async issue(record) {
      const handle = randomToken(HANDLE_BYTES);
      const now = config.now();
      await store.createChallenge({
        ...record,
        idHash: handleHash(handle),
        createdAt: new Date(now),
        expiresAt: new Date(now + CEREMONY_SECONDS * 1000),
      });
      return { handle, setCookie: serialize(name, handle, { ...options, maxAge: CEREMONY_SECONDS }) };
    },
    clear: () => serialize(name, "", { ...options, maxAge: 0 }),
  };
}

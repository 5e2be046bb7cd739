import { parse, serialize } from "cookie";
import { MAX_COOKIE_AGE_SECONDS, type SessionCookieConfig } from "./config.js";

/** Browsers drop cookies over 4096 bytes; a value this long is not one of ours. */
const MAX_COOKIE_VALUE_LENGTH = 4096;

/** Reads and writes the session cookie: HttpOnly, SameSite=Lax, Path=/, explicit Max-Age; Secure + `__Host-` in production. */
export interface SessionCookie {
  readonly name: string;
  /** The session cookie's value from a `Cookie` header, or `null` when absent or oversized. */
  read(cookieHeader: string | null | undefined): string | null;
  /** A `Set-Cookie` value that stores `value` until `expiresAt`. */
  serialize(value: string, expiresAt: Date): string;
  /** A `Set-Cookie` value that deletes the cookie. */
  clear(): string;
}

/** The value of cookie `name` in a `Cookie` header, or `null` when absent or too long to be one of ours. */
export function readCookie(cookieHeader: string | null | undefined, name: string): string | null {
  if (!cookieHeader?.includes(name)) return null;
  const value = parse(cookieHeader)[name];
  return value && value.length <= MAX_COOKIE_VALUE_LENGTH ? value : null;
}

export function createSessionCookie(config: SessionCookieConfig): SessionCookie {
  const name = config.secureCookies ? `__Host-${config.cookieName}` : config.cookieName;
  const base = { httpOnly: true, sameSite: "lax", path: "/", secure: config.secureCookies } as const;
  return {
    name,
    read: (cookieHeader) => readCookie(cookieHeader, name),
    serialize(value, expiresAt) {
      const seconds = Math.floor((expiresAt.getTime() - config.now()) / 1000);
      const maxAge = Math.max(0, Math.min(seconds, MAX_COOKIE_AGE_SECONDS));
      return serialize(name, value, { ...base, maxAge });
    },
    clear() {
      return serialize(name, "", { ...base, maxAge: 0 });
    },
  };
}

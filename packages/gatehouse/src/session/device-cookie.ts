import { serialize } from "cookie";
import { sha256Hex } from "../crypto/digest.js";
import { randomToken } from "../crypto/random.js";
import type { Sealer } from "../crypto/seal.js";
import { readCookie } from "./cookie.js";

/** The purpose device cookies are sealed for: a session key never opens one, nor the other way round. */
export const DEVICE_SEAL_PURPOSE = "device";
/** How long a browser stays a known device of an account, in seconds (browsers keep a cookie 400 days at most). */
export const DEVICE_COOKIE_MAX_AGE_SECONDS = 365 * 24 * 60 * 60;
const DEVICE_ID_BYTES = 12;

/** What a device cookie carries, sealed: the device's id, the user's id, their password's fingerprint, issued at (s). */
interface DevicePayload {
  d: string;
  u: string;
  p: string;
  i: number;
}

/** The account a device cookie is for: a user, under the password they had when it was issued. */
export interface DeviceAccount {
  id: string;
  /** `null` for an account without a password: its device cookies are void once it sets one. */
  passwordHash: string | null;
}

/**
 * A short fingerprint of the stored password hash. A cookie issued under one password is void under the
 * next: whoever collected device cookies while they knew it gains nothing once it has changed.
 */
function passwordFingerprint(passwordHash: string | null): string {
  return sha256Hex(`device:${passwordHash ?? ""}`).slice(0, 32);
}

/**
 * The device cookie (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"): a sealed, HttpOnly
 * cookie that a successful log-in leaves, naming the account and its current password. A later password
 * check for that account from this browser is counted against the device's own budget, so guesses from
 * elsewhere cannot lock it out.
 */
export interface DeviceCookie {
  readonly name: string;
  /** The device cookie's value from a `Cookie` header, or `null`. */
  read(cookieHeader: string | null | undefined): string | null;
  /**
   * The device id of a genuine, unexpired device cookie `value` for this user under their current
   * password; otherwise `null`.
   */
  deviceFor(value: string | null | undefined, account: DeviceAccount): Promise<string | null>;
  /** A `Set-Cookie` value that makes this browser a known device of the user's, under their current password. */
  issue(account: DeviceAccount): Promise<string>;
}

/** What the device cookie takes from the session configuration (a resolved `SessionCookieConfig` is one). */
export interface DeviceCookieConfig {
  cookieName: string;
  secureCookies: boolean;
  now: () => number;
}

/** `gatehouse.session` → `gatehouse.device`; another name gets `.device` appended. */
function deviceCookieName(config: DeviceCookieConfig): string {
  const name = `${config.cookieName.replace(/\.session$/, "")}.device`;
  return config.secureCookies ? `__Host-${name}` : name;
}

export function createDeviceCookie(config: DeviceCookieConfig, sealer: Sealer): DeviceCookie {
  const name = deviceCookieName(config);
  const options = { httpOnly: true, sameSite: "lax", path: "/", secure: config.secureCookies } as const;
  return {
    name,
    read: (cookieHeader) => readCookie(cookieHeader, name),
    async deviceFor(value, account) {
      if (!value) return null;
      const payload = (await sealer.open(value)) as Partial<DevicePayload> | null;
      if (typeof payload !== "object" || payload === null) return null;
      const { d, u, p, i } = payload;
      // The payload is authenticated: comparing its fields needs no constant time.
      if (typeof d !== "string" || d.length === 0 || d.length > 64 || !Number.isSafeInteger(i)) return null;
      if (u !== account.id || p !== passwordFingerprint(account.passwordHash)) return null;
      return ((i as number) + DEVICE_COOKIE_MAX_AGE_SECONDS) * 1000 > config.now() ? d : null;
    },
    async issue(account) {
      const payload: DevicePayload = {
        d: randomToken(DEVICE_ID_BYTES),
        u: account.id,
        p: passwordFingerprint(account.passwordHash),
        i: Math.floor(config.now() / 1000),
      };
      return serialize(name, await sealer.seal(payload), { ...options, maxAge: DEVICE_COOKIE_MAX_AGE_SECONDS });
    },
  };
}

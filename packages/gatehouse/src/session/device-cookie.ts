import { parse, serialize } from "cookie";
import type { SessionCookieConfig } from "../core/config.js";
import { sha256Hex } from "../crypto/digest.js";
import { randomToken } from "../crypto/random.js";
import type { Sealer } from "../crypto/seal.js";

/** The purpose device cookies are sealed for: a session key never opens one, nor the other way round. */
export const DEVICE_SEAL_PURPOSE = "device";
/** How long a browser stays a known device of an account, in seconds (browsers keep a cookie 400 days at most). */
export const DEVICE_COOKIE_MAX_AGE_SECONDS = 365 * 24 * 60 * 60;
const DEVICE_ID_BYTES = 12;
const MAX_VALUE_LENGTH = 4096;

/** What a device cookie carries, sealed: the device's id, the account (SHA-256 of its email), issued at (s). */
interface DevicePayload {
  d: string;
  a: string;
  i: number;
}

/**
 * The device cookie (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"): a sealed, HttpOnly
 * cookie that a successful log-in leaves, naming the account. A later password check for that account from
 * this browser is counted against the device's own budget, so guesses from elsewhere cannot lock it out.
 */
export interface DeviceCookie {
  readonly name: string;
  /** The device cookie's value from a `Cookie` header, or `null`. */
  read(cookieHeader: string | null | undefined): string | null;
  /** The device id of a genuine, unexpired device cookie `value` for the account `email`; otherwise `null`. */
  deviceFor(value: string | null | undefined, email: string): Promise<string | null>;
  /** A `Set-Cookie` value that makes this browser a known device of `email`'s account. */
  issue(email: string): Promise<string>;
}

/** `gatehouse.session` → `gatehouse.device`; another name gets `.device` appended. */
function deviceCookieName(config: SessionCookieConfig): string {
  const name = `${config.cookieName.replace(/\.session$/, "")}.device`;
  return config.secureCookies ? `__Host-${name}` : name;
}

export function createDeviceCookie(config: SessionCookieConfig, sealer: Sealer): DeviceCookie {
  const name = deviceCookieName(config);
  const options = { httpOnly: true, sameSite: "lax", path: "/", secure: config.secureCookies } as const;
  return {
    name,
    read(cookieHeader) {
      if (!cookieHeader || !cookieHeader.includes(name)) return null;
      const value = parse(cookieHeader)[name];
      return value && value.length <= MAX_VALUE_LENGTH ? value : null;
    },
    async deviceFor(value, email) {
      if (!value) return null;
      const payload = (await sealer.open(value)) as Partial<DevicePayload> | null;
      if (typeof payload !== "object" || payload === null) return null;
      const { d, a, i } = payload;
      if (typeof d !== "string" || d.length === 0 || d.length > 64 || a !== sha256Hex(email) || !Number.isSafeInteger(i)) return null;
      return ((i as number) + DEVICE_COOKIE_MAX_AGE_SECONDS) * 1000 > config.now() ? d : null;
    },
    async issue(email) {
      const payload: DevicePayload = { d: randomToken(DEVICE_ID_BYTES), a: sha256Hex(email), i: Math.floor(config.now() / 1000) };
      return serialize(name, await sealer.seal(payload), { ...options, maxAge: DEVICE_COOKIE_MAX_AGE_SECONDS });
    },
  };
}

import { sha256Hex } from "../crypto/digest.js";
import { RateLimitedError } from "../errors.js";
import type { Store } from "../store/types.js";
import type { RateLimitRule } from "./rate-limit.js";

/** Counter keys. The email is hashed so the counters table holds no addresses. */
export const rateLimitKeys = {
  loginIp: (ip: string) => `login-ip:${ip}`,
  loginAccount: (email: string, ip: string) => `login-account:${sha256Hex(email)}:${ip}`,
  loginAccountAnyIp: (email: string) => `login-account:${sha256Hex(email)}`,
  signupIp: (ip: string) => `signup-ip:${ip}`,
  resetEmail: (email: string) => `reset-email:${sha256Hex(email)}`,
  resetIp: (ip: string) => `reset-ip:${ip}`,
  verificationEmail: (userId: string) => `verify-send:${userId}`,
  verificationCode: (email: string) => `verify-code:${sha256Hex(email)}`,
  emailChange: (userId: string) => `email-change:${userId}`,
};

/** Counts and checks events against rules; throws `RateLimitedError` with the time to wait. */
export interface RateLimiter {
  /** Counts one event and throws when it goes over the rule. */
  hit(rule: RateLimitRule | false, key: string): Promise<void>;
  reset(rule: RateLimitRule | false, key: string): Promise<void>;
  /** Clears `prefix` and every counter under it (e.g. an account's log-in counters for every IP). */
  resetFamily(prefix: string): Promise<void>;
}

export function createRateLimiter(store: Store, now: () => number): RateLimiter {
  return {
    async hit(rule, key) {
      if (!rule) return;
      const time = now();
      const window = await store.hitRateLimit(key, rule.windowSeconds * 1000, time);
      if (window.count > rule.max) throw new RateLimitedError((window.resetAt - time) / 1000);
    },
    async reset(rule, key) {
      if (rule) await store.resetRateLimit(key);
    },
    resetFamily: (prefix) => store.resetRateLimitFamily(prefix),
  };
}

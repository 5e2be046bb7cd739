import ipaddr from "ipaddr.js";
import { sha256Hex } from "../crypto/digest.js";
import { RateLimitedError } from "../errors.js";
import type { AttemptWindow, RateLimitStore, ReservedAttempt, WriteBatch } from "../stores/types.js";
import type { RateLimitRule } from "./rate-limit.js";

/**
 * The address a per-IP limit counts: an IPv4 address as it is (an IPv4-mapped IPv6 one as IPv4), an IPv6
 * address as its /64 — one subscriber usually holds a whole /64 and can pick any address in it. A zone
 * is dropped; anything that is not an address counts as `unknown`.
 */
export function addressGroup(ip: string): string {
  // A zone (`fe80::1%eth0`) names the sender's own interface, not another address.
  const bare = ip.split("%", 1)[0] as string;
  // Whatever cannot be read as an address shares one budget, rather than one per spelling.
  if (!ipaddr.isValid(bare)) return "unknown";
  const address = ipaddr.process(bare);
  if (address.kind() === "ipv4") return address.toString();
  const prefix = (address as ipaddr.IPv6).parts.slice(0, 4);
  return `${new ipaddr.IPv6([...prefix, 0, 0, 0, 0]).toString()}/64`;
}

/** Counter keys. The email is hashed so the counters table holds no addresses. */
export const rateLimitKeys = {
  loginIp: (ip: string) => `login-ip:${addressGroup(ip)}`,
  loginAccount: (email: string, ip: string) => `login-account:${sha256Hex(email)}:${addressGroup(ip)}`,
  loginAccountAnyIp: (email: string) => `login-account:${sha256Hex(email)}`,
  loginAccountDaily: (email: string) => `login-account-day:${sha256Hex(email)}`,
  loginDevice: (deviceId: string) => `login-device:${deviceId}`,
  signupIp: (ip: string) => `signup-ip:${addressGroup(ip)}`,
  resetEmail: (email: string) => `reset-email:${sha256Hex(email)}`,
  resetIp: (ip: string) => `reset-ip:${addressGroup(ip)}`,
  verificationEmail: (userId: string) => `verify-send:${userId}`,
  verificationCode: (email: string) => `verify-code:${sha256Hex(email)}`,
  verificationCodeIp: (ip: string) => `verify-code-ip:${addressGroup(ip)}`,
  emailChange: (userId: string) => `email-change:${userId}`,
  secondFactorLogin: (pendingIdHash: string) => `mfa-login:${pendingIdHash}`,
  secondFactorAccount: (userId: string) => `mfa-account:${userId}`,
  secondFactorAccountDaily: (userId: string) => `mfa-account-day:${userId}`,
  secondFactorWarning: (pendingIdHash: string) => `mfa-warning:${pendingIdHash}`,
  passkeyOptionsIp: (ip: string) => `passkey-options-ip:${addressGroup(ip)}`,
  oauthIp: (ip: string) => `oauth-ip:${addressGroup(ip)}`,
  revokeOthers: (userId: string) => `revoke-others:${userId}`,
};

/**
 * The four counters of a password check for `email` from `ip`, as {@link rateLimitKeys} names them, with the
 * address hashed and the IP read once: this is on every log-in.
 */
export function loginKeys(email: string, ip: string): { ip: string; pair: string; account: string; day: string } {
  const account = sha256Hex(email);
  const group = addressGroup(ip);
  return {
    ip: `login-ip:${group}`,
    pair: `login-account:${account}:${group}`,
    account: `login-account:${account}`,
    day: `login-account-day:${account}`,
  };
}

/**
 * A per-address rule that spans accounts (all log-ins, sign-ups or resets from one address), or `false` (no
 * limit) where the client's address is unknown — an App Router request without `trustedProxies`, which has
 * no socket to read it from. One shared counter for every unknown address would let a single client use up
 * everybody's budget; the per-account limits still apply.
 */
export function perAddress(rule: RateLimitRule | false, ip: string | null | undefined): RateLimitRule | false {
  return ip ? rule : false;
}

/** One budget an attempt is counted against: a rule and the counter it applies to. */
export interface Budget {
  rule: RateLimitRule | false;
  key: string;
}

/** Where settling is written: the rate-limit store, or a write batch that is committed later. */
export type SettleTarget = Pick<RateLimitStore, "settleAttempts"> | Pick<WriteBatch, "settleAttempts">;

/** Attempts reserved before a password hash, to be settled once its outcome is known. */
export interface Reservation {
  /**
   * The password was right: the attempts are released (they do not count), and the counters of `reset` cleared.
   * With `into` (a write batch), the writes join it, to be committed with what follows the check.
   */
  succeeded(options?: { reset?: readonly Budget[]; into?: SettleTarget }): Promise<void>;
  /** The password was wrong: the attempts stay counted. */
  failed(): Promise<void>;
}

/** Counts and checks events against rules; throws `RateLimitedError` with the time to wait. */
export interface RateLimiter {
  /** Counts one event and throws when it goes over the rule. */
  hit(rule: RateLimitRule | false, key: string): Promise<void>;
  /**
   * Reserves one attempt in each budget, in order, before the work they limit. A budget that is full of
   * failures refuses (`RateLimitedError`); one that is full only because of attempts still in flight is
   * waited on (bounded), so a burst of right passwords is not refused. A refused attempt counts nowhere.
   */
  reserve(budgets: readonly Budget[]): Promise<Reservation>;
  reset(rule: RateLimitRule | false, key: string): Promise<void>;
  /** Clears `prefix` and every counter under it (e.g. an account's log-in counters for every IP). */
  resetFamily(prefix: string): Promise<void>;
}

/** How long a reservation waits for attempts in flight to settle, in real milliseconds. */
const MAX_WAIT_MS = 2_000;
/** How often it looks again meanwhile. */
const POLL_MS = 25;
/** Expired counters, tokens and sessions are swept at most this often per process, in clock milliseconds. */
const SWEEP_INTERVAL_MS = 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createRateLimiter(
  store: RateLimitStore,
  now: () => number,
  sweepExpired: (now: number) => Promise<void>,
): RateLimiter {
  let lastSweep = Number.NEGATIVE_INFINITY;

  /** Counter writes are where expired rows pile up, so they carry the sweep: once a minute, off the request. */
  function sweepNow(time: number): void {
    if (time - lastSweep < SWEEP_INTERVAL_MS) return;
    lastSweep = time;
    sweepExpired(time).catch((error: unknown) => {
      console.error("gatehouse: sweeping expired rows failed:", error instanceof Error ? error.message : error);
    });
  }

  /**
   * Reserves one place in each budget, all in one step, waiting for settling attempts until `deadline`; throws
   * when refused. A budget that is over its limit gives every place back: a refused attempt counts nowhere.
   */
  async function reserveAll(budgets: ReadonlyArray<{ rule: RateLimitRule; key: string }>, deadline: number) {
    const requests = budgets.map(({ rule, key }) => ({ key, windowMs: rule.windowSeconds * 1000 }));
    for (;;) {
      const time = now();
      const windows = await store.reserveAttempts(requests, time);
      const reserved = budgets.map(({ key }, i) => ({ key, resetAt: (windows[i] as AttemptWindow).resetAt }));
      const full = budgets.flatMap(({ rule }, i) => ((windows[i] as AttemptWindow).count > rule.max ? [i] : []));
      if (full.length === 0) return reserved;
      await store.settleAttempts(reserved, false);
      // Without this attempt: how many failed, and how many are still in flight and may yet be released. The
      // first budget in order that is full of failures refuses (the day's before the 15 minutes: Retry-After
      // names the longer wait).
      const refusing = full.find((i) => {
        const window = windows[i] as AttemptWindow;
        return window.count - window.pending >= (budgets[i] as { rule: RateLimitRule }).rule.max;
      });
      if (refusing !== undefined || performance.now() >= deadline) {
        const window = windows[refusing ?? (full[0] as number)] as AttemptWindow;
        throw new RateLimitedError((window.resetAt - time) / 1000);
      }
      await sleep(POLL_MS);
    }
  }

  return {
    async hit(rule, key) {
      if (!rule) return;
      const time = now();
      sweepNow(time);
      const window = await store.hitRateLimit(key, rule.windowSeconds * 1000, time);
      if (window.count > rule.max) throw new RateLimitedError((window.resetAt - time) / 1000);
    },

    async reserve(budgets) {
      sweepNow(now());
      // Real time, not the injectable clock: this bounds how long a request is held.
      const deadline = performance.now() + MAX_WAIT_MS;
      const limited = budgets.filter((budget): budget is { rule: RateLimitRule; key: string } => budget.rule !== false);
      const reserved: ReservedAttempt[] = limited.length === 0 ? [] : await reserveAll(limited, deadline);
      let settled = false;
      const settle = async (failed: boolean, reset: readonly Budget[], into: SettleTarget = store) => {
        if (settled) return;
        settled = true;
        // A counter about to be cleared needs no settling first.
        const clear = new Set(reset.filter(({ rule }) => rule).map(({ key }) => key));
        await into.settleAttempts(
          reserved.filter(({ key }) => !clear.has(key)),
          failed,
          { clear: [...clear] },
        );
      };
      return {
        succeeded: (options = {}) => settle(false, options.reset ?? [], options.into),
        failed: () => settle(true, []),
      };
    },

    async reset(rule, key) {
      if (rule) await store.resetRateLimit(key);
    },

    resetFamily: (prefix) => store.resetRateLimitFamily(prefix),
  };
}

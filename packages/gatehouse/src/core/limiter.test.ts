import { describe, expect, it } from "vitest";
import { RateLimitedError } from "../errors.js";
import { errorResponse } from "../http/response.js";
import type { AttemptWindow, Store } from "../stores/types.js";
import { addressGroup, createRateLimiter, loginKeys, rateLimitKeys } from "./limiter.js";

/** Just the counter calls of a Store, in memory, following the store contract; records each call. */
function counterStore(): { store: Store; calls: string[]; windows: Map<string, AttemptWindow>; sweeps: number[] } {
  const windows = new Map<string, AttemptWindow>();
  const calls: string[] = [];
  const sweeps: number[] = [];
  const reserve = (key: string, windowMs: number, now: number) => {
    calls.push(`reserve ${key}`);
    const current = windows.get(key);
    const next =
      current && current.resetAt > now
        ? { ...current, count: current.count + 1, pending: current.pending + 1 }
        : { count: 1, pending: 1, resetAt: now + windowMs };
    windows.set(key, next);
    return next;
  };
  const store = {
    async reserveAttempts(requests: Array<{ key: string; windowMs: number }>, now: number) {
      return requests.map(({ key, windowMs }) => reserve(key, windowMs, now));
    },
    async settleAttempts(
      attempts: Array<{ key: string; resetAt: number }>,
      failed: boolean,
      options: { clear?: string[] } = {},
    ) {
      for (const { key, resetAt } of attempts) {
        calls.push(`settle ${key} ${failed ? "failed" : "released"}`);
        const current = windows.get(key);
        if (!current || current.resetAt !== resetAt) continue;
        windows.set(key, {
          ...current,
          pending: Math.max(0, current.pending - 1),
          count: failed ? current.count : Math.max(0, current.count - 1),
        });
      }
      for (const key of options.clear ?? []) {
        calls.push(`clear ${key}`);
        windows.delete(key);
      }
    },
    async sweepExpired(now: number) {
      sweeps.push(now);
    },
    async hitRateLimit(key: string, windowMs: number, now: number) {
      calls.push(`hit ${key}`);
      const current = windows.get(key);
      const next =
        current && current.resetAt > now
          ? { ...current, count: current.count + 1 }
          : { count: 1, pending: 0, resetAt: now + windowMs };
      windows.set(key, next);
      return next;
    },
    async peekRateLimit(key: string, now: number) {
      calls.push(`peek ${key}`);
      const current = windows.get(key);
      return current && current.resetAt > now ? current : null;
    },
    async resetRateLimit(key: string) {
      calls.push(`reset ${key}`);
      windows.delete(key);
    },
  } as unknown as Store;
  return { store, calls, windows, sweeps };
}

async function rejection(promise: Promise<unknown>): Promise<RateLimitedError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(RateLimitedError);
    return error as RateLimitedError;
  }
  throw new Error("expected a RateLimitedError");
}

const RULE = { max: 3, windowSeconds: 60 };

describe("createRateLimiter", () => {
  it("hit lets max hits through and throws on the next, with the seconds left in the window", async () => {
    let now = 1_000_000;
    const { store } = counterStore();
    const limiter = createRateLimiter(store, () => now, store.sweepExpired);
    for (let i = 0; i < 3; i++) await limiter.hit(RULE, "k");
    now += 10_500;
    const error = await rejection(limiter.hit(RULE, "k"));
    expect(error.retryAfterSeconds).toBe(50);
    expect(error.code).toBe("rate_limited");
  });

  it("lifts the limit when the window ends", async () => {
    let now = 0;
    const { store } = counterStore();
    const limiter = createRateLimiter(store, () => now, store.sweepExpired);
    for (let i = 0; i < 3; i++) await limiter.hit(RULE, "k");
    await rejection(limiter.hit(RULE, "k"));
    now = 60_000;
    await limiter.hit(RULE, "k");
  });

  it("reset deletes the counter", async () => {
    const { store, windows } = counterStore();
    const limiter = createRateLimiter(store, () => 0, store.sweepExpired);
    for (let i = 0; i < 3; i++) await limiter.hit(RULE, "k");
    await limiter.reset(RULE, "k");
    expect(windows.has("k")).toBe(false);
    await limiter.hit(RULE, "k");
    expect(windows.get("k")?.count).toBe(1);
  });

  it("a rule turned off (false) never touches the store", async () => {
    const { store, calls } = counterStore();
    const limiter = createRateLimiter(store, () => 0, store.sweepExpired);
    for (let i = 0; i < 50; i++) {
      await limiter.hit(false, "k");
    }
    await limiter.reset(false, "k");
    expect(calls).toEqual([]);
  });

  it("rounds Retry-After up to whole seconds, at least 1, and sends it as a header", () => {
    expect(new RateLimitedError(0.2).retryAfterSeconds).toBe(1);
    expect(new RateLimitedError(0).retryAfterSeconds).toBe(1);
    expect(new RateLimitedError(899.01).retryAfterSeconds).toBe(900);
    const response = errorResponse(new RateLimitedError(12.3));
    expect(response.status).toBe(429);
    expect(response.headers).toContainEqual(["Retry-After", "13"]);
    expect(JSON.parse(response.body as string)).toEqual({
      error: { code: "rate_limited", message: expect.any(String) },
    });
  });
});

describe("reserve: attempts that hold a place until they are settled", () => {
  const budget = (key: string) => ({ rule: RULE, key });

  it("lets max attempts in flight at once; a failure keeps its place, a success gives it back", async () => {
    const { store, windows } = counterStore();
    const limiter = createRateLimiter(store, () => 0, store.sweepExpired);
    const first = await limiter.reserve([budget("k")]);
    const second = await limiter.reserve([budget("k")]);
    const third = await limiter.reserve([budget("k")]);
    expect(windows.get("k")).toMatchObject({ count: 3, pending: 3 });
    await first.failed();
    await second.succeeded();
    expect(windows.get("k")).toMatchObject({ count: 2, pending: 1 });
    await third.failed();
    await limiter.reserve([budget("k")]);
    await rejection(limiter.reserve([budget("k")]));
    // The refused attempt counts nowhere.
    expect(windows.get("k")).toMatchObject({ count: 3, pending: 1 });
  });

  it("a success clears the counters it is told to, instead of settling them", async () => {
    const { store, windows, calls } = counterStore();
    const limiter = createRateLimiter(store, () => 0, store.sweepExpired);
    const attempt = await limiter.reserve([budget("kept"), budget("cleared"), { rule: false, key: "off" }]);
    calls.length = 0;
    await attempt.succeeded({ reset: [budget("cleared"), { rule: false, key: "off" }] });
    expect(calls).toEqual(["settle kept released", "clear cleared"]);
    expect(windows.has("cleared")).toBe(false);
    expect(windows.get("kept")).toMatchObject({ count: 0, pending: 0 });
  });

  it("settling twice counts once", async () => {
    const { store, windows } = counterStore();
    const limiter = createRateLimiter(store, () => 0, store.sweepExpired);
    const attempt = await limiter.reserve([budget("k")]);
    await attempt.succeeded();
    await attempt.failed();
    expect(windows.get("k")).toMatchObject({ count: 0, pending: 0 });
  });

  it("a budget full only of attempts in flight waits for them, and gets the place a success gives back", async () => {
    const { store } = counterStore();
    const limiter = createRateLimiter(store, () => 0, store.sweepExpired);
    const held = await Promise.all([1, 2, 3].map(() => limiter.reserve([budget("k")])));
    const waiting = limiter.reserve([budget("k")]);
    let settled = false;
    void waiting.then(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(settled).toBe(false);
    await held[0]?.failed();
    await held[1]?.succeeded();
    await expect(waiting).resolves.toBeDefined();
  });

  it("a budget whose places turn into failures while waiting refuses", async () => {
    const { store } = counterStore();
    const limiter = createRateLimiter(store, () => 0, store.sweepExpired);
    const held = await Promise.all([1, 2, 3].map(() => limiter.reserve([budget("k")])));
    const waiting = rejection(limiter.reserve([budget("k")]));
    for (const attempt of held) await attempt.failed();
    expect((await waiting).retryAfterSeconds).toBe(60);
  });

  it("reserves every budget in one step, in order, and a refusal gives every place back", async () => {
    const { store, windows, calls } = counterStore();
    const limiter = createRateLimiter(store, () => 0, store.sweepExpired);
    for (let i = 0; i < 3; i++) await (await limiter.reserve([budget("second")])).failed();
    calls.length = 0;
    await rejection(limiter.reserve([budget("first"), budget("second"), budget("third")]));
    expect(calls).toEqual([
      "reserve first",
      "reserve second",
      "reserve third",
      "settle first released",
      "settle second released",
      "settle third released",
    ]);
    expect(windows.get("first")).toMatchObject({ count: 0, pending: 0 });
    expect(windows.get("second")).toMatchObject({ count: 3, pending: 0 });
    expect(windows.get("third")).toMatchObject({ count: 0, pending: 0 });
  });

  it("sweeps expired rows at most once a minute of the clock, off the request", async () => {
    let now = 0;
    const { store, sweeps } = counterStore();
    const limiter = createRateLimiter(store, () => now, store.sweepExpired);
    for (let i = 0; i < 5; i++) await limiter.hit(RULE, `k${i}`);
    now = 59_999;
    await limiter.hit(RULE, "later");
    now = 60_000;
    await (await limiter.reserve([budget("k")])).failed();
    expect(sweeps).toEqual([0, 60_000]);
  });
});

describe("addressGroup", () => {
  it("keeps an IPv4 address, maps IPv4-mapped IPv6 to IPv4, and groups IPv6 by /64", () => {
    expect(addressGroup("192.0.2.1")).toBe("192.0.2.1");
    expect(addressGroup("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(addressGroup("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2::/64");
    expect(addressGroup("2001:0DB8:0001:0002:ffff::1")).toBe("2001:db8:1:2::/64");
    expect(addressGroup("2001:db8:1:3::1")).toBe("2001:db8:1:3::/64");
    expect(addressGroup("::1")).toBe("::/64");
  });

  it("drops a zone, so its spellings share the address's budget", () => {
    expect(addressGroup("fe80::1%eth0")).toBe("fe80::/64");
    expect(addressGroup("fe80::1%z-17")).toBe(addressGroup("fe80::2%z-18"));
    expect(addressGroup("192.0.2.1%1")).toBe("192.0.2.1");
  });

  it("counts whatever is not an address as one: unknown", () => {
    for (const value of ["unknown", "", "not an ip", "300.1.1.1", "::ffff:zz"])
      expect(addressGroup(value)).toBe("unknown");
  });
});

describe("rateLimitKeys", () => {
  it("hashes the email, so counters hold no address, and keeps accounts and IPs apart", () => {
    const key = rateLimitKeys.loginAccount("ada@example.com", "192.0.2.1");
    expect(key).toMatch(/^login-account:[0-9a-f]{64}:192\.0\.2\.1$/);
    expect(key).not.toContain("ada");
    expect(rateLimitKeys.loginAccount("ada@example.com", "192.0.2.2")).not.toBe(key);
    expect(rateLimitKeys.loginAccount("bob@example.com", "192.0.2.1")).not.toBe(key);
    expect(rateLimitKeys.loginIp("192.0.2.1")).toBe("login-ip:192.0.2.1");
    expect(rateLimitKeys.signupIp("192.0.2.1")).toBe("signup-ip:192.0.2.1");
  });

  it("counts every per-IP limit by the address's /64 for IPv6", () => {
    for (const key of [rateLimitKeys.loginIp, rateLimitKeys.signupIp, rateLimitKeys.resetIp]) {
      expect(key("2001:db8:5:6:aaaa::1")).toBe(key("2001:db8:5:6:bbbb::2"));
      expect(key("2001:db8:5:6::1")).not.toBe(key("2001:db8:5:7::1"));
    }
    expect(rateLimitKeys.loginAccount("ada@example.com", "2001:db8:5:6:aaaa::1")).toBe(
      rateLimitKeys.loginAccount("ada@example.com", "2001:db8:5:6:cccc::9"),
    );
  });
});

describe("loginKeys", () => {
  it("names the same counters as rateLimitKeys, for IPv4 and for an IPv6 /64", () => {
    for (const ip of ["203.0.113.7", "2001:db8:1:2:3:4:5:6", "::ffff:203.0.113.7", "not an address"]) {
      const email = "ada@example.com";
      expect(loginKeys(email, ip)).toEqual({
        ip: rateLimitKeys.loginIp(ip),
        pair: rateLimitKeys.loginAccount(email, ip),
        account: rateLimitKeys.loginAccountAnyIp(email),
        day: rateLimitKeys.loginAccountDaily(email),
      });
    }
  });
});

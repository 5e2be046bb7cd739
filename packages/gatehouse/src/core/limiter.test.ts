import { describe, expect, it } from "vitest";
import { RateLimitedError } from "../errors.js";
import { errorResponse } from "../http/response.js";
import type { RateLimitWindow, Store } from "../store/types.js";
import { createRateLimiter, rateLimitKeys } from "./limiter.js";

/** Just the counter calls of a Store, in memory, following the store contract; records each call. */
function counterStore(): { store: Store; calls: string[]; windows: Map<string, RateLimitWindow> } {
  const windows = new Map<string, RateLimitWindow>();
  const calls: string[] = [];
  const store = {
    async hitRateLimit(key: string, windowMs: number, now: number) {
      calls.push(`hit ${key}`);
      const current = windows.get(key);
      const next = current && current.resetAt > now ? { ...current, count: current.count + 1 } : { count: 1, resetAt: now + windowMs };
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
  return { store, calls, windows };
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
    const limiter = createRateLimiter(store, () => now);
    for (let i = 0; i < 3; i++) await limiter.hit(RULE, "k");
    now += 10_500;
    const error = await rejection(limiter.hit(RULE, "k"));
    expect(error.retryAfterSeconds).toBe(50);
    expect(error.status).toBe(429);
    expect(error.code).toBe("rate_limited");
  });

  it("lifts the limit when the window ends", async () => {
    let now = 0;
    const { store } = counterStore();
    const limiter = createRateLimiter(store, () => now);
    for (let i = 0; i < 3; i++) await limiter.hit(RULE, "k");
    await rejection(limiter.hit(RULE, "k"));
    now = 60_000;
    await limiter.hit(RULE, "k");
  });

  it("reset deletes the counter", async () => {
    const { store, windows } = counterStore();
    const limiter = createRateLimiter(store, () => 0);
    for (let i = 0; i < 3; i++) await limiter.hit(RULE, "k");
    await limiter.reset(RULE, "k");
    expect(windows.has("k")).toBe(false);
    await limiter.hit(RULE, "k");
    expect(windows.get("k")?.count).toBe(1);
  });

  it("a rule turned off (false) never touches the store", async () => {
    const { store, calls } = counterStore();
    const limiter = createRateLimiter(store, () => 0);
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
    expect(JSON.parse(response.body as string)).toEqual({ error: { code: "rate_limited", message: expect.any(String) } });
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
});

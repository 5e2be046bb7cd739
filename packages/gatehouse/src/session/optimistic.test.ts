import { describe, expect, it } from "vitest";
import { createSealer } from "../crypto/seal.js";
import { createOptimisticCheck } from "./optimistic.js";
import { SESSION_SEAL_PURPOSE } from "./stateless.js";

const secret = "s".repeat(40);
const now = Date.UTC(2026, 10, 1);

describe("createOptimisticCheck", () => {
  it("opens a stateless cookie and reports its session, user and expiry", async () => {
    const sealer = createSealer([secret], SESSION_SEAL_PURPOSE);
    const value = await sealer.seal({ s: "sid", u: "uid", c: now / 1000 - 10, e: now / 1000 + 60 });
    const check = createOptimisticCheck({ secret, strategy: "stateless", now: () => now });
    expect(await check(value)).toEqual({ sessionId: "sid", userId: "uid", expiresAt: new Date(now + 60_000) });
  });

  it("refuses expired, tampered, foreign-key and empty stateless cookies", async () => {
    const sealer = createSealer([secret], SESSION_SEAL_PURPOSE);
    const check = createOptimisticCheck({ secret, strategy: "stateless", now: () => now });
    const expired = await sealer.seal({ s: "sid", u: "uid", c: now / 1000 - 100, e: now / 1000 - 1 });
    const live = await sealer.seal({ s: "sid", u: "uid", c: now / 1000, e: now / 1000 + 60 });
    const foreign = await createSealer(["t".repeat(40)], SESSION_SEAL_PURPOSE).seal({
      s: "sid",
      u: "uid",
      c: now / 1000,
      e: now / 1000 + 60,
    });
    const tampered = live.slice(0, -2) + (live.endsWith("AA") ? "BA" : "AA");
    for (const value of [expired, foreign, tampered, "", null, undefined, "g1.garbage"]) {
      expect(await check(value)).toBeNull();
    }
  });

  it("checks only the shape of a database token", async () => {
    const check = createOptimisticCheck({ secret });
    const token = `${"a".repeat(16)}.${"b".repeat(32)}`;
    expect(await check(token)).toEqual({ sessionId: "a".repeat(16), userId: null, expiresAt: null });
    expect(await check(`${token}x`)).toBeNull();
    expect(await check(null)).toBeNull();
  });
});

describe("createOptimisticCheck: remembered cookies", () => {
  it("still checks expiry on every call: a cookie it has opened before stops passing when it expires", async () => {
    let clock = now;
    const sealer = createSealer([secret], SESSION_SEAL_PURPOSE);
    const value = await sealer.seal({ s: "sid", u: "uid", c: now / 1000, e: now / 1000 + 60 });
    const check = createOptimisticCheck({ secret, strategy: "stateless", now: () => clock });
    expect(await check(value)).not.toBeNull();
    clock = now + 60_000;
    expect(await check(value)).toBeNull();
  });
});

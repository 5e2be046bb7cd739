import fs from "node:fs";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { PASSWORD, TEST_SECRET } from "../../test/support/credentials.js";
import {
  cookieValue,
  createClockedGatehouse,
  freshStorePerTest,
  MAX_AGE_S,
  MINUTE,
  rawSessionRows,
  SHORT_ABSOLUTE_S,
  sessionCookieHeader,
  signInThrough,
  T0,
  validateSession,
} from "../../test/support/session-fixtures.js";
import type { Gatehouse, GatehouseOptions } from "../core/gatehouse.js";
import { decodeBase64url, encodeBase64url } from "../crypto/base64url.js";
import { createSealer } from "../crypto/seal.js";
import { createStatelessOpener, SESSION_SEAL_PURPOSE } from "./stateless.js";

const OTHER_SECRET = "another-stateless-test-secret-9876543210";

const sqlite = freshStorePerTest();
let clock: number;
let gatehouse: Gatehouse;

beforeEach(() => {
  clock = T0;
  gatehouse = createTestGatehouse();
});

type Overrides = Partial<Pick<GatehouseOptions, "absoluteMaxAgeSeconds" | "secret" | "secureCookies">>;

function createTestGatehouse(options: Overrides = {}): Gatehouse {
  return createClockedGatehouse(sqlite.store, () => clock, { strategy: "stateless", ...options });
}

/** Creates the user if needed, logs in through `via` (by default the test's Gatehouse), and returns the cookie's value. */
const signIn = (email?: string, via: Gatehouse = gatehouse) => signInThrough(via, email);

const rawSessions = () => rawSessionRows(sqlite.dbFile);

function flipByte(sealed: string, position: number): string {
  const flipped = Uint8Array.from(decodeBase64url(sealed.slice(3)) as Uint8Array);
  flipped[position] = (flipped[position] as number) ^ 0x01;
  return `g1.${encodeBase64url(flipped)}`;
}

describe("stateless session cookies", () => {
  it("are sealed g1. values that reveal neither the email nor the role", async () => {
    await gatehouse.users.create({ email: "ada@example.com", password: PASSWORD, role: "admin" });
    const value = await signIn();
    expect(value).toMatch(/^g1\.[A-Za-z0-9_-]+$/);
    const decoded = Buffer.from(decodeBase64url(value.slice(3)) as Uint8Array).toString("latin1");
    for (const text of [value, decoded]) {
      expect(text).not.toContain("ada@example.com");
      expect(text).not.toContain("admin");
    }
  });

  it("validate to the user and the id of the session's store record", async () => {
    const value = await signIn();
    const valid = await validateSession(gatehouse, value, { rotate: true });
    expect(valid?.user.email).toBe("ada@example.com");
    expect(valid?.session).toMatchObject({
      strategy: "stateless",
      createdAt: new Date(T0),
      expiresAt: new Date(T0 + MAX_AGE_S * 1000),
    });
    expect(valid?.renewed).toBeNull();
    const rows = rawSessions();
    expect(rows.map((row) => row.id)).toEqual([valid?.session.id]);
    expect(rows[0]?.user_id).toBe(valid?.user.id);
  });

  it("leave no secret in the store: the record has an empty secret hash and not the cookie", async () => {
    const value = await signIn();
    const rows = rawSessions();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.secret_hash).toBe("");
    expect(JSON.stringify(rows)).not.toContain(value.slice(3, 40));
    for (const file of fs.readdirSync(sqlite.dir)) {
      const bytes = fs.readFileSync(path.join(sqlite.dir, file)).toString("latin1");
      expect(bytes, file).not.toContain(value.slice(3, 40));
    }
  });

  it("carry exactly the session id, the user id, and the created and expiry times in seconds", async () => {
    const value = await signIn();
    const { session, user } = (await validateSession(gatehouse, value))!;
    const opened = await createSealer([TEST_SECRET], SESSION_SEAL_PURPOSE).open(value);
    expect(opened).toEqual({ s: session.id, u: user.id, c: T0 / 1000, e: T0 / 1000 + MAX_AGE_S });
  });

  it("are recorded in the store with the user's session version, the log-in time, user agent and ip", async () => {
    await gatehouse.users.create({ email: "ada@example.com", password: PASSWORD });
    await gatehouse.users.setRole("ada@example.com", "admin");
    const { setCookie } = await gatehouse.logIn(
      { email: "ada@example.com", password: PASSWORD },
      { userAgent: "Safari/18", ip: "2001:db8::1" },
    );
    const { session, user } = (await validateSession(gatehouse, cookieValue(setCookie)))!;
    expect(rawSessions()).toEqual([
      {
        id: session.id,
        user_id: user.id,
        secret_hash: "",
        user_version: 1,
        revocation_epoch: 0,
        created_at: T0,
        expires_at: T0 + MAX_AGE_S * 1000,
        last_seen_at: T0,
        user_agent: "Safari/18",
        ip: "2001:db8::1",
        impersonated_by: null,
        impersonator_epoch: null,
      },
    ]);
  });

  it("are different for every log-in", async () => {
    expect(await signIn()).not.toBe(await signIn());
  });

  it("keep a Set-Cookie under 4096 bytes", async ({ annotate }) => {
    await signIn();
    const { setCookie } = await gatehouse.logIn({ email: "ada@example.com", password: PASSWORD });
    const secure = createTestGatehouse({ secureCookies: true });
    const { setCookie: secureSetCookie } = await secure.logIn({ email: "ada@example.com", password: PASSWORD });
    const value = cookieValue(setCookie);

    // The largest payload the format accepts: 64-character session and user ids and the largest times.
    const largest = await createSealer([TEST_SECRET], SESSION_SEAL_PURPOSE).seal({
      s: "s".repeat(64),
      u: "u".repeat(64),
      c: Number.MAX_SAFE_INTEGER,
      e: Number.MAX_SAFE_INTEGER,
    });

    for (const header of [setCookie, secureSetCookie]) expect(Buffer.byteLength(header)).toBeLessThanOrEqual(4096);
    expect(largest.length).toBeLessThanOrEqual(4096 - "__Host-gatehouse.session=".length);
    await annotate(
      `stateless cookie value ${value.length} chars; Set-Cookie ${Buffer.byteLength(setCookie)} bytes ` +
        `(${Buffer.byteLength(secureSetCookie)} with __Host- and Secure); largest possible value ${largest.length} chars`,
    );
  });
});

describe("validating stateless sessions", () => {
  it("is valid up to the last millisecond before expiry and null at expiry", async () => {
    const value = await signIn();
    clock = T0 + MAX_AGE_S * 1000 - 1;
    expect(await validateSession(gatehouse, value)).not.toBeNull();
    const fresh = await signIn();
    clock = T0 + MAX_AGE_S * 1000;
    expect(await validateSession(gatehouse, value)).toBeNull();
    expect(await validateSession(gatehouse, fresh)).not.toBeNull();
  });

  it("returns null for a cookie with a byte flipped in the iv, ciphertext or tag", async () => {
    const value = await signIn();
    const length = (decodeBase64url(value.slice(3)) as Uint8Array).length;
    for (const position of [0, 11, 12, Math.floor(length / 2), length - 17, length - 16, length - 1]) {
      expect(await validateSession(gatehouse, flipByte(value, position)), `byte ${position}`).toBeNull();
    }
    expect(await validateSession(gatehouse, value)).not.toBeNull();
  });

  it("returns null for truncated and garbage cookies", async () => {
    const value = await signIn();
    for (const bad of [
      value.slice(0, -1),
      value.slice(0, 40),
      "g1.",
      "",
      "x".repeat(8192),
      "🍪",
      `${"A".repeat(16)}.${"B".repeat(32)}`,
    ]) {
      expect(await validateSession(gatehouse, bad), bad.slice(0, 20)).toBeNull();
    }
  });

  it("returns null for a cookie sealed with a secret it does not know", async () => {
    const foreign = await signIn("ada@example.com", createTestGatehouse({ secret: OTHER_SECRET }));
    expect(await validateSession(gatehouse, foreign)).toBeNull();
  });

  it("accepts a cookie sealed with a secret that is still listed for rotation", async () => {
    const old = await signIn();
    const rotated = createTestGatehouse({ secret: [OTHER_SECRET, TEST_SECRET] });
    expect((await validateSession(rotated, old))?.user.email).toBe("ada@example.com");
  });

  it("returns null for a payload sealed with the session key but the wrong shape", async () => {
    const value = await signIn();
    const { session, user } = (await validateSession(gatehouse, value))!;
    const sealer = createSealer([TEST_SECRET], SESSION_SEAL_PURPOSE);
    const c = T0 / 1000;
    const good = { s: session.id, u: user.id, c, e: c + 3600 };
    for (const payload of [
      { u: user.id, c, e: c + 3600 },
      { s: session.id, c, e: c + 3600 },
      { s: session.id, u: user.id, e: c + 3600 },
      { s: session.id, u: user.id, c },
      { ...good, s: "" },
      { ...good, s: 42 },
      { ...good, s: "s".repeat(65) },
      { ...good, u: "" },
      { ...good, u: 42 },
      { ...good, u: "u".repeat(65) },
      { ...good, e: c + 0.5 },
      { ...good, e: String(c + 3600) },
      { ...good, c: null },
      Object.values(good),
      null,
      "session",
    ]) {
      expect(await validateSession(gatehouse, await sealer.seal(payload)), JSON.stringify(payload)).toBeNull();
    }
    expect(await validateSession(gatehouse, await sealer.seal(good))).not.toBeNull();
  });

  it("returns null for a payload that pairs a real session id with another user", async () => {
    const value = await signIn();
    await signIn("bob@example.com");
    const { session } = (await validateSession(gatehouse, value))!;
    const bob = await sqlite.store.getUserByEmail("bob@example.com");
    const c = T0 / 1000;
    const forged = await createSealer([TEST_SECRET], SESSION_SEAL_PURPOSE).seal({
      s: session.id,
      u: bob!.id,
      c,
      e: c + 3600,
    });
    expect(await validateSession(gatehouse, forged)).toBeNull();
  });

  it("returns null for a well-formed payload sealed for another purpose", async () => {
    const value = await signIn();
    const { session, user } = (await validateSession(gatehouse, value))!;
    const c = T0 / 1000;
    const other = await createSealer([TEST_SECRET], "email-verification").seal({
      s: session.id,
      u: user.id,
      c,
      e: c + 3600,
    });
    expect(await validateSession(gatehouse, other)).toBeNull();
  });

  it("returns null once the user is deleted", async () => {
    const value = await signIn();
    const user = await sqlite.store.getUserByEmail("ada@example.com");
    expect(await sqlite.store.deleteUser(user!.id)).toBe(true);
    expect(await validateSession(gatehouse, value)).toBeNull();
  });

  it("shows a role change at the next validation that cannot rotate, with the same cookie", async () => {
    const value = await signIn();
    const before = (await validateSession(gatehouse, value))!.session.id;
    await gatehouse.users.setRole("ada@example.com", "admin");
    const valid = await validateSession(gatehouse, value, { rotate: false });
    expect(valid?.user.role).toBe("admin");
    expect(valid?.renewed).toBeNull();
    // No cookie can go out, so renewed is null whatever happens: the session itself must be the same one.
    expect(valid?.session.id).toBe(before);
    await gatehouse.users.setRole("ada@example.com", "user");
    expect((await validateSession(gatehouse, value, { rotate: false }))?.user.role).toBe("user");
  });
});

describe("sliding stateless sessions", () => {
  it("does not renew before half of maxAge has passed", async () => {
    const value = await signIn();
    clock = T0 + 29 * MINUTE;
    expect((await validateSession(gatehouse, value, { rotate: true }))?.renewed).toBeNull();
  });

  it("renews after half of maxAge with a new cookie that expires maxAge from now", async () => {
    const value = await signIn();
    clock = T0 + 31 * MINUTE;
    const renewed = (await validateSession(gatehouse, value, { rotate: true }))?.renewed;
    expect(renewed?.expiresAt).toEqual(new Date(T0 + 91 * MINUTE));
    expect(renewed?.value).not.toBe(value);
    clock = T0 + 80 * MINUTE;
    expect(await validateSession(gatehouse, value)).toBeNull();
    const valid = await validateSession(gatehouse, renewed!.value);
    expect(valid?.session.createdAt).toEqual(new Date(T0));
  });

  it("never renews past the absolute cap, and ends the session there", async () => {
    gatehouse = createTestGatehouse({ absoluteMaxAgeSeconds: SHORT_ABSOLUTE_S });
    const cap = T0 + SHORT_ABSOLUTE_S * 1000;
    let value = await signIn();
    for (clock = T0; clock < cap; clock += 5 * MINUTE) {
      const valid = await validateSession(gatehouse, value, { rotate: true });
      expect(valid, `at +${(clock - T0) / MINUTE} min`).not.toBeNull();
      expect(valid?.session.expiresAt.getTime()).toBeLessThanOrEqual(cap);
      if (valid?.renewed) {
        expect(valid.renewed.expiresAt.getTime()).toBeLessThanOrEqual(cap);
        value = valid.renewed.value;
      }
    }
    clock = cap;
    expect(await validateSession(gatehouse, value)).toBeNull();
  });
});

describe("ending stateless sessions", () => {
  it("logOut ends that session: the cookie no longer validates and its record is gone", async () => {
    const value = await signIn();
    const clear = await gatehouse.logOut(sessionCookieHeader(value));
    expect(clear).toMatch(/Max-Age=0/);
    expect(await validateSession(gatehouse, value)).toBeNull();
    expect(rawSessions()).toHaveLength(0);
  });

  it("logOut also kills cookies renewed from the same session", async () => {
    const value = await signIn();
    clock = T0 + 31 * MINUTE;
    const renewed = (await validateSession(gatehouse, value, { rotate: true }))!.renewed!.value;
    await gatehouse.logOut(sessionCookieHeader(value));
    expect(await validateSession(gatehouse, renewed)).toBeNull();
  });

  it("logOut ends only that session; the user's other sessions stay", async () => {
    const first = await signIn();
    const second = await signIn();
    await gatehouse.logOut(sessionCookieHeader(first));
    expect(await validateSession(gatehouse, first)).toBeNull();
    const remaining = await validateSession(gatehouse, second, { rotate: true });
    expect(remaining).not.toBeNull();
    // Ending one session is not a privilege change: the others are neither rotated nor refused.
    expect(remaining?.renewed).toBeNull();
    expect((await sqlite.store.getUserByEmail("ada@example.com"))?.sessionVersion).toBe(0);
  });

  it("revokeAllSessions kills every stateless cookie of that user, and only that user", async () => {
    const first = await signIn();
    const second = await signIn();
    const other = await signIn("bob@example.com");
    const ada = await sqlite.store.getUserByEmail("ada@example.com");
    expect(await gatehouse.revokeAllSessions(ada!.id)).toBe(2);
    expect(await validateSession(gatehouse, first)).toBeNull();
    expect(await validateSession(gatehouse, second)).toBeNull();
    expect(await validateSession(gatehouse, other)).not.toBeNull();
    expect(await validateSession(gatehouse, await signIn())).not.toBeNull();
  });

  it("deleting the session's store record kills the cookie", async () => {
    const value = await signIn();
    const { session } = (await validateSession(gatehouse, value))!;
    await sqlite.store.deleteSession(session.id as string);
    expect(await validateSession(gatehouse, value)).toBeNull();
  });

  it("logOut with a tampered cookie changes nothing", async () => {
    const value = await signIn();
    await gatehouse.logOut(sessionCookieHeader(flipByte(value, 20)));
    expect(await validateSession(gatehouse, value)).not.toBeNull();
  });

  it("logIn revokes the session the request came with (no fixation), and the new one is valid", async () => {
    const planted = await signIn();
    await gatehouse.users.create({ email: "bob@example.com", password: PASSWORD });
    const { setCookie } = await gatehouse.logIn(
      { email: "bob@example.com", password: PASSWORD },
      { cookieHeader: sessionCookieHeader(planted) },
    );
    expect(await validateSession(gatehouse, planted)).toBeNull();
    const fresh = cookieValue(setCookie);
    expect((await validateSession(gatehouse, fresh))?.user.email).toBe("bob@example.com");
  });

  it("logIn with the user's own previous cookie yields a valid new session", async () => {
    const previous = await signIn();
    const { setCookie } = await gatehouse.logIn(
      { email: "ada@example.com", password: PASSWORD },
      { cookieHeader: sessionCookieHeader(previous) },
    );
    expect(await validateSession(gatehouse, cookieValue(setCookie))).not.toBeNull();
  });
});

describe("createStatelessOpener", () => {
  /** The real sealer, counting how often it really decrypts. */
  function countingSealer() {
    const sealer = createSealer(["c".repeat(40)], SESSION_SEAL_PURPOSE);
    const counted = {
      opens: 0,
      seal: sealer.seal,
      open: (value: string) => {
        counted.opens++;
        return sealer.open(value);
      },
    };
    return counted;
  }

  it("decrypts a genuine cookie once and answers later calls from memory, with the same payload", async () => {
    const sealer = countingSealer();
    const open = createStatelessOpener(sealer);
    const value = await sealer.seal({ s: "sid", u: "uid", c: 1, e: 2 });
    const first = await open(value);
    expect(first).toEqual({ s: "sid", u: "uid", c: 1, e: 2 });
    expect(await open(value)).toBe(first);
    expect(sealer.opens).toBe(1);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it("never remembers a forged or malformed value: each costs a decryption and yields null", async () => {
    const sealer = countingSealer();
    const open = createStatelessOpener(sealer);
    const value = await sealer.seal({ s: "sid", u: "uid", c: 1, e: 2 });
    const forged = `${value.slice(0, -3)}${value.endsWith("AAA") ? "BBB" : "AAA"}`;
    for (const bad of [forged, forged, "g1.AAAA", await sealer.seal({ not: "a session" })])
      expect(await open(bad)).toBeNull();
    expect(sealer.opens).toBe(4);
  });

  it("forgets the oldest cookies past 1024, so memory stays bounded", async () => {
    const sealer = countingSealer();
    const open = createStatelessOpener(sealer);
    const values = await Promise.all(
      Array.from({ length: 1025 }, (_, i) => sealer.seal({ s: `s${i}`, u: "uid", c: 1, e: 2 })),
    );
    for (const value of values) await open(value);
    expect(sealer.opens).toBe(1025);
    await open(values[1024] as string);
    expect(sealer.opens).toBe(1025);
    await open(values[0] as string);
    expect(sealer.opens).toBe(1026);
  });
});

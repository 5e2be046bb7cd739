import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { PASSWORD, TEST_SECRET } from "../../test/support/credentials.js";
import {
  ABSOLUTE_S,
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
import { querySqliteFile } from "../../test/support/temp-sqlite.js";
import type { Gatehouse } from "../core/gatehouse.js";
import { decodeBase64url } from "../crypto/base64url.js";
import { resolveSessionConfig } from "./config.js";
import { createDatabaseCodec } from "./database.js";
import { createSessionManager } from "./manager.js";
import type { SessionRecord } from "./store.js";
import type { SessionMeta } from "./types.js";

const sqlite = freshStorePerTest();
let clock: number;
let gatehouse: Gatehouse;

beforeEach(() => {
  clock = T0;
  gatehouse = createTestGatehouse();
});

function createTestGatehouse(absoluteMaxAgeSeconds = ABSOLUTE_S): Gatehouse {
  return createClockedGatehouse(sqlite.store, () => clock, { strategy: "database", absoluteMaxAgeSeconds });
}

/** Creates the user if needed, logs in, and returns the session cookie's value. */
const signIn = (email?: string, meta?: SessionMeta) => signInThrough(gatehouse, email, meta);

const rawSessions = () => rawSessionRows(sqlite.dbFile);

/** Every row of every table, as one string to search for what must never be stored. */
function rawDump(): string {
  return querySqliteFile(sqlite.dbFile, (db) => {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>;
    return JSON.stringify(tables.map(({ name }) => db.prepare(`SELECT * FROM "${name}"`).all()));
  });
}

/** A session record as the manager hands it to the codec, for the codec's own tests. */
function record(id: string, secretHash = ""): SessionRecord {
  const at = new Date(T0);
  return {
    id,
    userId: "u1",
    secretHash,
    userVersion: 0,
    revocationEpoch: 0,
    createdAt: at,
    expiresAt: at,
    lastSeenAt: at,
    userAgent: null,
    ip: null,
  };
}

describe("the database codec", () => {
  it("issues id.secret with a 192-bit secret and hands back only the secret's SHA-256 to store", async () => {
    const id = "AAAAAAAAAAAAAAAA";
    const { value, secretHash } = await createDatabaseCodec().issue(record(id));
    const [valueId, secret] = value.split(".") as [string, string];
    expect(valueId).toBe(id);
    expect(decodeBase64url(secret)?.length).toBe(24);
    expect(secretHash).toBe(createHash("sha256").update(secret).digest("hex"));
    expect(secretHash).not.toContain(secret);
  });

  it("never repeats a secret over 1000 issues", async () => {
    const codec = createDatabaseCodec();
    const values = await Promise.all(Array.from({ length: 1000 }, () => codec.issue(record("AAAAAAAAAAAAAAAA"))));
    expect(new Set(values.map(({ value }) => value)).size).toBe(1000);
    expect(new Set(values.map(({ secretHash }) => secretHash)).size).toBe(1000);
  });

  it("reissues a session whose expiry moved with the same cookie value", async () => {
    const codec = createDatabaseCodec();
    const { value, secretHash } = await codec.issue(record("AAAAAAAAAAAAAAAA"));
    expect(await codec.reissue({ ...record("AAAAAAAAAAAAAAAA", secretHash), expiresAt: new Date(T0 + 1) }, value)).toBe(
      value,
    );
  });

  it("parses a value to its id, matching only the record that holds its secret's hash", async () => {
    const codec = createDatabaseCodec();
    const mine = await codec.issue(record("AAAAAAAAAAAAAAAA"));
    const other = await codec.issue(record("AAAAAAAAAAAAAAAA"));
    const parsed = await codec.parse(mine.value);
    expect(parsed?.id).toBe("AAAAAAAAAAAAAAAA");
    expect(parsed?.matches(record("AAAAAAAAAAAAAAAA", mine.secretHash))).toBe(true);
    expect(parsed?.matches(record("AAAAAAAAAAAAAAAA", other.secretHash))).toBe(false);
    // A stateless record (no secret) never matches a database token.
    expect(parsed?.matches(record("AAAAAAAAAAAAAAAA", ""))).toBe(false);
    for (const bad of ["", "AAAAAAAAAAAAAAAA", `${mine.value}x`, "g1.abc"])
      expect(await codec.parse(bad), bad).toBeNull();
  });
});

describe("database session tokens", () => {
  it("are id.secret with a 96-bit id and a 192-bit secret", async () => {
    const value = await signIn();
    const match = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(value);
    expect(match).not.toBeNull();
    expect(decodeBase64url(match?.[1] as string)?.length).toBe(12);
    expect(decodeBase64url(match?.[2] as string)?.length).toBe(24);
  });

  it("never repeat an id over 1000 sessions", async () => {
    const user = await sqlite.store.createUser({
      id: "u1",
      email: "ids@example.com",
      name: null,
      role: "user",
      passwordHash: "x",
    });
    const manager = createSessionManager(
      { sessions: sqlite.store, users: sqlite.store },
      createDatabaseCodec(),
      resolveSessionConfig({ secret: TEST_SECRET, now: () => clock }),
    );
    const ids = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const prepared = await manager.prepare(user, {});
      await prepared.write();
      ids.add(prepared.id);
    }
    expect(ids.size).toBe(1000);
    expect(rawSessions()).toHaveLength(1000);
  });

  it("are recorded with the user's session version, the time of log-in and the request's user agent and ip", async () => {
    await gatehouse.users.create({ email: "ada@example.com", password: PASSWORD });
    await gatehouse.users.setRole("ada@example.com", "admin");
    const value = await signIn("ada@example.com", { userAgent: "Firefox/140", ip: "203.0.113.7" });
    const user = await sqlite.store.getUserByEmail("ada@example.com");
    expect(user?.sessionVersion).toBe(1);
    expect(rawSessions()).toEqual([
      {
        id: value.split(".")[0],
        user_id: user?.id,
        secret_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
        user_version: 1,
        revocation_epoch: 0,
        created_at: T0,
        expires_at: T0 + MAX_AGE_S * 1000,
        last_seen_at: T0,
        user_agent: "Firefox/140",
        ip: "203.0.113.7",
        impersonated_by: null,
        impersonator_epoch: null,
      },
    ]);
  });

  it("are stored as the id and the SHA-256 of the secret, never the secret itself", async () => {
    const value = await signIn();
    const [id, secret] = value.split(".") as [string, string];
    const rows = rawSessions();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.id).toBe(id);
    expect(rows[0]?.secret_hash).toBe(createHash("sha256").update(secret).digest("hex"));

    expect(rawDump()).not.toContain(secret);
    for (const file of fs.readdirSync(sqlite.dir)) {
      const bytes = fs.readFileSync(path.join(sqlite.dir, file)).toString("latin1");
      expect(bytes, file).not.toContain(secret);
    }
  });

  it("are different for every log-in", async () => {
    const first = await signIn();
    const second = await signIn();
    expect(first).not.toBe(second);
    expect(rawSessions()).toHaveLength(2);
  });
});

describe("validating a database session", () => {
  it("returns the user and the session for a fresh token", async () => {
    const value = await signIn();
    const valid = await validateSession(gatehouse, value, { rotate: true });
    expect(valid?.user.email).toBe("ada@example.com");
    expect(valid?.session).toEqual({
      id: value.split(".")[0],
      strategy: "database",
      createdAt: new Date(T0),
      expiresAt: new Date(T0 + MAX_AGE_S * 1000),
      impersonatedBy: null,
    });
    expect(valid?.renewed).toBeNull();
  });

  it("returns null for a valid id with a wrong secret, and leaves the session alone", async () => {
    const value = await signIn();
    const [id, secret] = value.split(".") as [string, string];
    const wrongSecret = `${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`;
    expect(await validateSession(gatehouse, `${id}.${wrongSecret}`)).toBeNull();
    expect(await validateSession(gatehouse, `${id}.${"A".repeat(32)}`)).toBeNull();
    expect(await validateSession(gatehouse, value)).not.toBeNull();
  });

  it("returns null for an unknown id, a malformed token and garbage", async () => {
    const value = await signIn();
    const [, secret] = value.split(".") as [string, string];
    for (const bad of [
      `${"A".repeat(16)}.${secret}`,
      value.slice(0, -1),
      `${value}x`,
      "",
      "x".repeat(8192),
      "g1.abc",
      "🍪",
    ]) {
      expect(await validateSession(gatehouse, bad), bad.slice(0, 20)).toBeNull();
    }
  });

  it("is valid up to the last millisecond before expiry", async () => {
    const value = await signIn();
    clock = T0 + MAX_AGE_S * 1000 - 1;
    expect(await validateSession(gatehouse, value)).not.toBeNull();
  });

  it("returns null once expired, and deletes the expired session", async () => {
    const value = await signIn();
    clock = T0 + MAX_AGE_S * 1000;
    expect(await validateSession(gatehouse, value)).toBeNull();
    expect(rawSessions()).toHaveLength(0);
  });

  it("returns null once the user is deleted", async () => {
    const value = await signIn();
    const user = await sqlite.store.getUserByEmail("ada@example.com");
    await sqlite.store.deleteUser(user?.id as string);
    expect(await validateSession(gatehouse, value)).toBeNull();
  });

  it("shows a role change at the next validation that cannot rotate, with the same token", async () => {
    const value = await signIn();
    expect((await validateSession(gatehouse, value))?.user.role).toBe("user");
    await gatehouse.users.setRole("ada@example.com", "admin");
    const valid = await validateSession(gatehouse, value, { rotate: false });
    expect(valid?.user.role).toBe("admin");
    expect(valid?.renewed).toBeNull();
    expect(valid?.session.id).toBe(value.split(".")[0]);
  });
});

describe("sliding database sessions", () => {
  it("does not renew before half of maxAge has passed", async () => {
    const value = await signIn();
    clock = T0 + 29 * MINUTE;
    const valid = await validateSession(gatehouse, value, { rotate: true });
    expect(valid?.renewed).toBeNull();
    expect(valid?.session.expiresAt).toEqual(new Date(T0 + 60 * MINUTE));
    expect(rawSessions()[0]?.expires_at).toBe(T0 + 60 * MINUTE);
  });

  it("renews after half of maxAge to now + maxAge, keeping the same token", async () => {
    const value = await signIn();
    clock = T0 + 31 * MINUTE;
    const valid = await validateSession(gatehouse, value, { rotate: true });
    expect(valid?.renewed).toEqual({ value, expiresAt: new Date(T0 + 31 * MINUTE + 60 * MINUTE) });
    expect(rawSessions()[0]?.expires_at).toBe(T0 + 91 * MINUTE);
  });

  it("keeps a renewed session alive past its first expiry", async () => {
    const value = await signIn();
    clock = T0 + 40 * MINUTE;
    await validateSession(gatehouse, value, { rotate: true });
    clock = T0 + 61 * MINUTE;
    expect(await validateSession(gatehouse, value)).not.toBeNull();
  });

  it("never renews past the absolute cap, and ends the session there", async () => {
    gatehouse = createTestGatehouse(SHORT_ABSOLUTE_S);
    const value = await signIn();
    const cap = T0 + SHORT_ABSOLUTE_S * 1000;

    clock = T0 + 31 * MINUTE;
    expect((await validateSession(gatehouse, value, { rotate: true }))?.renewed?.expiresAt).toEqual(new Date(cap));

    clock = T0 + 62 * MINUTE;
    const late = await validateSession(gatehouse, value, { rotate: true });
    expect(late?.renewed).toBeNull();
    expect(late?.session.expiresAt).toEqual(new Date(cap));

    clock = cap - 1;
    expect(await validateSession(gatehouse, value)).not.toBeNull();
    clock = cap;
    expect(await validateSession(gatehouse, value)).toBeNull();
  });

  it("ends at the absolute cap even when used every few minutes", async () => {
    gatehouse = createTestGatehouse(SHORT_ABSOLUTE_S);
    const value = await signIn();
    const cap = T0 + SHORT_ABSOLUTE_S * 1000;
    for (clock = T0; clock < cap; clock += 5 * MINUTE) {
      const valid = await validateSession(gatehouse, value, { rotate: true });
      expect(valid, `at +${(clock - T0) / MINUTE} min`).not.toBeNull();
      expect(valid?.session.expiresAt.getTime()).toBeLessThanOrEqual(cap);
    }
    clock = cap;
    expect(await validateSession(gatehouse, value)).toBeNull();
  });
});

describe("ending database sessions", () => {
  it("logOut deletes the session, so the token no longer validates", async () => {
    const value = await signIn();
    const clear = await gatehouse.logOut(sessionCookieHeader(value));
    expect(clear).toMatch(/Max-Age=0/);
    expect(await validateSession(gatehouse, value)).toBeNull();
    expect(rawSessions()).toHaveLength(0);
  });

  it("logOut ends only that session; the user's other sessions stay", async () => {
    const first = await signIn();
    const second = await signIn();
    await gatehouse.logOut(sessionCookieHeader(first));
    expect(await validateSession(gatehouse, first)).toBeNull();
    expect(await validateSession(gatehouse, second)).not.toBeNull();
  });

  it("logOut with a wrong secret for a real id deletes nothing", async () => {
    const value = await signIn();
    const [id] = value.split(".") as [string];
    await gatehouse.logOut(sessionCookieHeader(`${id}.${"A".repeat(32)}`));
    expect(await validateSession(gatehouse, value)).not.toBeNull();
  });

  it("logIn revokes the session the request came with (no fixation)", async () => {
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
});

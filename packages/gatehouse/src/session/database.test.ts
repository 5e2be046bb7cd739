import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createGatehouse, type Gatehouse } from "../core/gatehouse.js";
import { decodeBase64url } from "../crypto/base64url.js";
import type { Store } from "../store/types.js";
import { createSqliteStore } from "../stores/sqlite.js";

const SECRET = "database-strategy-test-secret-0123456789";
const CHEAP_ARGON2 = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
const PASSWORD = "correct horse battery";
const T0 = Date.UTC(2030, 0, 1);
const MINUTE = 60_000;
/** maxAge 60 min; the absolute cap is 3 h, or 90 min in the tests about the cap. */
const MAX_AGE_S = 3600;
const ABSOLUTE_S = 3 * 3600;
const SHORT_ABSOLUTE_S = 5400;

let dir: string;
let dbFile: string;
let store: Store;
let clock: number;
let gatehouse: Gatehouse;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-"));
  dbFile = path.join(dir, "gatehouse.db");
  store = createSqliteStore({ url: `file:${dbFile}` });
  await store.migrate();
  clock = T0;
  gatehouse = createTestGatehouse(ABSOLUTE_S);
});

function createTestGatehouse(absoluteMaxAgeSeconds: number): Gatehouse {
  return createGatehouse({
    store,
    secret: SECRET,
    strategy: "database",
    secureCookies: false,
    maxAgeSeconds: MAX_AGE_S,
    absoluteMaxAgeSeconds,
    argon2: CHEAP_ARGON2,
    now: () => clock,
  });
}

afterEach(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Creates a user, logs in, and returns the session cookie's value. */
async function signIn(email = "ada@example.com"): Promise<string> {
  if (!(await store.getUserByEmail(email))) await gatehouse.users.create({ email, password: PASSWORD });
  const { setCookie } = await gatehouse.logIn({ email, password: PASSWORD });
  const value = gatehouse.cookie.read(setCookie.split(";")[0]);
  if (!value) throw new Error("no session cookie in Set-Cookie");
  return value;
}

/** Reads the database file through its own connection, not through the store. */
function rawSessions(): Array<Record<string, unknown>> {
  const db = new Database(dbFile, { fileMustExist: true });
  try {
    return db.prepare("SELECT * FROM gatehouse_sessions").all() as Array<Record<string, unknown>>;
  } finally {
    db.close();
  }
}

function rawDump(): string {
  const db = new Database(dbFile, { fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>;
    return JSON.stringify(tables.map(({ name }) => db.prepare(`SELECT * FROM "${name}"`).all()));
  } finally {
    db.close();
  }
}

describe("database session tokens", () => {
  it("are id.secret with a secret of at least 128 bits", async () => {
    const value = await signIn();
    const match = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(value);
    expect(match).not.toBeNull();
    const secretBytes = decodeBase64url(match?.[2] as string);
    expect(secretBytes?.length).toBeGreaterThanOrEqual(16);
  });

  it("are stored as the id and the SHA-256 of the secret, never the secret itself", async () => {
    const value = await signIn();
    const [id, secret] = value.split(".") as [string, string];
    const rows = rawSessions();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.id).toBe(id);
    expect(rows[0]?.secret_hash).toBe(createHash("sha256").update(secret).digest("hex"));

    expect(rawDump()).not.toContain(secret);
    for (const file of fs.readdirSync(dir)) {
      const bytes = fs.readFileSync(path.join(dir, file)).toString("latin1");
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
    const valid = await gatehouse.validateSession(value);
    expect(valid?.user.email).toBe("ada@example.com");
    expect(valid?.session).toEqual({
      id: value.split(".")[0],
      strategy: "database",
      createdAt: new Date(T0),
      expiresAt: new Date(T0 + MAX_AGE_S * 1000),
    });
    expect(valid?.renewed).toBeNull();
  });

  it("returns null for a valid id with a wrong secret, and leaves the session alone", async () => {
    const value = await signIn();
    const [id, secret] = value.split(".") as [string, string];
    const wrongSecret = `${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`;
    expect(await gatehouse.validateSession(`${id}.${wrongSecret}`)).toBeNull();
    expect(await gatehouse.validateSession(`${id}.${"A".repeat(32)}`)).toBeNull();
    expect(await gatehouse.validateSession(value)).not.toBeNull();
  });

  it("returns null for an unknown id, a malformed token and garbage", async () => {
    const value = await signIn();
    const [, secret] = value.split(".") as [string, string];
    for (const bad of [`${"A".repeat(16)}.${secret}`, value.slice(0, -1), `${value}x`, "", "x".repeat(8192), "g1.abc", "🍪"]) {
      expect(await gatehouse.validateSession(bad), bad.slice(0, 20)).toBeNull();
    }
  });

  it("is valid up to the last millisecond before expiry", async () => {
    const value = await signIn();
    clock = T0 + MAX_AGE_S * 1000 - 1;
    expect(await gatehouse.validateSession(value)).not.toBeNull();
  });

  it("returns null once expired, and deletes the expired session", async () => {
    const value = await signIn();
    clock = T0 + MAX_AGE_S * 1000;
    expect(await gatehouse.validateSession(value)).toBeNull();
    expect(rawSessions()).toHaveLength(0);
  });

  it("returns null once the user is deleted", async () => {
    const value = await signIn();
    const user = await store.getUserByEmail("ada@example.com");
    await store.deleteUser(user?.id as string);
    expect(await gatehouse.validateSession(value)).toBeNull();
  });

  it("shows a role change at the next validation", async () => {
    const value = await signIn();
    expect((await gatehouse.validateSession(value))?.user.role).toBe("user");
    await gatehouse.users.setRole("ada@example.com", "admin");
    expect((await gatehouse.validateSession(value))?.user.role).toBe("admin");
  });
});

describe("sliding database sessions", () => {
  it("does not renew before half of maxAge has passed", async () => {
    const value = await signIn();
    clock = T0 + 29 * MINUTE;
    const valid = await gatehouse.validateSession(value);
    expect(valid?.renewed).toBeNull();
    expect(valid?.session.expiresAt).toEqual(new Date(T0 + 60 * MINUTE));
    expect(rawSessions()[0]?.expires_at).toBe(T0 + 60 * MINUTE);
  });

  it("renews after half of maxAge to now + maxAge, keeping the same token", async () => {
    const value = await signIn();
    clock = T0 + 31 * MINUTE;
    const valid = await gatehouse.validateSession(value);
    expect(valid?.renewed).toEqual({ value, expiresAt: new Date(T0 + 31 * MINUTE + 60 * MINUTE) });
    expect(rawSessions()[0]?.expires_at).toBe(T0 + 91 * MINUTE);
  });

  it("keeps a renewed session alive past its first expiry", async () => {
    const value = await signIn();
    clock = T0 + 40 * MINUTE;
    await gatehouse.validateSession(value);
    clock = T0 + 61 * MINUTE;
    expect(await gatehouse.validateSession(value)).not.toBeNull();
  });

  it("never renews past the absolute cap, and ends the session there", async () => {
    gatehouse = createTestGatehouse(SHORT_ABSOLUTE_S);
    const value = await signIn();
    const cap = T0 + SHORT_ABSOLUTE_S * 1000;

    clock = T0 + 31 * MINUTE;
    expect((await gatehouse.validateSession(value))?.renewed?.expiresAt).toEqual(new Date(cap));

    clock = T0 + 62 * MINUTE;
    const late = await gatehouse.validateSession(value);
    expect(late?.renewed).toBeNull();
    expect(late?.session.expiresAt).toEqual(new Date(cap));

    clock = cap - 1;
    expect(await gatehouse.validateSession(value)).not.toBeNull();
    clock = cap;
    expect(await gatehouse.validateSession(value)).toBeNull();
  });

  it("ends at the absolute cap even when used every few minutes", async () => {
    gatehouse = createTestGatehouse(SHORT_ABSOLUTE_S);
    const value = await signIn();
    const cap = T0 + SHORT_ABSOLUTE_S * 1000;
    for (clock = T0; clock < cap; clock += 5 * MINUTE) {
      const valid = await gatehouse.validateSession(value);
      expect(valid, `at +${(clock - T0) / MINUTE} min`).not.toBeNull();
      expect(valid?.session.expiresAt.getTime()).toBeLessThanOrEqual(cap);
    }
    clock = cap;
    expect(await gatehouse.validateSession(value)).toBeNull();
  });
});

describe("ending database sessions", () => {
  it("logOut deletes the session, so the token no longer validates", async () => {
    const value = await signIn();
    const clear = await gatehouse.logOut(value);
    expect(clear).toMatch(/Max-Age=0/);
    expect(await gatehouse.validateSession(value)).toBeNull();
    expect(rawSessions()).toHaveLength(0);
  });

  it("logOut ends only that session; the user's other sessions stay", async () => {
    const first = await signIn();
    const second = await signIn();
    await gatehouse.logOut(first);
    expect(await gatehouse.validateSession(first)).toBeNull();
    expect(await gatehouse.validateSession(second)).not.toBeNull();
  });

  it("logOut with a wrong secret for a real id deletes nothing", async () => {
    const value = await signIn();
    const [id] = value.split(".") as [string];
    await gatehouse.logOut(`${id}.${"A".repeat(32)}`);
    expect(await gatehouse.validateSession(value)).not.toBeNull();
  });

  it("logIn revokes the session the request came with (no fixation)", async () => {
    const planted = await signIn();
    await gatehouse.users.create({ email: "bob@example.com", password: PASSWORD });
    const { setCookie } = await gatehouse.logIn({ email: "bob@example.com", password: PASSWORD }, { previousValue: planted });
    expect(await gatehouse.validateSession(planted)).toBeNull();
    const fresh = gatehouse.cookie.read(setCookie.split(";")[0]);
    expect((await gatehouse.validateSession(fresh))?.user.email).toBe("bob@example.com");
  });
});

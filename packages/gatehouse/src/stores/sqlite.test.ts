import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigurationError } from "../errors.js";
import type { SessionRecord, Store } from "../stores/types.js";
import { createSqliteStore, sqlitePathFromUrl } from "./sqlite.js";

describe("sqlitePathFromUrl", () => {
  it("resolves file:, sqlite: and plain relative paths from the working directory", () => {
    expect(sqlitePathFromUrl("file:data/app.db")).toBe(path.resolve("data/app.db"));
    expect(sqlitePathFromUrl("sqlite:app.db")).toBe(path.resolve("app.db"));
    expect(sqlitePathFromUrl("data/app.db")).toBe(path.resolve("data/app.db"));
  });

  it("keeps absolute paths", () => {
    expect(sqlitePathFromUrl("file:/var/db/app.db")).toBe("/var/db/app.db");
    expect(sqlitePathFromUrl("file:///var/db/app.db")).toBe("/var/db/app.db");
  });

  it("recognises in-memory databases", () => {
    expect(sqlitePathFromUrl(":memory:")).toBe(":memory:");
    expect(sqlitePathFromUrl("file::memory:")).toBe(":memory:");
  });

  it("refuses a URL without a path", () => {
    expect(() => sqlitePathFromUrl("file:")).toThrow(ConfigurationError);
  });

  it("percent-decodes file:// URLs (file:///tmp/my%20dir/app.db is /tmp/my dir/app.db)", () => {
    expect(sqlitePathFromUrl("file:///tmp/my%20dir/app.db")).toBe("/tmp/my dir/app.db");
  });
});

describe("createSqliteStore", () => {
  let dir: string;
  let dbFile: string;
  let store: Store;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-"));
    dbFile = path.join(dir, "nested", "folder", "gatehouse.db");
    store = createSqliteStore({ url: `file:${dbFile}` });
  });

  afterEach(async () => {
    await store.close().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const user = (id: string, email: string) => ({ id, email, name: null, role: "user", passwordHash: "$argon2id$x" });
  const T0 = Date.UTC(2030, 0, 1);
  const session = (id: string, userId: string, overrides: Partial<SessionRecord> = {}): SessionRecord => ({
    id,
    userId,
    secretHash: "h",
    userVersion: 0,
    revocationEpoch: 0,
    createdAt: new Date(T0),
    expiresAt: new Date(T0 + 3_600_000),
    lastSeenAt: new Date(T0),
    userAgent: null,
    ip: null,
    impersonatedBy: null,
    impersonatorEpoch: null,
    ...overrides,
  });
  function rawSession(id: string): Record<string, unknown> | undefined {
    const db = new Database(dbFile, { fileMustExist: true });
    try {
      return db.prepare("SELECT * FROM gatehouse_sessions WHERE id = ?").get(id) as Record<string, unknown> | undefined;
    } finally {
      db.close();
    }
  }

  it("creates missing folders and migrates before the first query", async () => {
    expect(await store.getUserByEmail("nobody@example.com")).toBeNull();
    expect(fs.existsSync(dbFile)).toBe(true);
    await store.migrate();
    await store.migrate();
  });

  it("rejects a second user with the same email with EmailTakenError", async () => {
    await store.createUser(user("u1", "ada@example.com"));
    await expect(store.createUser(user("u2", "ada@example.com"))).rejects.toMatchObject({
      code: "email_taken",
    });
  });

  it("deletes a user's sessions with the user", async () => {
    await store.createUser(user("u1", "ada@example.com"));
    await store.createSession(session("s1", "u1"));
    expect(await store.deleteUser("u1")).toBe(true);
    const db = new Database(dbFile, { fileMustExist: true });
    const count = db.prepare("SELECT COUNT(*) AS n FROM gatehouse_sessions").get() as { n: number };
    db.close();
    expect(count.n).toBe(0);
    expect(await store.getSessionAndUser("s1")).toBeNull();
  });

  it("bumps the session version and answers null for an unknown user", async () => {
    await store.createUser(user("u1", "ada@example.com"));
    expect(await store.bumpSessionVersion("u1")).toBe(1);
    expect(await store.bumpSessionVersion("u1")).toBe(2);
    expect((await store.getUserById("u1"))?.sessionVersion).toBe(2);
    expect(await store.bumpSessionVersion("nobody")).toBeNull();
  });

  it("returns a session with its user, every field as it was stored", async () => {
    await store.createUser(user("u1", "ada@example.com"));
    await store.bumpSessionVersion("u1");
    const stored = session("s1", "u1", {
      secretHash: "a".repeat(64),
      userVersion: 1,
      userAgent: "Firefox/140",
      ip: "203.0.113.7",
    });
    await store.createSession(stored);
    const found = await store.getSessionAndUser("s1");
    expect(found?.session).toEqual(stored);
    expect(found?.user).toMatchObject({ id: "u1", email: "ada@example.com", sessionVersion: 1 });
    expect(await store.getSessionAndUser("nope")).toBeNull();
  });

  it("lists all of a user's sessions, expired ones included, and no one else's", async () => {
    await store.createUser(user("u1", "ada@example.com"));
    await store.createUser(user("u2", "bob@example.com"));
    await store.createSession(session("s1", "u1"));
    await store.createSession(session("s2", "u1", { expiresAt: new Date(0) }));
    await store.createSession(session("s3", "u2"));
    expect((await store.listUserSessions("u1")).map((s) => s.id).sort()).toEqual(["s1", "s2"]);
    expect(await store.listUserSessions("nobody")).toEqual([]);
  });

  it("touches a session's last-seen time and expiry, and nothing else", async () => {
    await store.createUser(user("u1", "ada@example.com"));
    await store.createSession(session("s1", "u1"));
    await store.createSession(session("s2", "u1"));
    await store.touchSession("s1", { lastSeenAt: new Date(T0 + 60_000), expiresAt: new Date(T0 + 7_200_000) });
    expect(rawSession("s1")).toMatchObject({
      last_seen_at: T0 + 60_000,
      expires_at: T0 + 7_200_000,
      created_at: T0,
      user_version: 0,
    });
    expect(rawSession("s2")).toMatchObject({ last_seen_at: T0, expires_at: T0 + 3_600_000 });
  });

  it("deleteSession answers whether a session was deleted", async () => {
    await store.createUser(user("u1", "ada@example.com"));
    await store.createSession(session("s1", "u1"));
    expect(await store.deleteSession("s1")).toBe(true);
    expect(await store.deleteSession("s1")).toBe(false);
    expect(rawSession("s1")).toBeUndefined();
  });

  it("endSessions deletes the user's sessions but the one kept, and counts them", async () => {
    await store.createUser(user("u1", "ada@example.com"));
    await store.createUser(user("u2", "bob@example.com"));
    for (const id of ["s1", "s2", "s3"]) await store.createSession(session(id, "u1"));
    await store.createSession(session("b1", "u2"));
    expect(await store.endSessions("u1", { keep: "s2" })).toEqual({ ended: 2, epoch: 1 });
    expect((await store.listUserSessions("u1")).map((s) => [s.id, s.revocationEpoch])).toEqual([["s2", 1]]);
    expect(await store.endSessions("u1", { keep: "b1" })).toEqual({ ended: 1, epoch: 2 });
    expect(await store.listUserSessions("u1")).toEqual([]);
    expect(await store.endSessions("u1")).toEqual({ ended: 0, epoch: 3 });
    expect(rawSession("b1")).toMatchObject({ revocation_epoch: 0 });
  });

  it("fails closed with StoreUnavailableError (503) once the database is gone", async () => {
    await store.createUser(user("u1", "ada@example.com"));
    await store.close();
    await expect(store.getUserById("u1")).rejects.toMatchObject({ code: "unavailable" });
    await expect(store.getSessionAndUser("s1")).rejects.toMatchObject({ code: "unavailable" });
  });
});

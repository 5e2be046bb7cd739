import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigurationError } from "../errors.js";
import type { Store } from "../store/types.js";
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

  it("creates missing folders and migrates before the first query", async () => {
    expect(await store.getUserByEmail("nobody@example.com")).toBeNull();
    expect(fs.existsSync(dbFile)).toBe(true);
    await store.migrate();
    await store.migrate();
  });

  it("rejects a second user with the same email with EmailTakenError", async () => {
    await store.createUser(user("u1", "ada@example.com"));
    await expect(store.createUser(user("u2", "ada@example.com"))).rejects.toMatchObject({ code: "email_taken", status: 409 });
  });

  it("deletes a user's sessions with the user", async () => {
    await store.createUser(user("u1", "ada@example.com"));
    const now = new Date();
    await store.createSession({ id: "s1", userId: "u1", secretHash: "h", createdAt: now, expiresAt: now, userAgent: null, ip: null });
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

  it("fails closed with StoreUnavailableError (503) once the database is gone", async () => {
    await store.createUser(user("u1", "ada@example.com"));
    await store.close();
    await expect(store.getUserById("u1")).rejects.toMatchObject({ code: "unavailable", status: 503 });
    await expect(store.getSessionAndUser("s1")).rejects.toMatchObject({ code: "unavailable" });
  });
});

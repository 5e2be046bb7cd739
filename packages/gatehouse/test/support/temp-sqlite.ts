import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { createSqliteStore } from "../../src/stores/sqlite.js";
import type { Store } from "../../src/stores/types.js";

/** A SQLite database file in a temp folder of its own: the file counterpart of createPostgresDatabase(). */
export interface TempSqliteDatabase {
  /** The folder; it holds nothing but the database (and its -wal and -shm files). */
  dir: string;
  file: string;
  /** What the SQLite store takes as `url`. */
  url: string;
  /** Deletes the folder with everything in it. */
  drop(): Promise<void>;
}

export function createSqliteDatabase(): TempSqliteDatabase {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-"));
  const file = path.join(dir, "gatehouse.db");
  return {
    dir,
    file,
    url: `file:${file}`,
    async drop() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A SQLite store on a fresh temp file. */
export interface TempSqliteStore {
  store: Store;
  dir: string;
  dbFile: string;
  /** Closes the store, then deletes its file: the store must let go of the file first. */
  close(): Promise<void>;
}

export function openTempSqliteStore(): TempSqliteStore {
  const database = createSqliteDatabase();
  const store = createSqliteStore({ url: database.url });
  return {
    store,
    dir: database.dir,
    dbFile: database.file,
    async close() {
      await store.close();
      await database.drop();
    },
  };
}

/**
 * Runs `query` on a SQLite file through a connection of its own, not through the store: a check then sees
 * what is really on disk, so a store cannot pass by agreeing with itself.
 */
export function querySqliteFile<T>(file: string, query: (db: Database.Database) => T): T {
  const db = new Database(file, { fileMustExist: true });
  try {
    return query(db);
  } finally {
    db.close();
  }
}

/** Every row of Gatehouse's tables in a SQLite file, sorted, read through a connection of its own. */
export interface RawSqliteTables {
  users: Array<Record<string, unknown>>;
  sessions: Array<Record<string, unknown>>;
  rateLimits: Array<Record<string, unknown>>;
}

/**
 * The whole of what Gatehouse stores in a SQLite file: compare two of these to show that a refused request
 * changed nothing at all.
 */
export function rawSqliteTables(file: string): RawSqliteTables {
  return querySqliteFile(file, (db) => {
    const all = (query: string) => db.prepare(query).all() as Array<Record<string, unknown>>;
    const hasLimits = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'gatehouse_rate_limits'")
      .get();
    return {
      users: all("SELECT * FROM gatehouse_users ORDER BY id"),
      sessions: all("SELECT * FROM gatehouse_sessions ORDER BY id"),
      rateLimits: hasLimits ? all("SELECT * FROM gatehouse_rate_limits ORDER BY key") : [],
    };
  });
}

/** The user row with this (normalised) email, read raw, or `undefined`. */
export function rawUserByEmail(file: string, email: string): Record<string, unknown> | undefined {
  const query = "SELECT * FROM gatehouse_users WHERE email = ?";
  return querySqliteFile(file, (db) => db.prepare(query).get(email) as Record<string, unknown> | undefined);
}

/** The ids of the user's session rows, sorted, read raw. */
export function rawSessionIdsOf(file: string, userId: string): string[] {
  const query = "SELECT id FROM gatehouse_sessions WHERE user_id = ? ORDER BY id";
  return querySqliteFile(file, (db) => (db.prepare(query).all(userId) as Array<{ id: string }>).map((row) => row.id));
}

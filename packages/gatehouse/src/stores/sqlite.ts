import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, type SqliteDatabase, SqliteDialect } from "kysely";
import { ConfigurationError } from "../errors.js";
import { createKyselyStore } from "./kysely-store.js";
import type { Database } from "./schema.js";
import type { Store } from "./types.js";

/** Migration passes of this process, one queue per database file. */
const migrationQueues = new Map<unknown, Promise<unknown>>();

/** Options for {@link createSqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * `file:<path>` (as in `DATABASE_URL`), a plain path, or `:memory:`. Relative paths resolve from the
   * current working directory. Missing folders are created.
   */
  url: string;
  /** How long a write waits for a lock held by another connection before failing, in ms. Default 5000. */
  busyTimeoutMs?: number;
  /** Apply pending migrations before the first query. Default `true`. */
  autoMigrate?: boolean;
  /** Clock in milliseconds since the epoch, for the times the store writes; replace it in tests. */
  now?: () => number;
}

/**
 * The embedded default store: SQLite through Kysely and better-sqlite3. Nothing to install or start.
 * One machine only; use PostgreSQL or MySQL for several app instances.
 *
 * @example
 * ```ts
 * import { createSqliteStore } from "gatehouse-auth/stores/sqlite";
 * const store = createSqliteStore({ url: process.env.DATABASE_URL ?? "file:data/gatehouse.db" });
 * ```
 */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  const path = sqlitePathFromUrl(options.url);
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const database = new BetterSqlite3(path, { timeout: options.busyTimeoutMs ?? 5000 });
  // WAL lets readers (every session check) proceed while a sign-up writes.
  database.pragma("journal_mode = WAL");
  database.pragma("synchronous = NORMAL");
  database.pragma("foreign_keys = ON");
  const cached = withStatementCache(database);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cached }) });

  return createKyselyStore(
    db,
    {
      isUniqueViolation(error) {
        const code = (error as { code?: unknown } | null)?.code;
        return code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
      },
      upsert: "on-conflict",
      migrationLock(run) {
        // Kysely's SQLite migration lock is a no-op, so stores of this process on one file queue their passes
        // here. A transaction around the pass would not do: better-sqlite3 waits for a lock synchronously, so
        // another store of this very process waiting on it would block the event loop the pass needs.
        const key = path === ":memory:" ? database : path;
        const pass = (migrationQueues.get(key) ?? Promise.resolve()).then(run);
        const settled = pass.catch(() => undefined);
        migrationQueues.set(key, settled);
        void settled.then(() => {
          if (migrationQueues.get(key) === settled) migrationQueues.delete(key);
        });
        return pass;
      },
      // better-sqlite3's transactions run synchronously: nothing else of this process runs while one holds
      // the lock, so another connection of it can never wait on the lock with the event loop blocked.
      async batch(queries) {
        return database.transaction(() =>
          queries.map((query) => {
            const statement = cached.prepare(query.sql);
            if (statement.reader) return statement.all(query.parameters);
            statement.run(query.parameters);
            return [];
          }),
        )();
      },
      batchIfChanged: async (first, rest) =>
        database.transaction(() => {
          if (cached.prepare(first.sql).run(first.parameters).changes === 0) return false;
          for (const query of rest) cached.prepare(query.sql).run(query.parameters);
          return true;
        })(),
      rowLocks: "write-lock",
      prepare(query) {
        const statement = database.prepare(query.sql);
        return async (parameters) => statement.get(...parameters);
      },
    },
    // better-sqlite3 is synchronous and in-process: a timer could never fire before it returns.
    { autoMigrate: options.autoMigrate ?? true, timeoutMs: undefined, now: options.now ?? Date.now },
  );
}

/** Statements kept per connection; Gatehouse issues a few dozen distinct ones. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely prepares every query anew, and preparing costs more than running these small queries. Kysely's
 * SQL text has placeholders for every value, so a statement can be prepared once per text and reused.
 */
function withStatementCache(
  database: BetterSqlite3.Database,
): SqliteDatabase & { prepare(sql: string): BetterSqlite3.Statement } {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => database.close(),
    prepare(sql) {
      let statement = statements.get(sql);
      if (!statement) {
        statement = database.prepare(sql);
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value as string);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

/**
 * Turns `file:data/app.db`, `file:///abs/app.db`, `sqlite:app.db` or a plain path into a file system path.
 *
 * @example
 * ```ts
 * sqlitePathFromUrl("file:data/app.db"); // "/srv/app/data/app.db" when run from /srv/app
 * ```
 */
export function sqlitePathFromUrl(url: string): string {
  if (url === ":memory:" || url === "file::memory:") return ":memory:";
  let path = url;
  if (path.startsWith("file://")) path = fileURLToPath(path);
  else if (path.startsWith("file:")) path = path.slice("file:".length);
  else if (path.startsWith("sqlite:")) path = path.slice("sqlite:".length);
  if (path.length === 0) throw new ConfigurationError(`DATABASE_URL "${url}" has no file path. Use file:<path>.`);
  return resolve(path);
}

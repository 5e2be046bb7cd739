/**
 * Builds the {@link Harness} of each backend file. The SQL backends differ only in how a database is made and
 * reached (a {@link SqlBackend}); the Redis-sessions backends are one of those with sessions moved to Redis.
 */
import BetterSqlite3 from "better-sqlite3";
import { Redis } from "ioredis";
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect } from "kysely";
import { createPool } from "mysql2";
import pg from "pg";
import { createMysqlStore } from "../../src/stores/mysql.js";
import { createPostgresStore } from "../../src/stores/postgres.js";
import { createRedisStore } from "../../src/stores/redis.js";
import { createSqliteStore } from "../../src/stores/sqlite.js";
import type { Store } from "../../src/stores/types.js";
import { createMysqlDatabase, createPostgresDatabase, createRedisPrefix, REDIS_URL } from "../support/services.js";
import { createSqliteDatabase } from "../support/temp-sqlite.js";
import { composeStores } from "./compose.js";
import {
  type FreshDatabase,
  type Harness,
  type NetworkedBackend,
  type RawTables,
  redisSessionReader,
  sqlMigrationTable,
  sqlRawReader,
} from "./suite.js";

/** What one SQL backend needs to be tested: everything else about its harness is the same for all of them. */
export interface SqlBackend {
  /** An empty database of this kind, of the test file's own; `drop()` deletes it. */
  createDatabase(): Promise<{ url: string; drop(): Promise<void> }>;
  /** The store under test; `autoMigrate` is left to the store's default unless given. */
  createStore(url: string, options?: { autoMigrate: boolean }): Store;
  /** A raw connection of the test's own (not the store's pool), so checks do not go through the store. */
  rawConnection(url: string): Kysely<RawTables>;
  /** For a networked backend: a store whose server is at 127.0.0.1:`port`, for the outage checks. */
  storeAt?(port: number, options: { timeoutMs: number }): Store;
  /** Whether stores of one process may run transactions at once (see {@link Harness.concurrentTransactions}). */
  concurrentTransactions: boolean;
}

export const sqliteBackend: SqlBackend = {
  createDatabase: async () => createSqliteDatabase(),
  createStore: (url, options) => createSqliteStore({ url, ...options }),
  // The url is `file:` and the path (createSqliteDatabase); better-sqlite3 takes the bare path.
  rawConnection: (url) =>
    new Kysely<RawTables>({ dialect: new SqliteDialect({ database: new BetterSqlite3(url.slice("file:".length)) }) }),
  concurrentTransactions: false,
};

export const postgresBackend: SqlBackend = {
  createDatabase: createPostgresDatabase,
  createStore: (url, options) => createPostgresStore({ url, ...options }),
  rawConnection(url) {
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    // pool.end() resolves before its sockets have closed, so the DROP DATABASE … WITH (FORCE) of the teardown
    // can still terminate one of them: expected then, and only then.
    pool.on("error", (error) => {
      if (!pool.ending) throw error;
    });
    return new Kysely<RawTables>({ dialect: new PostgresDialect({ pool }) });
  },
  storeAt: (port, { timeoutMs }) =>
    createPostgresStore({ url: `postgres://postgres@127.0.0.1:${port}/gatehouse`, timeoutMs }),
  concurrentTransactions: true,
};

export const mysqlBackend: SqlBackend = {
  createDatabase: createMysqlDatabase,
  createStore: (url, options) => createMysqlStore({ url, ...options }),
  rawConnection: (url) =>
    new Kysely<RawTables>({ dialect: new MysqlDialect({ pool: createPool({ uri: url, connectionLimit: 2 }) }) }),
  storeAt: (port, { timeoutMs }) => createMysqlStore({ url: `mysql://root@127.0.0.1:${port}/gatehouse`, timeoutMs }),
  concurrentTransactions: true,
};

/** The harness of a SQL store on a database of its own, with the migration checks on further fresh databases. */
export function sqlHarness(backend: SqlBackend): () => Promise<Harness> {
  return async () => {
    const database = await backend.createDatabase();
    const store = backend.createStore(database.url);
    const raw = backend.rawConnection(database.url);
    const networked: NetworkedBackend | undefined = backend.storeAt && {
      storeAt: backend.storeAt,
      serves: ["users", "sessions"],
    };

    return {
      store,
      raw: sqlRawReader(raw),
      newStore: () => backend.createStore(database.url),
      concurrentTransactions: backend.concurrentTransactions,
      ...(networked && { networked }),
      async freshDatabase(): Promise<FreshDatabase> {
        const fresh = await backend.createDatabase();
        const freshRaw = backend.rawConnection(fresh.url);
        return {
          createStore: ({ autoMigrate }) => backend.createStore(fresh.url, { autoMigrate }),
          ...sqlMigrationTable(freshRaw),
          async drop() {
            await freshRaw.destroy();
            await fresh.drop();
          },
        };
      },
      async teardown() {
        await store.close();
        await raw.destroy();
        await database.drop();
      },
    };
  };
}

/**
 * The harness of a SQL store for users with a Redis store for sessions and counters, under a key prefix of the test
 * file's own. No migration checks: the schema belongs to the SQL store, and its own file runs them.
 */
export function redisSessionsHarness(users: SqlBackend): () => Promise<Harness> {
  return async () => {
    const database = await users.createDatabase();
    const keys = createRedisPrefix();
    const open = () =>
      composeStores(users.createStore(database.url), createRedisStore({ url: REDIS_URL, keyPrefix: keys.prefix }));
    const store = open();
    const sql = users.rawConnection(database.url);
    const redis = new Redis(REDIS_URL);
    const { raw, sessionKeys, rateLimitKeys } = redisSessionReader(redis, keys.prefix, sqlRawReader(sql));
    // A SQLite users store is not on the network: it stays on its healthy file while Redis is down.
    const usersAt = (port: number, options: { timeoutMs: number }) =>
      users.storeAt ? users.storeAt(port, options) : users.createStore(database.url);

    return {
      store,
      raw,
      sessionKeys,
      rateLimitKeys,
      newStore: open,
      // The transactions that races check are the SQL store's.
      concurrentTransactions: users.concurrentTransactions,
      networked: {
        storeAt: (port, { timeoutMs }) =>
          composeStores(
            usersAt(port, { timeoutMs }),
            createRedisStore({ url: `redis://127.0.0.1:${port}`, keyPrefix: keys.prefix, timeoutMs }),
          ),
        serves: users.storeAt ? ["users", "sessions"] : ["sessions"],
      },
      async teardown() {
        await store.close();
        await redis.quit();
        await sql.destroy();
        await database.drop();
        await keys.drop();
      },
    };
  };
}

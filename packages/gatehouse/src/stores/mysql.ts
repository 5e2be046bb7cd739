import { Kysely, MysqlDialect } from "kysely";
import { createPool } from "mysql2";
import { createKyselyStore } from "./kysely-store.js";
import type { Database } from "./schema.js";
import type { Store } from "./types.js";

/** Options for {@link createMysqlStore}. */
export interface MysqlStoreOptions {
  /** `mysql://user:password@host:3306/database` (MySQL 8 or MariaDB 10.6+). */
  url: string;
  /** Most connections this instance opens. Default 10. */
  maxConnections?: number;
  /** A store call that takes longer fails with 503 `unavailable`, in ms. Default 5000. */
  timeoutMs?: number;
  /** Apply pending migrations before the first query. Default `true`; `false` only checks the schema. */
  autoMigrate?: boolean;
  /** Clock in milliseconds since the epoch, for the times the store writes; replace it in tests. */
  now?: () => number;
}

/**
 * MySQL or MariaDB through Kysely and `mysql2`: the same queries and migrations as the other SQL stores.
 *
 * @example
 * ```ts
 * import { createMysqlStore } from "gatehouse-auth/stores/mysql";
 * const store = createMysqlStore({ url: process.env.DATABASE_URL! });
 * ```
 */
export function createMysqlStore(options: MysqlStoreOptions): Store {
  const timeoutMs = options.timeoutMs ?? 5000;
  const pool = createPool({
    uri: options.url,
    connectionLimit: options.maxConnections ?? 10,
    connectTimeout: timeoutMs,
    // BIGINT millisecond times fit in a double; read them as numbers, not strings.
    supportBigNumbers: true,
    bigNumberStrings: false,
    charset: "utf8mb4",
  });
  const db = new Kysely<Database>({ dialect: new MysqlDialect({ pool }) });
  return createKyselyStore(
    db,
    {
      isUniqueViolation: (error) => (error as { code?: unknown } | null)?.code === "ER_DUP_ENTRY",
      isDeadlock: (error) => (error as { code?: unknown } | null)?.code === "ER_LOCK_DEADLOCK",
      upsert: "on-duplicate-key",
      rowLocks: "for-update",
    },
    { autoMigrate: options.autoMigrate ?? true, timeoutMs, now: options.now ?? Date.now },
  );
}

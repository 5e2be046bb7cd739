import { createHash } from "node:crypto";
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from "kysely";
import pg from "pg";
import { createKyselyStore } from "./kysely-store.js";
import type { Database } from "./schema.js";
import type { Store } from "./types.js";

/** Options for {@link createPostgresStore}. */
export interface PostgresStoreOptions {
  /** `postgres://user:password@host:5432/database` (`postgresql://` too). */
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
 * PostgreSQL through Kysely and `pg`: for production and for several app instances sharing one database.
 * Connection, query and statement timeouts are all set, so a database that hangs fails requests (503)
 * instead of piling them up; the pool reconnects by itself when the database comes back.
 *
 * @example
 * ```ts
 * import { createPostgresStore } from "gatehouse-auth/stores/postgres";
 * const store = createPostgresStore({ url: process.env.DATABASE_URL! });
 * ```
 */
export function createPostgresStore(options: PostgresStoreOptions): Store {
  const timeoutMs = options.timeoutMs ?? 5000;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    statement_timeout: timeoutMs,
    keepAlive: true,
  });
  // An idle connection that dies (the server restarts) must not crash the process; the pool replaces it.
  pool.on("error", (error) => console.error("gatehouse: PostgreSQL connection lost:", error.message));
  const connections = discardingBrokenConnections(pool);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: connections }) });
  return createKyselyStore(
    db,
    {
      isUniqueViolation: (error) => (error as { code?: unknown } | null)?.code === "23505",
      isDeadlock: (error) => (error as { code?: unknown } | null)?.code === "40P01",
      upsert: "on-conflict",
      rowLocks: "for-update",
      prepare(query) {
        // A named statement is parsed and planned once per connection, not on every request.
        const name = `gatehouse_${createHash("sha256").update(query.sql).digest("hex").slice(0, 24)}`;
        return async (values) => (await connections.run({ name, text: query.sql, values: [...values] })).rows[0];
      },
    },
    { autoMigrate: options.autoMigrate ?? true, timeoutMs, now: options.now ?? Date.now },
  );
}

/**
 * A pool whose connections are destroyed, not reused, after a failure that is not the database's own
 * answer (a timeout, a reset). `pg` leaves a timed-out query running on its connection; reusing it would
 * queue every later query behind a link that may never answer, so the app could not recover.
 */
function discardingBrokenConnections(
  pool: pg.Pool,
): PostgresPool & { run(query: pg.QueryConfig): Promise<pg.QueryResult> } {
  /** Runs one query; marks the connection broken when the failure is not the server's own answer. */
  async function runOn(
    client: pg.PoolClient,
    query: pg.QueryConfig,
    markBroken: (error: Error) => void,
  ): Promise<pg.QueryResult> {
    try {
      return await client.query(query);
    } catch (error) {
      // Errors the server sent carry a severity; anything else means the connection itself failed. A named
      // statement whose plan no longer fits the schema (a migration changed a column) fails on this
      // connection for good: drop the connection, and the next one prepares it afresh.
      const code = (error as { code?: unknown } | null)?.code;
      if (!(error instanceof Error && "severity" in error) || code === "0A000" || code === "26000") {
        markBroken(error instanceof Error ? error : new Error(String(error)));
      }
      throw error;
    }
  }
  return {
    async connect() {
      const client = await pool.connect();
      let broken: Error | undefined;
      const markBroken = (error: Error) => {
        broken = error;
      };
      // Kysely only streams (passes a cursor) for `.stream()`, which Gatehouse never uses.
      const query = ((text: string, values: ReadonlyArray<unknown>) =>
        runOn(client, { text, values: values as unknown[] }, markBroken)) as unknown as PostgresPoolClient["query"];
      return { query, release: () => client.release(broken) };
    },
    async run(query) {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        return await runOn(client, query, (error) => {
          broken = error;
        });
      } finally {
        client.release(broken);
      }
    },
    end: () => pool.end(),
  };
}

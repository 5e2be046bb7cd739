import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { describe } from "vitest";
import { createPostgresStore } from "../../src/stores/postgres.js";
import { createPostgresDatabase, requireService } from "../support/services.js";
import { describeStoreConformance, type FreshDatabase, type RawTables, sqlMigrationTable, sqlRawReader } from "./suite.js";

const available = await requireService("postgres");

/** A raw connection of the test's own (not the store's pool). */
function rawConnection(url: string): Kysely<RawTables> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  // pool.end() resolves before its sockets have closed, so the DROP DATABASE … WITH (FORCE) of the teardown
  // can still terminate one of them: expected then, and only then.
  pool.on("error", (error) => {
    if (!pool.ending) throw error;
  });
  return new Kysely<RawTables>({ dialect: new PostgresDialect({ pool }) });
}

describe.skipIf(!available)("PostgreSQL", () => {
  describeStoreConformance("PostgreSQL", async () => {
    const database = await createPostgresDatabase();
    const store = createPostgresStore({ url: database.url });
    const raw = rawConnection(database.url);

    return {
      store,
      raw: sqlRawReader(raw),
      newStore: () => createPostgresStore({ url: database.url }),
      networked: {
        storeAt: (port, { timeoutMs }) =>
          createPostgresStore({ url: `postgres://postgres@127.0.0.1:${port}/gatehouse`, timeoutMs }),
        serves: ["users", "sessions"],
      },
      async freshDatabase(): Promise<FreshDatabase> {
        const fresh = await createPostgresDatabase();
        const freshRaw = rawConnection(fresh.url);
        return {
          createStore: ({ autoMigrate }) => createPostgresStore({ url: fresh.url, autoMigrate }),
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
  });
});

import { Kysely, MysqlDialect } from "kysely";
import { createPool } from "mysql2";
import { describe } from "vitest";
import { createMysqlStore } from "../../src/stores/mysql.js";
import { createMysqlDatabase, requireService } from "../support/services.js";
import { describeStoreConformance, type FreshDatabase, type RawTables, sqlMigrationTable, sqlRawReader } from "./suite.js";

const available = await requireService("mysql");

/** A raw connection of the test's own (not the store's pool). */
function rawConnection(url: string): Kysely<RawTables> {
  return new Kysely<RawTables>({ dialect: new MysqlDialect({ pool: createPool({ uri: url, connectionLimit: 2 }) }) });
}

describe.skipIf(!available)("MySQL/MariaDB", () => {
  describeStoreConformance("MySQL/MariaDB", async () => {
    const database = await createMysqlDatabase();
    const store = createMysqlStore({ url: database.url });
    const raw = rawConnection(database.url);

    return {
      store,
      raw: sqlRawReader(raw),
      newStore: () => createMysqlStore({ url: database.url }),
      networked: {
        storeAt: (port, { timeoutMs }) => createMysqlStore({ url: `mysql://root@127.0.0.1:${port}/gatehouse`, timeoutMs }),
        serves: ["users", "sessions"],
      },
      async freshDatabase(): Promise<FreshDatabase> {
        const fresh = await createMysqlDatabase();
        const freshRaw = rawConnection(fresh.url);
        return {
          createStore: ({ autoMigrate }) => createMysqlStore({ url: fresh.url, autoMigrate }),
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

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { createSqliteStore } from "../../src/stores/sqlite.js";
import { describeStoreConformance, type FreshDatabase, type RawTables, sqlMigrationTable, sqlRawReader } from "./suite.js";

/** A raw connection of the test's own to a SQLite file. */
function rawConnection(file: string): Kysely<RawTables> {
  return new Kysely<RawTables>({ dialect: new SqliteDialect({ database: new BetterSqlite3(file) }) });
}

describeStoreConformance("SQLite", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-conformance-"));
  const file = path.join(dir, "gatehouse.db");
  const store = createSqliteStore({ url: `file:${file}` });
  const raw = rawConnection(file);
  let freshCount = 0;

  return {
    store,
    raw: sqlRawReader(raw),
    newStore: () => createSqliteStore({ url: `file:${file}` }),
    async freshDatabase(): Promise<FreshDatabase> {
      const freshFile = path.join(dir, `fresh-${++freshCount}.db`);
      const freshRaw = rawConnection(freshFile);
      return {
        createStore: ({ autoMigrate }) => createSqliteStore({ url: `file:${freshFile}`, autoMigrate }),
        ...sqlMigrationTable(freshRaw),
        async drop() {
          await freshRaw.destroy();
          for (const suffix of ["", "-wal", "-shm"]) fs.rmSync(freshFile + suffix, { force: true });
        },
      };
    },
    async teardown() {
      await store.close();
      await raw.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

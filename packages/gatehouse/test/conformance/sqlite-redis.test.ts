import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Redis } from "ioredis";
import { Kysely, SqliteDialect } from "kysely";
import { describe } from "vitest";
import { withRedisSessions } from "../../src/stores/redis.js";
import { createSqliteStore } from "../../src/stores/sqlite.js";
import { createRedisPrefix, REDIS_URL, requireService } from "../support/services.js";
import { describeStoreConformance, type RawTables, redisSessionReader, sqlRawReader } from "./suite.js";

const available = await requireService("redis");

// The migration checks run in sqlite.test.ts: the schema belongs to the SQLite store, and Redis has none.
describe.skipIf(!available)("SQLite users, Redis sessions", () => {
  describeStoreConformance("SQLite + Redis sessions", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-conformance-"));
    const file = path.join(dir, "gatehouse.db");
    const keys = createRedisPrefix();
    const open = () => withRedisSessions(createSqliteStore({ url: `file:${file}` }), { url: REDIS_URL, keyPrefix: keys.prefix });
    const store = open();
    const sql = new Kysely<RawTables>({ dialect: new SqliteDialect({ database: new BetterSqlite3(file) }) });
    const redis = new Redis(REDIS_URL);
    const { raw, sessionKeys } = redisSessionReader(redis, keys.prefix, sqlRawReader(sql));

    return {
      store,
      raw,
      sessionKeys,
      newStore: open,
      networked: {
        // Only Redis is on the network: users stay in a healthy SQLite file.
        storeAt: (port, { timeoutMs }) =>
          withRedisSessions(createSqliteStore({ url: `file:${file}` }), {
            url: `redis://127.0.0.1:${port}`,
            keyPrefix: keys.prefix,
            timeoutMs,
          }),
        serves: ["sessions"],
      },
      async teardown() {
        await store.close();
        await redis.quit();
        await sql.destroy();
        fs.rmSync(dir, { recursive: true, force: true });
        await keys.drop();
      },
    };
  });
});

import { Redis } from "ioredis";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { describe } from "vitest";
import { createPostgresStore } from "../../src/stores/postgres.js";
import { withRedisSessions } from "../../src/stores/redis.js";
import { createPostgresDatabase, createRedisPrefix, REDIS_URL, requireService } from "../support/services.js";
import { describeStoreConformance, type RawTables, redisSessionReader, sqlRawReader } from "./suite.js";

const [postgresUp, redisUp] = await Promise.all([requireService("postgres"), requireService("redis")]);
const available = postgresUp && redisUp;

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

// The migration checks run in postgres.test.ts: the schema belongs to the PostgreSQL store, and Redis has none.
describe.skipIf(!available)("PostgreSQL users, Redis sessions", () => {
  describeStoreConformance("PostgreSQL + Redis sessions", async () => {
    const database = await createPostgresDatabase();
    const keys = createRedisPrefix();
    const open = () => withRedisSessions(createPostgresStore({ url: database.url }), { url: REDIS_URL, keyPrefix: keys.prefix });
    const store = open();
    const sql = rawConnection(database.url);
    const redis = new Redis(REDIS_URL);
    const { raw, sessionKeys } = redisSessionReader(redis, keys.prefix, sqlRawReader(sql));

    return {
      store,
      raw,
      sessionKeys,
      newStore: open,
      networked: {
        storeAt: (port, { timeoutMs }) =>
          withRedisSessions(createPostgresStore({ url: `postgres://postgres@127.0.0.1:${port}/gatehouse`, timeoutMs }), {
            url: `redis://127.0.0.1:${port}`,
            keyPrefix: keys.prefix,
            timeoutMs,
          }),
        serves: ["users", "sessions"],
      },
      async teardown() {
        await store.close();
        await redis.quit();
        await sql.destroy();
        await database.drop();
        await keys.drop();
      },
    };
  });
});

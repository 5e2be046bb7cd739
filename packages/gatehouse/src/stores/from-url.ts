import { ConfigurationError } from "../errors.js";
import type { Store } from "../store/types.js";

/** Options for {@link createStoreFromUrl}. */
export interface StoreFromUrlOptions {
  /** `file:<path>` (SQLite), `postgres://…` / `postgresql://…`, or `mysql://…` / `mariadb://…`. */
  databaseUrl: string;
  /** When set, sessions live in this Redis (`redis://…`, `rediss://…`) and users in the database. */
  redisUrl?: string | undefined;
  /** Prefix of the Redis keys. Default `gatehouse:`. */
  redisKeyPrefix?: string | undefined;
  /** Apply pending migrations before the first query. Default `true`. */
  autoMigrate?: boolean;
}

/** The kind of database a `DATABASE_URL` names, or `null` for an unsupported scheme. */
export function databaseKind(url: string): "sqlite" | "postgres" | "mysql" | null {
  if (url === ":memory:" || url.startsWith("file:") || url.startsWith("sqlite:")) return "sqlite";
  if (/^postgres(ql)?:\/\//.test(url)) return "postgres";
  if (/^(mysql|mariadb):\/\//.test(url)) return "mysql";
  return null;
}

/**
 * Picks the store from `DATABASE_URL`'s scheme (and `REDIS_URL`), loading only the driver it needs, so an
 * app on SQLite never needs `pg`, `mysql2` or `ioredis` installed. The store is returned at once; the
 * driver loads on its first call.
 *
 * @example
 * ```ts
 * const store = createStoreFromUrl({ databaseUrl: process.env.DATABASE_URL!, redisUrl: process.env.REDIS_URL });
 * ```
 */
export function createStoreFromUrl(options: StoreFromUrlOptions): Store {
  const kind = databaseKind(options.databaseUrl);
  if (!kind) {
    throw new ConfigurationError(
      `Unsupported DATABASE_URL scheme "${options.databaseUrl.split(":", 1)[0]}:". Use file:<path>, postgres://… or mysql://….`,
    );
  }
  if (options.redisUrl !== undefined && !/^rediss?:\/\//.test(options.redisUrl)) {
    throw new ConfigurationError("REDIS_URL must start with redis:// or rediss://.");
  }
  const autoMigrate = options.autoMigrate ?? true;
  return createLazyStore(async () => {
    let store: Store;
    if (kind === "sqlite") {
      const { createSqliteStore } = await import("./sqlite.js");
      store = createSqliteStore({ url: options.databaseUrl, autoMigrate });
    } else if (kind === "postgres") {
      const { createPostgresStore } = await import("./postgres.js");
      store = createPostgresStore({ url: options.databaseUrl, autoMigrate });
    } else {
      const { createMysqlStore } = await import("./mysql.js");
      store = createMysqlStore({ url: options.databaseUrl.replace(/^mariadb:/, "mysql:"), autoMigrate });
    }
    if (!options.redisUrl) return store;
    const { withRedisSessions } = await import("./redis.js");
    return withRedisSessions(store, { url: options.redisUrl, keyPrefix: options.redisKeyPrefix });
  });
}

/** A store whose backend is created on first use; every method waits for it. */
function createLazyStore(load: () => Promise<Store>): Store {
  let loaded: Promise<Store> | undefined;
  const get = () => (loaded ??= load());
  const method =
    <K extends keyof Store>(name: K) =>
    async (...args: Parameters<Store[K]>): Promise<Awaited<ReturnType<Store[K]>>> =>
      ((await get())[name] as (...a: Parameters<Store[K]>) => ReturnType<Store[K]>)(...args) as Awaited<
        ReturnType<Store[K]>
      >;
  return {
    migrate: method("migrate"),
    createUser: method("createUser"),
    getUserById: method("getUserById"),
    getUserByEmail: method("getUserByEmail"),
    listUsers: method("listUsers"),
    updateUser: method("updateUser"),
    bumpSessionVersion: method("bumpSessionVersion"),
    deleteUser: method("deleteUser"),
    endSessions: method("endSessions"),
    createToken: method("createToken"),
    consumeToken: method("consumeToken"),
    deleteUserTokens: method("deleteUserTokens"),
    addOutboxMessage: method("addOutboxMessage"),
    listOutboxMessages: method("listOutboxMessages"),
    createSession: method("createSession"),
    getSessionAndUser: method("getSessionAndUser"),
    listUserSessions: method("listUserSessions"),
    touchSession: method("touchSession"),
    deleteSession: method("deleteSession"),
    hitRateLimit: method("hitRateLimit"),
    peekRateLimit: method("peekRateLimit"),
    resetRateLimit: method("resetRateLimit"),
    resetRateLimitFamily: method("resetRateLimitFamily"),
    reserveAttempt: method("reserveAttempt"),
    settleAttempts: method("settleAttempts"),
    sweepExpired: method("sweepExpired"),
    close: async () => {
      if (loaded) await (await loaded).close();
    },
  };
}

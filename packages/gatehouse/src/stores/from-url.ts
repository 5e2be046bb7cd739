import { ConfigurationError } from "../errors.js";
import type { RedisStore } from "./redis.js";
import type { StoreOptions } from "./types.js";

/** Options for {@link createStoreFromUrl}. */
export interface StoreFromUrlOptions {
  /** `file:<path>` (SQLite), `postgres://…` / `postgresql://…`, or `mysql://…` / `mariadb://…`. */
  databaseUrl: string;
  /** When set, sessions and rate-limit counters live in this Redis (`redis://…`, `rediss://…`). */
  redisUrl?: string | undefined;
  /** Prefix of the Redis keys. Default `gatehouse:`. */
  redisKeyPrefix?: string | undefined;
  /** Apply pending migrations before the first query. Default `true`. */
  autoMigrate?: boolean;
}

/** The stores a URL names, by role (spread them into `createGatehouse`), and one way to migrate and close them all. */
export interface StoresFromUrl extends StoreOptions {
  /** Applies the database's pending migrations and checks that Redis (if any) answers. */
  migrate(): Promise<void>;
  /** Releases every connection. */
  close(): Promise<void>;
}

/**
 * Why `url` names no supported database, without repeating any of it but a scheme: a value that is not a URL
 * at all may be a password pasted into the wrong variable.
 *
 * @example
 * ```ts
 * unsupportedDatabaseUrl("mongodb://admin:pw@db/app"); // 'Unsupported DATABASE_URL scheme "mongodb:". Use …'
 * ```
 */
export function unsupportedDatabaseUrl(url: string): string {
  const scheme = /^[a-z][a-z\d+.-]*:\/\//i.exec(url)?.[0];
  const what = scheme ? `Unsupported DATABASE_URL scheme "${scheme.slice(0, -2)}"` : "DATABASE_URL is not a URL";
  return `${what}. Use file:<path>, postgres://… or mysql://….`;
}

/**
 * The kind of database a `DATABASE_URL` names, or `null` for an unsupported scheme.
 *
 * @example
 * ```ts
 * databaseKind("postgres://db.internal/app"); // "postgres"
 * ```
 */
export function databaseKind(url: string): "sqlite" | "postgres" | "mysql" | null {
  if (url === ":memory:" || url.startsWith("file:") || url.startsWith("sqlite:")) return "sqlite";
  if (/^postgres(ql)?:\/\//.test(url)) return "postgres";
  if (/^(mysql|mariadb):\/\//.test(url)) return "mysql";
  return null;
}

/**
 * Picks the stores from `DATABASE_URL`'s scheme (and `REDIS_URL`), loading only the driver it needs, so an
 * app on SQLite never needs `pg`, `mysql2` or `ioredis` installed. The stores are returned at once; a driver
 * loads on its store's first call.
 *
 * @example
 * ```ts
 * const stores = createStoreFromUrl({ databaseUrl: process.env.DATABASE_URL!, redisUrl: process.env.REDIS_URL });
 * const gatehouse = createGatehouse({ ...stores, secret: process.env.GATEHOUSE_SECRET! });
 * ```
 */
export function createStoreFromUrl(options: StoreFromUrlOptions): StoresFromUrl {
  const kind = databaseKind(options.databaseUrl);
  if (!kind) {
    throw new ConfigurationError(unsupportedDatabaseUrl(options.databaseUrl));
  }
  const { redisUrl } = options;
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    throw new ConfigurationError("REDIS_URL must start with redis:// or rediss://.");
  }
  const autoMigrate = options.autoMigrate ?? true;
  const sql = lazily(async () => {
    if (kind === "sqlite")
      return (await import("./sqlite.js")).createSqliteStore({ url: options.databaseUrl, autoMigrate });
    if (kind === "postgres")
      return (await import("./postgres.js")).createPostgresStore({ url: options.databaseUrl, autoMigrate });
    const url = options.databaseUrl.replace(/^mariadb:/, "mysql:");
    return (await import("./mysql.js")).createMysqlStore({ url, autoMigrate });
  });
  if (redisUrl === undefined) {
    return { store: sql.value, migrate: () => sql.value.migrate(), close: sql.close };
  }
  // Redis has no combined session-and-user read: the session layer reads the user from the SQL store.
  const redis = lazily<RedisStore>(
    async () => (await import("./redis.js")).createRedisStore({ url: redisUrl, keyPrefix: options.redisKeyPrefix }),
    ["getSessionAndUser"],
  );
  return {
    store: sql.value,
    sessionStore: redis.value,
    rateLimitStore: redis.value,
    async migrate() {
      await sql.value.migrate();
      await redis.value.migrate();
    },
    async close() {
      await Promise.all([sql.close(), redis.close()]);
    },
  };
}

/**
 * An object whose every method waits for `load` (run once, on the first call) and then calls the loaded
 * object's own: no method is listed here, so none can be forgotten. `absent` names methods the loaded object
 * does not have, so a caller that checks for them sees them missing.
 */
function lazily<T extends object>(
  load: () => Promise<T>,
  absent: readonly string[] = [],
): { value: T; close(): Promise<void> } {
  let loaded: Promise<T> | undefined;
  const get = () => {
    loaded ??= load();
    return loaded;
  };
  const value = new Proxy({} as T, {
    get(_, name) {
      // Not a thenable: `await` on it must not take it for a promise.
      if (typeof name !== "string" || name === "then" || absent.includes(name)) return undefined;
      return async (...args: unknown[]) => {
        const target = (await get()) as Record<string, (...a: unknown[]) => unknown>;
        const method = target[name];
        if (typeof method !== "function") throw new TypeError(`The store has no method ${name}.`);
        return method.apply(target, args);
      };
    },
  });
  return {
    value,
    async close() {
      if (loaded) await ((await loaded) as { close(): Promise<void> }).close();
    },
  };
}

export type { DeadSessions, SessionStore, SessionUser, UserLookup } from "../session/store.js";
export type {
  AttemptWindow,
  AuditActorType,
  AuditEvent,
  AuditQuery,
  AuditStore,
  Effects,
  KeepAdmin,
  MailOutcome,
  MailRecord,
  MailStatus,
  MailStore,
  NewUser,
  OutboxMessage,
  QueuedMail,
  RateLimitStore,
  RateLimitWindow,
  ReservedAttempt,
  SessionRecord,
  Store,
  StoreLifecycle,
  StoreOptions,
  TokenPurpose,
  TokenRecord,
  TokenStore,
  UserRecord,
  UserStore,
  UserUpdate,
} from "./types.js";

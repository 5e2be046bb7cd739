import { Redis } from "ioredis";
import type { DeadSessions, SessionRecord, SessionStore } from "../session/store.js";
import { failClosed } from "./guard.js";
import type { RateLimitStore } from "./types.js";

/** Options for {@link createRedisStore}. */
export interface RedisStoreOptions {
  /** `redis://[:password@]host:6379[/db]` (`rediss://` for TLS). */
  url: string;
  /** Prefix of every key Gatehouse writes. Default `gatehouse:`. */
  keyPrefix?: string | undefined;
  /** A Redis call that takes longer fails with 503 `unavailable`, in ms. Default 2000. */
  timeoutMs?: number;
}

// Scripts, so that a session deleted concurrently is never re-created half-empty by an update, and so that
// the session and the user's index change together.
const TOUCH = `
local uid = redis.call('HGET', KEYS[1], 'user_id')
if not uid then return 0 end
redis.call('HSET', KEYS[1], 'last_seen_at', ARGV[1], 'expires_at', ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
local index = ARGV[3] .. uid
redis.call('ZADD', index, 'XX', ARGV[2], ARGV[4])
redis.call('PEXPIREAT', index, ARGV[2], 'GT')
return 1`;
const DELETE = `
local uid = redis.call('HGET', KEYS[1], 'user_id')
if not uid then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', ARGV[1] .. uid, ARGV[2])
return 1`;

// A fixed window on the caller's clock (like the SQL stores), kept in a hash; the TTL only cleans up.
const HIT = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local reset = tonumber(redis.call('HGET', KEYS[1], 'reset'))
if not reset or reset <= now then
  redis.call('HSET', KEYS[1], 'count', 1, 'reset', now + window)
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, now + window}
end
return {redis.call('HINCRBY', KEYS[1], 'count', 1), reset}`;
// An attempt reserved before a password hash: counted like a hit, and in flight until settled.
const RESERVE = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local reset = tonumber(redis.call('HGET', KEYS[1], 'reset'))
if not reset or reset <= now then
  redis.call('HSET', KEYS[1], 'count', 1, 'pending', 1, 'reset', now + window)
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, 1, now + window}
end
return {redis.call('HINCRBY', KEYS[1], 'count', 1), redis.call('HINCRBY', KEYS[1], 'pending', 1), reset}`;
const SETTLE = `
if tonumber(redis.call('HGET', KEYS[1], 'reset')) ~= tonumber(ARGV[1]) then return 0 end
if tonumber(redis.call('HGET', KEYS[1], 'pending') or '0') > 0 then redis.call('HINCRBY', KEYS[1], 'pending', -1) end
if ARGV[2] == '0' and tonumber(redis.call('HGET', KEYS[1], 'count') or '0') > 0 then redis.call('HINCRBY', KEYS[1], 'count', -1) end
return 1`;
// A success's own counter forgets its failures; the other attempts in flight on it stay counted (the key keeps
// its TTL).
const CLEAR = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local pending = tonumber(redis.call('HGET', KEYS[1], 'pending') or '0')
local left = 0
if pending > 0 then left = pending - 1 end
redis.call('HSET', KEYS[1], 'count', left, 'pending', left)
return 1`;
// Moves the session kept by endSessions to the user's new epoch, unless it was deleted meanwhile or was of an
// older epoch than the one just left (records without an epoch belong to the first, 0).
const SET_EPOCH = `
if redis.call('HGET', KEYS[1], 'user_id') ~= ARGV[1] then return 0 end
if tonumber(redis.call('HGET', KEYS[1], 'revocation_epoch') or '0') ~= tonumber(ARGV[2]) - 1 then return 0 end
redis.call('HSET', KEYS[1], 'revocation_epoch', ARGV[2])
return 1`;

type ScriptedRedis = Redis & {
  gatehouseHit(key: string, now: number, windowMs: number): Promise<[number, number]>;
  gatehouseReserve(key: string, now: number, windowMs: number): Promise<[number, number, number]>;
  gatehouseSettle(key: string, resetAt: number, failed: "0" | "1"): Promise<number>;
  gatehouseClear(key: string): Promise<number>;
  gatehouseSetEpoch(key: string, userId: string, epoch: number): Promise<number>;
  gatehouseTouch(key: string, lastSeenAt: number, expiresAt: number, indexPrefix: string, id: string): Promise<number>;
  gatehouseDelete(key: string, indexPrefix: string, id: string): Promise<number>;
};

/**
 * Sessions and rate-limit counters in Redis; users stay in a SQL store. Implements the session and
 * rate-limit roles itself and wraps no other store, so a session method added later cannot fall back to SQL.
 */
export interface RedisStore extends Omit<SessionStore, "getSessionAndUser">, RateLimitStore {
  /** Waits for the first connection (bounded by the timeout) and checks that Redis answers. */
  migrate(): Promise<void>;
  /** Releases the connection. */
  close(): Promise<void>;
}

/**
 * Sessions and rate-limit counters in Redis. Each session is a hash that expires with the session; a sorted
 * set per user indexes their sessions, so listing and revoke-all need no scan. Commands time out and are not
 * queued while Redis is unreachable: requests fail closed (503) at once, and the client reconnects by itself.
 *
 * @example
 * ```ts
 * const redis = createRedisStore({ url: process.env.REDIS_URL! });
 * const gatehouse = createGatehouse({
 *   store: createPostgresStore({ url: process.env.DATABASE_URL! }),
 *   sessionStore: redis,
 *   rateLimitStore: redis,
 *   secret: process.env.GATEHOUSE_SECRET!,
 * });
 * ```
 */
export function createRedisStore(options: RedisStoreOptions): RedisStore {
  const prefix = options.keyPrefix ?? "gatehouse:";
  const timeoutMs = options.timeoutMs ?? 2000;
  const redis = new Redis(options.url, {
    commandTimeout: timeoutMs,
    connectTimeout: timeoutMs,
    // A link that stops answering is dropped and re-opened; otherwise commands would time out on it forever.
    socketTimeout: timeoutMs,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
  }) as ScriptedRedis;
  redis.defineCommand("gatehouseTouch", { numberOfKeys: 1, lua: TOUCH });
  redis.defineCommand("gatehouseDelete", { numberOfKeys: 1, lua: DELETE });
  redis.defineCommand("gatehouseHit", { numberOfKeys: 1, lua: HIT });
  redis.defineCommand("gatehouseReserve", { numberOfKeys: 1, lua: RESERVE });
  redis.defineCommand("gatehouseSettle", { numberOfKeys: 1, lua: SETTLE });
  redis.defineCommand("gatehouseClear", { numberOfKeys: 1, lua: CLEAR });
  redis.defineCommand("gatehouseSetEpoch", { numberOfKeys: 1, lua: SET_EPOCH });
  let lastLoggedError = 0;
  redis.on("error", (error: Error) => {
    // Reconnection is automatic; say so once every 10 s rather than once per retry.
    if (Date.now() - lastLoggedError > 10_000) {
      lastLoggedError = Date.now();
      console.error("gatehouse: Redis unavailable:", error.message);
    }
  });

  // Commands are not queued while Redis is down (so requests fail fast), but before the very first
  // connection they wait for it, bounded by the timeout: a freshly started app must not answer 503.
  const firstConnection = new Promise<void>((resolve) => redis.once("ready", () => resolve()));
  const sessionKey = (id: string) => `${prefix}session:${id}`;
  const indexPrefix = `${prefix}user-sessions:`;
  const limitKey = (key: string) => `${prefix}rate-limit:${key}`;
  const guard = <T>(operation: () => Promise<T>) =>
    failClosed(async () => {
      await firstConnection;
      return operation();
    }, timeoutMs);

  /** Runs a MULTI and fails when any command in it failed. */
  async function execAll(transaction: ReturnType<Redis["multi"]>): Promise<Array<[Error | null, unknown]>> {
    const results = (await transaction.exec()) ?? [];
    const failed = results.find(([error]) => error);
    if (failed) throw failed[0];
    return results;
  }

  async function readSession(id: string): Promise<SessionRecord | null> {
    return toSessionRecord(id, await redis.hgetall(sessionKey(id)));
  }

  async function deleteUserSessions(userId: string, except?: string): Promise<number> {
    const ids = (await redis.zrange(indexPrefix + userId, "0", "-1")).filter((id) => id !== except);
    if (ids.length === 0) return 0;
    const results = await execAll(
      redis
        .multi()
        .del(...ids.map(sessionKey))
        .zrem(indexPrefix + userId, ...ids),
    );
    return Number(results[0]?.[1] ?? 0);
  }

  /** Deletes the user's sessions that are dead by `dead`'s rules, but `except`. */
  async function sweepUserSessions(userId: string, except: string, dead: DeadSessions): Promise<void> {
    for (const session of await listUserSessions(userId)) {
      const live =
        session.expiresAt.getTime() > dead.now &&
        session.createdAt.getTime() + dead.absoluteMaxAgeMs > dead.now &&
        session.lastSeenAt.getTime() + dead.idleTimeoutMs > dead.now &&
        session.revocationEpoch >= dead.epoch;
      if (!live && session.id !== except) await redis.gatehouseDelete(sessionKey(session.id), indexPrefix, session.id);
    }
  }

  async function listUserSessions(userId: string): Promise<SessionRecord[]> {
    const ids = await redis.zrange(indexPrefix + userId, "0", "-1");
    if (ids.length === 0) return [];
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hgetall(sessionKey(id));
    const results = (await pipeline.exec()) ?? [];
    return results
      .map(([error, hash], i) => (error ? null : toSessionRecord(ids[i] as string, hash as Record<string, string>)))
      .filter((session): session is SessionRecord => session !== null);
  }

  return {
    migrate: () => guard(async () => void (await redis.ping())),

    deleteUserSessions: (userId, deleteOptions = {}) =>
      guard(async () => {
        const { keep, epoch } = deleteOptions;
        const count = await deleteUserSessions(userId, keep);
        if (keep !== undefined && epoch !== undefined) await redis.gatehouseSetEpoch(sessionKey(keep), userId, epoch);
        return count;
      }),

    createSession: (session, createOptions = {}) =>
      guard(async () => {
        const key = sessionKey(session.id);
        const index = indexPrefix + session.userId;
        const expiresAt = session.expiresAt.getTime();
        await execAll(
          redis
            .multi()
            .hset(key, toHash(session))
            .pexpireat(key, expiresAt)
            .zadd(index, expiresAt, session.id)
            .pexpireat(index, expiresAt, "NX")
            .pexpireat(index, expiresAt, "GT"),
        );
        if (createOptions.sweep) await sweepUserSessions(session.userId, session.id, createOptions.sweep);
      }),

    getSession: (sessionId) => guard(() => readSession(sessionId)),

    listUserSessions: (userId) => guard(() => listUserSessions(userId)),

    touchSession: (sessionId, update) =>
      guard(async () => {
        await redis.gatehouseTouch(
          sessionKey(sessionId),
          update.lastSeenAt.getTime(),
          update.expiresAt.getTime(),
          indexPrefix,
          sessionId,
        );
      }),

    deleteSession: (sessionId) =>
      guard(async () => (await redis.gatehouseDelete(sessionKey(sessionId), indexPrefix, sessionId)) === 1),

    hitRateLimit: (key, windowMs, now) =>
      guard(async () => {
        const [count, resetAt] = await redis.gatehouseHit(limitKey(key), now, windowMs);
        return { count, resetAt };
      }),

    reserveAttempts: (requests, now) =>
      guard(async () => {
        // Commands defined on the client are on its transactions too; ioredis's types do not say so.
        const transaction = redis.multi() as ReturnType<Redis["multi"]> & Pick<ScriptedRedis, "gatehouseReserve">;
        for (const { key, windowMs } of requests) transaction.gatehouseReserve(limitKey(key), now, windowMs);
        const results = await execAll(transaction);
        return results.map(([, window]) => {
          const [count, pending, resetAt] = window as [number, number, number];
          return { count, pending, resetAt };
        });
      }),

    settleAttempts: (attempts, failed, settleOptions = {}) =>
      guard(async () => {
        const clear = settleOptions.clear ?? [];
        if (attempts.length === 0 && clear.length === 0) return;
        // Commands defined on the client are on its transactions too; ioredis's types do not say so.
        const transaction = redis.multi() as ReturnType<Redis["multi"]> &
          Pick<ScriptedRedis, "gatehouseSettle" | "gatehouseClear">;
        for (const { key, resetAt } of attempts)
          transaction.gatehouseSettle(limitKey(key), resetAt, failed ? "1" : "0");
        for (const key of clear) transaction.gatehouseClear(limitKey(key));
        await execAll(transaction);
      }),

    peekRateLimit: (key, now) =>
      guard(async () => {
        const [count, resetAt] = await redis.hmget(limitKey(key), "count", "reset");
        return count === null || resetAt === null || Number(resetAt) <= now
          ? null
          : { count: Number(count), resetAt: Number(resetAt) };
      }),

    resetRateLimit: (key) =>
      guard(async () => {
        await redis.del(limitKey(key));
      }),

    resetRateLimitFamily: (family) =>
      guard(async () => {
        const base = limitKey(family);
        // SCAN's pattern is a glob: the prefix's own *, ?, [ and \ must match literally.
        const match = `${base.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}:*`;
        const keys = [base];
        let cursor = "0";
        do {
          const [next, found] = await redis.scan(cursor, "MATCH", match, "COUNT", 500);
          cursor = next;
          keys.push(...found);
        } while (cursor !== "0");
        await redis.del(...keys);
      }),

    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

function toHash(session: SessionRecord): Record<string, string> {
  return {
    user_id: session.userId,
    secret_hash: session.secretHash,
    user_version: String(session.userVersion),
    revocation_epoch: String(session.revocationEpoch),
    created_at: String(session.createdAt.getTime()),
    expires_at: String(session.expiresAt.getTime()),
    last_seen_at: String(session.lastSeenAt.getTime()),
    user_agent: session.userAgent ?? "",
    ip: session.ip ?? "",
    impersonated_by: session.impersonatedBy ?? "",
    impersonator_epoch: session.impersonatorEpoch == null ? "" : String(session.impersonatorEpoch),
  };
}

function toSessionRecord(id: string, hash: Record<string, string>): SessionRecord | null {
  if (!hash.user_id || hash.secret_hash === undefined || !hash.expires_at) return null;
  return {
    id,
    userId: hash.user_id,
    secretHash: hash.secret_hash,
    userVersion: Number(hash.user_version),
    // Records written before epochs existed have none: they belong to the first.
    revocationEpoch: Number(hash.revocation_epoch ?? 0),
    createdAt: new Date(Number(hash.created_at)),
    expiresAt: new Date(Number(hash.expires_at)),
    lastSeenAt: new Date(Number(hash.last_seen_at)),
    userAgent: hash.user_agent || null,
    ip: hash.ip || null,
    // Records written before impersonation existed have no field: the user's own sessions.
    impersonatedBy: hash.impersonated_by || null,
    impersonatorEpoch: hash.impersonator_epoch ? Number(hash.impersonator_epoch) : null,
  };
}

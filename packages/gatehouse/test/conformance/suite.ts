/**
 * The store conformance suite: every backend (SQLite, PostgreSQL, MySQL/MariaDB, Redis sessions over a SQL
 * store) must pass the same checks. Results are checked through raw reads of the backend (a connection of
 * the test's own, not the store's), as Lucia's and Auth.js's adapter suites do, so a store cannot pass by
 * agreeing with itself.
 *
 * A backend file calls {@link describeStoreConformance} with a `setup` that returns a {@link Harness}. The
 * harness declares what the backend can do (optional members such as `sessionKeys` or `networked`); checks
 * that need a capability the harness lacks are reported as skipped, with the reason.
 */
import { createHash, randomBytes } from "node:crypto";
import net, { type AddressInfo, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import type { Redis } from "ioredis";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  AttemptWindow,
  AuditEvent,
  ChallengeRecord,
  IdentityRecord,
  NewUser,
  PasskeyRecord,
  QueuedMail,
  SessionRecord,
  Store,
  TokenRecord,
  UserRecord,
} from "../../src/stores/types.js";
import { rawRedisCounter } from "../support/services.js";
import { describeAdminAuditMail } from "./admin-audit-mail.js";

/** One attempt reserved through {@link Store.reserveAttempts}: most checks here reserve against one counter. */
function reserveOne(store: Store, key: string, windowMs: number, now: number): Promise<AttemptWindow> {
  return store.reserveAttempts([{ key, windowMs }], now).then((windows) => windows[0] as AttemptWindow);
}

/** A user as the backend holds it. Times are ms since the epoch; numbers are numbers whatever the driver returns. */
export interface RawUser {
  id: string;
  email: string;
  name: string | null;
  role: string;
  /** The argon2id hash; `""` for an account without a password (one created by an OAuth sign-in). */
  password_hash: string;
  session_version: number;
  revocation_epoch: number;
  /** When the address was verified, in ms since the epoch; `null` while unverified. */
  email_verified_at: number | null;
  /** 1 while TOTP is on. */
  totp_enabled: number;
  /** When an administrator banned the user, in ms since the epoch; `null` when not banned. */
  banned_at: number | null;
  ban_reason: string | null;
  created_at: number;
  updated_at: number;
}

/** A one-time email token as the backend holds it. Times are ms since the epoch. */
export interface RawToken {
  token_hash: string;
  purpose: string;
  user_id: string;
  email: string;
  revocation_epoch: number;
  created_at: number;
  expires_at: number;
}

/** An audit event as the backend holds it: `detail` as JSON text. Times are ms since the epoch. */
export interface RawAuditEvent {
  id: string;
  at: number;
  type: string;
  outcome: string;
  user_id: string | null;
  user_email: string | null;
  actor_type: string;
  actor_id: string | null;
  ip: string | null;
  user_agent: string | null;
  detail: string;
}

/** A message of the durable outbox as the backend holds it. Times are ms since the epoch. */
export interface RawMail {
  id: string;
  recipient: string;
  subject: string;
  sealed_body: string;
  status: string;
  attempts: number;
  next_attempt_at: number;
  lease_until: number | null;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
}

/** A session as the backend holds it. Times are ms since the epoch. */
export interface RawSession {
  id: string;
  user_id: string;
  secret_hash: string;
  user_version: number;
  revocation_epoch: number;
  created_at: number;
  expires_at: number;
  last_seen_at: number;
  user_agent: string | null;
  ip: string | null;
  /** The administrator viewing the app as the user; `null` for the user's own session. */
  impersonated_by: string | null;
  /** The administrator's revocation epoch when the impersonation began; `null` for the user's own session. */
  impersonator_epoch: number | null;
}

/** A TOTP secret as the backend holds it. Times are ms since the epoch. */
export interface RawTotp {
  user_id: string;
  secret: string;
  confirmed_at: number | null;
  last_used_step: number | null;
  created_at: number;
}

/** A recovery code (its hash) as the backend holds it. */
export interface RawRecoveryCode {
  code_hash: string;
  user_id: string;
  created_at: number;
}

/** A passkey as the backend holds it: transports as a comma list, backed_up as 0 or 1. */
export interface RawPasskey {
  id: string;
  user_id: string;
  credential_id: string;
  /** The unique key of the credential id (a hash: ids can be longer than an index allows). */
  credential_key: string;
  public_key: string;
  counter: number;
  transports: string;
  device_type: string;
  backed_up: number;
  name: string;
  created_at: number;
  last_used_at: number | null;
}

/** A ceremony challenge as the backend holds it. */
export interface RawChallenge {
  id_hash: string;
  purpose: string;
  user_id: string | null;
  challenge: string;
  revocation_epoch: number;
  created_at: number;
  expires_at: number;
}

/** An account at an OAuth or OpenID provider, linked to a user, as the backend holds it: email_verified as 0 or 1. */
export interface RawIdentity {
  /** SHA-256 of `identity:<provider>:<subject>`, hex: the key, which no collation can blur. */
  identity_key: string;
  provider: string;
  subject: string;
  user_id: string;
  email: string | null;
  email_verified: number;
  /** The provider's tokens, sealed; `null` when none are kept. */
  tokens: string | null;
  created_at: number;
}

/** Reads users and sessions straight from the backend, without going through the store under test. */
export interface RawReader {
  user(id: string): Promise<RawUser | null>;
  /** How many users are stored with exactly this email. */
  countUsersWithEmail(email: string): Promise<number>;
  session(id: string): Promise<RawSession | null>;
  /** Ids of every session stored for the user, sorted. */
  sessionIds(userId: string): Promise<string[]>;
  /**
   * The rate-limit counter stored under `key`, or `null` when there is none. `resetAt` is when its window
   * ends in ms since the epoch (for a key that expires by itself: now plus its remaining lifetime).
   */
  rateLimit(key: string): Promise<RawRateLimit | null>;
  /** The email token stored under this hash, or `null`. */
  token(tokenHash: string): Promise<RawToken | null>;
  /** Every email token stored for the user, sorted by hash. */
  userTokens(userId: string): Promise<RawToken[]>;
  /** The audit event with this id, or `null`. */
  auditEvent(id: string): Promise<RawAuditEvent | null>;
  /** Every audit event about the user, sorted by id. */
  userAuditEvents(userId: string): Promise<RawAuditEvent[]>;
  /** The message of the durable outbox with this id, or `null`. */
  mail(id: string): Promise<RawMail | null>;
  /** Every message of the durable outbox to this address, sorted by id. */
  mailTo(recipient: string): Promise<RawMail[]>;
  /** Every TOTP row of the user (the schema allows one; a list shows a second). */
  totpRows(userId: string): Promise<RawTotp[]>;
  /** Every recovery code stored for the user, sorted by hash. */
  recoveryCodes(userId: string): Promise<RawRecoveryCode[]>;
  /** Every passkey stored for the user, sorted by id. */
  passkeys(userId: string): Promise<RawPasskey[]>;
  /** The challenge stored under this hash, or `null`. */
  challenge(idHash: string): Promise<RawChallenge | null>;
  /** Every challenge bound to the user, sorted by hash. */
  userChallenges(userId: string): Promise<RawChallenge[]>;
  /** The identity stored under (provider, subject), compared exactly (case and spaces), or `null`. */
  identity(provider: string, subject: string): Promise<RawIdentity | null>;
  /** Every identity linked to the user, sorted by provider, then subject. */
  identities(userId: string): Promise<RawIdentity[]>;
}

/** A rate-limit counter as the backend holds it. */
export interface RawRateLimit {
  count: number;
  resetAt: number;
}

/** Declared by backends whose rate-limit counters are keys that expire by themselves (Redis). */
export interface RateLimitKeyReader {
  /** Milliseconds before the counter's key expires (PTTL: -1 no expiry, -2 no key). */
  ttlMs(key: string): Promise<number>;
}

/**
 * Declared by key-value session backends (Redis): each session is a key that expires with the session, and
 * a per-user index lists the user's sessions.
 */
export interface SessionKeyReader {
  /** Milliseconds before the session's key expires (PTTL: -1 no expiry, -2 no key). */
  ttlMs(sessionId: string): Promise<number>;
  /** Milliseconds before the user's session index expires (PTTL). */
  indexTtlMs(userId: string): Promise<number>;
  /** Session ids in the user's index, sorted. */
  indexedIds(userId: string): Promise<string[]>;
}

/** Which store calls a backend's network servers answer. */
export type CallGroup = "users" | "sessions";

/** Declared by backends that talk to a server over the network. */
export interface NetworkedBackend {
  /** A store of the same kind whose every network server is at 127.0.0.1:`port`. */
  storeAt(port: number, options: { timeoutMs: number }): Store;
  /** The calls those servers answer (a SQLite store with Redis sessions: only `sessions`). */
  serves: readonly CallGroup[];
}

/** An empty database of the backend's kind, for the migration checks. */
export interface FreshDatabase {
  /** A store on this database. The suite closes every store it creates before `drop()`. */
  createStore(options: { autoMigrate: boolean }): Store;
  /** Raw: the name of every row in `gatehouse_migrations` (duplicates kept), sorted. */
  appliedMigrations(): Promise<string[]>;
  /** Raw: records a migration as applied, the way Kysely's migrator writes the row. */
  recordMigration(name: string): Promise<void>;
  drop(): Promise<void>;
}

/** What a backend gives the suite. Optional members are capabilities; leave out those the backend lacks. */
export interface Harness {
  store: Store;
  raw: RawReader;
  teardown(): Promise<void>;
  /** Another store on the same database (and key prefix), as a second app instance would open it. */
  newStore?: () => Store;
  /**
   * Declared when stores from `newStore` may run transactions at the same time as this one in one process (a
   * database server). Not for SQLite: a store waiting on the file's lock blocks the event loop that the
   * store holding it needs to commit, so such races run on one store there.
   */
  concurrentTransactions?: boolean;
  sessionKeys?: SessionKeyReader;
  rateLimitKeys?: RateLimitKeyReader;
  networked?: NetworkedBackend;
  /** Declared by backends with a versioned SQL schema. */
  freshDatabase?: () => Promise<FreshDatabase>;
}

/** Table shapes for the raw SQL connection. BIGINT columns may come back as strings (PostgreSQL). */
export interface RawTables {
  gatehouse_users: {
    id: string;
    email: string;
    name: string | null;
    role: string;
    password_hash: string;
    session_version: number | string;
    revocation_epoch: number | string;
    email_verified_at: number | string | null;
    totp_enabled: number | string;
    banned_at: number | string | null;
    ban_reason: string | null;
    created_at: number | string;
    updated_at: number | string;
  };
  gatehouse_sessions: {
    id: string;
    user_id: string;
    secret_hash: string;
    user_version: number | string;
    revocation_epoch: number | string;
    created_at: number | string;
    expires_at: number | string;
    last_seen_at: number | string;
    user_agent: string | null;
    ip: string | null;
    impersonated_by: string | null;
    impersonator_epoch: number | string | null;
  };
  gatehouse_migrations: { name: string; timestamp: string };
  gatehouse_rate_limits: { key: string; count: number | string; pending: number | string; reset_at: number | string };
  gatehouse_tokens: {
    token_hash: string;
    purpose: string;
    user_id: string;
    email: string;
    revocation_epoch: number | string;
    created_at: number | string;
    expires_at: number | string;
  };
  gatehouse_audit: {
    id: string;
    at: number | string;
    type: string;
    outcome: string;
    user_id: string | null;
    user_email: string | null;
    actor_type: string;
    actor_id: string | null;
    ip: string | null;
    user_agent: string | null;
    detail: string;
  };
  gatehouse_mail: {
    id: string;
    recipient: string;
    subject: string;
    sealed_body: string;
    status: string;
    attempts: number | string;
    next_attempt_at: number | string;
    lease_until: number | string | null;
    last_error: string | null;
    created_at: number | string;
    sent_at: number | string | null;
  };
  gatehouse_totp: {
    user_id: string;
    secret: string;
    confirmed_at: number | string | null;
    last_used_step: number | string | null;
    created_at: number | string;
  };
  gatehouse_recovery_codes: { code_hash: string; user_id: string; created_at: number | string };
  gatehouse_passkeys: {
    id: string;
    user_id: string;
    credential_id: string;
    credential_key: string;
    public_key: string;
    counter: number | string;
    transports: string;
    device_type: string;
    backed_up: number | string;
    name: string;
    created_at: number | string;
    last_used_at: number | string | null;
  };
  gatehouse_challenges: {
    id_hash: string;
    purpose: string;
    user_id: string | null;
    challenge: string;
    revocation_epoch: number | string;
    created_at: number | string;
    expires_at: number | string;
  };
  gatehouse_identities: {
    identity_key: string;
    provider: string;
    subject: string;
    user_id: string;
    email: string | null;
    email_verified: number | string | boolean;
    tokens: string | null;
    created_at: number | string;
  };
}

const nullableNumber = (value: number | string | null): number | null => (value === null ? null : Number(value));

function byKey<T>(key: (row: T) => string): (a: T, b: T) => number {
  return (a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

function rawChallengeFromRow(row: RawTables["gatehouse_challenges"]): RawChallenge {
  return {
    ...row,
    revocation_epoch: Number(row.revocation_epoch),
    created_at: Number(row.created_at),
    expires_at: Number(row.expires_at),
  };
}

function rawIdentityFromRow(row: RawTables["gatehouse_identities"]): RawIdentity {
  return { ...row, email_verified: Number(row.email_verified), created_at: Number(row.created_at) };
}

function rawAuditFromRow(row: RawTables["gatehouse_audit"]): RawAuditEvent {
  return { ...row, at: Number(row.at) };
}

function rawMailFromRow(row: RawTables["gatehouse_mail"]): RawMail {
  return {
    ...row,
    attempts: Number(row.attempts),
    next_attempt_at: Number(row.next_attempt_at),
    lease_until: nullableNumber(row.lease_until),
    created_at: Number(row.created_at),
    sent_at: nullableNumber(row.sent_at),
  };
}

function rawTokenFromRow(row: RawTables["gatehouse_tokens"]): RawToken {
  return {
    ...row,
    revocation_epoch: Number(row.revocation_epoch),
    created_at: Number(row.created_at),
    expires_at: Number(row.expires_at),
  };
}

/** A {@link RawReader} over a SQL connection of the test's own. The caller destroys `db`. */
export function sqlRawReader(db: Kysely<RawTables>): RawReader {
  return {
    async user(id) {
      const row = await db.selectFrom("gatehouse_users").selectAll().where("id", "=", id).executeTakeFirst();
      if (!row) return null;
      return {
        ...row,
        session_version: Number(row.session_version),
        revocation_epoch: Number(row.revocation_epoch),
        email_verified_at: row.email_verified_at === null ? null : Number(row.email_verified_at),
        totp_enabled: Number(row.totp_enabled),
        banned_at: nullableNumber(row.banned_at),
        created_at: Number(row.created_at),
        updated_at: Number(row.updated_at),
      };
    },
    async countUsersWithEmail(email) {
      const row = await db
        .selectFrom("gatehouse_users")
        .select((eb) => eb.fn.countAll().as("n"))
        .where("email", "=", email)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async session(id) {
      const row = await db.selectFrom("gatehouse_sessions").selectAll().where("id", "=", id).executeTakeFirst();
      if (!row) return null;
      return {
        ...row,
        user_version: Number(row.user_version),
        revocation_epoch: Number(row.revocation_epoch),
        created_at: Number(row.created_at),
        expires_at: Number(row.expires_at),
        last_seen_at: Number(row.last_seen_at),
        impersonator_epoch: row.impersonator_epoch === null ? null : Number(row.impersonator_epoch),
      };
    },
    async sessionIds(userId) {
      const rows = await db.selectFrom("gatehouse_sessions").select("id").where("user_id", "=", userId).execute();
      return rows.map((row) => row.id).sort();
    },
    async rateLimit(key) {
      const row = await db
        .selectFrom("gatehouse_rate_limits")
        .select(["count", "reset_at"])
        .where("key", "=", key)
        .executeTakeFirst();
      return row ? { count: Number(row.count), resetAt: Number(row.reset_at) } : null;
    },
    async token(tokenHash) {
      const row = await db
        .selectFrom("gatehouse_tokens")
        .selectAll()
        .where("token_hash", "=", tokenHash)
        .executeTakeFirst();
      return row ? rawTokenFromRow(row) : null;
    },
    async userTokens(userId) {
      const rows = await db.selectFrom("gatehouse_tokens").selectAll().where("user_id", "=", userId).execute();
      return rows
        .map(rawTokenFromRow)
        .sort((a, b) => (a.token_hash < b.token_hash ? -1 : a.token_hash > b.token_hash ? 1 : 0));
    },
    async auditEvent(id) {
      const row = await db.selectFrom("gatehouse_audit").selectAll().where("id", "=", id).executeTakeFirst();
      return row ? rawAuditFromRow(row) : null;
    },
    async userAuditEvents(userId) {
      const rows = await db.selectFrom("gatehouse_audit").selectAll().where("user_id", "=", userId).execute();
      return rows.map(rawAuditFromRow).sort(byKey((row) => row.id));
    },
    async mail(id) {
      const row = await db.selectFrom("gatehouse_mail").selectAll().where("id", "=", id).executeTakeFirst();
      return row ? rawMailFromRow(row) : null;
    },
    async mailTo(recipient) {
      const rows = await db.selectFrom("gatehouse_mail").selectAll().where("recipient", "=", recipient).execute();
      return rows.map(rawMailFromRow).sort(byKey((row) => row.id));
    },
    async totpRows(userId) {
      const rows = await db.selectFrom("gatehouse_totp").selectAll().where("user_id", "=", userId).execute();
      return rows.map((row) => ({
        ...row,
        confirmed_at: nullableNumber(row.confirmed_at),
        last_used_step: nullableNumber(row.last_used_step),
        created_at: Number(row.created_at),
      }));
    },
    async recoveryCodes(userId) {
      const rows = await db.selectFrom("gatehouse_recovery_codes").selectAll().where("user_id", "=", userId).execute();
      return rows.map((row) => ({ ...row, created_at: Number(row.created_at) })).sort(byKey((row) => row.code_hash));
    },
    async passkeys(userId) {
      const rows = await db.selectFrom("gatehouse_passkeys").selectAll().where("user_id", "=", userId).execute();
      return rows
        .map((row) => ({
          ...row,
          counter: Number(row.counter),
          backed_up: Number(row.backed_up),
          created_at: Number(row.created_at),
          last_used_at: nullableNumber(row.last_used_at),
        }))
        .sort(byKey((row) => row.id));
    },
    async challenge(idHash) {
      const row = await db
        .selectFrom("gatehouse_challenges")
        .selectAll()
        .where("id_hash", "=", idHash)
        .executeTakeFirst();
      return row ? rawChallengeFromRow(row) : null;
    },
    async userChallenges(userId) {
      const rows = await db.selectFrom("gatehouse_challenges").selectAll().where("user_id", "=", userId).execute();
      return rows.map(rawChallengeFromRow).sort(byKey((row) => row.id_hash));
    },
    async identity(provider, subject) {
      // Compared again here: a case-insensitive or space-padding collation would let the WHERE match a near miss.
      const rows = await db
        .selectFrom("gatehouse_identities")
        .selectAll()
        .where("provider", "=", provider)
        .where("subject", "=", subject)
        .execute();
      const row = rows.find((candidate) => candidate.provider === provider && candidate.subject === subject);
      return row ? rawIdentityFromRow(row) : null;
    },
    async identities(userId) {
      const rows = await db.selectFrom("gatehouse_identities").selectAll().where("user_id", "=", userId).execute();
      return rows.map(rawIdentityFromRow).sort(byKey((row) => `${row.provider}\u0000${row.subject}`));
    },
  };
}

/** Raw access to the migration table of a SQL database. The caller destroys `db`. */
export function sqlMigrationTable(db: Kysely<RawTables>): Pick<FreshDatabase, "appliedMigrations" | "recordMigration"> {
  return {
    async appliedMigrations() {
      const rows = await db.selectFrom("gatehouse_migrations").select("name").execute();
      return rows.map((row) => row.name).sort();
    },
    async recordMigration(name) {
      // Kysely's migrator keeps the time as an ISO string in a varchar column.
      await db.insertInto("gatehouse_migrations").values({ name, timestamp: new Date().toISOString() }).execute();
    },
  };
}

/**
 * Reads sessions from Redis as `withRedisSessions` lays them out (a hash per session, a sorted set per user),
 * and users through `users`. The caller quits `redis`.
 */
export function redisSessionReader(
  redis: Redis,
  prefix: string,
  users: RawReader,
): { raw: RawReader; sessionKeys: SessionKeyReader; rateLimitKeys: RateLimitKeyReader } {
  const sessionKey = (id: string) => `${prefix}session:${id}`;
  const limitKey = (key: string) => `${prefix}rate-limit:${key}`;
  const indexKey = (userId: string) => `${prefix}user-sessions:${userId}`;

  async function allSessionKeys(): Promise<string[]> {
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = await redis.scan(cursor, "MATCH", `${prefix}session:*`, "COUNT", 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== "0");
    return keys;
  }

  const raw: RawReader = {
    user: (id) => users.user(id),
    countUsersWithEmail: (email) => users.countUsersWithEmail(email),
    // Tokens, the audit log and the outbox stay in the SQL store: withRedisSessions moves only sessions and
    // counters.
    token: (tokenHash) => users.token(tokenHash),
    userTokens: (userId) => users.userTokens(userId),
    auditEvent: (id) => users.auditEvent(id),
    userAuditEvents: (userId) => users.userAuditEvents(userId),
    mail: (id) => users.mail(id),
    mailTo: (recipient) => users.mailTo(recipient),
    // So do second factors, passkeys and challenges.
    totpRows: (userId) => users.totpRows(userId),
    recoveryCodes: (userId) => users.recoveryCodes(userId),
    passkeys: (userId) => users.passkeys(userId),
    challenge: (idHash) => users.challenge(idHash),
    userChallenges: (userId) => users.userChallenges(userId),
    // And identities.
    identity: (provider, subject) => users.identity(provider, subject),
    identities: (userId) => users.identities(userId),
    async session(id) {
      const hash = await redis.hgetall(sessionKey(id));
      if (Object.keys(hash).length === 0) return null;
      const field = (name: string): string => {
        const value = hash[name];
        if (value === undefined) throw new Error(`Redis hash ${sessionKey(id)} has no field "${name}"`);
        return value;
      };
      // Redis has no null: the store writes "" for a missing user agent or IP.
      return {
        id,
        user_id: field("user_id"),
        secret_hash: field("secret_hash"),
        user_version: Number(field("user_version")),
        revocation_epoch: Number(field("revocation_epoch")),
        created_at: Number(field("created_at")),
        expires_at: Number(field("expires_at")),
        last_seen_at: Number(field("last_seen_at")),
        user_agent: field("user_agent") || null,
        ip: field("ip") || null,
        impersonated_by: field("impersonated_by") || null,
        impersonator_epoch: field("impersonator_epoch") === "" ? null : Number(field("impersonator_epoch")),
      };
    },
    async sessionIds(userId) {
      const keys = await allSessionKeys();
      if (keys.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const key of keys) pipeline.hget(key, "user_id");
      const owners = (await pipeline.exec()) ?? [];
      return keys
        .filter((_, i) => owners[i]?.[1] === userId)
        .map((key) => key.slice(`${prefix}session:`.length))
        .sort();
    },
    rateLimit: (key) => rawRedisCounter(redis, limitKey(key)),
  };

  const sessionKeys: SessionKeyReader = {
    ttlMs: (sessionId) => redis.pttl(sessionKey(sessionId)),
    indexTtlMs: (userId) => redis.pttl(indexKey(userId)),
    indexedIds: async (userId) => (await redis.zrange(indexKey(userId), "0", "-1")).sort(),
  };
  const rateLimitKeys: RateLimitKeyReader = { ttlMs: (key) => redis.pttl(limitKey(key)) };
  return { raw, sessionKeys, rateLimitKeys };
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function uniqueId(kind: string): string {
  return `${kind}_${randomBytes(8).toString("hex")}`;
}

function newUser(overrides: Partial<NewUser> = {}): NewUser {
  const id = uniqueId("u");
  return {
    id,
    email: `${id}@example.com`,
    name: "Ada Lovelace",
    role: "user",
    passwordHash: `$argon2id$v=19$m=19456,t=2,p=1$${randomBytes(16).toString("base64")}`,
    ...overrides,
  };
}

function newSession(user: UserRecord, overrides: Partial<SessionRecord> = {}): SessionRecord {
  const now = Date.now();
  return {
    id: uniqueId("s"),
    userId: user.id,
    secretHash: randomBytes(32).toString("hex"),
    userVersion: user.sessionVersion,
    revocationEpoch: user.revocationEpoch,
    createdAt: new Date(now - 60_000),
    expiresAt: new Date(now + 7 * DAY),
    lastSeenAt: new Date(now - 1_000),
    userAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
    ip: "203.0.113.7",
    impersonatedBy: null,
    impersonatorEpoch: null,
    ...overrides,
  };
}

/** The row a session should be stored as, written out independently of the store's own mapping. */
function rawSessionOf(session: SessionRecord): RawSession {
  return {
    id: session.id,
    user_id: session.userId,
    secret_hash: session.secretHash,
    user_version: session.userVersion,
    revocation_epoch: session.revocationEpoch,
    created_at: session.createdAt.getTime(),
    expires_at: session.expiresAt.getTime(),
    last_seen_at: session.lastSeenAt.getTime(),
    user_agent: session.userAgent,
    ip: session.ip,
    impersonated_by: session.impersonatedBy ?? null,
    impersonator_epoch: session.impersonatorEpoch ?? null,
  };
}

/** A one-time token for `user`: a verification link sent a minute ago, valid for an hour. */
function newToken(user: { id: string; email: string }, overrides: Partial<TokenRecord> = {}): TokenRecord {
  const now = Date.now();
  return {
    tokenHash: randomBytes(32).toString("hex"),
    purpose: "verify_email",
    userId: user.id,
    email: user.email,
    revocationEpoch: 0,
    createdAt: new Date(now - 60_000 + 123),
    expiresAt: new Date(now + HOUR + 456),
    ...overrides,
  };
}

/** An event for the outage probes: valid, never written (the server is down). */
function probeEvent(user: { id: string; email: string }): AuditEvent {
  return {
    id: uniqueId("ev"),
    at: new Date(),
    type: "login.failure",
    outcome: "failure",
    userId: user.id,
    userEmail: user.email,
    actorType: "user",
    actorId: user.id,
    ip: "203.0.113.7",
    userAgent: null,
    detail: { reason: "wrong_password" },
  };
}

/** A message for the outage probes. */
function probeMail(): QueuedMail {
  const id = uniqueId("m");
  return { id, to: `${id}@example.com`, subject: "Confirm your email", sealedBody: "v1.x.y", createdAt: new Date() };
}

/** The row a token should be stored as, written out independently of the store's own mapping. */
function rawTokenOf(token: TokenRecord): RawToken {
  return {
    token_hash: token.tokenHash,
    purpose: token.purpose,
    user_id: token.userId,
    email: token.email,
    revocation_epoch: token.revocationEpoch,
    created_at: token.createdAt.getTime(),
    expires_at: token.expiresAt.getTime(),
  };
}

/** A TOTP secret as the core seals it: random, base64url parts (case matters), well under 255 characters. */
function sealedSecret(): string {
  return `v1.${randomBytes(12).toString("base64url")}.${randomBytes(36).toString("base64url")}`;
}

/** Recovery-code hashes as the core makes them: HMAC-SHA256, lowercase hex. */
function codeHashes(count = 10): string[] {
  return Array.from({ length: count }, () => randomBytes(32).toString("hex"));
}

/** The 30-second TOTP step of now: the size of the numbers the core records. */
function currentStep(): number {
  return Math.floor(Date.now() / 30_000);
}

function newPasskey(user: { id: string }, overrides: Partial<PasskeyRecord> = {}): PasskeyRecord {
  return {
    id: uniqueId("pk"),
    userId: user.id,
    credentialId: randomBytes(32).toString("base64url"),
    publicKey: randomBytes(77).toString("base64url"),
    counter: 0,
    transports: ["internal", "hybrid"],
    deviceType: "multiDevice",
    backedUp: true,
    name: "MacBook Touch ID",
    createdAt: new Date(Date.now() - 60_000 + 123),
    lastUsedAt: null,
    ...overrides,
  };
}

/**
 * The row a passkey should be stored as, written out independently of the store's own mapping. The
 * credential key is the store's to derive: any 64 hex digits (its uniqueness is checked on its own).
 */
function rawPasskeyOf(passkey: PasskeyRecord): RawPasskey {
  return {
    id: passkey.id,
    user_id: passkey.userId,
    credential_id: passkey.credentialId,
    credential_key: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown as string,
    public_key: passkey.publicKey,
    counter: passkey.counter,
    transports: passkey.transports.join(","),
    device_type: passkey.deviceType,
    backed_up: passkey.backedUp ? 1 : 0,
    name: passkey.name,
    created_at: passkey.createdAt.getTime(),
    last_used_at: passkey.lastUsedAt?.getTime() ?? null,
  };
}

/** A passkey sign-in's challenge (no user yet), made a minute ago and live for five; override the rest. */
function newChallenge(overrides: Partial<ChallengeRecord> = {}): ChallengeRecord {
  const now = Date.now();
  return {
    idHash: randomBytes(32).toString("hex"),
    purpose: "passkey_login",
    userId: null,
    challenge: randomBytes(32).toString("base64url"),
    revocationEpoch: 0,
    createdAt: new Date(now - 60_000 + 321),
    expiresAt: new Date(now + 5 * 60_000 + 654),
    ...overrides,
  };
}

/** The row a challenge should be stored as, written out independently of the store's own mapping. */
function rawChallengeOf(challenge: ChallengeRecord): RawChallenge {
  return {
    id_hash: challenge.idHash,
    purpose: challenge.purpose,
    user_id: challenge.userId,
    challenge: challenge.challenge,
    revocation_epoch: challenge.revocationEpoch,
    created_at: challenge.createdAt.getTime(),
    expires_at: challenge.expiresAt.getTime(),
  };
}

/** The rows recovery codes should be stored as. */
function rawCodesOf(userId: string, hashes: readonly string[], createdAt: Date): RawRecoveryCode[] {
  return hashes
    .map((code_hash) => ({ code_hash, user_id: userId, created_at: createdAt.getTime() }))
    .sort(byKey((row) => row.code_hash));
}

/** A first identity, as a sign-in brings it: of `oidc`, a fresh subject, a verified email, no tokens kept. */
function newIdentity(overrides: Partial<Omit<IdentityRecord, "userId">> = {}): Omit<IdentityRecord, "userId"> {
  return {
    provider: "oidc",
    // Letters of both cases, as many providers' subjects have (OpenID Connect: "a case-sensitive string").
    subject: `Sub-${randomBytes(9).toString("base64url")}aZ`,
    email: `${uniqueId("idp")}@example.com`,
    emailVerified: true,
    sealedTokens: null,
    createdAt: new Date(Date.now() - 60_000 + 123),
    ...overrides,
  };
}

/** A user as a first OAuth sign-in creates them: no password, the verification the provider vouched for. */
function newSignUp(overrides: Partial<NewUser> = {}): NewUser {
  return newUser({ passwordHash: null, emailVerifiedAt: null, ...overrides });
}

/** The row an identity should be stored as, written out independently of the store's own mapping. */
function rawIdentityOf(identity: IdentityRecord): RawIdentity {
  return {
    identity_key: createHash("sha256").update(`identity:${identity.provider}:${identity.subject}`).digest("hex"),
    provider: identity.provider,
    subject: identity.subject,
    user_id: identity.userId,
    email: identity.email,
    email_verified: identity.emailVerified ? 1 : 0,
    tokens: identity.sealedTokens,
    created_at: identity.createdAt.getTime(),
  };
}

/** Provider tokens as the core seals them (AES-GCM, base64url), about `length` characters long. */
function sealedTokens(length = 600): string {
  return `v1.${randomBytes(12).toString("base64url")}.${randomBytes(Math.ceil((length * 3) / 4)).toString("base64url")}`;
}

function byTokenHash(a: { token_hash: string }, b: { token_hash: string }): number {
  return a.token_hash < b.token_hash ? -1 : a.token_hash > b.token_hash ? 1 : 0;
}

function byId<T extends { id: string }>(a: T, b: T): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** A port on 127.0.0.1 that nothing listens on: connections to it are refused. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  return port;
}

/** A server that accepts connections and never answers: a database that hangs. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

type Probe = (store: Store) => Promise<unknown>;

/** One call of each kind, with arguments that would be valid on a healthy store. */
function probes(groups: readonly CallGroup[]): [string, Probe][] {
  const user: UserRecord = {
    ...newUser(),
    emailVerifiedAt: null,
    totpEnabled: false,
    bannedAt: null,
    banReason: null,
    sessionVersion: 0,
    revocationEpoch: 0,
    createdAt: new Date(),
    updatedAt: new Date(),
  };
  const session = newSession(user);
  const token = newToken(user);
  const touch = { lastSeenAt: new Date(), expiresAt: new Date(Date.now() + DAY) };
  const passkey = newPasskey(user);
  const challenge = newChallenge({ userId: user.id, purpose: "mfa_pending", challenge: "" });
  const all: Record<CallGroup, [string, Probe][]> = {
    users: [
      ["migrate", (store) => store.migrate()],
      ["createUser", (store) => store.createUser(newUser())],
      ["getUserById", (store) => store.getUserById(user.id)],
      ["getUserByEmail", (store) => store.getUserByEmail(user.email)],
      ["listUsers", (store) => store.listUsers()],
      ["updateUser", (store) => store.updateUser(user.id, { role: "admin" })],
      ["bumpSessionVersion", (store) => store.bumpSessionVersion(user.id)],
      ["deleteUser", (store) => store.deleteUser(user.id)],
      ["createToken", (store) => store.createToken(token, { replace: true })],
      ["consumeToken", (store) => store.consumeToken(token.tokenHash, ["verify_email"])],
      ["deleteUserTokens", (store) => store.deleteUserTokens(user.id, "verify_email")],
      ["searchUsers", (store) => store.searchUsers({ query: "ada", cursor: null, limit: 10 })],
      ["sweepExpired", (store) => store.sweepExpired(Date.now(), { eventsBefore: Date.now() - 400 * DAY })],
      // The audit log and the outbox live with the users.
      ["recordEvents", (store) => store.recordEvents([probeEvent(user)])],
      ["listEvents", (store) => store.listEvents({ userId: user.id, limit: 10 })],
      ["deleteEventsBefore", (store) => store.deleteEventsBefore(new Date(Date.now() - 400 * DAY))],
      ["enqueueMail", (store) => store.enqueueMail([probeMail()])],
      ["claimMail", (store) => store.claimMail(new Date(), 10, 60_000)],
      ["settleMail", (store) => store.settleMail(uniqueId("m"), 1, { status: "sent", keepBody: false })],
      ["listMail", (store) => store.listMail({ limit: 10 })],
      ["countMail", (store) => store.countMail()],
      ["retryMail", (store) => store.retryMail(uniqueId("m"), new Date())],
      // Second factors, passkeys and challenges live with the users (in the SQL store).
      ["getFactorSummary", (store) => store.getFactorSummary(user.id)],
      ["getTotp", (store) => store.getTotp(user.id)],
      ["saveTotpSetup", (store) => store.saveTotpSetup(user.id, sealedSecret(), new Date())],
      ["confirmTotp", (store) => store.confirmTotp(user.id, sealedSecret(), currentStep(), codeHashes(), new Date())],
      ["spendTotpStep", (store) => store.spendTotpStep(user.id, currentStep())],
      ["disableTotp", (store) => store.disableTotp(user.id)],
      ["replaceRecoveryCodes", (store) => store.replaceRecoveryCodes(user.id, codeHashes(), new Date())],
      ["consumeRecoveryCode", (store) => store.consumeRecoveryCode(user.id, codeHashes(1))],
      ["createPasskey", (store) => store.createPasskey(passkey)],
      ["getPasskeyByCredentialId", (store) => store.getPasskeyByCredentialId(passkey.credentialId)],
      ["listPasskeys", (store) => store.listPasskeys(user.id)],
      ["recordPasskeyUse", (store) => store.recordPasskeyUse(passkey.id, 0, { counter: 1, lastUsedAt: new Date() })],
      ["renamePasskey", (store) => store.renamePasskey(user.id, passkey.id, "Renamed")],
      ["deletePasskey", (store) => store.deletePasskey(user.id, passkey.id)],
      ["createChallenge", (store) => store.createChallenge(challenge)],
      ["getChallenge", (store) => store.getChallenge(challenge.idHash, challenge.purpose)],
      ["consumeChallenge", (store) => store.consumeChallenge(challenge.idHash, challenge.purpose)],
      ["removeFactors", (store) => store.removeFactors(user.id)],
      // So do identities.
      ["getIdentity", (store) => store.getIdentity("oidc", user.id)],
      ["listIdentities", (store) => store.listIdentities(user.id)],
      ["createUserWithIdentity", (store) => store.createUserWithIdentity(newSignUp(), newIdentity())],
      ["linkIdentity", (store) => store.linkIdentity({ ...newIdentity(), userId: user.id })],
      ["setIdentityTokens", (store) => store.setIdentityTokens("oidc", user.id, sealedTokens())],
      ["unlinkIdentity", (store) => store.unlinkIdentity(user.id, "oidc")],
    ],
    sessions: [
      ["createSession", (store) => store.createSession(session)],
      ["getSessionAndUser", (store) => store.getSessionAndUser(session.id)],
      ["listUserSessions", (store) => store.listUserSessions(user.id)],
      ["touchSession", (store) => store.touchSession(session.id, touch)],
      ["deleteSession", (store) => store.deleteSession(session.id)],
      ["endSessions", (store) => store.endSessions(user.id)],
      ["reserveAttempt", (store) => reserveOne(store, `probe:${user.id}`, 60_000, Date.now())],
      [
        "settleAttempts",
        (store) => store.settleAttempts([{ key: `probe:${user.id}`, resetAt: Date.now() + 60_000 }], true),
      ],
      // Counters live with the sessions: in the SQL database, or in Redis with withRedisSessions.
      ["hitRateLimit", (store) => store.hitRateLimit(`probe:${user.id}`, 60_000, Date.now())],
      ["peekRateLimit", (store) => store.peekRateLimit(`probe:${user.id}`, Date.now())],
      ["resetRateLimit", (store) => store.resetRateLimit(`probe:${user.id}`)],
      ["resetRateLimitFamily", (store) => store.resetRateLimitFamily(`probe:${user.id}`)],
    ],
  };
  return groups.flatMap((group) => all[group]);
}

/** How a call settled: "resolved", the `code` of its error (or its message, without one), or "hung". */
async function outcomeOf(promise: Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve("hung for 10 s"), 10_000);
  });
  const settled = promise.then(
    () => "resolved",
    (error: unknown) => {
      const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
      return typeof code === "string" ? code : `threw ${String(message)}`;
    },
  );
  const outcome = await Promise.race([settled, hung]);
  clearTimeout(timer);
  return outcome;
}

/** Makes every probe call at once; reports how each settled and whether it did within `withinMs`. */
async function callOutcomes(
  store: Store,
  groups: readonly CallGroup[],
  withinMs: number,
): Promise<{ call: string; outcome: string; settledInTime: boolean }[]> {
  return Promise.all(
    probes(groups).map(async ([call, probe]) => {
      const started = performance.now();
      const outcome = await outcomeOf(probe(store));
      return { call, outcome, settledInTime: performance.now() - started < withinMs };
    }),
  );
}

/** Retries a cheap read until the store answers, so that checks do not race the first connection. */
async function untilAnswering(store: Store, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await store.getSessionAndUser("warm-up");
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/**
 * Registers the conformance suite for one backend. `setup` runs once before the checks (in `beforeAll`);
 * the harness's `teardown` runs after them.
 *
 * @example
 * ```ts
 * describeStoreConformance("SQLite", async () => {
 *   const store = createSqliteStore({ url: `file:${file}` });
 *   const db = new Kysely<RawTables>({ dialect: new SqliteDialect({ database: new BetterSqlite3(file) }) });
 *   return { store, raw: sqlRawReader(db), teardown: async () => { await store.close(); await db.destroy(); } };
 * });
 * ```
 */
export function describeStoreConformance(name: string, setup: () => Promise<Harness>): void {
  describe(`${name} store conformance`, () => {
    let h: Harness;

    beforeAll(async () => {
      h = await setup();
      // Connections are up before the checks start; a store's very first calls are checked on their own
      // ("a newly opened store answers its first calls").
      await untilAnswering(h.store, 10_000);
    }, 60_000);

    afterAll(async () => {
      await h?.teardown();
    }, 60_000);

    /** The user has no sessions left, in the raw store and (when there is one) in its session index. */
    async function expectNoSessionsStored(userId: string): Promise<void> {
      expect(await h.raw.sessionIds(userId)).toEqual([]);
      if (h.sessionKeys) expect(await h.sessionKeys.indexedIds(userId)).toEqual([]);
    }

    /**
     * Calls run at once from three stores (two app instances more), where the harness can open them; calls
     * that run transactions, only where it declares `concurrentTransactions`.
     */
    async function onThreeStores(
      kind: "statements" | "transactions",
      race: (stores: Store[]) => Promise<void>,
    ): Promise<void> {
      const several = h.newStore && (kind === "statements" || h.concurrentTransactions);
      const extra = several && h.newStore ? [h.newStore(), h.newStore()] : [];
      try {
        // Warmed up, so the race is between queries rather than connection set-ups.
        await Promise.all(extra.map((store) => untilAnswering(store, 10_000)));
        await race([h.store, ...extra]);
      } finally {
        await Promise.all(extra.map((store) => store.close()));
      }
    }

    it("migrate() can be called more than once", async () => {
      await h.store.migrate();
      await h.store.migrate();
    });

    it("a newly opened store answers its first calls, made as soon as it is created", async (ctx) => {
      const newStore = h.newStore;
      if (!newStore) return ctx.skip("this harness cannot open a second store");
      const user = await h.store.createUser(newUser());
      const session = newSession(user);
      await h.store.createSession(session);

      const store = newStore();
      const [found, listed, fetched] = await Promise.allSettled([
        store.getSessionAndUser(session.id),
        store.listUserSessions(user.id),
        store.getUserById(user.id),
      ]);
      await store.close();
      expect(found).toEqual({ status: "fulfilled", value: { session, user } });
      expect(listed).toEqual({ status: "fulfilled", value: [session] });
      expect(fetched).toEqual({ status: "fulfilled", value: user });
    });

    describe("users", () => {
      it("createUser stores the user as given, with session version 0, revocation epoch 0 and the address unverified (null)", async () => {
        const input = newUser({ email: "ada.lovelace+conformance@example.com" });
        const before = Date.now();
        const created = await h.store.createUser(input);
        const row = await h.raw.user(input.id);
        expect(row).toEqual({
          id: input.id,
          email: "ada.lovelace+conformance@example.com",
          name: input.name,
          role: input.role,
          password_hash: input.passwordHash,
          session_version: 0,
          revocation_epoch: 0,
          email_verified_at: null,
          totp_enabled: 0,
          banned_at: null,
          ban_reason: null,
          created_at: expect.any(Number),
          updated_at: expect.any(Number),
        });
        expect(row?.created_at).toBeGreaterThanOrEqual(before);
        expect(row?.created_at).toBeLessThanOrEqual(Date.now());
        expect(created).toEqual({
          id: input.id,
          email: input.email,
          name: input.name,
          role: input.role,
          passwordHash: input.passwordHash,
          emailVerifiedAt: null,
          totpEnabled: false,
          bannedAt: null,
          banReason: null,
          sessionVersion: 0,
          revocationEpoch: 0,
          createdAt: new Date(row?.created_at ?? NaN),
          updatedAt: new Date(row?.updated_at ?? NaN),
        });
      });

      it("createUser stores a missing name as null", async () => {
        const input = newUser({ name: null });
        await h.store.createUser(input);
        expect((await h.raw.user(input.id))?.name).toBeNull();
        expect((await h.store.getUserById(input.id))?.name).toBeNull();
      });

      it("getUserById and getUserByEmail return the stored user, and null for unknown ones", async () => {
        const created = await h.store.createUser(newUser());
        expect(await h.store.getUserById(created.id)).toEqual(created);
        expect(await h.store.getUserByEmail(created.email)).toEqual(created);
        expect(await h.store.getUserById(uniqueId("u"))).toBeNull();
        expect(await h.store.getUserByEmail(`${uniqueId("nobody")}@example.com`)).toBeNull();
      });

      it("listUsers includes every user, each as getUserById returns it", async () => {
        const created = [];
        for (let i = 0; i < 3; i++) created.push(await h.store.createUser(newUser()));
        const listed = await h.store.listUsers();
        const ids = created.map((user) => user.id);
        expect(listed.filter((user) => ids.includes(user.id)).sort(byId)).toEqual([...created].sort(byId));
        expect(new Set(listed.map((user) => user.id)).size).toBe(listed.length);
      });

      it("updateUser writes name, role and password hash, and leaves the rest", async () => {
        const created = await h.store.createUser(newUser());
        const before = await h.raw.user(created.id);
        const updated = await h.store.updateUser(created.id, {
          name: "Augusta Ada King",
          role: "admin",
          passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$new",
        });
        const row = await h.raw.user(created.id);
        expect(row).toEqual({
          ...before,
          name: "Augusta Ada King",
          role: "admin",
          password_hash: "$argon2id$v=19$m=19456,t=2,p=1$new",
          updated_at: expect.any(Number),
        });
        expect(row?.updated_at).toBeGreaterThanOrEqual(before?.updated_at ?? Infinity);
        expect(updated).toEqual(await h.store.getUserById(created.id));
        expect(updated?.updatedAt.getTime()).toBe(row?.updated_at);
      });

      it("updateUser changes only the fields given, and can clear the name", async () => {
        const created = await h.store.createUser(newUser());
        await h.store.updateUser(created.id, { role: "editor" });
        let row = await h.raw.user(created.id);
        expect(row).toMatchObject({ name: created.name, role: "editor", password_hash: created.passwordHash });
        await h.store.updateUser(created.id, { name: null });
        row = await h.raw.user(created.id);
        expect(row).toMatchObject({ name: null, role: "editor", password_hash: created.passwordHash });
      });

      it("updateUser returns the user even when the values are unchanged (several in the same millisecond)", async () => {
        const created = await h.store.createUser(newUser());
        const results = await Promise.all(
          Array.from({ length: 10 }, () => h.store.updateUser(created.id, { name: created.name, role: created.role })),
        );
        expect(results.map((user) => user?.id)).toEqual(Array(10).fill(created.id));
      });

      it("updateUser with ifPasswordHash writes only over that hash, and else returns null and stores nothing", async () => {
        const created = await h.store.createUser(newUser());
        expect(
          await h.store.updateUser(
            created.id,
            { passwordHash: "$argon2id$stale" },
            { ifPasswordHash: "$argon2id$other" },
          ),
        ).toBeNull();
        expect((await h.raw.user(created.id))?.password_hash).toBe(created.passwordHash);
        const updated = await h.store.updateUser(
          created.id,
          { passwordHash: "$argon2id$rehashed" },
          { ifPasswordHash: created.passwordHash as string },
        );
        expect(updated?.passwordHash).toBe("$argon2id$rehashed");
        expect((await h.raw.user(created.id))?.password_hash).toBe("$argon2id$rehashed");
      });

      it("updateUser returns null for an unknown user and stores nothing", async () => {
        const id = uniqueId("u");
        expect(await h.store.updateUser(id, { name: "Nobody" })).toBeNull();
        expect(await h.raw.user(id)).toBeNull();
      });

      it("updateUser writes emailVerifiedAt in ms, and leaves the rest; null clears it", async () => {
        const created = await h.store.createUser(newUser());
        const before = await h.raw.user(created.id);
        const verifiedAt = new Date(1_700_000_123_456);
        const updated = await h.store.updateUser(created.id, { emailVerifiedAt: verifiedAt });
        const row = await h.raw.user(created.id);
        expect(row).toEqual({ ...before, email_verified_at: 1_700_000_123_456, updated_at: expect.any(Number) });
        expect(updated?.emailVerifiedAt).toEqual(verifiedAt);
        expect(updated).toEqual(await h.store.getUserById(created.id));
        expect(updated?.updatedAt.getTime()).toBe(row?.updated_at);

        // An update that does not mention it leaves it alone.
        await h.store.updateUser(created.id, { name: "Augusta Ada King" });
        expect((await h.raw.user(created.id))?.email_verified_at).toBe(1_700_000_123_456);

        const cleared = await h.store.updateUser(created.id, { emailVerifiedAt: null });
        expect((await h.raw.user(created.id))?.email_verified_at).toBeNull();
        expect(cleared?.emailVerifiedAt).toBeNull();
      });

      it("updateUser writes a new email (and verification with it); the old address is free again", async () => {
        const created = await h.store.createUser(newUser());
        const before = await h.raw.user(created.id);
        const email = `${uniqueId("moved")}@example.com`;
        const verifiedAt = new Date(Date.now() - 5_000);
        const updated = await h.store.updateUser(created.id, { email, emailVerifiedAt: verifiedAt });
        const row = await h.raw.user(created.id);
        expect(row).toEqual({
          ...before,
          email,
          email_verified_at: verifiedAt.getTime(),
          updated_at: expect.any(Number),
        });
        expect(updated).toMatchObject({ id: created.id, email, emailVerifiedAt: verifiedAt });
        expect(await h.raw.countUsersWithEmail(email)).toBe(1);
        expect(await h.raw.countUsersWithEmail(created.email)).toBe(0);
        expect((await h.store.getUserByEmail(email))?.id).toBe(created.id);
        expect(await h.store.getUserByEmail(created.email)).toBeNull();
        // The old address can be registered by someone else now.
        const newcomer = await h.store.createUser(newUser({ email: created.email }));
        expect((await h.raw.user(newcomer.id))?.email).toBe(created.email);
      });

      it("updateUser with the user's own current email is not email_taken", async () => {
        const created = await h.store.createUser(newUser());
        const updated = await h.store.updateUser(created.id, { email: created.email, name: "Same Address" });
        expect(updated).toMatchObject({ id: created.id, email: created.email, name: "Same Address" });
        expect(await h.raw.countUsersWithEmail(created.email)).toBe(1);
      });

      it("updateUser with another user's email rejects with email_taken (409) and changes nothing", async () => {
        const owner = await h.store.createUser(newUser());
        const mover = await h.store.createUser(newUser());
        const [ownerBefore, moverBefore] = [await h.raw.user(owner.id), await h.raw.user(mover.id)];
        await expect(
          h.store.updateUser(mover.id, { email: owner.email, name: "Changed", emailVerifiedAt: new Date() }),
        ).rejects.toMatchObject({ code: "email_taken" });
        expect(await h.raw.user(owner.id)).toEqual(ownerBefore);
        expect(await h.raw.user(mover.id)).toEqual(moverBefore);
        expect(await h.raw.countUsersWithEmail(owner.email)).toBe(1);
        expect(await h.store.getUserById(mover.id)).toEqual(mover);
      });

      it("10 users moving to one new email at once: exactly one gets it, 9 get email_taken", async () => {
        const users = await Promise.all(Array.from({ length: 10 }, () => h.store.createUser(newUser())));
        const email = `${uniqueId("contested")}@example.com`;
        const results = await Promise.allSettled(users.map((user) => h.store.updateUser(user.id, { email })));
        const fulfilled = results.filter((result) => result.status === "fulfilled");
        const rejected = results.filter((result) => result.status === "rejected");
        expect(fulfilled).toHaveLength(1);
        expect(rejected.map((result) => (result.reason as { code?: unknown }).code)).toEqual(
          Array(9).fill("email_taken"),
        );
        expect(await h.raw.countUsersWithEmail(email)).toBe(1);
        for (const [i, user] of users.entries()) {
          expect((await h.raw.user(user.id))?.email).toBe(results[i]?.status === "fulfilled" ? email : user.email);
        }
      });

      it("bumpSessionVersion increments the stored version and returns the new one; null for an unknown user", async () => {
        const created = await h.store.createUser(newUser());
        expect(await h.store.bumpSessionVersion(created.id)).toBe(1);
        expect((await h.raw.user(created.id))?.session_version).toBe(1);
        expect(await h.store.bumpSessionVersion(created.id)).toBe(2);
        expect((await h.raw.user(created.id))?.session_version).toBe(2);
        expect((await h.store.getUserById(created.id))?.sessionVersion).toBe(2);
        const unknown = uniqueId("u");
        expect(await h.store.bumpSessionVersion(unknown)).toBeNull();
        expect(await h.raw.user(unknown)).toBeNull();
      });

      it("bumpSessionVersion loses no increment under 20 parallel calls", async () => {
        const created = await h.store.createUser(newUser());
        const versions = await Promise.all(Array.from({ length: 20 }, () => h.store.bumpSessionVersion(created.id)));
        expect((await h.raw.user(created.id))?.session_version).toBe(20);
        for (const version of versions) expect(version).toBeGreaterThanOrEqual(1);
        expect(Math.max(...versions.map(Number))).toBe(20);
      });

      it("deleteUser removes the user and every one of their sessions, and no one else's", async () => {
        const doomed = await h.store.createUser(newUser());
        const other = await h.store.createUser(newUser());
        const sessions = [newSession(doomed), newSession(doomed), newSession(doomed)];
        for (const session of sessions) await h.store.createSession(session);
        const kept = newSession(other);
        await h.store.createSession(kept);

        expect(await h.store.deleteUser(doomed.id)).toBe(true);
        expect(await h.raw.user(doomed.id)).toBeNull();
        await expectNoSessionsStored(doomed.id);
        for (const session of sessions) {
          expect(await h.raw.session(session.id)).toBeNull();
          expect(await h.store.getSessionAndUser(session.id)).toBeNull();
        }
        expect(await h.raw.user(other.id)).not.toBeNull();
        expect(await h.raw.session(kept.id)).toEqual(rawSessionOf(kept));
        expect(await h.store.deleteUser(doomed.id)).toBe(false);
      });

      it("createUser with a registered email rejects with email_taken and stores nothing", async () => {
        const first = await h.store.createUser(newUser());
        const second = newUser({ email: first.email });
        await expect(h.store.createUser(second)).rejects.toMatchObject({ code: "email_taken" });
        expect(await h.raw.user(second.id)).toBeNull();
        expect(await h.raw.countUsersWithEmail(first.email)).toBe(1);
      });

      it("20 parallel createUser calls with one email: exactly one succeeds, 19 get email_taken", async () => {
        const email = `${uniqueId("race")}@example.com`;
        const inputs = Array.from({ length: 20 }, () => newUser({ email }));
        const results = await Promise.allSettled(inputs.map((input) => h.store.createUser(input)));
        const fulfilled = results.filter((result) => result.status === "fulfilled");
        const rejected = results.filter((result) => result.status === "rejected");
        expect(fulfilled).toHaveLength(1);
        expect(rejected.map((result) => (result.reason as { code?: unknown }).code)).toEqual(
          Array(19).fill("email_taken"),
        );
        expect(await h.raw.countUsersWithEmail(email)).toBe(1);
        const winner = inputs[results.findIndex((result) => result.status === "fulfilled")];
        expect((await h.raw.user(winner?.id ?? ""))?.email).toBe(email);
      });
    });

    describe("sessions", () => {
      it("createSession stores every field: times in ms, the secret hash as given", async () => {
        const user = await h.store.createUser(newUser());
        const session = newSession(user, {
          userVersion: 3,
          revocationEpoch: 5,
          createdAt: new Date(1_700_000_000_123),
          lastSeenAt: new Date(1_700_000_060_456),
          expiresAt: new Date(Date.now() + 30 * DAY + 789),
        });
        await h.store.createSession(session);
        expect(await h.raw.session(session.id)).toEqual({
          id: session.id,
          user_id: user.id,
          secret_hash: session.secretHash,
          user_version: 3,
          revocation_epoch: 5,
          created_at: 1_700_000_000_123,
          expires_at: session.expiresAt.getTime(),
          last_seen_at: 1_700_000_060_456,
          user_agent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
          ip: "203.0.113.7",
          impersonated_by: null,
          impersonator_epoch: null,
        });
        expect(await h.raw.sessionIds(user.id)).toEqual([session.id]);
        if (h.sessionKeys) expect(await h.sessionKeys.indexedIds(user.id)).toEqual([session.id]);
      });

      it("createSession with sweep deletes the user's dead sessions in the same step, and no one else's", async () => {
        const user = await h.store.createUser(newUser());
        const other = await h.store.createUser(newUser());
        const now = Date.now();
        const dead = [
          newSession(user, { expiresAt: new Date(now - 1) }),
          newSession(user, { lastSeenAt: new Date(now - 2 * 60 * 60_000) }),
          newSession(user, { createdAt: new Date(now - 31 * DAY) }),
          newSession(user, { revocationEpoch: -1 }),
        ];
        const live = newSession(user);
        // Idle, not expired: a backend that expires keys by itself (Redis) would drop an expired one anyway.
        const othersDead = newSession(other, { lastSeenAt: new Date(now - 2 * 60 * 60_000) });
        for (const session of [...dead, live, othersDead]) await h.store.createSession(session);
        const fresh = newSession(user);
        await h.store.createSession(fresh, {
          sweep: { now, idleTimeoutMs: 60 * 60_000, absoluteMaxAgeMs: 30 * DAY, epoch: user.revocationEpoch },
        });
        expect(await h.raw.sessionIds(user.id)).toEqual([live.id, fresh.id].sort());
        expect(await h.raw.session(othersDead.id)).not.toBeNull();
      });

      it("createSession stores a missing user agent and IP as null, and an empty secret hash (stateless) as empty", async () => {
        const user = await h.store.createUser(newUser());
        const session = newSession(user, { userAgent: null, ip: null, secretHash: "" });
        await h.store.createSession(session);
        expect(await h.raw.session(session.id)).toMatchObject({ user_agent: null, ip: null, secret_hash: "" });
        expect((await h.store.getSessionAndUser(session.id))?.session).toEqual(session);
      });

      it("getSessionAndUser returns the session and its user, with the stored times", async () => {
        const user = await h.store.createUser(newUser());
        await h.store.bumpSessionVersion(user.id);
        const session = newSession(user, { userVersion: 1 });
        await h.store.createSession(session);
        const found = await h.store.getSessionAndUser(session.id);
        expect(found?.session).toEqual(session);
        expect(found?.user).toEqual(await h.store.getUserById(user.id));
        const rawSession = await h.raw.session(session.id);
        const rawUser = await h.raw.user(user.id);
        expect(found?.session.createdAt.getTime()).toBe(rawSession?.created_at);
        expect(found?.session.expiresAt.getTime()).toBe(rawSession?.expires_at);
        expect(found?.session.lastSeenAt.getTime()).toBe(rawSession?.last_seen_at);
        expect(found?.user.createdAt.getTime()).toBe(rawUser?.created_at);
        expect(found?.user.updatedAt.getTime()).toBe(rawUser?.updated_at);
        expect(found?.user.sessionVersion).toBe(1);
      });

      it("getSessionAndUser returns null for an unknown session", async () => {
        expect(await h.store.getSessionAndUser(uniqueId("s"))).toBeNull();
      });

      it("listUserSessions returns each of the user's sessions and no one else's", async () => {
        const user = await h.store.createUser(newUser());
        const other = await h.store.createUser(newUser());
        const sessions = [newSession(user), newSession(user, { userAgent: null }), newSession(user, { ip: null })];
        for (const session of sessions) await h.store.createSession(session);
        await h.store.createSession(newSession(other));
        expect((await h.store.listUserSessions(user.id)).sort(byId)).toEqual([...sessions].sort(byId));
        expect(await h.store.listUserSessions(uniqueId("u"))).toEqual([]);
      });

      it("touchSession writes last_seen_at and expires_at, and nothing else", async () => {
        const user = await h.store.createUser(newUser());
        const session = newSession(user);
        await h.store.createSession(session);
        const lastSeenAt = new Date(Date.now() + 1_234);
        const expiresAt = new Date(Date.now() + 14 * DAY + 567);
        await h.store.touchSession(session.id, { lastSeenAt, expiresAt });
        expect(await h.raw.session(session.id)).toEqual({
          ...rawSessionOf(session),
          last_seen_at: lastSeenAt.getTime(),
          expires_at: expiresAt.getTime(),
        });
        expect((await h.store.getSessionAndUser(session.id))?.session).toEqual({ ...session, lastSeenAt, expiresAt });
      });

      it("touchSession on a deleted session does not re-create it", async () => {
        const user = await h.store.createUser(newUser());
        const session = newSession(user);
        await h.store.createSession(session);
        expect(await h.store.deleteSession(session.id)).toBe(true);
        await h.store.touchSession(session.id, { lastSeenAt: new Date(), expiresAt: new Date(Date.now() + DAY) });
        expect(await h.raw.session(session.id)).toBeNull();
        await expectNoSessionsStored(user.id);
        expect(await h.store.getSessionAndUser(session.id)).toBeNull();
        expect(await h.store.listUserSessions(user.id)).toEqual([]);
      });

      it("touchSession on a session that never existed stores nothing", async () => {
        const id = uniqueId("s");
        await h.store.touchSession(id, { lastSeenAt: new Date(), expiresAt: new Date(Date.now() + DAY) });
        expect(await h.raw.session(id)).toBeNull();
      });

      it("deleteSession returns true and removes the session, then false", async () => {
        const user = await h.store.createUser(newUser());
        const session = newSession(user);
        const kept = newSession(user);
        await h.store.createSession(session);
        await h.store.createSession(kept);
        expect(await h.store.deleteSession(session.id)).toBe(true);
        expect(await h.raw.session(session.id)).toBeNull();
        expect(await h.raw.sessionIds(user.id)).toEqual([kept.id]);
        if (h.sessionKeys) expect(await h.sessionKeys.indexedIds(user.id)).toEqual([kept.id]);
        expect(await h.store.deleteSession(session.id)).toBe(false);
        expect(await h.store.deleteSession(uniqueId("s"))).toBe(false);
      });
    });

    describe("email tokens", () => {
      it("createToken stores exactly the hash, purpose, user, email, epoch and times given", async () => {
        const user = await h.store.createUser(newUser());
        const token = newToken(user, {
          purpose: "change_email",
          email: `${uniqueId("new")}@example.com`,
          revocationEpoch: 7,
          createdAt: new Date(1_700_000_000_123),
          expiresAt: new Date(1_700_000_900_789),
        });
        await h.store.createToken(token, { replace: false });
        expect(await h.raw.token(token.tokenHash)).toEqual({
          token_hash: token.tokenHash,
          purpose: "change_email",
          user_id: user.id,
          email: token.email,
          revocation_epoch: 7,
          created_at: 1_700_000_000_123,
          expires_at: 1_700_000_900_789,
        });
        expect(await h.raw.userTokens(user.id)).toEqual([rawTokenOf(token)]);
      });

      it("createToken with replace: false keeps the user's other tokens of the purpose", async () => {
        const user = await h.store.createUser(newUser());
        const tokens = [newToken(user), newToken(user), newToken(user)];
        for (const token of tokens) await h.store.createToken(token, { replace: false });
        expect(await h.raw.userTokens(user.id)).toEqual(tokens.map(rawTokenOf).sort(byTokenHash));
      });

      it("createToken with replace: true, several at once for one user: exactly one of them stays", async () => {
        const user = await h.store.createUser(newUser());
        for (let round = 0; round < 10; round++) {
          const racing = [newToken(user), newToken(user), newToken(user)];
          await Promise.all(racing.map((token) => h.store.createToken(token, { replace: true })));
          const left = await h.raw.userTokens(user.id);
          expect(left, `round ${round}`).toHaveLength(1);
          expect(racing.map(rawTokenOf)).toContainEqual(left[0]);
        }
      });

      it("createToken with replace: true deletes the user's other tokens of that purpose only", async () => {
        const user = await h.store.createUser(newUser());
        const other = await h.store.createUser(newUser());
        const old = [newToken(user), newToken(user)];
        const reset = newToken(user, { purpose: "reset_password" });
        const change = newToken(user, { purpose: "change_email", email: `${uniqueId("new")}@example.com` });
        const othersVerify = newToken(other);
        for (const token of [...old, reset, change, othersVerify]) await h.store.createToken(token, { replace: false });

        const newest = newToken(user);
        await h.store.createToken(newest, { replace: true });
        expect(await h.raw.userTokens(user.id)).toEqual([newest, reset, change].map(rawTokenOf).sort(byTokenHash));
        for (const token of old) expect(await h.raw.token(token.tokenHash)).toBeNull();
        expect(await h.raw.userTokens(other.id)).toEqual([rawTokenOf(othersVerify)]);

        // With nothing to replace, it just stores the token.
        const firstReset = newToken(other, { purpose: "reset_password" });
        await h.store.createToken(firstReset, { replace: true });
        expect(await h.raw.userTokens(other.id)).toEqual([othersVerify, firstReset].map(rawTokenOf).sort(byTokenHash));
      });

      it("consumeToken returns the token and deletes it; the second time it returns null", async () => {
        const user = await h.store.createUser(newUser());
        const token = newToken(user, { purpose: "reset_password" });
        const kept = newToken(user, { purpose: "reset_password" });
        await h.store.createToken(token, { replace: false });
        await h.store.createToken(kept, { replace: false });
        expect(await h.store.consumeToken(token.tokenHash, ["reset_password"])).toEqual(token);
        expect(await h.raw.token(token.tokenHash)).toBeNull();
        expect(await h.raw.userTokens(user.id)).toEqual([rawTokenOf(kept)]);
        expect(await h.store.consumeToken(token.tokenHash, ["reset_password"])).toBeNull();
        expect(await h.raw.userTokens(user.id)).toEqual([rawTokenOf(kept)]);
      });

      it("consumeToken takes a token whose purpose is any of those listed", async () => {
        const user = await h.store.createUser(newUser());
        const token = newToken(user, { purpose: "change_email", email: `${uniqueId("new")}@example.com` });
        await h.store.createToken(token, { replace: false });
        expect(await h.store.consumeToken(token.tokenHash, ["verify_email", "change_email"])).toEqual(token);
        expect(await h.raw.token(token.tokenHash)).toBeNull();
      });

      it("consumeToken for a purpose not listed (or none) returns null and leaves the row", async () => {
        const user = await h.store.createUser(newUser());
        const token = newToken(user, { purpose: "verify_email" });
        await h.store.createToken(token, { replace: false });
        expect(await h.store.consumeToken(token.tokenHash, ["reset_password"])).toBeNull();
        expect(await h.store.consumeToken(token.tokenHash, ["reset_password", "change_email"])).toBeNull();
        expect(await h.store.consumeToken(token.tokenHash, [])).toBeNull();
        expect(await h.raw.token(token.tokenHash)).toEqual(rawTokenOf(token));
        expect(await h.store.consumeToken(token.tokenHash, ["verify_email"])).toEqual(token);
      });

      it("consumeToken returns null for an unknown hash", async () => {
        expect(
          await h.store.consumeToken(randomBytes(32).toString("hex"), [
            "verify_email",
            "change_email",
            "reset_password",
          ]),
        ).toBeNull();
      });

      it("consumeToken returns an expired token too (the caller checks expiresAt), and deletes it", async () => {
        const user = await h.store.createUser(newUser());
        const token = newToken(user, {
          createdAt: new Date(Date.now() - 2 * DAY),
          expiresAt: new Date(Date.now() - DAY),
        });
        await h.store.createToken(token, { replace: false });
        expect(await h.store.consumeToken(token.tokenHash, ["verify_email"])).toEqual(token);
        expect(await h.raw.token(token.tokenHash)).toBeNull();
        expect(await h.store.consumeToken(token.tokenHash, ["verify_email"])).toBeNull();
      });

      it("of 20 concurrent consumers of one token (on three stores), exactly one receives it", async () => {
        const extra = h.newStore ? [h.newStore(), h.newStore()] : [];
        try {
          const stores = [h.store, ...extra];
          // Warm the extra stores up, so the race is between queries rather than connection set-ups.
          await Promise.all(extra.map((store) => untilAnswering(store, 10_000)));
          for (let round = 0; round < 5; round++) {
            const user = await h.store.createUser(newUser());
            const token = newToken(user, { purpose: "reset_password" });
            await h.store.createToken(token, { replace: false });
            const results = await Promise.allSettled(
              Array.from({ length: 20 }, (_, i) =>
                (stores[i % stores.length] as Store).consumeToken(token.tokenHash, ["reset_password"]),
              ),
            );
            expect(results.filter((result) => result.status === "rejected")).toEqual([]);
            const received = results
              .map((result) => (result as PromiseFulfilledResult<TokenRecord | null>).value)
              .filter((value) => value !== null);
            expect(received).toEqual([token]);
            expect(await h.raw.token(token.tokenHash)).toBeNull();
          }
        } finally {
          await Promise.all(extra.map((store) => store.close()));
        }
      });

      it("deleteUserTokens deletes the user's tokens of one purpose (but the one excepted) and returns the count", async () => {
        const user = await h.store.createUser(newUser());
        const other = await h.store.createUser(newUser());
        const verify = [newToken(user), newToken(user)];
        const reset = newToken(user, { purpose: "reset_password" });
        const othersVerify = newToken(other);
        for (const token of [...verify, reset, othersVerify]) await h.store.createToken(token, { replace: false });

        expect(
          await h.store.deleteUserTokens(user.id, "verify_email", { except: (verify[1] as TokenRecord).tokenHash }),
        ).toBe(1);
        expect(await h.raw.token((verify[1] as TokenRecord).tokenHash)).toEqual(rawTokenOf(verify[1] as TokenRecord));
        expect(await h.store.deleteUserTokens(user.id, "verify_email")).toBe(1);
        expect(await h.raw.userTokens(user.id)).toEqual([rawTokenOf(reset)]);
        expect(await h.raw.userTokens(other.id)).toEqual([rawTokenOf(othersVerify)]);
        expect(await h.store.deleteUserTokens(user.id, "verify_email")).toBe(0);
        expect(await h.store.deleteUserTokens(user.id, "change_email")).toBe(0);
        expect(await h.store.deleteUserTokens(uniqueId("u"), "verify_email")).toBe(0);
        expect(await h.raw.userTokens(user.id)).toEqual([rawTokenOf(reset)]);
      });

      it("deleteUser removes the user's tokens of every purpose, and no one else's", async () => {
        const doomed = await h.store.createUser(newUser());
        const other = await h.store.createUser(newUser());
        const tokens = [
          newToken(doomed),
          newToken(doomed, { purpose: "reset_password" }),
          newToken(doomed, { purpose: "change_email", email: `${uniqueId("new")}@example.com` }),
        ];
        for (const token of tokens) await h.store.createToken(token, { replace: false });
        const kept = newToken(other);
        await h.store.createToken(kept, { replace: false });

        expect(await h.store.deleteUser(doomed.id)).toBe(true);
        expect(await h.raw.user(doomed.id)).toBeNull();
        expect(await h.raw.userTokens(doomed.id)).toEqual([]);
        for (const token of tokens) expect(await h.raw.token(token.tokenHash)).toBeNull();
        expect(await h.store.consumeToken(tokens[0]?.tokenHash ?? "", ["verify_email"])).toBeNull();
        expect(await h.raw.userTokens(other.id)).toEqual([rawTokenOf(kept)]);
      });
    });

    describe("session expiry in the backend", () => {
      /** |actual remaining lifetime − expected| stays under this, in ms. */
      const TOLERANCE = 5_000;

      it("a session's key expires when the session does", async (ctx) => {
        const keys = h.sessionKeys;
        if (!keys) return ctx.skip("sessions in this backend do not expire by themselves");
        const user = await h.store.createUser(newUser());
        const session = newSession(user, { expiresAt: new Date(Date.now() + 2 * HOUR) });
        await h.store.createSession(session);
        const ttl = await keys.ttlMs(session.id);
        expect(Math.abs(ttl - (session.expiresAt.getTime() - Date.now()))).toBeLessThan(TOLERANCE);
      });

      it("touchSession moves the key's expiry with the session's", async (ctx) => {
        const keys = h.sessionKeys;
        if (!keys) return ctx.skip("sessions in this backend do not expire by themselves");
        const user = await h.store.createUser(newUser());
        const session = newSession(user, { expiresAt: new Date(Date.now() + HOUR) });
        await h.store.createSession(session);
        const expiresAt = new Date(Date.now() + 5 * HOUR);
        await h.store.touchSession(session.id, { lastSeenAt: new Date(), expiresAt });
        expect(Math.abs((await keys.ttlMs(session.id)) - (expiresAt.getTime() - Date.now()))).toBeLessThan(TOLERANCE);
        expect(Math.abs((await keys.indexTtlMs(user.id)) - (expiresAt.getTime() - Date.now()))).toBeLessThan(TOLERANCE);
      });

      it("the user's session index lives as long as their longest session", async (ctx) => {
        const keys = h.sessionKeys;
        if (!keys) return ctx.skip("sessions in this backend do not expire by themselves");
        const user = await h.store.createUser(newUser());
        const longest = Date.now() + 2 * HOUR;
        await h.store.createSession(newSession(user, { expiresAt: new Date(Date.now() + HOUR) }));
        await h.store.createSession(newSession(user, { expiresAt: new Date(longest) }));
        await h.store.createSession(newSession(user, { expiresAt: new Date(Date.now() + HOUR / 2) }));
        expect(Math.abs((await keys.indexTtlMs(user.id)) - (longest - Date.now()))).toBeLessThan(TOLERANCE);
      });
    });

    describe("ending a user's sessions (endSessions)", () => {
      it("deletes every session of the user, moves the user to the next epoch, and voids change-email and reset tokens only", async () => {
        const user = await h.store.createUser(newUser());
        const other = await h.store.createUser(newUser());
        const sessions = [newSession(user), newSession(user)];
        const kept = newSession(other);
        for (const session of [...sessions, kept]) await h.store.createSession(session);
        const tokens = (["verify_email", "change_email", "reset_password"] as const).map((purpose) =>
          newToken(user, { purpose }),
        );
        for (const token of tokens) await h.store.createToken(token, { replace: false });
        const othersToken = newToken(other, { purpose: "reset_password" });
        await h.store.createToken(othersToken, { replace: false });

        expect(await h.store.endSessions(user.id)).toEqual({ ended: 2, epoch: 1 });
        expect(await h.raw.sessionIds(user.id)).toEqual([]);
        expect((await h.raw.user(user.id))?.revocation_epoch).toBe(1);
        expect((await h.raw.userTokens(user.id)).map((token) => token.purpose)).toEqual(["verify_email"]);
        expect(await h.raw.session(kept.id)).toEqual(rawSessionOf(kept));
        expect(await h.raw.token(othersToken.tokenHash)).toEqual(rawTokenOf(othersToken));
        expect((await h.raw.user(other.id))?.revocation_epoch).toBe(0);
        expect(await h.store.endSessions(user.id)).toEqual({ ended: 0, epoch: 2 });
      });

      it("with keep, spares that session and moves it to the new epoch", async () => {
        const user = await h.store.createUser(newUser());
        const current = newSession(user);
        const others = [newSession(user), newSession(user)];
        for (const session of [current, ...others]) await h.store.createSession(session);
        expect(await h.store.endSessions(user.id, { keep: current.id })).toEqual({ ended: 2, epoch: 1 });
        expect(await h.raw.sessionIds(user.id)).toEqual([current.id]);
        expect(await h.raw.session(current.id)).toEqual({ ...rawSessionOf(current), revocation_epoch: 1 });
        expect((await h.store.getSessionAndUser(current.id))?.session.revocationEpoch).toBe(1);
      });

      it("with keep, a record of an older epoch is not moved: what a revocation ended stays ended", async () => {
        const user = await h.store.createUser(newUser());
        const current = newSession(user);
        await h.store.createSession(current);
        await h.store.endSessions(user.id);
        // A rotation under way during that revocation writes its record in the epoch it read.
        const late = newSession(user, { revocationEpoch: 0 });
        await h.store.createSession(late);
        expect(await h.store.endSessions(user.id, { keep: late.id })).toEqual({ ended: 0, epoch: 2 });
        expect((await h.raw.session(late.id))?.revocation_epoch).toBe(0);
      });

      it("with ifEpoch, changes nothing unless the user is still in that epoch", async () => {
        const user = await h.store.createUser(newUser());
        const session = newSession(user);
        await h.store.createSession(session);
        expect(
          await h.store.endSessions(user.id, { ifEpoch: 1, update: { passwordHash: "$argon2id$moved" } }),
        ).toBeNull();
        expect(await h.raw.user(user.id)).toMatchObject({ password_hash: user.passwordHash, revocation_epoch: 0 });
        expect(await h.raw.sessionIds(user.id)).toEqual([session.id]);
        expect(await h.store.endSessions(user.id, { ifEpoch: 0, update: { passwordHash: "$argon2id$moved" } })).toEqual(
          { ended: 1, epoch: 1 },
        );
        expect(await h.raw.user(user.id)).toMatchObject({ password_hash: "$argon2id$moved", revocation_epoch: 1 });
      });

      it("keep names only the user's own session: another user's stays as it is", async () => {
        const user = await h.store.createUser(newUser());
        const other = await h.store.createUser(newUser());
        const theirs = newSession(other);
        await h.store.createSession(theirs);
        await h.store.endSessions(user.id, { keep: theirs.id });
        expect(await h.raw.session(theirs.id)).toEqual(rawSessionOf(theirs));
      });

      it("applies update in the same step: the new password hash and verification time", async () => {
        const user = await h.store.createUser(newUser());
        await h.store.createSession(newSession(user));
        const verifiedAt = new Date(1_700_000_000_789);
        await h.store.endSessions(user.id, { update: { passwordHash: "$argon2id$new", emailVerifiedAt: verifiedAt } });
        expect(await h.raw.user(user.id)).toMatchObject({
          password_hash: "$argon2id$new",
          email_verified_at: 1_700_000_000_789,
          revocation_epoch: 1,
        });
      });

      it("resolves to null for an unknown user and changes nothing", async () => {
        expect(await h.store.endSessions(uniqueId("u"), { update: { passwordHash: "$argon2id$x" } })).toBeNull();
      });

      it("20 parallel calls lose no epoch and leave no session", async () => {
        const user = await h.store.createUser(newUser());
        for (let i = 0; i < 5; i++) await h.store.createSession(newSession(user));
        const results = await Promise.all(Array.from({ length: 20 }, () => h.store.endSessions(user.id)));
        expect(results.map((result) => result?.epoch).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(
          Array.from({ length: 20 }, (_, i) => i + 1),
        );
        expect(results.reduce((sum, result) => sum + (result?.ended ?? 0), 0)).toBe(5);
        expect((await h.raw.user(user.id))?.revocation_epoch).toBe(20);
        expect(await h.raw.sessionIds(user.id)).toEqual([]);
      });

      it("the records a racing writer adds during it carry an epoch it has left behind", async () => {
        // The rotation race: a writer that read the user before the revocation inserts a record of the epoch
        // it read. Whether it lands before the delete (deleted) or after (kept, but of an older epoch), the
        // manager refuses it: no record of the user's current epoch is left but those written after it.
        const user = await h.store.createUser(newUser());
        const read = await h.store.getUserById(user.id);
        const racing = Array.from({ length: 20 }, () => h.store.createSession(newSession(read as UserRecord)));
        const [ended] = await Promise.all([h.store.endSessions(user.id), ...racing]);
        const current = await h.store.getUserById(user.id);
        expect(current?.revocationEpoch).toBe(ended?.epoch);
        for (const session of await h.store.listUserSessions(user.id))
          expect(session.revocationEpoch).toBeLessThan(ended?.epoch as number);
      });
    });

    describe("sweeping expired rows (sweepExpired)", () => {
      it("deletes counters and sessions that ended by now and tokens expired over a week, and nothing live", async () => {
        const now = Date.now();
        const user = await h.store.createUser(newUser());
        const [endedLimit, liveLimit] = [`login-account-day:${uniqueId("k")}`, `login-account-day:${uniqueId("k")}`];
        await h.store.hitRateLimit(endedLimit, 1_000, now - 5_000);
        await reserveOne(h.store, liveLimit, 60_000, now);
        const endedToken = newToken(user, { createdAt: new Date(now - 9 * DAY), expiresAt: new Date(now - 7 * DAY) });
        // Kept a while after it expired, so a late click hears "expired".
        const lateToken = newToken(user, { expiresAt: new Date(now - 7 * DAY + 60_000) });
        const liveToken = newToken(user);
        for (const token of [endedToken, lateToken, liveToken]) await h.store.createToken(token, { replace: false });
        const endedSession = newSession(user, { expiresAt: new Date(now - 1) });
        const liveSession = newSession(user);
        for (const session of [endedSession, liveSession]) await h.store.createSession(session);

        await h.store.sweepExpired(now);
        // Counter keys that expire by themselves (Redis) live one window length after their last write.
        if (h.rateLimitKeys) await sleep(1_200);
        expect(await h.raw.rateLimit(endedLimit)).toBeNull();
        expect((await h.raw.rateLimit(liveLimit))?.count).toBe(1);
        expect(await h.raw.token(endedToken.tokenHash)).toBeNull();
        expect(await h.raw.token(liveToken.tokenHash)).not.toBeNull();
        expect(await h.raw.token(lateToken.tokenHash)).not.toBeNull();
        expect(await h.raw.session(liveSession.id)).not.toBeNull();
        expect(await h.raw.session(endedSession.id)).toBeNull();
      });
    });

    describe("concurrency", () => {
      it("200 parallel createSession calls for one user all land (0 lost)", async () => {
        const user = await h.store.createUser(newUser());
        const sessions = Array.from({ length: 200 }, () => newSession(user));
        const results = await Promise.allSettled(sessions.map((session) => h.store.createSession(session)));
        expect(results.filter((result) => result.status === "rejected")).toEqual([]);
        const ids = sessions.map((session) => session.id).sort();
        expect(await h.raw.sessionIds(user.id)).toEqual(ids);
        if (h.sessionKeys) expect(await h.sessionKeys.indexedIds(user.id)).toEqual(ids);
        const listed = await h.store.listUserSessions(user.id);
        expect(listed).toHaveLength(200);
        expect(listed.sort(byId)).toEqual([...sessions].sort(byId));
      });

      it("endSessions racing touches and reads of the same 200 sessions leaves none behind", async () => {
        const user = await h.store.createUser(newUser());
        const sessions = Array.from({ length: 200 }, () => newSession(user));
        await Promise.all(sessions.map((session) => h.store.createSession(session)));
        expect(await h.raw.sessionIds(user.id)).toHaveLength(200);

        const touch = { lastSeenAt: new Date(), expiresAt: new Date(Date.now() + 30 * DAY) };
        const [ended] = await Promise.all([
          h.store.endSessions(user.id),
          ...sessions.map((session) => h.store.touchSession(session.id, touch)),
          ...sessions.map((session) => h.store.getSessionAndUser(session.id)),
        ]);
        expect(ended?.ended).toBe(200);
        await expectNoSessionsStored(user.id);
        expect(await h.store.listUserSessions(user.id)).toEqual([]);
      });
    });

    describe("rate-limit counters", () => {
      /** How far a resetAt read back may be from the expected one, in ms (Redis derives it from the key's TTL). */
      const SLACK = 2_000;
      const limitKey = (kind = "login-ip") => `${kind}:${uniqueId("k")}`;

      it("hitRateLimit counts from 1 in a window that ends windowMs after now, and stores that", async () => {
        const key = limitKey();
        const now = Date.now();
        const first = await h.store.hitRateLimit(key, 60_000, now);
        expect(first.count).toBe(1);
        expect(Math.abs(first.resetAt - (now + 60_000))).toBeLessThan(SLACK);
        const second = await h.store.hitRateLimit(key, 60_000, Date.now());
        expect(second.count).toBe(2);
        // The window does not move with later hits: it is fixed from the first.
        expect(Math.abs(second.resetAt - first.resetAt)).toBeLessThan(SLACK);
        const raw = await h.raw.rateLimit(key);
        expect(raw?.count).toBe(2);
        expect(Math.abs((raw?.resetAt ?? 0) - first.resetAt)).toBeLessThan(SLACK);
      });

      it("50 parallel hits on one key are all counted: final count 50, none lost", async () => {
        const key = limitKey("login-account");
        const results = await Promise.allSettled(
          Array.from({ length: 50 }, () => h.store.hitRateLimit(key, 60_000, Date.now())),
        );
        expect(results.filter((result) => result.status === "rejected")).toEqual([]);
        const counts = results.map((result) => (result as PromiseFulfilledResult<{ count: number }>).value.count);
        for (const count of counts) {
          expect(count).toBeGreaterThanOrEqual(1);
          expect(count).toBeLessThanOrEqual(50);
        }
        expect(Math.max(...counts)).toBe(50);
        expect((await h.raw.rateLimit(key))?.count).toBe(50);
        expect((await h.store.peekRateLimit(key, Date.now()))?.count).toBe(50);
      });

      it("a write batch writes nothing until committed, then its settled counters and its session together", async () => {
        const user = await h.store.createUser(newUser());
        const key = limitKey("login-account");
        const now = Date.now();
        const { resetAt } = await reserveOne(h.store, key, 60_000, now);
        const batch = await h.store.writeBatch();
        const session = newSession(user);
        batch.settleAttempts([], false, { clear: [key] });
        batch.createSession(session);
        expect(await h.raw.session(session.id)).toBeNull();
        expect((await h.raw.rateLimit(key))?.count).toBe(1);
        await batch.commit();
        expect(await h.raw.session(session.id)).toEqual(rawSessionOf(session));
        expect((await h.raw.rateLimit(key))?.count).toBe(0);
        // A second commit has nothing left to write.
        await batch.commit();
        batch.settleAttempts([{ key, resetAt }], false);
        await batch.commit();
        expect((await h.raw.rateLimit(key))?.count).toBe(0);
      });

      it("a write batch that fails still settles its counters: a right password's attempts are not left in flight", async (ctx) => {
        // The failure is a session of a user the SQL store does not have (a foreign key).
        if (h.sessionKeys)
          return ctx.skip("sessions live apart from the SQL store here: the core batches no writes across them");
        const key = limitKey("login-account");
        const { resetAt } = await reserveOne(h.store, key, 60_000, Date.now());
        const batch = await h.store.writeBatch();
        batch.settleAttempts([{ key, resetAt }], false);
        batch.createSession(newSession({ ...(await h.store.createUser(newUser())), id: uniqueId("nobody") }));
        await expect(batch.commit()).rejects.toBeDefined();
        expect(await h.raw.rateLimit(key)).toMatchObject({ count: 0 });
        expect(await reserveOne(h.store, key, 60_000, Date.now())).toMatchObject({ count: 1, pending: 1 });
      });

      it("each of 50 parallel hits on one key reads its own count: the answers are exactly 1 to 50", async () => {
        const key = limitKey("login-ip");
        const windows = await Promise.all(
          Array.from({ length: 50 }, () => h.store.hitRateLimit(key, 60_000, Date.now())),
        );
        expect(windows.map((window) => window.count).sort((a, b) => a - b)).toEqual(
          Array.from({ length: 50 }, (_, i) => i + 1),
        );
      });

      describe("reserved attempts", () => {
        it("reserveAttempts counts like a hit and marks the attempt in flight; settling releases or keeps it", async () => {
          const key = limitKey("login-account");
          const now = Date.now();
          const first = await reserveOne(h.store, key, 60_000, now);
          expect(first).toEqual({ count: 1, pending: 1, resetAt: now + 60_000 });
          const second = await reserveOne(h.store, key, 60_000, Date.now());
          expect(second).toMatchObject({ count: 2, pending: 2 });
          await h.store.settleAttempts([{ key, resetAt: first.resetAt }], true);
          await h.store.settleAttempts([{ key, resetAt: first.resetAt }], false);
          expect((await h.raw.rateLimit(key))?.count).toBe(1);
          expect(await reserveOne(h.store, key, 60_000, Date.now())).toMatchObject({ count: 2, pending: 1 });
        });

        it("reserveAttempts reserves against several counters in one call, answering in their order", async () => {
          const [day, quarter] = [limitKey("login-account-day"), limitKey("login-account")];
          const now = Date.now();
          await reserveOne(h.store, quarter, 60_000, now);
          const windows = await h.store.reserveAttempts(
            [
              { key: day, windowMs: 86_400_000 },
              { key: quarter, windowMs: 60_000 },
            ],
            now,
          );
          expect(windows).toEqual([
            { count: 1, pending: 1, resetAt: now + 86_400_000 },
            { count: 2, pending: 2, resetAt: now + 60_000 },
          ]);
          expect(await h.store.reserveAttempts([], now)).toEqual([]);
        });

        it("settling never takes the count or the in-flight number below 0", async () => {
          const key = limitKey("login-device");
          const { resetAt } = await reserveOne(h.store, key, 60_000, Date.now());
          await reserveOne(h.store, key, 60_000, Date.now());
          await h.store.settleAttempts([{ key, resetAt }], false);
          expect((await h.raw.rateLimit(key))?.count).toBe(1);
          for (let i = 0; i < 3; i++) await h.store.settleAttempts([{ key, resetAt }], false);
          expect((await h.raw.rateLimit(key))?.count).toBe(0);
          expect(await reserveOne(h.store, key, 60_000, Date.now())).toMatchObject({ count: 1, pending: 1 });
        });

        it("settling an attempt of a window that has ended changes nothing in the new one", async () => {
          const key = limitKey("login-ip");
          const start = Date.now();
          const old = await reserveOne(h.store, key, 60_000, start);
          const fresh = await reserveOne(h.store, key, 60_000, start + 60_000);
          expect(fresh).toEqual({ count: 1, pending: 1, resetAt: start + 120_000 });
          await h.store.settleAttempts([{ key, resetAt: old.resetAt }], false);
          expect(await reserveOne(h.store, key, 60_000, start + 60_001)).toMatchObject({ count: 2, pending: 2 });
        });

        it("settleAttempts settles several keys in one call, and clears the ones named in clear", async () => {
          const [first, second, cleared] = [limitKey("login-ip"), limitKey("login-account"), limitKey("login-account")];
          const now = Date.now();
          const windows = await Promise.all(
            [first, second, cleared].map((key) => reserveOne(h.store, key, 60_000, now)),
          );
          await h.store.settleAttempts(
            [first, second].map((key, i) => ({ key, resetAt: windows[i]?.resetAt as number })),
            true,
            { clear: [cleared] },
          );
          expect((await h.raw.rateLimit(first))?.count).toBe(1);
          expect(await reserveOne(h.store, second, 60_000, now)).toMatchObject({ count: 2, pending: 1 });
          expect((await h.raw.rateLimit(cleared))?.count).toBe(0);
          expect(await reserveOne(h.store, cleared, 60_000, now)).toMatchObject({ count: 1, pending: 1 });
          await h.store.settleAttempts([], false);
        });

        it("clearing forgets the counter's failures but keeps the other attempts in flight counted", async () => {
          const key = limitKey("login-account");
          const now = Date.now();
          const { resetAt } = await reserveOne(h.store, key, 60_000, now);
          await h.store.settleAttempts([{ key, resetAt }], true);
          // Two in flight: a guess still being hashed, and the success that clears the counter.
          await reserveOne(h.store, key, 60_000, now);
          await reserveOne(h.store, key, 60_000, now);
          await h.store.settleAttempts([], false, { clear: [key] });
          expect(await h.raw.rateLimit(key)).toMatchObject({ count: 1 });
          // The guess then fails: it stays counted.
          await h.store.settleAttempts([{ key, resetAt }], true);
          expect(await reserveOne(h.store, key, 60_000, now)).toMatchObject({ count: 2, pending: 1 });
        });

        it("each of 50 parallel reservations on one key reads its own count and in-flight number", async () => {
          const key = limitKey("login-account");
          const windows = await Promise.all(
            Array.from({ length: 50 }, () => reserveOne(h.store, key, 60_000, Date.now())),
          );
          const ordinals = Array.from({ length: 50 }, (_, i) => i + 1);
          expect(windows.map((window) => window.count).sort((a, b) => a - b)).toEqual(ordinals);
          expect(windows.map((window) => window.pending).sort((a, b) => a - b)).toEqual(ordinals);
          const resetAt = windows[0]?.resetAt as number;
          await Promise.all(windows.map((_, i) => h.store.settleAttempts([{ key, resetAt }], i % 2 === 0)));
          expect((await h.raw.rateLimit(key))?.count).toBe(25);
          expect(await reserveOne(h.store, key, 60_000, Date.now())).toMatchObject({ count: 26, pending: 1 });
        });
      });

      it("50 parallel hits on 50 keys each count 1 and touch no other key", async () => {
        const keys = Array.from({ length: 50 }, () => limitKey("signup-ip"));
        const windows = await Promise.all(keys.map((key) => h.store.hitRateLimit(key, 60_000, Date.now())));
        expect(windows.map((window) => window.count)).toEqual(Array(50).fill(1));
        for (const key of keys) expect((await h.raw.rateLimit(key))?.count).toBe(1);
      });

      it("a window that has ended starts over at 1, with a new end", async () => {
        const key = limitKey();
        for (let i = 0; i < 3; i++) await h.store.hitRateLimit(key, 1_000, Date.now());
        expect((await h.raw.rateLimit(key))?.count).toBe(3);
        await sleep(1_200);
        const now = Date.now();
        const restarted = await h.store.hitRateLimit(key, 60_000, now);
        expect(restarted.count).toBe(1);
        expect(Math.abs(restarted.resetAt - (now + 60_000))).toBeLessThan(SLACK);
        expect((await h.raw.rateLimit(key))?.count).toBe(1);
      });

      it("the window is measured on the now the caller passes (the gatehouse's clock)", async () => {
        // The Store contract: "a window that has ended starts over at 1 and ends windowMs after now". A Gatehouse
        // made with a `now` option passes its own clock here; the backend must not use another one.
        const key = limitKey();
        const start = Date.now();
        await h.store.hitRateLimit(key, 60_000, start);
        await h.store.hitRateLimit(key, 60_000, start + 1_000);
        expect(await h.store.peekRateLimit(key, start + 60_001)).toBeNull();
        const later = await h.store.hitRateLimit(key, 60_000, start + 60_001);
        expect(later).toEqual({ count: 1, resetAt: start + 120_001 });
      });

      it("peekRateLimit reports the window without counting, and null after its end or for an unknown key", async () => {
        const key = limitKey();
        const hit = await h.store.hitRateLimit(key, 1_000, Date.now());
        const peeked = await h.store.peekRateLimit(key, Date.now());
        expect(peeked?.count).toBe(1);
        expect(Math.abs((peeked?.resetAt ?? 0) - hit.resetAt)).toBeLessThan(SLACK);
        await h.store.peekRateLimit(key, Date.now());
        expect((await h.raw.rateLimit(key))?.count).toBe(1);
        await sleep(1_200);
        expect(await h.store.peekRateLimit(key, Date.now())).toBeNull();
        expect(await h.store.peekRateLimit(limitKey(), Date.now())).toBeNull();
      });

      it("resetRateLimit deletes the counter, and the next hit starts at 1; an unknown key is fine", async () => {
        const key = limitKey("login-account");
        const other = limitKey("login-account");
        for (let i = 0; i < 4; i++) await h.store.hitRateLimit(key, 60_000, Date.now());
        await h.store.hitRateLimit(other, 60_000, Date.now());
        await h.store.resetRateLimit(key);
        expect(await h.raw.rateLimit(key)).toBeNull();
        expect(await h.store.peekRateLimit(key, Date.now())).toBeNull();
        expect((await h.raw.rateLimit(other))?.count).toBe(1);
        expect((await h.store.hitRateLimit(key, 60_000, Date.now())).count).toBe(1);
        await h.store.resetRateLimit(limitKey());
      });

      it("takes the longest key Gatehouse makes (an account hash and an IPv6 address)", async () => {
        const key = `login-account:${"f".repeat(64)}:ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`;
        await h.store.resetRateLimit(key);
        expect((await h.store.hitRateLimit(key, 60_000, Date.now())).count).toBe(1);
        expect((await h.raw.rateLimit(key))?.count).toBe(1);
        await h.store.resetRateLimit(key);
      });

      describe("resetRateLimitFamily", () => {
        /** Hits each key once, and checks raw that every one of them is stored. */
        async function hitAll(keys: readonly string[]): Promise<void> {
          await Promise.all(keys.map((key) => h.store.hitRateLimit(key, 60_000, Date.now())));
          for (const key of keys) expect(await h.raw.rateLimit(key), key).not.toBeNull();
        }

        /** The keys of `keys` that are still stored, read raw. */
        async function stored(keys: readonly string[]): Promise<string[]> {
          const left: string[] = [];
          for (const key of keys) if ((await h.raw.rateLimit(key)) !== null) left.push(key);
          return left;
        }

        it("deletes the prefix and the keys under prefix + ':', and not login-account:abcd, login-account:ab or others", async () => {
          const family = [
            "login-account:abc",
            "login-account:abc:1.2.3.4",
            "login-account:abc:2001:db8::1",
            "login-account:abc:",
          ];
          const others = [
            "login-account:abcd",
            "login-account:abcd:1.2.3.4",
            "login-account:ab",
            "login-account:ab:1.2.3.4",
            "login-account:ab:c:1.2.3.4",
            "login-account:abc-1.2.3.4",
            "login-account",
            "login-ip:1.2.3.4",
            "signup-ip:login-account:abc:1.2.3.4",
          ];
          await hitAll([...family, ...others]);
          await h.store.resetRateLimitFamily("login-account:abc");
          expect(await stored(family)).toEqual([]);
          expect(await stored(others)).toEqual(others);
          for (const key of others) expect((await h.raw.rateLimit(key))?.count, key).toBe(1);
          // The next hit of a reset key starts over.
          expect((await h.store.hitRateLimit("login-account:abc:1.2.3.4", 60_000, Date.now())).count).toBe(1);
          // A family with nothing stored is fine.
          await h.store.resetRateLimitFamily(`login-account:${uniqueId("none")}`);
          expect(await stored(others)).toEqual(others);
        });

        it("deletes every key of a large family (300 IPs)", async () => {
          const prefix = `login-account:${randomBytes(32).toString("hex")}`;
          const family = [prefix, ...Array.from({ length: 300 }, (_, i) => `${prefix}:10.0.${i >> 8}.${i & 255}`)];
          const neighbour = `${prefix}0:10.0.0.1`;
          await hitAll([...family, neighbour]);
          await h.store.resetRateLimitFamily(prefix);
          expect(await stored(family)).toEqual([]);
          expect(await stored([neighbour])).toEqual([neighbour]);
        });

        // Each special character of LIKE (%, _ and the store's escape !), of Redis's glob (*, ?, [, ] and \)
        // must match only itself. Decoys are what the prefix would match were the character a wildcard.
        for (const special of ["%", "_", "*", "?", "[", "]", "!", "\\", "[ab]", "%!_"]) {
          it(`a prefix containing ${JSON.stringify(special)} matches only literally`, async () => {
            const id = randomBytes(4).toString("hex");
            const prefix = `login-account:${id}x${special}y`;
            const family = [prefix, `${prefix}:1.2.3.4`];
            const decoys = [
              `login-account:${id}xy`, // the character as "nothing" (%, *)
              `login-account:${id}xy:1.2.3.4`,
              `login-account:${id}xZy:1.2.3.4`, // as any one character (_, ?)
              `login-account:${id}xaby:1.2.3.4`, // as several characters (%, *)
              `login-account:${id}xay:1.2.3.4`, // as a class ([ab])
              `login-account:${id}x${special}y2:1.2.3.4`,
              `login-account:${id}x${special}${special}y:1.2.3.4`,
              `login-account:${id}x!y:1.2.3.4`,
              `login-account:${id}x\\y:1.2.3.4`,
            ].filter((key) => !family.includes(key) && !key.startsWith(`${prefix}:`));
            await hitAll([...family, ...decoys]);
            await h.store.resetRateLimitFamily(prefix);
            expect(await stored(family)).toEqual([]);
            expect(await stored(decoys)).toEqual(decoys);
          });
        }
      });

      it("a counter's key expires with its window", async (ctx) => {
        const keys = h.rateLimitKeys;
        if (!keys) return ctx.skip("counters in this backend are rows, not expiring keys");
        const key = limitKey();
        await h.store.hitRateLimit(key, 60_000, Date.now());
        await h.store.hitRateLimit(key, 60_000, Date.now());
        const ttl = await keys.ttlMs(key);
        expect(ttl).toBeGreaterThan(60_000 - SLACK);
        expect(ttl).toBeLessThanOrEqual(60_000);
        const short = limitKey();
        await h.store.hitRateLimit(short, 300, Date.now());
        await sleep(600);
        expect(await keys.ttlMs(short)).toBe(-2);
      });
    });

    describe("second factors, passkeys and challenges", () => {
      /** Every factor row of the user, read raw: what a refused call must leave exactly as it was. */
      async function factorRows(userId: string) {
        const [totp, codes, passkeys, challenges] = await Promise.all([
          h.raw.totpRows(userId),
          h.raw.recoveryCodes(userId),
          h.raw.passkeys(userId),
          h.raw.userChallenges(userId),
        ]);
        return { totp, codes, passkeys, challenges };
      }

      /** A user with TOTP on (confirmed at `step`, with `codes`), arranged through the store. */
      async function userWithTotp(options: { step?: number; codes?: string[] } = {}) {
        const user = await h.store.createUser(newUser());
        const secret = sealedSecret();
        const step = options.step ?? currentStep();
        const codes = options.codes ?? codeHashes();
        const confirmedAt = new Date(Date.now() - 1_000 + 7);
        expect(await h.store.saveTotpSetup(user.id, secret, new Date(Date.now() - 60_000 + 3))).toBe(true);
        expect(await h.store.confirmTotp(user.id, secret, step, codes, confirmedAt)).toBe(true);
        return { user, secret, step, codes, confirmedAt };
      }

      /** A user with a passkey and a pending log-in, so that checks see those rows stay or go. */
      async function withPasskeyAndChallenge(user: { id: string }) {
        const passkey = newPasskey(user);
        expect(await h.store.createPasskey(passkey)).toBe(true);
        const challenge = newChallenge({ userId: user.id, purpose: "mfa_pending", challenge: "" });
        await h.store.createChallenge(challenge);
        return { passkey, challenge };
      }

      describe("TOTP", () => {
        it("getFactorSummary counts the user's confirmed TOTP, passkeys and recovery codes, and no one else's", async () => {
          const fresh = await h.store.createUser(newUser());
          expect(await h.store.getFactorSummary(fresh.id)).toEqual({ totp: false, passkeys: 0, recoveryCodes: 0 });
          expect(await h.store.getFactorSummary(uniqueId("u"))).toEqual({ totp: false, passkeys: 0, recoveryCodes: 0 });

          // Set up but not confirmed: not on.
          await h.store.saveTotpSetup(fresh.id, sealedSecret(), new Date());
          expect(await h.store.getFactorSummary(fresh.id)).toEqual({ totp: false, passkeys: 0, recoveryCodes: 0 });

          const { user, codes } = await userWithTotp({ codes: codeHashes(10) });
          const passkeys = [newPasskey(user), newPasskey(user)];
          for (const passkey of passkeys) await h.store.createPasskey(passkey);
          const other = await userWithTotp({ codes: codeHashes(3) });
          await h.store.createPasskey(newPasskey(other.user));
          expect(await h.store.getFactorSummary(user.id)).toEqual({ totp: true, passkeys: 2, recoveryCodes: 10 });
          expect(await h.store.getFactorSummary(other.user.id)).toEqual({ totp: true, passkeys: 1, recoveryCodes: 3 });

          await h.store.consumeRecoveryCode(user.id, [codes[0] as string]);
          await h.store.deletePasskey(user.id, (passkeys[0] as PasskeyRecord).id);
          const rows = await factorRows(user.id);
          expect({ codes: rows.codes.length, passkeys: rows.passkeys.length }).toEqual({ codes: 9, passkeys: 1 });
          expect(await h.store.getFactorSummary(user.id)).toEqual({ totp: true, passkeys: 1, recoveryCodes: 9 });
        });

        it("saveTotpSetup stores an unconfirmed secret with its time, and getTotp returns it; null for others", async () => {
          const user = await h.store.createUser(newUser());
          const secret = sealedSecret();
          expect(await h.store.saveTotpSetup(user.id, secret, new Date(1_700_000_000_123))).toBe(true);
          expect(await h.raw.totpRows(user.id)).toEqual([
            { user_id: user.id, secret, confirmed_at: null, last_used_step: null, created_at: 1_700_000_000_123 },
          ]);
          expect(await h.store.getTotp(user.id)).toEqual({
            userId: user.id,
            sealedSecret: secret,
            confirmedAt: null,
            lastUsedStep: null,
            createdAt: new Date(1_700_000_000_123),
          });
          expect(await h.store.getTotp((await h.store.createUser(newUser())).id)).toBeNull();
          expect(await h.store.getTotp(uniqueId("u"))).toBeNull();
        });

        it("saveTotpSetup replaces an unconfirmed setup: one row, with the new secret and time", async () => {
          const user = await h.store.createUser(newUser());
          expect(await h.store.saveTotpSetup(user.id, sealedSecret(), new Date(1_700_000_000_123))).toBe(true);
          const secret = sealedSecret();
          expect(await h.store.saveTotpSetup(user.id, secret, new Date(1_700_000_100_456))).toBe(true);
          expect(await h.raw.totpRows(user.id)).toEqual([
            { user_id: user.id, secret, confirmed_at: null, last_used_step: null, created_at: 1_700_000_100_456 },
          ]);
        });

        it("saveTotpSetup refuses (false) while TOTP is confirmed, and changes nothing", async () => {
          const { user, secret } = await userWithTotp();
          await withPasskeyAndChallenge(user);
          const before = await factorRows(user.id);
          expect(await h.store.saveTotpSetup(user.id, sealedSecret(), new Date())).toBe(false);
          expect(await factorRows(user.id)).toEqual(before);
          expect((await h.store.getTotp(user.id))?.sealedSecret).toBe(secret);
        });

        it("saveTotpSetup refuses an unknown user and stores nothing", async () => {
          const id = uniqueId("u");
          expect(await h.store.saveTotpSetup(id, sealedSecret(), new Date())).toBe(false);
          expect(await h.raw.totpRows(id)).toEqual([]);
          expect(await h.raw.user(id)).toBeNull();
        });

        it("confirmTotp refuses every near miss of the sealed secret: another, longer, shorter, padded, other case", async () => {
          const step = currentStep();
          const accepted: Record<string, boolean> = {};
          const variants: [string, (secret: string) => string][] = [
            ["another secret", () => sealedSecret()],
            ["one character more", (secret) => `${secret}x`],
            ["one character less", (secret) => secret.slice(0, -1)],
            ["a trailing space", (secret) => `${secret} `],
            ["upper case", (secret) => secret.toUpperCase()],
            ["lower case", (secret) => secret.toLowerCase()],
          ];
          // Each on a user of its own, so that one wrongly accepted does not hide the next.
          for (const [label, vary] of variants) {
            const user = await h.store.createUser(newUser());
            // Letters of both cases, so that the case variants differ from it.
            const secret = `${sealedSecret()}aZ`;
            await h.store.saveTotpSetup(user.id, secret, new Date());
            const before = await factorRows(user.id);
            const result = await h.store.confirmTotp(user.id, vary(secret), step, codeHashes(), new Date());
            accepted[label] = result || JSON.stringify(await factorRows(user.id)) !== JSON.stringify(before);
          }
          expect(accepted).toEqual(Object.fromEntries(variants.map(([label]) => [label, false])));
        });

        it("confirmTotp turns on the setup with that sealed secret, records the step and stores the codes", async () => {
          const user = await h.store.createUser(newUser());
          const secret = sealedSecret();
          await h.store.saveTotpSetup(user.id, secret, new Date(1_700_000_000_123));
          const step = currentStep();
          const codes = codeHashes(10);
          const now = new Date(1_700_000_060_456);
          expect(await h.store.confirmTotp(user.id, secret, step, codes, now)).toBe(true);
          expect(await h.raw.totpRows(user.id)).toEqual([
            {
              user_id: user.id,
              secret,
              confirmed_at: 1_700_000_060_456,
              last_used_step: step,
              created_at: 1_700_000_000_123,
            },
          ]);
          expect(await h.raw.recoveryCodes(user.id)).toEqual(rawCodesOf(user.id, codes, now));
          // The user's own flag turns on in the same transaction: a log-in reads it with the user.
          expect((await h.raw.user(user.id))?.totp_enabled).toBe(1);
          expect((await h.store.getUserByEmail(user.email))?.totpEnabled).toBe(true);
          expect(await h.store.getTotp(user.id)).toEqual({
            userId: user.id,
            sealedSecret: secret,
            confirmedAt: now,
            lastUsedStep: step,
            createdAt: new Date(1_700_000_000_123),
          });

          // Confirmed already: a second confirmation is refused and changes nothing (the codes stay).
          const confirmed = await factorRows(user.id);
          expect(await h.store.confirmTotp(user.id, secret, step + 1, codeHashes(10), new Date())).toBe(false);
          expect(await factorRows(user.id)).toEqual(confirmed);
        });

        it("confirmTotp refuses a setup that was replaced meanwhile, and confirms the one that replaced it", async () => {
          const user = await h.store.createUser(newUser());
          const first = sealedSecret();
          const second = sealedSecret();
          await h.store.saveTotpSetup(user.id, first, new Date());
          await h.store.saveTotpSetup(user.id, second, new Date());
          const before = await factorRows(user.id);
          expect(await h.store.confirmTotp(user.id, first, currentStep(), codeHashes(), new Date())).toBe(false);
          expect(await factorRows(user.id)).toEqual(before);
          expect(await h.store.confirmTotp(user.id, second, currentStep(), codeHashes(), new Date())).toBe(true);
          expect((await h.raw.totpRows(user.id))[0]?.confirmed_at).not.toBeNull();
        });

        it("confirmTotp refuses a user with no setup, and stores no codes", async () => {
          const user = await h.store.createUser(newUser());
          expect(await h.store.confirmTotp(user.id, sealedSecret(), currentStep(), codeHashes(), new Date())).toBe(
            false,
          );
          expect(await factorRows(user.id)).toEqual({ totp: [], codes: [], passkeys: [], challenges: [] });
          const unknown = uniqueId("u");
          expect(await h.store.confirmTotp(unknown, sealedSecret(), currentStep(), codeHashes(), new Date())).toBe(
            false,
          );
          expect(await factorRows(unknown)).toEqual({ totp: [], codes: [], passkeys: [], challenges: [] });
        });

        it("confirmTotp is all or nothing: when the codes cannot all be stored, TOTP stays unconfirmed", async () => {
          const user = await h.store.createUser(newUser());
          const secret = sealedSecret();
          await h.store.saveTotpSetup(user.id, secret, new Date());
          const before = await factorRows(user.id);
          // The same hash twice is one key stored twice: the code insert fails after the TOTP row was confirmed
          // in the same transaction, which must then be undone.
          const [repeated, ...rest] = codeHashes(5) as [string, ...string[]];
          const outcome = await h.store
            .confirmTotp(user.id, secret, currentStep(), [repeated, ...rest, repeated], new Date())
            .catch(() => "rejected" as const);
          if (outcome === true) {
            // A store that folds the repeat into one code must then have turned TOTP on with all of them.
            expect((await h.raw.totpRows(user.id))[0]?.confirmed_at).not.toBeNull();
            expect((await h.raw.recoveryCodes(user.id)).map((row) => row.code_hash)).toEqual(
              [repeated, ...rest].sort(),
            );
          } else {
            expect(await factorRows(user.id)).toEqual(before);
            expect(await h.store.getFactorSummary(user.id)).toEqual({ totp: false, passkeys: 0, recoveryCodes: 0 });
            expect((await h.raw.user(user.id))?.totp_enabled).toBe(0);
          }
        });

        it("spendTotpStep records only a step later than the last one used; the same or an earlier one is a replay", async () => {
          const { user, step } = await userWithTotp();
          const before = await factorRows(user.id);
          expect(await h.store.spendTotpStep(user.id, step)).toBe(false);
          expect(await h.store.spendTotpStep(user.id, step - 1)).toBe(false);
          expect(await factorRows(user.id)).toEqual(before);

          expect(await h.store.spendTotpStep(user.id, step + 1)).toBe(true);
          expect((await h.raw.totpRows(user.id))[0]?.last_used_step).toBe(step + 1);
          expect(await h.store.spendTotpStep(user.id, step + 1)).toBe(false);
          // A jump forward (a clock ahead within the window) moves the mark past the steps it skipped.
          expect(await h.store.spendTotpStep(user.id, step + 3)).toBe(true);
          expect(await h.store.spendTotpStep(user.id, step + 2)).toBe(false);
          expect(await h.raw.totpRows(user.id)).toEqual([{ ...before.totp[0], last_used_step: step + 3 }]);
          expect((await h.store.getTotp(user.id))?.lastUsedStep).toBe(step + 3);
        });

        it("spendTotpStep refuses a user without TOTP, and stores nothing", async () => {
          const user = await h.store.createUser(newUser());
          expect(await h.store.spendTotpStep(user.id, currentStep())).toBe(false);
          expect(await h.raw.totpRows(user.id)).toEqual([]);
          const unknown = uniqueId("u");
          expect(await h.store.spendTotpStep(unknown, currentStep())).toBe(false);
          expect(await h.raw.totpRows(unknown)).toEqual([]);
        });

        it("disableTotp removes TOTP and every recovery code, and leaves passkeys, challenges and other users", async () => {
          const { user } = await userWithTotp();
          const { passkey, challenge } = await withPasskeyAndChallenge(user);
          const other = await userWithTotp();
          await withPasskeyAndChallenge(other.user);
          const othersBefore = await factorRows(other.user.id);

          expect((await h.raw.user(user.id))?.totp_enabled).toBe(1);
          expect(await h.store.disableTotp(user.id)).toBe(true);
          expect((await h.raw.user(user.id))?.totp_enabled).toBe(0);
          expect((await h.store.getUserById(user.id))?.totpEnabled).toBe(false);
          expect(await factorRows(user.id)).toEqual({
            totp: [],
            codes: [],
            passkeys: [rawPasskeyOf(passkey)],
            challenges: [rawChallengeOf(challenge)],
          });
          expect(await factorRows(other.user.id)).toEqual(othersBefore);
          expect(await h.store.getTotp(user.id)).toBeNull();
        });

        it("disableTotp answers false when TOTP is off, and changes nothing", async () => {
          const user = await h.store.createUser(newUser());
          await withPasskeyAndChallenge(user);
          const before = await factorRows(user.id);
          expect(await h.store.disableTotp(user.id)).toBe(false);
          expect(await factorRows(user.id)).toEqual(before);
          expect(await h.store.disableTotp(uniqueId("u"))).toBe(false);
        });

        it("disableTotp removes a setup never confirmed too, answering false (TOTP was not on)", async () => {
          // The contract: "Removes TOTP (confirmed or not) … false when TOTP was not on".
          const user = await h.store.createUser(newUser());
          await h.store.saveTotpSetup(user.id, sealedSecret(), new Date());
          const { passkey } = await withPasskeyAndChallenge(user);
          expect(await h.store.disableTotp(user.id)).toBe(false);
          expect(await h.raw.totpRows(user.id)).toEqual([]);
          expect(await h.raw.passkeys(user.id)).toEqual([rawPasskeyOf(passkey)]);
        });

        it("replaceRecoveryCodes while TOTP is on: the old codes go, the new ones are stored with their time", async () => {
          const { user } = await userWithTotp();
          const other = await userWithTotp();
          const othersBefore = await factorRows(other.user.id);
          const totpBefore = await h.raw.totpRows(user.id);
          const codes = codeHashes(10);
          const now = new Date(1_700_000_500_789);
          expect(await h.store.replaceRecoveryCodes(user.id, codes, now)).toBe(true);
          expect(await h.raw.recoveryCodes(user.id)).toEqual(rawCodesOf(user.id, codes, now));
          expect(await h.raw.totpRows(user.id)).toEqual(totpBefore);
          expect(await factorRows(other.user.id)).toEqual(othersBefore);
        });

        it("replaceRecoveryCodes refuses (false) when TOTP is off or only set up, and stores no codes", async () => {
          const user = await h.store.createUser(newUser());
          expect(await h.store.replaceRecoveryCodes(user.id, codeHashes(), new Date())).toBe(false);
          expect(await factorRows(user.id)).toEqual({ totp: [], codes: [], passkeys: [], challenges: [] });
          await h.store.saveTotpSetup(user.id, sealedSecret(), new Date());
          const before = await factorRows(user.id);
          expect(await h.store.replaceRecoveryCodes(user.id, codeHashes(), new Date())).toBe(false);
          expect(await factorRows(user.id)).toEqual(before);
          const unknown = uniqueId("u");
          expect(await h.store.replaceRecoveryCodes(unknown, codeHashes(), new Date())).toBe(false);
          expect(await h.raw.recoveryCodes(unknown)).toEqual([]);
        });

        it("consumeRecoveryCode deletes the user's code with one of the hashes given, once", async () => {
          const { user, codes, confirmedAt } = await userWithTotp({ codes: codeHashes(10) });
          const used = codes[3] as string;
          // Several hashes of one code (old and new keys): an unknown one among them does not matter.
          expect(await h.store.consumeRecoveryCode(user.id, [randomBytes(32).toString("hex"), used])).toBe(true);
          const left = codes.filter((code) => code !== used);
          expect(await h.raw.recoveryCodes(user.id)).toEqual(rawCodesOf(user.id, left, confirmedAt));

          const before = await factorRows(user.id);
          expect(await h.store.consumeRecoveryCode(user.id, [used])).toBe(false);
          expect(await h.store.consumeRecoveryCode(user.id, [randomBytes(32).toString("hex")])).toBe(false);
          expect(await h.store.consumeRecoveryCode(user.id, [])).toBe(false);
          expect(await factorRows(user.id)).toEqual(before);
        });

        it("consumeRecoveryCode is scoped to the user: another user's code is refused and kept", async () => {
          const owner = await userWithTotp();
          const other = await userWithTotp();
          const [ownerBefore, otherBefore] = [await factorRows(owner.user.id), await factorRows(other.user.id)];
          expect(await h.store.consumeRecoveryCode(other.user.id, [owner.codes[0] as string])).toBe(false);
          expect(await h.store.consumeRecoveryCode(uniqueId("u"), [owner.codes[0] as string])).toBe(false);
          expect(await factorRows(owner.user.id)).toEqual(ownerBefore);
          expect(await factorRows(other.user.id)).toEqual(otherBefore);
        });
      });

      describe("passkeys", () => {
        it("createPasskey stores every field, and getPasskeyByCredentialId returns it as given", async () => {
          const user = await h.store.createUser(newUser());
          const passkey = newPasskey(user, {
            counter: 4_294_967_295, // the largest signature counter (32 bits)
            createdAt: new Date(1_700_000_000_123),
          });
          const used = newPasskey(user, {
            transports: [],
            deviceType: "singleDevice",
            backedUp: false,
            name: "YubiKey 5C — Büro 🔑",
            createdAt: new Date(1_700_000_001_456),
            lastUsedAt: new Date(1_700_000_002_789),
          });
          expect(await h.store.createPasskey(passkey)).toBe(true);
          expect(await h.store.createPasskey(used)).toBe(true);
          expect(await h.raw.passkeys(user.id)).toEqual([rawPasskeyOf(passkey), rawPasskeyOf(used)].sort(byId));
          expect(await h.store.getPasskeyByCredentialId(passkey.credentialId)).toEqual(passkey);
          expect(await h.store.getPasskeyByCredentialId(used.credentialId)).toEqual(used);
          const keys = (await h.raw.passkeys(user.id)).map((row) => row.credential_key);
          expect(new Set(keys).size).toBe(2);
        });

        it("getPasskeyByCredentialId returns null for an unknown credential", async () => {
          expect(await h.store.getPasskeyByCredentialId(randomBytes(32).toString("base64url"))).toBeNull();
        });

        it("createPasskey refuses a credential registered already, to anyone: false, and nothing stored or changed", async () => {
          const owner = await h.store.createUser(newUser());
          const other = await h.store.createUser(newUser());
          const registered = newPasskey(owner);
          await h.store.createPasskey(registered);
          const [ownerBefore, otherBefore] = [await factorRows(owner.id), await factorRows(other.id)];
          for (const again of [
            newPasskey(other, { credentialId: registered.credentialId, name: "Stolen" }),
            newPasskey(owner, { credentialId: registered.credentialId, counter: 9 }),
          ]) {
            expect(await h.store.createPasskey(again)).toBe(false);
            expect(await factorRows(owner.id)).toEqual(ownerBefore);
            expect(await factorRows(other.id)).toEqual(otherBefore);
          }
          expect(await h.store.getPasskeyByCredentialId(registered.credentialId)).toEqual(registered);
        });

        it("a credential id of 1023 bytes (1364 base64url characters, the most WebAuthn allows) is stored and found whole", async () => {
          const user = await h.store.createUser(newUser());
          const passkey = newPasskey(user, { credentialId: randomBytes(1023).toString("base64url") });
          expect(passkey.credentialId).toHaveLength(1364);
          expect(await h.store.createPasskey(passkey)).toBe(true);
          expect(await h.raw.passkeys(user.id)).toEqual([rawPasskeyOf(passkey)]);
          expect(await h.store.getPasskeyByCredentialId(passkey.credentialId)).toEqual(passkey);
          // Long ids that share all but their last character are different credentials.
          const sibling = newPasskey(user, {
            credentialId: passkey.credentialId.slice(0, -1) + (passkey.credentialId.endsWith("A") ? "B" : "A"),
          });
          expect(await h.store.createPasskey(sibling)).toBe(true);
          expect(await h.store.getPasskeyByCredentialId(sibling.credentialId)).toEqual(sibling);
          expect(await h.store.getPasskeyByCredentialId(passkey.credentialId)).toEqual(passkey);
        });

        it("credential ids that differ only in letter case are different credentials (base64url is case-sensitive)", async () => {
          const user = await h.store.createUser(newUser());
          const lower = newPasskey(user, { credentialId: `${randomBytes(16).toString("hex")}-abc_xyz` });
          const upper = newPasskey(user, { credentialId: lower.credentialId.toUpperCase() });
          expect(await h.store.createPasskey(lower)).toBe(true);
          expect(await h.store.getPasskeyByCredentialId(upper.credentialId)).toBeNull();
          expect(await h.store.createPasskey(upper)).toBe(true);
          expect(await h.store.getPasskeyByCredentialId(lower.credentialId)).toEqual(lower);
          expect(await h.store.getPasskeyByCredentialId(upper.credentialId)).toEqual(upper);
          expect(await h.raw.passkeys(user.id)).toEqual([rawPasskeyOf(lower), rawPasskeyOf(upper)].sort(byId));
        });

        it("listPasskeys returns the user's passkeys newest first, and no one else's", async () => {
          const user = await h.store.createUser(newUser());
          const other = await h.store.createUser(newUser());
          const passkeys = Array.from({ length: 4 }, (_, i) =>
            newPasskey(user, { name: `Key ${i}`, createdAt: new Date(1_700_000_000_000 + i * 1_000) }),
          );
          // Stored out of order: the order comes from createdAt, not from insertion or ids.
          for (const i of [2, 0, 3, 1]) await h.store.createPasskey(passkeys[i] as PasskeyRecord);
          await h.store.createPasskey(newPasskey(other, { createdAt: new Date(1_700_000_002_500) }));
          expect(await h.store.listPasskeys(user.id)).toEqual([...passkeys].reverse());
          expect(await h.store.listPasskeys((await h.store.createUser(newUser())).id)).toEqual([]);
          expect(await h.store.listPasskeys(uniqueId("u"))).toEqual([]);
        });

        it("recordPasskeyUse writes the counter and time only over the previous counter given", async () => {
          const user = await h.store.createUser(newUser());
          const passkey = newPasskey(user, { counter: 5 });
          const other = newPasskey(user, { counter: 5 });
          await h.store.createPasskey(passkey);
          await h.store.createPasskey(other);
          const before = await factorRows(user.id);
          // A counter that does not match (a cloned authenticator, or a sign-in that lost a race): refused.
          for (const previous of [4, 6, 0]) {
            expect(await h.store.recordPasskeyUse(passkey.id, previous, { counter: 7, lastUsedAt: new Date() })).toBe(
              false,
            );
          }
          expect(await h.store.recordPasskeyUse(uniqueId("pk"), 5, { counter: 7, lastUsedAt: new Date() })).toBe(false);
          expect(await factorRows(user.id)).toEqual(before);

          const lastUsedAt = new Date(1_700_000_111_222);
          expect(await h.store.recordPasskeyUse(passkey.id, 5, { counter: 4_294_967_295, lastUsedAt })).toBe(true);
          const updated = { ...passkey, counter: 4_294_967_295, lastUsedAt };
          expect(await h.raw.passkeys(user.id)).toEqual([rawPasskeyOf(updated), rawPasskeyOf(other)].sort(byId));
          expect(await h.store.getPasskeyByCredentialId(passkey.credentialId)).toEqual(updated);
          // The same previous counter a second time is stale now.
          expect(await h.store.recordPasskeyUse(passkey.id, 5, { counter: 6, lastUsedAt: new Date() })).toBe(false);
          expect((await h.raw.passkeys(user.id)).find((row) => row.id === passkey.id)?.counter).toBe(4_294_967_295);
        });

        it("recordPasskeyUse on an authenticator that keeps no counter (0 stays 0) records each use", async () => {
          const user = await h.store.createUser(newUser());
          const passkey = newPasskey(user, { counter: 0 });
          await h.store.createPasskey(passkey);
          for (const at of [1_700_000_000_111, 1_700_000_000_222]) {
            expect(await h.store.recordPasskeyUse(passkey.id, 0, { counter: 0, lastUsedAt: new Date(at) })).toBe(true);
            expect(await h.raw.passkeys(user.id)).toEqual([rawPasskeyOf({ ...passkey, lastUsedAt: new Date(at) })]);
          }
        });

        it("renamePasskey renames the user's passkey and returns it; another user's id or an unknown one: null, unchanged", async () => {
          const user = await h.store.createUser(newUser());
          const other = await h.store.createUser(newUser());
          const passkey = newPasskey(user);
          const theirs = newPasskey(other);
          await h.store.createPasskey(passkey);
          await h.store.createPasskey(theirs);
          const [mine, othersBefore] = [await factorRows(user.id), await factorRows(other.id)];
          expect(await h.store.renamePasskey(user.id, theirs.id, "Hijacked")).toBeNull();
          expect(await h.store.renamePasskey(other.id, passkey.id, "Hijacked")).toBeNull();
          expect(await h.store.renamePasskey(user.id, uniqueId("pk"), "Nothing")).toBeNull();
          expect(await factorRows(user.id)).toEqual(mine);
          expect(await factorRows(other.id)).toEqual(othersBefore);

          const renamed = { ...passkey, name: "Pixel 9 — Ünïcödé 🔐" };
          expect(await h.store.renamePasskey(user.id, passkey.id, renamed.name)).toEqual(renamed);
          expect(await h.raw.passkeys(user.id)).toEqual([rawPasskeyOf(renamed)]);
          // The name it has already: still the user's passkey, so it is returned, not null.
          expect(await h.store.renamePasskey(user.id, passkey.id, renamed.name)).toEqual(renamed);
          expect(await factorRows(other.id)).toEqual(othersBefore);
        });

        it("deletePasskey deletes the user's passkey only; another user's id or an unknown one: false, unchanged", async () => {
          const user = await h.store.createUser(newUser());
          const other = await h.store.createUser(newUser());
          const [doomed, kept] = [newPasskey(user), newPasskey(user)];
          const theirs = newPasskey(other);
          for (const passkey of [doomed, kept, theirs]) await h.store.createPasskey(passkey);
          const [mine, othersBefore] = [await factorRows(user.id), await factorRows(other.id)];
          expect(await h.store.deletePasskey(user.id, theirs.id)).toBe("not_found");
          expect(await h.store.deletePasskey(other.id, doomed.id)).toBe("not_found");
          expect(await h.store.deletePasskey(user.id, uniqueId("pk"))).toBe("not_found");
          expect(await factorRows(user.id)).toEqual(mine);
          expect(await factorRows(other.id)).toEqual(othersBefore);

          expect(await h.store.deletePasskey(user.id, doomed.id)).toBe("deleted");
          expect(await h.raw.passkeys(user.id)).toEqual([rawPasskeyOf(kept)]);
          expect(await h.store.getPasskeyByCredentialId(doomed.credentialId)).toBeNull();
          expect(await h.store.deletePasskey(user.id, doomed.id)).toBe("not_found");
          expect(await factorRows(other.id)).toEqual(othersBefore);
          // Its credential is free again: the same authenticator can be registered anew.
          expect(await h.store.createPasskey(newPasskey(user, { credentialId: doomed.credentialId }))).toBe(true);
        });
      });

      describe("challenges", () => {
        it("createChallenge stores every field: a pending log-in's with its user, a passkey sign-in's with none", async () => {
          const user = await h.store.createUser(newUser());
          const pending = newChallenge({
            purpose: "mfa_pending",
            userId: user.id,
            challenge: "",
            revocationEpoch: 3,
            createdAt: new Date(1_700_000_000_123),
            expiresAt: new Date(1_700_000_300_456),
          });
          const login = newChallenge({ challenge: randomBytes(64).toString("base64url") });
          await h.store.createChallenge(pending);
          await h.store.createChallenge(login);
          expect(await h.raw.challenge(pending.idHash)).toEqual({
            id_hash: pending.idHash,
            purpose: "mfa_pending",
            user_id: user.id,
            challenge: "",
            revocation_epoch: 3,
            created_at: 1_700_000_000_123,
            expires_at: 1_700_000_300_456,
          });
          expect(await h.raw.challenge(login.idHash)).toEqual(rawChallengeOf(login));
          expect(await h.raw.userChallenges(user.id)).toEqual([rawChallengeOf(pending)]);
        });

        it("createChallenge replaces the challenge with the same idHash, whatever it was for", async () => {
          const user = await h.store.createUser(newUser());
          const first = newChallenge({ purpose: "passkey_register", userId: user.id });
          await h.store.createChallenge(first);
          const second = newChallenge({ idHash: first.idHash, purpose: "mfa_passkey", userId: user.id });
          await h.store.createChallenge(second);
          expect(await h.raw.challenge(first.idHash)).toEqual(rawChallengeOf(second));
          expect(await h.raw.userChallenges(user.id)).toEqual([rawChallengeOf(second)]);
          expect(await h.store.getChallenge(first.idHash, "passkey_register")).toBeNull();
          expect(await h.store.getChallenge(first.idHash, "mfa_passkey")).toEqual(second);
        });

        it("getChallenge returns the challenge of that purpose without using it up; another purpose or hash: null", async () => {
          const user = await h.store.createUser(newUser());
          const challenge = newChallenge({ purpose: "passkey_register", userId: user.id });
          await h.store.createChallenge(challenge);
          expect(await h.store.getChallenge(challenge.idHash, "passkey_register")).toEqual(challenge);
          expect(await h.store.getChallenge(challenge.idHash, "passkey_register")).toEqual(challenge);
          for (const purpose of ["mfa_pending", "mfa_passkey", "passkey_login"] as const)
            expect(await h.store.getChallenge(challenge.idHash, purpose)).toBeNull();
          expect(await h.store.getChallenge(randomBytes(32).toString("hex"), "passkey_register")).toBeNull();
          expect(await h.raw.challenge(challenge.idHash)).toEqual(rawChallengeOf(challenge));
        });

        it("consumeChallenge returns and deletes the challenge once; a purpose that does not match leaves it", async () => {
          const user = await h.store.createUser(newUser());
          const challenge = newChallenge({ purpose: "mfa_pending", userId: user.id, challenge: "" });
          const kept = newChallenge({ purpose: "mfa_pending", userId: user.id, challenge: "" });
          await h.store.createChallenge(challenge);
          await h.store.createChallenge(kept);
          const before = await factorRows(user.id);
          for (const purpose of ["mfa_passkey", "passkey_register", "passkey_login"] as const)
            expect(await h.store.consumeChallenge(challenge.idHash, purpose)).toBeNull();
          expect(await h.store.consumeChallenge(randomBytes(32).toString("hex"), "mfa_pending")).toBeNull();
          expect(await factorRows(user.id)).toEqual(before);

          expect(await h.store.consumeChallenge(challenge.idHash, "mfa_pending")).toEqual(challenge);
          expect(await h.raw.challenge(challenge.idHash)).toBeNull();
          expect(await h.raw.userChallenges(user.id)).toEqual([rawChallengeOf(kept)]);
          expect(await h.store.consumeChallenge(challenge.idHash, "mfa_pending")).toBeNull();
          expect(await h.store.getChallenge(challenge.idHash, "mfa_pending")).toBeNull();
        });

        it("getChallenge and consumeChallenge return an expired challenge too (the caller checks expiresAt)", async () => {
          const challenge = newChallenge({
            createdAt: new Date(Date.now() - 2 * HOUR),
            expiresAt: new Date(Date.now() - HOUR),
          });
          await h.store.createChallenge(challenge);
          expect(await h.store.getChallenge(challenge.idHash, "passkey_login")).toEqual(challenge);
          expect(await h.store.consumeChallenge(challenge.idHash, "passkey_login")).toEqual(challenge);
          expect(await h.raw.challenge(challenge.idHash)).toBeNull();
          expect(await h.store.consumeChallenge(challenge.idHash, "passkey_login")).toBeNull();
        });
      });

      describe("removing them", () => {
        it("removeFactors removes the user's TOTP, recovery codes and passkeys, counting them, and no one else's", async () => {
          const { user } = await userWithTotp({ codes: codeHashes(10) });
          await h.store.createPasskey(newPasskey(user));
          await h.store.createPasskey(newPasskey(user));
          const other = await userWithTotp({ codes: codeHashes(4) });
          await withPasskeyAndChallenge(other.user);
          const othersBefore = await factorRows(other.user.id);
          const userBefore = await h.raw.user(user.id);

          expect(await h.store.removeFactors(user.id)).toEqual({ totp: true, recoveryCodes: 10, passkeys: 2 });
          const left = await factorRows(user.id);
          expect({ totp: left.totp, codes: left.codes, passkeys: left.passkeys }).toEqual({
            totp: [],
            codes: [],
            passkeys: [],
          });
          expect(await h.store.getFactorSummary(user.id)).toEqual({ totp: false, passkeys: 0, recoveryCodes: 0 });
          expect(userBefore?.totp_enabled).toBe(1);
          expect(await h.raw.user(user.id)).toEqual({ ...userBefore, totp_enabled: 0 });
          expect(await factorRows(other.user.id)).toEqual(othersBefore);
          // Nothing left to remove.
          expect(await h.store.removeFactors(user.id)).toEqual({ totp: false, recoveryCodes: 0, passkeys: 0 });
          expect(await h.store.removeFactors(uniqueId("u"))).toEqual({ totp: false, recoveryCodes: 0, passkeys: 0 });
        });

        it("removeFactors removes a setup never confirmed too", async () => {
          const user = await h.store.createUser(newUser());
          await h.store.saveTotpSetup(user.id, sealedSecret(), new Date());
          expect(await h.store.removeFactors(user.id)).toMatchObject({ recoveryCodes: 0, passkeys: 0 });
          expect(await h.raw.totpRows(user.id)).toEqual([]);
        });

        it("deleteUser removes the user's TOTP, recovery codes, passkeys and challenges, and no one else's", async () => {
          const { user } = await userWithTotp();
          const { passkey } = await withPasskeyAndChallenge(user);
          await h.store.createChallenge(newChallenge({ purpose: "passkey_register", userId: user.id }));
          const other = await userWithTotp();
          await withPasskeyAndChallenge(other.user);
          const othersBefore = await factorRows(other.user.id);
          const unbound = newChallenge();
          await h.store.createChallenge(unbound);
          expect((await factorRows(user.id)).challenges).toHaveLength(2);

          expect(await h.store.deleteUser(user.id)).toBe(true);
          expect(await factorRows(user.id)).toEqual({ totp: [], codes: [], passkeys: [], challenges: [] });
          expect(await h.store.getPasskeyByCredentialId(passkey.credentialId)).toBeNull();
          expect(await factorRows(other.user.id)).toEqual(othersBefore);
          expect(await h.raw.challenge(unbound.idHash)).toEqual(rawChallengeOf(unbound));
        });

        it("sweepExpired deletes the challenges that ended by now, and nothing live", async () => {
          const now = Date.now();
          const { user } = await userWithTotp();
          await h.store.createPasskey(newPasskey(user));
          const ended = [
            newChallenge({ purpose: "mfa_pending", userId: user.id, challenge: "", expiresAt: new Date(now - 1) }),
            newChallenge({ expiresAt: new Date(now - HOUR) }),
          ];
          const live = [
            newChallenge({ purpose: "mfa_pending", userId: user.id, challenge: "", expiresAt: new Date(now + 1) }),
            newChallenge({ purpose: "passkey_register", userId: user.id, expiresAt: new Date(now + 5 * 60_000) }),
            newChallenge({ expiresAt: new Date(now + 60_000) }),
          ];
          for (const challenge of [...ended, ...live]) await h.store.createChallenge(challenge);
          const before = await factorRows(user.id);

          await h.store.sweepExpired(now);
          for (const challenge of ended) expect(await h.raw.challenge(challenge.idHash)).toBeNull();
          for (const challenge of live)
            expect(await h.raw.challenge(challenge.idHash)).toEqual(rawChallengeOf(challenge));
          expect(await factorRows(user.id)).toEqual({
            ...before,
            challenges: before.challenges.filter((row) => row.expires_at > now),
          });
        });
      });

      describe("races: of concurrent callers, one wins", () => {
        /** Runs `call` 20 times at once, spread over `stores`; every call must resolve. */
        async function twentyAtOnce<T>(stores: Store[], call: (store: Store, i: number) => Promise<T>): Promise<T[]> {
          const results = await Promise.allSettled(
            Array.from({ length: 20 }, (_, i) => call(stores[i % stores.length] as Store, i)),
          );
          expect(results.filter((result) => result.status === "rejected")).toEqual([]);
          return results.map((result) => (result as PromiseFulfilledResult<T>).value);
        }

        const winners = (results: readonly boolean[]) => results.flatMap((won, i) => (won ? [i] : []));

        it("20 concurrent spendTotpStep calls with one step: exactly one records it", async () => {
          await onThreeStores("statements", async (stores) => {
            const { user, step } = await userWithTotp();
            for (let round = 1; round <= 5; round++) {
              const results = await twentyAtOnce(stores, (store) => store.spendTotpStep(user.id, step + round));
              expect(winners(results)).toHaveLength(1);
              expect((await h.raw.totpRows(user.id))[0]?.last_used_step).toBe(step + round);
            }
          });
        });

        it("20 concurrent uses of one recovery code: exactly one succeeds", async () => {
          await onThreeStores("statements", async (stores) => {
            const { user, codes, confirmedAt } = await userWithTotp({ codes: codeHashes(10) });
            for (let round = 0; round < 5; round++) {
              const code = codes[round] as string;
              const results = await twentyAtOnce(stores, (store) => store.consumeRecoveryCode(user.id, [code]));
              expect(winners(results)).toHaveLength(1);
              expect(await h.raw.recoveryCodes(user.id)).toEqual(
                rawCodesOf(user.id, codes.slice(round + 1), confirmedAt),
              );
            }
          });
        });

        it("20 concurrent consumers of one challenge: exactly one receives it", async () => {
          await onThreeStores("statements", async (stores) => {
            const user = await h.store.createUser(newUser());
            for (let round = 0; round < 5; round++) {
              const challenge = newChallenge({ purpose: "mfa_pending", userId: user.id, challenge: "" });
              await h.store.createChallenge(challenge);
              const results = await twentyAtOnce(stores, (store) =>
                store.consumeChallenge(challenge.idHash, "mfa_pending"),
              );
              expect(results.filter((result) => result !== null)).toEqual([challenge]);
              expect(await h.raw.challenge(challenge.idHash)).toBeNull();
            }
          });
        });

        it("20 concurrent recordPasskeyUse calls with one previous counter: exactly one wins, and its update is stored", async () => {
          await onThreeStores("statements", async (stores) => {
            const user = await h.store.createUser(newUser());
            const passkey = newPasskey(user, { counter: 41 });
            await h.store.createPasskey(passkey);
            let previous = passkey.counter;
            for (let round = 0; round < 5; round++) {
              // Each caller brings its own counter and time, so the stored row shows whose update won.
              const updates = Array.from({ length: 20 }, (_, i) => ({
                counter: previous + 1 + i,
                lastUsedAt: new Date(1_700_000_000_000 + round * 1_000 + i),
              }));
              const results = await twentyAtOnce(stores, (store, i) =>
                store.recordPasskeyUse(passkey.id, previous, updates[i] as (typeof updates)[number]),
              );
              const won = winners(results);
              expect(won).toHaveLength(1);
              const update = updates[won[0] as number] as (typeof updates)[number];
              expect(await h.raw.passkeys(user.id)).toEqual([rawPasskeyOf({ ...passkey, ...update })]);
              previous = update.counter;
            }
          });
        });

        it("20 concurrent saveTotpSetup calls all succeed, leaving exactly one unconfirmed row: one of theirs", async () => {
          await onThreeStores("transactions", async (stores) => {
            for (let round = 0; round < 3; round++) {
              const user = await h.store.createUser(newUser());
              // A setup already there on some rounds: each call then replaces one.
              if (round > 0) await h.store.saveTotpSetup(user.id, sealedSecret(), new Date());
              const secrets = Array.from({ length: 20 }, () => sealedSecret());
              const results = await twentyAtOnce(stores, (store, i) =>
                store.saveTotpSetup(user.id, secrets[i] as string, new Date(1_700_000_000_000 + i)),
              );
              expect(results).toEqual(Array(20).fill(true));
              const rows = await h.raw.totpRows(user.id);
              expect(rows).toHaveLength(1);
              const i = secrets.indexOf(rows[0]?.secret as string);
              expect(i).toBeGreaterThanOrEqual(0);
              expect(rows[0]).toEqual({
                user_id: user.id,
                secret: secrets[i],
                confirmed_at: null,
                last_used_step: null,
                created_at: 1_700_000_000_000 + i,
              });
            }
          });
        });

        it("20 concurrent confirmTotp calls for one setup: exactly one turns it on, and only its codes are stored", async () => {
          await onThreeStores("transactions", async (stores) => {
            const user = await h.store.createUser(newUser());
            const secret = sealedSecret();
            await h.store.saveTotpSetup(user.id, secret, new Date());
            const step = currentStep();
            const sets = Array.from({ length: 20 }, () => codeHashes(10));
            const now = new Date(1_700_000_000_999);
            const results = await twentyAtOnce(stores, (store, i) =>
              store.confirmTotp(user.id, secret, step, sets[i] as string[], now),
            );
            const won = winners(results);
            expect(won).toHaveLength(1);
            expect(await h.raw.recoveryCodes(user.id)).toEqual(rawCodesOf(user.id, sets[won[0] as number] ?? [], now));
            expect((await h.raw.totpRows(user.id))[0]).toMatchObject({
              confirmed_at: now.getTime(),
              last_used_step: step,
            });
          });
        });

        it("20 concurrent replaceRecoveryCodes calls leave exactly one caller's set of codes, whole", async () => {
          await onThreeStores("transactions", async (stores) => {
            const { user } = await userWithTotp();
            const sets = Array.from({ length: 20 }, () => codeHashes(10));
            const results = await twentyAtOnce(stores, (store, i) =>
              store.replaceRecoveryCodes(user.id, sets[i] as string[], new Date(1_700_000_000_000 + i)),
            );
            expect(results).toEqual(Array(20).fill(true));
            const stored = await h.raw.recoveryCodes(user.id);
            const i = sets.findIndex((set) => set.includes(stored[0]?.code_hash as string));
            expect(i).toBeGreaterThanOrEqual(0);
            expect(stored).toEqual(rawCodesOf(user.id, sets[i] ?? [], new Date(1_700_000_000_000 + i)));
          });
        });

        it("disableTotp racing replaceRecoveryCodes never leaves recovery codes without TOTP", async () => {
          await onThreeStores("transactions", async (stores) => {
            for (let round = 0; round < 3; round++) {
              const { user } = await userWithTotp();
              const results = await twentyAtOnce(stores, (store, i) =>
                i === 10 ? store.disableTotp(user.id) : store.replaceRecoveryCodes(user.id, codeHashes(10), new Date()),
              );
              expect(results[10]).toBe(true);
              expect(await factorRows(user.id)).toEqual({ totp: [], codes: [], passkeys: [], challenges: [] });
            }
          });
        });
      });
    });

    describe("identities (accounts at OAuth and OpenID providers)", () => {
      type NewIdentity = Omit<IdentityRecord, "userId">;

      /** A user without a password, created with their first identity (override its fields). */
      async function passwordlessUser(overrides: Partial<NewIdentity> = {}) {
        const input = newSignUp();
        const first = newIdentity(overrides);
        const user = await h.store.createUserWithIdentity(input, first);
        expect(user?.id).toBe(input.id);
        return { user: user as UserRecord, identity: { ...first, userId: input.id } as IdentityRecord };
      }

      /** Links a new identity (override its fields) to the user, checking that it linked. */
      async function linked(user: { id: string }, overrides: Partial<NewIdentity> = {}): Promise<IdentityRecord> {
        const identity = { ...newIdentity(overrides), userId: user.id };
        expect(await h.store.linkIdentity(identity)).toBe("linked");
        return identity;
      }

      /** The user's row and identity rows, read raw: what a refused call must leave exactly as it was. */
      async function identityRows(userId: string) {
        const [user, identities] = await Promise.all([h.raw.user(userId), h.raw.identities(userId)]);
        return { user, identities };
      }

      describe("signing up with one (createUserWithIdentity)", () => {
        it("stores the user without a password, with the verification given, and the identity, every field", async () => {
          const input = newSignUp({ name: "Grace Hopper", emailVerifiedAt: new Date(1_700_000_000_321) });
          const identity = newIdentity({
            provider: "google",
            email: input.email,
            sealedTokens: sealedTokens(),
            createdAt: new Date(1_700_000_000_123),
          });
          const before = Date.now();
          const created = await h.store.createUserWithIdentity(input, identity);
          const row = await h.raw.user(input.id);
          expect(row).toEqual({
            id: input.id,
            email: input.email,
            name: "Grace Hopper",
            role: "user",
            // No password: the column stays NOT NULL (migration 0006), and "" stands for none.
            password_hash: "",
            session_version: 0,
            revocation_epoch: 0,
            email_verified_at: 1_700_000_000_321,
            totp_enabled: 0,
            banned_at: null,
            ban_reason: null,
            created_at: expect.any(Number),
            updated_at: expect.any(Number),
          });
          expect(row?.created_at).toBeGreaterThanOrEqual(before);
          expect(row?.created_at).toBeLessThanOrEqual(Date.now());
          expect(created).toEqual({
            id: input.id,
            email: input.email,
            name: "Grace Hopper",
            role: "user",
            passwordHash: null,
            emailVerifiedAt: new Date(1_700_000_000_321),
            totpEnabled: false,
            bannedAt: null,
            banReason: null,
            sessionVersion: 0,
            revocationEpoch: 0,
            createdAt: new Date(row?.created_at ?? NaN),
            updatedAt: new Date(row?.updated_at ?? NaN),
          });
          expect(await h.store.getUserById(input.id)).toEqual(created);
          expect(await h.store.getUserByEmail(input.email)).toEqual(created);
          const session = newSession(created as UserRecord);
          await h.store.createSession(session);
          expect(await h.store.getSessionAndUser(session.id)).toEqual({ session, user: created });

          const stored: IdentityRecord = { ...identity, userId: input.id };
          expect(await h.raw.identities(input.id)).toEqual([rawIdentityOf(stored)]);
          expect(await h.store.getIdentity("google", identity.subject)).toEqual(stored);
          expect(await h.store.listIdentities(input.id)).toEqual([stored]);
        });

        it("stores an unverified address as null, and an identity's unverified email as 0", async () => {
          const input = newSignUp();
          const identity = newIdentity({ email: input.email, emailVerified: false });
          const created = await h.store.createUserWithIdentity(input, identity);
          expect(created).toMatchObject({ id: input.id, passwordHash: null, emailVerifiedAt: null });
          expect(await h.raw.user(input.id)).toMatchObject({ password_hash: "", email_verified_at: null });
          const stored = { ...identity, userId: input.id };
          expect(await h.raw.identity(identity.provider, identity.subject)).toEqual(rawIdentityOf(stored));
          expect(await h.store.getIdentity(identity.provider, identity.subject)).toEqual(stored);
        });

        it("with a registered email rejects with email_taken, and writes neither the user nor the identity", async () => {
          const owners = [await h.store.createUser(newUser()), (await passwordlessUser()).user];
          for (const owner of owners) {
            const ownerBefore = await identityRows(owner.id);
            const input = newSignUp({ email: owner.email });
            const identity = newIdentity({ email: owner.email });
            await expect(h.store.createUserWithIdentity(input, identity)).rejects.toMatchObject({
              code: "email_taken",
            });
            expect(await h.raw.user(input.id)).toBeNull();
            expect(await h.raw.identity(identity.provider, identity.subject)).toBeNull();
            expect(await h.store.getIdentity(identity.provider, identity.subject)).toBeNull();
            expect(await h.raw.countUsersWithEmail(owner.email)).toBe(1);
            expect(await identityRows(owner.id)).toEqual(ownerBefore);
            // Nothing half-written holds the identity: a sign-up with another address takes it.
            const retry = newSignUp();
            expect((await h.store.createUserWithIdentity(retry, identity))?.id).toBe(retry.id);
            expect((await h.store.getIdentity(identity.provider, identity.subject))?.userId).toBe(retry.id);
          }
        });

        it("for an identity that exists already resolves to null, and writes no user", async () => {
          const { identity: signedUp } = await passwordlessUser();
          const linkedOne = await linked(await h.store.createUser(newUser()), { provider: "github" });
          for (const existing of [signedUp, linkedOne]) {
            const before = await identityRows(existing.userId);
            const input = newSignUp();
            const again = newIdentity({
              provider: existing.provider,
              subject: existing.subject,
              email: input.email,
              emailVerified: !existing.emailVerified,
              sealedTokens: sealedTokens(),
            });
            expect(await h.store.createUserWithIdentity(input, again)).toBeNull();
            expect(await h.raw.user(input.id)).toBeNull();
            expect(await h.raw.countUsersWithEmail(input.email)).toBe(0);
            expect(await h.raw.identity(existing.provider, existing.subject)).toEqual(rawIdentityOf(existing));
            expect(await identityRows(existing.userId)).toEqual(before);
            // Its address is free: nothing of the refused user is left.
            expect(await h.store.createUser(newUser({ email: input.email }))).toMatchObject({ email: input.email });
          }
        });

        it("with both the email and the identity taken, writes nothing (null or email_taken)", async () => {
          const { user, identity } = await passwordlessUser();
          const before = await identityRows(user.id);
          const input = newSignUp({ email: user.email });
          const outcome = await h.store.createUserWithIdentity(input, identity).then(
            (value) => value,
            (error: { code?: unknown }) => error.code,
          );
          expect([null, "email_taken"]).toContain(outcome);
          expect(await h.raw.user(input.id)).toBeNull();
          expect(await identityRows(user.id)).toEqual(before);
        });
      });

      describe("finding one (getIdentity)", () => {
        it("returns null for an unknown subject or provider", async () => {
          const { identity } = await passwordlessUser({ provider: "google" });
          expect(await h.store.getIdentity("google", `${identity.subject}-unknown`)).toBeNull();
          expect(await h.store.getIdentity("github", identity.subject)).toBeNull();
          expect(await h.store.getIdentity(uniqueId("provider"), uniqueId("subject"))).toBeNull();
        });

        it("(provider, subject) names an identity exactly: the same subject at another provider, or a near miss of it, is another", async () => {
          const { user, identity } = await passwordlessUser({ provider: "google" });
          const subject = identity.subject;
          const elsewhere = await passwordlessUser({ provider: "github", subject });
          expect((await h.store.getIdentity("google", subject))?.userId).toBe(user.id);
          expect((await h.store.getIdentity("github", subject))?.userId).toBe(elsewhere.user.id);

          // OpenID Connect: "sub … a case-sensitive string". A near miss must find nobody, and sign up anew.
          const variants: [string, string][] = [
            ["upper case", subject.toUpperCase()],
            ["lower case", subject.toLowerCase()],
            ["a trailing space", `${subject} `],
            ["one character less", subject.slice(0, -1)],
            ["one character more", `${subject}x`],
          ];
          const found: Record<string, string | null> = {};
          const signedUp: Record<string, string> = {};
          for (const [label, variant] of variants) {
            found[label] = (await h.store.getIdentity("google", variant))?.userId ?? null;
            const input = newSignUp();
            const outcome = await h.store
              .createUserWithIdentity(input, newIdentity({ provider: "google", subject: variant }))
              .then(
                (created) => (created?.id === input.id ? "created" : String(created)),
                (error: Error) => `threw ${error.message}`,
              );
            signedUp[label] = outcome;
          }
          expect(found).toEqual(Object.fromEntries(variants.map(([label]) => [label, null])));
          expect(signedUp).toEqual(Object.fromEntries(variants.map(([label]) => [label, "created"])));
          expect(await h.raw.identity("google", subject)).toEqual(rawIdentityOf(identity));
          expect(await h.store.getIdentity("google", subject)).toEqual(identity);
        });

        it("a subject of 255 characters (the most OpenID Connect allows) and an email of 254 are stored whole", async () => {
          const user = await h.store.createUser(newUser());
          // Printable ASCII of every kind: OpenID Connect allows any, up to 255.
          const subject = `${randomBytes(4).toString("hex")}|AZaz09-_.~!#$%&'*+/=?^\`{}:@ `
            .repeat(8)
            .slice(0, 254)
            .concat("Z");
          expect(subject).toHaveLength(255);
          const email = `${"a".repeat(64)}@${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(57)}.com`;
          expect(email).toHaveLength(254);
          const identity = await linked(user, { provider: "oidc", subject, email });
          expect(await h.raw.identity("oidc", subject)).toEqual(rawIdentityOf(identity));
          expect(await h.store.getIdentity("oidc", subject)).toEqual(identity);
        });
      });

      describe("linking one (linkIdentity)", () => {
        it("links an identity to a user with a password: stored as given, found and listed", async () => {
          const user = await h.store.createUser(newUser());
          const identity: IdentityRecord = {
            ...newIdentity({
              provider: "github",
              email: null,
              emailVerified: false,
              // A provider's JWT access, refresh and ID tokens, sealed: several kilobytes.
              sealedTokens: sealedTokens(8_000),
              createdAt: new Date(1_700_000_000_789),
            }),
            userId: user.id,
          };
          expect(await h.store.linkIdentity(identity)).toBe("linked");
          expect(await h.raw.identities(user.id)).toEqual([rawIdentityOf(identity)]);
          expect(await h.store.getIdentity("github", identity.subject)).toEqual(identity);
          expect(await h.store.listIdentities(user.id)).toEqual([identity]);
          // The user keeps their password and everything else.
          expect(await h.store.getUserById(user.id)).toMatchObject({
            passwordHash: user.passwordHash,
            email: user.email,
            emailVerifiedAt: null,
            sessionVersion: 0,
            revocationEpoch: 0,
          });
        });

        it("answers taken for an identity linked already, to another user or to the same one, and changes nothing", async () => {
          const owner = await h.store.createUser(newUser());
          const other = await h.store.createUser(newUser());
          const identity = await linked(owner, { provider: "gitlab" });
          const { identity: signedUp } = await passwordlessUser({ provider: "gitlab" });
          const before = await Promise.all([owner.id, other.id, signedUp.userId].map(identityRows));
          const again = { emailVerified: false, sealedTokens: sealedTokens(), createdAt: new Date() };
          // Someone else's.
          expect(await h.store.linkIdentity({ ...identity, ...again, userId: other.id })).toBe("taken");
          expect(await h.store.linkIdentity({ ...signedUp, ...again, userId: other.id })).toBe("taken");
          // The user's own (the caller tells the two apart): nothing to link, and nothing overwritten.
          expect(await h.store.linkIdentity({ ...identity, ...again })).toBe("taken");
          // Taken even by a user who has another identity of the provider (the owner's is the answer).
          expect(await h.store.linkIdentity({ ...signedUp, ...again, userId: owner.id })).toBe("taken");
          expect(await Promise.all([owner.id, other.id, signedUp.userId].map(identityRows))).toEqual(before);
          expect(await h.store.getIdentity("gitlab", identity.subject)).toEqual(identity);
        });

        it("answers provider_linked when the user has another identity of that provider, and changes nothing", async () => {
          const { user, identity } = await passwordlessUser({ provider: "google" });
          const before = await identityRows(user.id);
          const second = { ...newIdentity({ provider: "google" }), userId: user.id };
          expect(await h.store.linkIdentity(second)).toBe("provider_linked");
          expect(await identityRows(user.id)).toEqual(before);
          expect(await h.store.getIdentity("google", second.subject)).toBeNull();
          // Its subject is still free, for someone else.
          const other = await h.store.createUser(newUser());
          expect(await h.store.linkIdentity({ ...second, userId: other.id })).toBe("linked");
          // Another provider links beside the first.
          const github = await linked(user, { provider: "github" });
          expect(await h.raw.identities(user.id)).toEqual([rawIdentityOf(github), rawIdentityOf(identity)]);
        });

        it("answers no_user for a user that does not exist, or no longer does, and stores nothing", async () => {
          const unknown = { ...newIdentity(), userId: uniqueId("u") };
          expect(await h.store.linkIdentity(unknown)).toBe("no_user");
          expect(await h.raw.identity(unknown.provider, unknown.subject)).toBeNull();
          expect(await h.store.getIdentity(unknown.provider, unknown.subject)).toBeNull();
          const gone = await h.store.createUser(newUser());
          expect(await h.store.deleteUser(gone.id)).toBe(true);
          const late = { ...newIdentity(), userId: gone.id };
          expect(await h.store.linkIdentity(late)).toBe("no_user");
          expect(await h.raw.identity(late.provider, late.subject)).toBeNull();
          expect(await h.raw.identities(gone.id)).toEqual([]);
        });
      });

      it("listIdentities returns the user's identities oldest first, each as stored, and no one else's; [] for none", async () => {
        const user = await h.store.createUser(newUser());
        const other = await h.store.createUser(newUser());
        const identities = ["oidc", "github", "google", "discord"].map((provider, i) => ({
          ...newIdentity({ provider, createdAt: new Date(1_700_000_000_000 + i * 1_000 + 7) }),
          userId: user.id,
        }));
        // Linked out of order, with providers out of alphabetical order: the order comes from createdAt.
        for (const i of [2, 0, 3, 1])
          expect(await h.store.linkIdentity(identities[i] as IdentityRecord)).toBe("linked");
        await linked(other, { provider: "github", createdAt: new Date(1_700_000_000_500) });
        const listed = await h.store.listIdentities(user.id);
        expect(listed).toEqual(identities);
        // Dates, to the millisecond.
        expect(listed.map((identity) => identity.createdAt.getTime())).toEqual([
          1_700_000_000_007, 1_700_000_001_007, 1_700_000_002_007, 1_700_000_003_007,
        ]);
        expect(await h.store.listIdentities((await h.store.createUser(newUser())).id)).toEqual([]);
        expect(await h.store.listIdentities(uniqueId("u"))).toEqual([]);
      });

      it("setIdentityTokens replaces the sealed tokens of that identity only (8 kB, whole), and null clears them", async () => {
        const user = await h.store.createUser(newUser());
        const identity = await linked(user, { provider: "microsoft" });
        const beside = await linked(user, { provider: "google", sealedTokens: sealedTokens() });
        const theirs = await linked(await h.store.createUser(newUser()), {
          provider: "microsoft",
          sealedTokens: sealedTokens(),
        });
        const theirsBefore = await h.raw.identity(theirs.provider, theirs.subject);

        const tokens = sealedTokens(8_000);
        await h.store.setIdentityTokens("microsoft", identity.subject, tokens);
        const updated = { ...identity, sealedTokens: tokens };
        expect(await h.raw.identities(user.id)).toEqual([rawIdentityOf(beside), rawIdentityOf(updated)]);
        expect(await h.store.getIdentity("microsoft", identity.subject)).toEqual(updated);
        expect(await h.raw.identity(theirs.provider, theirs.subject)).toEqual(theirsBefore);

        // Replaced again, then cleared (a provider no longer configured to keep them).
        const newer = sealedTokens(1_000);
        await h.store.setIdentityTokens("microsoft", identity.subject, newer);
        expect((await h.store.getIdentity("microsoft", identity.subject))?.sealedTokens).toBe(newer);
        await h.store.setIdentityTokens("microsoft", identity.subject, null);
        expect(await h.store.getIdentity("microsoft", identity.subject)).toEqual(identity);
        expect(await h.raw.identity("microsoft", identity.subject)).toEqual(rawIdentityOf(identity));

        // An identity that does not exist: nothing to write, and nothing written.
        const nobody = uniqueId("nobody");
        await h.store.setIdentityTokens("microsoft", nobody, sealedTokens());
        await h.store.setIdentityTokens("github", identity.subject, sealedTokens());
        expect(await h.raw.identity("microsoft", nobody)).toBeNull();
        expect(await h.raw.identity("github", identity.subject)).toBeNull();
        expect(await h.raw.identities(user.id)).toEqual([rawIdentityOf(beside), rawIdentityOf(identity)]);
        expect(await h.raw.identity(theirs.provider, theirs.subject)).toEqual(theirsBefore);
      });

      describe("unlinking one (unlinkIdentity)", () => {
        it("removes the identity of a user with a password: unlinked, then not_found; the identity is free again", async () => {
          const user = await h.store.createUser(newUser());
          const identity = await linked(user, { provider: "google" });
          expect(await h.store.unlinkIdentity(user.id, "google")).toBe("unlinked");
          expect(await h.raw.identities(user.id)).toEqual([]);
          expect(await h.store.getIdentity("google", identity.subject)).toBeNull();
          expect((await h.store.getUserById(user.id))?.passwordHash).toBe(user.passwordHash);
          expect(await h.store.unlinkIdentity(user.id, "google")).toBe("not_found");
          const other = await h.store.createUser(newUser());
          expect(await h.store.linkIdentity({ ...identity, userId: other.id })).toBe("linked");
        });

        it("answers not_found for a provider the user has not linked, for another user's identity and for an unknown user", async () => {
          const { user } = await passwordlessUser({ provider: "google" });
          await linked(user, { provider: "discord" });
          const withPassword = await h.store.createUser(newUser());
          await linked(withPassword, { provider: "github" });
          const before = await Promise.all([user.id, withPassword.id].map(identityRows));
          expect(await h.store.unlinkIdentity(user.id, "github")).toBe("not_found");
          expect(await h.store.unlinkIdentity(withPassword.id, "google")).toBe("not_found");
          expect(await h.store.unlinkIdentity(withPassword.id, "discord")).toBe("not_found");
          expect(await h.store.unlinkIdentity(uniqueId("u"), "google")).toBe("not_found");
          expect(await Promise.all([user.id, withPassword.id].map(identityRows))).toEqual(before);
        });

        it("refuses the last way to sign in (no password, no passkey, no other identity) with last_method; TOTP is no way in", async () => {
          const { user, identity } = await passwordlessUser({ provider: "google" });
          expect(await h.store.unlinkIdentity(user.id, "google")).toBe("last_method");
          expect(await h.raw.identities(user.id)).toEqual([rawIdentityOf(identity)]);
          // A second factor is not a way in on its own.
          const secret = sealedSecret();
          expect(await h.store.saveTotpSetup(user.id, secret, new Date())).toBe(true);
          expect(await h.store.confirmTotp(user.id, secret, currentStep(), codeHashes(), new Date())).toBe(true);
          expect(await h.store.unlinkIdentity(user.id, "google")).toBe("last_method");
          expect(await h.store.getIdentity("google", identity.subject)).toEqual(identity);
        });

        it("removes the only identity of a user without a password who has a passkey, and leaves the passkey", async () => {
          const { user, identity } = await passwordlessUser({ provider: "google" });
          const passkey = newPasskey(user);
          expect(await h.store.createPasskey(passkey)).toBe(true);
          expect(await h.store.unlinkIdentity(user.id, "google")).toBe("unlinked");
          expect(await h.raw.identities(user.id)).toEqual([]);
          expect(await h.store.getIdentity("google", identity.subject)).toBeNull();
          expect(await h.raw.passkeys(user.id)).toEqual([rawPasskeyOf(passkey)]);
        });

        it("a passkey removed again makes the identity the last way in once more", async () => {
          const { user, identity } = await passwordlessUser({ provider: "google" });
          const passkey = newPasskey(user);
          await h.store.createPasskey(passkey);
          expect(await h.store.deletePasskey(user.id, passkey.id)).toBe("deleted");
          expect(await h.store.unlinkIdentity(user.id, "google")).toBe("last_method");
          expect(await h.raw.identities(user.id)).toEqual([rawIdentityOf(identity)]);
        });

        it("removes an identity of a user without a password who has another; the one left is then the last", async () => {
          const { user, identity } = await passwordlessUser({ provider: "google" });
          const second = await linked(user, { provider: "github" });
          expect(await h.store.unlinkIdentity(user.id, "google")).toBe("unlinked");
          expect(await h.raw.identities(user.id)).toEqual([rawIdentityOf(second)]);
          expect(await h.store.getIdentity("google", identity.subject)).toBeNull();
          expect(await h.store.unlinkIdentity(user.id, "github")).toBe("last_method");
          expect(await h.raw.identities(user.id)).toEqual([rawIdentityOf(second)]);
        });

        it("removes the only identity once the user has set a password (a reset)", async () => {
          const { user } = await passwordlessUser({ provider: "google" });
          const hash = "$argon2id$v=19$m=19456,t=2,p=1$c2V0IGJ5IGEgcmVzZXQ";
          expect(await h.store.endSessions(user.id, { update: { passwordHash: hash } })).toMatchObject({ epoch: 1 });
          expect((await h.store.getUserById(user.id))?.passwordHash).toBe(hash);
          expect(await h.store.unlinkIdentity(user.id, "google")).toBe("unlinked");
          expect(await h.raw.identities(user.id)).toEqual([]);
        });
      });

      it("endSessions with reclaim (a password reset) of a proven address removes the identities whose email was not verified, and no one else's", async () => {
        const { user, identity } = await passwordlessUser({ provider: "google" });
        const unverified = [
          await linked(user, { provider: "github", emailVerified: false }),
          await linked(user, { provider: "discord", emailVerified: false, email: null }),
        ];
        const passkey = newPasskey(user);
        await h.store.createPasskey(passkey);
        const other = await h.store.createUser(newUser());
        const theirs = await linked(other, { provider: "github", emailVerified: false });
        expect(await h.store.endSessions(user.id, { reclaim: { email: user.email, unproven: false } })).not.toBeNull();
        expect(await h.raw.identities(user.id)).toEqual([rawIdentityOf(identity)]);
        for (const gone of unverified) expect(await h.store.getIdentity(gone.provider, gone.subject)).toBeNull();
        expect(await h.raw.identities(other.id)).toEqual([rawIdentityOf(theirs)]);
        expect(await h.raw.passkeys(user.id)).toEqual([rawPasskeyOf(passkey)]);
      });

      it("endSessions with reclaim of an unproven address keeps only identities verified for that address, and removes every second factor and passkey", async () => {
        const input = newSignUp();
        const mine = newIdentity({ provider: "google", email: input.email, emailVerified: true });
        const user = (await h.store.createUserWithIdentity(input, mine)) as UserRecord;
        await linked(user, { provider: "github", emailVerified: true });
        await linked(user, { provider: "discord", emailVerified: false, email: input.email });
        await h.store.createPasskey(newPasskey(user));
        await h.store.saveTotpSetup(user.id, sealedSecret(), new Date());
        const other = await h.store.createUser(newUser());
        const theirPasskey = newPasskey(other);
        await h.store.createPasskey(theirPasskey);
        expect(await h.store.endSessions(user.id, { reclaim: { email: user.email, unproven: true } })).not.toBeNull();
        expect(await h.raw.identities(user.id)).toEqual([rawIdentityOf({ ...mine, userId: user.id })]);
        expect(await h.raw.passkeys(user.id)).toEqual([]);
        expect(await h.store.getTotp(user.id)).toBeNull();
        expect(await h.store.getFactorSummary(user.id)).toEqual({ totp: false, passkeys: 0, recoveryCodes: 0 });
        expect(await h.raw.passkeys(other.id)).toEqual([rawPasskeyOf(theirPasskey)]);
      });

      it("linkIdentity with ifEpoch links only in that revocation epoch: stale once the user's sessions were ended", async () => {
        const user = await h.store.createUser(newUser());
        const identity = { ...newIdentity(), userId: user.id };
        const ended = await h.store.endSessions(user.id);
        expect(await h.store.linkIdentity(identity, { ifEpoch: (ended?.epoch ?? 0) - 1 })).toBe("stale");
        expect(await h.raw.identities(user.id)).toEqual([]);
        expect(await h.store.linkIdentity(identity, { ifEpoch: ended?.epoch ?? 0 })).toBe("linked");
      });

      it("deletePasskey refuses the last way in of a user without a password: last_method, unless an identity is left", async () => {
        const alone = await h.store.createUser(newSignUp());
        const only = newPasskey(alone);
        await h.store.createPasskey(only);
        expect(await h.store.deletePasskey(alone.id, only.id)).toBe("last_method");
        expect(await h.raw.passkeys(alone.id)).toEqual([rawPasskeyOf(only)]);
        const second = newPasskey(alone);
        await h.store.createPasskey(second);
        expect(await h.store.deletePasskey(alone.id, only.id)).toBe("deleted");
        expect(await h.store.deletePasskey(alone.id, second.id)).toBe("last_method");

        const { user } = await passwordlessUser({ provider: "google" });
        const passkey = newPasskey(user);
        await h.store.createPasskey(passkey);
        expect(await h.store.deletePasskey(user.id, passkey.id)).toBe("deleted");
      });

      it("createPasskey with ifEpoch stores only in that revocation epoch", async () => {
        const user = await h.store.createUser(newUser());
        const ended = await h.store.endSessions(user.id);
        const epoch = ended?.epoch ?? 0;
        expect(await h.store.createPasskey(newPasskey(user), { ifEpoch: epoch - 1 })).toBe(false);
        expect(await h.raw.passkeys(user.id)).toEqual([]);
        const passkey = newPasskey(user);
        expect(await h.store.createPasskey(passkey, { ifEpoch: epoch })).toBe(true);
        expect(await h.raw.passkeys(user.id)).toEqual([rawPasskeyOf(passkey)]);
      });

      it("RACE: a passwordless user's unlink of their one identity and delete of their one passkey at once: one of them is refused", async () => {
        for (let round = 0; round < 4; round++) {
          const { user } = await passwordlessUser({ provider: "google" });
          const passkey = newPasskey(user);
          await h.store.createPasskey(passkey);
          await onThreeStores("transactions", async (stores) => {
            const [a = h.store, b = h.store] = stores.length > 1 ? [stores[1], stores[2]] : [h.store, h.store];
            const [unlinked, deleted] = await Promise.all([
              a.unlinkIdentity(user.id, "google"),
              b.deletePasskey(user.id, passkey.id),
            ]);
            expect([unlinked, deleted].sort()).toEqual(
              unlinked === "unlinked" ? ["last_method", "unlinked"] : ["deleted", "last_method"],
            );
          });
          const left = (await h.raw.identities(user.id)).length + (await h.raw.passkeys(user.id)).length;
          expect(left).toBe(1);
        }
      });

      it("deleteUser removes the user's identities, and no one else's; a new user can then take them", async () => {
        const { user, identity } = await passwordlessUser({ provider: "google" });
        const second = await linked(user, { provider: "github" });
        const other = await h.store.createUser(newUser());
        const kept = await linked(other, { provider: "google" });
        expect(await h.store.deleteUser(user.id)).toBe(true);
        expect(await h.raw.user(user.id)).toBeNull();
        expect(await h.raw.identities(user.id)).toEqual([]);
        expect(await h.store.getIdentity("google", identity.subject)).toBeNull();
        expect(await h.store.getIdentity("github", second.subject)).toBeNull();
        expect(await h.raw.identities(other.id)).toEqual([rawIdentityOf(kept)]);
        // The provider's account can sign up anew (with the same address), or be linked by someone else.
        const input = newSignUp({ email: user.email });
        expect((await h.store.createUserWithIdentity(input, identity))?.id).toBe(input.id);
        expect((await h.store.getIdentity("google", identity.subject))?.userId).toBe(input.id);
        expect(await h.store.linkIdentity({ ...second, userId: other.id })).toBe("linked");
      });

      it("sweepExpired leaves identities, however old", async () => {
        const { user, identity } = await passwordlessUser({ createdAt: new Date(1_000_000_000_123) });
        await h.store.sweepExpired(Date.now());
        expect(await h.raw.identities(user.id)).toEqual([rawIdentityOf(identity)]);
      });

      describe("races: of concurrent callers, one wins", () => {
        /** How a call settled: its value, or the code of its error (its message, without one). */
        const settledAs = <T>(result: PromiseSettledResult<T>): T | string =>
          result.status === "fulfilled"
            ? result.value
            : (((result.reason as { code?: unknown }).code as string | undefined) ??
              `threw ${String((result.reason as Error).message)}`);

        /** Runs `call` `count` times at once, spread over `stores`; how each settled. */
        async function atOnce<T>(
          stores: Store[],
          count: number,
          call: (store: Store, i: number) => Promise<T>,
        ): Promise<(T | string)[]> {
          const results = await Promise.allSettled(
            Array.from({ length: count }, (_, i) => call(stores[i % stores.length] as Store, i)),
          );
          return results.map(settledAs);
        }

        it("two unlinks at once of a passwordless user's two identities: one unlinked, one last_method, one identity left", async () => {
          await onThreeStores("transactions", async (stores) => {
            for (let round = 0; round < 6; round++) {
              const { user, identity } = await passwordlessUser({ provider: "google" });
              const second = await linked(user, { provider: "github" });
              const results = await atOnce(stores, 2, (_, i) =>
                (stores[(round + i) % stores.length] as Store).unlinkIdentity(user.id, i === 0 ? "google" : "github"),
              );
              expect([...results].sort()).toEqual(["last_method", "unlinked"]);
              // The one refused is the one left.
              const left = results[0] === "last_method" ? identity : second;
              expect(await h.raw.identities(user.id)).toEqual([rawIdentityOf(left)]);
            }
          });
        });

        it("four unlinks at once of a passwordless user's four identities: three unlinked, one last_method", async () => {
          await onThreeStores("transactions", async (stores) => {
            const providers = ["google", "github", "gitlab", "discord"];
            for (let round = 0; round < 3; round++) {
              const { user, identity } = await passwordlessUser({ provider: "google" });
              const identities = [identity];
              for (const provider of providers.slice(1)) identities.push(await linked(user, { provider }));
              const results = await atOnce(stores, 4, (store, i) =>
                store.unlinkIdentity(user.id, providers[i] as string),
              );
              expect([...results].sort()).toEqual(["last_method", "unlinked", "unlinked", "unlinked"]);
              const left = identities[results.indexOf("last_method")] as IdentityRecord;
              expect(await h.raw.identities(user.id)).toEqual([rawIdentityOf(left)]);
            }
          });
        });

        it("unlinking a passwordless user's only identity while a passkey is added: unlinked only with the passkey stored", async () => {
          await onThreeStores("transactions", async (stores) => {
            for (let round = 0; round < 6; round++) {
              const { user, identity } = await passwordlessUser({ provider: "google" });
              const passkey = newPasskey(user);
              const [unlinked, created] = await atOnce<unknown>(stores, 2, (store, i) =>
                i === 0 ? store.unlinkIdentity(user.id, "google") : store.createPasskey(passkey),
              );
              expect(created).toBe(true);
              expect(["unlinked", "last_method"]).toContain(unlinked);
              expect(await h.raw.passkeys(user.id)).toEqual([rawPasskeyOf(passkey)]);
              expect(await h.raw.identities(user.id)).toEqual(unlinked === "unlinked" ? [] : [rawIdentityOf(identity)]);
            }
          });
        });

        it("10 first sign-ins at once of one identity with one email: one user and one identity; the rest null or email_taken", async () => {
          await onThreeStores("transactions", async (stores) => {
            for (let round = 0; round < 3; round++) {
              const email = `${uniqueId("race")}@example.com`;
              const identity = newIdentity({ email });
              const inputs = Array.from({ length: 10 }, () => newSignUp({ email }));
              const results = await atOnce(stores, 10, (store, i) =>
                store.createUserWithIdentity(inputs[i] as NewUser, identity),
              );
              const won = results.flatMap((result, i) => (typeof result === "object" && result !== null ? [i] : []));
              expect(won).toHaveLength(1);
              const winner = inputs[won[0] as number] as NewUser;
              expect(results[won[0] as number]).toMatchObject({ id: winner.id, email, passwordHash: null });
              for (const [i, result] of results.entries())
                if (i !== won[0]) expect([null, "email_taken"]).toContain(result);
              expect(await h.raw.countUsersWithEmail(email)).toBe(1);
              expect(await h.raw.identities(winner.id)).toEqual([rawIdentityOf({ ...identity, userId: winner.id })]);
              for (const input of inputs) if (input !== winner) expect(await h.raw.user(input.id)).toBeNull();
            }
          });
        });

        it("10 first sign-ins at once of one identity with different emails: one user; the rest null, and no user of theirs written", async () => {
          await onThreeStores("transactions", async (stores) => {
            for (let round = 0; round < 3; round++) {
              const identity = newIdentity();
              const inputs = Array.from({ length: 10 }, () => newSignUp());
              const results = await atOnce(stores, 10, (store, i) =>
                store.createUserWithIdentity(inputs[i] as NewUser, identity),
              );
              const won = results.flatMap((result, i) => (typeof result === "object" && result !== null ? [i] : []));
              expect(won).toHaveLength(1);
              const winner = inputs[won[0] as number] as NewUser;
              expect(results.filter((result) => result !== results[won[0] as number])).toEqual(Array(9).fill(null));
              expect(await h.raw.identity(identity.provider, identity.subject)).toEqual(
                rawIdentityOf({ ...identity, userId: winner.id }),
              );
              for (const input of inputs) {
                if (input === winner) continue;
                expect(await h.raw.user(input.id)).toBeNull();
                expect(await h.raw.countUsersWithEmail(input.email)).toBe(0);
              }
            }
          });
        });

        it("10 first sign-ins at once with one email and different identities: one user; the rest email_taken, and no identity of theirs left", async () => {
          await onThreeStores("transactions", async (stores) => {
            for (let round = 0; round < 3; round++) {
              const email = `${uniqueId("race")}@example.com`;
              const identities = Array.from({ length: 10 }, () => newIdentity({ email }));
              const inputs = Array.from({ length: 10 }, () => newSignUp({ email }));
              const results = await atOnce(stores, 10, (store, i) =>
                store.createUserWithIdentity(inputs[i] as NewUser, identities[i] as NewIdentity),
              );
              const won = results.flatMap((result, i) => (typeof result === "object" && result !== null ? [i] : []));
              expect(won).toHaveLength(1);
              const w = won[0] as number;
              expect(results.filter((_, i) => i !== w)).toEqual(Array(9).fill("email_taken"));
              expect(await h.raw.countUsersWithEmail(email)).toBe(1);
              const winner = inputs[w] as NewUser;
              expect(await h.raw.identities(winner.id)).toEqual([
                rawIdentityOf({ ...(identities[w] as NewIdentity), userId: winner.id }),
              ]);
              for (const [i, identity] of identities.entries())
                if (i !== w) expect(await h.raw.identity(identity.provider, identity.subject)).toBeNull();
            }
          });
        });

        it("10 users linking one identity at once: exactly one linked, the rest taken", async () => {
          await onThreeStores("transactions", async (stores) => {
            for (let round = 0; round < 3; round++) {
              const users = await Promise.all(Array.from({ length: 10 }, () => h.store.createUser(newUser())));
              const identity = newIdentity({ provider: "github" });
              const results = await atOnce(stores, 10, (store, i) =>
                store.linkIdentity({ ...identity, userId: (users[i] as UserRecord).id }),
              );
              expect([...results].sort()).toEqual(["linked", ...Array(9).fill("taken")]);
              const owner = users[results.indexOf("linked")] as UserRecord;
              expect(await h.raw.identity("github", identity.subject)).toEqual(
                rawIdentityOf({ ...identity, userId: owner.id }),
              );
              for (const user of users) if (user !== owner) expect(await h.raw.identities(user.id)).toEqual([]);
            }
          });
        });

        it("one user linking 10 subjects of one provider at once: exactly one linked, the rest provider_linked", async () => {
          await onThreeStores("transactions", async (stores) => {
            for (let round = 0; round < 3; round++) {
              const user = await h.store.createUser(newUser());
              const identities = Array.from({ length: 10 }, () => ({
                ...newIdentity({ provider: "github" }),
                userId: user.id,
              }));
              const results = await atOnce(stores, 10, (store, i) =>
                store.linkIdentity(identities[i] as IdentityRecord),
              );
              expect([...results].sort()).toEqual(["linked", ...Array(9).fill("provider_linked")]);
              const won = identities[results.indexOf("linked")] as IdentityRecord;
              expect(await h.raw.identities(user.id)).toEqual([rawIdentityOf(won)]);
              for (const identity of identities)
                if (identity !== won) expect(await h.raw.identity("github", identity.subject)).toBeNull();
            }
          });
        });

        it("a first sign-in and a link of the same identity at once: it has exactly one owner", async () => {
          await onThreeStores("transactions", async (stores) => {
            for (let round = 0; round < 6; round++) {
              const existing = await h.store.createUser(newUser());
              const identity = newIdentity();
              const input = newSignUp();
              const [created, link] = await atOnce<unknown>(stores, 2, (store, i) =>
                i === 0
                  ? store.createUserWithIdentity(input, identity)
                  : store.linkIdentity({ ...identity, userId: existing.id }),
              );
              const owner = link === "linked" ? existing.id : input.id;
              if (link === "linked") {
                expect(created).toBeNull();
                expect(await h.raw.user(input.id)).toBeNull();
              } else {
                expect(link).toBe("taken");
                expect(created).toMatchObject({ id: input.id });
              }
              expect(await h.raw.identity(identity.provider, identity.subject)).toEqual(
                rawIdentityOf({ ...identity, userId: owner }),
              );
            }
          });
        });
      });
    });

    describeAdminAuditMail({
      harness: () => h,
      onThreeStores,
      fixtures: {
        uniqueId,
        newUser,
        newSignUp,
        newSession,
        newToken,
        newPasskey,
        newIdentity,
        sealedSecret,
        codeHashes,
        currentStep,
      },
    });

    describe("when the server is unreachable", () => {
      const TIMEOUT_MS = 1_000;
      /** A call must settle well before this, in ms (the store's timeout plus scheduling slack). */
      const SETTLES_WITHIN_MS = 2 * TIMEOUT_MS + 1_000;

      it("a server that refuses connections: every call rejects with unavailable, promptly, and close() resolves", async (ctx) => {
        const networked = h.networked;
        if (!networked) return ctx.skip("this backend has no network server");
        const store = networked.storeAt(await closedPort(), { timeoutMs: TIMEOUT_MS });
        const calls = await callOutcomes(store, networked.serves, SETTLES_WITHIN_MS);
        const closed = await outcomeOf(store.close());
        expect(calls).toEqual(calls.map(({ call }) => ({ call, outcome: "unavailable", settledInTime: true })));
        expect(closed).toBe("resolved");
      });

      it("a server that accepts connections but never answers: every call rejects with unavailable after the timeout, and close() resolves", async (ctx) => {
        const networked = h.networked;
        if (!networked) return ctx.skip("this backend has no network server");
        const server = await silentServer();
        const store = networked.storeAt(server.port, { timeoutMs: TIMEOUT_MS });
        const calls = await callOutcomes(store, networked.serves, SETTLES_WITHIN_MS);
        const closed = await outcomeOf(store.close());
        await server.close();
        expect(calls).toEqual(calls.map(({ call }) => ({ call, outcome: "unavailable", settledInTime: true })));
        expect(closed).toBe("resolved");
      });
    });

    describe("migrations", () => {
      const MIGRATIONS = [
        "0001_users_and_sessions",
        "0002_rate_limits",
        "0003_email_tokens_and_outbox",
        "0004_revocation_epochs_and_attempts",
        "0005_second_factors",
        "0006_identities",
        "0007_audit_admin_mail",
      ];

      /** Runs `check` on a fresh database, closing every store it made and dropping the database afterwards. */
      async function withFreshDatabase(
        freshDatabase: () => Promise<FreshDatabase>,
        check: (database: FreshDatabase, open: (options: { autoMigrate: boolean }) => Store) => Promise<void>,
      ): Promise<void> {
        const database = await freshDatabase();
        const stores: Store[] = [];
        try {
          await check(database, (options) => {
            const store = database.createStore(options);
            stores.push(store);
            return store;
          });
        } finally {
          await Promise.all(stores.map((store) => store.close()));
          await database.drop();
        }
      }

      it("two stores migrating one fresh database at once both succeed, and each migration is recorded once", async (ctx) => {
        const freshDatabase = h.freshDatabase;
        if (!freshDatabase) return ctx.skip("this backend has no versioned schema");
        await withFreshDatabase(freshDatabase, async (database, open) => {
          const a = open({ autoMigrate: true });
          const b = open({ autoMigrate: true });
          await Promise.all([a.migrate(), b.migrate()]);
          expect(await database.appliedMigrations()).toEqual(MIGRATIONS);
          const user = await a.createUser(newUser());
          expect(await b.getUserById(user.id)).toEqual(user);
        });
      });

      it("two stores whose first queries run at once on a fresh database both migrate it and answer", async (ctx) => {
        const freshDatabase = h.freshDatabase;
        if (!freshDatabase) return ctx.skip("this backend has no versioned schema");
        await withFreshDatabase(freshDatabase, async (database, open) => {
          const a = open({ autoMigrate: true });
          const b = open({ autoMigrate: true });
          const [fromA, fromB] = await Promise.all([a.getUserByEmail("nobody@example.com"), b.listUsers()]);
          expect(fromA).toBeNull();
          expect(fromB).toEqual([]);
          expect(await database.appliedMigrations()).toEqual(MIGRATIONS);
        });
      });

      it("autoMigrate: false on an unmigrated database refuses with configuration, saying to run gatehouse migrate", async (ctx) => {
        const freshDatabase = h.freshDatabase;
        if (!freshDatabase) return ctx.skip("this backend has no versioned schema");
        await withFreshDatabase(freshDatabase, async (database, open) => {
          const store = open({ autoMigrate: false });
          await expect(store.getUserByEmail("nobody@example.com")).rejects.toMatchObject({
            code: "configuration",
            message: expect.stringContaining("gatehouse migrate"),
          });
          await expect(store.createUser(newUser())).rejects.toMatchObject({ code: "configuration" });
          // Once someone migrates, the same store works: the refusal is not remembered.
          await open({ autoMigrate: true }).migrate();
          expect(await database.appliedMigrations()).toEqual(MIGRATIONS);
          expect(await store.getUserByEmail("nobody@example.com")).toBeNull();
        });
      });

      it("a database migrated by a newer Gatehouse is refused with configuration ('newer'), with or without autoMigrate", async (ctx) => {
        const freshDatabase = h.freshDatabase;
        if (!freshDatabase) return ctx.skip("this backend has no versioned schema");
        await withFreshDatabase(freshDatabase, async (database, open) => {
          await open({ autoMigrate: true }).migrate();
          await database.recordMigration("9999_from_the_future");
          const newer = { code: "configuration", message: expect.stringContaining("newer") };

          const checking = open({ autoMigrate: false });
          await expect(checking.getUserByEmail("nobody@example.com")).rejects.toMatchObject(newer);
          const migrating = open({ autoMigrate: true });
          await expect(migrating.getUserByEmail("nobody@example.com")).rejects.toMatchObject(newer);
          await expect(migrating.migrate()).rejects.toMatchObject(newer);
          expect(await database.appliedMigrations()).toEqual([...MIGRATIONS, "9999_from_the_future"]);
        });
      });
    });
  });
}

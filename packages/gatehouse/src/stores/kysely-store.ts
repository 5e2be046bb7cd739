import { type CompiledQuery, type Kysely, type Selectable, sql, type Transaction } from "kysely";
import { EmailTakenError, InvalidInputError, LastAdminError } from "../errors.js";
import type { DeadSessions, SessionRecord } from "../session/store.js";
import { failClosed } from "./guard.js";
import { createKyselyAuditStore, deleteEventsBefore } from "./kysely-audit.js";
import { createEffectWriter, hasEffects } from "./kysely-effects.js";
import { createKyselyFactorStore, deleteFactorRows, sweepChallenges } from "./kysely-factors.js";
import {
  createKyselyIdentityStore,
  deleteIdentityRows,
  deleteUnprovenIdentities,
  NO_PASSWORD,
} from "./kysely-identities.js";
import { createKyselyMailStore, sweepSentMail } from "./kysely-mail.js";
import { assertSchemaCurrent, type MigrationLock, migrateToLatest } from "./migrations.js";
import { type Prepare, queryTemplate } from "./query-template.js";
import type { Database } from "./schema.js";
import type {
  AttemptRequest,
  AttemptWindow,
  Effects,
  KeepAdmin,
  NewUser,
  RateLimitWindow,
  ReservedAttempt,
  Store,
  TokenPurpose,
  TokenRecord,
  UserRecord,
  UserUpdate,
} from "./types.js";

type UserRow = Selectable<Database["gatehouse_users"]>;
type SessionRow = Selectable<Database["gatehouse_sessions"]>;
type TokenRow = Selectable<Database["gatehouse_tokens"]>;
type RateLimitRow = Pick<Selectable<Database["gatehouse_rate_limits"]>, "count" | "pending" | "reset_at">;

/** What differs between SQL backends, beyond what Kysely's dialect already covers. */
export interface SqlBackend {
  isUniqueViolation(error: unknown): boolean;
  /** Whether the error is a transaction rolled back to break a deadlock. */
  isDeadlock?(error: unknown): boolean;
  /** MySQL spells an upsert `ON DUPLICATE KEY UPDATE`; SQLite and PostgreSQL `ON CONFLICT … DO UPDATE`. */
  upsert: "on-conflict" | "on-duplicate-key";
  /**
   * Prepares a query once, on the driver, for a lookup that runs on every request; resolves to its first
   * row. Without it the precompiled query still runs through Kysely, just not as a prepared statement.
   */
  prepare?: Prepare;
  /**
   * Runs writes that belong together as one transaction, without yielding to the event loop while it holds
   * the database's lock (SQLite: another connection of this process waiting on that lock would block the
   * very loop the transaction needs). Without it they run in a Kysely transaction.
   */
  batch?(queries: readonly CompiledQuery[]): Promise<unknown[][]>;
  /**
   * As {@link SqlBackend.batch}, but the statements after `first` run only if `first` changed a row (a change
   * and its effects: nothing changed, nothing written); resolves to whether it did.
   */
  batchIfChanged?(first: CompiledQuery, rest: readonly CompiledQuery[]): Promise<boolean>;
  /**
   * How a transaction locks the rows it decides on: `for-update` (`SELECT … FOR UPDATE`: PostgreSQL, MySQL), or
   * `write-lock` (SQLite, which has no row locks: a first write takes the database's write lock, and writers
   * run one at a time).
   */
  rowLocks: "for-update" | "write-lock";
  /** A lock around each migration pass, for a dialect whose Kysely lock is a no-op. */
  migrationLock?: MigrationLock;
}

/** Options shared by the SQL stores. */
export interface SqlStoreOptions {
  /**
   * Apply pending migrations before the first query (`true`), or only check that the schema matches this
   * version of Gatehouse and refuse to run otherwise (`false`; run `gatehouse migrate` at deploy time).
   */
  autoMigrate: boolean;
  /** Fail a store call (503) that takes longer than this, in ms. `undefined`: no limit (SQLite is in-process). */
  timeoutMs: number | undefined;
  /** Clock in milliseconds since the epoch, for the times the store writes itself; replace it in tests. */
  now: () => number;
}

/** How long an expired token is kept, so that a late click is told the link expired rather than unknown. */
const EXPIRED_TOKEN_GRACE_MS = 7 * 24 * 60 * 60 * 1000;

const USERS = "gatehouse_users";
const SESSIONS = "gatehouse_sessions";
const LIMITS = "gatehouse_rate_limits";
const TOKENS = "gatehouse_tokens";

/**
 * The store shared by every SQL backend: the same Kysely queries on SQLite, PostgreSQL and MySQL/MariaDB.
 * Failures that are not the caller's fault surface as `StoreUnavailableError`, so requests fail closed (503).
 */
export function createKyselyStore(db: Kysely<Database>, backend: SqlBackend, options: SqlStoreOptions): Store {
  const anyDb = db as unknown as Kysely<unknown>;
  const effects = createEffectWriter(db, (error) => backend.isUniqueViolation(error));
  const migrate = () => migrateToLatest(anyDb, backend.migrationLock);
  let ready: Promise<void> | undefined;

  function guard<T>(operation: () => Promise<T>): Promise<T> {
    return failClosed(async () => {
      // A failed start-up step is retried by the next call rather than remembered forever.
      ready ??= (options.autoMigrate ? migrate() : assertSchemaCurrent(anyDb)).catch((error: unknown) => {
        ready = undefined;
        throw error;
      });
      await ready;
      return operation();
    }, options.timeoutMs);
  }

  // The per-request lookups are compiled once (and, where the driver allows, prepared once, after the schema
  // is ready): building and compiling them on every call cost more than the queries themselves.
  const lookupSessionAndUser = queryTemplate(
    db,
    ["id"],
    (v) =>
      db
        .selectFrom(SESSIONS)
        .innerJoin(USERS, `${USERS}.id`, `${SESSIONS}.user_id`)
        .select([
          `${SESSIONS}.id as s_id`,
          `${SESSIONS}.user_id as s_user_id`,
          `${SESSIONS}.secret_hash as s_secret_hash`,
          `${SESSIONS}.user_version as s_user_version`,
          `${SESSIONS}.created_at as s_created_at`,
          `${SESSIONS}.expires_at as s_expires_at`,
          `${SESSIONS}.last_seen_at as s_last_seen_at`,
          `${SESSIONS}.user_agent as s_user_agent`,
          `${SESSIONS}.ip as s_ip`,
          `${SESSIONS}.impersonated_by as s_impersonated_by`,
          `${SESSIONS}.impersonator_epoch as s_impersonator_epoch`,
          `${USERS}.id`,
          `${USERS}.email`,
          `${USERS}.name`,
          `${USERS}.role`,
          `${USERS}.password_hash`,
          `${USERS}.session_version`,
          `${USERS}.revocation_epoch`,
          `${USERS}.email_verified_at`,
          `${USERS}.totp_enabled`,
          `${USERS}.banned_at`,
          `${USERS}.ban_reason`,
          `${USERS}.created_at`,
          `${USERS}.updated_at`,
        ])
        .where(`${SESSIONS}.id`, "=", v.id)
        // A record from before the user's sessions were last ended is as good as gone; one that passes is in
        // the user's epoch, so one column of it is read rather than two (this is the per-request lookup).
        .whereRef(`${SESSIONS}.revocation_epoch`, ">=", `${USERS}.revocation_epoch`),
    backend.prepare,
  );
  // Named columns, never `*`: a prepared statement's result must keep its shape when a later migration adds
  // a column (PostgreSQL refuses to run a cached plan whose result type changed).
  const userColumns = [
    "id",
    "email",
    "name",
    "role",
    "password_hash",
    "session_version",
    "revocation_epoch",
    "email_verified_at",
    "totp_enabled",
    "banned_at",
    "ban_reason",
    "created_at",
    "updated_at",
  ] as const;
  const lookupUserById = queryTemplate(
    db,
    ["id"],
    (v) => db.selectFrom(USERS).select(userColumns).where("id", "=", v.id),
    backend.prepare,
  );
  const lookupUserByEmail = queryTemplate(
    db,
    ["email"],
    (v) => db.selectFrom(USERS).select(userColumns).where("email", "=", v.email),
    backend.prepare,
  );

  // The other queries of the request and log-in paths, compiled once too.
  const insertSession = queryTemplate(
    db,
    [
      "id",
      "user_id",
      "secret_hash",
      "user_version",
      "revocation_epoch",
      "created_at",
      "expires_at",
      "last_seen_at",
      "user_agent",
      "ip",
      "impersonated_by",
      "impersonator_epoch",
    ],
    (v) => db.insertInto(SESSIONS).values(v),
  );
  const selectUserSessions = queryTemplate(db, ["userId"], (v) =>
    db.selectFrom(SESSIONS).selectAll().where("user_id", "=", v.userId),
  );
  const updateSessionActivity = queryTemplate(db, ["id", "lastSeenAt", "expiresAt"], (v) =>
    db.updateTable(SESSIONS).set({ last_seen_at: v.lastSeenAt, expires_at: v.expiresAt }).where("id", "=", v.id),
  );
  const deleteSessionById = queryTemplate(db, ["id"], (v) => db.deleteFrom(SESSIONS).where("id", "=", v.id));
  const selectSession = queryTemplate(db, ["id"], (v) => db.selectFrom(SESSIONS).selectAll().where("id", "=", v.id));
  // The sessions of a user that are dead by the session layer's rules (see `DeadSessions`), but the new one.
  const deleteDeadSessions = queryTemplate(
    db,
    ["userId", "except", "now", "idleBefore", "createdBefore", "epoch"],
    (v) =>
      db
        .deleteFrom(SESSIONS)
        .where("user_id", "=", v.userId)
        .where("id", "!=", v.except)
        .where((eb) =>
          eb.or([
            eb("expires_at", "<=", v.now),
            eb("last_seen_at", "<=", v.idleBefore),
            eb("created_at", "<=", v.createdBefore),
            eb("revocation_epoch", "<", v.epoch),
          ]),
        ),
  );
  const deleteRateLimit = queryTemplate(db, ["key"], (v) => db.deleteFrom(LIMITS).where("key", "=", v.key));
  // One statement, so concurrent hits on one key are all counted: a window that has ended restarts.
  const limitRef = (column: "count" | "pending" | "reset_at") => sql.ref(`${LIMITS}.${column}`);
  const restartOr = (now: unknown, fresh: unknown, continued: unknown) =>
    sql<number>`case when ${limitRef("reset_at")} <= ${now} then ${fresh} else ${continued} end`;
  /** A hit (`inFlight` 0) or a reserved attempt (1): counted, and with 1 also marked in flight. */
  const windowUpsert = (inFlight: 0 | 1) =>
    queryTemplate(db, ["key", "now", "resetAt"], (v) => {
      const insert = db.insertInto(LIMITS).values({ key: v.key, count: 1, pending: inFlight, reset_at: v.resetAt });
      // MySQL applies assignments left to right and later ones see earlier results: reset_at goes last, so
      // the others still see the old window's end.
      const set = {
        count: restartOr(v.now, sql.lit(1), sql`${limitRef("count")} + 1`),
        pending: restartOr(v.now, sql.lit(inFlight), inFlight ? sql`${limitRef("pending")} + 1` : limitRef("pending")),
        reset_at: restartOr(v.now, v.resetAt, limitRef("reset_at")),
      };
      return backend.upsert === "on-duplicate-key"
        ? insert.onDuplicateKeyUpdate(set)
        : insert
            .onConflict((conflict) => conflict.column("key").doUpdateSet(set))
            .returning(["count", "pending", "reset_at"]);
    });
  const upsertHit = windowUpsert(0);
  const upsertAttempt = windowUpsert(1);
  const selectRateLimitLocked = queryTemplate(db, ["key"], (v) =>
    db.selectFrom(LIMITS).select(["count", "pending", "reset_at"]).where("key", "=", v.key).forUpdate(),
  );
  const lessOne = (column: "count" | "pending") =>
    sql<number>`case when ${limitRef(column)} > 0 then ${limitRef(column)} - 1 else 0 end`;
  const settleFailed = queryTemplate(db, ["key", "resetAt"], (v) =>
    db
      .updateTable(LIMITS)
      .set({ pending: lessOne("pending") })
      .where("key", "=", v.key)
      .where("reset_at", "=", v.resetAt),
  );
  const settleReleased = queryTemplate(db, ["key", "resetAt"], (v) =>
    db
      .updateTable(LIMITS)
      .set({ count: lessOne("count"), pending: lessOne("pending") })
      .where("key", "=", v.key)
      .where("reset_at", "=", v.resetAt),
  );
  // A success's own counter forgets its failures, but not the other attempts still in flight on it: they stay
  // counted until they settle (count is assigned first: MySQL's later assignments see earlier results).
  const clearRateLimit = queryTemplate(db, ["key"], (v) =>
    db
      .updateTable(LIMITS)
      .set({ count: lessOne("pending"), pending: lessOne("pending") })
      .where("key", "=", v.key),
  );

  /**
   * Runs a counter upsert in `trx` and reads the window it left. MySQL has no RETURNING: the row is read back in
   * the upsert's transaction, which holds its lock, so no concurrent hit can come between the two.
   */
  async function upsertReadingBack(
    trx: Transaction<Database>,
    upsert: typeof upsertHit,
    key: string,
    now: number,
    windowMs: number,
  ): Promise<AttemptWindow> {
    await upsert({ key, now, resetAt: now + windowMs }, trx);
    return toAttemptWindow(key, (await selectRateLimitLocked({ key }, trx)).rows[0]);
  }

  /** Counts a hit and reads the window it left, as of this statement (not of a later one). */
  async function countHit(key: string, now: number, windowMs: number): Promise<AttemptWindow> {
    if (backend.upsert === "on-duplicate-key") {
      return db.transaction().execute((trx) => upsertReadingBack(trx, upsertHit, key, now, windowMs));
    }
    const { rows } = await upsertHit({ key, now, resetAt: now + windowMs });
    return toAttemptWindow(key, rows[0] as RateLimitRow | undefined);
  }

  /** The columns an update of the user writes. */
  function userValues(update: UserUpdate): Partial<UserRow> {
    const values: Partial<UserRow> = { updated_at: options.now() };
    if (update.name !== undefined) values.name = update.name;
    if (update.role !== undefined) values.role = update.role;
    if (update.passwordHash !== undefined) values.password_hash = update.passwordHash;
    if (update.email !== undefined) values.email = update.email;
    if (update.emailVerifiedAt !== undefined) values.email_verified_at = update.emailVerifiedAt?.getTime() ?? null;
    if (update.bannedAt !== undefined) values.banned_at = update.bannedAt?.getTime() ?? null;
    if (update.banReason !== undefined) values.ban_reason = update.banReason;
    return values;
  }

  /**
   * Refuses, with `LastAdminError`, a write that takes `userId` out of the unbanned users of `keep.role` when
   * they are the last one. Locks those users first, for the rest of `trx`: of two admins demoting or banning each
   * other at once, the second waits for the first and then counts without it. Run before any other write of
   * `trx`, so that every such transaction takes its locks in one order.
   */
  async function keepingAdmin(trx: Transaction<Database>, userId: string, keep: KeepAdmin): Promise<void> {
    // Whether a row is the user is decided by the database, with the collation its update of the user uses.
    let holders = trx
      .selectFrom(USERS)
      .select(["role", sql<number>`case when ${sql.ref("id")} = ${userId} then 1 else 0 end`.as("is_user")])
      .where("role", "=", keep.role)
      .where("banned_at", "is", null)
      .orderBy("id");
    if (backend.rowLocks === "for-update") {
      holders = holders.forUpdate();
    } else {
      // An update that changes nothing takes SQLite's write lock before the read, as lockUser does.
      await trx
        .updateTable(USERS)
        .set((eb) => ({ updated_at: eb.ref("updated_at") }))
        .where("role", "=", keep.role)
        .execute();
    }
    // The role compared here too: a case-insensitive collation (MySQL's) would count an "ADMIN" as an "admin".
    const rows = (await holders.execute()).filter((row) => row.role === keep.role);
    if (rows.length > 0 && rows.every((row) => Number(row.is_user) === 1)) throw new LastAdminError();
  }

  /** Runs `change` and, only if it changed a row, writes `effects` with it, as one transaction. */
  async function changeWithEffects(change: CompiledQuery, changeEffects: Effects | undefined): Promise<boolean> {
    const writes = effects.queries(changeEffects);
    if (writes.length === 0) return Number((await db.executeQuery(change)).numAffectedRows ?? 0) > 0;
    if (backend.batchIfChanged) return backend.batchIfChanged(change, writes);
    return retryingDeadlocks(() =>
      db.transaction().execute(async (trx) => {
        if (Number((await trx.executeQuery(change)).numAffectedRows ?? 0) === 0) return false;
        for (const write of writes) await trx.executeQuery(write);
        return true;
      }),
    );
  }

  /** The sweep of a log-in's new session: the user's other sessions that are dead. */
  function sweepQuery(userId: string, except: string, dead: DeadSessions): CompiledQuery {
    return deleteDeadSessions.bind({
      userId,
      except,
      now: dead.now,
      idleBefore: dead.now - dead.idleTimeoutMs,
      createdBefore: dead.now - dead.absoluteMaxAgeMs,
      epoch: dead.epoch,
    });
  }

  /** Moves the session kept by an end of sessions to `epoch`: only a record that was alive (of the epoch before). */
  async function moveToEpoch(trx: Transaction<Database>, userId: string, keep: string, epoch: number): Promise<void> {
    await trx
      .updateTable(SESSIONS)
      .set({ revocation_epoch: epoch })
      .where("id", "=", keep)
      .where("user_id", "=", userId)
      .where("revocation_epoch", "=", epoch - 1)
      .execute();
  }

  /** Runs writes that belong together in one transaction: the backend's own way, or a Kysely transaction. */
  /** Each query's rows, in order. */
  function batch(queries: readonly CompiledQuery[]): Promise<unknown[][]> {
    if (backend.batch) return backend.batch(queries);
    return retryingDeadlocks(() =>
      db.transaction().execute(async (trx) => {
        const rows: unknown[][] = [];
        for (const query of queries) rows.push([...(await trx.executeQuery(query)).rows]);
        return rows;
      }),
    );
  }

  /**
   * The statements that settle reserved attempts and clear counters, in the order of their keys: two
   * transactions that lock the same counters then lock them in the same order, so they cannot deadlock.
   */
  function settleStatements(
    attempts: readonly ReservedAttempt[],
    failed: boolean,
    clear: readonly string[] = [],
  ): Array<{ key: string; query: CompiledQuery }> {
    const settle = failed ? settleFailed : settleReleased;
    return [
      ...attempts.map(({ key, resetAt }) => ({ key, query: settle.bind({ key, resetAt }) })),
      ...clear.map((key) => ({ key, query: clearRateLimit.bind({ key }) })),
    ].sort((a, b) => compareKeys(a.key, b.key));
  }

  /** A new session's statements: its insert, and with `sweep` the delete of the user's dead sessions. */
  function sessionStatements(session: SessionRecord, sweep: DeadSessions | undefined): CompiledQuery[] {
    const insert = insertSession.bind(toSessionRow(session));
    return sweep ? [insert, sweepQuery(session.userId, session.id, sweep)] : [insert];
  }

  /**
   * Runs a transaction again when the database chose it as a deadlock's victim (it was rolled back whole, so
   * running it again is safe); a few times, then the error stands.
   */
  async function retryingDeadlocks<T>(transaction: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await transaction();
      } catch (error) {
        if (attempt >= 3 || !backend.isDeadlock?.(error)) throw error;
      }
    }
  }

  /** Runs a write that may give the user another's email: a unique violation then is `EmailTakenError`. */
  async function writingEmail<T>(update: UserUpdate, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (update.email !== undefined && backend.isUniqueViolation(error)) throw new EmailTakenError();
      throw error;
    }
  }

  /** Inserts a user with `executor`: the store's connection, or a transaction that writes more with it. */
  async function insertUser(executor: Kysely<Database>, user: NewUser): Promise<UserRecord> {
    const now = options.now();
    const row = {
      id: user.id,
      email: user.email,
      name: user.name,
      role: user.role,
      password_hash: user.passwordHash ?? NO_PASSWORD,
      email_verified_at: user.emailVerifiedAt?.getTime() ?? null,
      created_at: now,
      updated_at: now,
    };
    await executor.insertInto(USERS).values(row).execute();
    return toUserRecord({
      ...row,
      session_version: 0,
      revocation_epoch: 0,
      totp_enabled: 0,
      banned_at: null,
      ban_reason: null,
    });
  }

  const store: Store = {
    migrate: () => failClosed(migrate, undefined),

    ...createKyselyIdentityStore(db, {
      guard,
      isUniqueViolation: (error) => backend.isUniqueViolation(error),
      retryingDeadlocks,
      insertUser,
      effects,
    }),

    ...createKyselyFactorStore(db, {
      guard,
      isUniqueViolation: (error) => backend.isUniqueViolation(error),
      retryingDeadlocks,
      effects,
      changeWithEffects,
    }),

    ...createKyselyAuditStore(db, { guard, effects, batch }),

    ...createKyselyMailStore(db, { guard, effects, batch, changeWithEffects, now: options.now }),

    createUser: (user: NewUser, createOptions = {}) =>
      guard(async () => {
        try {
          if (!hasEffects(createOptions.effects)) return await insertUser(db, user);
          return await retryingDeadlocks(() =>
            db.transaction().execute(async (trx) => {
              const created = await insertUser(trx, user);
              await effects.write(trx, createOptions.effects);
              return created;
            }),
          );
        } catch (error) {
          if (backend.isUniqueViolation(error)) throw new EmailTakenError();
          throw error;
        }
      }),

    getUserById: (id) =>
      guard(async () => {
        const row = await lookupUserById.first({ id });
        return row ? toUserRecord(row) : null;
      }),

    getUserByEmail: (email) =>
      guard(async () => {
        const row = await lookupUserByEmail.first({ email });
        return row ? toUserRecord(row) : null;
      }),

    listUsers: () =>
      guard(async () => {
        const rows = await db.selectFrom(USERS).selectAll().orderBy("created_at").orderBy("id").execute();
        return rows.map(toUserRecord);
      }),

    searchUsers: ({ query, cursor, limit }) =>
      guard(async () => {
        let select = db.selectFrom(USERS).select(userColumns);
        if (query !== "") {
          // `!` escapes LIKE's wildcards: unlike a backslash, it means the same in every dialect's string syntax.
          const pattern = `%${query.replace(/[!%_]/g, (c) => `!${c}`)}%`;
          const contains = (column: "email" | "name") =>
            sql<boolean>`lower(${sql.ref(column)}) like lower(${pattern}) escape '!'`;
          select = select.where((eb) => eb.or([contains("email"), contains("name")]));
        }
        // Keyset pages on the email (unique): a page starts after the last address of the one before.
        if (cursor !== null) select = select.where("email", ">", decodeUserCursor(cursor));
        const rows = await select
          .orderBy("email")
          .limit(limit + 1)
          .execute();
        const page = rows.slice(0, limit);
        const last = page.at(-1);
        return {
          users: page.map(toUserRecord),
          nextCursor: rows.length > limit && last ? Buffer.from(last.email, "utf8").toString("base64url") : null,
        };
      }),

    updateUser: (id, update: UserUpdate, updateOptions = {}) =>
      guard(() =>
        writingEmail(update, () =>
          retryingDeadlocks(() =>
            db.transaction().execute(async (trx) => {
              const { keepAdmin, ifPasswordHash } = updateOptions;
              if (keepAdmin && leavesRole(update, keepAdmin)) await keepingAdmin(trx, id, keepAdmin);
              let query = trx.updateTable(USERS).set(userValues(update)).where("id", "=", id);
              if (ifPasswordHash !== undefined) query = query.where("password_hash", "=", ifPasswordHash);
              const result = await query.executeTakeFirst();
              if (Number(result.numUpdatedRows) === 0) return null;
              const row = await trx
                .selectFrom(USERS)
                .select(userColumns)
                .where("id", "=", id)
                .executeTakeFirstOrThrow();
              await effects.write(trx, updateOptions.effects);
              return toUserRecord(row);
            }),
          ),
        ),
      ),

    bumpSessionVersion: (userId, bumpOptions = {}) =>
      guard(() =>
        retryingDeadlocks(() =>
          db.transaction().execute(async (trx) => {
            const result = await trx
              .updateTable(USERS)
              .set((eb) => ({ session_version: eb("session_version", "+", 1), updated_at: options.now() }))
              .where("id", "=", userId)
              .executeTakeFirst();
            if (Number(result.numUpdatedRows) === 0) return null;
            const row = await trx
              .selectFrom(USERS)
              .select("session_version")
              .where("id", "=", userId)
              .executeTakeFirstOrThrow();
            await effects.write(trx, bumpOptions.effects);
            return Number(row.session_version);
          }),
        ),
      ),

    endSessions: (userId, endOptions = {}) =>
      guard(() =>
        writingEmail(endOptions.update ?? {}, () =>
          retryingDeadlocks(() =>
            db.transaction().execute(async (trx) => {
              const { keep, ifEpoch, keepAdmin } = endOptions;
              if (keepAdmin && leavesRole(endOptions.update ?? {}, keepAdmin)) {
                await keepingAdmin(trx, userId, keepAdmin);
              }
              let move = trx
                .updateTable(USERS)
                .set((eb) => ({
                  ...userValues(endOptions.update ?? {}),
                  revocation_epoch: eb("revocation_epoch", "+", 1),
                }))
                .where("id", "=", userId);
              if (ifEpoch !== undefined) move = move.where("revocation_epoch", "=", ifEpoch);
              const moved = await move.executeTakeFirst();
              if (Number(moved.numUpdatedRows) === 0) return null;
              const { revocation_epoch } = await trx
                .selectFrom(USERS)
                .select("revocation_epoch")
                .where("id", "=", userId)
                .executeTakeFirstOrThrow();
              const epoch = Number(revocation_epoch);
              let sessions = trx.deleteFrom(SESSIONS).where("user_id", "=", userId);
              if (keep !== undefined) sessions = sessions.where("id", "!=", keep);
              const ended = await sessions.executeTakeFirst();
              if (keep !== undefined) await moveToEpoch(trx, userId, keep, epoch);
              await trx
                .deleteFrom(TOKENS)
                .where("user_id", "=", userId)
                .where("purpose", "in", ["change_email", "reset_password"])
                .execute();
              const { reclaim } = endOptions;
              if (reclaim) {
                await deleteUnprovenIdentities(trx, userId, reclaim.unproven ? reclaim.email : undefined);
                if (reclaim.unproven) {
                  await deleteFactorRows(trx, userId);
                  await trx.updateTable(USERS).set({ totp_enabled: 0 }).where("id", "=", userId).execute();
                }
              }
              await effects.write(trx, endOptions.effects);
              return { ended: Number(ended.numDeletedRows), epoch };
            }),
          ),
        ),
      ),

    deleteUser: (id, deleteOptions = {}) =>
      guard(() =>
        retryingDeadlocks(() =>
          db.transaction().execute(async (trx) => {
            if (deleteOptions.keepAdmin) await keepingAdmin(trx, id, deleteOptions.keepAdmin);
            await trx.deleteFrom(SESSIONS).where("user_id", "=", id).execute();
            await trx.deleteFrom(TOKENS).where("user_id", "=", id).execute();
            await deleteFactorRows(trx, id);
            await deleteIdentityRows(trx, id);
            const result = await trx.deleteFrom(USERS).where("id", "=", id).executeTakeFirst();
            if (Number(result.numDeletedRows) === 0) return false;
            // The user's events stay (the log outlives the account); the deletion's own are written with it.
            await effects.write(trx, deleteOptions.effects);
            return true;
          }),
        ),
      ),

    createToken: (token: TokenRecord, tokenOptions) =>
      guard(() =>
        db.transaction().execute(async (trx) => {
          if (tokenOptions.replace) {
            // Two replacing writes for one user at once would each miss the other's uncommitted token (read
            // committed) and leave both valid: the user's row serialises them. SQLite's delete takes its write
            // lock already.
            if (backend.rowLocks === "for-update")
              await trx.selectFrom(USERS).select("id").where("id", "=", token.userId).forUpdate().execute();
            await trx
              .deleteFrom(TOKENS)
              .where("user_id", "=", token.userId)
              .where("purpose", "=", token.purpose)
              .execute();
          }
          await trx
            .insertInto(TOKENS)
            .values({
              token_hash: token.tokenHash,
              purpose: token.purpose,
              user_id: token.userId,
              email: token.email,
              revocation_epoch: token.revocationEpoch,
              created_at: token.createdAt.getTime(),
              expires_at: token.expiresAt.getTime(),
            })
            .execute();
          await effects.write(trx, tokenOptions.effects);
        }),
      ),

    consumeToken: (tokenHash, purposes: readonly TokenPurpose[]) =>
      guard(async () => {
        if (purposes.length === 0) return null;
        const row = await db
          .selectFrom(TOKENS)
          .selectAll()
          .where("token_hash", "=", tokenHash)
          .where("purpose", "in", purposes)
          .executeTakeFirst();
        if (!row) return null;
        // The delete decides: of two concurrent consumers, only the one that deleted the row may use it.
        const deleted = await db.deleteFrom(TOKENS).where("token_hash", "=", tokenHash).executeTakeFirst();
        return Number(deleted.numDeletedRows) === 1 ? toTokenRecord(row) : null;
      }),

    deleteUserTokens: (userId, purpose, deleteOptions) =>
      guard(async () => {
        let query = db.deleteFrom(TOKENS).where("user_id", "=", userId).where("purpose", "=", purpose);
        if (deleteOptions?.except !== undefined) query = query.where("token_hash", "!=", deleteOptions.except);
        const result = await query.executeTakeFirst();
        return Number(result.numDeletedRows);
      }),

    createSession: (session: SessionRecord, createOptions = {}) =>
      guard(async () => {
        const statements = sessionStatements(session, createOptions.sweep);
        // The insert's gap lock and the sweep meet the locks of a concurrent endSessions on the user's
        // sessions: MySQL may roll either back, and a rolled-back write is safe to run again.
        if (statements.length === 1) await retryingDeadlocks(() => db.executeQuery(statements[0] as CompiledQuery));
        else await batch(statements);
      }),

    async writeBatch() {
      let settles: CompiledQuery[] = [];
      let others: CompiledQuery[] = [];
      return {
        settleAttempts(attempts, failed, settleOptions = {}) {
          settles.push(...settleStatements(attempts, failed, settleOptions.clear).map(({ query }) => query));
        },
        createSession(session, createOptions = {}) {
          others.push(...sessionStatements(session, createOptions.sweep));
        },
        record(batchEffects) {
          others.push(...effects.queries(batchEffects));
        },
        commit() {
          const [counters, rest] = [settles, others];
          [settles, others] = [[], []];
          if (counters.length + rest.length === 0) return Promise.resolve();
          return guard(async () => {
            try {
              await batch([...counters, ...rest]);
            } catch (error) {
              // Rolled back whole: the counters are settled on their own, or a right password's attempts would
              // stay counted and in flight until their window ends. A store too broken for that leaves them
              // counted, the safe side.
              if (counters.length > 0 && rest.length > 0) await batch(counters).catch(() => undefined);
              throw error;
            }
          });
        },
      };
    },

    getSession: (sessionId) =>
      guard(async () => {
        const row = (await selectSession({ id: sessionId })).rows[0];
        return row ? toSessionRecord(row) : null;
      }),

    getSessionAndUser: (sessionId) =>
      guard(async () => {
        const row = await lookupSessionAndUser.first({ id: sessionId });
        if (!row) return null;
        return {
          session: toSessionRecord({
            id: row.s_id,
            user_id: row.s_user_id,
            secret_hash: row.s_secret_hash,
            user_version: row.s_user_version,
            revocation_epoch: row.revocation_epoch,
            created_at: row.s_created_at,
            expires_at: row.s_expires_at,
            last_seen_at: row.s_last_seen_at,
            user_agent: row.s_user_agent,
            ip: row.s_ip,
            impersonated_by: row.s_impersonated_by,
            impersonator_epoch: row.s_impersonator_epoch,
          }),
          user: toUserRecord(row),
        };
      }),

    listUserSessions: (userId) =>
      guard(async () => {
        const { rows } = await selectUserSessions({ userId });
        return rows.map(toSessionRecord);
      }),

    touchSession: (sessionId, update) =>
      guard(async () => {
        await updateSessionActivity({
          id: sessionId,
          lastSeenAt: update.lastSeenAt.getTime(),
          expiresAt: update.expiresAt.getTime(),
        });
      }),

    deleteSession: (sessionId, deleteOptions = {}) =>
      guard(() => changeWithEffects(deleteSessionById.bind({ id: sessionId }), deleteOptions.effects)),

    deleteUserSessions: (userId, deleteOptions = {}) =>
      guard(() =>
        db.transaction().execute(async (trx) => {
          const { keep, epoch } = deleteOptions;
          let sessions = trx.deleteFrom(SESSIONS).where("user_id", "=", userId);
          if (keep !== undefined) sessions = sessions.where("id", "!=", keep);
          const ended = await sessions.executeTakeFirst();
          if (keep !== undefined && epoch !== undefined) await moveToEpoch(trx, userId, keep, epoch);
          return Number(ended.numDeletedRows);
        }),
      ),

    hitRateLimit: (key, windowMs, now) =>
      guard(async () => {
        const { count, resetAt } = await countHit(key, now, windowMs);
        return { count, resetAt };
      }),

    // In the order of their keys, like settling (see settleStatements): transactions that lock the same counters
    // lock them in one order and cannot deadlock. The answers go back in the order asked.
    reserveAttempts: (requests, now) =>
      guard(async () => {
        const order = requests.map((_, i) => i).sort((a, b) => compareKeys(requests[a]?.key, requests[b]?.key));
        const sorted = order.map((i) => requests[i] as AttemptRequest);
        let windows: AttemptWindow[];
        if (backend.upsert === "on-duplicate-key") {
          windows = await retryingDeadlocks(() =>
            db.transaction().execute(async (trx) => {
              const read: AttemptWindow[] = [];
              for (const { key, windowMs } of sorted) {
                read.push(await upsertReadingBack(trx, upsertAttempt, key, now, windowMs));
              }
              return read;
            }),
          );
        } else {
          const upserts = sorted.map(({ key, windowMs }) => upsertAttempt.bind({ key, now, resetAt: now + windowMs }));
          const rows = await batch(upserts);
          windows = sorted.map(({ key }, i) => toAttemptWindow(key, rows[i]?.[0] as RateLimitRow | undefined));
        }
        const answers: AttemptWindow[] = new Array(requests.length);
        order.forEach((original, i) => {
          answers[original] = windows[i] as AttemptWindow;
        });
        return answers;
      }),

    // One transaction of single-row statements (see settleStatements). Counters stay as rows at 0 rather than
    // being deleted and made again by the next attempt (dearer); the sweep removes them once their window has
    // ended.
    settleAttempts: (attempts, failed, settleOptions = {}) =>
      guard(async () => {
        const statements = settleStatements(attempts, failed, settleOptions.clear);
        if (statements.length === 0) return;
        if (statements.length === 1) await db.executeQuery((statements[0] as { query: CompiledQuery }).query);
        else await batch(statements.map(({ query }) => query));
      }),

    sweepExpired: (now, sweepOptions = {}) =>
      guard(async () => {
        await db.deleteFrom(LIMITS).where("reset_at", "<=", now).execute();
        await db
          .deleteFrom(TOKENS)
          .where("expires_at", "<=", now - EXPIRED_TOKEN_GRACE_MS)
          .execute();
        await db.deleteFrom(SESSIONS).where("expires_at", "<=", now).execute();
        await sweepChallenges(db, now);
        await sweepSentMail(db, now);
        if (sweepOptions.eventsBefore !== undefined) await deleteEventsBefore(db, sweepOptions.eventsBefore);
      }),

    peekRateLimit: (key, now) =>
      guard(async () => {
        const row = await db.selectFrom(LIMITS).select(["count", "reset_at"]).where("key", "=", key).executeTakeFirst();
        return row && Number(row.reset_at) > now ? toWindow(row) : null;
      }),

    resetRateLimit: (key) =>
      guard(async () => {
        await deleteRateLimit({ key });
      }),

    resetRateLimitFamily: (prefix) =>
      guard(async () => {
        // A plain comparison of the key's start, not LIKE: no wildcards to escape, and the same case rules as
        // the key itself on every dialect.
        const family = `${prefix}:`;
        await db
          .deleteFrom(LIMITS)
          .where((eb) =>
            eb.or([
              eb("key", "=", prefix),
              eb(eb.fn<string>("substr", [eb.ref("key"), eb.val(1), eb.val(family.length)]), "=", family),
            ]),
          )
          .execute();
      }),

    // After an outage the MySQL pool reports the connections that never opened; there is nothing left to
    // release then, so closing still succeeds.
    close: () => db.destroy().catch(() => undefined),
  };
  return store;
}

/** Whether `update` takes a user out of the unbanned users of `keep.role`: a demotion or a ban. */
function leavesRole(update: UserUpdate, keep: KeepAdmin): boolean {
  return (update.role !== undefined && update.role !== keep.role) || (update.bannedAt ?? null) !== null;
}

/**
 * The email a search cursor names. A cursor this store did not make (not base64url, not text, a control
 * character such as the NUL byte PostgreSQL refuses in text) is bad input, not a store failure.
 */
function decodeUserCursor(cursor: string): string {
  const email = Buffer.from(cursor, "base64url").toString("utf8");
  if (email === "" || Buffer.from(email, "utf8").toString("base64url") !== cursor || /[\p{Cc}\uFFFD]/u.test(email))
    throw new InvalidInputError({ cursor: { code: "invalid", message: "This cursor is not one a page gave." } });
  return email;
}

/** The one order in which a transaction locks counters. */
function compareKeys(a: string | undefined, b: string | undefined): number {
  return a === b ? 0 : (a ?? "") < (b ?? "") ? -1 : 1;
}

function toAttemptWindow(key: string, row: RateLimitRow | undefined): AttemptWindow {
  if (!row) throw new Error(`the rate-limit counter ${key} vanished`);
  return { ...toWindow(row), pending: Number(row.pending) };
}

function toWindow(row: { count: number; reset_at: number }): RateLimitWindow {
  return { count: Number(row.count), resetAt: Number(row.reset_at) };
}

function toUserRecord(row: UserRow): UserRecord {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    passwordHash: row.password_hash === NO_PASSWORD ? null : row.password_hash,
    emailVerifiedAt: row.email_verified_at === null ? null : new Date(Number(row.email_verified_at)),
    totpEnabled: Number(row.totp_enabled) === 1,
    bannedAt: row.banned_at === null ? null : new Date(Number(row.banned_at)),
    banReason: row.ban_reason,
    sessionVersion: Number(row.session_version),
    revocationEpoch: Number(row.revocation_epoch),
    createdAt: new Date(Number(row.created_at)),
    updatedAt: new Date(Number(row.updated_at)),
  };
}

function toSessionRow(session: SessionRecord): SessionRow {
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

/** Numbers are converted because PostgreSQL's driver returns BIGINT columns as strings. */
function toSessionRecord(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    userId: row.user_id,
    secretHash: row.secret_hash,
    userVersion: Number(row.user_version),
    revocationEpoch: Number(row.revocation_epoch),
    createdAt: new Date(Number(row.created_at)),
    expiresAt: new Date(Number(row.expires_at)),
    lastSeenAt: new Date(Number(row.last_seen_at)),
    userAgent: row.user_agent,
    ip: row.ip,
    impersonatedBy: row.impersonated_by,
    impersonatorEpoch: row.impersonator_epoch === null ? null : Number(row.impersonator_epoch),
  };
}

function toTokenRecord(row: TokenRow): TokenRecord {
  return {
    tokenHash: row.token_hash,
    purpose: row.purpose as TokenPurpose,
    userId: row.user_id,
    email: row.email,
    revocationEpoch: Number(row.revocation_epoch),
    createdAt: new Date(Number(row.created_at)),
    expiresAt: new Date(Number(row.expires_at)),
  };
}

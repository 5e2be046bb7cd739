import type { Kysely, Selectable } from "kysely";
import { EmailTakenError, isGatehouseError, StoreUnavailableError } from "../errors.js";
import type { NewUser, SessionRecord, Store, UserRecord, UserUpdate } from "../store/types.js";
import { migrateToLatest } from "./migrations.js";
import type { Database } from "./schema.js";

type UserRow = Selectable<Database["gatehouse_users"]>;
type SessionRow = Selectable<Database["gatehouse_sessions"]>;

/** What differs between SQL backends: how to recognise a unique-constraint violation. */
export interface SqlDialectTraits {
  isUniqueViolation(error: unknown): boolean;
}

/**
 * The store shared by every SQL backend: the same Kysely queries on SQLite, PostgreSQL and MySQL.
 * Failures that are not the caller's fault surface as `StoreUnavailableError`, so requests fail closed (503).
 */
export function createKyselyStore(db: Kysely<Database>, traits: SqlDialectTraits, options: { autoMigrate: boolean }): Store {
  const users = "gatehouse_users" as const;
  const sessions = "gatehouse_sessions" as const;
  const migrate = () => migrateToLatest(db as unknown as Kysely<unknown>);
  let ready: Promise<void> | undefined = options.autoMigrate ? undefined : Promise.resolve();

  async function guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      // A failed migration is retried by the next call rather than cached forever.
      await (ready ??= migrate().catch((error: unknown) => {
        ready = undefined;
        throw error;
      }));
      return await operation();
    } catch (error) {
      if (isGatehouseError(error)) throw error;
      throw new StoreUnavailableError({ cause: error });
    }
  }

  const store: Store = {
    migrate,

    createUser: (user: NewUser) =>
      guard(async () => {
        const now = Date.now();
        const row = { ...toUserInsert(user), created_at: now, updated_at: now };
        try {
          await db.insertInto(users).values(row).execute();
        } catch (error) {
          if (traits.isUniqueViolation(error)) throw new EmailTakenError();
          throw error;
        }
        return toUserRecord({ ...row, session_version: 0 });
      }),

    getUserById: (id) =>
      guard(async () => {
        const row = await db.selectFrom(users).selectAll().where("id", "=", id).executeTakeFirst();
        return row ? toUserRecord(row) : null;
      }),

    getUserByEmail: (email) =>
      guard(async () => {
        const row = await db.selectFrom(users).selectAll().where("email", "=", email).executeTakeFirst();
        return row ? toUserRecord(row) : null;
      }),

    listUsers: () =>
      guard(async () => {
        const rows = await db.selectFrom(users).selectAll().orderBy("created_at").orderBy("id").execute();
        return rows.map(toUserRecord);
      }),

    updateUser: (id, update: UserUpdate) =>
      guard(async () => {
        const values: Partial<UserRow> = { updated_at: Date.now() };
        if (update.name !== undefined) values.name = update.name;
        if (update.role !== undefined) values.role = update.role;
        if (update.passwordHash !== undefined) values.password_hash = update.passwordHash;
        const result = await db.updateTable(users).set(values).where("id", "=", id).executeTakeFirst();
        if (Number(result.numUpdatedRows) === 0) return null;
        return store.getUserById(id);
      }),

    bumpSessionVersion: (userId) =>
      guard(async () => {
        const result = await db
          .updateTable(users)
          .set((eb) => ({ session_version: eb("session_version", "+", 1), updated_at: Date.now() }))
          .where("id", "=", userId)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) === 0) return null;
        const row = await db.selectFrom(users).select("session_version").where("id", "=", userId).executeTakeFirst();
        return row ? Number(row.session_version) : null;
      }),

    deleteUser: (id) =>
      guard(async () => {
        await db.deleteFrom(sessions).where("user_id", "=", id).execute();
        const result = await db.deleteFrom(users).where("id", "=", id).executeTakeFirst();
        return Number(result.numDeletedRows) > 0;
      }),

    createSession: (session: SessionRecord) =>
      guard(async () => {
        await db
          .insertInto(sessions)
          .values({
            id: session.id,
            user_id: session.userId,
            secret_hash: session.secretHash,
            created_at: session.createdAt.getTime(),
            expires_at: session.expiresAt.getTime(),
            user_agent: session.userAgent,
            ip: session.ip,
          })
          .execute();
      }),

    getSessionAndUser: (sessionId) =>
      guard(async () => {
        const row = await db
          .selectFrom(sessions)
          .innerJoin(users, `${users}.id`, `${sessions}.user_id`)
          .select([
            `${sessions}.id as s_id`,
            `${sessions}.user_id as s_user_id`,
            `${sessions}.secret_hash as s_secret_hash`,
            `${sessions}.created_at as s_created_at`,
            `${sessions}.expires_at as s_expires_at`,
            `${sessions}.user_agent as s_user_agent`,
            `${sessions}.ip as s_ip`,
            `${users}.id`,
            `${users}.email`,
            `${users}.name`,
            `${users}.role`,
            `${users}.password_hash`,
            `${users}.session_version`,
            `${users}.created_at`,
            `${users}.updated_at`,
          ])
          .where(`${sessions}.id`, "=", sessionId)
          .executeTakeFirst();
        if (!row) return null;
        return {
          session: toSessionRecord({
            id: row.s_id,
            user_id: row.s_user_id,
            secret_hash: row.s_secret_hash,
            created_at: row.s_created_at,
            expires_at: row.s_expires_at,
            user_agent: row.s_user_agent,
            ip: row.s_ip,
          }),
          user: toUserRecord(row),
        };
      }),

    updateSessionExpiry: (sessionId, expiresAt) =>
      guard(async () => {
        await db.updateTable(sessions).set({ expires_at: expiresAt.getTime() }).where("id", "=", sessionId).execute();
      }),

    deleteSession: (sessionId) =>
      guard(async () => {
        await db.deleteFrom(sessions).where("id", "=", sessionId).execute();
      }),

    deleteUserSessions: (userId) =>
      guard(async () => {
        await db.deleteFrom(sessions).where("user_id", "=", userId).execute();
      }),

    close: () => db.destroy(),
  };
  return store;
}

function toUserInsert(user: NewUser) {
  return { id: user.id, email: user.email, name: user.name, role: user.role, password_hash: user.passwordHash };
}

function toUserRecord(row: UserRow): UserRecord {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    passwordHash: row.password_hash,
    sessionVersion: Number(row.session_version),
    createdAt: new Date(Number(row.created_at)),
    updatedAt: new Date(Number(row.updated_at)),
  };
}

function toSessionRecord(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    userId: row.user_id,
    secretHash: row.secret_hash,
    createdAt: new Date(Number(row.created_at)),
    expiresAt: new Date(Number(row.expires_at)),
    userAgent: row.user_agent,
    ip: row.ip,
  };
}

import type { Kysely, Selectable, Transaction } from "kysely";
import { sha256Hex } from "../crypto/digest.js";
import { EmailTakenError } from "../errors.js";
import type { EffectWriter } from "./kysely-effects.js";
import type { Database } from "./schema.js";
import type { IdentityRecord, IdentityStore, NewUser, UserRecord } from "./types.js";

type IdentityRow = Selectable<Database["gatehouse_identities"]>;

const USERS = "gatehouse_users";
const IDENTITIES = "gatehouse_identities";
const PASSKEYS = "gatehouse_passkeys";

/** The `password_hash` of an account without a password: the column is NOT NULL (see migration 0006). */
export const NO_PASSWORD = "";

/** What the identity queries need of the SQL store around them. */
export interface IdentityStoreParts {
  /** Runs a store call so that it fails closed, once the schema is ready. */
  guard<T>(operation: () => Promise<T>): Promise<T>;
  isUniqueViolation(error: unknown): boolean;
  /** Runs a transaction again when it was chosen as a deadlock's victim. */
  retryingDeadlocks<T>(transaction: () => Promise<T>): Promise<T>;
  /** Inserts a user in `trx` (a unique violation rejects as the driver's error) and returns its record. */
  insertUser(executor: Kysely<Database>, user: NewUser): Promise<UserRecord>;
  /** Writes a change's events and mail in its transaction. */
  effects: EffectWriter;
}

/** Deletes the user's identities in `trx`: part of deleting the user. */
export async function deleteIdentityRows(trx: Transaction<Database>, userId: string): Promise<void> {
  await trx.deleteFrom(IDENTITIES).where("user_id", "=", userId).execute();
}

/**
 * Deletes the user's identities whose provider email was unverified, in `trx`; with `verifiedFor`, all but those
 * whose provider verified exactly that address. Part of a password reset's {@link Reclaim}.
 */
export async function deleteUnprovenIdentities(
  trx: Transaction<Database>,
  userId: string,
  verifiedFor?: string,
): Promise<void> {
  await trx
    .deleteFrom(IDENTITIES)
    .where("user_id", "=", userId)
    .where((eb) =>
      verifiedFor === undefined
        ? eb("email_verified", "=", 0)
        : eb.or([eb("email_verified", "=", 0), eb("email", "is", null), eb("email", "!=", verifiedFor)]),
    )
    .execute();
}

/** The stored key of (provider, subject): provider ids hold no `:`, so no two pairs share one. */
function identityKey(provider: string, subject: string): string {
  return sha256Hex(`identity:${provider}:${subject}`);
}

function toIdentityRecord(row: IdentityRow): IdentityRecord {
  return {
    provider: row.provider,
    subject: row.subject,
    userId: row.user_id,
    email: row.email,
    emailVerified: Number(row.email_verified) === 1,
    sealedTokens: row.tokens,
    createdAt: new Date(Number(row.created_at)),
  };
}

function toIdentityRow(identity: IdentityRecord): IdentityRow {
  return {
    identity_key: identityKey(identity.provider, identity.subject),
    provider: identity.provider,
    subject: identity.subject,
    user_id: identity.userId,
    email: identity.email,
    email_verified: identity.emailVerified ? 1 : 0,
    tokens: identity.sealedTokens,
    created_at: identity.createdAt.getTime(),
  };
}

/**
 * Locks the user's row for the rest of `trx` with an update that changes nothing (portable, unlike
 * `FOR UPDATE`, which SQLite lacks): concurrent changes of the user's ways to sign in run one after another.
 * `false` when there is no such user.
 */
export async function lockUser(trx: Transaction<Database>, userId: string): Promise<boolean> {
  const locked = await trx
    .updateTable(USERS)
    .set((eb) => ({ updated_at: eb.ref("updated_at") }))
    .where("id", "=", userId)
    .executeTakeFirst();
  return Number(locked.numUpdatedRows) > 0;
}

/** The {@link IdentityStore} of the SQL stores: the same Kysely queries on SQLite, PostgreSQL and MySQL/MariaDB. */
export function createKyselyIdentityStore(db: Kysely<Database>, parts: IdentityStoreParts): IdentityStore {
  const { guard, retryingDeadlocks, isUniqueViolation, effects } = parts;

  const findIdentity = (provider: string, subject: string) =>
    db.selectFrom(IDENTITIES).selectAll().where("identity_key", "=", identityKey(provider, subject)).executeTakeFirst();

  return {
    getIdentity: (provider, subject) =>
      guard(async () => {
        const row = await findIdentity(provider, subject);
        return row ? toIdentityRecord(row) : null;
      }),

    listIdentities: (userId) =>
      guard(async () => {
        const rows = await db
          .selectFrom(IDENTITIES)
          .selectAll()
          .where("user_id", "=", userId)
          .orderBy("created_at")
          .orderBy("provider")
          .execute();
        return rows.map(toIdentityRecord);
      }),

    createUserWithIdentity: (user, identity, createOptions = {}) =>
      guard(async () => {
        if (await findIdentity(identity.provider, identity.subject)) return null;
        try {
          return await retryingDeadlocks(() =>
            db.transaction().execute(async (trx) => {
              let created: UserRecord;
              try {
                created = await parts.insertUser(trx, user);
              } catch (error) {
                if (isUniqueViolation(error)) throw new EmailTakenError();
                throw error;
              }
              await trx
                .insertInto(IDENTITIES)
                .values(toIdentityRow({ ...identity, userId: created.id }))
                .execute();
              await effects.write(trx, createOptions.effects);
              return created;
            }),
          );
        } catch (error) {
          // A concurrent first sign-in of the same identity won: its user is the one.
          if (isUniqueViolation(error) && (await findIdentity(identity.provider, identity.subject))) return null;
          throw error;
        }
      }),

    linkIdentity: (identity, linkOptions = {}) =>
      guard(async () => {
        try {
          return await retryingDeadlocks(() =>
            db.transaction().execute(async (trx) => {
              if (!(await lockUser(trx, identity.userId))) return "no_user" as const;
              if (linkOptions.ifEpoch !== undefined) {
                const { revocation_epoch } = await trx
                  .selectFrom(USERS)
                  .select("revocation_epoch")
                  .where("id", "=", identity.userId)
                  .executeTakeFirstOrThrow();
                if (Number(revocation_epoch) !== linkOptions.ifEpoch) return "stale" as const;
              }
              const key = identityKey(identity.provider, identity.subject);
              const existing = await trx
                .selectFrom(IDENTITIES)
                .select("identity_key")
                .where((eb) =>
                  eb.or([
                    eb("identity_key", "=", key),
                    eb.and([eb("provider", "=", identity.provider), eb("user_id", "=", identity.userId)]),
                  ]),
                )
                .execute();
              if (existing.some((row) => row.identity_key === key)) return "taken" as const;
              if (existing.length > 0) return "provider_linked" as const;
              await trx.insertInto(IDENTITIES).values(toIdentityRow(identity)).execute();
              await effects.write(trx, linkOptions.effects);
              return "linked" as const;
            }),
          );
        } catch (error) {
          // Another user linked the same identity in the moment between: it is theirs.
          if (isUniqueViolation(error)) {
            return (await findIdentity(identity.provider, identity.subject)) ? "taken" : "provider_linked";
          }
          throw error;
        }
      }),

    setIdentityTokens: (provider, subject, sealedTokens) =>
      guard(async () => {
        await db
          .updateTable(IDENTITIES)
          .set({ tokens: sealedTokens })
          .where("identity_key", "=", identityKey(provider, subject))
          .execute();
      }),

    unlinkIdentity: (userId, provider, unlinkOptions = {}) =>
      guard(() =>
        retryingDeadlocks(() =>
          db.transaction().execute(async (trx) => {
            if (!(await lockUser(trx, userId))) return "not_found" as const;
            const identities = await trx
              .selectFrom(IDENTITIES)
              .select("provider")
              .where("user_id", "=", userId)
              .execute();
            if (!identities.some((row) => row.provider === provider)) return "not_found" as const;
            if (identities.length === 1) {
              const user = await trx
                .selectFrom(USERS)
                .select("password_hash")
                .where("id", "=", userId)
                .executeTakeFirstOrThrow();
              const passkey = await trx
                .selectFrom(PASSKEYS)
                .select("id")
                .where("user_id", "=", userId)
                .limit(1)
                .executeTakeFirst();
              if (user.password_hash === NO_PASSWORD && !passkey) return "last_method" as const;
            }
            await trx.deleteFrom(IDENTITIES).where("user_id", "=", userId).where("provider", "=", provider).execute();
            await effects.write(trx, unlinkOptions.effects);
            return "unlinked" as const;
          }),
        ),
      ),
  };
}

import type { CompiledQuery, Kysely, Selectable, Transaction } from "kysely";
import { sha256Hex } from "../crypto/digest.js";
import { type EffectWriter, hasEffects } from "./kysely-effects.js";
import { lockUser, NO_PASSWORD } from "./kysely-identities.js";
import type { Database } from "./schema.js";
import type { ChallengeRecord, Effects, FactorStore, PasskeyRecord, TotpRecord } from "./types.js";

type TotpRow = Selectable<Database["gatehouse_totp"]>;
type PasskeyRow = Selectable<Database["gatehouse_passkeys"]>;
type ChallengeRow = Selectable<Database["gatehouse_challenges"]>;

const USERS = "gatehouse_users";
const TOTP = "gatehouse_totp";
const CODES = "gatehouse_recovery_codes";
const PASSKEYS = "gatehouse_passkeys";
const CHALLENGES = "gatehouse_challenges";
const IDENTITIES = "gatehouse_identities";

/** What the factor queries need of the SQL store around them. */
export interface FactorStoreParts {
  /** Runs a store call so that it fails closed, once the schema is ready. */
  guard<T>(operation: () => Promise<T>): Promise<T>;
  isUniqueViolation(error: unknown): boolean;
  /** Runs a transaction again when it was chosen as a deadlock's victim. */
  retryingDeadlocks<T>(transaction: () => Promise<T>): Promise<T>;
  /** Writes a change's events and mail in its transaction. */
  effects: EffectWriter;
  /** Runs `change` and, only if it changed a row, writes `effects` with it, as one transaction. */
  changeWithEffects(change: CompiledQuery, effects: Effects | undefined): Promise<boolean>;
}

/** Deletes the user's factors, passkeys and challenges in `trx`: part of deleting the user. */
export async function deleteFactorRows(trx: Transaction<Database>, userId: string): Promise<void> {
  await trx.deleteFrom(CHALLENGES).where("user_id", "=", userId).execute();
  await trx.deleteFrom(CODES).where("user_id", "=", userId).execute();
  await trx.deleteFrom(PASSKEYS).where("user_id", "=", userId).execute();
  await trx.deleteFrom(TOTP).where("user_id", "=", userId).execute();
}

/** The user's `totp_enabled`, written in the transaction that turns TOTP on or off. */
async function setTotpFlag(trx: Transaction<Database>, userId: string, enabled: 0 | 1): Promise<void> {
  await trx.updateTable(USERS).set({ totp_enabled: enabled }).where("id", "=", userId).execute();
}

/** Deletes the challenges that have expired by `now`: part of the store's sweep. */
export async function sweepChallenges(db: Kysely<Database>, now: number): Promise<void> {
  await db.deleteFrom(CHALLENGES).where("expires_at", "<=", now).execute();
}

/** The {@link FactorStore} of the SQL stores: the same Kysely queries on SQLite, PostgreSQL and MySQL/MariaDB. */
export function createKyselyFactorStore(db: Kysely<Database>, parts: FactorStoreParts): FactorStore {
  const { guard, retryingDeadlocks, effects } = parts;

  /** A transaction run again (a few times) when a concurrent one inserted the same key first. */
  async function retryingUnique<T>(transaction: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await retryingDeadlocks(transaction);
      } catch (error) {
        if (attempt >= 3 || !parts.isUniqueViolation(error)) throw error;
      }
    }
  }

  async function insertCodes(trx: Transaction<Database>, userId: string, hashes: readonly string[], now: Date) {
    await trx.deleteFrom(CODES).where("user_id", "=", userId).execute();
    if (hashes.length === 0) return;
    await trx
      .insertInto(CODES)
      .values(hashes.map((code_hash) => ({ code_hash, user_id: userId, created_at: now.getTime() })))
      .execute();
  }

  /**
   * Locks the user's confirmed TOTP row for the rest of `trx` with an update that changes nothing (portable,
   * unlike `FOR UPDATE`, which SQLite lacks); `false` when TOTP is not on.
   */
  async function lockConfirmedTotp(trx: Transaction<Database>, userId: string): Promise<boolean> {
    const locked = await trx
      .updateTable(TOTP)
      .set((eb) => ({ created_at: eb.ref("created_at") }))
      .where("user_id", "=", userId)
      .where("confirmed_at", "is not", null)
      .executeTakeFirst();
    return Number(locked.numUpdatedRows) > 0;
  }

  const challengeRow = (idHash: string, purpose: string) =>
    db
      .selectFrom(CHALLENGES)
      .selectAll()
      .where("id_hash", "=", idHash)
      .where("purpose", "=", purpose)
      .executeTakeFirst();

  return {
    getFactorSummary: (userId) =>
      guard(async () => {
        // One round trip on every password log-in.
        const row = await db
          .selectNoFrom((eb) => [
            eb
              .selectFrom(TOTP)
              .select((s) => s.fn.countAll<number>().as("n"))
              .where("user_id", "=", userId)
              .where("confirmed_at", "is not", null)
              .as("totp"),
            eb
              .selectFrom(PASSKEYS)
              .select((s) => s.fn.countAll<number>().as("n"))
              .where("user_id", "=", userId)
              .as("passkeys"),
            eb
              .selectFrom(CODES)
              .select((s) => s.fn.countAll<number>().as("n"))
              .where("user_id", "=", userId)
              .as("codes"),
          ])
          .executeTakeFirstOrThrow();
        return {
          totp: Number(row.totp) > 0,
          passkeys: Number(row.passkeys),
          recoveryCodes: Number(row.codes),
        };
      }),

    getTotp: (userId) =>
      guard(async () => {
        const row = await db.selectFrom(TOTP).selectAll().where("user_id", "=", userId).executeTakeFirst();
        return row ? toTotpRecord(row) : null;
      }),

    saveTotpSetup: (userId, sealedSecret, createdAt) =>
      guard(() =>
        retryingUnique(() =>
          db.transaction().execute(async (trx) => {
            // The user's row is locked first (an update that changes nothing), so setups of one user queue up
            // rather than collide on the insert; it also takes SQLite's write lock before any read.
            const user = await trx
              .updateTable(USERS)
              .set((eb) => ({ updated_at: eb.ref("updated_at") }))
              .where("id", "=", userId)
              .executeTakeFirst();
            if (Number(user.numUpdatedRows) === 0) return false;
            const current = await trx
              .selectFrom(TOTP)
              .select("confirmed_at")
              .where("user_id", "=", userId)
              .executeTakeFirst();
            if (current && current.confirmed_at !== null) return false;
            // A concurrent setup that inserted first makes this insert a unique violation: run again, replacing it.
            await trx.deleteFrom(TOTP).where("user_id", "=", userId).where("confirmed_at", "is", null).execute();
            await trx
              .insertInto(TOTP)
              .values({
                user_id: userId,
                secret: sealedSecret,
                confirmed_at: null,
                last_used_step: null,
                created_at: createdAt.getTime(),
              })
              .execute();
            return true;
          }),
        ),
      ),

    confirmTotp: (userId, sealedSecret, step, codeHashes, now, confirmOptions = {}) =>
      guard(() =>
        retryingDeadlocks(() =>
          db.transaction().execute(async (trx) => {
            // Compared here, byte for byte: MySQL's default collation would match another case or trailing spaces.
            const setup = await trx
              .selectFrom(TOTP)
              .select("secret")
              .where("user_id", "=", userId)
              .where("confirmed_at", "is", null)
              .executeTakeFirst();
            if (setup?.secret !== sealedSecret) return false;
            const confirmed = await trx
              .updateTable(TOTP)
              .set({ confirmed_at: now.getTime(), last_used_step: step })
              .where("user_id", "=", userId)
              .where("secret", "=", sealedSecret)
              .where("confirmed_at", "is", null)
              .executeTakeFirst();
            if (Number(confirmed.numUpdatedRows) === 0) return false;
            await setTotpFlag(trx, userId, 1);
            await insertCodes(trx, userId, codeHashes, now);
            await effects.write(trx, confirmOptions.effects);
            return true;
          }),
        ),
      ),

    spendTotpStep: (userId, step) =>
      guard(async () => {
        // One statement: of two requests with the same code, the one that moves the step on wins.
        const result = await db
          .updateTable(TOTP)
          .set({ last_used_step: step })
          .where("user_id", "=", userId)
          .where("confirmed_at", "is not", null)
          .where((eb) => eb.or([eb("last_used_step", "is", null), eb("last_used_step", "<", step)]))
          .executeTakeFirst();
        return Number(result.numUpdatedRows) > 0;
      }),

    disableTotp: (userId, disableOptions = {}) =>
      guard(() =>
        retryingDeadlocks(() =>
          db.transaction().execute(async (trx) => {
            const on = await trx
              .deleteFrom(TOTP)
              .where("user_id", "=", userId)
              .where("confirmed_at", "is not", null)
              .executeTakeFirst();
            await trx.deleteFrom(TOTP).where("user_id", "=", userId).execute();
            await trx.deleteFrom(CODES).where("user_id", "=", userId).execute();
            if (Number(on.numDeletedRows) === 0) return false;
            await setTotpFlag(trx, userId, 0);
            await effects.write(trx, disableOptions.effects);
            return true;
          }),
        ),
      ),

    replaceRecoveryCodes: (userId, codeHashes, now, replaceOptions = {}) =>
      guard(() =>
        retryingDeadlocks(() =>
          db.transaction().execute(async (trx) => {
            // Locked first, so a concurrent disable cannot leave codes behind without TOTP.
            if (!(await lockConfirmedTotp(trx, userId))) return false;
            await insertCodes(trx, userId, codeHashes, now);
            await effects.write(trx, replaceOptions.effects);
            return true;
          }),
        ),
      ),

    consumeRecoveryCode: (userId, codeHashes, consumeOptions = {}) =>
      guard(async () => {
        if (codeHashes.length === 0) return false;
        // The delete decides: of two concurrent uses of one code, only one deletes it (and writes the effects).
        const consume = db.deleteFrom(CODES).where("user_id", "=", userId).where("code_hash", "in", codeHashes);
        return parts.changeWithEffects(consume.compile(), consumeOptions.effects);
      }),

    createPasskey: (passkey, createOptions = {}) =>
      guard(async () => {
        const { ifEpoch } = createOptions;
        try {
          if (ifEpoch === undefined && !hasEffects(createOptions.effects)) {
            await db.insertInto(PASSKEYS).values(toPasskeyRow(passkey)).execute();
            return true;
          }
          return await retryingDeadlocks(() =>
            db.transaction().execute(async (trx) => {
              if (ifEpoch !== undefined) {
                // Locked like an end of sessions: a registration that began before one cannot land after it.
                if (!(await lockUser(trx, passkey.userId))) return false;
                const { revocation_epoch } = await trx
                  .selectFrom(USERS)
                  .select("revocation_epoch")
                  .where("id", "=", passkey.userId)
                  .executeTakeFirstOrThrow();
                if (Number(revocation_epoch) !== ifEpoch) return false;
              }
              await trx.insertInto(PASSKEYS).values(toPasskeyRow(passkey)).execute();
              await effects.write(trx, createOptions.effects);
              return true;
            }),
          );
        } catch (error) {
          if (parts.isUniqueViolation(error)) return false;
          throw error;
        }
      }),

    getPasskeyByCredentialId: (credentialId) =>
      guard(async () => {
        const row = await db
          .selectFrom(PASSKEYS)
          .selectAll()
          .where("credential_key", "=", credentialKey(credentialId))
          .where("credential_id", "=", credentialId)
          .executeTakeFirst();
        return row ? toPasskeyRecord(row) : null;
      }),

    listPasskeys: (userId) =>
      guard(async () => {
        const rows = await db
          .selectFrom(PASSKEYS)
          .selectAll()
          .where("user_id", "=", userId)
          .orderBy("created_at", "desc")
          .orderBy("id", "desc")
          .execute();
        return rows.map(toPasskeyRecord);
      }),

    recordPasskeyUse: (id, previousCounter, update) =>
      guard(async () => {
        const result = await db
          .updateTable(PASSKEYS)
          .set({ counter: update.counter, last_used_at: update.lastUsedAt.getTime() })
          .where("id", "=", id)
          .where("counter", "=", previousCounter)
          .executeTakeFirst();
        return Number(result.numUpdatedRows) > 0;
      }),

    renamePasskey: (userId, id, name) =>
      guard(async () => {
        const result = await db
          .updateTable(PASSKEYS)
          .set({ name })
          .where("id", "=", id)
          .where("user_id", "=", userId)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) === 0) return null;
        const row = await db.selectFrom(PASSKEYS).selectAll().where("id", "=", id).executeTakeFirst();
        return row ? toPasskeyRecord(row) : null;
      }),

    deletePasskey: (userId, id, deleteOptions = {}) =>
      guard(() =>
        retryingDeadlocks(() =>
          db.transaction().execute(async (trx) => {
            // The user's row is locked first, as by an unlink: the two cannot both remove a last way in.
            if (!(await lockUser(trx, userId))) return "not_found" as const;
            const passkeys = await trx.selectFrom(PASSKEYS).select("id").where("user_id", "=", userId).execute();
            if (!passkeys.some((row) => row.id === id)) return "not_found" as const;
            if (passkeys.length === 1) {
              const user = await trx
                .selectFrom(USERS)
                .select("password_hash")
                .where("id", "=", userId)
                .executeTakeFirstOrThrow();
              const identity = await trx
                .selectFrom(IDENTITIES)
                .select("provider")
                .where("user_id", "=", userId)
                .limit(1)
                .executeTakeFirst();
              if (user.password_hash === NO_PASSWORD && !identity) return "last_method" as const;
            }
            await trx.deleteFrom(PASSKEYS).where("id", "=", id).where("user_id", "=", userId).execute();
            await effects.write(trx, deleteOptions.effects);
            return "deleted" as const;
          }),
        ),
      ),

    createChallenge: (challenge) =>
      guard(() =>
        retryingUnique(() =>
          db.transaction().execute(async (trx) => {
            await trx.deleteFrom(CHALLENGES).where("id_hash", "=", challenge.idHash).execute();
            await trx
              .insertInto(CHALLENGES)
              .values({
                id_hash: challenge.idHash,
                purpose: challenge.purpose,
                user_id: challenge.userId,
                challenge: challenge.challenge,
                revocation_epoch: challenge.revocationEpoch,
                created_at: challenge.createdAt.getTime(),
                expires_at: challenge.expiresAt.getTime(),
              })
              .execute();
          }),
        ),
      ),

    getChallenge: (idHash, purpose) =>
      guard(async () => {
        const row = await challengeRow(idHash, purpose);
        return row ? toChallengeRecord(row) : null;
      }),

    consumeChallenge: (idHash, purpose) =>
      guard(async () => {
        const row = await challengeRow(idHash, purpose);
        if (!row) return null;
        // The delete decides: of two concurrent consumers, only the one that deleted the row may use it.
        const deleted = await db
          .deleteFrom(CHALLENGES)
          .where("id_hash", "=", idHash)
          .where("purpose", "=", purpose)
          .where("created_at", "=", row.created_at)
          .executeTakeFirst();
        return Number(deleted.numDeletedRows) === 1 ? toChallengeRecord(row) : null;
      }),

    removeFactors: (userId, removeOptions = {}) =>
      guard(() =>
        retryingDeadlocks(() =>
          db.transaction().execute(async (trx) => {
            const totp = await trx
              .deleteFrom(TOTP)
              .where("user_id", "=", userId)
              .where("confirmed_at", "is not", null)
              .executeTakeFirst();
            await trx.deleteFrom(TOTP).where("user_id", "=", userId).execute();
            const codes = await trx.deleteFrom(CODES).where("user_id", "=", userId).executeTakeFirst();
            const passkeys = await trx.deleteFrom(PASSKEYS).where("user_id", "=", userId).executeTakeFirst();
            await trx.deleteFrom(CHALLENGES).where("user_id", "=", userId).execute();
            if (Number(totp.numDeletedRows) > 0) await setTotpFlag(trx, userId, 0);
            const removed = {
              totp: Number(totp.numDeletedRows) > 0,
              recoveryCodes: Number(codes.numDeletedRows),
              passkeys: Number(passkeys.numDeletedRows),
            };
            // Nothing to remove, nothing changed: the effects are not written.
            if (removed.totp || removed.recoveryCodes > 0 || removed.passkeys > 0) {
              await effects.write(trx, removeOptions.effects);
            }
            return removed;
          }),
        ),
      ),
  };
}

/** The unique key of a credential id: its hash, as credential ids can be longer than an index allows. */
function credentialKey(credentialId: string): string {
  return sha256Hex(`credential:${credentialId}`);
}

/** Numbers are converted because PostgreSQL's driver returns BIGINT columns as strings. */
function toTotpRecord(row: TotpRow): TotpRecord {
  return {
    userId: row.user_id,
    sealedSecret: row.secret,
    confirmedAt: row.confirmed_at === null ? null : new Date(Number(row.confirmed_at)),
    lastUsedStep: row.last_used_step === null ? null : Number(row.last_used_step),
    createdAt: new Date(Number(row.created_at)),
  };
}

function toPasskeyRow(passkey: PasskeyRecord): PasskeyRow {
  return {
    id: passkey.id,
    user_id: passkey.userId,
    credential_id: passkey.credentialId,
    credential_key: credentialKey(passkey.credentialId),
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

function toPasskeyRecord(row: PasskeyRow): PasskeyRecord {
  return {
    id: row.id,
    userId: row.user_id,
    credentialId: row.credential_id,
    publicKey: row.public_key,
    counter: Number(row.counter),
    transports: row.transports === "" ? [] : row.transports.split(","),
    deviceType: row.device_type,
    backedUp: Number(row.backed_up) === 1,
    name: row.name,
    createdAt: new Date(Number(row.created_at)),
    lastUsedAt: row.last_used_at === null ? null : new Date(Number(row.last_used_at)),
  };
}

function toChallengeRecord(row: ChallengeRow): ChallengeRecord {
  return {
    idHash: row.id_hash,
    purpose: row.purpose as ChallengeRecord["purpose"],
    userId: row.user_id,
    challenge: row.challenge,
    revocationEpoch: Number(row.revocation_epoch),
    createdAt: new Date(Number(row.created_at)),
    expiresAt: new Date(Number(row.expires_at)),
  };
}

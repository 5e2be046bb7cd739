import type { CompiledQuery, ExpressionBuilder, Kysely, Selectable } from "kysely";
import type { EffectWriter } from "./kysely-effects.js";
import type { Database } from "./schema.js";
import type { Effects, MailRecord, MailStatus, MailStore } from "./types.js";

type MailRow = Selectable<Database["gatehouse_mail"]>;

const MAIL = "gatehouse_mail";

/** How long sent mail is kept (the development outbox and the admins' list show it), in ms. */
const SENT_MAIL_KEPT_MS = 7 * 24 * 60 * 60 * 1000;

/** The longest error kept (the column's size): a mail server's answer can be longer. */
const MAX_ERROR_LENGTH = 500;

/** What the outbox queries need of the SQL store around them. */
export interface MailStoreParts {
  /** Runs a store call so that it fails closed, once the schema is ready. */
  guard<T>(operation: () => Promise<T>): Promise<T>;
  effects: EffectWriter;
  /** Runs statements as one transaction. */
  batch(queries: readonly CompiledQuery[]): Promise<unknown>;
  /** Runs `change` and, only if it changed a row, writes `effects` with it, as one transaction. */
  changeWithEffects(change: CompiledQuery, effects: Effects | undefined): Promise<boolean>;
  /** The store's clock, in ms since the epoch: when a message was sent. */
  now(): number;
}

/** Deletes mail sent more than a week before `now` (ms since the epoch): part of the store's sweep. */
export async function sweepSentMail(db: Kysely<Database>, now: number): Promise<void> {
  await db
    .deleteFrom(MAIL)
    .where("status", "=", "sent")
    .where("sent_at", "<=", now - SENT_MAIL_KEPT_MS)
    .execute();
}

/** The {@link MailStore} of the SQL stores: the same Kysely queries on SQLite, PostgreSQL and MySQL/MariaDB. */
export function createKyselyMailStore(db: Kysely<Database>, parts: MailStoreParts): MailStore {
  const { guard } = parts;

  /** Pending, its time has come, and no sender holds it (or the one that did let its lease run out). */
  const due = (at: number) => (eb: ExpressionBuilder<Database, typeof MAIL>) =>
    eb.and([
      eb("status", "=", "pending"),
      eb("next_attempt_at", "<=", at),
      eb.or([eb("lease_until", "is", null), eb("lease_until", "<=", at)]),
    ]);

  return {
    enqueueMail: (mail) =>
      guard(async () => {
        const inserts = parts.effects.queries({ mail });
        if (inserts.length === 1) await db.executeQuery(inserts[0] as CompiledQuery);
        else if (inserts.length > 1) await parts.batch(inserts);
      }),

    claimMail: (now, limit, leaseMs) =>
      guard(async () => {
        const at = now.getTime();
        const candidates = await db
          .selectFrom(MAIL)
          .select(["id", "attempts"])
          .where(due(at))
          .orderBy("next_attempt_at")
          .orderBy("id")
          .limit(limit)
          .execute();
        // Each claim is a compare-and-set on the attempts read: of claimers racing for a message (in any
        // process: no lock is held between statements), only the one whose update matched holds it.
        const claimed = await Promise.all(
          candidates.map(async ({ id, attempts }) => {
            const result = await db
              .updateTable(MAIL)
              .set({ attempts: Number(attempts) + 1, lease_until: at + leaseMs })
              .where("id", "=", id)
              .where("attempts", "=", attempts)
              .where(due(at))
              .executeTakeFirst();
            return Number(result.numUpdatedRows) === 1 ? id : null;
          }),
        );
        const ids = claimed.filter((id): id is string => id !== null);
        if (ids.length === 0) return [];
        const rows = await db
          .selectFrom(MAIL)
          .selectAll()
          .where("id", "in", ids)
          .orderBy("next_attempt_at")
          .orderBy("id")
          .execute();
        return rows.map(toMailRecord);
      }),

    settleMail: (id, attempts, outcome) =>
      guard(async () => {
        const settled = () =>
          db.updateTable(MAIL).where("id", "=", id).where("attempts", "=", attempts).where("status", "=", "pending");
        let result: { numUpdatedRows: bigint };
        if (outcome.status === "sent") {
          result = await settled()
            .set({
              status: "sent",
              sent_at: parts.now(),
              lease_until: null,
              last_error: null,
              // The body may carry a link's token: once delivered, it is not kept.
              ...(!outcome.keepBody && { sealed_body: "" }),
            })
            .executeTakeFirst();
        } else if (outcome.status === "pending") {
          result = await settled()
            .set({
              next_attempt_at: outcome.nextAttemptAt.getTime(),
              lease_until: null,
              last_error: outcome.error.slice(0, MAX_ERROR_LENGTH),
            })
            .executeTakeFirst();
        } else {
          result = await settled()
            .set({ status: "failed", lease_until: null, last_error: outcome.error.slice(0, MAX_ERROR_LENGTH) })
            .executeTakeFirst();
        }
        return Number(result.numUpdatedRows) > 0;
      }),

    listMail: (query) =>
      guard(async () => {
        let select = db.selectFrom(MAIL).selectAll();
        if (query.status !== undefined) select = select.where("status", "=", query.status);
        const rows = await select.orderBy("created_at", "desc").orderBy("id", "desc").limit(query.limit).execute();
        return rows.map(toMailRecord);
      }),

    countMail: () =>
      guard(async () => {
        const rows = await db
          .selectFrom(MAIL)
          .select((eb) => ["status", eb.fn.countAll<number>().as("n")])
          .groupBy("status")
          .execute();
        const counts: Record<MailStatus, number> = { pending: 0, sent: 0, failed: 0 };
        for (const row of rows) if (row.status in counts) counts[row.status as MailStatus] = Number(row.n);
        return counts;
      }),

    retryMail: (id, now, retryOptions = {}) =>
      guard(() => {
        // The attempts count on: a claim's compare-and-set relies on it never going back.
        const retry = db
          .updateTable(MAIL)
          .set({ status: "pending", next_attempt_at: now.getTime(), lease_until: null })
          .where("id", "=", id)
          .where("status", "=", "failed")
          .compile();
        return parts.changeWithEffects(retry, retryOptions.effects);
      }),
  };
}

/** Numbers are converted because PostgreSQL's driver returns BIGINT columns as strings. */
function toMailRecord(row: MailRow): MailRecord {
  return {
    id: row.id,
    to: row.recipient,
    subject: row.subject,
    sealedBody: row.sealed_body,
    createdAt: new Date(Number(row.created_at)),
    status: row.status as MailStatus,
    attempts: Number(row.attempts),
    nextAttemptAt: new Date(Number(row.next_attempt_at)),
    lastError: row.last_error,
    sentAt: row.sent_at === null ? null : new Date(Number(row.sent_at)),
  };
}

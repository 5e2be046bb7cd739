import type { CompiledQuery, Kysely, Selectable, Transaction } from "kysely";
import { type Executor, queryTemplate } from "./query-template.js";
import type { Database } from "./schema.js";
import type { AuditEvent, Effects, QueuedMail } from "./types.js";

const AUDIT = "gatehouse_audit";
const MAIL = "gatehouse_mail";

/**
 * Writes the {@link Effects} of a change (its audit events, its mail) in the change's own transaction: as
 * statements of a batch, or in a Kysely transaction.
 */
export interface EffectWriter {
  /** The inserts that write `effects`, compiled: to run in a batch with the change. */
  queries(effects: Effects | undefined): CompiledQuery[];
  /**
   * Runs those inserts in `trx`. A duplicate id rejects as a plain error, not as the driver's unique violation:
   * the change around it must not take it for its own (`email_taken`, an identity linked already).
   */
  write(trx: Transaction<Database>, effects: Effects | undefined): Promise<void>;
}

/** Whether `effects` has anything to write. */
export function hasEffects(effects: Effects | undefined): effects is Effects {
  return (effects?.events?.length ?? 0) + (effects?.mail?.length ?? 0) > 0;
}

/** The effect writer of a SQL store; `isUniqueViolation` is its backend's. */
export function createEffectWriter(db: Kysely<Database>, isUniqueViolation: (error: unknown) => boolean): EffectWriter {
  // Compiled once: a log-in writes its event with every new session.
  const insertEvent = queryTemplate(
    db,
    ["id", "at", "type", "outcome", "user_id", "user_email", "actor_type", "actor_id", "ip", "user_agent", "detail"],
    (v) => db.insertInto(AUDIT).values(v),
  );
  const insertMail = queryTemplate(
    db,
    ["id", "recipient", "subject", "sealed_body", "next_attempt_at", "created_at"],
    (v) =>
      db.insertInto(MAIL).values({
        ...v,
        status: "pending",
        attempts: 0,
        lease_until: null,
        last_error: null,
        sent_at: null,
      }),
  );

  function queries(effects: Effects | undefined): CompiledQuery[] {
    return [
      ...(effects?.events ?? []).map((event) => insertEvent.bind(toAuditRow(event))),
      ...(effects?.mail ?? []).map((mail) => insertMail.bind(toMailRow(mail))),
    ];
  }

  return {
    queries,
    async write(trx, effects) {
      try {
        for (const query of queries(effects)) await (trx as Executor).executeQuery(query);
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw new Error("An audit event or a queued mail with this id is stored already.", { cause: error });
        }
        throw error;
      }
    },
  };
}

/** The row of an event; `detail` is kept as JSON text. */
export function toAuditRow(event: AuditEvent): Selectable<Database["gatehouse_audit"]> {
  return {
    id: event.id,
    at: event.at.getTime(),
    type: event.type,
    outcome: event.outcome,
    user_id: event.userId,
    user_email: event.userEmail,
    actor_type: event.actorType,
    actor_id: event.actorId,
    ip: event.ip,
    user_agent: event.userAgent,
    detail: JSON.stringify(event.detail),
  };
}

/** The row of a queued message, without the columns every new one has alike. Due when it was written. */
function toMailRow(
  mail: QueuedMail,
): Pick<
  Selectable<Database["gatehouse_mail"]>,
  "id" | "recipient" | "subject" | "sealed_body" | "next_attempt_at" | "created_at"
> {
  return {
    id: mail.id,
    recipient: mail.to,
    subject: mail.subject,
    sealed_body: mail.sealedBody,
    next_attempt_at: mail.createdAt.getTime(),
    created_at: mail.createdAt.getTime(),
  };
}

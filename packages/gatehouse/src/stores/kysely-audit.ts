import type { CompiledQuery, Kysely, Selectable } from "kysely";
import type { EffectWriter } from "./kysely-effects.js";
import type { Database } from "./schema.js";
import type { AuditEvent, AuditStore } from "./types.js";

type AuditRow = Selectable<Database["gatehouse_audit"]>;

const AUDIT = "gatehouse_audit";

/** What the audit queries need of the SQL store around them. */
export interface AuditStoreParts {
  /** Runs a store call so that it fails closed, once the schema is ready. */
  guard<T>(operation: () => Promise<T>): Promise<T>;
  effects: EffectWriter;
  /** Runs statements as one transaction. */
  batch(queries: readonly CompiledQuery[]): Promise<unknown>;
}

/**
 * Events are deleted at most about this many at a time: a backlog (a retention made shorter, sweeps that could
 * not run) is many short statements, each well within the store's timeout, where one statement for all of it
 * would outlast the timeout, be cancelled, and so never delete anything, sweep after sweep.
 */
const DELETE_BATCH = 5000;
/** How many batches one background sweep deletes at most: the next sweep goes on where it stopped. */
const SWEEP_BATCHES = 20;

/**
 * Deletes the events from before `before` (ms since the epoch), oldest first, a batch at a time, at most
 * `maxBatches` of them (a sweep's share; by default all there are); resolves to how many.
 */
export async function deleteEventsBefore(
  db: Kysely<Database>,
  before: number,
  maxBatches = SWEEP_BATCHES,
): Promise<number> {
  let deleted = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    // The time of the event a batch past the oldest: the batch is every event before it. (OFFSET rather than
    // a LIMIT in the DELETE, which PostgreSQL has not and MySQL refuses in a subquery.)
    const edge = await db
      .selectFrom(AUDIT)
      .select("at")
      .where("at", "<", before)
      .orderBy("at")
      .limit(1)
      .offset(DELETE_BATCH)
      .executeTakeFirst();
    const upTo = edge === undefined ? before : Number(edge.at);
    let result = await db.deleteFrom(AUDIT).where("at", "<", upTo).executeTakeFirst();
    // More than a batch at the oldest time itself: that one time, whatever its size (one millisecond's events).
    if (edge !== undefined && Number(result.numDeletedRows) === 0) {
      result = await db.deleteFrom(AUDIT).where("at", "=", upTo).executeTakeFirst();
    }
    deleted += Number(result.numDeletedRows);
    if (edge === undefined) break;
  }
  return deleted;
}

/** The {@link AuditStore} of the SQL stores: the same Kysely queries on SQLite, PostgreSQL and MySQL/MariaDB. */
export function createKyselyAuditStore(db: Kysely<Database>, parts: AuditStoreParts): AuditStore {
  const { guard } = parts;
  return {
    recordEvents: (events) =>
      guard(async () => {
        const inserts = parts.effects.queries({ events });
        if (inserts.length === 1) await db.executeQuery(inserts[0] as CompiledQuery);
        else if (inserts.length > 1) await parts.batch(inserts);
      }),

    listEvents: (query) =>
      guard(async () => {
        // Keyset pages on (at, id): a page starts after the last event of the one before, whatever was written since.
        const newest = (query.order ?? "newest") === "newest";
        const direction = newest ? "desc" : "asc";
        const beyond = newest ? "<" : ">";
        let select = db.selectFrom(AUDIT).selectAll();
        if (query.userId !== undefined) select = select.where("user_id", "=", query.userId);
        if (query.type !== undefined) select = select.where("type", "=", query.type);
        if (query.since !== undefined) select = select.where("at", ">=", query.since.getTime());
        const { after } = query;
        if (after) {
          const at = after.at.getTime();
          select = select.where((eb) =>
            eb.or([eb("at", beyond, at), eb.and([eb("at", "=", at), eb("id", beyond, after.id)])]),
          );
        }
        const rows = await select.orderBy("at", direction).orderBy("id", direction).limit(query.limit).execute();
        return rows.map(toAuditEvent);
      }),

    deleteEventsBefore: (before) => guard(() => deleteEventsBefore(db, before.getTime(), Number.POSITIVE_INFINITY)),
  };
}

/** Numbers are converted because PostgreSQL's driver returns BIGINT columns as strings. */
function toAuditEvent(row: AuditRow): AuditEvent {
  return {
    id: row.id,
    at: new Date(Number(row.at)),
    type: row.type,
    outcome: row.outcome as AuditEvent["outcome"],
    userId: row.user_id,
    userEmail: row.user_email,
    actorType: row.actor_type as AuditEvent["actorType"],
    actorId: row.actor_id,
    ip: row.ip,
    userAgent: row.user_agent,
    detail: JSON.parse(row.detail) as Record<string, unknown>,
  };
}

import { once } from "node:events";
import type { Writable } from "node:stream";
import type { AuditEvent, AuditQuery, AuditStore } from "../stores/types.js";

/** Events are read this many at a time: an export of a long log is never all in memory. */
const PAGE_SIZE = 500;
/**
 * How far back each poll of a tail looks again, behind the newest event it printed. An event's time is taken
 * when it is made, and its transaction commits a little later: one that commits after a later one was printed
 * would be passed over by the cursor alone. Those seen already are not printed twice.
 */
const TAIL_LOOKBACK_MS = 10_000;

/** Which events an export or a tail reads. */
export interface EventFilter {
  userId?: string;
  since?: Date;
}

/**
 * What a terminal acts on or a reader takes for the end of a line, beyond the C0 controls: DEL, the C1 controls
 * (U+009B starts an escape sequence on some terminals; U+0085 is a newline to some readers), the line and
 * paragraph separators, and the bidi controls that make a line read otherwise than it is. `JSON.stringify`
 * escapes only the C0 ones; a user can put these in a user agent, a name or a passkey's name.
 */
const UNPRINTABLE = /[\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const C0 = /[\u0000-\u001f]/g;

const escaped = (char: string) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;

/**
 * JSON text with every {@link UNPRINTABLE} character written as `\uXXXX`: the same JSON value (such characters
 * can only be inside its strings), and nothing in it that drives a terminal. Its C0 characters are
 * `JSON.stringify`'s own whitespace, and stay.
 */
export function printableJson(json: string): string {
  return json.replace(UNPRINTABLE, escaped);
}

/** Plain text (a column of a list) with the C0 controls escaped too: a tab or a newline adds no column or line. */
export function printable(text: string): string {
  return printableJson(text).replace(C0, escaped);
}

/**
 * An event as one JSON line: the log's fields, its time as an ISO string, the actor as one object. Only
 * printable characters: whatever a user wrote cannot move a terminal's cursor or split the line.
 */
export function eventLine(event: AuditEvent): string {
  return `${printableJson(
    JSON.stringify({
      id: event.id,
      at: event.at.toISOString(),
      type: event.type,
      outcome: event.outcome,
      userId: event.userId,
      userEmail: event.userEmail,
      actor: { type: event.actorType, id: event.actorId },
      ip: event.ip,
      userAgent: event.userAgent,
      detail: event.detail,
    }),
  )}\n`;
}

/**
 * Writes lines to `out`, waiting whenever its buffer is full. `false` once the reader has gone (a closed pipe:
 * `gatehouse audit export | head`), which ends the command quietly.
 */
function lineWriter(out: Writable): (line: string) => Promise<boolean> {
  let gone = false;
  out.on("error", () => {
    gone = true;
  });
  return async (line) => {
    if (gone) return false;
    if (out.write(line)) return true;
    try {
      await once(out, "drain");
      return true;
    } catch {
      gone = true;
      return false;
    }
  };
}

/**
 * Writes every event of `filter` to `out` as JSON lines, oldest first, a page at a time (keyset-paged on time
 * and id: a page never repeats or skips an event of the one before). Resolves to how many were written.
 */
export async function exportEvents(store: AuditStore, filter: EventFilter, out: Writable): Promise<number> {
  const write = lineWriter(out);
  let after: AuditQuery["after"] = null;
  let written = 0;
  for (;;) {
    const page = await store.listEvents({ ...filter, order: "oldest", after, limit: PAGE_SIZE });
    for (const event of page) {
      if (!(await write(eventLine(event)))) return written;
      written++;
    }
    const last = page[page.length - 1];
    if (page.length < PAGE_SIZE || !last) return written;
    after = { at: last.at, id: last.id };
  }
}

/** Options of {@link tailEvents}. */
export interface TailOptions {
  /** How many of the newest events are printed first. */
  initial: number;
  /** How often the store is asked for new ones, in ms. */
  intervalMs: number;
  /** Ends the tail (SIGINT): the poll under way finishes, then it resolves. */
  signal: AbortSignal;
}

/** Resolves after `ms`, or at once when `signal` is aborted. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Prints the newest `initial` events of `filter` (oldest of them first), then each new event as it arrives,
 * as JSON lines, until `signal` is aborted or the reader has gone. Polls with the keyset cursor, looking a
 * little behind it each time (see {@link TAIL_LOOKBACK_MS}).
 */
export async function tailEvents(
  store: AuditStore,
  filter: Pick<EventFilter, "userId">,
  out: Writable,
  options: TailOptions,
): Promise<void> {
  const write = lineWriter(out);
  const { signal } = options;
  /** The events printed from the horizon on (see below): id → time (ms). */
  const printed = new Map<string, number>();
  let newest: number | null = null;

  async function print(event: AuditEvent): Promise<boolean> {
    if (printed.has(event.id)) return true;
    printed.set(event.id, event.at.getTime());
    newest = Math.max(newest ?? 0, event.at.getTime());
    return write(eventLine(event));
  }

  const first = await store.listEvents({ ...filter, order: "newest", limit: options.initial });
  for (const event of first.reverse()) if (!(await print(event))) return;

  /**
   * Where each poll starts: it only moves forward, so an event forgotten below it is never read again; and never
   * before the oldest event printed first, so the lookback does not print the history the tail began after.
   */
  let horizon = first[0]?.at.getTime() ?? Number.NEGATIVE_INFINITY;
  while (!signal.aborted) {
    await pause(options.intervalMs, signal);
    if (signal.aborted) return;
    // The lookback before the newest event printed, or before now when that is earlier: one event stamped
    // ahead of this clock (an instance whose clock runs fast) must not hide every event made until then.
    if (newest !== null) horizon = Math.max(horizon, Math.min(newest, Date.now()) - TAIL_LOOKBACK_MS);
    // Strictly after (time, ""): every event from the horizon on.
    let after: AuditQuery["after"] = newest === null ? null : { at: new Date(horizon), id: "" };
    for (;;) {
      const page = await store.listEvents({ ...filter, order: "oldest", after, limit: PAGE_SIZE });
      for (const event of page) if (!(await print(event))) return;
      const last = page[page.length - 1];
      if (page.length < PAGE_SIZE || !last) break;
      after = { at: last.at, id: last.id };
    }
    for (const [id, at] of printed) if (at < horizon) printed.delete(id);
  }
}

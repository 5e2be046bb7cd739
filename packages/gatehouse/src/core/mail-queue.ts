import { decodeBase64url, encodeBase64url } from "../crypto/base64url.js";
import { randomToken } from "../crypto/random.js";
import { createSealer, type Sealer } from "../crypto/seal.js";
import { ConfigurationError, InvalidInputError } from "../errors.js";
import type { Mailer, MailMessage } from "../mail/mailer.js";
import type {
  Effects,
  MailOutcome,
  MailRecord,
  MailStatus,
  MailStore,
  OutboxMessage,
  QueuedMail,
} from "../stores/types.js";

/** The purpose outbox bodies are sealed for: no other key (sessions, device cookies, TOTP secrets) opens them. */
export const MAIL_SEAL_PURPOSE = "mail";

/** How the sender of the durable outbox delivers, for `createGatehouse({ mailDelivery })`. */
export interface MailDeliveryOptions {
  /** Delivery attempts before a message is marked failed (for admins and `gatehouse doctor`). Default 12. */
  maxAttempts?: number;
  /**
   * The wait before the first retry, in ms; each later retry waits twice as long as the one before, up to
   * `maxRetryDelayMs`, and each wait is cut by a random part of up to half (jitter: senders of several
   * processes that failed together do not retry together). Default 10000: with the defaults, a message is
   * tried for two to three and a half hours before it is marked failed.
   */
  retryDelayMs?: number;
  /** The longest wait between two attempts, in ms. Default 3600000 (an hour). */
  maxRetryDelayMs?: number;
  /**
   * How long a claimed message is hidden from the senders of other processes, in ms. A sender that dies with a
   * message in hand gives it back after this long. It also bounds an attempt: one still running when nine
   * tenths of its lease have passed (a mailer that never answers) is given up, and the message marked failed
   * (it may still arrive, so it is not tried again but by an admin's retry), so one stuck message holds up no
   * other. Keep it well above the mailer's own timeouts. Default 120000.
   */
  leaseMs?: number;
  /**
   * How often the sender looks for due mail it was not told about, in ms: retries, mail written by other
   * processes, messages whose lease ended. Mail written by this process is sent at once. Default 5000.
   */
  pollMs?: number;
}

/** The outbox options of `createGatehouse`. */
export interface MailQueueOptions {
  /** Retries, backoff and leases of the sender that delivers the durable outbox. */
  mailDelivery?: MailDeliveryOptions;
}

/** A message of the durable outbox as admins see it: everything but its body. */
export interface MailSummary {
  id: string;
  to: string;
  subject: string;
  status: MailStatus;
  /** Delivery attempts so far. */
  attempts: number;
  /** Why the last attempt failed (the mail server's answer); `null` when none did. */
  lastError: string | null;
  createdAt: Date;
  /** When a pending message is tried (again). */
  nextAttemptAt: Date;
  sentAt: Date | null;
}

/** Which messages {@link MailApi.listMail} lists. */
export interface MailQuery {
  /** Only messages in this status. Default: all. */
  status?: MailStatus;
  /** At most this many, newest first: 1 to 500, default 50. */
  limit?: number;
}

/** The durable outbox, for administrators and the development outbox page. */
export interface MailApi {
  /**
   * The newest messages of the outbox (without their bodies) and how many are in each status: what an admin
   * page shows. Failed messages are those that kept failing until `mailDelivery.maxAttempts`. Throws
   * `InvalidInputError` for an unknown status or a limit out of range. Check the caller is an admin first.
   *
   * @example
   * ```ts
   * const { messages, counts } = await gatehouse.listMail({ status: "failed" });
   * ```
   */
  listMail(query?: MailQuery): Promise<{ messages: MailSummary[]; counts: Record<MailStatus, number> }>;
  /**
   * Puts a failed message back in the queue, due at once, for one more attempt (if that fails too, it is
   * failed again): `false` when there is no failed message with this id. Check the caller is an admin first.
   * `effects` (e.g. the audit event of who asked) are written with it, in its transaction, only if it is retried.
   *
   * @example
   * ```ts
   * if (!(await gatehouse.retryMail(id))) return notFound();
   * ```
   */
  retryMail(id: string, options?: { effects?: Effects }): Promise<boolean>;
  /**
   * The newest messages the development outbox mailer (`createOutboxMailer`) kept, with their bodies opened:
   * what a development outbox page shows. Empty with any other mailer, which keeps no body once it is sent.
   * Never expose it in production: whoever reads it can reset any password.
   *
   * @example
   * ```ts
   * const messages = await gatehouse.outboxMessages(50);
   * ```
   */
  outboxMessages(limit?: number): Promise<OutboxMessage[]>;
  /**
   * Stops the mail sender: no new attempt starts, and the promise resolves once the one in hand (if any) is
   * settled, within `mailDelivery.leaseMs`. Mail still queued stays in the store for the next process. Call it before closing the store.
   *
   * @example
   * ```ts
   * await gatehouse.close();
   * await store.close();
   * ```
   */
  close(): Promise<void>;
}

/** What a job (see {@link MailQueue.job}) carries to its handler: small JSON values, sealed like a body. */
export type JobData = Record<string, string | number | boolean | null>;

/** A job the sender claimed, as its handler gets it. */
export interface Job {
  /** The address the job is about. */
  to: string;
  data: JobData;
  /** When it was asked for: mail it writes is dated so, and goes out in the order of the requests. */
  createdAt: Date;
}

/**
 * The durable outbox and its sender, internal to the core: messages are sealed here, written with the change
 * they belong to (`effects.mail`) or on their own, and delivered with retries. A job is work for the sender
 * that must survive the process but can only be done after the answer (what it finds must not change the
 * answer or its timing, like whether an address has an account): it is a row of the outbox too, claimed like a
 * message, and its handler writes the mail it leads to.
 */
export interface MailQueue {
  /** Whether a mailer is configured: without one, nothing is queued and no sender runs. */
  readonly enabled: boolean;
  /** A message sealed for the outbox, to be written with a change as `effects.mail` (then call `kick`). */
  seal(message: MailMessage, createdAt?: Date): Promise<QueuedMail>;
  /** A job for the handler of `kind` (see {@link MailQueue.handle}), sealed for the outbox. */
  job(kind: string, to: string, data: JobData): Promise<QueuedMail>;
  /** Writes mail that belongs to no other write (a notice, a job) and wakes the sender. */
  enqueue(mail: readonly QueuedMail[]): Promise<void>;
  /** Wakes the sender after the response: mail was just written. */
  kick(): void;
  /** What the sender does with a job of `kind`; a handler that throws is retried like a delivery. */
  handle(kind: string, handler: (job: Job) => Promise<void>): void;
  api: MailApi;
}

const STATUSES: readonly MailStatus[] = ["pending", "sent", "failed"];
/** Bodies are sealed in pieces: a sealed value is at most 4096 characters, and a body with its HTML can be more. */
const PIECE_LENGTH = 2400;
const MAX_ERROR_LENGTH = 500;
/** The longest a timer waits (2^31 − 1 ms, about 24 days): Node fires a longer one at once. */
const MAX_DELAY_MS = 2 ** 31 - 1;
/** The subject column's size; a longer subject (a very long app name) is cut, in the row and the body alike. */
const MAX_SUBJECT_LENGTH = 300;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** What a sealed body holds: a message, or a job. Its address and (listed) subject must be the row's. */
type Body =
  | { kind: "mail"; to: string; subject: string; text: string; html: string }
  | { kind: "job"; to: string; subject: string; job: string; data: JobData };

/** One sealed piece: the message's id, its place and their number, so pieces never move between messages. */
interface Piece {
  m: string;
  i: number;
  n: number;
  p: string;
}

async function sealBody(sealer: Sealer, id: string, body: Body): Promise<string> {
  const encoded = encodeBase64url(encoder.encode(JSON.stringify(body)));
  const parts: string[] = [];
  for (let at = 0; at < encoded.length; at += PIECE_LENGTH) parts.push(encoded.slice(at, at + PIECE_LENGTH));
  const pieces = parts.map((p, i): Piece => ({ m: id, i, n: parts.length, p }));
  return (await Promise.all(pieces.map((piece) => sealer.seal(piece)))).join(" ");
}

function isPiece(value: unknown): value is Piece {
  const piece = value as Piece | null;
  return (
    typeof piece === "object" &&
    piece !== null &&
    typeof piece.m === "string" &&
    Number.isInteger(piece.i) &&
    Number.isInteger(piece.n) &&
    typeof piece.p === "string"
  );
}

/**
 * The subject as the row keeps it, for admins' lists and the log: digits that may be a code (a verification
 * code's subject carries it) are masked, so no row holds a code in the clear. The body keeps the real subject.
 */
function listedSubject(subject: string): string {
  return subject.replace(/\d{6,}/g, (digits) => "•".repeat(digits.length));
}

/** The body of a row, or `null` when it does not open (another secret, tampering) or is not this row's. */
async function openBody(sealer: Sealer, record: QueuedMail): Promise<Body | null> {
  const sealed = record.sealedBody.split(" ");
  const pieces = await Promise.all(sealed.map((value) => sealer.open(value)));
  let encoded = "";
  for (const [i, piece] of pieces.entries()) {
    if (!isPiece(piece) || piece.m !== record.id || piece.i !== i || piece.n !== pieces.length) return null;
    encoded += piece.p;
  }
  const bytes = decodeBase64url(encoded);
  if (!bytes) return null;
  let body: Body;
  try {
    body = JSON.parse(decoder.decode(bytes));
  } catch {
    return null;
  }
  if (
    typeof body !== "object" ||
    body === null ||
    body.to !== record.to ||
    typeof body.subject !== "string" ||
    listedSubject(body.subject) !== record.subject
  )
    return null;
  if (body.kind === "mail" && typeof body.text === "string" && typeof body.html === "string") return body;
  if (body.kind === "job" && typeof body.job === "string" && typeof body.data === "object" && body.data !== null)
    return body;
  return null;
}

function positiveInteger(value: number | undefined, fallback: number, name: string, max: number): number {
  const resolved = value ?? fallback;
  if (!Number.isInteger(resolved) || resolved < 1 || resolved > max)
    throw new ConfigurationError(`mailDelivery.${name} must be a whole number from 1 to ${max}.`);
  return resolved;
}

function resolveDelivery(options: MailDeliveryOptions = {}): Required<MailDeliveryOptions> {
  const resolved = {
    maxAttempts: positiveInteger(options.maxAttempts, 12, "maxAttempts", Number.MAX_SAFE_INTEGER),
    // Each is (or bounds) a timer's wait.
    retryDelayMs: positiveInteger(options.retryDelayMs, 10_000, "retryDelayMs", MAX_DELAY_MS),
    maxRetryDelayMs: positiveInteger(options.maxRetryDelayMs, 60 * 60_000, "maxRetryDelayMs", MAX_DELAY_MS),
    leaseMs: positiveInteger(options.leaseMs, 120_000, "leaseMs", MAX_DELAY_MS),
    pollMs: positiveInteger(options.pollMs, 5_000, "pollMs", MAX_DELAY_MS),
  };
  if (resolved.maxRetryDelayMs < resolved.retryDelayMs)
    throw new ConfigurationError("mailDelivery.maxRetryDelayMs must not be below mailDelivery.retryDelayMs.");
  return resolved;
}

/**
 * Link tokens (a URL's query values) and codes (six digits or more) that an error may quote, e.g. a spam
 * filter's "URL blocked: https://…?token=…": the text is kept in `last_error` and logged, and neither may hold
 * them.
 */
function redact(text: string): string {
  return text.replace(/([?&#][^\s=&#]*=)[^\s&#"'<>()]+/g, "$1[redacted]").replace(/\d{6,}/g, "[redacted]");
}

/** What an attempt's error says, for the row and the log, whatever a mailer rejected with. */
function errorText(error: unknown): string {
  let text = "";
  try {
    text = String(error instanceof Error ? error.message : error);
  } catch {
    // A value that cannot become text (no prototype, a throwing toString): its details are lost, not the sender.
  }
  return redact(text || "the attempt failed").slice(0, MAX_ERROR_LENGTH);
}

/** An attempt that did not settle in time: it may still deliver, so its message is not tried again by itself. */
class NoAnswerError extends Error {}

/**
 * Waits for `work` for at most `ms`. An attempt given up on may still settle later: nobody waits for it, and its
 * rejection is no unhandled one.
 */
async function withDeadline(work: Promise<unknown>, ms: number): Promise<void> {
  work.catch(() => undefined);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    const text = "no answer within leaseMs, given up: it may still arrive, so it is only sent again if retried";
    timer = setTimeout(() => reject(new NoAnswerError(text)), Math.max(0, ms));
    timer.unref?.();
  });
  try {
    await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function summary(record: MailRecord): MailSummary {
  return {
    id: record.id,
    to: record.to,
    subject: record.subject,
    status: record.status,
    attempts: record.attempts,
    lastError: record.lastError,
    createdAt: record.createdAt,
    nextAttemptAt: record.nextAttemptAt,
    sentAt: record.sentAt,
  };
}

/** What {@link createMailQueue} is built from: the core's resolved parts. */
export interface MailQueueParts {
  store: MailStore;
  /** The store `createGatehouse` was given: the development outbox mailer must keep its messages there. */
  mainStore: unknown;
  secrets: readonly string[];
  mailer: Mailer | null;
  now: () => number;
  options: MailQueueOptions;
}

/**
 * Builds the outbox and, when a mailer is configured, starts its sender: an attempt at once for what earlier
 * processes left behind, then one whenever mail is written here, and polls (on unref'd timers, so the sender
 * never keeps a process alive) for retries and mail other processes wrote. Each attempt claims one message with
 * a lease, oldest first, so mail goes out in order and, of several processes on one database, each message goes
 * to one sender. The key is derived here, once.
 */
export function createMailQueue(parts: MailQueueParts): MailQueue {
  const { store, mailer, now } = parts;
  const delivery = resolveDelivery(parts.options.mailDelivery);
  if (mailer?.outbox !== undefined && mailer.outbox !== parts.mainStore) {
    throw new ConfigurationError(
      "createOutboxMailer(store) must be given the store createGatehouse uses: its messages are kept there.",
    );
  }
  if (mailer?.outbox !== undefined && globalThis.process?.env?.NODE_ENV === "production") {
    // Not refused: `next build` runs with NODE_ENV=production, often without the mail settings of a deployment.
    console.warn(
      "gatehouse: createOutboxMailer is in use with NODE_ENV=production: no email is delivered, and every message (reset links among them) stays readable in the database. Use createSmtpMailer.",
    );
  }
  const sealer = createSealer(parts.secrets, MAIL_SEAL_PURPOSE);
  const handlers = new Map<string, (job: Job) => Promise<void>>();

  let closed = mailer === null;
  let pass: Promise<void> | null = null;
  let again = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** The earliest retry this process set (ms, by `now`): the sender wakes for it before the next poll. */
  let soonestRetry: number | null = null;
  let outboxUnreadable = false;
  let sequence = 0;

  /**
   * Random, after a counter: messages written in the same millisecond (and due together) are claimed in the
   * order this process wrote them, since the claim takes the oldest first and then the smallest id.
   */
  function mailId(): string {
    sequence = (sequence + 1) % 36 ** 6;
    return `${sequence.toString(36).padStart(6, "0")}${randomToken(15)}`;
  }

  function backoff(attempts: number): number {
    const full = Math.min(delivery.maxRetryDelayMs, delivery.retryDelayMs * 2 ** Math.min(attempts - 1, 30));
    return Math.round(full * (1 - Math.random() / 2));
  }

  /**
   * Delivers (or runs) a message claimed at `claimedAt` (`performance.now()`: real time, whatever `now` says).
   * Given up while a tenth of its lease is left to settle it, before another sender may claim it.
   */
  async function attempt(record: MailRecord, claimedAt: number): Promise<void> {
    const deadline = () => claimedAt + (delivery.leaseMs * 9) / 10 - performance.now();
    const body = await openBody(sealer, record);
    let outcome: MailOutcome;
    if (!body) {
      outcome = { status: "failed", error: "its body does not open: sealed with a secret no longer configured" };
      console.error(`gatehouse: mail ${record.id} failed: ${outcome.error}`);
    } else {
      try {
        if (body.kind === "job") {
          const handler = handlers.get(body.job);
          if (!handler) throw new Error(`no handler for jobs of kind ${body.job}`);
          await withDeadline(handler({ to: body.to, data: body.data, createdAt: record.createdAt }), deadline());
          outcome = { status: "sent", keepBody: false };
        } else {
          const message = { to: body.to, subject: body.subject, text: body.text, html: body.html };
          await withDeadline(Promise.resolve((mailer as Mailer).send(message)), deadline());
          // The development outbox mailer delivers by keeping the message, readable, where it is.
          outcome = { status: "sent", keepBody: mailer?.outbox !== undefined };
        }
      } catch (error) {
        const text = errorText(error);
        if (error instanceof NoAnswerError) {
          outcome = { status: "failed", error: text };
          console.error(`gatehouse: mail ${record.id} failed: ${text}`);
        } else if (record.attempts >= delivery.maxAttempts) {
          outcome = { status: "failed", error: text };
          console.error(`gatehouse: mail ${record.id} failed for good after ${record.attempts} attempts: ${text}`);
        } else {
          const at = now() + backoff(record.attempts);
          outcome = { status: "pending", error: text, nextAttemptAt: new Date(at) };
          soonestRetry = Math.min(soonestRetry ?? at, at);
          console.error(
            `gatehouse: mail ${record.id} failed (attempt ${record.attempts} of ${delivery.maxAttempts}), tried again in ${Math.ceil((at - now()) / 1000)} s: ${text}`,
          );
        }
      }
    }
    try {
      if (!(await store.settleMail(record.id, record.attempts, outcome)))
        console.error(`gatehouse: mail ${record.id} was claimed again while its attempt ran longer than leaseMs`);
    } catch (error) {
      // Its lease runs out and it is tried again: mail that was delivered may then go out twice.
      console.error(`gatehouse: settling mail ${record.id} failed: ${errorText(error)}`);
    }
  }

  async function drain(): Promise<void> {
    while (!closed) {
      let claimed: MailRecord[];
      const claimedAt = performance.now();
      try {
        claimed = await store.claimMail(new Date(now()), 1, delivery.leaseMs);
      } catch (error) {
        // Said once, not at every poll, until the outbox can be read again.
        if (!outboxUnreadable)
          console.error(`gatehouse: the mail sender cannot read the outbox, it tries again: ${errorText(error)}`);
        outboxUnreadable = true;
        return;
      }
      outboxUnreadable = false;
      const [record] = claimed;
      if (!record) return;
      await attempt(record, claimedAt);
    }
  }

  function schedule(): void {
    clearTimeout(timer);
    if (closed) return;
    const retryIn = soonestRetry === null ? delivery.pollMs : Math.max(0, soonestRetry - now());
    if (retryIn <= delivery.pollMs) soonestRetry = null;
    timer = setTimeout(wake, Math.min(retryIn, delivery.pollMs));
    timer.unref?.();
  }

  function wake(): void {
    if (closed) return;
    if (pass) {
      again = true;
      return;
    }
    pass = drain().finally(() => {
      pass = null;
      if (again && !closed) {
        again = false;
        wake();
      } else schedule();
    });
  }

  function kick(): void {
    // After the response is on its way: what a job finds (does the account exist?) must not change its timing.
    if (!closed) setImmediate(wake).unref?.();
  }

  kick();

  const queue: MailQueue = {
    enabled: mailer !== null,

    async seal(message, createdAt = new Date(now())) {
      const id = mailId();
      const subject = message.subject.slice(0, MAX_SUBJECT_LENGTH);
      const body: Body = { kind: "mail", to: message.to, subject, text: message.text, html: message.html };
      const sealedBody = await sealBody(sealer, id, body);
      return { id, to: message.to, subject: listedSubject(subject), sealedBody, createdAt };
    },

    async job(kind, to, data) {
      const id = mailId();
      // The subject tells admins what the row is; a job is never mailed as it is.
      const subject = `[job] ${kind}`;
      const body: Body = { kind: "job", to, subject, job: kind, data };
      return { id, to, subject, sealedBody: await sealBody(sealer, id, body), createdAt: new Date(now()) };
    },

    async enqueue(mail) {
      if (mail.length === 0) return;
      await store.enqueueMail(mail);
      kick();
    },

    kick,

    handle(kind, handler) {
      handlers.set(kind, handler);
    },

    api: {
      async listMail(query = {}) {
        const { status, limit = 50 } = query;
        if (status !== undefined && !STATUSES.includes(status))
          throw new InvalidInputError({ status: { code: "invalid", message: "Use pending, sent or failed." } });
        if (!Number.isInteger(limit) || limit < 1 || limit > 500)
          throw new InvalidInputError({ limit: { code: "invalid", message: "Use a whole number from 1 to 500." } });
        const [records, counts] = await Promise.all([
          store.listMail(status === undefined ? { limit } : { status, limit }),
          store.countMail(),
        ]);
        return { messages: records.map(summary), counts };
      },

      async retryMail(id, options = {}) {
        if (typeof id !== "string" || id.length === 0 || id.length > 64) return false;
        const retried = await store.retryMail(id, new Date(now()), options);
        if (retried) kick();
        return retried;
      },

      async outboxMessages(limit = 50) {
        if (!Number.isInteger(limit) || limit < 1 || limit > 500)
          throw new InvalidInputError({ limit: { code: "invalid", message: "Use a whole number from 1 to 500." } });
        // Jobs are sent rows too, with their bodies erased: read past them, about one for each message.
        const records = await store.listMail({ status: "sent", limit: limit * 2 });
        const messages: OutboxMessage[] = [];
        for (const record of records) {
          if (record.sealedBody === "" || messages.length === limit) continue;
          const body = await openBody(sealer, record);
          if (body?.kind !== "mail") continue;
          const { to, subject, text, html } = body;
          messages.push({ id: record.id, to, subject, text, html, createdAt: record.createdAt });
        }
        return messages;
      },

      async close() {
        closed = true;
        clearTimeout(timer);
        await pass;
      },
    },
  };
  return queue;
}

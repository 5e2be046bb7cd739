import { randomToken } from "../crypto/random.js";
import { ConfigurationError } from "../errors.js";
import type { SessionMeta } from "../session/types.js";
import type { AuditActorType, AuditEvent, AuditStore } from "../stores/types.js";

/** Every event type the audit log records. Part of the public contract: new ones are added, none renamed. */
export const AUDIT_EVENT_TYPES = [
  "user.signup",
  "login.success",
  "login.failure",
  "logout",
  "session.revoke",
  "password.change",
  "password.reset",
  "email.verify",
  "email.change",
  "mfa.enable",
  "mfa.disable",
  "recovery_code.use",
  "recovery_codes.regenerate",
  "passkey.add",
  "passkey.remove",
  "oauth.link",
  "oauth.unlink",
  "role.change",
  "user.ban",
  "user.unban",
  "user.delete",
  "admin.sessions.revoke",
  "admin.password_reset",
  "admin.factors.reset",
  "impersonation.start",
  "impersonation.stop",
  "admin.mail.retry",
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** Why a log-in failed, as `login.failure` records it in `detail.reason`. */
export type LoginFailureReason =
  | "wrong_password"
  | "unknown_account"
  | "rate_limited"
  | "unverified"
  | "mfa_failure"
  | "banned"
  | "passkey_failure"
  | "oauth_failure";

/** Who acted: the user themselves, an administrator, the CLI, or Gatehouse itself. */
export interface AuditActor {
  type: AuditActorType;
  id: string | null;
}

/** Options of the audit log, for `createGatehouse`. */
export interface AuditOptions {
  /**
   * Called with each event after it is committed, e.g. to write JSON lines to stdout or to forward to a SIEM.
   * Runs after the response is on its way: a slow sink never holds a request, and one that throws or rejects
   * never fails it (the failure is logged).
   */
  onEvent?: (event: AuditEvent) => void | Promise<void>;
  /** How long events are kept, in days; older ones are swept in the background. Default 400. */
  auditRetentionDays?: number;
}

/** What one event is about, for {@link Audit.event}. */
export interface AuditInit {
  outcome?: "success" | "failure";
  /** The user it is about, as they are now (their email is recorded as it is at the time). */
  user?: { id: string; email: string } | null;
  /** For an event without a user (a failed log-in for an unknown address): the address tried. */
  email?: string | null;
  /** Default: the user themselves (`user`), or the system when there is no user. */
  actor?: AuditActor;
  meta?: SessionMeta;
  detail?: Record<string, unknown>;
}

/** Builds audit events and hands committed ones to the sink. Internal to the core. */
export interface Audit {
  readonly retentionDays: number;
  event(type: AuditEventType, init?: AuditInit): AuditEvent;
  /** Writes events that no other write carries (a failed log-in), then hands them to the sink. */
  record(events: readonly AuditEvent[]): Promise<void>;
  /**
   * {@link Audit.record}, unless events of `key` were recorded in this process within the last `windowMs`: for
   * events a client can cause again and again at no cost to itself (a refused log-in), so that its retries are
   * one row per window rather than one each.
   */
  recordOnce(key: string, windowMs: number, events: readonly AuditEvent[]): Promise<void>;
  /** Hands committed events to the sink, after the response; never throws. */
  emit(events: readonly AuditEvent[]): void;
}

/** Detail keys that could carry a secret are never recorded, whatever a caller passes. */
const SECRET_KEY = /password|passwd|token|secret|cookie|code|otp|credential|hash|key/i;
/** Whole detail objects are small: longer strings are cut. */
const MAX_DETAIL_STRING = 200;
const MAX_DETAIL_KEYS = 16;

function cleanDetail(detail: Record<string, unknown> | undefined): Record<string, unknown> {
  const clean: Record<string, unknown> = {};
  if (!detail) return clean;
  for (const [key, value] of Object.entries(detail).slice(0, MAX_DETAIL_KEYS)) {
    if (SECRET_KEY.test(key)) continue;
    if (typeof value === "string") clean[key] = value.slice(0, MAX_DETAIL_STRING);
    else if (typeof value === "number" || typeof value === "boolean" || value === null) clean[key] = value;
  }
  return clean;
}

/**
 * How many keys {@link Audit.recordOnce} remembers. Past it the oldest windows are forgotten first: their next
 * event is recorded again, and the memory a client can make the process hold stays bounded.
 */
const MAX_ONCE_KEYS = 10_000;

/** Client details are recorded cut to the columns' sizes. */
function clip(value: string | null | undefined, max: number): string | null {
  return typeof value === "string" && value.length > 0 ? value.slice(0, max) : null;
}

export function createAudit(store: AuditStore, options: AuditOptions, now: () => number): Audit {
  const retentionDays = options.auditRetentionDays ?? 400;
  if (!Number.isInteger(retentionDays) || retentionDays < 1)
    throw new ConfigurationError("auditRetentionDays must be a whole number of days, 1 or more.");
  const { onEvent } = options;
  if (onEvent !== undefined && typeof onEvent !== "function")
    throw new ConfigurationError("onEvent must be a function that takes an audit event.");

  /** Logs a sink's failure. Whatever it threw is only looked at here, and looking must not throw in turn. */
  function failed(error: unknown): void {
    try {
      console.error("gatehouse: the audit sink failed:", error instanceof Error ? error.message : error);
    } catch {
      // A value no look survives (a revoked proxy): said without it, rather than thrown out of a timer.
      console.error("gatehouse: the audit sink failed (with a value that cannot be shown).");
    }
  }

  function deliver(event: AuditEvent): void {
    try {
      Promise.resolve(onEvent?.(structuredClone(event))).catch(failed);
    } catch (error) {
      failed(error);
    }
  }

  /** The end of each {@link Audit.recordOnce} key's window (ms), oldest first (the Map keeps insertion order). */
  const windows = new Map<string, number>();

  /** Whether `key` has no open window at `time`; if so, opens one. */
  function opens(key: string, windowMs: number, time: number): boolean {
    const until = windows.get(key);
    if (until !== undefined && until > time) return false;
    // Deleted and set again, so the Map stays in the order the windows opened.
    windows.delete(key);
    if (windows.size >= MAX_ONCE_KEYS) {
      for (const [oldest, end] of windows) {
        if (end > time && windows.size < MAX_ONCE_KEYS) break;
        windows.delete(oldest);
      }
    }
    windows.set(key, time + windowMs);
    return true;
  }

  const audit: Audit = {
    retentionDays,
    event(type, init = {}) {
      const user = init.user ?? null;
      return {
        id: randomToken(16),
        at: new Date(now()),
        type,
        outcome: init.outcome ?? "success",
        userId: user?.id ?? null,
        userEmail: clip(user?.email ?? init.email, 254),
        actorType: init.actor?.type ?? (user ? "user" : "system"),
        actorId: init.actor ? init.actor.id : (user?.id ?? null),
        ip: clip(init.meta?.ip, 64),
        userAgent: clip(init.meta?.userAgent, 512),
        detail: cleanDetail(init.detail),
      };
    },
    async record(events) {
      if (events.length === 0) return;
      await store.recordEvents(events);
      audit.emit(events);
    },
    async recordOnce(key, windowMs, events) {
      if (!opens(key, windowMs, now())) return;
      try {
        await audit.record(events);
      } catch (error) {
        // Not recorded after all: the next one must be.
        windows.delete(key);
        throw error;
      }
    },
    emit(events) {
      if (!onEvent || events.length === 0) return;
      setImmediate(() => {
        for (const event of events) deliver(event);
      });
    },
  };
  return audit;
}

import type { SessionStrategyName } from "../core/config.js";
import type { UserRecord } from "../store/types.js";

/** What a client may know about its own session. */
export interface SessionInfo {
  /** The session's id (never its secret). */
  id: string;
  strategy: SessionStrategyName;
  createdAt: Date;
  expiresAt: Date;
}

/** A session that passed the secure check. */
export interface ValidSession {
  user: UserRecord;
  session: SessionInfo;
  /** Set when the session was extended: the cookie must be re-sent with this value and expiry. */
  renewed: { value: string; expiresAt: Date } | null;
}

/** Request details recorded with a new session. */
export interface SessionMeta {
  userAgent?: string | null;
  ip?: string | null;
}

/** One way of keeping sessions (database or stateless), behind the same four operations. */
export interface SessionStrategy {
  create(user: UserRecord, meta: SessionMeta): Promise<{ value: string; expiresAt: Date }>;
  /** The authoritative check. `null` for anything that is not a live session. */
  validate(value: string): Promise<ValidSession | null>;
  /** Ends the session the cookie value names, if any. */
  revoke(value: string): Promise<void>;
}

/** When a session that expires at `expiresAt` should be extended, and to when. */
export function slideExpiry(
  createdAt: number,
  expiresAt: number,
  now: number,
  maxAgeMs: number,
  absoluteMaxAgeMs: number,
): number | null {
  if (expiresAt - now > maxAgeMs / 2) return null;
  const extended = Math.min(now + maxAgeMs, createdAt + absoluteMaxAgeMs);
  return extended > expiresAt ? extended : null;
}

import type { SessionStrategyName } from "./config.js";
import type { SessionRecord, SessionUser } from "./store.js";

/** What a client may know about its own session. */
export interface SessionInfo {
  /** The session's id (never its secret). */
  id: string;
  strategy: SessionStrategyName;
  createdAt: Date;
  expiresAt: Date;
  /**
   * The id of the administrator viewing the app as this session's user (impersonation, for support); `null`
   * for the user's own session. Such a session ends 30 minutes after it was created, and cannot change the
   * password, the email or a second factor.
   */
  impersonatedBy: string | null;
}

/** A session that passed the secure check, with the user as the store keeps it. Internal to the library. */
export interface ValidSession<User extends SessionUser = SessionUser> {
  user: User;
  session: SessionInfo;
  /** Set when the session was extended or rotated: the cookie must be re-sent with this value and expiry. */
  renewed: { value: string; expiresAt: Date } | null;
}

/** Request details recorded with a new session. */
export interface SessionMeta {
  userAgent?: string | null;
  ip?: string | null;
}

/**
 * Request details a password check or a log-in needs: the client's address and its `Cookie` header (the
 * device cookie a log-in left there; the session a new log-in replaces).
 */
export interface RequestMeta extends SessionMeta {
  cookieHeader?: string | null;
}

/**
 * How a strategy turns a session record into a cookie value and back. The session lifecycle (expiry,
 * idle timeout, sliding, rotation, revocation) is the same for both strategies and lives in the manager.
 */
export interface SessionCodec {
  /** A cookie value for a new session record, and the secret hash to store with it. */
  issue(session: Omit<SessionRecord, "secretHash">): Promise<{ value: string; secretHash: string }>;
  /** The cookie value for an existing session whose expiry moved (may be `previousValue` itself). */
  reissue(session: SessionRecord, previousValue: string): Promise<string>;
  /**
   * The session id a cookie value names, whether the value itself says it has expired, and a check that
   * the stored record belongs to it; `null` for a value that is malformed or tampered with.
   */
  parse(value: string): Promise<{ id: string; expired: boolean; matches(session: SessionRecord): boolean } | null>;
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

/** A session record. For database sessions only the SHA-256 of the token's secret is kept; stateless ones keep none. */
export interface SessionRecord {
  id: string;
  userId: string;
  secretHash: string;
  /** The user's `sessionVersion` when the session was issued. */
  userVersion: number;
  /** The user's `revocationEpoch` when the session was first issued; a rotation copies it. */
  revocationEpoch: number;
  createdAt: Date;
  expiresAt: Date;
  /** Updated at most once a minute per session, so a busy user does not cost a write per request. */
  lastSeenAt: Date;
  userAgent: string | null;
  ip: string | null;
  /**
   * The administrator viewing the app as this session's user (impersonation, for support); absent or `null`
   * for the user's own session. Such a session lasts at most 30 minutes and cannot change the password, the
   * email or a second factor.
   */
  impersonatedBy?: string | null;
  /**
   * The administrator's `revocationEpoch` when the impersonation began: once theirs moves on (they signed out
   * everywhere, or their password was changed or reset), the impersonation ends with their own sessions.
   */
  impersonatorEpoch?: number | null;
}

/**
 * The role of the administrators who may view the app as a user (impersonation): an impersonation ends once its
 * administrator no longer has it. The admin console's role, `ADMIN_ROLE`, is this one.
 */
export const IMPERSONATOR_ROLE = "admin";

/** What the session layer needs to know of a user. */
export interface SessionUser {
  id: string;
  /**
   * The user's privilege version. Bumped when their role changes or their address is verified; a session
   * issued under an older version is rotated (new id, same deadlines) at its next check.
   */
  sessionVersion: number;
  /**
   * The user's revocation epoch, moved on when their sessions are ended (password change or reset,
   * revoke-all, "sign out other sessions"); a session record of an older epoch is refused, never rotated.
   */
  revocationEpoch: number;
  /** When the user was banned; a banned user's sessions are refused. Absent or `null`: not banned. */
  bannedAt?: Date | null;
  /** The user's role: the impersonations an administrator started last only while it is {@link IMPERSONATOR_ROLE}. */
  role?: string;
}

/** Which of a user's sessions are dead: expired, idle too long, past the absolute cap, or revoked. */
export interface DeadSessions {
  /** Now, in ms since the epoch. */
  now: number;
  idleTimeoutMs: number;
  absoluteMaxAgeMs: number;
  /** Records of an older revocation epoch than this are revoked. */
  epoch: number;
}

/**
 * Where sessions live: the SQL stores, or Redis. Expected absences resolve to `null`; a broken or unreachable
 * backend rejects with `StoreUnavailableError`.
 */
export interface SessionStore<User extends SessionUser = SessionUser> {
  /**
   * Stores a new session. With `sweep`, the same transaction deletes the user's other sessions that are dead
   * by its rules: sessions never presented again would otherwise stay forever, and a log-in is a cheap time.
   */
  createSession(session: SessionRecord, options?: { sweep?: DeadSessions }): Promise<void>;
  getSession(sessionId: string): Promise<SessionRecord | null>;
  /**
   * The session and its user in one read, for a store that keeps users too: the per-request lookup. A record
   * of an older revocation epoch than its user's may be answered as `null` (the caller refuses it either way).
   */
  getSessionAndUser?(sessionId: string): Promise<{ session: SessionRecord; user: User } | null>;
  /** The user's sessions, expired ones included (callers filter), in no particular order. */
  listUserSessions(userId: string): Promise<SessionRecord[]>;
  /** Records activity: a new last-seen time and, when the session slid forward, a new expiry. */
  touchSession(sessionId: string, update: { lastSeenAt: Date; expiresAt: Date }): Promise<void>;
  /** `true` when a session was deleted. */
  deleteSession(sessionId: string): Promise<boolean>;
  /**
   * Deletes the user's sessions, all of them or all but `keep`; `keep` moves to revocation epoch `epoch` if it
   * was of the one before. Resolves to how many were deleted. For a session store apart from the user store,
   * after the user store has moved the user to `epoch`.
   */
  deleteUserSessions(userId: string, options?: { keep?: string; epoch?: number }): Promise<number>;
}

/** Finds users by id: how the session layer reads a user when the session store does not keep them. */
export interface UserLookup<User extends SessionUser = SessionUser> {
  getUserById(id: string): Promise<User | null>;
}

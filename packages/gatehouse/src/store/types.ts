/** A user as the store keeps it. Never send this to a client: use {@link toUserDTO}. */
export interface UserRecord {
  id: string;
  email: string;
  name: string | null;
  role: string;
  passwordHash: string;
  /** Bumped to revoke every stateless session of the user at once. */
  sessionVersion: number;
  createdAt: Date;
  updatedAt: Date;
}

/** A database session. Only the SHA-256 of the token's secret is kept. */
export interface SessionRecord {
  id: string;
  userId: string;
  secretHash: string;
  createdAt: Date;
  expiresAt: Date;
  userAgent: string | null;
  ip: string | null;
}

export interface NewUser {
  id: string;
  email: string;
  name: string | null;
  role: string;
  passwordHash: string;
}

export interface UserUpdate {
  name?: string | null;
  role?: string;
  passwordHash?: string;
}

/**
 * Where Gatehouse keeps users and sessions. Kept small on purpose: every backend implements exactly this.
 * Expected absences resolve to `null`; a broken or unreachable backend rejects with `StoreUnavailableError`.
 */
export interface Store {
  /** Applies pending migrations; safe to call more than once. */
  migrate(): Promise<void>;
  /** Inserts a user; rejects with `EmailTakenError` when the email is already registered. */
  createUser(user: NewUser): Promise<UserRecord>;
  getUserById(id: string): Promise<UserRecord | null>;
  getUserByEmail(email: string): Promise<UserRecord | null>;
  listUsers(): Promise<UserRecord[]>;
  /** Returns the updated user, or `null` when there is no such user. */
  updateUser(id: string, update: UserUpdate): Promise<UserRecord | null>;
  /** Increments the user's session version and returns the new one (`null`: no such user). */
  bumpSessionVersion(userId: string): Promise<number | null>;
  deleteUser(id: string): Promise<boolean>;

  createSession(session: SessionRecord): Promise<void>;
  /** The session and its user in one read: this is the per-request lookup of the database strategy. */
  getSessionAndUser(sessionId: string): Promise<{ session: SessionRecord; user: UserRecord } | null>;
  updateSessionExpiry(sessionId: string, expiresAt: Date): Promise<void>;
  deleteSession(sessionId: string): Promise<void>;
  deleteUserSessions(userId: string): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
}

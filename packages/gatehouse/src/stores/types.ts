import type { DeadSessions, SessionRecord, SessionStore, SessionUser, UserLookup } from "../session/store.js";

export type { SessionRecord } from "../session/store.js";

/** A user as the store keeps it. Never send this to a client: use {@link toUserDTO}. */
export interface UserRecord extends SessionUser {
  id: string;
  email: string;
  name: string | null;
  role: string;
  passwordHash: string;
  /** When the user proved they receive mail at `email`; `null` while unverified. */
  emailVerifiedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
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
  /** A new address; the update rejects with `EmailTakenError` when another user has it. */
  email?: string;
  emailVerifiedAt?: Date | null;
}

/** What a one-time email token is for. */
export type TokenPurpose = "verify_email" | "change_email" | "reset_password";

/**
 * A one-time token sent by email (a link or a code). Only the SHA-256 of the token is kept, so a copy of the
 * database cannot be used to verify an address or reset a password.
 */
export interface TokenRecord {
  /** SHA-256 of the token, lowercase hex: the lookup key. */
  tokenHash: string;
  purpose: TokenPurpose;
  userId: string;
  /** The address the token was sent to: the one being verified, or the new one for an email change. */
  email: string;
  /**
   * The user's revocation epoch when the token was asked for. An email-change or reset token of an older
   * epoch than the user's is void: ending all sessions voids the links asked for before it.
   */
  revocationEpoch: number;
  createdAt: Date;
  expiresAt: Date;
}

/** A message kept in the development outbox instead of being sent. */
export interface OutboxMessage {
  id: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  createdAt: Date;
}

/**
 * Where users live, with everything that must change together with them in one transaction. Expected
 * absences resolve to `null`; a broken or unreachable backend rejects with `StoreUnavailableError`.
 */
export interface UserStore extends UserLookup<UserRecord> {
  /** Inserts a user; rejects with `EmailTakenError` when the email is already registered. */
  createUser(user: NewUser): Promise<UserRecord>;
  getUserByEmail(email: string): Promise<UserRecord | null>;
  listUsers(): Promise<UserRecord[]>;
  /**
   * Returns the updated user, or `null` when there is no such user — or, with `ifPasswordHash`, when the
   * stored hash is no longer that one (a rehash must not undo a password change that came between).
   */
  updateUser(id: string, update: UserUpdate, options?: { ifPasswordHash?: string }): Promise<UserRecord | null>;
  /** Increments the user's session version and returns the new one (`null`: no such user). */
  bumpSessionVersion(userId: string): Promise<number | null>;
  /** Deletes the user with their tokens (and their sessions, where this store keeps them). */
  deleteUser(id: string): Promise<boolean>;
  /**
   * Ends the user's sessions, all of them or all but `keep`, as one transaction: the user moves to a new
   * revocation epoch (so a session record of an older one is refused, even one written concurrently),
   * `update` is applied, the sessions this store keeps are deleted (`keep` moves to the new epoch, if it was
   * of the one before), and pending email-change and password-reset tokens are voided. Either all of it
   * happens or none. `null`: no such user, or with `ifEpoch`, the user is no longer in that epoch (nothing
   * changed).
   */
  endSessions(
    userId: string,
    options?: { keep?: string; update?: UserUpdate; ifEpoch?: number },
  ): Promise<{ ended: number; epoch: number } | null>;
}

/** One-time email tokens (links and codes). */
export interface TokenStore {
  /**
   * Stores a one-time token. With `replace`, the user's other tokens of the same purpose are deleted in the
   * same step, so only the newest link works.
   */
  createToken(token: TokenRecord, options: { replace: boolean }): Promise<void>;
  /**
   * Deletes and returns the token with this hash if its purpose is one of `purposes`; expired ones too (the
   * caller checks `expiresAt`). Of concurrent calls for one token, only one receives it.
   */
  consumeToken(tokenHash: string, purposes: readonly TokenPurpose[]): Promise<TokenRecord | null>;
  /** Deletes the user's tokens of one purpose, except the one named; resolves to how many were deleted. */
  deleteUserTokens(userId: string, purpose: TokenPurpose, options?: { except?: string }): Promise<number>;
}

/** Brute-force counters: fixed windows, and attempts reserved before a password hash. */
export interface RateLimitStore {
  /**
   * Counts one hit against `key` in a fixed window: a window that has ended starts over at 1 and ends
   * `windowMs` after `now`. Resolves to the window's count after this hit and when it ends.
   */
  hitRateLimit(key: string, windowMs: number, now: number): Promise<RateLimitWindow>;
  /** The current window of `key`, or `null` when there is none or it has ended. */
  peekRateLimit(key: string, now: number): Promise<RateLimitWindow | null>;
  resetRateLimit(key: string): Promise<void>;
  /** Deletes `prefix` and every counter whose key starts with `prefix` followed by `:`. */
  resetRateLimitFamily(prefix: string): Promise<void>;
  /**
   * Reserves an attempt against each counter before the work they limit (a password hash), in one step (one
   * transaction where the backend has them): counted like a hit and marked in flight. Resolves, in the same
   * order, to each window's count (failed and in-flight attempts, this one included), how many of those are in
   * flight, and when the window ends.
   */
  reserveAttempts(requests: readonly AttemptRequest[], now: number): Promise<AttemptWindow[]>;
  /**
   * Settles attempts reserved by {@link RateLimitStore.reserveAttempts}, each in the window that ends at its
   * `resetAt`, in one step (one transaction where the backend has them): no longer in flight, and counted only
   * if they `failed`; nothing changes in a window that has ended since. The counters named in `clear` (a
   * success that resets its own counters, its own attempt among them) forget their failures: they go back to the
   * other attempts still in flight on them, which stay counted until they settle. A counter at 0 stays until its
   * window ends.
   */
  settleAttempts(
    attempts: readonly ReservedAttempt[],
    failed: boolean,
    options?: { clear?: readonly string[] },
  ): Promise<void>;
}

/** The development outbox: messages kept instead of sent (see `createOutboxMailer`). */
export interface OutboxStore {
  /** Keeps a message in the development outbox. */
  addOutboxMessage(message: OutboxMessage): Promise<void>;
  /** The newest `limit` outbox messages, newest first. */
  listOutboxMessages(limit: number): Promise<OutboxMessage[]>;
}

/** What a store that owns a schema or connections offers besides its role. */
export interface StoreLifecycle {
  /** Applies pending migrations; safe to call more than once. */
  migrate(): Promise<void>;
  /**
   * Deletes what has ended by `now`: rate-limit windows, sessions, and tokens that expired a week before it
   * (until then a late click is told the link expired).
   */
  sweepExpired(now: number): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
}

/**
 * A store that plays every role: what the SQL stores (`createSqliteStore`, `createPostgresStore`,
 * `createMysqlStore`) return, and what `createGatehouse({ store })` takes. Another backend can take over a
 * role: `createGatehouse({ store, sessionStore: redis, rateLimitStore: redis })`.
 */
export interface Store
  extends UserStore,
    SessionStore<UserRecord>,
    TokenStore,
    RateLimitStore,
    OutboxStore,
    StoreLifecycle {
  /** The session and its user in one read (see {@link SessionStore.getSessionAndUser}): a SQL store has both. */
  getSessionAndUser(sessionId: string): Promise<{ session: SessionRecord; user: UserRecord } | null>;
  /**
   * Gathers writes of several roles whose answers nobody waits for, to commit them as one transaction: a
   * log-in's settled counters and its new session. Asynchronous like every store call, so that a wrapper around
   * the store (for tracing, say) can treat all its methods alike.
   */
  writeBatch(): Promise<WriteBatch>;
}

/** Writes gathered by {@link Store.writeBatch}; nothing is written until {@link WriteBatch.commit}. */
export interface WriteBatch {
  settleAttempts(attempts: readonly ReservedAttempt[], failed: boolean, options?: { clear?: readonly string[] }): void;
  createSession(session: SessionRecord, options?: { sweep?: DeadSessions }): void;
  /**
   * Writes what was gathered since the last commit, as one transaction; nothing gathered, nothing written. If
   * the transaction fails, the settled counters are still written on their own before the error is thrown.
   */
  commit(): Promise<void>;
}

/**
 * The stores of a deployment, by role, as `createGatehouse` takes them: `store` plays every role that is not
 * given to another store here.
 */
export interface StoreOptions {
  /** Where users, tokens and the outbox live, and sessions and counters unless given below. */
  store: Store;
  /** Where sessions live instead, e.g. `createRedisStore(...)`. */
  sessionStore?: SessionStore<UserRecord>;
  /** Where rate-limit counters live instead, e.g. `createRedisStore(...)`. */
  rateLimitStore?: RateLimitStore;
}

/** A rate-limit counter: how many hits in the window, and when the window ends (ms since the epoch). */
export interface RateLimitWindow {
  count: number;
  resetAt: number;
}

/** An attempt to reserve against `key`, in a window of `windowMs`. */
export interface AttemptRequest {
  key: string;
  windowMs: number;
}

/** An attempt reserved against `key` in the window that ends at `resetAt`. */
export interface ReservedAttempt {
  key: string;
  resetAt: number;
}

/** A window of reserved attempts: {@link RateLimitWindow} plus how many of its attempts are still in flight. */
export interface AttemptWindow extends RateLimitWindow {
  pending: number;
}

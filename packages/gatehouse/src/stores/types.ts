import type { DeadSessions, SessionRecord, SessionStore, SessionUser, UserLookup } from "../session/store.js";

export type { SessionRecord } from "../session/store.js";

/** A user as the store keeps it. Never send this to a client: use {@link toUserDTO}. */
export interface UserRecord extends SessionUser {
  id: string;
  email: string;
  name: string | null;
  role: string;
  /** The argon2id hash of the password; `null` for an account without one (created by an OAuth sign-in). */
  passwordHash: string | null;
  /** When the user proved they receive mail at `email`; `null` while unverified. */
  emailVerifiedAt: Date | null;
  /** Whether an authenticator app (TOTP) is on: a log-in then needs its second step. */
  totpEnabled: boolean;
  /** When an administrator banned the user; `null` when not banned. A banned user cannot sign in. */
  bannedAt: Date | null;
  /** The administrator's reason for the ban, shown to admins only; `null` when none was given. */
  banReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewUser {
  id: string;
  email: string;
  name: string | null;
  role: string;
  passwordHash: string | null;
  /** Default `null`: not verified. */
  emailVerifiedAt?: Date | null;
}

/**
 * What a password reset takes back, in the transaction that ends the sessions: whoever receives the mail owns
 * the address, and an account's ways in that its owner may not have added go.
 */
export interface Reclaim {
  /** The account's address, which the reset proved. */
  email: string;
  /**
   * The address had never been verified: someone else may have registered it first (account pre-hijacking). Then
   * every second factor, passkey and identity goes, but identities whose provider verified `email` itself;
   * otherwise only identities whose provider email was unverified.
   */
  unproven: boolean;
}

export interface UserUpdate {
  name?: string | null;
  role?: string;
  passwordHash?: string;
  /** A new address; the update rejects with `EmailTakenError` when another user has it. */
  email?: string;
  emailVerifiedAt?: Date | null;
  /** A ban (a time) or its end (`null`); see {@link UserRecord.bannedAt}. */
  bannedAt?: Date | null;
  banReason?: string | null;
}

/**
 * What a change writes with it, in its own transaction where the backend has transactions: the audit events
 * that describe it and the mail it sends (a token's mail beside the token). Written only when the change
 * happens: a call that resolves to "nothing changed" (`null`, `false`, a refusal) writes none of it.
 */
export interface Effects {
  events?: readonly AuditEvent[];
  mail?: readonly QueuedMail[];
}

/** Guards a write that could leave no administrator: see {@link UserStore.updateUser}. */
export interface KeepAdmin {
  /** The administrators' role, e.g. `admin`. */
  role: string;
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

/** A message of the development outbox (see `createOutboxMailer`): kept, readable, never sent. */
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
  createUser(user: NewUser, options?: { effects?: Effects }): Promise<UserRecord>;
  getUserByEmail(email: string): Promise<UserRecord | null>;
  listUsers(): Promise<UserRecord[]>;
  /**
   * Users whose email or name contains `query` (case-insensitive; `%` and `_` are literal), ordered by email,
   * `limit` at a time: `cursor` is the `nextCursor` of the page before (`null`: the first page); one the store
   * did not make rejects with `InvalidInputError` (`cursor`). An empty query lists everyone.
   */
  searchUsers(query: { query: string; cursor: string | null; limit: number }): Promise<{
    users: UserRecord[];
    nextCursor: string | null;
  }>;
  /**
   * Returns the updated user, or `null` when there is no such user — or, with `ifPasswordHash`, when the
   * stored hash is no longer that one (a rehash must not undo a password change that came between). With
   * `keepAdmin`, rejects with `LastAdminError` (nothing written) when the update would leave no unbanned user
   * of that role: checked and written in one transaction that locks the role's users, so two admins demoting
   * each other at once cannot both succeed.
   */
  updateUser(
    id: string,
    update: UserUpdate,
    options?: { ifPasswordHash?: string; keepAdmin?: KeepAdmin; effects?: Effects },
  ): Promise<UserRecord | null>;
  /** Increments the user's session version and returns the new one (`null`: no such user). */
  bumpSessionVersion(userId: string, options?: { effects?: Effects }): Promise<number | null>;
  /**
   * Deletes the user with their tokens, second factors, passkeys, challenges and identities (and their
   * sessions, where this store keeps them). With `keepAdmin`, rejects with `LastAdminError` (nothing deleted)
   * when the user is the last unbanned one of that role (see {@link UserStore.updateUser}). Their audit events
   * stay: the log outlives the account.
   */
  deleteUser(id: string, options?: { keepAdmin?: KeepAdmin; effects?: Effects }): Promise<boolean>;
  /**
   * Ends the user's sessions, all of them or all but `keep`, as one transaction: the user moves to a new
   * revocation epoch (so a session record of an older one is refused, even one written concurrently),
   * `update` is applied, the sessions this store keeps are deleted (`keep` moves to the new epoch, if it was
   * of the one before), and pending email-change and password-reset tokens are voided. Either all of it
   * happens or none. `null`: no such user, or with `ifEpoch`, the user is no longer in that epoch (nothing
   * changed). With `reclaim` (a password reset), the same transaction removes what someone other than the
   * owner of the address could have added (see {@link Reclaim}).
   */
  endSessions(
    userId: string,
    options?: {
      keep?: string;
      update?: UserUpdate;
      ifEpoch?: number;
      reclaim?: Reclaim;
      /** As for {@link UserStore.updateUser}: a ban of the last admin is refused. */
      keepAdmin?: KeepAdmin;
      effects?: Effects;
    },
  ): Promise<{ ended: number; epoch: number } | null>;
}

/** One-time email tokens (links and codes). */
export interface TokenStore {
  /**
   * Stores a one-time token. With `replace`, the user's other tokens of the same purpose are deleted in the
   * same step, so only the newest link works.
   */
  createToken(token: TokenRecord, options: { replace: boolean; effects?: Effects }): Promise<void>;
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

/** Who did something the audit log records. */
export type AuditActorType = "user" | "admin" | "cli" | "system";

/**
 * One security event of the audit log. Never holds a password, token, code, secret or cookie: `detail` is a
 * small JSON object of names and ids (a reason, a role, a provider, a session id).
 */
export interface AuditEvent {
  /** Random and unique; with `at`, the order of the log. */
  id: string;
  at: Date;
  /** E.g. `login.success`, `user.ban`: see `AUDIT_EVENT_TYPES`. */
  type: string;
  outcome: "success" | "failure";
  /** The user the event is about; `null` when there is none (a failed log-in for an unknown address). */
  userId: string | null;
  /** Their email at the time (for an unknown account, the address that was tried). */
  userEmail: string | null;
  actorType: AuditActorType;
  /** The acting user's id (the user themselves, or the admin); `null` for the CLI and the system. */
  actorId: string | null;
  ip: string | null;
  userAgent: string | null;
  detail: Record<string, unknown>;
}

/** Which events a page of the log holds, and where it starts. */
export interface AuditQuery {
  userId?: string;
  type?: string;
  /** Only events at or after this time. */
  since?: Date;
  /** `newest` first (the default: a page for a person) or `oldest` first (an export, a tail). */
  order?: "newest" | "oldest";
  /** The `{ at, id }` of the last event of the page before: this page starts after it, in `order`. */
  after?: { at: Date; id: string } | null;
  limit: number;
}

/** The audit log: events written with the changes they describe (see {@link Effects}) or on their own. */
export interface AuditStore {
  /** Writes events of something that changed nothing else (a failed log-in), or whose change lives elsewhere. */
  recordEvents(events: readonly AuditEvent[]): Promise<void>;
  listEvents(query: AuditQuery): Promise<AuditEvent[]>;
  /** Deletes the events before `before` (retention); resolves to how many. */
  deleteEventsBefore(before: Date): Promise<number>;
}

/** An email waiting in the durable outbox. */
export interface QueuedMail {
  id: string;
  to: string;
  subject: string;
  /** The text and HTML bodies, sealed with a key derived from the app's secret: they may carry a link's token. */
  sealedBody: string;
  createdAt: Date;
}

/** Where a message of the durable outbox stands. */
export type MailStatus = "pending" | "sent" | "failed";

/** A message of the durable outbox, as the sender and admins see it. */
export interface MailRecord extends QueuedMail {
  status: MailStatus;
  /** Delivery attempts so far; a claim counts one. */
  attempts: number;
  /** When a pending message may be tried (again). */
  nextAttemptAt: Date;
  /** Why the last attempt failed (the mail server's answer, never the body). */
  lastError: string | null;
  sentAt: Date | null;
}

/** How a claimed delivery attempt ended. */
export type MailOutcome =
  /** Delivered. The sealed body is erased (`""`) unless `keepBody` (the development outbox shows it). */
  | { status: "sent"; keepBody: boolean }
  /** Failed for now: tried again from `nextAttemptAt`. */
  | { status: "pending"; error: string; nextAttemptAt: Date }
  /** Failed for good: kept, marked, shown to admins and `gatehouse doctor`. */
  | { status: "failed"; error: string };

/**
 * The durable outbox: mail is written here in the transaction of the change it belongs to (see
 * {@link Effects}), and a sender delivers it, with retries. A process that dies after answering loses none.
 */
export interface MailStore {
  /** Queues mail that belongs to no other write (a notice). Due at once. */
  enqueueMail(mail: readonly QueuedMail[]): Promise<void>;
  /**
   * Claims up to `limit` messages due by `now`: pending ones whose `nextAttemptAt` has come, oldest first. Each
   * claim adds an attempt and hides the message from other claims for `leaseMs` (a sender that died holding it
   * gives it back then). Of concurrent claimers, in any process, each message goes to one.
   */
  claimMail(now: Date, limit: number, leaseMs: number): Promise<MailRecord[]>;
  /**
   * Settles the attempt a claim returned (`attempts` as claimed). `false` (nothing changed) when the message
   * was claimed again since, or is gone.
   */
  settleMail(id: string, attempts: number, outcome: MailOutcome): Promise<boolean>;
  /** Messages, newest first; with `status`, only those. */
  listMail(query: { status?: MailStatus; limit: number }): Promise<MailRecord[]>;
  /** How many messages are in each status. */
  countMail(): Promise<Record<MailStatus, number>>;
  /**
   * Puts a failed message back in the queue, due at `now`, and writes `effects` with it; `false` (nothing
   * written) when it is not failed.
   */
  retryMail(id: string, now: Date, options?: { effects?: Effects }): Promise<boolean>;
}

/** A user's authenticator-app secret: set up, then confirmed with a first code. */
export interface TotpRecord {
  userId: string;
  /** The base32 secret, sealed with a key derived from the app's secret: a copy of the database cannot read it. */
  sealedSecret: string;
  /** When a first code confirmed it (TOTP is on from then); `null` while only set up. */
  confirmedAt: Date | null;
  /** The last 30-second step whose code was accepted: that code and every earlier one are refused. */
  lastUsedStep: number | null;
  createdAt: Date;
}

/** A registered WebAuthn credential (passkey). */
export interface PasskeyRecord {
  /** Our id for it, safe to show and to put in URLs. */
  id: string;
  userId: string;
  /** The credential id the authenticator chose, base64url. */
  credentialId: string;
  /** The credential's COSE public key, base64url. */
  publicKey: string;
  /** The signature counter last seen (0 for an authenticator that keeps none). */
  counter: number;
  transports: string[];
  /** `singleDevice` or `multiDevice` (synced). */
  deviceType: string;
  backedUp: boolean;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** What a short-lived challenge is for. */
export type ChallengePurpose = "mfa_pending" | "mfa_passkey" | "passkey_register" | "passkey_login" | "oauth_flow";

/**
 * Short-lived, single-use state of a ceremony: a log-in waiting for its second step, or a WebAuthn challenge.
 * Only the SHA-256 of the handle the browser holds (in a cookie) is kept.
 */
export interface ChallengeRecord {
  /** SHA-256 of the handle, lowercase hex: the lookup key. */
  idHash: string;
  purpose: ChallengePurpose;
  /** The user it is bound to; `null` for a passkey sign-in, whose user is not known until the answer. */
  userId: string | null;
  /** The WebAuthn challenge (base64url); `""` for a pending log-in. */
  challenge: string;
  /** The user's revocation epoch when it was made: ending their sessions voids it. */
  revocationEpoch: number;
  createdAt: Date;
  expiresAt: Date;
}

/** What {@link FactorStore.removeFactors} removed. */
export interface RemovedFactors {
  totp: boolean;
  recoveryCodes: number;
  passkeys: number;
}

/** A user's second factors at a glance: read on every password log-in, in one round trip. */
export interface FactorSummary {
  /** TOTP is confirmed (on). */
  totp: boolean;
  passkeys: number;
  recoveryCodes: number;
}

/**
 * Second factors, passkeys and ceremony challenges. Every call that decides something (a code's step, a
 * recovery code, a challenge) is one atomic statement or transaction: of concurrent callers, one wins.
 */
export interface FactorStore {
  getFactorSummary(userId: string): Promise<FactorSummary>;
  getTotp(userId: string): Promise<TotpRecord | null>;
  /**
   * Stores a new, unconfirmed TOTP secret, replacing an unconfirmed one. `false` (nothing changed) when the
   * user's TOTP is already confirmed, or there is no such user.
   */
  saveTotpSetup(userId: string, sealedSecret: string, createdAt: Date): Promise<boolean>;
  /**
   * Turns TOTP on, in one transaction: confirms the setup whose secret is `sealedSecret` (not one that replaced
   * it meanwhile), records `step` as used, and replaces the recovery codes with `codeHashes`. `false` when that
   * setup is no longer there unconfirmed.
   */
  confirmTotp(
    userId: string,
    sealedSecret: string,
    step: number,
    codeHashes: readonly string[],
    now: Date,
    options?: { effects?: Effects },
  ): Promise<boolean>;
  /** Records `step` as used if it is later than the last one used, atomically; `false` (a replay) otherwise. */
  spendTotpStep(userId: string, step: number): Promise<boolean>;
  /** Removes TOTP (confirmed or not) and the recovery codes, in one transaction; `false` when TOTP was not on. */
  disableTotp(userId: string, options?: { effects?: Effects }): Promise<boolean>;
  /** Replaces the user's recovery codes, in one transaction, while TOTP is on; `false` when it is not. */
  replaceRecoveryCodes(
    userId: string,
    codeHashes: readonly string[],
    now: Date,
    options?: { effects?: Effects },
  ): Promise<boolean>;
  /** Deletes the user's recovery code with one of these hashes; `true` for the one caller that deleted it. */
  consumeRecoveryCode(userId: string, codeHashes: readonly string[], options?: { effects?: Effects }): Promise<boolean>;
  /**
   * Stores a passkey; `false` (nothing stored) when its credential is registered already, to anyone — or, with
   * `ifEpoch`, when the user is no longer in that revocation epoch (their sessions were ended meanwhile).
   */
  createPasskey(passkey: PasskeyRecord, options?: { ifEpoch?: number; effects?: Effects }): Promise<boolean>;
  getPasskeyByCredentialId(credentialId: string): Promise<PasskeyRecord | null>;
  /** The user's passkeys, newest first. */
  listPasskeys(userId: string): Promise<PasskeyRecord[]>;
  /**
   * Records a use: the new counter and time, only if the stored counter is still `previousCounter` (two
   * sign-ins racing with one counter value: one wins). `false` otherwise.
   */
  recordPasskeyUse(
    id: string,
    previousCounter: number,
    update: { counter: number; lastUsedAt: Date },
  ): Promise<boolean>;
  /** Renames the user's passkey; `null` when the user has no passkey with that id. */
  renamePasskey(userId: string, id: string, name: string): Promise<PasskeyRecord | null>;
  /**
   * Deletes the user's passkey, in one transaction, unless it is their last way to sign in: no password, no
   * other passkey and no linked identity (`last_method`). `not_found` when the user has no passkey with that id.
   */
  deletePasskey(
    userId: string,
    id: string,
    options?: { effects?: Effects },
  ): Promise<"deleted" | "not_found" | "last_method">;
  /** Stores a challenge, replacing one with the same `idHash`. */
  createChallenge(challenge: ChallengeRecord): Promise<void>;
  /** The challenge with this hash and purpose, without using it up; expired ones too (callers check). */
  getChallenge(idHash: string, purpose: ChallengePurpose): Promise<ChallengeRecord | null>;
  /** Deletes and returns the challenge with this hash and purpose; of concurrent calls, only one receives it. */
  consumeChallenge(idHash: string, purpose: ChallengePurpose): Promise<ChallengeRecord | null>;
  /** Removes every second factor and passkey of the user, in one transaction (an administrator's reset). */
  removeFactors(userId: string, options?: { effects?: Effects }): Promise<RemovedFactors>;
}

/** An account at an OAuth or OpenID provider, linked to a user: (provider, subject) names it. */
export interface IdentityRecord {
  /** The provider's id in the app's configuration, e.g. `github`. */
  provider: string;
  /** The provider's stable id for the account (`sub`, or GitHub's numeric user id). */
  subject: string;
  userId: string;
  /** The email the provider gave, when it gave one. */
  email: string | null;
  /** Whether the provider said it verified that email. */
  emailVerified: boolean;
  /** The provider's tokens, sealed, when the provider is configured with `storeTokens`; else `null`. */
  sealedTokens: string | null;
  createdAt: Date;
}

/** Why {@link IdentityStore.linkIdentity} did or did not link. */
export type LinkResult = "linked" | "taken" | "provider_linked" | "no_user" | "stale";

/** Why {@link IdentityStore.unlinkIdentity} did or did not unlink. */
export type UnlinkResult = "unlinked" | "not_found" | "last_method";

/**
 * Accounts at OAuth and OpenID providers. Every call that decides something is one transaction: of concurrent
 * callers, one wins, and a user is never left without a way to sign in by two unlinks at once.
 */
export interface IdentityStore {
  getIdentity(provider: string, subject: string): Promise<IdentityRecord | null>;
  /** The user's identities, oldest first. */
  listIdentities(userId: string): Promise<IdentityRecord[]>;
  /**
   * Creates a user and their first identity, in one transaction. Rejects with `EmailTakenError` (nothing
   * written) when the email is registered; `null` (nothing written) when the identity exists already.
   */
  createUserWithIdentity(
    user: NewUser,
    identity: Omit<IdentityRecord, "userId">,
    options?: { effects?: Effects },
  ): Promise<UserRecord | null>;
  /**
   * Links an identity to `identity.userId`: `taken` when (provider, subject) is linked already (to anyone),
   * `provider_linked` when the user has another identity of this provider, `no_user` when the user is gone,
   * `stale` when the user is no longer in revocation epoch `ifEpoch` (their sessions were ended since the link
   * was started).
   */
  linkIdentity(identity: IdentityRecord, options?: { ifEpoch?: number; effects?: Effects }): Promise<LinkResult>;
  setIdentityTokens(provider: string, subject: string, sealedTokens: string | null): Promise<void>;
  /**
   * Removes the user's identity of `provider`, in one transaction, unless it is their last way to sign in: no
   * password, no passkey and no other identity (`last_method`).
   */
  unlinkIdentity(userId: string, provider: string, options?: { effects?: Effects }): Promise<UnlinkResult>;
}

/** What a store that owns a schema or connections offers besides its role. */
export interface StoreLifecycle {
  /** Applies pending migrations; safe to call more than once. */
  migrate(): Promise<void>;
  /**
   * Deletes what has ended by `now`: rate-limit windows, sessions, challenges, tokens that expired a week
   * before it (until then a late click is told the link expired), and sent mail more than a week old. With
   * `eventsBefore` (ms since the epoch), audit events older than that too (retention).
   */
  sweepExpired(now: number, options?: { eventsBefore?: number }): Promise<void>;
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
    AuditStore,
    MailStore,
    FactorStore,
    IdentityStore,
    StoreLifecycle {
  /** The session and its user in one read (see {@link SessionStore.getSessionAndUser}): a SQL store has both. */
  getSessionAndUser(sessionId: string): Promise<{ session: SessionRecord; user: UserRecord } | null>;
  /**
   * Gathers writes of several roles whose answers nobody waits for, to commit them as one transaction: a
   * log-in's settled counters and its new session. Asynchronous like every store call, so that a wrapper around
   * the store (for tracing, say) can treat all its methods alike.
   */
  writeBatch(): Promise<WriteBatch>;
  /** {@link SessionStore.deleteSession}, writing `effects` in the same transaction when a session was deleted. */
  deleteSession(sessionId: string, options?: { effects?: Effects }): Promise<boolean>;
}

/** Writes gathered by {@link Store.writeBatch}; nothing is written until {@link WriteBatch.commit}. */
export interface WriteBatch {
  settleAttempts(attempts: readonly ReservedAttempt[], failed: boolean, options?: { clear?: readonly string[] }): void;
  createSession(session: SessionRecord, options?: { sweep?: DeadSessions }): void;
  /** Writes `effects` (a log-in's event) in the same transaction. */
  record(effects: Effects): void;
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
  /** Where users, tokens, the audit log and the outbox live, and sessions and counters unless given below. */
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

import { type RolePermissions, roleHasPermission } from "../authz/roles.js";
import { randomToken } from "../crypto/random.js";
import { createSealer } from "../crypto/seal.js";
import {
  ConfigurationError,
  EmailUnverifiedError,
  InvalidCredentialsError,
  InvalidInputError,
  ReauthenticationRequiredError,
  UnauthenticatedError,
} from "../errors.js";
import { createArgon2idHasher, type PasswordHasher } from "../password/hasher.js";
import { normalizePassword } from "../password/policy.js";
import { createSessionCookie, type SessionCookie } from "../session/cookie.js";
import { createDatabaseCodec } from "../session/database.js";
import { createDeviceCookie, DEVICE_SEAL_PURPOSE, type DeviceCookie } from "../session/device-cookie.js";
import { createSessionManager, type SessionSummary } from "../session/manager.js";
import { createStatelessCodec, SESSION_SEAL_PURPOSE } from "../session/stateless.js";
import type { RequestMeta, SessionMeta, ValidSession } from "../session/types.js";
import type { Store, UserRecord } from "../store/types.js";
import { createAccounts } from "./accounts.js";
import {
  type CredentialConfig,
  type CredentialOptions,
  resolveCredentialConfig,
  resolveSessionConfig,
  type SessionCookieConfig,
  type SessionCookieOptions,
} from "./config.js";
import { toUserDTO, type UserDTO } from "./dto.js";
import { isValidEmail } from "./email.js";
import { createEmailFlows } from "./email-flows.js";
import { asRecord, field, newPasswordProblem, parseLogInInput, parseProfileInput, parseSignUpInput } from "./input.js";
import { type Budget, createRateLimiter, rateLimitKeys } from "./limiter.js";

/** Options for {@link createGatehouse}. */
export interface GatehouseOptions extends SessionCookieOptions, CredentialOptions {
  /** Where users and sessions live, e.g. `createSqliteStore(...)` from `gatehouse/stores/sqlite`. */
  store: Store;
}

/** A new session: the user, and the `Set-Cookie` value that carries it. */
export interface SignedIn {
  user: UserDTO;
  setCookie: string;
  expiresAt: Date;
}

/** A log-in: a new session, and the device cookie that makes this browser a known device of the account. */
export interface LoggedIn extends SignedIn {
  /** A `Set-Cookie` value for the device cookie; send it with `setCookie`. */
  deviceCookie: string;
}

/** A sign-up while `requireEmailVerification` is on: the account exists, but no session starts until it is verified. */
export interface VerificationPending {
  user: UserDTO;
  verificationRequired: true;
}

/** The framework-agnostic core. The `gatehouse/next` helpers are thin wrappers around it. */
export interface Gatehouse {
  readonly store: Store;
  readonly cookie: SessionCookie;
  /** The device cookie a log-in leaves: read it from requests and pass it as `meta.deviceCookie`. */
  readonly deviceCookie: DeviceCookie;
  readonly sessionConfig: SessionCookieConfig;
  readonly credentialConfig: CredentialConfig;
  readonly roles: RolePermissions;
  /**
   * Creates an account and signs it in, and sends the verification email when a mailer is configured. With
   * `requireEmailVerification`, nobody is signed in: the result is {@link VerificationPending}. Throws
   * `InvalidInputError` or `EmailTakenError`.
   */
  signUp(input: unknown, meta?: SessionMeta): Promise<SignedIn | VerificationPending>;
  /**
   * Checks credentials and starts a new session. `previousValue`, the cookie the request came with, is
   * revoked so a planted session cannot survive the log-in. `meta.deviceCookie`, when it names this
   * account, puts the attempt on that device's own budget. Throws `InvalidInputError`,
   * `InvalidCredentialsError` or `RateLimitedError`, and `EmailUnverifiedError` (after the password was
   * right) while `requireEmailVerification` is on.
   */
  logIn(input: unknown, meta?: RequestMeta & { previousValue?: string | null }): Promise<LoggedIn>;
  /**
   * Starts a session for a user who has been authenticated by other means (an OAuth callback, a magic
   * link): the caller vouches for who they are. `null` when there is no such user.
   */
  startSession(userId: string, meta?: SessionMeta): Promise<SignedIn | null>;
  /** Ends the session the cookie value names and returns the `Set-Cookie` that deletes it. */
  logOut(value: string | null): Promise<string>;
  /**
   * The authoritative session check for a session cookie value. `null` when not signed in. Pass
   * `rotate: true` when a renewed cookie can be sent back (see {@link ValidSession.renewed}).
   */
  validateSession(value: string | null, options?: { rotate?: boolean }): Promise<ValidSession | null>;
  /** The user's live sessions, most recently used first. */
  listSessions(userId: string): Promise<SessionSummary[]>;
  /** Ends one of the user's sessions; `false` when the user has no session with that id. */
  revokeSession(userId: string, sessionId: string): Promise<boolean>;
  /**
   * Ends all of the user's sessions but `currentSessionId`, and voids pending email-change and reset links;
   * resolves to how many ended.
   */
  revokeOtherSessions(userId: string, currentSessionId: string): Promise<number>;
  /** Ends every session of the user (both strategies) and voids pending email-change and reset links. */
  revokeAllSessions(userId: string): Promise<number>;
  /**
   * Changes the signed-in user's password (`{ currentPassword, newPassword }`). Every session of the user
   * ends, and a new one replaces the current session; the browser gets a device cookie for the new password.
   * Throws `InvalidInputError` (a wrong current password changes nothing) or `RateLimitedError`.
   */
  changePassword(current: ValidSession, input: unknown, meta?: RequestMeta): Promise<LoggedIn>;
  /**
   * Deletes the signed-in user and every session. Needs `{ password }`, or a log-in within
   * `freshAuthSeconds`: else `ReauthenticationRequiredError`. Returns the `Set-Cookie` that clears the cookie.
   */
  deleteAccount(current: ValidSession, input: unknown, meta?: RequestMeta): Promise<string>;
  /** Sends the signed-in user a new verification link or code. Throws `AlreadyVerifiedError`, `RateLimitedError`, `MailUnavailableError`. */
  requestEmailVerification(current: ValidSession): Promise<void>;
  /**
   * Verifies an address (`{ token }`, or `{ code, email? }`) or completes an email change. Every session of
   * the user rotates; when `currentValue` (the request's cookie) is one of them, `setCookie` carries its
   * replacement. Throws `InvalidTokenError`, `TokenExpiredError`, `EmailTakenError`.
   */
  verifyEmail(
    input: unknown,
    currentValue?: string | null,
    meta?: SessionMeta,
  ): Promise<{ user: UserDTO; setCookie: string | null }>;
  /** Starts a password reset for `{ email }`; says nothing about whether the account exists. */
  requestPasswordReset(input: unknown, meta?: SessionMeta): Promise<void>;
  /** Sets a new password with `{ token, password }`; ends every session of the user and signs nobody in. */
  confirmPasswordReset(input: unknown): Promise<void>;
  /**
   * Asks to change the signed-in user's email to `{ email, password }`; without the password,
   * `ReauthenticationRequiredError`. The address stays pending until the link sent to it is opened.
   */
  requestEmailChange(current: ValidSession, input: unknown, meta?: RequestMeta): Promise<{ pendingEmail: string }>;
  /** Updates what a user may change about themselves: only `name`. Other fields (such as `role`) are ignored. */
  updateProfile(userId: string, input: unknown): Promise<UserDTO>;
  /** Whether `user`'s role grants `permission`. */
  can(user: Pick<UserDTO, "role">, permission: string): boolean;
  /** Account administration, as used by the CLI and admin pages. */
  users: {
    create(input: { email: string; password: string; name?: string | null; role?: string }): Promise<UserDTO>;
    setRole(email: string, role: string): Promise<UserDTO | null>;
    list(): Promise<UserDTO[]>;
  };
}

/**
 * Creates a Gatehouse instance. Keys are derived and checked here, once; nothing on the per-request path
 * derives or imports keys.
 *
 * @example
 * ```ts
 * import { createGatehouse } from "gatehouse";
 * import { createSqliteStore } from "gatehouse/stores/sqlite";
 *
 * export const gatehouse = createGatehouse({
 *   store: createSqliteStore({ url: process.env.DATABASE_URL ?? "file:data/gatehouse.db" }),
 *   secret: process.env.GATEHOUSE_SECRET!,
 *   strategy: "database",
 * });
 * ```
 */
export function createGatehouse(options: GatehouseOptions): Gatehouse {
  if (!options.store) throw new ConfigurationError("createGatehouse needs a store, e.g. createSqliteStore({ url }).");
  const store = options.store;
  const sessionConfig = resolveSessionConfig(options);
  const credentialConfig = resolveCredentialConfig(options);
  const cookie = createSessionCookie(sessionConfig);
  const deviceCookie = createDeviceCookie(sessionConfig, createSealer(sessionConfig.secrets, DEVICE_SEAL_PURPOSE));
  const hasher: PasswordHasher = createArgon2idHasher(credentialConfig.argon2);
  const codec =
    sessionConfig.strategy === "stateless"
      ? createStatelessCodec(createSealer(sessionConfig.secrets, SESSION_SEAL_PURPOSE), sessionConfig)
      : createDatabaseCodec();
  const sessions = createSessionManager(store, codec, sessionConfig);
  const { roles, passwordPolicy, rateLimits } = credentialConfig;
  const limiter = createRateLimiter(store, sessionConfig.now);

  // Log-in with an unknown email verifies against this, so it costs one hash like a wrong password does.
  let dummyHash: Promise<string> | undefined;
  const getDummyHash = () => (dummyHash ??= hasher.hash(randomToken(16)));

  async function startSession(user: UserRecord, meta: SessionMeta): Promise<SignedIn> {
    const { value, expiresAt } = await sessions.create(user, meta);
    return { user: toUserDTO(user), setCookie: cookie.serialize(value, expiresAt), expiresAt };
  }

  const accounts = createAccounts(store, credentialConfig, hasher);

  /**
   * Runs a password check for `email`'s account (`account`, when it exists) within the log-in limits. A
   * browser with a device cookie for the account under its current password is counted against that device
   * only; any other against the address, then the (account, address) pair — before the account's own, so one
   * address adds at most its budget to them —, then the account over a day and over 15 minutes. Each attempt
   * holds its place before the hash and gives it back if the password was right: failures are counted,
   * successes are not.
   */
  async function throttledCheck(
    email: string,
    account: UserRecord | null,
    meta: RequestMeta,
    check: () => Promise<boolean>,
  ): Promise<boolean> {
    const ip = meta.ip ?? "unknown";
    // With the device limit turned off, a device cookie earns nothing: the check gets the ordinary limits.
    const device = rateLimits.loginPerDevice && account && (await deviceCookie.deviceFor(meta.deviceCookie, account));
    const pair: Budget = { rule: rateLimits.loginPerAccountAndIp, key: rateLimitKeys.loginAccount(email, ip) };
    const quarterHour: Budget = { rule: rateLimits.loginPerAccount, key: rateLimitKeys.loginAccountAnyIp(email) };
    const day: Budget = { rule: rateLimits.loginPerAccountDaily, key: rateLimitKeys.loginAccountDaily(email) };
    // What a success resets: the budgets of whoever succeeded, never the day's.
    const own: Budget[] = device
      ? [{ rule: rateLimits.loginPerDevice, key: rateLimitKeys.loginDevice(device) }]
      : [pair, quarterHour];
    // The day before the 15 minutes: when both are full, Retry-After names the longer wait.
    const budgets: Budget[] = device
      ? own
      : [{ rule: rateLimits.loginPerIp, key: rateLimitKeys.loginIp(ip) }, pair, day, quarterHour];
    const reservation = await limiter.reserve(budgets);
    let valid = false;
    try {
      valid = await check();
    } finally {
      // A check that threw (a store outage) stays counted, like a failure.
      await (valid ? reservation.succeeded({ reset: own }) : reservation.failed());
    }
    return valid;
  }

  /**
   * Checks a signed-in user's password for a sensitive change, within the same limits as a log-in, so this
   * is no side door for guessing.
   */
  async function confirmPassword(user: UserRecord, password: unknown, field: string, meta: RequestMeta): Promise<void> {
    const valid = await throttledCheck(
      user.email,
      user,
      meta,
      async () =>
        typeof password === "string" &&
        password !== "" &&
        hasher.verify(user.passwordHash, normalizePassword(password)),
    );
    if (!valid) throw new InvalidInputError({ [field]: "The password is incorrect." });
  }

  const emailFlows = createEmailFlows({
    store,
    config: credentialConfig.email,
    rateLimits,
    limiter,
    passwordPolicy,
    hasher,
    now: sessionConfig.now,
    confirmPassword,
  });

  return {
    store,
    cookie,
    deviceCookie,
    sessionConfig,
    credentialConfig,
    roles,

    async signUp(input, meta = {}) {
      await limiter.hit(rateLimits.signupPerIp, rateLimitKeys.signupIp(meta.ip ?? "unknown"));
      // Only these three fields are taken from the client: a "role" in the body is never read.
      const { email, password, name } = parseSignUpInput(input, passwordPolicy);
      const user = await accounts.create({ email, password, name });
      emailFlows.afterSignUp(user);
      if (credentialConfig.email.requireVerification) return { user: toUserDTO(user), verificationRequired: true };
      return startSession(user, meta);
    },

    async logIn(input, meta = {}) {
      const { email, password } = parseLogInInput(input, passwordPolicy);
      const fallbackHash = getDummyHash();
      // Read before the limits: a device cookie is checked against the account and its current password.
      const user = isValidEmail(email) ? await store.getUserByEmail(email) : null;
      // Each attempt holds its place before the hash, so a burst of parallel guesses cannot slip past the
      // limit and, while limited, even the right password is refused.
      const valid = await throttledCheck(email, user, meta, async () => {
        const matches = await hasher.verify(user?.passwordHash ?? (await fallbackHash), password);
        return matches && user !== null;
      });
      if (!valid || !user) throw new InvalidCredentialsError();
      if (credentialConfig.email.requireVerification && !user.emailVerifiedAt) {
        emailFlows.afterUnverifiedLogIn(user);
        throw new EmailUnverifiedError();
      }
      let { passwordHash } = user;
      if (hasher.needsRehash(passwordHash)) {
        // Only over the hash just verified: a password change that came between is never undone.
        const rehashed = await store.updateUser(
          user.id,
          { passwordHash: await hasher.hash(password) },
          { ifPasswordHash: passwordHash },
        );
        if (rehashed) passwordHash = rehashed.passwordHash;
      }
      // A session planted before log-in must not survive it (session fixation).
      if (meta.previousValue) await sessions.revoke(meta.previousValue);
      return {
        ...(await startSession(user, meta)),
        deviceCookie: await deviceCookie.issue({ id: user.id, passwordHash }),
      };
    },

    async startSession(userId, meta = {}) {
      const user = await store.getUserById(userId);
      return user && startSession(user, meta);
    },

    async logOut(value) {
      if (value) await sessions.revoke(value);
      return cookie.clear();
    },

    validateSession: (value, options = {}) =>
      value ? sessions.validate(value, { rotate: options.rotate ?? false }) : Promise.resolve(null),

    listSessions: (userId) => sessions.list(userId),

    async revokeSession(userId, sessionId) {
      // One keyed read: someone else's session id answers exactly like one that does not exist.
      const found = await store.getSessionAndUser(sessionId);
      return found?.session.userId === userId && (await store.deleteSession(sessionId));
    },

    revokeOtherSessions: async (userId, currentSessionId) =>
      (await store.endSessions(userId, { keep: currentSessionId }))?.ended ?? 0,

    revokeAllSessions: accounts.revokeAllSessions,

    async changePassword(current, input, meta = {}) {
      const record = asRecord(input);
      const { user } = current;
      await confirmPassword(user, field(record, "currentPassword"), "currentPassword", meta);
      const problem = newPasswordProblem(field(record, "newPassword"), passwordPolicy);
      if (problem) throw new InvalidInputError({ newPassword: problem });
      const passwordHash = await hasher.hash(normalizePassword(field(record, "newPassword") as string));
      // The new password and the end of every session are one transaction: never one without the other. It
      // applies only in the epoch this session was checked in: a revocation that came between ended it too.
      const ended = await store.endSessions(user.id, { update: { passwordHash }, ifEpoch: user.revocationEpoch });
      if (!ended) throw new UnauthenticatedError();
      const fresh = await store.getUserById(user.id);
      if (!fresh) throw new UnauthenticatedError();
      // In the epoch this change moved to, not a later one: a revocation after it must end this session too.
      const signedIn = await startSession({ ...fresh, revocationEpoch: ended.epoch }, meta);
      return { ...signedIn, deviceCookie: await deviceCookie.issue({ id: user.id, passwordHash }) };
    },

    async deleteAccount(current, input, meta = {}) {
      const password = field(asRecord(input ?? {}), "password");
      if (password !== undefined) await confirmPassword(current.user, password, "password", meta);
      else if (sessionConfig.now() - current.session.createdAt.getTime() > credentialConfig.freshAuthSeconds * 1000) {
        throw new ReauthenticationRequiredError();
      }
      await store.deleteUser(current.user.id);
      return cookie.clear();
    },

    requestEmailVerification: (current) => emailFlows.requestVerification(current.user),

    async verifyEmail(input, currentValue, meta = {}) {
      const value = currentValue ?? null;
      const signedIn = value ? await sessions.validate(value, { rotate: false }) : null;
      const user = await emailFlows.verifyEmail(input, signedIn?.user ?? null, meta);
      let setCookie: string | null = null;
      if (value && signedIn?.user.id === user.id) {
        const rotated = await sessions.validate(value, { rotate: true });
        if (rotated?.renewed) setCookie = cookie.serialize(rotated.renewed.value, rotated.renewed.expiresAt);
      }
      return { user: toUserDTO(user), setCookie };
    },

    requestPasswordReset: (input, meta = {}) => emailFlows.requestPasswordReset(input, meta),

    confirmPasswordReset: (input) => emailFlows.confirmPasswordReset(input),

    requestEmailChange: (current, input, meta = {}) => emailFlows.requestEmailChange(current, input, meta),

    async updateProfile(userId, input) {
      const updated = await store.updateUser(userId, parseProfileInput(input));
      if (!updated) throw new UnauthenticatedError();
      return toUserDTO(updated);
    },

    can: (user, permission) => roleHasPermission(roles, user.role, permission),

    users: {
      create: async (input) => toUserDTO(await accounts.create(input)),
      setRole: accounts.setRole,
      list: accounts.list,
    },
  };
}

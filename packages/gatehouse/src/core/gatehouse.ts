import { roleHasPermission, type RolePermissions } from "../authz/roles.js";
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
import { normalizePassword } from "../password/policy.js";
import { createRateLimiter, rateLimitKeys } from "./limiter.js";
import { createArgon2idHasher, type PasswordHasher } from "../password/hasher.js";
import { createSessionCookie, type SessionCookie } from "../session/cookie.js";
import { createDatabaseCodec } from "../session/database.js";
import { createSessionManager, type SessionSummary } from "../session/manager.js";
import { createStatelessCodec, SESSION_SEAL_PURPOSE } from "../session/stateless.js";
import type { SessionMeta, ValidSession } from "../session/types.js";
import type { Store, UserRecord } from "../store/types.js";
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
import { createAccounts } from "./accounts.js";
import { createEmailFlows } from "./email-flows.js";
import { asRecord, field, newPasswordProblem, parseLogInInput, parseProfileInput, parseSignUpInput } from "./input.js";

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

/** A sign-up while `requireEmailVerification` is on: the account exists, but no session starts until it is verified. */
export interface VerificationPending {
  user: UserDTO;
  verificationRequired: true;
}

/** The framework-agnostic core. The `gatehouse/next` helpers are thin wrappers around it. */
export interface Gatehouse {
  readonly store: Store;
  readonly cookie: SessionCookie;
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
   * revoked so a planted session cannot survive the log-in. Throws `InvalidInputError` or `InvalidCredentialsError`,
   * and `EmailUnverifiedError` (after the password was right) while `requireEmailVerification` is on.
   */
  logIn(input: unknown, meta?: SessionMeta & { previousValue?: string | null }): Promise<SignedIn>;
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
  /** Ends all of the user's sessions but `currentSessionId`; resolves to how many ended. */
  revokeOtherSessions(userId: string, currentSessionId: string): Promise<number>;
  /** Ends every session of the user (both strategies) and bumps their session version. */
  revokeAllSessions(userId: string): Promise<number>;
  /**
   * Changes the signed-in user's password (`{ currentPassword, newPassword }`). Every session of the user
   * ends, and a new one replaces the current session. Throws `InvalidInputError` (a wrong current password
   * changes nothing) or `RateLimitedError`.
   */
  changePassword(current: ValidSession, input: unknown, meta?: SessionMeta): Promise<SignedIn>;
  /**
   * Deletes the signed-in user and every session. Needs `{ password }`, or a log-in within
   * `freshAuthSeconds`: else `ReauthenticationRequiredError`. Returns the `Set-Cookie` that clears the cookie.
   */
  deleteAccount(current: ValidSession, input: unknown, meta?: SessionMeta): Promise<string>;
  /** Sends the signed-in user a new verification link or code. Throws `AlreadyVerifiedError`, `RateLimitedError`, `MailUnavailableError`. */
  requestEmailVerification(current: ValidSession): Promise<void>;
  /**
   * Verifies an address (`{ token }`, or `{ code, email? }`) or completes an email change. Every session of
   * the user rotates; when `currentValue` (the request's cookie) is one of them, `setCookie` carries its
   * replacement. Throws `InvalidTokenError`, `TokenExpiredError`, `EmailTakenError`.
   */
  verifyEmail(input: unknown, currentValue?: string | null): Promise<{ user: UserDTO; setCookie: string | null }>;
  /** Starts a password reset for `{ email }`; says nothing about whether the account exists. */
  requestPasswordReset(input: unknown, meta?: SessionMeta): Promise<void>;
  /** Sets a new password with `{ token, password }`; ends every session of the user and signs nobody in. */
  confirmPasswordReset(input: unknown): Promise<void>;
  /**
   * Asks to change the signed-in user's email to `{ email }` (with `password`, or a recent log-in). The
   * address stays pending until the link sent to it is opened.
   */
  requestEmailChange(current: ValidSession, input: unknown, meta?: SessionMeta): Promise<{ pendingEmail: string }>;
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
   * Checks a signed-in user's password for a sensitive change. Failures count like failed log-ins for
   * that account and IP, so this is no side door for guessing.
   */
  async function confirmPassword(user: UserRecord, password: unknown, field: string, meta: SessionMeta): Promise<void> {
    const accountKey = rateLimitKeys.loginAccount(user.email, meta.ip ?? "unknown");
    await limiter.hit(rateLimits.loginPerAccountAndIp, accountKey);
    if (typeof password === "string" && password !== "" && (await hasher.verify(user.passwordHash, normalizePassword(password)))) {
      await limiter.reset(rateLimits.loginPerAccountAndIp, accountKey);
      return;
    }
    throw new InvalidInputError({ [field]: "The password is incorrect." });
  }

  const emailFlows = createEmailFlows({
    store,
    config: credentialConfig.email,
    rateLimits,
    limiter,
    passwordPolicy,
    hasher,
    freshAuthSeconds: credentialConfig.freshAuthSeconds,
    now: sessionConfig.now,
    revokeAllSessions: accounts.revokeAllSessions,
    confirmPassword,
  });

  return {
    store,
    cookie,
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
      const ip = meta.ip ?? "unknown";
      await limiter.hit(rateLimits.loginPerIp, rateLimitKeys.loginIp(ip));
      const accountKey = rateLimitKeys.loginAccount(email, ip);
      // Every attempt is counted before the hash, so a burst of parallel guesses cannot slip past the limit
      // and, while limited, even the right password is refused; a success clears the count again.
      await limiter.hit(rateLimits.loginPerAccount, rateLimitKeys.loginAccountAnyIp(email));
      await limiter.hit(rateLimits.loginPerAccountAndIp, accountKey);
      const fallbackHash = getDummyHash();
      const user = isValidEmail(email) ? await store.getUserByEmail(email) : null;
      const valid = await hasher.verify(user?.passwordHash ?? (await fallbackHash), password);
      if (!user || !valid) throw new InvalidCredentialsError();
      await limiter.reset(rateLimits.loginPerAccountAndIp, accountKey);
      await limiter.reset(rateLimits.loginPerAccount, rateLimitKeys.loginAccountAnyIp(email));
      if (credentialConfig.email.requireVerification && !user.emailVerifiedAt) {
        emailFlows.afterUnverifiedLogIn(user);
        throw new EmailUnverifiedError();
      }
      if (hasher.needsRehash(user.passwordHash)) {
        await store.updateUser(user.id, { passwordHash: await hasher.hash(password) });
      }
      // A session planted before log-in must not survive it (session fixation).
      if (meta.previousValue) await sessions.revoke(meta.previousValue);
      return startSession(user, meta);
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

    revokeOtherSessions: (userId, currentSessionId) => store.deleteUserSessions(userId, { except: currentSessionId }),

    revokeAllSessions: accounts.revokeAllSessions,

    async changePassword(current, input, meta = {}) {
      const record = asRecord(input);
      const { user } = current;
      await confirmPassword(user, field(record, "currentPassword"), "currentPassword", meta);
      const problem = newPasswordProblem(field(record, "newPassword"), passwordPolicy);
      if (problem) throw new InvalidInputError({ newPassword: problem });
      const updated = await store.updateUser(user.id, {
        passwordHash: await hasher.hash(normalizePassword(field(record, "newPassword") as string)),
      });
      if (!updated) throw new UnauthenticatedError();
      await accounts.revokeAllSessions(user.id);
      const fresh = await store.getUserById(user.id);
      if (!fresh) throw new UnauthenticatedError();
      return startSession(fresh, meta);
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

    async verifyEmail(input, currentValue) {
      const value = currentValue ?? null;
      const signedIn = value ? await sessions.validate(value, { rotate: false }) : null;
      const user = await emailFlows.verifyEmail(input, signedIn?.user ?? null);
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

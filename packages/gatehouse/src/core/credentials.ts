import { randomToken } from "../crypto/random.js";
import {
  EmailUnverifiedError,
  InvalidCredentialsError,
  InvalidInputError,
  RateLimitedError,
  UnauthenticatedError,
} from "../errors.js";
import { loadCommonPasswords } from "../password/common.js";
import { normalizePassword } from "../password/policy.js";
import type { SessionWrite } from "../session/manager.js";
import type { StartedSession } from "../session/sessions.js";
import type { RequestMeta } from "../session/types.js";
import type { FactorSummary, UserRecord } from "../stores/types.js";
import type { Accounts } from "./accounts.js";
import type { LoginFailureReason } from "./audit.js";
import type { CoreContext } from "./context.js";
import { type Auth, toUserDTO, type UserDTO } from "./dto.js";
import { isValidEmail } from "./email.js";
import {
  type ChangePasswordInput,
  type LogInInput,
  newPasswordProblem,
  parseLogInInput,
  type SignUpInput,
} from "./input.js";
import { perAddress, rateLimitKeys } from "./limiter.js";
import type { SecondFactorGate } from "./mfa.js";
import type { PasswordCheck } from "./password-check.js";
import {
  actorOf,
  type LoggedIn,
  recordLogInFailure,
  refuseBanned,
  type SignedIn,
  startSignedIn,
  startWithEvents,
} from "./sessions.js";
import { endSessions } from "./stores.js";

export type { LoggedIn } from "./sessions.js";

/** A sign-up while `requireEmailVerification` is on: the account exists, but no session starts until it is verified. */
export interface VerificationPending {
  user: UserDTO;
  verificationRequired: true;
}

/** What a sign-up or log-in tells the email module. */
export interface CredentialEvents {
  afterSignUp(user: UserRecord): void;
  afterUnverifiedLogIn(user: UserRecord): void;
}

/** Passwords: sign-up, log-in and password change. */
export interface CredentialsApi {
  /**
   * Creates an account and signs it in, and sends the verification email when a mailer is configured; the
   * account's `user.signup` is recorded with it. With
   * `requireEmailVerification`, nobody is signed in: the result is {@link VerificationPending}. Throws
   * `InvalidInputError`, `EmailTakenError` or `RateLimitedError`.
   *
   * @example
   * ```ts
   * const signedIn = await gatehouse.signUp({ email, password, name }, { ip });
   * if (!("verificationRequired" in signedIn)) res.setHeader("Set-Cookie", signedIn.setCookie);
   * ```
   */
  signUp(input: SignUpInput, meta?: RequestMeta): Promise<SignedIn | VerificationPending>;
  /**
   * Checks credentials and starts a new session. The session the request's `Cookie` header carries is ended,
   * so a planted session cannot survive the log-in; a device cookie there that names this account puts the
   * attempt on that device's own budget. Throws `InvalidInputError`, `InvalidCredentialsError` or
   * `RateLimitedError`, and after the password was right: `BannedError` for a banned account,
   * `EmailUnverifiedError` while `requireEmailVerification` is on, and `MfaRequiredError` (nobody signed in
   * yet; send its `setCookie`, the pending cookie, and finish with `verifySecondFactor`) when the account has a
   * second factor. Each outcome is recorded in the audit log: `login.success` in the new session's transaction,
   * `login.failure` with its reason (`rate_limited` once per 15 minutes for the account and the address).
   *
   * @example
   * ```ts
   * const { setCookie, deviceCookie } = await gatehouse.logIn({ email, password }, { ip, cookieHeader });
   * res.setHeader("Set-Cookie", [setCookie, deviceCookie]);
   * ```
   */
  logIn(input: LogInInput, meta?: RequestMeta): Promise<LoggedIn>;
  /**
   * Changes the signed-in user's password. Every session of the user ends, and a new one replaces the current
   * session; the browser gets a device cookie for the new password. Throws `InvalidInputError` (a wrong current
   * password changes nothing), `RateLimitedError`, `UnauthenticatedError` once the session has ended, or
   * `ImpersonationForbiddenError` for an administrator's impersonation. The `password.change` event is written
   * in the transaction that changes it.
   */
  changePassword(auth: Auth, input: ChangePasswordInput, meta?: RequestMeta): Promise<LoggedIn>;
}

/** What a successful log-in answers with, made ready during its hash. */
interface ReadySignIn {
  session: { start(write?: SessionWrite): Promise<StartedSession> };
  deviceCookie: string;
}

export function createCredentialsApi(
  ctx: CoreContext,
  check: PasswordCheck,
  accounts: Accounts,
  events: CredentialEvents,
  secondFactor: SecondFactorGate,
): CredentialsApi {
  const { roles, config, hasher, limiter, deviceCookie, sessions } = ctx;
  const { rateLimits, passwordPolicy } = config;

  async function readySignIn(user: UserRecord, meta: RequestMeta): Promise<ReadySignIn> {
    const [session, cookie] = await Promise.all([
      sessions.prepare(user, meta),
      deviceCookie.issue({ id: user.id, passwordHash: user.passwordHash }),
    ]);
    return { session, deviceCookie: cookie };
  }

  // Log-in with an unknown email verifies against this, so it costs one hash like a wrong password does.
  let dummyHash: Promise<string> | undefined;
  const getDummyHash = () => {
    dummyHash ??= hasher.hash(randomToken(16));
    return dummyHash;
  };

  return {
    async signUp(input, meta = {}) {
      await limiter.hit(perAddress(rateLimits.signupPerIp, meta.ip), rateLimitKeys.signupIp(meta.ip ?? ""));
      // Only these three fields are taken: a "role" in the input is never read.
      const { email, password, name } = input ?? ({} as SignUpInput);
      const user = await accounts.create({ email, password, name: name ?? null }, { meta });
      events.afterSignUp(user);
      if (config.email.requireVerification) return { user: toUserDTO(user), verificationRequired: true };
      return startSignedIn(ctx, user, meta);
    },

    async logIn(input, meta = {}) {
      const { email, password } = parseLogInInput(input, passwordPolicy);
      const fallbackHash = getDummyHash();
      // Read before the limits: a device cookie is checked against the account and its current password.
      const user = isValidEmail(email) ? await roles.users.getUserByEmail(email) : null;
      // Where one store keeps counters and sessions, a success's settled counters, its new session and its
      // event are one transaction: the writes after the hash are most of what a log-in costs beyond it.
      const batch = roles.writeBatch ? await roles.writeBatch() : null;
      const pending: { ready?: Promise<ReadySignIn>; factors?: Promise<FactorSummary> } = {};
      // Only an address is recorded for an unknown account: what else someone types there may be a password.
      const tried = isValidEmail(email) ? email : null;
      try {
        const failed = (reason: LoginFailureReason) =>
          recordLogInFailure(ctx, reason, { user, email: tried }, meta, { method: "password" });
        // Each attempt holds its place before the hash, so a burst of parallel guesses cannot slip past the
        // limit and, while limited, even the right password is refused.
        const valid = await check
          .throttled(
            email,
            user,
            meta,
            async () => {
              const verifying = hasher.verify(user?.passwordHash ?? (await fallbackHash), password);
              // The hash runs off the main thread: meanwhile, what a success answers with is made ready (the
              // session's token, the device cookie). A failure stores none of it.
              if (user) {
                pending.ready = readySignIn(user, meta);
                // Only an account with TOTP on reads its factors: a log-in without makes no query for them.
                if (user.totpEnabled) {
                  pending.factors = secondFactor.summary(user.id);
                  pending.factors.catch(() => undefined);
                }
                // Awaited only after a success; a failure must not leave it rejected unheard.
                pending.ready.catch(() => undefined);
              }
              // An account without a password (made by an OAuth sign-in) is checked against the dummy, and fails.
              return (await verifying) && user?.passwordHash != null;
            },
            batch ?? undefined,
          )
          .catch(async (error: unknown) => {
            if (error instanceof RateLimitedError) await failed("rate_limited");
            throw error;
          });
        // A known and an unknown address cost the same here too: one event each.
        if (!valid || !user) {
          await failed(user ? "wrong_password" : "unknown_account");
          throw new InvalidCredentialsError();
        }
        await refuseBanned(ctx, user, meta, { method: "password" });
        if (config.email.requireVerification && !user.emailVerifiedAt) {
          events.afterUnverifiedLogIn(user);
          await failed("unverified");
          throw new EmailUnverifiedError();
        }
        // A second factor: no session yet, only the pending log-in that its step finishes (and records).
        if (user.totpEnabled) {
          await secondFactor.require(user, await (pending.factors ?? secondFactor.summary(user.id)));
        }
        const prepared = await (pending.ready ?? readySignIn(user, meta));
        let { deviceCookie: device } = prepared;
        if (user.passwordHash !== null && hasher.needsRehash(user.passwordHash)) {
          // Only over the hash just verified: a password change that came between is never undone.
          const rehashed = await roles.users.updateUser(
            user.id,
            { passwordHash: await hasher.hash(password) },
            { ifPasswordHash: user.passwordHash },
          );
          // The device cookie names the password's hash: a new hash, a new cookie.
          if (rehashed) device = await deviceCookie.issue({ id: user.id, passwordHash: rehashed.passwordHash });
        }
        // A session planted before log-in must not survive it (session fixation).
        if (meta.cookieHeader) await sessions.end(meta.cookieHeader);
        const success = ctx.audit.event("login.success", { user, meta, detail: { method: "password" } });
        const { setCookie, expiresAt } = await startWithEvents(ctx, prepared.session, [success], batch);
        return { user: toUserDTO(user), setCookie, expiresAt, deviceCookie: device };
      } finally {
        // Whatever happened after the check (an unverified address, a store failure), what it settled is written.
        await batch?.commit();
      }
    },

    async changePassword(auth, input, meta = {}) {
      const { currentPassword, newPassword } = input ?? ({} as ChangePasswordInput);
      const { session, user } = await check.current(auth, { owner: true });
      await check.confirm(user, currentPassword, "currentPassword", meta);
      await loadCommonPasswords();
      const problem = newPasswordProblem(newPassword, passwordPolicy);
      if (problem) throw new InvalidInputError({ newPassword: problem });
      const passwordHash = await hasher.hash(normalizePassword(newPassword));
      // The new password and the end of every session are one transaction: never one without the other. It
      // applies only in the epoch this session was read in: a revocation that came between ended it too.
      const changed = ctx.audit.event("password.change", {
        user,
        actor: actorOf(user.id, session.impersonatedBy),
        meta,
      });
      const ended = await endSessions(roles, user.id, {
        update: { passwordHash },
        ifEpoch: user.revocationEpoch,
        effects: { events: [changed] },
      });
      if (!ended) throw new UnauthenticatedError();
      ctx.audit.emit([changed]);
      const fresh = await roles.users.getUserById(user.id);
      if (!fresh) throw new UnauthenticatedError();
      // In the epoch this change moved to, not a later one: a revocation after it must end this session too.
      const signedIn = await startSignedIn(ctx, { ...fresh, revocationEpoch: ended.epoch }, meta);
      return { ...signedIn, deviceCookie: await deviceCookie.issue({ id: user.id, passwordHash }) };
    },
  };
}

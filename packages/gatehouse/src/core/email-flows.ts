import { randomInt } from "node:crypto";
import { sha256Hex } from "../crypto/digest.js";
import { randomToken } from "../crypto/random.js";
import {
  AlreadyVerifiedError,
  InvalidInputError,
  InvalidTokenError,
  isGatehouseError,
  MailUnavailableError,
  ReauthenticationRequiredError,
  TokenExpiredError,
} from "../errors.js";
import type { MailMessage } from "../mail/mailer.js";
import { templates } from "../mail/templates.js";
import { loadCommonPasswords } from "../password/common.js";
import { normalizePassword } from "../password/policy.js";
import type { RequestMeta, SessionMeta } from "../session/types.js";
import type { TokenPurpose, UserRecord } from "../stores/types.js";
import { runLater } from "./background.js";
import type { CoreContext } from "./context.js";
import type { CredentialEvents } from "./credentials.js";
import { type Auth, toUserDTO, type UserDTO } from "./dto.js";
import {
  asRecord,
  checkEmail,
  type EmailChangeInput,
  field,
  newPasswordProblem,
  type PasswordResetInput,
  type PasswordResetRequestInput,
  type VerifyEmailInput,
} from "./input.js";
import { perAddress, rateLimitKeys } from "./limiter.js";
import type { PasswordCheck } from "./password-check.js";
import { endSessions } from "./stores.js";

/** 24 random bytes (192 bits) for links: only their SHA-256 is stored. */
const LINK_TOKEN_BYTES = 24;
const LINK_TOKEN = /^[A-Za-z0-9_-]{32}$/;
const CODE = /^\d{8}$/;

/** Email verification, password reset and email change: the flows behind {@link EmailApi}. */
function createEmailFlows(ctx: CoreContext, check: PasswordCheck) {
  const { roles, limiter, now, hasher } = ctx;
  const { users, tokens } = roles;
  const config = ctx.config.email;
  const { rateLimits, passwordPolicy } = ctx.config;
  const context = { appName: config.appName };

  function mailer() {
    if (!config.mailer) throw new MailUnavailableError({ cause: new Error("no mailer is configured") });
    return config.mailer;
  }

  async function send(message: MailMessage): Promise<void> {
    try {
      await mailer().send(message);
    } catch (error) {
      throw isGatehouseError(error) ? error : new MailUnavailableError({ cause: error });
    }
  }

  const later = runLater;

  function link(base: string | null, token: string): string {
    const url = new URL(base as string);
    url.searchParams.set("token", token);
    return url.href;
  }

  /**
   * Stores a new token, mails it, and only then voids the user's older ones of that purpose. A mail server
   * that refuses the message so changes nothing: the new token is withdrawn and older links keep working.
   */
  async function issueToken(
    user: UserRecord,
    purpose: TokenPurpose,
    email: string,
    lifetimeSeconds: number,
    tokenHash: string,
    message: MailMessage,
  ): Promise<void> {
    const createdAt = now();
    const expiresAt = new Date(createdAt + lifetimeSeconds * 1000);
    await tokens.createToken(
      {
        tokenHash,
        purpose,
        userId: user.id,
        email,
        revocationEpoch: user.revocationEpoch,
        createdAt: new Date(createdAt),
        expiresAt,
      },
      { replace: false },
    );
    try {
      await send(message);
    } catch (error) {
      await tokens.consumeToken(tokenHash, [purpose]);
      throw error;
    }
    await tokens.deleteUserTokens(user.id, purpose, { except: tokenHash });
  }

  /** A new verification link or code for the user's current address; older ones stop working. */
  async function sendVerification(user: UserRecord): Promise<void> {
    mailer();
    const lifetime = config.verificationLifetimeSeconds;
    if (config.verificationMethod === "code") {
      const code = String(randomInt(0, 100_000_000)).padStart(8, "0");
      await issueToken(
        user,
        "verify_email",
        user.email,
        lifetime,
        codeHash(user.id, code),
        templates.verifyEmailCode(context, user.email, code, lifetime),
      );
      return;
    }
    const token = randomToken(LINK_TOKEN_BYTES);
    const message = templates.verifyEmailLink(context, user.email, link(config.verifyEmailUrl, token), lifetime);
    await issueToken(user, "verify_email", user.email, lifetime, sha256Hex(token), message);
  }

  /** Consumes a token (or code) and checks that it is still valid for its user. */
  async function consume(tokenHash: string | null, purposes: readonly TokenPurpose[]) {
    const token = tokenHash === null ? null : await tokens.consumeToken(tokenHash, purposes);
    if (!token) throw new InvalidTokenError();
    if (token.expiresAt.getTime() <= now()) throw new TokenExpiredError();
    const user = await users.getUserById(token.userId);
    // A link sent to an address the account no longer has (it changed since) is void.
    if (!user || (token.purpose !== "change_email" && token.email !== user.email)) throw new InvalidTokenError();
    // So is an email-change or reset link asked for before the user's sessions were ended, however late it
    // was written: ending them is meant to shut out whoever asked.
    if (token.purpose !== "verify_email" && token.revocationEpoch < user.revocationEpoch) throw new InvalidTokenError();
    return { token, user };
  }

  function parseEmail(raw: unknown): string {
    const checked = checkEmail(raw);
    if (checked.problem !== null) throw new InvalidInputError({ email: checked.problem });
    return checked.email;
  }

  return {
    /** Sends the first verification email of a new account, if mail is set up. */
    afterSignUp(user: UserRecord): void {
      if (config.mailer) later("sending the verification email", () => sendVerification(user));
    },

    /** On a log-in refused for an unverified address: a fresh link, within the per-user limit. */
    afterUnverifiedLogIn(user: UserRecord): void {
      if (!config.mailer) return;
      later("re-sending the verification email", async () => {
        await limiter.hit(rateLimits.verificationEmailPerUser, rateLimitKeys.verificationEmail(user.id));
        await sendVerification(user);
      });
    },

    /** Sends the signed-in user a new verification link (or code). */
    async requestVerification(user: UserRecord): Promise<void> {
      if (user.emailVerifiedAt) throw new AlreadyVerifiedError();
      mailer();
      await limiter.hit(rateLimits.verificationEmailPerUser, rateLimitKeys.verificationEmail(user.id));
      await sendVerification(user);
    },

    /**
     * Verifies an address with `{ token }` from a link, or `{ code }` (with `email` unless signed in). A
     * change-email token moves the account to its new address. Bumps the session version, so every session
     * of the user rotates. Resolves to the updated user.
     */
    async verifyEmail(input: unknown, signedIn: { email: string } | null, meta: SessionMeta): Promise<UserRecord> {
      const record = asRecord(input);
      const rawToken = field(record, "token");
      const rawCode = field(record, "code");
      let found: Awaited<ReturnType<typeof consume>>;
      if (rawToken !== undefined) {
        found = await consume(typeof rawToken === "string" && LINK_TOKEN.test(rawToken) ? sha256Hex(rawToken) : null, [
          "verify_email",
          "change_email",
        ]);
      } else if (rawCode !== undefined) {
        const code = typeof rawCode === "string" ? rawCode.replace(/[\s-]/g, "") : "";
        if (!CODE.test(code))
          throw new InvalidInputError({
            code: { code: "invalid_format", message: "Enter the 8-digit code from the email." },
          });
        const rawEmail = field(record, "email");
        const email = rawEmail === undefined && signedIn ? signedIn.email : parseEmail(rawEmail);
        // Links only: no code was ever sent, and a guess counts nowhere.
        if (config.verificationMethod !== "code") throw new InvalidTokenError();
        // The client's address first, so random addresses from one client cannot each get a counter of their own.
        await limiter.hit(
          perAddress(rateLimits.verificationCodePerIp, meta.ip),
          rateLimitKeys.verificationCodeIp(meta.ip ?? ""),
        );
        const limitKey = rateLimitKeys.verificationCode(email);
        await limiter.hit(rateLimits.verificationCodePerEmail, limitKey);
        const user = await users.getUserByEmail(email);
        found = await consume(user ? codeHash(user.id, code) : null, ["verify_email"]);
        await limiter.reset(rateLimits.verificationCodePerEmail, limitKey);
      } else {
        throw new InvalidInputError({
          token: { code: "required", message: "The link is incomplete: open the whole link from the email." },
        });
      }
      const { token, user } = found;
      const verifiedAt = new Date(now());
      const updated =
        token.purpose === "change_email"
          ? await users.updateUser(user.id, { email: token.email, emailVerifiedAt: verifiedAt })
          : await users.updateUser(user.id, { emailVerifiedAt: user.emailVerifiedAt ?? verifiedAt });
      if (!updated) throw new InvalidTokenError();
      const sessionVersion = (await users.bumpSessionVersion(user.id)) ?? updated.sessionVersion;
      if (token.purpose === "change_email") {
        await tokens.deleteUserTokens(user.id, "verify_email");
        await tokens.deleteUserTokens(user.id, "reset_password");
        later("notifying the old address", () => send(templates.emailChanged(context, user.email, token.email)));
      }
      return { ...updated, sessionVersion };
    },

    /**
     * Starts a password reset. Whether or not the address has an account, the caller sees the same thing:
     * the lookup and the email happen after the answer. Rate-limited per address and per IP.
     */
    async requestPasswordReset(input: unknown, meta: SessionMeta): Promise<void> {
      const email = parseEmail(field(asRecord(input), "email"));
      mailer();
      await limiter.hit(perAddress(rateLimits.passwordResetPerIp, meta.ip), rateLimitKeys.resetIp(meta.ip ?? ""));
      await limiter.hit(rateLimits.passwordResetPerEmail, rateLimitKeys.resetEmail(email));
      later("sending a password-reset email", async () => {
        const user = await users.getUserByEmail(email);
        if (!user) return;
        const token = randomToken(LINK_TOKEN_BYTES);
        const lifetime = config.resetLifetimeSeconds;
        const message = templates.resetPassword(context, user.email, link(config.resetPasswordUrl, token), lifetime);
        await issueToken(user, "reset_password", user.email, lifetime, sha256Hex(token), message);
      });
    },

    /**
     * Sets a new password with `{ token, password }`. Every session of the user ends (nobody is signed in
     * by it), the account's log-in throttling is cleared, and the user is told by email.
     */
    async confirmPasswordReset(input: unknown): Promise<void> {
      const record = asRecord(input);
      const rawToken = field(record, "token");
      const rawPassword = field(record, "password");
      if (typeof rawToken !== "string" || !LINK_TOKEN.test(rawToken)) throw new InvalidTokenError();
      // The policy is checked first, so a rejected password does not use up the link.
      await loadCommonPasswords();
      const problem = newPasswordProblem(rawPassword, passwordPolicy);
      if (problem) throw new InvalidInputError({ password: problem });
      const { user } = await consume(sha256Hex(rawToken), ["reset_password"]);
      const passwordHash = await hasher.hash(normalizePassword(rawPassword as string));
      // One transaction: the new password (receiving the link proves the address, too) and the end of every
      // session and pending link — and, as the mailbox's owner takes the account, of the ways in someone else may
      // have added: identities whose provider email was unverified and, when the address had never been verified
      // (someone may have registered it first: account pre-hijacking), every second factor, passkey and identity
      // but those verified for this address.
      await endSessions(roles, user.id, {
        update: { passwordHash, emailVerifiedAt: user.emailVerifiedAt ?? new Date(now()) },
        reclaim: { email: user.email, unproven: user.emailVerifiedAt === null },
      });
      // The owner proved the mailbox and chose a new password: the account's failures, the daily ones too,
      // must not keep them out. A store too slow to clear them must not turn the reset into an error.
      await Promise.all([
        limiter.resetFamily(rateLimitKeys.loginAccountAnyIp(user.email)),
        limiter.resetFamily(rateLimitKeys.loginAccountDaily(user.email)),
      ]).catch((error: unknown) => {
        console.error(
          "gatehouse: clearing log-in throttling after a reset failed:",
          error instanceof Error ? error.message : error,
        );
      });
      later("sending the password-changed notice", () => send(templates.passwordChanged(context, user.email)));
    },

    /**
     * Asks to move the signed-in account to `{ email }`. Needs `password` every time (ASVS 7.5.1): a recent
     * log-in alone is not enough. The address stays pending until the link sent to it is opened. An address
     * that already has an account gets a notice instead; the caller cannot tell the difference.
     */
    async requestEmailChange(user: UserRecord, input: unknown, meta: RequestMeta): Promise<{ pendingEmail: string }> {
      const record = asRecord(input);
      const password = field(record, "password");
      if (password === undefined) throw new ReauthenticationRequiredError();
      // Bad input is refused before the password is checked: it costs no hash and counts nowhere.
      const email = parseEmail(field(record, "email"));
      if (email === user.email)
        throw new InvalidInputError({ email: { code: "unchanged", message: "This is already your email address." } });
      mailer();
      await check.confirm(user, password, "password", meta);
      await limiter.hit(rateLimits.emailChangePerUser, rateLimitKeys.emailChange(user.id));
      later("sending the email-change link", async () => {
        // The current address hears of it at once, so its owner can act before the link is followed.
        await send(templates.emailChangeRequested(context, user.email, email));
        if (await users.getUserByEmail(email)) {
          await send(templates.emailInUse(context, email));
          return;
        }
        const token = randomToken(LINK_TOKEN_BYTES);
        const lifetime = config.verificationLifetimeSeconds;
        const message = templates.confirmEmailChange(context, email, link(config.verifyEmailUrl, token), lifetime);
        await issueToken(user, "change_email", email, lifetime, sha256Hex(token), message);
      });
      return { pendingEmail: email };
    },
  };
}

/** Codes are short, so each is bound to its user: the same digits sent to two users are two tokens. */
function codeHash(userId: string, code: string): string {
  return sha256Hex(`code:${userId}:${code}`);
}

/** Email: verifying addresses, resetting passwords, changing the address. */
export interface EmailApi {
  /**
   * Sends the signed-in user a new verification link or code. Throws `AlreadyVerifiedError`,
   * `RateLimitedError`, `MailUnavailableError`.
   */
  requestEmailVerification(auth: Auth): Promise<void>;
  /**
   * Verifies an address (`{ token }`, or `{ code, email? }`) or completes an email change. Every session of
   * the user rotates; when the session the `Cookie` header carries is one of them, `setCookie` carries its
   * replacement. Throws `InvalidTokenError`, `TokenExpiredError`, `EmailTakenError`.
   */
  verifyEmail(input: VerifyEmailInput, meta?: RequestMeta): Promise<{ user: UserDTO; setCookie: string | null }>;
  /** Starts a password reset for `{ email }`; says nothing about whether the account exists. */
  requestPasswordReset(input: PasswordResetRequestInput, meta?: SessionMeta): Promise<void>;
  /** Sets a new password with `{ token, password }`; ends every session of the user and signs nobody in. */
  confirmPasswordReset(input: PasswordResetInput): Promise<void>;
  /**
   * Asks to change the signed-in user's email to `{ email, password }`; without the password,
   * `ReauthenticationRequiredError`. The address stays pending until the link sent to it is opened.
   */
  requestEmailChange(auth: Auth, input: EmailChangeInput, meta?: RequestMeta): Promise<{ pendingEmail: string }>;
}

/** The email module: its calls, and what it does when a sign-up or log-in tells it to. */
export function createEmailApi(ctx: CoreContext, check: PasswordCheck): { api: EmailApi; events: CredentialEvents } {
  const flows = createEmailFlows(ctx, check);
  const { sessions } = ctx;
  return {
    events: { afterSignUp: flows.afterSignUp, afterUnverifiedLogIn: flows.afterUnverifiedLogIn },
    api: {
      async requestEmailVerification(auth) {
        await flows.requestVerification((await check.current(auth)).user);
      },

      async verifyEmail(input, meta = {}) {
        const { cookieHeader } = meta;
        const before = cookieHeader ? await sessions.authenticate(cookieHeader, { canSetCookie: false }) : null;
        const user = await flows.verifyEmail(input, before?.user ?? null, meta);
        let setCookie: string | null = null;
        // The version just moved on: checking the session again rotates it, and the new cookie goes back.
        if (before?.user?.id === user.id)
          setCookie = (await sessions.authenticate(cookieHeader, { canSetCookie: true })).setCookie;
        return { user: toUserDTO(user), setCookie };
      },

      requestPasswordReset: (input, meta = {}) => flows.requestPasswordReset(input, meta),

      confirmPasswordReset: (input) => flows.confirmPasswordReset(input),

      async requestEmailChange(auth, input, meta = {}) {
        return flows.requestEmailChange((await check.current(auth)).user, input, meta);
      },
    },
  };
}

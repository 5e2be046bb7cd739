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
import type { PasswordHasher } from "../password/hasher.js";
import { normalizePassword, type PasswordPolicy } from "../password/policy.js";
import type { RequestMeta, SessionMeta, ValidSession } from "../session/types.js";
import type { Store, TokenPurpose, UserRecord } from "../store/types.js";
import type { EmailConfig } from "./config.js";
import { asRecord, checkEmail, field, newPasswordProblem } from "./input.js";
import { type RateLimiter, rateLimitKeys } from "./limiter.js";
import type { ResolvedRateLimits } from "./rate-limit.js";

/** 24 random bytes (192 bits) for links: only their SHA-256 is stored. */
const LINK_TOKEN_BYTES = 24;
const LINK_TOKEN = /^[A-Za-z0-9_-]{32}$/;
const CODE = /^\d{8}$/;

export interface EmailFlowDeps {
  store: Store;
  config: EmailConfig;
  rateLimits: ResolvedRateLimits;
  limiter: RateLimiter;
  passwordPolicy: PasswordPolicy;
  hasher: PasswordHasher;
  now: () => number;
  /** Checks a signed-in user's password; throws `InvalidInputError` naming `field` when it is wrong. */
  confirmPassword(user: UserRecord, password: unknown, field: string, meta: RequestMeta): Promise<void>;
}

/** Email verification, password reset and email change. */
export type EmailFlows = ReturnType<typeof createEmailFlows>;

export function createEmailFlows(deps: EmailFlowDeps) {
  const { store, config, rateLimits, limiter, now } = deps;
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

  /**
   * Runs work after the response is on its way: its duration then tells nothing (does the account exist?),
   * and a slow mail server does not hold the request. Failures are logged, never shown to the requester.
   */
  function later(what: string, task: () => Promise<void>): void {
    setImmediate(() => {
      task().catch((error: unknown) => {
        // Over its limit, a background email is simply not sent: that is the limit working, not a failure.
        if (isGatehouseError(error) && error.code === "rate_limited") return;
        console.error(`gatehouse: ${what} failed:`, error instanceof Error ? error.message : error);
      });
    });
  }

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
    await store.createToken(
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
      await store.consumeToken(tokenHash, [purpose]);
      throw error;
    }
    await store.deleteUserTokens(user.id, purpose, { except: tokenHash });
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
    const token = tokenHash === null ? null : await store.consumeToken(tokenHash, purposes);
    if (!token) throw new InvalidTokenError();
    if (token.expiresAt.getTime() <= now()) throw new TokenExpiredError();
    const user = await store.getUserById(token.userId);
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
    async verifyEmail(input: unknown, signedIn: UserRecord | null, meta: SessionMeta): Promise<UserRecord> {
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
        if (!CODE.test(code)) throw new InvalidInputError({ code: "Enter the 8-digit code from the email." });
        const rawEmail = field(record, "email");
        const email = rawEmail === undefined && signedIn ? signedIn.email : parseEmail(rawEmail);
        // Links only: no code was ever sent, and a guess counts nowhere.
        if (config.verificationMethod !== "code") throw new InvalidTokenError();
        // The client's address first, so random addresses from one client cannot each get a counter of their own.
        await limiter.hit(rateLimits.verificationCodePerIp, rateLimitKeys.verificationCodeIp(meta.ip ?? "unknown"));
        const limitKey = rateLimitKeys.verificationCode(email);
        await limiter.hit(rateLimits.verificationCodePerEmail, limitKey);
        const user = await store.getUserByEmail(email);
        found = await consume(user ? codeHash(user.id, code) : null, ["verify_email"]);
        await limiter.reset(rateLimits.verificationCodePerEmail, limitKey);
      } else {
        throw new InvalidInputError({ token: "The link is incomplete: open the whole link from the email." });
      }
      const { token, user } = found;
      const verifiedAt = new Date(now());
      const updated =
        token.purpose === "change_email"
          ? await store.updateUser(user.id, { email: token.email, emailVerifiedAt: verifiedAt })
          : await store.updateUser(user.id, { emailVerifiedAt: user.emailVerifiedAt ?? verifiedAt });
      if (!updated) throw new InvalidTokenError();
      const sessionVersion = (await store.bumpSessionVersion(user.id)) ?? updated.sessionVersion;
      if (token.purpose === "change_email") {
        await store.deleteUserTokens(user.id, "verify_email");
        await store.deleteUserTokens(user.id, "reset_password");
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
      await limiter.hit(rateLimits.passwordResetPerIp, rateLimitKeys.resetIp(meta.ip ?? "unknown"));
      await limiter.hit(rateLimits.passwordResetPerEmail, rateLimitKeys.resetEmail(email));
      later("sending a password-reset email", async () => {
        const user = await store.getUserByEmail(email);
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
      const problem = newPasswordProblem(rawPassword, deps.passwordPolicy);
      if (problem) throw new InvalidInputError({ password: problem });
      const { user } = await consume(sha256Hex(rawToken), ["reset_password"]);
      const passwordHash = await deps.hasher.hash(normalizePassword(rawPassword as string));
      // One transaction: the new password (receiving the link proves the address, too) and the end of every
      // session and pending link.
      await store.endSessions(user.id, {
        update: { passwordHash, emailVerifiedAt: user.emailVerifiedAt ?? new Date(now()) },
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
    async requestEmailChange(
      current: ValidSession,
      input: unknown,
      meta: RequestMeta,
    ): Promise<{ pendingEmail: string }> {
      const record = asRecord(input);
      const { user } = current;
      const password = field(record, "password");
      if (password === undefined) throw new ReauthenticationRequiredError();
      // Bad input is refused before the password is checked: it costs no hash and counts nowhere.
      const email = parseEmail(field(record, "email"));
      if (email === user.email) throw new InvalidInputError({ email: "This is already your email address." });
      mailer();
      await deps.confirmPassword(user, password, "password", meta);
      await limiter.hit(rateLimits.emailChangePerUser, rateLimitKeys.emailChange(user.id));
      later("sending the email-change link", async () => {
        // The current address hears of it at once, so its owner can act before the link is followed.
        await send(templates.emailChangeRequested(context, user.email, email));
        if (await store.getUserByEmail(email)) {
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

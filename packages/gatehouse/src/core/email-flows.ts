import { randomInt } from "node:crypto";
import { sha256Hex } from "../crypto/digest.js";
import { randomToken } from "../crypto/random.js";
import {
  AlreadyVerifiedError,
  InvalidInputError,
  InvalidTokenError,
  MailUnavailableError,
  ReauthenticationRequiredError,
  TokenExpiredError,
} from "../errors.js";
import type { MailMessage } from "../mail/mailer.js";
import { templates } from "../mail/templates.js";
import { loadCommonPasswords } from "../password/common.js";
import { normalizePassword } from "../password/policy.js";
import type { RequestMeta, SessionMeta } from "../session/types.js";
import type { AuditEvent, QueuedMail, TokenPurpose, TokenRecord, UserRecord } from "../stores/types.js";
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
import type { MailApi } from "./mail-queue.js";
import type { PasswordCheck } from "./password-check.js";
import { endSessions } from "./stores.js";

/** 24 random bytes (192 bits) for links: only their SHA-256 is stored. */
const LINK_TOKEN_BYTES = 24;
const LINK_TOKEN = /^[A-Za-z0-9_-]{32}$/;
const CODE = /^\d{8}$/;
/** Jobs of the durable outbox (see `MailQueue.job`): requests whose lookup happens after the answer. */
const RESET_JOB = "password_reset";
const EMAIL_CHANGE_JOB = "email_change";

/** Email verification, password reset and email change: the flows behind {@link EmailApi}. */
function createEmailFlows(ctx: CoreContext, check: PasswordCheck) {
  const { roles, limiter, now, hasher, mail, audit } = ctx;
  const { users, tokens } = roles;
  const config = ctx.config.email;
  const { rateLimits, passwordPolicy } = ctx.config;
  const context = { appName: config.appName };

  function requireMailer(): void {
    if (!mail.enabled) throw new MailUnavailableError({ cause: new Error("no mailer is configured") });
  }

  function link(base: string | null, token: string): string {
    const url = new URL(base as string);
    url.searchParams.set("token", token);
    return url.href;
  }

  function tokenRecord(
    user: UserRecord,
    purpose: TokenPurpose,
    email: string,
    lifetimeSeconds: number,
    tokenHash: string,
    revocationEpoch = user.revocationEpoch,
  ): TokenRecord {
    const createdAt = now();
    return {
      tokenHash,
      purpose,
      userId: user.id,
      email,
      revocationEpoch,
      createdAt: new Date(createdAt),
      expiresAt: new Date(createdAt + lifetimeSeconds * 1000),
    };
  }

  /**
   * Stores a new token and the mail that carries it (after `before`, with `events`) in one transaction, voiding
   * the user's older tokens of that purpose: only the newest link works. The mail cannot be lost once the
   * token exists, and a mail server that is down only delays it, so no older link is kept alive in case it
   * never arrives. `createdAt` dates the mail (a job's request time: mail goes out in the order it was asked for).
   */
  async function issueToken(
    token: TokenRecord,
    message: MailMessage,
    options: { createdAt?: Date; before?: QueuedMail[]; events?: readonly AuditEvent[] } = {},
  ): Promise<void> {
    const queued = await mail.seal(message, options.createdAt);
    await tokens.createToken(token, {
      replace: true,
      effects: { mail: [...(options.before ?? []), queued], events: options.events ?? [] },
    });
    mail.kick();
  }

  /** A new verification link or code for the user's current address; older ones stop working. */
  async function sendVerification(user: UserRecord): Promise<void> {
    requireMailer();
    const lifetime = config.verificationLifetimeSeconds;
    if (config.verificationMethod === "code") {
      const code = String(randomInt(0, 100_000_000)).padStart(8, "0");
      await issueToken(
        tokenRecord(user, "verify_email", user.email, lifetime, codeHash(user.id, code)),
        templates.verifyEmailCode(context, user.email, code, lifetime),
      );
      return;
    }
    const token = randomToken(LINK_TOKEN_BYTES);
    await issueToken(
      tokenRecord(user, "verify_email", user.email, lifetime, sha256Hex(token)),
      templates.verifyEmailLink(context, user.email, link(config.verifyEmailUrl, token), lifetime),
    );
  }

  /** A reset link for the user, in one transaction with `events` (an admin's action that sent it). */
  async function sendReset(
    user: UserRecord,
    token: string,
    options: { createdAt?: Date; events?: readonly AuditEvent[] },
  ): Promise<void> {
    const lifetime = config.resetLifetimeSeconds;
    await issueToken(
      tokenRecord(user, "reset_password", user.email, lifetime, sha256Hex(token)),
      templates.resetPassword(context, user.email, link(config.resetPasswordUrl, token), lifetime),
      options,
    );
  }

  // The sender's side of a reset request, after the answer. The token is made here, not in the request: a job
  // run again (its sender died between this write and the job's settling) must not bring back a link that was
  // used meanwhile. It mails a new one instead, which voids the first.
  mail.handle(RESET_JOB, async ({ to, createdAt }) => {
    const user = await users.getUserByEmail(to);
    // No account: nothing to send, and the requester was told what everyone is told.
    if (!user) return;
    await sendReset(user, randomToken(LINK_TOKEN_BYTES), { createdAt });
  });

  // The sender's side of an email change, after the answer: whether the new address has an account is not for
  // the requester to learn. The current address hears of it in the same write, before the link can be followed.
  mail.handle(EMAIL_CHANGE_JOB, async ({ to: email, data, createdAt }) => {
    const user = typeof data.userId === "string" ? await users.getUserById(data.userId) : null;
    if (!user || typeof data.epoch !== "number") return;
    const warning = await mail.seal(templates.emailChangeRequested(context, user.email, email), createdAt);
    if (await users.getUserByEmail(email)) {
      await mail.enqueue([warning, await mail.seal(templates.emailInUse(context, email), createdAt)]);
      return;
    }
    const token = randomToken(LINK_TOKEN_BYTES);
    const lifetime = config.verificationLifetimeSeconds;
    // The epoch of the request: sessions ended since void the link, however late this runs.
    await issueToken(
      tokenRecord(user, "change_email", email, lifetime, sha256Hex(token), data.epoch),
      templates.confirmEmailChange(context, email, link(config.verifyEmailUrl, token), lifetime),
      { createdAt, before: [warning] },
    );
  });

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
      if (mail.enabled) runLater("queueing the verification email", () => sendVerification(user));
    },

    /** On a log-in refused for an unverified address: a fresh link, within the per-user limit. */
    afterUnverifiedLogIn(user: UserRecord): void {
      if (!mail.enabled) return;
      runLater("queueing the verification email again", async () => {
        await limiter.hit(rateLimits.verificationEmailPerUser, rateLimitKeys.verificationEmail(user.id));
        await sendVerification(user);
      });
    },

    /** Sends the signed-in user a new verification link (or code). */
    async requestVerification(user: UserRecord): Promise<void> {
      if (user.emailVerifiedAt) throw new AlreadyVerifiedError();
      requireMailer();
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
      let updated: UserRecord | null;
      let events: AuditEvent[];
      if (token.purpose === "change_email") {
        // The event, and the notice to the address the account leaves, commit with the change.
        events = [
          audit.event("email.change", {
            user: { id: user.id, email: token.email },
            meta,
            detail: { from: user.email, to: token.email },
          }),
        ];
        const notice = mail.enabled ? [await mail.seal(templates.emailChanged(context, user.email, token.email))] : [];
        updated = await users.updateUser(
          user.id,
          { email: token.email, emailVerifiedAt: verifiedAt },
          { effects: { events, mail: notice } },
        );
      } else {
        events = [audit.event("email.verify", { user, meta })];
        updated = await users.updateUser(
          user.id,
          { emailVerifiedAt: user.emailVerifiedAt ?? verifiedAt },
          { effects: { events } },
        );
      }
      if (!updated) throw new InvalidTokenError();
      audit.emit(events);
      mail.kick();
      const sessionVersion = (await users.bumpSessionVersion(user.id)) ?? updated.sessionVersion;
      if (token.purpose === "change_email") {
        await tokens.deleteUserTokens(user.id, "verify_email");
        await tokens.deleteUserTokens(user.id, "reset_password");
      }
      return { ...updated, sessionVersion };
    },

    /**
     * Starts a password reset. Whether or not the address has an account, the caller sees the same thing, as
     * fast: what is written before the answer is the same for every address (the request, sealed, in the
     * durable outbox), and the lookup, the token and the email happen in the sender, after it. A process that
     * dies right after answering leaves the request to the next one. Rate-limited per address and per IP.
     */
    async requestPasswordReset(input: unknown, meta: SessionMeta): Promise<void> {
      const email = parseEmail(field(asRecord(input), "email"));
      requireMailer();
      await limiter.hit(perAddress(rateLimits.passwordResetPerIp, meta.ip), rateLimitKeys.resetIp(meta.ip ?? ""));
      await limiter.hit(rateLimits.passwordResetPerEmail, rateLimitKeys.resetEmail(email));
      await mail.enqueue([await mail.job(RESET_JOB, email, {})]);
    },

    /**
     * Sets a new password with `{ token, password }`. Every session of the user ends (nobody is signed in
     * by it), the account's log-in throttling is cleared, and the user is told by email.
     */
    async confirmPasswordReset(input: unknown, meta: SessionMeta): Promise<void> {
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
      const events = [audit.event("password.reset", { user, meta })];
      const notice = mail.enabled ? [await mail.seal(templates.passwordChanged(context, user.email))] : [];
      // One transaction: the new password (receiving the link proves the address, too) and the end of every
      // session and pending link — and, as the mailbox's owner takes the account, of the ways in someone else may
      // have added: identities whose provider email was unverified and, when the address had never been verified
      // (someone may have registered it first: account pre-hijacking), every second factor, passkey and identity
      // but those verified for this address. The event and the notice to the owner commit with it.
      const ended = await endSessions(roles, user.id, {
        update: { passwordHash, emailVerifiedAt: user.emailVerifiedAt ?? new Date(now()) },
        reclaim: { email: user.email, unproven: user.emailVerifiedAt === null },
        effects: { events, mail: notice },
      });
      if (ended) {
        audit.emit(events);
        mail.kick();
      }
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
    },

    /**
     * Asks to move the signed-in account to `{ email }`. Needs `password` every time (ASVS 7.5.1): a recent
     * log-in alone is not enough. The address stays pending until the link sent to it is opened. An address
     * that already has an account gets a notice instead; the caller cannot tell the difference: the request is
     * written to the durable outbox before the answer, and the sender looks the address up after it.
     */
    async requestEmailChange(user: UserRecord, input: unknown, meta: RequestMeta): Promise<{ pendingEmail: string }> {
      const record = asRecord(input);
      const password = field(record, "password");
      if (password === undefined) throw new ReauthenticationRequiredError();
      // Bad input is refused before the password is checked: it costs no hash and counts nowhere.
      const email = parseEmail(field(record, "email"));
      if (email === user.email)
        throw new InvalidInputError({ email: { code: "unchanged", message: "This is already your email address." } });
      requireMailer();
      await check.confirm(user, password, "password", meta);
      await limiter.hit(rateLimits.emailChangePerUser, rateLimitKeys.emailChange(user.id));
      await mail.enqueue([await mail.job(EMAIL_CHANGE_JOB, email, { userId: user.id, epoch: user.revocationEpoch })]);
      return { pendingEmail: email };
    },

    /**
     * Mails the user a new reset link, in one transaction with `events`: an administrator's "send a password
     * reset". The caller hands the events to the sink once this resolves. Throws `MailUnavailableError` without
     * a mailer.
     */
    async sendPasswordReset(user: UserRecord, options: { events?: readonly AuditEvent[] } = {}): Promise<void> {
      requireMailer();
      await sendReset(user, randomToken(LINK_TOKEN_BYTES), options);
    },
  };
}

/** Codes are short, so each is bound to its user: the same digits sent to two users are two tokens. */
function codeHash(userId: string, code: string): string {
  return sha256Hex(`code:${userId}:${code}`);
}

/** Email: verifying addresses, resetting passwords, changing the address, and the outbox they go through. */
export interface EmailApi extends MailApi {
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
  /**
   * Sets a new password with `{ token, password }`; ends every session of the user and signs nobody in. `meta`
   * is recorded with the `password.reset` event.
   */
  confirmPasswordReset(input: PasswordResetInput, meta?: SessionMeta): Promise<void>;
  /**
   * Asks to change the signed-in user's email to `{ email, password }`; without the password,
   * `ReauthenticationRequiredError`. The address stays pending until the link sent to it is opened.
   */
  requestEmailChange(auth: Auth, input: EmailChangeInput, meta?: RequestMeta): Promise<{ pendingEmail: string }>;
}

/**
 * The email module: its calls, what it does when a sign-up or log-in tells it to, and the reset link an
 * administrator sends (`sendPasswordReset(user, { events })`: the token, its mail and the admin's event in one
 * transaction).
 */
export function createEmailApi(
  ctx: CoreContext,
  check: PasswordCheck,
): {
  api: EmailApi;
  events: CredentialEvents;
  sendPasswordReset: (user: UserRecord, options?: { events?: readonly AuditEvent[] }) => Promise<void>;
} {
  const flows = createEmailFlows(ctx, check);
  const { sessions } = ctx;
  return {
    events: { afterSignUp: flows.afterSignUp, afterUnverifiedLogIn: flows.afterUnverifiedLogIn },
    sendPasswordReset: flows.sendPasswordReset,
    api: {
      ...ctx.mail.api,

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

      confirmPasswordReset: (input, meta = {}) => flows.confirmPasswordReset(input, meta),

      async requestEmailChange(auth, input, meta = {}) {
        // The owner's alone: an administrator viewing the account as its user cannot move it elsewhere.
        return flows.requestEmailChange((await check.current(auth, { owner: true })).user, input, meta);
      },
    },
  };
}

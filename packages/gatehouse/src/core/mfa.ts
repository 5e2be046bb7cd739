import { createHmac, hkdfSync, randomInt } from "node:crypto";
import { Secret, TOTP } from "otpauth";
import QRCode from "qrcode";
import { createSealer } from "../crypto/seal.js";
import {
  BannedError,
  InvalidCodeError,
  InvalidInputError,
  MfaAlreadyEnabledError,
  MfaNotEnabledError,
  MfaPendingExpiredError,
  MfaRequiredError,
  MfaSetupRequiredError,
  RateLimitedError,
  type SecondFactorMethod,
  UnauthenticatedError,
} from "../errors.js";
import type { RequestMeta } from "../session/types.js";
import type { AuditEvent, ChallengeRecord, FactorSummary, UserRecord } from "../stores/types.js";
import { CEREMONY_SECONDS, type CeremonyCookie, createCeremonyCookie, handleHash, isLive } from "./ceremony.js";
import type { CoreContext } from "./context.js";
import type { Auth } from "./dto.js";
import { asRecord, field } from "./input.js";
import { type Budget, rateLimitKeys } from "./limiter.js";
import type { Notices } from "./notices.js";
import type { PasskeySecondStep, PublicKeyCredentialRequestOptionsJSON } from "./passkeys.js";
import type { FreshAuthInput, PasswordCheck } from "./password-check.js";
import {
  actorOf,
  completeLogIn,
  type LoggedIn,
  type LogInDetail,
  recordLogInFailure,
  refuseBanned,
  type SignedIn,
  startSignedIn,
} from "./sessions.js";
import { endSessions } from "./stores.js";

/** RFC 6238 as every authenticator app reads it: SHA-1, 6 digits, 30-second steps. */
const TOTP_PERIOD_SECONDS = 30;
const TOTP_DIGITS = 6;
/** 20 bytes: the 160 bits RFC 4226 recommends. */
const TOTP_SECRET_BYTES = 20;
/** Codes of the step before and after are accepted too: clocks drift, and people type slowly. */
const TOTP_WINDOW = 1;
/** How long a setup waits for its first code: time to find the phone and scan, not to be guessed at. */
const TOTP_SETUP_SECONDS = 15 * 60;
const RECOVERY_CODE_COUNT = 10;
/** Crockford's base32, lower case: 10 of its characters carry 50 bits, and none looks like another. */
const RECOVERY_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const RECOVERY_CODE = /^[0-9a-hjkmnp-tv-z]{10}$/;
const SIX_DIGITS = /^\d{6}$/;
/** The purpose TOTP secrets are sealed for: no other key of the app opens them. */
const TOTP_SEAL_PURPOSE = "totp";

/** What {@link SecondFactorApi.confirmTotp} takes: a code from the app just set up. */
export interface TotpCodeInput {
  code: string;
}

/** A new authenticator-app secret, shown once: as text, as an `otpauth://` URI, and as a QR code of it. */
export interface TotpSetup {
  /** Base32, 32 characters (160 bits). */
  secret: string;
  uri: string;
  /** The URI as an SVG QR code. */
  qrSvg: string;
}

/** Which second factors a user has. */
export interface MfaStatus {
  totp: boolean;
  passkeys: number;
  recoveryCodesLeft: number;
}

/** The second step of a log-in: exactly one of a code, a recovery code or a passkey's answer. */
export type SecondFactorInput = { code: string } | { recoveryCode: string } | { passkey: unknown };

/** TOTP is on: the recovery codes (shown once) and the session that replaced the current one. */
export interface TotpConfirmed extends SignedIn {
  recoveryCodes: string[];
}

/** A log-in finished by its second step: the new session, the device cookie and the pending cookie's removal. */
export interface SecondFactorLoggedIn extends LoggedIn {
  /** A `Set-Cookie` that deletes the pending cookie; send it with the others. */
  clearPending: string;
}

/** Second factors: an authenticator app (TOTP), recovery codes, and the second step of a log-in. */
export interface SecondFactorApi {
  /** Which second factors the user has. */
  mfaStatus(userId: string): Promise<MfaStatus>;
  /**
   * Starts setting up an authenticator app: a new secret, not on until {@link SecondFactorApi.confirmTotp}. A
   * new setup replaces an unconfirmed one. Needs `{ password }`: else `ReauthenticationRequiredError`; a wrong
   * one is `InvalidInputError`. `MfaAlreadyEnabledError` when TOTP is on.
   */
  setUpTotp(auth: Auth, input: FreshAuthInput, meta?: RequestMeta): Promise<TotpSetup>;
  /**
   * Turns TOTP on with a first code from the app: every other session of the user ends, the current one is
   * replaced (send `setCookie`), and ten recovery codes are made (shown once). Throws `InvalidCodeError`,
   * `MfaSetupRequiredError` or `MfaAlreadyEnabledError`. Recorded as `mfa.enable`, like the other changes here
   * (`mfa.disable`, `recovery_codes.regenerate`), in the change's own transaction. None of them is open to an
   * administrator's impersonation (`ImpersonationForbiddenError`).
   */
  confirmTotp(auth: Auth, input: TotpCodeInput, meta?: RequestMeta): Promise<TotpConfirmed>;
  /** Turns TOTP off and deletes the recovery codes. Needs `{ password }`. `MfaNotEnabledError` when it is off. */
  disableTotp(auth: Auth, input: FreshAuthInput, meta?: RequestMeta): Promise<void>;
  /** Ten new recovery codes; the old ones stop working. Needs `{ password }`. `MfaNotEnabledError` when TOTP is off. */
  regenerateRecoveryCodes(auth: Auth, input: FreshAuthInput, meta?: RequestMeta): Promise<string[]>;
  /**
   * Finishes a log-in that answered `mfa_required`, with the pending cookie of the request's `Cookie` header
   * and one second step. Throws `MfaPendingExpiredError` (sign in again), `InvalidCodeError`,
   * `RateLimitedError` (5 wrong steps per pending log-in, 10 per account per 15 minutes), `InvalidInputError`,
   * or `BannedError` when the user was banned since the password step. Recorded as `login.success` (with the
   * new session) or `login.failure`; a recovery code used is `recovery_code.use`, with its deletion.
   */
  verifySecondFactor(input: SecondFactorInput, meta?: RequestMeta): Promise<SecondFactorLoggedIn>;
  /**
   * WebAuthn options for a passkey as the second step of the pending log-in. Throws `MfaPendingExpiredError`
   * or `NoPasskeysError`.
   */
  secondFactorPasskeyOptions(meta?: RequestMeta): Promise<PublicKeyCredentialRequestOptionsJSON>;
}

/** What a password log-in asks of this module. */
export interface SecondFactorGate {
  /** The user's factors, read while the password is being checked. */
  summary(userId: string): Promise<FactorSummary>;
  /**
   * After a right password: throws `MfaRequiredError`, with a new pending log-in's cookie, when TOTP is on;
   * returns otherwise.
   */
  require(user: UserRecord, summary: FactorSummary): Promise<void>;
}

/** What the audit log calls each kind of second step. */
const STEP_METHOD = { code: "totp", recoveryCode: "recovery_code", passkey: "passkey" } as const;

/** The methods a user with `summary` can finish a log-in with, in a fixed order. */
function methodsOf(summary: FactorSummary): SecondFactorMethod[] {
  const methods: SecondFactorMethod[] = ["totp"];
  if (summary.recoveryCodes > 0) methods.push("recovery_code");
  if (summary.passkeys > 0) methods.push("passkey");
  return methods;
}

/** Ten random characters of {@link RECOVERY_ALPHABET}, shown as `xxxxx-xxxxx`. */
function newRecoveryCode(): string {
  let code = "";
  for (let i = 0; i < 10; i++) code += RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)];
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}

/** A typed recovery code as stored: case, spaces and dashes do not matter, and i/l read as 1, o as 0. */
function normalizeRecoveryCode(raw: string): string | null {
  const code = raw.toLowerCase().replace(/[\s-]/g, "").replace(/[il]/g, "1").replace(/o/g, "0");
  return RECOVERY_CODE.test(code) ? code : null;
}

function invalidField(name: string, message: string): InvalidInputError {
  return new InvalidInputError({ [name]: { code: "invalid_format", message } });
}

/** The one second step of a verify request, checked for shape before anything counts it. */
function parseSecondFactor(
  input: unknown,
): { kind: "code"; code: string } | { kind: "recoveryCode"; code: string } | { kind: "passkey"; response: unknown } {
  const record = asRecord(input);
  const given = (["code", "recoveryCode", "passkey"] as const).filter((name) => field(record, name) !== undefined);
  if (given.length !== 1) {
    throw new InvalidInputError(
      { code: { code: "required", message: "Enter the 6-digit code from your authenticator app." } },
      "Send exactly one of code, recoveryCode or passkey.",
    );
  }
  const [kind] = given as [(typeof given)[number]];
  const value = field(record, kind);
  if (kind === "passkey") {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw invalidField("passkey", "Send the passkey's answer as an object.");
    }
    return { kind, response: value };
  }
  if (kind === "code") {
    const code = typeof value === "string" ? value.replace(/\s/g, "") : "";
    if (!SIX_DIGITS.test(code)) throw invalidField("code", "Enter the 6-digit code from your authenticator app.");
    return { kind, code };
  }
  const code = typeof value === "string" && value.length <= 64 ? normalizeRecoveryCode(value) : null;
  if (!code) throw invalidField("recoveryCode", "Enter one of your recovery codes, like abcde-12345.");
  return { kind, code };
}

export function createSecondFactors(
  ctx: CoreContext,
  check: PasswordCheck,
  passkeys: PasskeySecondStep,
  notices: Notices,
): { api: SecondFactorApi; gate: SecondFactorGate; pendingCookie: CeremonyCookie } {
  const { roles, config, limiter, now, sessionConfig } = ctx;
  const { factors, users } = roles;
  const issuer = config.email.appName;
  const sealer = createSealer(sessionConfig.secrets, TOTP_SEAL_PURPOSE);
  // One key per secret, derived here once: the first hashes new codes, every one finds old ones (rotation).
  const recoveryKeys = sessionConfig.secrets.map((secret) =>
    Buffer.from(hkdfSync("sha256", secret, "gatehouse", "gatehouse:recovery-codes:v1", 32)),
  );
  const pendingCookie = createCeremonyCookie(sessionConfig, factors, "mfa");

  /** Keyed, so a copy of the database alone cannot test guesses against the hashes. */
  const recoveryHash = (key: Buffer, userId: string, code: string) =>
    createHmac("sha256", key).update(`${userId}:${code}`).digest("hex");

  async function newRecoveryCodes(userId: string): Promise<{ codes: string[]; hashes: string[] }> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    const key = recoveryKeys[0] as Buffer;
    return { codes, hashes: codes.map((code) => recoveryHash(key, userId, code.replace("-", ""))) };
  }

  function totpFor(email: string, secret: Secret): TOTP {
    return new TOTP({
      issuer,
      label: email,
      algorithm: "SHA1",
      digits: TOTP_DIGITS,
      period: TOTP_PERIOD_SECONDS,
      secret,
    });
  }

  /** The base32 secret sealed in `sealed`, if it was sealed for this user. */
  async function openSecret(sealed: string, userId: string): Promise<string | null> {
    const payload = (await sealer.open(sealed)) as { u?: unknown; s?: unknown } | null;
    return payload && payload.u === userId && typeof payload.s === "string" ? payload.s : null;
  }

  /** The 30-second step `code` belongs to, within the window around now; `null` when it is no current code. */
  function matchingStep(secret: string, email: string, code: string): number | null {
    const timestamp = now();
    const delta = totpFor(email, Secret.fromBase32(secret)).validate({ token: code, timestamp, window: TOTP_WINDOW });
    return delta === null ? null : Math.floor(timestamp / 1000 / TOTP_PERIOD_SECONDS) + delta;
  }

  /** A code for the user's TOTP that no one has used yet; using it moves the last step on, atomically. */
  async function acceptCode(user: UserRecord, code: string): Promise<boolean> {
    const totp = await factors.getTotp(user.id);
    if (!totp?.confirmedAt) return false;
    const secret = await openSecret(totp.sealedSecret, user.id);
    const step = secret === null ? null : matchingStep(secret, user.email, code);
    return step !== null && factors.spendTotpStep(user.id, step);
  }

  /** A recovery code of the user's, used up with its `recovery_code.use` event. */
  async function acceptRecoveryCode(user: UserRecord, code: string, used: AuditEvent): Promise<boolean> {
    const accepted = await factors.consumeRecoveryCode(
      user.id,
      recoveryKeys.map((key) => recoveryHash(key, user.id, code)),
      { effects: { events: [used] } },
    );
    if (accepted) ctx.audit.emit([used]);
    return accepted;
  }

  /** The pending log-in the request's cookie names, with its user, unless it has ended. */
  async function pendingOf(meta: RequestMeta): Promise<{ handle: string; record: ChallengeRecord; user: UserRecord }> {
    const handle = pendingCookie.read(meta.cookieHeader);
    const record = handle === null ? null : await factors.getChallenge(handleHash(handle), "mfa_pending");
    if (handle === null || !record?.userId || !isLive(record, now())) throw new MfaPendingExpiredError();
    const user = await users.getUserById(record.userId);
    // A password change or "sign out everywhere" since the password step voids it.
    if (!user || record.revocationEpoch < user.revocationEpoch) throw new MfaPendingExpiredError();
    return { handle, record, user };
  }

  /**
   * Runs a second-factor check within its limits — of the pending log-in, when there is one, and of the
   * account over 15 minutes and a day — like a password check: each attempt holds its place before the check
   * and gives it back when right, when it also clears the account's failures.
   */
  async function throttled(user: UserRecord, pendingIdHash: string | null, check: () => Promise<boolean>) {
    const { rateLimits } = config;
    const account: Budget[] = [
      { rule: rateLimits.secondFactorPerAccountDaily, key: rateLimitKeys.secondFactorAccountDaily(user.id) },
      { rule: rateLimits.secondFactorPerAccount, key: rateLimitKeys.secondFactorAccount(user.id) },
    ];
    const pending: Budget[] =
      pendingIdHash === null
        ? []
        : [{ rule: rateLimits.secondFactorPerLogin, key: rateLimitKeys.secondFactorLogin(pendingIdHash) }];
    const reservation = await limiter.reserve([...pending, ...account]);
    let valid = false;
    try {
      valid = await check();
    } finally {
      // A check that threw (a store outage) stays counted, like a wrong code.
      await (valid ? reservation.succeeded({ reset: account }) : reservation.failed());
    }
    return valid;
  }

  /** A factor change's event, acted by the session (the user: an impersonation may not change factors). */
  function changeEvent(
    type: "mfa.enable" | "mfa.disable" | "recovery_codes.regenerate",
    found: { user: UserRecord; session: { impersonatedBy?: string | null } },
    meta: RequestMeta,
  ): AuditEvent {
    const { user, session } = found;
    return ctx.audit.event(type, { user, actor: actorOf(user.id, session.impersonatedBy), meta });
  }

  const api: SecondFactorApi = {
    async mfaStatus(userId) {
      const summary = await factors.getFactorSummary(userId);
      return { totp: summary.totp, passkeys: summary.passkeys, recoveryCodesLeft: summary.recoveryCodes };
    },

    async setUpTotp(auth, input, meta = {}) {
      const { user } = await check.fresh(auth, input, meta);
      const secret = new Secret({ size: TOTP_SECRET_BYTES });
      const sealed = await sealer.seal({ u: user.id, s: secret.base32 });
      if (!(await factors.saveTotpSetup(user.id, sealed, new Date(now())))) {
        const totp = await factors.getTotp(user.id);
        if (totp?.confirmedAt) throw new MfaAlreadyEnabledError();
        throw new UnauthenticatedError();
      }
      const uri = totpFor(user.email, secret).toString();
      const qrSvg = await QRCode.toString(uri, { type: "svg", errorCorrectionLevel: "M", margin: 2 });
      return { secret: secret.base32, uri, qrSvg };
    },

    async confirmTotp(auth, input, meta = {}) {
      const found = await check.current(auth, { owner: true });
      const { user } = found;
      const raw = field(asRecord(input), "code");
      const code = typeof raw === "string" ? raw.replace(/\s/g, "") : "";
      if (!SIX_DIGITS.test(code)) throw invalidField("code", "Enter the 6-digit code from your authenticator app.");
      const totp = await factors.getTotp(user.id);
      if (totp?.confirmedAt) throw new MfaAlreadyEnabledError();
      const secret = totp && (await openSecret(totp.sealedSecret, user.id));
      if (!totp || !secret) throw new MfaSetupRequiredError();
      // A setup left unconfirmed for long is void: whoever holds the session later must set up again (password).
      if (totp.createdAt.getTime() + TOTP_SETUP_SECONDS * 1000 <= now()) throw new MfaSetupRequiredError();
      // Wrong first codes count like wrong second steps: a stolen session must not guess its way in.
      const step = matchingStep(secret, user.email, code);
      if (!(await throttled(user, null, async () => step !== null)) || step === null) throw new InvalidCodeError();
      const { codes, hashes } = await newRecoveryCodes(user.id);
      const enabled = changeEvent("mfa.enable", found, meta);
      const confirmed = await factors.confirmTotp(user.id, totp.sealedSecret, step, hashes, new Date(now()), {
        effects: { events: [enabled] },
      });
      if (!confirmed) {
        // Replaced by a newer setup, or confirmed by a concurrent request, since it was read.
        const current = await factors.getTotp(user.id);
        throw current?.confirmedAt ? new MfaAlreadyEnabledError() : new MfaSetupRequiredError();
      }
      ctx.audit.emit([enabled]);
      // Whoever else is signed in did not need the second factor: they are signed out. This session is
      // replaced, in the epoch this change moved to.
      const ended = await endSessions(roles, user.id, { ifEpoch: user.revocationEpoch });
      if (!ended) throw new UnauthenticatedError();
      const fresh = await users.getUserById(user.id);
      if (!fresh) throw new UnauthenticatedError();
      const signedIn = await startSignedIn(ctx, { ...fresh, revocationEpoch: ended.epoch }, meta);
      notices.send(user, "Two-factor authentication was turned on");
      return { ...signedIn, recoveryCodes: codes };
    },

    async disableTotp(auth, input, meta = {}) {
      const found = await check.fresh(auth, input, meta);
      const { user } = found;
      const disabled = changeEvent("mfa.disable", found, meta);
      if (!(await factors.disableTotp(user.id, { effects: { events: [disabled] } }))) throw new MfaNotEnabledError();
      ctx.audit.emit([disabled]);
      notices.send(user, "Two-factor authentication was turned off");
    },

    async regenerateRecoveryCodes(auth, input, meta = {}) {
      const found = await check.fresh(auth, input, meta);
      const { user } = found;
      const { codes, hashes } = await newRecoveryCodes(user.id);
      const regenerated = changeEvent("recovery_codes.regenerate", found, meta);
      const replaced = await factors.replaceRecoveryCodes(user.id, hashes, new Date(now()), {
        effects: { events: [regenerated] },
      });
      if (!replaced) throw new MfaNotEnabledError();
      ctx.audit.emit([regenerated]);
      notices.send(user, "New recovery codes were made (the old ones no longer work)");
      return codes;
    },

    async verifySecondFactor(input, meta = {}) {
      const step = parseSecondFactor(input);
      const { handle, record, user } = await pendingOf(meta);
      const detail: LogInDetail = { method: STEP_METHOD[step.kind], secondFactor: true };
      // The password proved the account at the first step: a ban since then is told now, before any code.
      await refuseBanned(ctx, user, meta, detail);
      const valid = await throttled(user, record.idHash, () => {
        if (step.kind === "code") return acceptCode(user, step.code);
        if (step.kind === "recoveryCode") {
          const used = ctx.audit.event("recovery_code.use", { user, meta });
          return acceptRecoveryCode(user, step.code, used);
        }
        return passkeys.verify(user, handle, step.response);
      }).catch(async (error: unknown) => {
        if (error instanceof RateLimitedError) await recordLogInFailure(ctx, "rate_limited", { user }, meta, detail);
        throw error;
      });
      if (!valid) {
        await recordLogInFailure(ctx, "mfa_failure", { user }, meta, detail);
        // The password was right and the second step was not: its owner should know, once per pending log-in.
        notices.sendOnce(
          user,
          "Someone entered your password but not your second factor",
          rateLimitKeys.secondFactorWarning(record.idHash),
          CEREMONY_SECONDS,
        );
        throw new InvalidCodeError();
      }
      // The pending log-in is used up here: of two right answers at once, one signs in.
      if (!(await factors.consumeChallenge(record.idHash, "mfa_pending"))) throw new MfaPendingExpiredError();
      if (step.kind === "recoveryCode") notices.send(user, "A recovery code was used to sign in");
      const loggedIn = await completeLogIn(ctx, user, meta, detail);
      return { ...loggedIn, clearPending: pendingCookie.clear() };
    },

    async secondFactorPasskeyOptions(meta = {}) {
      const { handle, user } = await pendingOf(meta);
      if (user.bannedAt) throw new BannedError();
      return passkeys.options(user, handle);
    },
  };

  const gate: SecondFactorGate = {
    summary: (userId) => factors.getFactorSummary(userId),
    async require(user, summary) {
      if (!summary.totp) return;
      const { setCookie } = await pendingCookie.issue({
        purpose: "mfa_pending",
        userId: user.id,
        challenge: "",
        revocationEpoch: user.revocationEpoch,
      });
      throw new MfaRequiredError(methodsOf(summary), setCookie);
    },
  };

  return { api, gate, pendingCookie };
}

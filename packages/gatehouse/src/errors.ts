/**
 * Marks Gatehouse errors across copies of this module. Next.js may bundle the library once per route, so an
 * error thrown by one copy is not `instanceof` another copy's class; {@link isGatehouseError} checks this mark.
 */
const GATEHOUSE_ERROR = Symbol.for("gatehouse.error");

/** All codes Gatehouse uses. Part of the public HTTP contract. */
export type GatehouseErrorCode =
  | "invalid_input"
  | "invalid_json"
  | "payload_too_large"
  | "unsupported_media_type"
  | "email_taken"
  | "invalid_credentials"
  | "unauthenticated"
  | "forbidden"
  | "csrf"
  | "rate_limited"
  | "reauthentication_required"
  | "not_found"
  | "method_not_allowed"
  | "unavailable"
  | "email_unverified"
  | "invalid_token"
  | "token_expired"
  | "already_verified"
  | "mail_unavailable"
  | "mfa_required"
  | "mfa_pending_expired"
  | "invalid_code"
  | "mfa_already_enabled"
  | "mfa_not_enabled"
  | "mfa_setup_required"
  | "no_passkeys"
  | "invalid_passkey"
  | "challenge_expired"
  | "oauth_failed"
  | "oauth_denied"
  | "account_exists"
  | "identity_in_use"
  | "provider_already_linked"
  | "last_sign_in_method"
  | "banned"
  | "last_admin"
  | "cannot_ban_self"
  | "impersonation_forbidden"
  | "configuration"
  | "internal_error";

/**
 * Why one field was refused: a stable code an app can translate (the HTTP contract, like
 * {@link GatehouseErrorCode}).
 */
export type FieldErrorCode =
  | "required"
  | "invalid"
  | "invalid_email"
  | "invalid_format"
  | "invalid_character"
  | "too_short"
  | "too_long"
  | "too_common"
  | "incorrect_password"
  | "unchanged"
  | "unknown_role";

/**
 * One field's problem: its `code`, an English `message`, and the limit it broke where there is one (`min`
 * or `max` characters), so a translation can say "at least 8" in its own words.
 */
export interface FieldProblem {
  readonly code: FieldErrorCode;
  readonly message: string;
  readonly min?: number;
  readonly max?: number;
}

/** Field name → its problem, for a form to show next to each input. */
export type FieldErrors = Readonly<Record<string, FieldProblem>>;

/**
 * Every error Gatehouse throws on purpose is a {@link GatehouseError} with a stable string `code` and a
 * message for the developer. Which HTTP status a code becomes is decided at the HTTP edge, and what a person
 * is told is decided by the UI (`errorMessage` in `gatehouse-auth/react`). Messages never contain a
 * password, token or cookie value.
 *
 * @example
 * ```ts
 * try {
 *   await gatehouse.signUp({ email, password });
 * } catch (error) {
 *   if (isGatehouseError(error) && error.code === "email_taken") {
 *     // show "this email is already registered"
 *   }
 * }
 * ```
 */
export class GatehouseError<Code extends GatehouseErrorCode = GatehouseErrorCode> extends Error {
  /** Stable, machine-readable code; safe to switch on and to send to clients. */
  readonly code: Code;
  /** Per-field problems, on `invalid_input` errors. */
  readonly fields?: FieldErrors;
  readonly [GATEHOUSE_ERROR] = true;

  constructor(code: Code, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * Any error Gatehouse throws on purpose, as a union that narrows on `code`: after
 * `error.code === "rate_limited"`, `error.retryAfterSeconds` is known to exist.
 */
export type AnyGatehouseError =
  | InvalidInputError
  | InvalidJsonError
  | PayloadTooLargeError
  | UnsupportedMediaTypeError
  | EmailTakenError
  | InvalidCredentialsError
  | UnauthenticatedError
  | EmailUnverifiedError
  | InvalidTokenError
  | TokenExpiredError
  | AlreadyVerifiedError
  | MailUnavailableError
  | ForbiddenError
  | NotFoundError
  | CsrfError
  | RateLimitedError
  | ReauthenticationRequiredError
  | StoreUnavailableError
  | MfaRequiredError
  | MfaPendingExpiredError
  | InvalidCodeError
  | MfaAlreadyEnabledError
  | MfaNotEnabledError
  | MfaSetupRequiredError
  | NoPasskeysError
  | InvalidPasskeyError
  | ChallengeExpiredError
  | OAuthFailedError
  | OAuthDeniedError
  | AccountExistsError
  | IdentityInUseError
  | ProviderAlreadyLinkedError
  | LastSignInMethodError
  | BannedError
  | LastAdminError
  | CannotBanSelfError
  | ImpersonationForbiddenError
  | ConfigurationError;

/**
 * Whether `value` is a Gatehouse error, from this copy of the library or any other.
 *
 * @example
 * ```ts
 * if (isGatehouseError(error) && error.code === "rate_limited") retryIn(error.retryAfterSeconds);
 * ```
 */
export function isGatehouseError(value: unknown): value is AnyGatehouseError {
  return (
    typeof value === "object" && value !== null && (value as { [GATEHOUSE_ERROR]?: unknown })[GATEHOUSE_ERROR] === true
  );
}

/** Input failed validation; `fields` says which field and why, each with a {@link FieldErrorCode}. */
export class InvalidInputError extends GatehouseError<"invalid_input"> {
  override readonly fields: FieldErrors;
  constructor(fields: FieldErrors, message = "Some fields are invalid.") {
    super("invalid_input", message);
    this.fields = fields;
  }
}

/** The request body is not valid JSON. */
export class InvalidJsonError extends GatehouseError<"invalid_json"> {
  constructor() {
    super("invalid_json", "The request body is not valid JSON.");
  }
}

/** The request body is larger than the route accepts. */
export class PayloadTooLargeError extends GatehouseError<"payload_too_large"> {
  constructor(limit: number) {
    super("payload_too_large", `The request body is larger than ${limit} bytes.`);
  }
}

/** The request's Content-Type is not one the route accepts. */
export class UnsupportedMediaTypeError extends GatehouseError<"unsupported_media_type"> {
  constructor(accepted: readonly string[]) {
    super("unsupported_media_type", `Send the body as ${accepted.join(" or ")}.`);
  }
}

/** Sign-up (or an email change) with an address that already has an account. */
export class EmailTakenError extends GatehouseError<"email_taken"> {
  constructor() {
    super("email_taken", "An account with this email already exists.");
  }
}

/**
 * Log-in failed. Deliberately the same whether the email is unknown or the password is wrong, so that the
 * answer does not reveal which accounts exist.
 */
export class InvalidCredentialsError extends GatehouseError<"invalid_credentials"> {
  constructor() {
    super("invalid_credentials", "The email or password is incorrect.");
  }
}

/** No valid session. */
export class UnauthenticatedError extends GatehouseError<"unauthenticated"> {
  constructor() {
    super("unauthenticated", "Sign in to continue.");
  }
}

/**
 * Log-in with the right password to an account whose email is not verified yet, while
 * `requireEmailVerification` is on. Only the account's password gets this far, so it reveals nothing to
 * someone who does not have it.
 */
export class EmailUnverifiedError extends GatehouseError<"email_unverified"> {
  constructor() {
    super("email_unverified", "Verify your email address first: we sent you a link.");
  }
}

/** An email link or code that is unknown, already used, voided by a newer one, or not for this. */
export class InvalidTokenError extends GatehouseError<"invalid_token"> {
  constructor(message = "This link or code is not valid. It may have been used already; ask for a new one.") {
    super("invalid_token", message);
  }
}

/** An email link or code that was genuine but has expired (it is now used up). */
export class TokenExpiredError extends GatehouseError<"token_expired"> {
  constructor() {
    super("token_expired", "This link or code has expired. Ask for a new one.");
  }
}

/** Asked to verify an address that is already verified. */
export class AlreadyVerifiedError extends GatehouseError<"already_verified"> {
  constructor() {
    super("already_verified", "Your email address is already verified.");
  }
}

/** No mailer is configured, or it failed to hand the message over. Nothing was changed. */
export class MailUnavailableError extends GatehouseError<"mail_unavailable"> {
  constructor(options?: ErrorOptions) {
    super("mail_unavailable", "Email cannot be sent right now. Try again later.", options);
  }
}

/** Signed in, but not allowed to do this. */
export class ForbiddenError extends GatehouseError<"forbidden"> {
  constructor(message = "You do not have permission to do this.") {
    super("forbidden", message);
  }
}

/** The thing asked for does not exist, or is not the caller's to see. */
export class NotFoundError extends GatehouseError<"not_found"> {
  constructor(message = "Not found.") {
    super("not_found", message);
  }
}

/** A state-changing request did not come from the app's own origin. */
export class CsrfError extends GatehouseError<"csrf"> {
  constructor() {
    super("csrf", "This request did not come from this site.");
  }
}

/** Too many attempts; `retryAfterSeconds` says when to try again (sent as `Retry-After`). */
export class RateLimitedError extends GatehouseError<"rate_limited"> {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super("rate_limited", "Too many attempts. Wait a while and try again.");
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds));
  }
}

/** A sensitive change needs a recent log-in or the password in the request. */
export class ReauthenticationRequiredError extends GatehouseError<"reauthentication_required"> {
  constructor() {
    super("reauthentication_required", "Confirm your password to continue.");
  }
}

/** The store (database or Redis) failed or timed out; nothing was granted. */
export class StoreUnavailableError extends GatehouseError<"unavailable"> {
  constructor(options?: ErrorOptions) {
    super("unavailable", "The service is temporarily unavailable. Try again shortly.", options);
  }
}

/** A second step a log-in can be finished with. */
export type SecondFactorMethod = "totp" | "recovery_code" | "passkey";

/**
 * The password was right, but the account has a second factor: nobody is signed in yet. `setCookie` holds the
 * short-lived pending cookie that `verifySecondFactor` finishes the log-in with; it grants nothing else.
 * `methods` are the steps this account can use (sent to the client, so it can offer them).
 */
export class MfaRequiredError extends GatehouseError<"mfa_required"> {
  readonly methods: readonly SecondFactorMethod[];
  readonly setCookie: string;
  constructor(methods: readonly SecondFactorMethod[], setCookie: string) {
    super("mfa_required", "Enter the code from your authenticator app to finish signing in.");
    this.methods = methods;
    this.setCookie = setCookie;
  }
}

/** No pending log-in: the pending cookie is missing, expired or used up. Sign in again. */
export class MfaPendingExpiredError extends GatehouseError<"mfa_pending_expired"> {
  constructor() {
    super("mfa_pending_expired", "This sign-in has expired. Sign in again.");
  }
}

/** A second-factor code, recovery code or passkey that is wrong, used already, or not this account's. */
export class InvalidCodeError extends GatehouseError<"invalid_code"> {
  constructor() {
    super("invalid_code", "That code is not correct. Try again with a new one.");
  }
}

/** Setting up an authenticator app while one is on already. */
export class MfaAlreadyEnabledError extends GatehouseError<"mfa_already_enabled"> {
  constructor() {
    super("mfa_already_enabled", "Two-factor authentication is already on.");
  }
}

/** Asked to change a second factor that is not on. */
export class MfaNotEnabledError extends GatehouseError<"mfa_not_enabled"> {
  constructor() {
    super("mfa_not_enabled", "Two-factor authentication is not on.");
  }
}

/** A code to confirm an authenticator app that was never set up (or whose setup was replaced). */
export class MfaSetupRequiredError extends GatehouseError<"mfa_setup_required"> {
  constructor() {
    super("mfa_setup_required", "Set up the authenticator app first.");
  }
}

/** A passkey step for an account that has no passkey. */
export class NoPasskeysError extends GatehouseError<"no_passkeys"> {
  constructor() {
    super("no_passkeys", "This account has no passkey.");
  }
}

/** A WebAuthn answer that did not verify: wrong origin, signature, user, counter, or not a registered passkey. */
export class InvalidPasskeyError extends GatehouseError<"invalid_passkey"> {
  constructor(options?: ErrorOptions) {
    super("invalid_passkey", "The passkey could not be verified. Try again.", options);
  }
}

/** A WebAuthn answer without a live challenge of this browser: none was asked for, or it expired or was used. */
export class ChallengeExpiredError extends GatehouseError<"challenge_expired"> {
  constructor() {
    super("challenge_expired", "This passkey request has expired. Try again.");
  }
}

/**
 * A sign-in with an OAuth or OpenID provider did not complete: the provider could not be reached, or its answer
 * did not verify (state, nonce, audience, expiry, signature, a used code). The reason is logged, not sent.
 */
export class OAuthFailedError extends GatehouseError<"oauth_failed"> {
  constructor(options?: ErrorOptions) {
    super("oauth_failed", "Signing in with that provider did not work. Try again.", options);
  }
}

/** The person declined at the provider (`error=access_denied`). */
export class OAuthDeniedError extends GatehouseError<"oauth_denied"> {
  constructor() {
    super("oauth_denied", "Sign-in was cancelled at the provider.");
  }
}

/**
 * The provider's email belongs to an account that has not linked this identity. It is never linked silently:
 * the owner signs in the usual way and connects the provider from their settings.
 */
export class AccountExistsError extends GatehouseError<"account_exists"> {
  constructor() {
    super(
      "account_exists",
      "An account with this email already exists. Sign in, then connect the provider in settings.",
    );
  }
}

/** The provider identity is linked to another account already. */
export class IdentityInUseError extends GatehouseError<"identity_in_use"> {
  constructor() {
    super("identity_in_use", "That account at the provider is connected to another user.");
  }
}

/** The user has an identity of this provider already: unlink it before linking another. */
export class ProviderAlreadyLinkedError extends GatehouseError<"provider_already_linked"> {
  constructor() {
    super("provider_already_linked", "An account at this provider is connected already.");
  }
}

/** Unlinking would leave the user no way to sign in: no password, no passkey, no other identity. */
export class LastSignInMethodError extends GatehouseError<"last_sign_in_method"> {
  constructor() {
    super("last_sign_in_method", "This is your only way to sign in. Set a password or add a passkey first.");
  }
}

/** The account was banned by an administrator: it cannot sign in, by any method. */
export class BannedError extends GatehouseError<"banned"> {
  constructor() {
    super("banned", "This account has been suspended. Contact support if you think this is a mistake.");
  }
}

/** The change would leave no administrator: the last admin cannot be demoted, banned or deleted. */
export class LastAdminError extends GatehouseError<"last_admin"> {
  constructor() {
    super("last_admin", "This is the last administrator: make someone else an admin first.");
  }
}

/** An administrator tried to ban their own account. */
export class CannotBanSelfError extends GatehouseError<"cannot_ban_self"> {
  constructor() {
    super("cannot_ban_self", "You cannot ban your own account.");
  }
}

/**
 * Refused while an administrator views the app as this user (impersonation): the password, the email and the
 * second factors stay the user's own to change — and so does impersonating someone else.
 */
export class ImpersonationForbiddenError extends GatehouseError<"impersonation_forbidden"> {
  constructor() {
    super("impersonation_forbidden", "This is not allowed while viewing the app as another user.");
  }
}

/**
 * Gatehouse was set up wrongly (a missing or short secret, an unknown strategy, …). Thrown at start-up; the
 * message says how to fix it. Over HTTP it is never shown: the client gets a generic 500.
 */
export class ConfigurationError extends GatehouseError<"configuration"> {
  constructor(message: string) {
    super("configuration", message);
  }
}

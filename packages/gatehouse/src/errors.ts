/**
 * Marks Gatehouse errors across copies of this module. Next.js may bundle the library once per route, so an
 * error thrown by one copy is not `instanceof` another copy's class; {@link isGatehouseError} checks this mark.
 */
const GATEHOUSE_ERROR = Symbol.for("gatehouse.error");

/**
 * Every error Gatehouse throws on purpose is a {@link GatehouseError} with a stable string `code`.
 * Messages never contain a password, token or cookie value.
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
export class GatehouseError extends Error {
  /** Stable, machine-readable code; safe to switch on and to send to clients. */
  readonly code: GatehouseErrorCode;
  /** HTTP status the error maps to when it reaches a route handler. */
  readonly status: number;
  /** Per-field messages, on `invalid_input` errors. */
  readonly fields?: FieldErrors;
  readonly [GATEHOUSE_ERROR] = true;

  constructor(code: GatehouseErrorCode, status: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
  }
}

/** Whether `value` is a {@link GatehouseError}, from this copy of the library or any other. */
export function isGatehouseError(value: unknown): value is GatehouseError {
  return (
    typeof value === "object" && value !== null && (value as { [GATEHOUSE_ERROR]?: unknown })[GATEHOUSE_ERROR] === true
  );
}

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
  | "configuration"
  | "internal_error";

/** Per-field messages that a form can show next to each input. */
export type FieldErrors = Readonly<Record<string, string>>;

/** Input failed validation; `fields` says which field and why. HTTP 400. */
export class InvalidInputError extends GatehouseError {
  override readonly fields: FieldErrors;
  constructor(fields: FieldErrors, message = "Some fields are invalid.") {
    super("invalid_input", 400, message);
    this.fields = fields;
  }
}

/** The request body is not valid JSON. HTTP 400. */
export class InvalidJsonError extends GatehouseError {
  constructor() {
    super("invalid_json", 400, "The request body is not valid JSON.");
  }
}

/** The request body is larger than the route accepts. HTTP 413. */
export class PayloadTooLargeError extends GatehouseError {
  constructor(limit: number) {
    super("payload_too_large", 413, `The request body is larger than ${limit} bytes.`);
  }
}

/** The request's Content-Type is not one the route accepts. HTTP 415. */
export class UnsupportedMediaTypeError extends GatehouseError {
  constructor(accepted: readonly string[]) {
    super("unsupported_media_type", 415, `Send the body as ${accepted.join(" or ")}.`);
  }
}

/** Sign-up with an email that already has an account. HTTP 409. */
export class EmailTakenError extends GatehouseError {
  constructor() {
    super("email_taken", 409, "An account with this email already exists.");
  }
}

/**
 * Log-in failed. Deliberately the same whether the email is unknown or the password is wrong,
 * so that the answer does not reveal which accounts exist. HTTP 401.
 */
export class InvalidCredentialsError extends GatehouseError {
  constructor() {
    super("invalid_credentials", 401, "The email or password is incorrect.");
  }
}

/** No valid session. HTTP 401. */
export class UnauthenticatedError extends GatehouseError {
  constructor() {
    super("unauthenticated", 401, "Sign in to continue.");
  }
}

/**
 * Log-in with the right password to an account whose email is not verified yet, while
 * `requireEmailVerification` is on. Only the account's password gets this far, so it reveals nothing to
 * someone who does not have it. HTTP 403.
 */
export class EmailUnverifiedError extends GatehouseError {
  constructor() {
    super("email_unverified", 403, "Verify your email address first: we sent you a link.");
  }
}

/** An email link or code that is unknown, already used, voided by a newer one, or not for this. HTTP 400. */
export class InvalidTokenError extends GatehouseError {
  constructor(message = "This link or code is not valid. It may have been used already; ask for a new one.") {
    super("invalid_token", 400, message);
  }
}

/** An email link or code that was genuine but has expired (it is now used up). HTTP 400. */
export class TokenExpiredError extends GatehouseError {
  constructor() {
    super("token_expired", 400, "This link or code has expired. Ask for a new one.");
  }
}

/** Asked to verify an address that is already verified. HTTP 409. */
export class AlreadyVerifiedError extends GatehouseError {
  constructor() {
    super("already_verified", 409, "Your email address is already verified.");
  }
}

/** No mailer is configured, or it failed to hand the message over. Nothing was changed. HTTP 503. */
export class MailUnavailableError extends GatehouseError {
  constructor(options?: ErrorOptions) {
    super("mail_unavailable", 503, "Email cannot be sent right now. Try again later.", options);
  }
}

/** Signed in, but not allowed to do this. HTTP 403. */
export class ForbiddenError extends GatehouseError {
  constructor(message = "You do not have permission to do this.") {
    super("forbidden", 403, message);
  }
}

/** The thing asked for does not exist, or is not the caller's to see. HTTP 404. */
export class NotFoundError extends GatehouseError {
  constructor(message = "Not found.") {
    super("not_found", 404, message);
  }
}

/** A state-changing request did not come from the app's own origin. HTTP 403. */
export class CsrfError extends GatehouseError {
  constructor() {
    super("csrf", 403, "This request did not come from this site.");
  }
}

/** Too many attempts; `retryAfterSeconds` says when to try again (sent as `Retry-After`). HTTP 429. */
export class RateLimitedError extends GatehouseError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super("rate_limited", 429, "Too many attempts. Wait a while and try again.");
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds));
  }
}

/** A sensitive change needs a recent log-in or the password in the request. HTTP 403. */
export class ReauthenticationRequiredError extends GatehouseError {
  constructor() {
    super("reauthentication_required", 403, "Confirm your password to continue.");
  }
}

/** The store (database or Redis) failed or timed out; nothing was granted. HTTP 503. */
export class StoreUnavailableError extends GatehouseError {
  constructor(options?: ErrorOptions) {
    super("unavailable", 503, "The service is temporarily unavailable. Try again shortly.", options);
  }
}

/**
 * Gatehouse was set up wrongly (a missing or short secret, an unknown strategy, …).
 * Thrown at start-up; the message says how to fix it.
 */
export class ConfigurationError extends GatehouseError {
  constructor(message: string) {
    super("configuration", 500, message);
  }
}

import type { FieldErrorCode, FieldProblem, GatehouseErrorCode } from "../errors.js";

/** Every code a person can be shown a message for: the server's codes and the client-only `network_error`. */
export type ErrorMessageCode = GatehouseErrorCode | "network_error";

/** What {@link errorMessage} says for a code that it does not know. */
const GENERIC_MESSAGE = "Something went wrong. Try again.";

/**
 * What a person is told for each error code: short, plain sentences, never about the request's internals
 * (the API's own `message` is written for developers). Frozen; to change some of them, pass overrides to
 * {@link errorMessage} instead.
 *
 * @example
 * ```tsx
 * // Show every message, e.g. on a help page.
 * <dl>
 *   {Object.entries(DEFAULT_ERROR_MESSAGES).map(([code, message]) => (
 *     <Fragment key={code}>
 *       <dt>{code}</dt>
 *       <dd>{message}</dd>
 *     </Fragment>
 *   ))}
 * </dl>
 * ```
 */
export const DEFAULT_ERROR_MESSAGES: Readonly<Record<ErrorMessageCode, string>> = Object.freeze({
  invalid_input: "Some details were not accepted. Check them and try again.",
  invalid_json: "The form could not be read. Reload the page and try again.",
  payload_too_large: "What you sent is too long. Shorten it and try again.",
  unsupported_media_type: "The form could not be read. Reload the page and try again.",
  email_taken: "An account with this email already exists.",
  invalid_credentials: "The email or password is incorrect.",
  unauthenticated: "Sign in to continue.",
  forbidden: "You do not have permission to do this.",
  csrf: "This form could not be verified. Reload the page and try again.",
  rate_limited: "Too many attempts. Wait a few minutes and try again.",
  reauthentication_required: "Confirm your password to continue.",
  not_found: "We could not find that. It may have been removed already.",
  method_not_allowed: "This action is not available here. Reload the page and try again.",
  unavailable: "The service is temporarily unavailable. Try again shortly.",
  email_unverified: "Verify your email address first: we sent you a new link.",
  invalid_token: "This link or code is not valid. It may have been used already; ask for a new one.",
  token_expired: "This link or code has expired. Ask for a new one.",
  already_verified: "Your email address is already verified.",
  mail_unavailable: "Email cannot be sent right now. Try again later.",
  configuration: "Something went wrong on our side. Try again later.",
  internal_error: "Something went wrong on our side. Try again later.",
  mfa_required: "Confirm it is you with your second step to finish signing in.",
  mfa_pending_expired: "Signing in took too long. Enter your email and password again.",
  invalid_code: "That code was not accepted. Check it and try again.",
  mfa_already_enabled: "Two-factor authentication is already on.",
  mfa_not_enabled: "Two-factor authentication is not on.",
  mfa_setup_required: "Start setting up two-factor authentication again: that setup is no longer there.",
  no_passkeys: "This account has no passkey. Use another way to confirm it is you.",
  invalid_passkey: "This passkey was not accepted. Try again, or use another way.",
  challenge_expired: "This took too long. Try again.",
  oauth_failed: "Signing in with that provider did not work. Try again, or use another way.",
  oauth_denied: "Access was not granted at the provider, so nothing changed. Try again if you meant to.",
  account_exists:
    "An account with this email already exists. Sign in with your password, then connect this provider in settings.",
  identity_in_use: "That account at the provider is already connected to another account here.",
  provider_already_linked: "You already have an account of this provider connected. Disconnect it first.",
  last_sign_in_method: "This is your only way to sign in. Set a password or add a passkey before you disconnect it.",
  banned: "This account has been suspended. Contact support if you think this is a mistake.",
  last_admin: "This is the last administrator. Make someone else an admin first.",
  cannot_ban_self: "You cannot ban your own account.",
  impersonation_forbidden: "This is not allowed while you are viewing the app as another user.",
  network_error: "Could not reach the server. Check your connection.",
});

/**
 * The message to show a person for an error `code`: the override for it if there is one, else the default
 * from {@link DEFAULT_ERROR_MESSAGES}, else a generic "Something went wrong. Try again.". Codes are looked up
 * as own keys only, so any string is safe to pass, even a code from a URL (`?error=__proto__`).
 *
 * @param code an `AuthResult` error's `code`, or the `error` query parameter after a plain form post.
 * @param overrides your own wording for some codes; the others keep the default.
 *
 * @example
 * ```tsx
 * const result = await signIn({ email, password });
 * if (!result.ok) {
 *   setError(errorMessage(result.error.code, { invalid_credentials: "Wrong email or password." }));
 * }
 * ```
 */
export function errorMessage(code: string, overrides?: Partial<Record<ErrorMessageCode, string>>): string {
  // The code may come from the wire or a URL: anything but a string gets the generic sentence.
  if (typeof code !== "string") return GENERIC_MESSAGE;
  if (overrides !== undefined && Object.hasOwn(overrides, code)) {
    const override = (overrides as Record<string, string | undefined>)[code];
    if (typeof override === "string") return override;
  }
  if (Object.hasOwn(DEFAULT_ERROR_MESSAGES, code)) return DEFAULT_ERROR_MESSAGES[code as ErrorMessageCode];
  return GENERIC_MESSAGE;
}

/** A field message: a sentence, or a function of the problem for the ones with a limit (`min`, `max`). */
export type FieldMessage = string | ((problem: FieldProblem) => string);

/** A field problem as the API sends it, or as servers before 0.2.0 sent it (a plain string). */
export type FieldProblemLike = FieldProblem | string;

/**
 * English wording for every field code: the keys a translation has to cover. The server's own `message` is
 * English too and more specific ("Enter your password." rather than "Fill this in."); {@link fieldMessage}
 * prefers it, and uses these only for a problem that arrives without one.
 */
export const DEFAULT_FIELD_MESSAGES: Readonly<Record<FieldErrorCode, FieldMessage>> = Object.freeze({
  required: "Fill this in.",
  invalid: "This value is not accepted.",
  invalid_email: "Enter a valid email address, like name@example.com.",
  invalid_format: "Check the format and try again.",
  invalid_character: "This contains a character that is not allowed.",
  too_short: ({ min }: FieldProblem) =>
    min === undefined ? "Use more characters." : `Use at least ${min} characters.`,
  too_long: ({ max }: FieldProblem) => (max === undefined ? "Use fewer characters." : `Use at most ${max} characters.`),
  too_common: "This password is one of the most common ones. Choose one that is harder to guess.",
  incorrect_password: "The password is incorrect.",
  unchanged: "This is the current value already.",
  unknown_role: "This role does not exist.",
});

/** The sentence, or `undefined` when a dictionary entry is not one (a `null` from JSON, a function returning nothing). */
function render(message: unknown, problem: FieldProblem): string | undefined {
  const text = typeof message === "function" ? (message as (problem: FieldProblem) => unknown)(problem) : message;
  return typeof text === "string" ? text : undefined;
}

/** Only a finite number is a limit: the templates never see whatever else arrived in its place. */
function limit(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/**
 * The message to show next to a field: your override for its code if there is one, else the server's
 * English `message`, else the English default for the code. Takes the problem as the API sends it
 * (`result.error.fields?.password`), the plain string that servers before 0.2.0 sent, or `undefined` (no
 * problem: returns `undefined`), so one call serves every form. Codes are looked up as own keys only.
 *
 * @param overrides your wording, e.g. a translation: a sentence per code, or a function of the problem.
 *
 * @example
 * ```tsx
 * const fr = { too_short: ({ min }) => `Au moins ${min} caractères.`, too_common: "Mot de passe trop courant." };
 * <p id="password-error">{fieldMessage(result.error.fields?.password, fr)}</p>
 * ```
 */
export function fieldMessage(
  problem: FieldProblemLike | null | undefined,
  overrides?: Partial<Record<FieldErrorCode, FieldMessage>>,
): string | undefined {
  if (problem === undefined || problem === null) return undefined;
  if (typeof problem === "string") return problem;
  if (typeof problem !== "object" || typeof problem.code !== "string") return GENERIC_MESSAGE;
  const { code, message } = problem;
  const checked: FieldProblem = {
    code,
    message: typeof message === "string" ? message : "",
    ...(limit(problem.min) !== undefined && { min: limit(problem.min) }),
    ...(limit(problem.max) !== undefined && { max: limit(problem.max) }),
  };
  const override =
    overrides !== undefined && overrides !== null && Object.hasOwn(overrides, code)
      ? render(overrides[code], checked)
      : undefined;
  if (override !== undefined) return override;
  if (checked.message !== "") return checked.message;
  return (
    (Object.hasOwn(DEFAULT_FIELD_MESSAGES, code) && render(DEFAULT_FIELD_MESSAGES[code], checked)) || GENERIC_MESSAGE
  );
}

/** A dictionary for {@link createMessages}: wording for some error codes and some field codes. */
export interface Messages {
  errors?: Partial<Record<ErrorMessageCode, string>>;
  fields?: Partial<Record<FieldErrorCode, FieldMessage>>;
}

/**
 * Binds a dictionary once, for an app in another language or with its own tone: `error(code)` and
 * `field(problem)` are {@link errorMessage} and {@link fieldMessage} with it. What the dictionary leaves out
 * stays English.
 *
 * @example
 * ```ts
 * // lib/messages.ts
 * export const messages = createMessages({
 *   errors: { invalid_credentials: "E-Mail oder Passwort ist falsch." },
 *   fields: { too_short: ({ min }) => `Mindestens ${min} Zeichen.` },
 * });
 * messages.error(result.error.code);
 * messages.field(result.error.fields?.password);
 * ```
 */
export function createMessages(dictionary: Messages = {}): {
  error(code: string): string;
  field(problem: FieldProblemLike | null | undefined): string | undefined;
} {
  return {
    error: (code) => errorMessage(code, dictionary?.errors),
    field: (problem) => fieldMessage(problem, dictionary?.fields),
  };
}

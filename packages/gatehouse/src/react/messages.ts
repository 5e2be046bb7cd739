import type { GatehouseErrorCode } from "../errors.js";

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
  if (overrides !== undefined && Object.hasOwn(overrides, code)) {
    const override = (overrides as Record<string, string | undefined>)[code];
    if (typeof override === "string") return override;
  }
  if (Object.hasOwn(DEFAULT_ERROR_MESSAGES, code)) return DEFAULT_ERROR_MESSAGES[code as ErrorMessageCode];
  return GENERIC_MESSAGE;
}

/**
 * Messages for the `error` query parameter that the auth API adds when it redirects a plain (no-JS) form
 * post back to its page. Only known codes map to text: the parameter is user-controlled and never echoed.
 */
const MESSAGES: Readonly<Record<string, string>> = {
  invalid_credentials: "The email or password is incorrect.",
  invalid_input: "Some details were not accepted. Check them and try again.",
  email_taken: "An account with this email already exists.",
  rate_limited: "Too many attempts. Wait a few minutes and try again.",
  csrf: "This form could not be verified. Reload the page and try again.",
  unavailable: "The service is temporarily unavailable. Try again shortly.",
  email_unverified: "Verify your email address first: we sent you a new link.",
};

const GENERIC = "Something went wrong. Try again.";

export function messageForCode(code: string): string {
  return Object.hasOwn(MESSAGES, code) ? (MESSAGES[code] as string) : GENERIC;
}

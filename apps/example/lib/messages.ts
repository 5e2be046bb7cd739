import { createMessages } from "gatehouse-auth/react";

/**
 * The app's own wording, in one place: every form shows errors through it (see `hooks/useForm.ts`). Codes
 * missing here keep the library's English (`DEFAULT_ERROR_MESSAGES`, or the server's field message). A
 * translated app builds one of these per language, with the same keys.
 */
export const messages = createMessages({
  errors: {
    // The app says "log in" everywhere; the library's default says "sign in".
    unauthenticated: "Log in to continue.",
    email_unverified: "Verify your email address first: we sent you a new link. Open it, then log in.",
    mfa_required: "Confirm it is you with your second step to finish logging in.",
    mfa_pending_expired: "Logging in took too long. Enter your email and password again.",
    invalid_passkey: "This passkey was not accepted. Try again, or use another way to log in.",
    oauth_failed: "Logging in with that provider did not work. Try again, or use another way to log in.",
    account_exists:
      "An account with this email already exists. Log in with your password, then connect this provider in Settings.",
    last_sign_in_method: "This is your only way to log in. Set a password before you disconnect it.",
  },
  // By the field's problem code (`fields.<name>.code` in an `invalid_input` error).
  fields: {
    too_common: "This password is too easy to guess. Try a phrase of three or four unrelated words.",
  },
});

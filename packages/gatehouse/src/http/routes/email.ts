import { inputs } from "../inputs.js";
import { jsonResponse } from "../response.js";
import type { Route } from "../router.js";

/** The one answer to a password-reset request, whether or not the address has an account. */
const RESET_REQUESTED = "If an account uses this address, we sent it a link to reset the password. Check your inbox.";

/** Verifying addresses, resetting passwords, changing the address. */
export const emailRoutes: readonly Route[] = [
  {
    path: "verify-email",
    method: "POST",
    async handle({ gatehouse, body, meta }) {
      const verified = await gatehouse.verifyEmail(inputs.verifyEmail(body), meta);
      return jsonResponse(200, { user: verified.user }, verified.setCookie ? [verified.setCookie] : []);
    },
  },
  {
    path: "verify-email/request",
    method: "POST",
    signedIn: true,
    async handle({ gatehouse, auth, renewed }) {
      await gatehouse.requestEmailVerification(auth);
      return jsonResponse(202, { ok: true }, renewed);
    },
  },
  {
    path: "password-reset/request",
    method: "POST",
    async handle({ gatehouse, body, meta }) {
      await gatehouse.requestPasswordReset(inputs.passwordResetRequest(body), meta);
      return jsonResponse(202, { ok: true, message: RESET_REQUESTED });
    },
  },
  {
    path: "password-reset/confirm",
    method: "POST",
    async handle({ gatehouse, body, meta }) {
      await gatehouse.confirmPasswordReset(inputs.passwordReset(body), meta);
      return jsonResponse(200, { ok: true });
    },
  },
  {
    path: "email-change",
    method: "POST",
    signedIn: true,
    async handle({ gatehouse, auth, body, meta, renewed }) {
      const pending = await gatehouse.requestEmailChange(auth, inputs.emailChange(body), meta);
      return jsonResponse(202, pending, renewed);
    },
  },
];

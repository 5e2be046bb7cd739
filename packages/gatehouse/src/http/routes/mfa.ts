import { isGatehouseError } from "../../errors.js";
import { inputs } from "../inputs.js";
import { safeRedirectPath, withQuery } from "../redirect.js";
import { errorResponse, type HttpResponse, jsonResponse, redirectResponse } from "../response.js";
import type { Route, RouteContext } from "../router.js";
import { formFailure, isForm, nextOf } from "./credentials.js";

/** The error's own answer, but with `status` when its code is `code`: a route where it means bad input. */
export function answeringWith(code: string, status: number) {
  return (error: unknown): HttpResponse => {
    const response = errorResponse(error);
    if (isGatehouseError(error) && error.code === code) response.status = status;
    return response;
  };
}

const backToVerify = formFailure((pages) => pages.verifyLogin);

/** The authenticator app, recovery codes, and the second step of a log-in. */
export const mfaRoutes: readonly Route[] = [
  {
    path: "mfa",
    method: "GET",
    signedIn: true,
    async handle({ gatehouse, auth, renewed }) {
      return jsonResponse(200, await gatehouse.mfaStatus(auth.user.id), renewed);
    },
  },
  {
    path: "mfa/totp/setup",
    method: "POST",
    signedIn: true,
    async handle({ gatehouse, auth, body, meta, renewed }) {
      return jsonResponse(200, await gatehouse.setUpTotp(auth, inputs.freshAuth(body), meta), renewed);
    },
  },
  {
    path: "mfa/totp/confirm",
    method: "POST",
    signedIn: true,
    async handle({ gatehouse, auth, body, meta }) {
      const confirmed = await gatehouse.confirmTotp(auth, inputs.totpCode(body), meta);
      return jsonResponse(200, { recoveryCodes: confirmed.recoveryCodes }, [confirmed.setCookie]);
    },
    // The user is signed in and holds the secret: a wrong first code is a typo to fix, not a failed log-in.
    onError: answeringWith("invalid_code", 400),
  },
  {
    path: "mfa/totp/disable",
    method: "POST",
    signedIn: true,
    async handle({ gatehouse, auth, body, meta, renewed }) {
      await gatehouse.disableTotp(auth, inputs.freshAuth(body), meta);
      return jsonResponse(200, { ok: true }, renewed);
    },
  },
  {
    path: "mfa/recovery-codes",
    method: "POST",
    signedIn: true,
    async handle({ gatehouse, auth, body, meta, renewed }) {
      const recoveryCodes = await gatehouse.regenerateRecoveryCodes(auth, inputs.freshAuth(body), meta);
      return jsonResponse(200, { recoveryCodes }, renewed);
    },
  },
  {
    path: "mfa/verify",
    method: "POST",
    acceptForm: true,
    async handle({ gatehouse, request, body, meta, pages }) {
      const loggedIn = await gatehouse.verifySecondFactor(inputs.secondFactor(body), meta);
      const cookies = [loggedIn.setCookie, loggedIn.deviceCookie, loggedIn.clearPending];
      if (isForm(request)) return redirectResponse(safeRedirectPath(nextOf({ body }), pages.afterLogin), cookies);
      return jsonResponse(200, { user: loggedIn.user }, cookies);
    },
    onError(error, context: Partial<RouteContext> & Pick<RouteContext, "request" | "pages">) {
      // Without a pending log-in there is nothing to verify: a form starts over at the log-in page.
      if (isForm(context.request) && isGatehouseError(error) && error.code === "mfa_pending_expired") {
        const params = new URLSearchParams({ error: error.code });
        const next = nextOf(context);
        if (next) params.set("next", safeRedirectPath(next, context.pages.afterLogin));
        return redirectResponse(withQuery(context.pages.login, params));
      }
      return backToVerify(error, context);
    },
  },
  {
    path: "mfa/passkey/options",
    method: "POST",
    async handle({ gatehouse, meta }) {
      return jsonResponse(200, await gatehouse.secondFactorPasskeyOptions(meta));
    },
  },
];

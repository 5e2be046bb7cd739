import { isGatehouseError } from "../../errors.js";
import { FORM_TYPE, mediaType } from "../body.js";
import { inputs } from "../inputs.js";
import { safeRedirectPath, withQuery } from "../redirect.js";
import { errorBody, errorResponse, type HttpResponse, jsonResponse, redirectResponse } from "../response.js";
import type { AuthPages, AuthRequest, Route, RouteContext } from "../router.js";

export const isForm = (request: AuthRequest) => mediaType(request.header("content-type")) === FORM_TYPE;

/** The `next` field of a form post: where to go after it. */
export function nextOf(context: Partial<RouteContext>): string | undefined {
  return context.body?.kind === "form" ? context.body.data.next : undefined;
}

/**
 * A failed HTML form post goes back to its page with `?error=<code>`, so it works without JavaScript. A
 * cross-site post is the exception: it gets the plain 403, as no page of ours sent it.
 */
export function formFailure(page: (pages: AuthPages) => string) {
  return (
    error: unknown,
    context: Partial<RouteContext> & { request: AuthRequest; pages: AuthPages },
  ): HttpResponse => {
    if (!isForm(context.request) || (isGatehouseError(error) && error.code === "csrf")) return errorResponse(error);
    const params = new URLSearchParams({ error: errorBody(error).body.error.code });
    const next = nextOf(context);
    if (next) params.set("next", safeRedirectPath(next, context.pages.afterLogin));
    return redirectResponse(withQuery(page(context.pages), params));
  };
}

/** Sign-up, log-in and log-out: JSON, or HTML form posts that redirect. */
export const credentialRoutes: readonly Route[] = [
  {
    path: "signup",
    method: "POST",
    acceptForm: true,
    async handle({ gatehouse, request, body, meta, pages }) {
      const signedIn = await gatehouse.signUp(inputs.signUp(body), meta);
      if ("verificationRequired" in signedIn) {
        if (isForm(request))
          return redirectResponse(withQuery(pages.login, new URLSearchParams({ notice: "verify_email" })));
        return jsonResponse(201, { user: signedIn.user, verificationRequired: true });
      }
      if (isForm(request))
        return redirectResponse(safeRedirectPath(nextOf({ body }), pages.afterLogin), [signedIn.setCookie]);
      return jsonResponse(201, { user: signedIn.user }, [signedIn.setCookie]);
    },
    onError: formFailure((pages) => pages.signup),
  },
  {
    path: "login",
    method: "POST",
    acceptForm: true,
    async handle({ gatehouse, request, body, meta, pages }) {
      const loggedIn = await gatehouse.logIn(inputs.logIn(body), meta);
      const cookies = [loggedIn.setCookie, loggedIn.deviceCookie];
      if (isForm(request)) return redirectResponse(safeRedirectPath(nextOf({ body }), pages.afterLogin), cookies);
      return jsonResponse(200, { user: loggedIn.user }, cookies);
    },
    onError(error, context) {
      // The password was right and a second step is due: a form goes on to the page that asks for it, with the
      // pending cookie (a JSON client gets the 403 and the cookie from the error).
      if (isGatehouseError(error) && error.code === "mfa_required" && isForm(context.request)) {
        const next = nextOf(context);
        const params = new URLSearchParams(next ? { next: safeRedirectPath(next, context.pages.afterLogin) } : {});
        return redirectResponse(withQuery(context.pages.verifyLogin, params), [error.setCookie]);
      }
      return formFailure((pages) => pages.login)(error, context);
    },
  },
  {
    path: "logout",
    method: "POST",
    acceptForm: true,
    async handle({ gatehouse, request, cookieHeader, meta, pages }) {
      const clear = await gatehouse.logOut(cookieHeader, meta);
      return isForm(request) ? redirectResponse(pages.afterLogout, [clear]) : jsonResponse(200, { ok: true }, [clear]);
    },
    onError: formFailure((pages) => pages.afterLogout),
  },
];

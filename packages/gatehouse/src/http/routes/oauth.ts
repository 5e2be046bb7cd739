import type { OAuthOutcome } from "../../core/oauth.js";
import { isGatehouseError } from "../../errors.js";
import { inputs } from "../inputs.js";
import { safeRedirectPath, withQuery } from "../redirect.js";
import { errorBody, errorResponse, type HttpResponse, jsonResponse, redirectResponse } from "../response.js";
import type { AuthPages, AuthRequest, Route, RouteContext } from "../router.js";
import { formFailure, isForm } from "./credentials.js";

const found = (location: string, cookies: readonly string[] = []) => redirectResponse(location, cookies, 302);

/** The page a callback ends on, with the cookies it sets. */
function afterCallback(outcome: OAuthOutcome, pages: AuthPages): HttpResponse {
  const { clearFlow } = outcome;
  switch (outcome.kind) {
    case "signed_in": {
      const { loggedIn } = outcome;
      return found(safeRedirectPath(outcome.next, pages.afterLogin), [
        loggedIn.setCookie,
        loggedIn.deviceCookie,
        clearFlow,
      ]);
    }
    case "second_factor": {
      const params = new URLSearchParams();
      if (outcome.next) params.set("next", safeRedirectPath(outcome.next, pages.afterLogin));
      return found(withQuery(pages.verifyLogin, params), [outcome.setCookie, clearFlow]);
    }
    case "linked":
      return found(withQuery(pages.settings, new URLSearchParams({ linked: outcome.provider })), [clearFlow]);
    case "failed": {
      const page = outcome.link ? pages.settings : pages.login;
      return found(withQuery(page, new URLSearchParams({ error: outcome.code })), [clearFlow]);
    }
  }
}

/** A start that cannot go to the provider goes back to the log-in page with the reason: the person clicked a link. */
function startFailure(error: unknown, context: Partial<RouteContext> & { request: AuthRequest; pages: AuthPages }) {
  if (isGatehouseError(error) && (error.code === "oauth_failed" || error.code === "rate_limited")) {
    return found(withQuery(context.pages.login, new URLSearchParams({ error: error.code })));
  }
  return errorResponse(error);
}

/** Sign-in with OAuth and OpenID providers, and linking and unlinking them. */
export const oauthRoutes: readonly Route[] = [
  {
    path: "providers",
    method: "GET",
    async handle({ gatehouse }) {
      return jsonResponse(200, { providers: gatehouse.oauthProviders() });
    },
  },
  {
    path: "oauth/:id",
    method: "GET",
    async handle({ gatehouse, request, param, meta }) {
      const { url, setCookie } = await gatehouse.startOAuth(param, { next: request.query.get("next") }, meta);
      return found(url, [setCookie]);
    },
    onError: startFailure,
  },
  {
    path: "oauth/:id/callback",
    method: "GET",
    async handle({ gatehouse, request, param, meta, pages }) {
      return afterCallback(await gatehouse.finishOAuth(param, request.query, meta), pages);
    },
  },
  {
    path: "oauth/:id/link",
    method: "POST",
    acceptForm: true,
    signedIn: true,
    async handle({ gatehouse, request, auth, body, param, meta, renewed }) {
      const { url, setCookie } = await gatehouse.startOAuthLink(auth, param, inputs.freshAuth(body), meta);
      if (isForm(request)) return redirectResponse(url, [...renewed, setCookie]);
      return jsonResponse(200, { url }, [...renewed, setCookie]);
    },
    onError(error, context) {
      if (!isForm(context.request) || (isGatehouseError(error) && error.code === "csrf")) return errorResponse(error);
      if (isGatehouseError(error) && error.code === "unauthenticated") {
        return formFailure((pages) => pages.login)(error, context);
      }
      const params = new URLSearchParams({ error: errorBody(error).body.error.code });
      return redirectResponse(withQuery(context.pages.settings, params));
    },
  },
  {
    path: "identities",
    method: "GET",
    signedIn: true,
    async handle({ gatehouse, auth, renewed }) {
      const [identities, hasPassword] = await Promise.all([
        gatehouse.listIdentities(auth.user.id),
        gatehouse.hasPassword(auth.user.id),
      ]);
      const body = {
        identities: identities.map((identity) => ({ ...identity, createdAt: identity.createdAt.toISOString() })),
        hasPassword,
      };
      return jsonResponse(200, body, renewed);
    },
  },
  {
    path: "identities/:id",
    method: "DELETE",
    signedIn: true,
    async handle({ gatehouse, auth, body, param, meta, renewed }) {
      await gatehouse.unlinkIdentity(auth, param, inputs.freshAuth(body), meta);
      return jsonResponse(200, { ok: true }, renewed);
    },
  },
];

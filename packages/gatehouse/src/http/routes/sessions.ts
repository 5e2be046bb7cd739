import { NotFoundError } from "../../errors.js";
import { safeRedirectPath } from "../redirect.js";
import { jsonResponse, redirectResponse } from "../response.js";
import type { Route } from "../router.js";

/** The current session, and the signed-in user's list of sessions. */
export const sessionRoutes: readonly Route[] = [
  {
    path: "session",
    method: "GET",
    async handle({ gatehouse, cookieHeader }) {
      const found = await gatehouse.authenticate(cookieHeader, { canSetCookie: true });
      const cookies = found.setCookie ? [found.setCookie] : [];
      if (!found.user) return jsonResponse(200, { user: null }, cookies);
      // An administrator viewing the app as this user: the UI marks every page with it. (Their email is one
      // more read, so only an impersonated session pays for it.)
      const impersonatedBy = found.session.impersonatedBy ? await gatehouse.admin.impersonator(found.session) : null;
      return jsonResponse(
        200,
        { user: found.user, session: { expiresAt: found.session.expiresAt.toISOString() }, impersonatedBy },
        cookies,
      );
    },
  },
  {
    // Where a guard that cannot set cookies (a Server Component's requireUser) sends a visitor whose session
    // ended on the server: the dead cookie is cleared here, so the proxy, which only reads the cookie, stops
    // sending them back from the log-in page (a redirect loop). A live session is never touched, so a link to
    // this GET is no way to sign anyone out.
    path: "session/clear",
    method: "GET",
    async handle({ gatehouse, cookieHeader, request, pages }) {
      const found = await gatehouse.authenticate(cookieHeader, { canSetCookie: true });
      const next = safeRedirectPath(request.query.get("next"), pages.login);
      return redirectResponse(next, found.setCookie ? [found.setCookie] : [], 302);
    },
  },
  {
    path: "sessions",
    method: "GET",
    signedIn: true,
    async handle({ gatehouse, auth, renewed }) {
      const sessions = await gatehouse.listSessions(auth.user.id);
      return jsonResponse(
        200,
        {
          sessions: sessions.map((session) => ({
            id: session.id,
            createdAt: session.createdAt.toISOString(),
            lastSeenAt: session.lastSeenAt.toISOString(),
            expiresAt: session.expiresAt.toISOString(),
            userAgent: session.userAgent,
            ip: session.ip,
            current: session.id === auth.session.id,
          })),
        },
        renewed,
      );
    },
  },
  {
    path: "sessions/revoke-others",
    method: "POST",
    signedIn: true,
    async handle({ gatehouse, auth, meta, renewed }) {
      const revoked = await gatehouse.revokeOtherSessions(auth.user.id, auth.session.id, { by: auth, meta });
      return jsonResponse(200, { revoked }, renewed);
    },
  },
  {
    path: "sessions/:id",
    method: "DELETE",
    signedIn: true,
    async handle({ gatehouse, auth, param, meta, renewed }) {
      if (!(await gatehouse.revokeSession(auth.user.id, param, { by: auth, meta }))) {
        throw new NotFoundError("You have no session with this id.");
      }
      // Revoking the session this request came with is a log-out: the cookie goes too.
      if (param === auth.session.id) return jsonResponse(200, { ok: true }, [await gatehouse.logOut(null)]);
      return jsonResponse(200, { ok: true }, renewed);
    },
  },
];

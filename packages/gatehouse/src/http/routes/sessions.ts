import { NotFoundError } from "../../errors.js";
import { jsonResponse } from "../response.js";
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
      return jsonResponse(
        200,
        { user: found.user, session: { expiresAt: found.session.expiresAt.toISOString() } },
        cookies,
      );
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
    async handle({ gatehouse, auth, renewed }) {
      const revoked = await gatehouse.revokeOtherSessions(auth.user.id, auth.session.id);
      return jsonResponse(200, { revoked }, renewed);
    },
  },
  {
    path: "sessions/:id",
    method: "DELETE",
    signedIn: true,
    async handle({ gatehouse, auth, param, renewed }) {
      if (!(await gatehouse.revokeSession(auth.user.id, param))) {
        throw new NotFoundError("You have no session with this id.");
      }
      // Revoking the session this request came with is a log-out: the cookie goes too.
      if (param === auth.session.id) return jsonResponse(200, { ok: true }, [await gatehouse.logOut(null)]);
      return jsonResponse(200, { ok: true }, renewed);
    },
  },
];

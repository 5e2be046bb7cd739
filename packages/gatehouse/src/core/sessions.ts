import type { SessionSummary } from "../session/manager.js";
import type { Authentication } from "../session/sessions.js";
import type { RequestMeta, SessionMeta } from "../session/types.js";
import type { UserRecord } from "../stores/types.js";
import type { CoreContext } from "./context.js";
import { toUserDTO, type UserDTO } from "./dto.js";
import { endSessions } from "./stores.js";

/** A new session: the user, and the `Set-Cookie` value that carries it. */
export interface SignedIn {
  user: UserDTO;
  setCookie: string;
  expiresAt: Date;
}

/** Sessions: the secure check, and what a user can see and end of their own sessions. */
export interface SessionsApi {
  /**
   * The secure, authoritative session check for a request's `Cookie` header: the one call every adapter
   * makes. With `canSetCookie` (the response can still carry headers), a session whose user's privileges
   * changed is rotated and a sliding one renewed; `setCookie`, when not `null`, must be sent back (it may
   * also clear a dead cookie). Rejects with `StoreUnavailableError` when the store is down, never granting.
   *
   * @example
   * ```ts
   * const { user, setCookie } = await gatehouse.authenticate(req.headers.cookie, { canSetCookie: true });
   * if (setCookie) res.appendHeader("Set-Cookie", setCookie);
   * if (!user) return res.status(401).end();
   * ```
   */
  authenticate(
    cookieHeader: string | null | undefined,
    options: { canSetCookie: boolean },
  ): Promise<Authentication<UserDTO>>;
  /**
   * Starts a session for a user who has been authenticated by other means (an OAuth callback, a magic link):
   * the caller vouches for who they are — second factors included: no second step is asked for. `null` when
   * there is no such user.
   */
  startSession(userId: string, meta?: SessionMeta): Promise<SignedIn | null>;
  /** Ends the session the `Cookie` header carries and resolves to the `Set-Cookie` that deletes the cookie. */
  logOut(cookieHeader: string | null | undefined): Promise<string>;
  /** The user's live sessions, most recently used first. */
  listSessions(userId: string): Promise<SessionSummary[]>;
  /** Ends one of the user's sessions; `false` when the user has no session with that id. */
  revokeSession(userId: string, sessionId: string): Promise<boolean>;
  /**
   * Ends all of the user's sessions but `currentSessionId`, and voids pending email-change and reset links;
   * resolves to how many ended.
   */
  revokeOtherSessions(userId: string, currentSessionId: string): Promise<number>;
  /** Ends every session of the user (both strategies) and voids pending email-change and reset links. */
  revokeAllSessions(userId: string): Promise<number>;
}

/** A log-in: a new session, and the device cookie that makes this browser a known device of the account. */
export interface LoggedIn extends SignedIn {
  /** A `Set-Cookie` value for the device cookie; send it with `setCookie`. */
  deviceCookie: string;
}

/** Starts a session of a user record: shared by sign-up, log-in and password change. */
export async function startSignedIn(ctx: CoreContext, user: UserRecord, meta: SessionMeta): Promise<SignedIn> {
  const { setCookie, expiresAt } = await ctx.sessions.start(user, meta);
  return { user: toUserDTO(user), setCookie, expiresAt };
}

/**
 * Finishes a log-in proved by other means than a password alone (a second step, a passkey): the session the
 * request's `Cookie` header carries is ended (session fixation), a new one starts, and the browser becomes a
 * known device of the account.
 */
export async function completeLogIn(ctx: CoreContext, user: UserRecord, meta: RequestMeta): Promise<LoggedIn> {
  if (meta.cookieHeader) await ctx.sessions.end(meta.cookieHeader);
  const [signedIn, deviceCookie] = await Promise.all([
    startSignedIn(ctx, user, meta),
    ctx.deviceCookie.issue({ id: user.id, passwordHash: user.passwordHash }),
  ]);
  return { ...signedIn, deviceCookie };
}

export function createSessionsApi(ctx: CoreContext): SessionsApi {
  const { roles, sessions } = ctx;
  return {
    authenticate: sessions.authenticate,

    async startSession(userId, meta = {}) {
      const user = await roles.users.getUserById(userId);
      return user && startSignedIn(ctx, user, meta);
    },

    logOut: (cookieHeader) => sessions.end(cookieHeader),

    listSessions: (userId) => sessions.manager.list(userId),

    async revokeSession(userId, sessionId) {
      // One keyed read: someone else's session id answers exactly like one that does not exist.
      const session = await roles.sessions.getSession(sessionId);
      return session?.userId === userId && (await roles.sessions.deleteSession(sessionId));
    },

    revokeOtherSessions: async (userId, currentSessionId) =>
      (await endSessions(roles, userId, { keep: currentSessionId }))?.ended ?? 0,

    // A pending email change or reset link could hand the account back to whoever was just shut out:
    // ending the sessions voids them too.
    revokeAllSessions: async (userId) => (await endSessions(roles, userId))?.ended ?? 0,
  };
}

import { BannedError } from "../errors.js";
import type { SessionSummary, SessionWrite } from "../session/manager.js";
import type { Authentication, StartedSession } from "../session/sessions.js";
import type { RequestMeta, SessionMeta } from "../session/types.js";
import type { AuditEvent, Store, UserRecord, WriteBatch } from "../stores/types.js";
import type { AuditActor, LoginFailureReason } from "./audit.js";
import type { CoreContext } from "./context.js";
import { type Auth, toUserDTO, type UserDTO } from "./dto.js";
import { addressGroup, rateLimitKeys } from "./limiter.js";
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
   * there is no such user; `BannedError` when the user is banned. Recorded as `login.success` (or, banned,
   * `login.failure`) with `detail.method` `external`, in the new session's transaction.
   */
  startSession(userId: string, meta?: SessionMeta): Promise<SignedIn | null>;
  /**
   * Ends the session the `Cookie` header carries and resolves to the `Set-Cookie` that deletes the cookie. A
   * live session's end is recorded in the audit log (`logout`), with the client details of `meta`.
   *
   * @example
   * ```ts
   * res.setHeader("Set-Cookie", await gatehouse.logOut(req.headers.cookie, { ip, userAgent }));
   * ```
   */
  logOut(cookieHeader: string | null | undefined, meta?: SessionMeta): Promise<string>;
  /** The user's live sessions, most recently used first. */
  listSessions(userId: string): Promise<SessionSummary[]>;
  /**
   * Ends one of the user's sessions; `false` when the user has no session with that id. Recorded as
   * `session.revoke`; `options.by` is the signed-in session that asked (its user, or the administrator viewing
   * the app as them, is the event's actor).
   */
  revokeSession(userId: string, sessionId: string, options?: RevokeOptions): Promise<boolean>;
  /**
   * Ends all of the user's sessions but `currentSessionId`, and voids pending email-change and reset links;
   * resolves to how many ended. Recorded as `session.revoke` (`detail.scope` `others`), acted by the session
   * that stays. Past `rateLimits.revokeOthersPerUser`, `RateLimitedError` (429) and nothing written.
   */
  revokeOtherSessions(userId: string, currentSessionId: string, options?: RevokeOptions): Promise<number>;
  /**
   * Ends every session of the user (both strategies) and voids pending email-change and reset links. Recorded
   * as `session.revoke` (`detail.scope` `all`); the actor is `options.by`'s, else the system.
   */
  revokeAllSessions(userId: string, options?: RevokeOptions): Promise<number>;
}

/** Who asked for a revocation, for the audit log. */
export interface RevokeOptions {
  /** The signed-in session that asked. */
  by?: Auth;
  /** Its client's address and user agent. */
  meta?: SessionMeta;
}

/** A log-in: a new session, and the device cookie that makes this browser a known device of the account. */
export interface LoggedIn extends SignedIn {
  /** A `Set-Cookie` value for the device cookie; send it with `setCookie`. */
  deviceCookie: string;
}

/** How a log-in was proved, as its `login.success` or `login.failure` records it in `detail`. */
export interface LogInDetail {
  /** `external`: a log-in the app proved by its own means, through `startSession`. */
  method: "password" | "passkey" | "oauth" | "totp" | "recovery_code" | "external";
  /** The OAuth provider. */
  provider?: string;
  /** The log-in was finished by its second step (`method` names it). */
  secondFactor?: boolean;
}

/** Who acts through a session: its user, or the administrator viewing the app as them (impersonation). */
export function actorOf(userId: string, impersonatedBy: string | null | undefined): AuditActor {
  return impersonatedBy ? { type: "admin", id: impersonatedBy } : { type: "user", id: userId };
}

/** {@link actorOf} the session a request was authenticated with. */
export function actorOfAuth(auth: Auth): AuditActor {
  return actorOf(auth.user.id, auth.session.impersonatedBy);
}

/** Starts a session of a user record: shared by sign-up and the changes that replace the current session. */
export async function startSignedIn(ctx: CoreContext, user: UserRecord, meta: SessionMeta): Promise<SignedIn> {
  const { setCookie, expiresAt } = await ctx.sessions.start(user, meta);
  return { user: toUserDTO(user), setCookie, expiresAt };
}

/**
 * Stores a log-in's new session with its events (`login.success`): in one transaction where one store keeps the
 * sessions, the counters and the log (`batch`), else the events right after the session. Then hands them to
 * the sink.
 */
export async function startWithEvents(
  ctx: CoreContext,
  session: { start(write?: SessionWrite): Promise<StartedSession> },
  events: readonly AuditEvent[],
  batch: WriteBatch | null,
): Promise<StartedSession> {
  if (!batch) {
    const started = await session.start();
    await ctx.audit.record(events);
    return started;
  }
  const started = await session.start((record, options) => {
    batch.createSession(record, options);
    batch.record({ events });
    return batch.commit();
  });
  ctx.audit.emit(events);
  return started;
}

/**
 * How long the refusals (`rate_limited`) of one account, or of unknown ones, from one address are one event:
 * the log-in limits' own window.
 */
const REFUSALS_WINDOW_MS = 15 * 60_000;

/**
 * Records a failed log-in (it changes nothing else): the user when the account is known, else the address tried.
 * A refusal (`rate_limited`) is recorded once per {@link REFUSALS_WINDOW_MS} for each method, account (all
 * unknown ones together) and client address: it costs its client nothing (no hash), and one row for each would
 * let a client fill the log, or bury the account's own events under its refusals.
 */
export async function recordLogInFailure(
  ctx: CoreContext,
  reason: LoginFailureReason,
  who: { user?: UserRecord | null; email?: string | null },
  meta: SessionMeta,
  detail: LogInDetail,
): Promise<void> {
  const { user = null, email = null } = who;
  const event = ctx.audit.event("login.failure", {
    outcome: "failure",
    user,
    email: user ? null : email,
    meta,
    detail: { reason, ...detail },
  });
  if (reason !== "rate_limited") return ctx.audit.record([event]);
  const key = `${detail.method}:${user?.id ?? ""}:${addressGroup(meta.ip ?? "")}`;
  await ctx.audit.recordOnce(key, REFUSALS_WINDOW_MS, [event]);
}

/**
 * Refuses a banned user's log-in: recorded, then `BannedError`. Called only once the method proved the account
 * (the password, the passkey, the provider), so the answer tells a guesser nothing about an account.
 */
export async function refuseBanned(
  ctx: CoreContext,
  user: UserRecord,
  meta: SessionMeta,
  detail: LogInDetail,
): Promise<void> {
  if (user.bannedAt === null || user.bannedAt === undefined) return;
  await recordLogInFailure(ctx, "banned", { user }, meta, detail);
  throw new BannedError();
}

/**
 * Finishes a log-in proved by other means than a password alone (a second step, a passkey, a provider): the
 * session the request's `Cookie` header carries is ended (session fixation), a new one starts with its
 * `login.success`, and the browser becomes a known device of the account.
 */
export async function completeLogIn(
  ctx: CoreContext,
  user: UserRecord,
  meta: RequestMeta,
  detail: LogInDetail,
): Promise<LoggedIn> {
  if (meta.cookieHeader) await ctx.sessions.end(meta.cookieHeader);
  const [signedIn, deviceCookie] = await Promise.all([
    startLogIn(ctx, user, meta, detail),
    ctx.deviceCookie.issue({ id: user.id, passwordHash: user.passwordHash }),
  ]);
  return { ...signedIn, deviceCookie };
}

/** Starts a log-in's new session with its `login.success`, written together (see {@link startWithEvents}). */
async function startLogIn(
  ctx: CoreContext,
  user: UserRecord,
  meta: SessionMeta,
  detail: LogInDetail,
): Promise<SignedIn> {
  const success = ctx.audit.event("login.success", { user, meta, detail: { ...detail } });
  const [session, batch] = await Promise.all([
    ctx.sessions.prepare(user, meta),
    ctx.roles.writeBatch ? ctx.roles.writeBatch() : null,
  ]);
  const { setCookie, expiresAt } = await startWithEvents(ctx, session, [success], batch);
  return { user: toUserDTO(user), setCookie, expiresAt };
}

export function createSessionsApi(ctx: CoreContext): SessionsApi {
  const { roles, sessions, audit, limiter, config } = ctx;

  /**
   * Deletes a session with its event: in one transaction where the main store keeps the sessions (which is
   * then the one store, and the only one with that option), else the event right after.
   */
  async function deleteSession(sessionId: string, events: readonly AuditEvent[]): Promise<boolean> {
    if (roles.sessionsApart) {
      const deleted = await roles.sessions.deleteSession(sessionId);
      if (deleted) await audit.record(events);
      return deleted;
    }
    const deleted = await (roles.sessions as Store).deleteSession(sessionId, { effects: { events } });
    if (deleted) audit.emit(events);
    return deleted;
  }

  /** Ends sessions of the user with a `session.revoke` of `scope`, written with the epoch move. */
  async function revokeMany(userId: string, scope: "others" | "all", keep: string | undefined, options: RevokeOptions) {
    const user = await roles.users.getUserById(userId);
    if (!user) return 0;
    const event = audit.event("session.revoke", {
      user,
      actor: options.by ? actorOfAuth(options.by) : { type: "system", id: null },
      meta: options.meta ?? {},
      detail: { scope },
    });
    const ended = await endSessions(roles, userId, { ...(keep && { keep }), effects: { events: [event] } });
    if (!ended) return 0;
    audit.emit([event]);
    return ended.ended;
  }

  return {
    authenticate: sessions.authenticate,

    async startSession(userId, meta = {}) {
      const user = await roles.users.getUserById(userId);
      if (!user) return null;
      const detail: LogInDetail = { method: "external" };
      await refuseBanned(ctx, user, meta, detail);
      return startLogIn(ctx, user, meta, detail);
    },

    async logOut(cookieHeader, meta = {}) {
      // Only a live session's end is a log-out worth recording; a dead one's record goes all the same below.
      const found = await sessions.authenticate(cookieHeader, { canSetCookie: false });
      if (found.user) {
        const { impersonatedBy } = found.session;
        const event = (type: "logout" | "impersonation.stop", detail: Record<string, string>) =>
          audit.event(type, { user: found.user, actor: actorOf(found.user.id, impersonatedBy), meta, detail });
        const events = [event("logout", { sessionId: found.session.id })];
        // Signing out ends the impersonation as surely as stopping it does.
        if (impersonatedBy) events.push(event("impersonation.stop", { reason: "logout" }));
        await deleteSession(found.session.id, events);
      }
      return sessions.end(cookieHeader);
    },

    listSessions: (userId) => sessions.manager.list(userId),

    async revokeSession(userId, sessionId, options = {}) {
      // One keyed read: someone else's session id answers exactly like one that does not exist.
      const session = await roles.sessions.getSession(sessionId);
      if (session?.userId !== userId) return false;
      const user = await roles.users.getUserById(userId);
      if (!user) return false;
      const event = audit.event("session.revoke", {
        user,
        actor: options.by ? actorOfAuth(options.by) : { type: "system", id: null },
        meta: options.meta ?? {},
        detail: { scope: "one", sessionId },
      });
      return deleteSession(sessionId, [event]);
    },

    async revokeOtherSessions(userId, currentSessionId, options = {}) {
      await limiter.hit(config.rateLimits.revokeOthersPerUser, rateLimitKeys.revokeOthers(userId));
      return revokeMany(userId, "others", currentSessionId, options);
    },

    // A pending email change or reset link could hand the account back to whoever was just shut out:
    // ending the sessions voids them too.
    revokeAllSessions: (userId, options = {}) => revokeMany(userId, "all", undefined, options),
  };
}

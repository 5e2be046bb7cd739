import { createSealer } from "../crypto/seal.js";
import type { SessionCookieConfig } from "./config.js";
import { createSessionCookie, type SessionCookie } from "./cookie.js";
import { createDatabaseCodec } from "./database.js";
import { createSessionManager, type NewSessionOptions, type SessionManager, type SessionWrite } from "./manager.js";
import { createStatelessCodec, SESSION_SEAL_PURPOSE } from "./stateless.js";
import type { SessionStore, SessionUser, UserLookup } from "./store.js";
import type { SessionInfo, SessionMeta } from "./types.js";

/**
 * What the secure check found for a request's `Cookie` header: the user and their session, or nobody. Either
 * way `setCookie`, when not `null`, must be sent back: a renewed or rotated cookie, or one that clears a dead
 * cookie.
 */
export type Authentication<User> =
  | { user: User; session: SessionInfo; setCookie: string | null }
  | { user: null; session: null; setCookie: string | null };

/** A new session: its id, and the `Set-Cookie` value that carries it. */
export interface StartedSession {
  id: string;
  setCookie: string;
  expiresAt: Date;
}

/** The session layer: its cookie, codec and lifecycle behind a few calls. The only place cookies are serialised. */
export interface Sessions<User extends SessionUser, Public> {
  readonly cookie: SessionCookie;
  /**
   * Where an administrator's own session cookie waits while they view the app as someone else: the session
   * cookie's flags (HttpOnly, SameSite=Lax, Path=/, Secure and `__Host-` in production), a name of its own.
   */
  readonly impersonatorCookie: SessionCookie;
  readonly manager: SessionManager<User>;
  /**
   * The one call every adapter makes. With `canSetCookie`, a session whose user's privileges changed is
   * rotated and a sliding one renewed, and the cookies for that (or for clearing a dead cookie) are returned.
   */
  authenticate(
    cookieHeader: string | null | undefined,
    options: { canSetCookie: boolean },
  ): Promise<Authentication<Public>>;
  /** Starts a session of `user`: {@link Sessions.prepare}, then its start. */
  start(user: User, meta: SessionMeta, options?: NewSessionOptions): Promise<StartedSession>;
  /**
   * Makes a session of `user` ready without storing it (see {@link SessionManager.prepare}); `start` stores it
   * — by `write`, e.g. into a write batch — and resolves to its cookie.
   */
  prepare(
    user: User,
    meta: SessionMeta,
    options?: NewSessionOptions,
  ): Promise<{ start(write?: SessionWrite): Promise<StartedSession> }>;
  /**
   * Ends the session the `Cookie` header carries, if any, and the administrator's session it keeps aside while
   * impersonating; resolves to the `Set-Cookie` that deletes the session cookie.
   */
  end(cookieHeader: string | null | undefined): Promise<string>;
}

/**
 * Builds the session layer. `present` turns the stored user into what {@link Sessions.authenticate} answers
 * with (what a client may see), in the same step: the per-request path makes no second result object.
 */
export function createSessions<User extends SessionUser, Public>(
  config: SessionCookieConfig,
  stores: { sessions: SessionStore<User>; users: UserLookup<User> },
  present: (user: User) => Public,
): Sessions<User, Public> {
  const cookie = createSessionCookie(config);
  const impersonatorCookie = createSessionCookie({ ...config, cookieName: `${config.cookieName}-impersonator` });
  const codec =
    config.strategy === "stateless"
      ? createStatelessCodec(createSealer(config.secrets, SESSION_SEAL_PURPOSE), config)
      : createDatabaseCodec();
  const manager = createSessionManager(stores, codec, config);
  const nobody = (setCookie: string | null): Authentication<Public> => ({ user: null, session: null, setCookie });

  async function prepare(user: User, meta: SessionMeta, options?: NewSessionOptions) {
    const prepared = await manager.prepare(user, meta, options);
    return {
      async start(write?: SessionWrite): Promise<StartedSession> {
        await prepared.write(write);
        const setCookie = cookie.serialize(prepared.value, prepared.expiresAt);
        return { id: prepared.id, setCookie, expiresAt: prepared.expiresAt };
      },
    };
  }

  return {
    cookie,
    impersonatorCookie,
    manager,

    async authenticate(cookieHeader, { canSetCookie }) {
      const value = cookie.read(cookieHeader);
      if (!value) return nobody(null);
      const valid = await manager.validate(value, { rotate: canSetCookie });
      if (!valid) return nobody(canSetCookie ? cookie.clear() : null);
      const setCookie =
        canSetCookie && valid.renewed ? cookie.serialize(valid.renewed.value, valid.renewed.expiresAt) : null;
      return { user: present(valid.user), session: valid.session, setCookie };
    },

    start: async (user, meta, options) => (await prepare(user, meta, options)).start(),

    prepare,

    async end(cookieHeader) {
      const value = cookie.read(cookieHeader);
      if (value) await manager.revoke(value);
      // An administrator who signs out while viewing the app as someone signs out altogether: the session kept
      // aside ends too, rather than stay live in a cookie nobody comes back for.
      const kept = impersonatorCookie.read(cookieHeader);
      if (kept) await manager.revoke(kept);
      return cookie.clear();
    },
  };
}

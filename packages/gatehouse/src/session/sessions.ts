import { createSealer } from "../crypto/seal.js";
import type { SessionCookieConfig } from "./config.js";
import { createSessionCookie, type SessionCookie } from "./cookie.js";
import { createDatabaseCodec } from "./database.js";
import { createSessionManager, type SessionManager } from "./manager.js";
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
export interface Sessions<User extends SessionUser> {
  readonly cookie: SessionCookie;
  readonly manager: SessionManager<User>;
  /**
   * The one call every adapter makes. With `canSetCookie`, a session whose user's privileges changed is
   * rotated and a sliding one renewed, and the cookies for that (or for clearing a dead cookie) are returned.
   */
  authenticate(
    cookieHeader: string | null | undefined,
    options: { canSetCookie: boolean },
  ): Promise<Authentication<User>>;
  /** Starts a session of `user` (see {@link SessionManager.create}). */
  start(user: User, meta: SessionMeta): Promise<StartedSession>;
  /** Ends the session the `Cookie` header carries, if any; resolves to the `Set-Cookie` that deletes the cookie. */
  end(cookieHeader: string | null | undefined): Promise<string>;
}

export function createSessions<User extends SessionUser>(
  config: SessionCookieConfig,
  stores: { sessions: SessionStore<User>; users: UserLookup<User> },
): Sessions<User> {
  const cookie = createSessionCookie(config);
  const codec =
    config.strategy === "stateless"
      ? createStatelessCodec(createSealer(config.secrets, SESSION_SEAL_PURPOSE), config)
      : createDatabaseCodec();
  const manager = createSessionManager(stores, codec, config);
  const nobody = (setCookie: string | null): Authentication<User> => ({ user: null, session: null, setCookie });

  return {
    cookie,
    manager,

    async authenticate(cookieHeader, { canSetCookie }) {
      const value = cookie.read(cookieHeader);
      if (!value) return nobody(null);
      const valid = await manager.validate(value, { rotate: canSetCookie });
      if (!valid) return nobody(canSetCookie ? cookie.clear() : null);
      const setCookie =
        canSetCookie && valid.renewed ? cookie.serialize(valid.renewed.value, valid.renewed.expiresAt) : null;
      return { user: valid.user, session: valid.session, setCookie };
    },

    async start(user, meta) {
      const { id, value, expiresAt } = await manager.create(user, meta);
      return { id, setCookie: cookie.serialize(value, expiresAt), expiresAt };
    },

    async end(cookieHeader) {
      const value = cookie.read(cookieHeader);
      if (value) await manager.revoke(value);
      return cookie.clear();
    },
  };
}

import type { SessionCookieConfig } from "../core/config.js";
import { randomToken } from "../crypto/random.js";
import type { SessionRecord, Store, UserRecord } from "../store/types.js";
import { type SessionCodec, type SessionMeta, slideExpiry, type ValidSession } from "./types.js";

/** 12 random bytes: the session's lookup key, stored in clear. */
const SESSION_ID_BYTES = 12;
/** Last-seen times are written at most this often per session. */
const LAST_SEEN_INTERVAL_MS = 60_000;

/** One of a user's sessions, as the sessions list shows it. */
export interface SessionSummary {
  id: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  userAgent: string | null;
  ip: string | null;
}

/** The session lifecycle shared by both strategies. */
export interface SessionManager {
  create(user: UserRecord, meta: SessionMeta): Promise<{ id: string; value: string; expiresAt: Date }>;
  /**
   * The authoritative check. A session from before the user's sessions were ended is refused. With
   * `rotate`, a session issued before the user's privileges changed is replaced by a new one (new id, new
   * cookie value, the same deadlines and revocation epoch) — pass it only when the new cookie can be sent.
   */
  validate(value: string, options: { rotate: boolean }): Promise<ValidSession | null>;
  /** Ends the session the cookie value names, if it is a genuine one. */
  revoke(value: string): Promise<void>;
  /** The user's live sessions. */
  list(userId: string): Promise<SessionSummary[]>;
}

export function createSessionManager(store: Store, codec: SessionCodec, config: SessionCookieConfig): SessionManager {
  const maxAgeMs = config.maxAgeSeconds * 1000;
  const absoluteMaxAgeMs = config.absoluteMaxAgeSeconds * 1000;
  const idleTimeoutMs = config.idleTimeoutSeconds * 1000;

  function isLive(session: SessionRecord, now: number): boolean {
    return (
      session.expiresAt.getTime() > now &&
      session.createdAt.getTime() + absoluteMaxAgeMs > now &&
      session.lastSeenAt.getTime() + idleTimeoutMs > now
    );
  }

  /**
   * Stores a new session of `user` in `epoch`: the user's epoch as read before the log-in's password check
   * (a revocation during the check so refuses it), or the replaced record's own on a rotation.
   */
  async function insert(user: UserRecord, epoch: number, meta: SessionMeta, createdAt: Date, now: number) {
    const id = randomToken(SESSION_ID_BYTES);
    const expiresAt = new Date(Math.min(now + maxAgeMs, createdAt.getTime() + absoluteMaxAgeMs));
    const base = {
      id,
      userId: user.id,
      userVersion: user.sessionVersion,
      revocationEpoch: epoch,
      createdAt,
      expiresAt,
      lastSeenAt: new Date(now),
      userAgent: meta.userAgent?.slice(0, 512) ?? null,
      ip: meta.ip?.slice(0, 64) ?? null,
    };
    const { value, secretHash } = await codec.issue(base);
    await store.createSession({ ...base, secretHash });
    return { id, value, expiresAt };
  }

  /**
   * A record from before the user's sessions were last ended. Older, not merely different: a log-in that
   * read the user before a revocation must not sweep away the sessions issued after it.
   */
  function isRevoked(session: SessionRecord, user: UserRecord): boolean {
    return session.revocationEpoch < user.revocationEpoch;
  }

  return {
    async create(user, meta) {
      const now = config.now();
      const created = await insert(user, user.revocationEpoch, meta, new Date(now), now);
      // Sessions that were never presented again would otherwise stay forever; log-in is a cheap time to sweep.
      for (const session of await store.listUserSessions(user.id)) {
        if (!isLive(session, now) || isRevoked(session, user)) await store.deleteSession(session.id);
      }
      return created;
    },

    async validate(value, options) {
      const parsed = await codec.parse(value);
      if (!parsed) return null;
      const found = await store.getSessionAndUser(parsed.id);
      if (!found || !parsed.matches(found.session)) return null;
      const { session, user } = found;
      const now = config.now();
      if (!isLive(session, now) || isRevoked(session, user)) {
        await store.deleteSession(session.id);
        return null;
      }
      // A stateless cookie from before a renewal names a record that is still live: refuse only the cookie.
      if (parsed.expired) return null;
      const strategy = config.strategy;
      if (session.userVersion !== user.sessionVersion && options.rotate) {
        // Privileges changed since this session was issued: replace it, keeping its absolute deadline. Only
        // the request that deletes the old record issues the new one; concurrent ones proceed unrenewed.
        if (!(await store.deleteSession(session.id))) {
          return {
            user,
            session: { id: session.id, strategy, createdAt: session.createdAt, expiresAt: session.expiresAt },
            renewed: null,
          };
        }
        const next = await insert(user, session.revocationEpoch, session, session.createdAt, now);
        return {
          user,
          session: { id: next.id, strategy, createdAt: session.createdAt, expiresAt: next.expiresAt },
          renewed: { value: next.value, expiresAt: next.expiresAt },
        };
      }
      const extended = slideExpiry(
        session.createdAt.getTime(),
        session.expiresAt.getTime(),
        now,
        maxAgeMs,
        absoluteMaxAgeMs,
      );
      const expiresAt = extended === null ? session.expiresAt : new Date(extended);
      if (extended !== null || now - session.lastSeenAt.getTime() >= LAST_SEEN_INTERVAL_MS) {
        await store.touchSession(session.id, { lastSeenAt: new Date(now), expiresAt });
      }
      return {
        user,
        session: { id: session.id, strategy, createdAt: session.createdAt, expiresAt },
        renewed: extended === null ? null : { value: await codec.reissue({ ...session, expiresAt }, value), expiresAt },
      };
    },

    async revoke(value) {
      const parsed = await codec.parse(value);
      if (!parsed) return;
      const found = await store.getSessionAndUser(parsed.id);
      if (found && parsed.matches(found.session)) await store.deleteSession(parsed.id);
    },

    async list(userId) {
      const now = config.now();
      const user = await store.getUserById(userId);
      if (!user) return [];
      const sessions = await store.listUserSessions(userId);
      return sessions
        .filter((session) => isLive(session, now) && !isRevoked(session, user))
        .sort((a, b) => b.lastSeenAt.getTime() - a.lastSeenAt.getTime())
        .map(({ id, createdAt, lastSeenAt, expiresAt, userAgent, ip }) => ({
          id,
          createdAt,
          lastSeenAt,
          expiresAt,
          userAgent,
          ip,
        }));
    },
  };
}

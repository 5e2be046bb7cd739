import { randomToken } from "../crypto/random.js";
import type { SessionCookieConfig } from "./config.js";
import {
  type DeadSessions,
  IMPERSONATOR_ROLE,
  type SessionRecord,
  type SessionStore,
  type SessionUser,
  type UserLookup,
} from "./store.js";
import { type SessionCodec, type SessionMeta, slideExpiry, type ValidSession } from "./types.js";

/** 12 random bytes: the session's lookup key, stored in clear. */
const SESSION_ID_BYTES = 12;
/** Last-seen times are written at most this often per session. */
const LAST_SEEN_INTERVAL_MS = 60_000;
/**
 * How long an impersonated session lasts at most, from its creation: never slid past it, and a rotation keeps
 * it. Support needs a look, not a second account; a forgotten tab must not stay signed in as the user.
 */
export const IMPERSONATION_MAX_AGE_MS = 30 * 60_000;

/** One of a user's sessions, as the sessions list shows it. */
export interface SessionSummary {
  id: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  userAgent: string | null;
  ip: string | null;
  /** The administrator viewing the app as the user in this session (impersonation); `null` for the user's own. */
  impersonatedBy: string | null;
}

/** What a new session is, beyond its user: an administrator's impersonation of that user. */
export interface NewSessionOptions {
  /**
   * The administrator viewing the app as the user, as read when it starts: the session is marked, ends
   * {@link IMPERSONATION_MAX_AGE_MS} after it starts, and ends sooner once their revocation epoch moves on.
   */
  impersonatedBy?: { id: string; revocationEpoch: number };
}

/** Who impersonates in a session, as its record keeps it: nothing for the user's own session. */
type Impersonation = Pick<SessionRecord, "impersonatedBy" | "impersonatorEpoch">;

/** How a new session record is written: by default the session store's `createSession`. */
export type SessionWrite = (session: SessionRecord, options: { sweep?: DeadSessions }) => Promise<void>;

/** A new session made ready: its id and cookie value, and the write that makes it real. */
export interface PreparedSession {
  id: string;
  value: string;
  expiresAt: Date;
  /** Stores the record (and sweeps the user's dead sessions), by `write` or else the session store. */
  write(write?: SessionWrite): Promise<void>;
}

/** The session lifecycle shared by both strategies. */
export interface SessionManager<User extends SessionUser> {
  /**
   * Makes a new session of `user` ready, in the user's revocation epoch as given (read before a log-in's
   * password check, so that a revocation during the check refuses it); its write also sweeps the user's dead
   * sessions. Nothing is stored until then, so it can be made while a password is still being checked.
   */
  prepare(user: User, meta: SessionMeta, options?: NewSessionOptions): Promise<PreparedSession>;
  /**
   * The authoritative check. A session from before the user's sessions were ended, of a banned user, or an
   * impersonation whose administrator has been banned, demoted or deleted, is refused. With `rotate`, a session
   * issued before the user's privileges changed is replaced by a new one (new id, new cookie value, the same
   * deadlines and revocation epoch) — pass it only when the new cookie can be sent.
   */
  validate(value: string, options: { rotate: boolean }): Promise<ValidSession<User> | null>;
  /**
   * The live session `sessionId` of `userId`, as the store has it now, with its user; `null` when it has ended
   * or is someone else's. Nothing is written. For a change on behalf of a session checked earlier.
   */
  current(userId: string, sessionId: string): Promise<{ session: SessionRecord; user: User } | null>;
  /** Ends the session the cookie value names, if it is a genuine one. */
  revoke(value: string): Promise<void>;
  /** The user's live sessions. */
  list(userId: string): Promise<SessionSummary[]>;
}

export function createSessionManager<User extends SessionUser>(
  stores: { sessions: SessionStore<User>; users: UserLookup<User> },
  codec: SessionCodec,
  config: SessionCookieConfig,
): SessionManager<User> {
  const { sessions, users } = stores;
  const maxAgeMs = config.maxAgeSeconds * 1000;
  const absoluteMaxAgeMs = config.absoluteMaxAgeSeconds * 1000;
  const idleTimeoutMs = config.idleTimeoutSeconds * 1000;

  const impersonationCapMs = Math.min(absoluteMaxAgeMs, IMPERSONATION_MAX_AGE_MS);

  /** The absolute cap of a session's life: shorter for an impersonation. */
  function capOf(impersonatedBy: string | null | undefined): number {
    return impersonatedBy ? impersonationCapMs : absoluteMaxAgeMs;
  }

  function isLive(session: SessionRecord, now: number): boolean {
    return (
      session.expiresAt.getTime() > now &&
      session.createdAt.getTime() + capOf(session.impersonatedBy) > now &&
      session.lastSeenAt.getTime() + idleTimeoutMs > now
    );
  }

  /**
   * A record from before the user's sessions were last ended, or of a user banned since. Older, not merely
   * different: a log-in that read the user before a revocation must not sweep away the sessions issued after
   * it. A ban ends the sessions in its own transaction; refusing a banned user's here too means that a
   * session started after it by any way in (`startSession`, a provider's callback) is no way around it.
   */
  function isRevoked(session: SessionRecord, user: User): boolean {
    return session.revocationEpoch < user.revocationEpoch || user.bannedAt != null;
  }

  /**
   * Whether an impersonation has lost its administrator: their account deleted, banned, no longer of the
   * {@link IMPERSONATOR_ROLE}, or their sessions ended since it began (their epoch moved on). Those end their own
   * sessions, but an impersonated session is the user's; it ends here, at its next check, rather than let an
   * administrator who is no longer one, or someone who had their session, go on acting as the user until its 30
   * minutes are up. One more read, for impersonated sessions only.
   */
  async function impersonatorGone(session: SessionRecord): Promise<boolean> {
    if (!session.impersonatedBy) return false;
    const admin = await users.getUserById(session.impersonatedBy);
    return (
      !admin ||
      admin.bannedAt != null ||
      admin.role !== IMPERSONATOR_ROLE ||
      admin.revocationEpoch !== session.impersonatorEpoch
    );
  }

  /** The session and its user: one read where the store keeps both, else the session and then the user. */
  function lookup(sessionId: string): Promise<{ session: SessionRecord; user: User } | null> {
    // The store's own promise, not one more async step: this is the per-request path.
    if (sessions.getSessionAndUser) return sessions.getSessionAndUser(sessionId);
    return lookupApart(sessionId);
  }

  async function lookupApart(sessionId: string): Promise<{ session: SessionRecord; user: User } | null> {
    const session = await sessions.getSession(sessionId);
    const user = session && (await users.getUserById(session.userId));
    return session && user ? { session, user } : null;
  }

  /**
   * Builds a new session of `user` in `epoch` — the user's own on a log-in, the replaced record's on a rotation
   * — with its cookie value, and the sweep of the user's dead sessions on a log-in. Nothing is written yet. An
   * impersonation keeps its mark, its administrator's epoch and its cap through a rotation, since `createdAt` is
   * the replaced record's.
   */
  async function build(
    user: User,
    epoch: number,
    meta: SessionMeta,
    createdAt: Date,
    now: number,
    sweep: boolean,
    { impersonatedBy = null, impersonatorEpoch = null }: Impersonation,
  ) {
    const id = randomToken(SESSION_ID_BYTES);
    const expiresAt = new Date(Math.min(now + maxAgeMs, createdAt.getTime() + capOf(impersonatedBy)));
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
      impersonatedBy,
      impersonatorEpoch,
    };
    const { value, secretHash } = await codec.issue(base);
    const options = sweep ? { sweep: { now, idleTimeoutMs, absoluteMaxAgeMs, epoch: user.revocationEpoch } } : {};
    return { id, value, expiresAt, record: { ...base, secretHash }, options };
  }

  const storeWrite: SessionWrite = (session, options) => sessions.createSession(session, options);

  async function insert(user: User, replaced: SessionRecord, now: number) {
    const { revocationEpoch, createdAt } = replaced;
    const built = await build(user, revocationEpoch, replaced, createdAt, now, false, replaced);
    await storeWrite(built.record, built.options);
    return built;
  }

  return {
    async prepare(user, meta, options = {}) {
      const now = config.now();
      const admin = options.impersonatedBy;
      const impersonation = admin ? { impersonatedBy: admin.id, impersonatorEpoch: admin.revocationEpoch } : {};
      const built = await build(user, user.revocationEpoch, meta, new Date(now), now, true, impersonation);
      return {
        id: built.id,
        value: built.value,
        expiresAt: built.expiresAt,
        write: (write = storeWrite) => write(built.record, built.options),
      };
    },

    async validate(value, options) {
      const parsed = await codec.parse(value);
      if (!parsed) return null;
      const found = await lookup(parsed.id);
      if (!found || !parsed.matches(found.session)) return null;
      const { session, user } = found;
      const now = config.now();
      // Only an impersonation pays for the look at its administrator: the other checks need no await.
      if (
        !isLive(session, now) ||
        isRevoked(session, user) ||
        (session.impersonatedBy && (await impersonatorGone(session)))
      ) {
        await sessions.deleteSession(session.id);
        return null;
      }
      // A stateless cookie from before a renewal names a record that is still live: refuse only the cookie.
      if (parsed.expired) return null;
      const strategy = config.strategy;
      const impersonatedBy = session.impersonatedBy ?? null;
      if (session.userVersion !== user.sessionVersion && options.rotate) {
        // Privileges changed since this session was issued: replace it, keeping its absolute deadline. Only
        // the request that deletes the old record issues the new one; concurrent ones proceed unrenewed.
        if (!(await sessions.deleteSession(session.id))) {
          const { createdAt, expiresAt } = session;
          return { user, session: { id: session.id, strategy, createdAt, expiresAt, impersonatedBy }, renewed: null };
        }
        const next = await insert(user, session, now);
        return {
          user,
          session: { id: next.id, strategy, createdAt: session.createdAt, expiresAt: next.expiresAt, impersonatedBy },
          renewed: { value: next.value, expiresAt: next.expiresAt },
        };
      }
      // Only a caller that can send the renewed cookie slides the session forward: a record extended behind a
      // cookie that keeps its old Max-Age (a Server Component's check) would use up the renewal, and the
      // browser would still drop the cookie at its first expiry.
      const extended = options.rotate
        ? slideExpiry(session.createdAt.getTime(), session.expiresAt.getTime(), now, maxAgeMs, capOf(impersonatedBy))
        : null;
      const expiresAt = extended === null ? session.expiresAt : new Date(extended);
      if (extended !== null || now - session.lastSeenAt.getTime() >= LAST_SEEN_INTERVAL_MS) {
        await sessions.touchSession(session.id, { lastSeenAt: new Date(now), expiresAt });
      }
      return {
        user,
        session: { id: session.id, strategy, createdAt: session.createdAt, expiresAt, impersonatedBy },
        renewed: extended === null ? null : { value: await codec.reissue({ ...session, expiresAt }, value), expiresAt },
      };
    },

    async current(userId, sessionId) {
      const found = await lookup(sessionId);
      if (!found || found.session.userId !== userId) return null;
      const live = isLive(found.session, config.now()) && !isRevoked(found.session, found.user);
      return live && !(await impersonatorGone(found.session)) ? found : null;
    },

    async revoke(value) {
      const parsed = await codec.parse(value);
      if (!parsed) return;
      const found = await lookup(parsed.id);
      if (found && parsed.matches(found.session)) await sessions.deleteSession(parsed.id);
    },

    async list(userId) {
      const now = config.now();
      const user = await users.getUserById(userId);
      if (!user) return [];
      const records = (await sessions.listUserSessions(userId)).filter(
        (session) => isLive(session, now) && !isRevoked(session, user),
      );
      const gone = await Promise.all(records.map(impersonatorGone));
      return records
        .filter((_, index) => !gone[index])
        .sort((a, b) => b.lastSeenAt.getTime() - a.lastSeenAt.getTime())
        .map(({ id, createdAt, lastSeenAt, expiresAt, userAgent, ip, impersonatedBy }) => ({
          id,
          createdAt,
          lastSeenAt,
          expiresAt,
          userAgent,
          ip,
          impersonatedBy: impersonatedBy ?? null,
        }));
    },
  };
}

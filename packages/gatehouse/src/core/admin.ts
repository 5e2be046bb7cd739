import {
  CannotBanSelfError,
  type FieldErrorCode,
  type FieldProblem,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  UnauthenticatedError,
} from "../errors.js";
import type { SessionSummary, SessionWrite } from "../session/manager.js";
import type { StartedSession } from "../session/sessions.js";
import { IMPERSONATOR_ROLE } from "../session/store.js";
import type { RequestMeta, SessionInfo } from "../session/types.js";
import type {
  AuditEvent,
  KeepAdmin,
  MailStatus,
  RemovedFactors,
  SessionRecord,
  Store,
  UserRecord,
} from "../stores/types.js";
import { toUserEvent, type UserEvent } from "./account.js";
import { AUDIT_EVENT_TYPES, type AuditEventType } from "./audit.js";
import { decodeEventCursor, encodeEventCursor, eventPageSize } from "./audit-cursor.js";
import type { CoreContext } from "./context.js";
import { type Auth, toUserDTO, type UserDTO } from "./dto.js";
import { asRecord, field } from "./input.js";
import type { MailApi, MailSummary } from "./mail-queue.js";
import type { IdentityDTO } from "./oauth.js";
import type { PasskeyDTO } from "./passkeys.js";
import type { FreshAuthInput, PasswordCheck } from "./password-check.js";
import { deleteUser, endSessions } from "./stores.js";

/**
 * The role that may use the admin API, and that the last-admin rule keeps at least one unbanned user in. The
 * session layer's own name for it: an impersonation ends once its administrator no longer has it.
 */
export const ADMIN_ROLE = IMPERSONATOR_ROLE;
const KEEP_ADMIN: KeepAdmin = Object.freeze({ role: ADMIN_ROLE });

/** A search longer than any address or name stored matches nothing: refused instead. */
const MAX_QUERY_LENGTH = 320;
/** The store's search cursors are short; a longer one is not one of them. */
const MAX_CURSOR_LENGTH = 512;
/** As the `ban_reason` column holds. */
const MAX_REASON_LENGTH = 500;
/** The messages the mail list shows, newest first. */
const MAIL_LIST_LIMIT = 100;
/** The events a user's page shows. */
const USER_EVENTS_LIMIT = 20;
const ID = /^[A-Za-z0-9_-]{1,64}$/;
const CONTROL = /[\u0000-\u001f\u007f]/;
const MAIL_STATUSES: readonly MailStatus[] = ["pending", "sent", "failed"];

/** A user as administrators see them: the public fields, and the account's standing. */
export interface AdminUser extends UserDTO {
  banned: boolean;
  bannedAt: Date | null;
  banReason: string | null;
  totpEnabled: boolean;
  createdAt: Date;
}

/** A user's page in the admin console. */
export interface AdminUserDetail {
  user: AdminUser;
  /** Their live sessions, most recently used first; an impersonation names its administrator. */
  sessions: SessionSummary[];
  identities: IdentityDTO[];
  factors: { totp: boolean; passkeys: PasskeyDTO[]; recoveryCodes: number };
  /** Their most recent audit events, newest first. */
  events: AdminEvent[];
}

/** An audit event as administrators see it: as its user would, and whom it is about. */
export interface AdminEvent extends UserEvent {
  userId: string | null;
  /** Their email at the time (for a failed log-in of an unknown account, the address tried). */
  userEmail: string | null;
}

/** What {@link AdminApi.searchUsers} takes: all optional. */
export interface AdminSearchInput {
  /** Part of an email or a name, case-insensitive; empty or absent lists everyone. */
  query?: string;
  /** The `nextCursor` of the page before. */
  cursor?: string | null;
  /** 1 to 100, default 20. */
  limit?: number;
}

/** What {@link AdminApi.listEvents} takes: all optional. */
export interface AdminAuditInput {
  /** One of `AUDIT_EVENT_TYPES`. */
  type?: string;
  userId?: string;
  cursor?: string | null;
  limit?: number;
}

/** A page of results, and the cursor of the next one (`null`: this was the last). */
export interface AdminPage<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * What {@link AdminApi.updateUser} takes: a new role, a ban (with an optional reason shown to admins only), or
 * its end; with the administrator's password every time.
 */
export type AdminUserUpdate =
  | { password?: string; role: string }
  | { password?: string; banned: true; reason?: string | null }
  | { password?: string; banned: false };

/** A started impersonation: the user, who is viewing as them, until when, and the cookies to send. */
export interface Impersonation {
  user: UserDTO;
  impersonatedBy: { id: string; email: string };
  expiresAt: Date;
  /** The impersonated session's cookie, and the cookie that keeps the administrator's own session aside. */
  setCookies: string[];
}

/** The end of an impersonation: the administrator, signed in again (`null` when their session has ended). */
export interface ImpersonationEnd {
  user: UserDTO | null;
  /** The restored (or cleared) session cookie, and the clearing of the cookie that kept it aside. */
  setCookies: string[];
}

/** The durable outbox as administrators see it: messages without their bodies, and the count of each status. */
export interface AdminMailList {
  messages: MailSummary[];
  counts: Record<MailStatus, number>;
}

/**
 * The admin console's calls. Each takes the {@link Auth} of the request and reads its session and user again:
 * `UnauthenticatedError` once it has ended, `ImpersonationForbiddenError` for an impersonated session,
 * `ForbiddenError` unless the user's role is `admin`. Every write also needs fresh authentication, the
 * administrator's password in `input` (`ReauthenticationRequiredError` without it, `InvalidInputError` when wrong,
 * counted like a log-in), and is recorded in the audit log, in its own transaction, with the administrator as
 * its actor. Bad input is refused (`InvalidInputError`) before the password is checked, and changes nothing.
 */
export interface AdminApi {
  /**
   * Users whose email or name contains `query`, by email, a page at a time.
   *
   * @example
   * ```ts
   * const { items, nextCursor } = await gatehouse.admin.searchUsers(auth, { query: "ada" });
   * ```
   */
  searchUsers(auth: Auth, input?: AdminSearchInput): Promise<AdminPage<AdminUser>>;
  /**
   * A user's page: their account, live sessions, linked providers, second factors and recent events; `null`
   * when there is no such user.
   *
   * @example
   * ```ts
   * const detail = await gatehouse.admin.getUser(auth, userId);
   * if (!detail) return notFound();
   * ```
   */
  getUser(auth: Auth, userId: string): Promise<AdminUserDetail | null>;
  /**
   * Changes a user's role (one of the configured roles; their sessions rotate at their next request), bans them
   * (every session of both strategies ends in the ban's transaction, and log-in answers `BannedError`), or lifts
   * a ban. `LastAdminError` when it would leave no unbanned admin, `CannotBanSelfError` for one's own account,
   * `NotFoundError` for an unknown user. Recorded as `role.change`, `user.ban` or `user.unban`; a change to what
   * already is changes and records nothing.
   *
   * @example
   * ```ts
   * await gatehouse.admin.updateUser(auth, userId, { password, banned: true, reason: "spam" }, meta);
   * ```
   */
  updateUser(auth: Auth, userId: string, input: AdminUserUpdate, meta?: RequestMeta): Promise<AdminUser>;
  /**
   * Ends every session of the user (both strategies) and voids their pending email-change and reset links.
   * Recorded as `admin.sessions.revoke`.
   *
   * @example
   * ```ts
   * const { ended } = await gatehouse.admin.revokeSessions(auth, userId, { password }, meta);
   * ```
   */
  revokeSessions(auth: Auth, userId: string, input: FreshAuthInput, meta?: RequestMeta): Promise<{ ended: number }>;
  /**
   * Mails the user a password-reset link, through the durable outbox, as if they had asked for it. Recorded as
   * `admin.password_reset` with the link's token and mail. `MailUnavailableError` without a mailer.
   *
   * @example
   * ```ts
   * await gatehouse.admin.sendPasswordReset(auth, userId, { password }, meta);
   * ```
   */
  sendPasswordReset(auth: Auth, userId: string, input: FreshAuthInput, meta?: RequestMeta): Promise<void>;
  /**
   * Removes every second factor of the user (authenticator app, recovery codes, passkeys), for one who is
   * locked out; their password and sessions stay. Recorded as `admin.factors.reset` (when there was any).
   *
   * @example
   * ```ts
   * const removed = await gatehouse.admin.resetFactors(auth, userId, { password }, meta);
   * ```
   */
  resetFactors(auth: Auth, userId: string, input: FreshAuthInput, meta?: RequestMeta): Promise<RemovedFactors>;
  /**
   * Deletes the user and every session of theirs; their audit events stay. `LastAdminError` for the last
   * unbanned admin. Recorded as `user.delete`.
   *
   * @example
   * ```ts
   * await gatehouse.admin.deleteUser(auth, userId, { password }, meta);
   * ```
   */
  deleteUser(auth: Auth, userId: string, input: FreshAuthInput, meta?: RequestMeta): Promise<void>;
  /**
   * Starts viewing the app as the user, for support: a session of theirs, marked with the administrator's id,
   * that ends 30 minutes after it starts and cannot change the password, the email or a second factor. The
   * administrator's own session cookie (read from `meta.cookieHeader`) is kept aside in a cookie of its own, to
   * come back to with {@link AdminApi.stopImpersonation}. `ForbiddenError` for an admin or a banned user.
   * Recorded as `impersonation.start`.
   *
   * @example
   * ```ts
   * const started = await gatehouse.admin.impersonate(auth, userId, { password }, meta);
   * for (const cookie of started.setCookies) res.appendHeader("Set-Cookie", cookie);
   * ```
   */
  impersonate(auth: Auth, userId: string, input: FreshAuthInput, meta: RequestMeta): Promise<Impersonation>;
  /**
   * Ends the impersonated session `auth` names and puts back the administrator's own session, if it is still
   * live (from the cookie kept aside, in `meta.cookieHeader`). `NotFoundError` for a session that is not an
   * impersonation. Recorded as `impersonation.stop`. Needs no admin role: the impersonated session calls it.
   *
   * @example
   * ```ts
   * const ended = await gatehouse.admin.stopImpersonation(auth, meta);
   * ```
   */
  stopImpersonation(auth: Auth, meta: RequestMeta): Promise<ImpersonationEnd>;
  /**
   * Who is viewing the app as the session's user, for the session's own page; `null` for the user's own
   * session. `email` is `null` once the administrator's account is gone.
   *
   * @example
   * ```ts
   * const by = await gatehouse.admin.impersonator(auth.session);
   * ```
   */
  impersonator(session: SessionInfo): Promise<{ id: string; email: string | null } | null>;
  /**
   * The whole audit log, newest first, a page at a time; with `type` or `userId`, only those events.
   *
   * @example
   * ```ts
   * const { items, nextCursor } = await gatehouse.admin.listEvents(auth, { type: "user.ban" });
   * ```
   */
  listEvents(auth: Auth, input?: AdminAuditInput): Promise<AdminPage<AdminEvent>>;
  /**
   * The durable outbox's newest 100 messages (with `status`, only those) and how many are in each status.
   *
   * @example
   * ```ts
   * const { messages, counts } = await gatehouse.admin.listMail(auth, { status: "failed" });
   * ```
   */
  listMail(auth: Auth, input?: { status?: string }): Promise<AdminMailList>;
  /**
   * Puts a failed message back in the queue, due now. `NotFoundError` when no failed message has this id.
   *
   * @example
   * ```ts
   * await gatehouse.admin.retryMail(auth, messageId, { password }, meta);
   * ```
   */
  retryMail(auth: Auth, messageId: string, input: FreshAuthInput, meta?: RequestMeta): Promise<void>;
}

/**
 * Queues a password-reset link for `user` with `events`, as the email module sends it: the token, its mail and
 * the events in one transaction.
 */
export type ResetMailer = (user: UserRecord, effects: { events: readonly AuditEvent[] }) => Promise<void>;

/** What a user's record says of them to an administrator. */
function toAdminUser(user: UserRecord): AdminUser {
  return {
    ...toUserDTO(user),
    banned: user.bannedAt !== null,
    bannedAt: user.bannedAt,
    banReason: user.banReason,
    totpEnabled: user.totpEnabled,
    createdAt: user.createdAt,
  };
}

function invalid(name: string, message: string, code: FieldErrorCode = "invalid"): InvalidInputError {
  const problem: FieldProblem = { code, message };
  return new InvalidInputError({ [name]: problem });
}

/** An optional string field: `undefined` when absent or empty, else it must be text of at most `max` characters. */
function optionalText(raw: unknown, name: string, max: number): string | undefined {
  if (raw === undefined || raw === null || raw === "") return undefined;
  if (typeof raw !== "string" || raw.length > max || CONTROL.test(raw))
    throw invalid(name, `Use text of at most ${max} characters, without control characters.`);
  return raw;
}

/** An administrator's view of an event: a user's own view, and whom it is about. */
function toAdminEvent(event: AuditEvent): AdminEvent {
  return { ...toUserEvent(event), userId: event.userId, userEmail: event.userEmail };
}

/** A session made ready by the session layer, to be stored by `write`. */
type PreparedStart = { start(write?: SessionWrite): Promise<StartedSession> };

/** What a user update asks for, checked before the password is. */
type ParsedUpdate = { kind: "role"; role: string } | { kind: "ban"; reason: string | null } | { kind: "unban" };

export function createAdminApi(
  ctx: CoreContext,
  check: PasswordCheck,
  options: {
    /** The store `createGatehouse` was given: it writes a session and its event in one transaction. */
    store: Store;
    /** The email module's outbox calls: a retry also wakes its sender. */
    mail: Pick<MailApi, "listMail" | "retryMail">;
    sendResetMail: ResetMailer;
  },
): AdminApi {
  const { roles, sessions, audit, config, now } = ctx;
  const { users } = roles;

  /** The acting administrator, as the store has them now. */
  async function authorize(auth: Auth): Promise<{ session: SessionRecord; user: UserRecord }> {
    // The impersonation check first: an impersonated session's user is never an admin, and must hear why.
    const found = await check.current(auth, { owner: true });
    if (found.user.role !== ADMIN_ROLE) throw new ForbiddenError();
    return found;
  }

  /**
   * Fresh authentication for a write, then the session and the role read again: the password's hash takes a
   * while, and an administrator banned, demoted or signed out meanwhile must not have the write made after it.
   */
  async function reauthorize(auth: Auth, input: unknown, meta: RequestMeta): Promise<UserRecord> {
    await check.fresh(auth, input, meta);
    return (await authorize(auth)).user;
  }

  async function target(userId: unknown): Promise<UserRecord> {
    const user = typeof userId === "string" && ID.test(userId) ? await users.getUserById(userId) : null;
    if (!user) throw new NotFoundError("There is no user with this id.");
    return user;
  }

  /** `user`, unless they are someone an administrator may not view the app as: an admin, or a banned user. */
  function impersonable(user: UserRecord): UserRecord {
    if (user.role === ADMIN_ROLE) throw new ForbiddenError("Administrators cannot be impersonated.");
    if (user.bannedAt !== null) throw new ForbiddenError("A banned user cannot be impersonated.");
    return user;
  }

  function adminEvent(type: AuditEventType, admin: UserRecord, user: UserRecord, meta: RequestMeta, detail = {}) {
    return audit.event(type, { user, actor: { type: "admin", id: admin.id }, meta, detail });
  }

  function parseUpdate(input: unknown): ParsedUpdate {
    const record = asRecord(input);
    const role = field(record, "role");
    const banned = field(record, "banned");
    const reason = field(record, "reason");
    if (role !== undefined && banned !== undefined)
      throw new InvalidInputError({}, "Change the role or the ban, one at a time.");
    if (role !== undefined) {
      if (typeof role !== "string" || !Object.hasOwn(config.roles, role)) {
        const message = `Unknown role. Use one of: ${Object.keys(config.roles).join(", ")}.`;
        throw invalid("role", message, "unknown_role");
      }
      if (reason !== undefined) throw invalid("reason", "A reason goes with a ban only.");
      return { kind: "role", role };
    }
    if (banned === true) {
      const text = optionalText(reason, "reason", MAX_REASON_LENGTH)?.trim();
      return { kind: "ban", reason: text || null };
    }
    if (banned === false) {
      if (reason !== undefined) throw invalid("reason", "A reason goes with a ban only.");
      return { kind: "unban" };
    }
    if (banned !== undefined) throw invalid("banned", "Send true to ban the user, false to lift the ban.");
    throw new InvalidInputError({}, "Send a new role, or banned: true or false.");
  }

  /**
   * Starts an impersonated session with its event: in one transaction where the main store keeps the sessions,
   * else the event first (no transaction spans both stores), so that no impersonation goes unrecorded.
   */
  async function startRecorded(prepared: PreparedStart, event: AuditEvent): Promise<StartedSession> {
    let started: StartedSession;
    if (roles.sessionsApart) {
      await roles.audit.recordEvents([event]);
      started = await prepared.start();
    } else {
      const batch = await options.store.writeBatch();
      started = await prepared.start((record, sweep) => {
        batch.createSession(record, sweep);
        batch.record({ events: [event] });
        return batch.commit();
      });
    }
    audit.emit([event]);
    return started;
  }

  /** Ends a session with its event, as {@link startRecorded} starts one. */
  async function deleteRecorded(sessionId: string, event: AuditEvent): Promise<void> {
    if (roles.sessionsApart) {
      await roles.audit.recordEvents([event]);
      await roles.sessions.deleteSession(sessionId);
    } else if (!(await options.store.deleteSession(sessionId, { effects: { events: [event] } }))) {
      // Ended meanwhile (a log-out, a revocation): nothing happened here to record.
      return;
    }
    audit.emit([event]);
  }

  const api: AdminApi = {
    async searchUsers(auth, input = {}) {
      await authorize(auth);
      const record = asRecord(input);
      const query = optionalText(field(record, "query"), "query", MAX_QUERY_LENGTH)?.trim() ?? "";
      const cursor = optionalText(field(record, "cursor"), "cursor", MAX_CURSOR_LENGTH) ?? null;
      const limit = eventPageSize(field(record, "limit"));
      const page = await users.searchUsers({ query, cursor, limit });
      return { items: page.users.map(toAdminUser), nextCursor: page.nextCursor };
    },

    async getUser(auth, userId) {
      await authorize(auth);
      const user = typeof userId === "string" && ID.test(userId) ? await users.getUserById(userId) : null;
      if (!user) return null;
      const [list, linked, summary, passkeys, events] = await Promise.all([
        sessions.manager.list(user.id),
        roles.identities.listIdentities(user.id),
        roles.factors.getFactorSummary(user.id),
        roles.factors.listPasskeys(user.id),
        roles.audit.listEvents({ userId: user.id, order: "newest", limit: USER_EVENTS_LIMIT }),
      ]);
      return {
        user: toAdminUser(user),
        sessions: list,
        identities: linked.map(({ provider, email, createdAt }) => ({ provider, email, createdAt })),
        factors: {
          totp: summary.totp,
          passkeys: passkeys.map(({ id, name, createdAt, lastUsedAt }) => ({ id, name, createdAt, lastUsedAt })),
          recoveryCodes: summary.recoveryCodes,
        },
        events: events.map(toAdminEvent),
      };
    },

    async updateUser(auth, userId, input, meta = {}) {
      const { user: self } = await authorize(auth);
      const change = parseUpdate(input);
      // Read before the password, for the answers that need none (an unknown user, one's own ban), and again
      // after it, for what the change does.
      const known = await target(userId);
      if (change.kind === "ban" && known.id === self.id) throw new CannotBanSelfError();
      const admin = await reauthorize(auth, input, meta);
      const user = await target(userId);
      if (change.kind === "role") {
        if (user.role === change.role) return toAdminUser(user);
        const event = adminEvent("role.change", admin, user, meta, { from: user.role, to: change.role });
        const updated = await users.updateUser(
          user.id,
          { role: change.role },
          { keepAdmin: KEEP_ADMIN, effects: { events: [event] } },
        );
        if (!updated) throw new NotFoundError("There is no user with this id.");
        audit.emit([event]);
        // Privileges changed: each of their sessions is replaced at its next check.
        const sessionVersion = (await users.bumpSessionVersion(user.id)) ?? updated.sessionVersion;
        return toAdminUser({ ...updated, sessionVersion });
      }
      if (change.kind === "ban") {
        if (user.bannedAt !== null && user.banReason === change.reason) return toAdminUser(user);
        const event = adminEvent("user.ban", admin, user, meta, { reason: change.reason });
        // A new reason for a ban keeps the time it began.
        const bannedAt = user.bannedAt ?? new Date(now());
        // The ban, the end of every session and the event: one transaction (the epoch refuses the sessions a
        // store apart still holds, until they are deleted right after).
        const ended = await endSessions(roles, user.id, {
          update: { bannedAt, banReason: change.reason },
          keepAdmin: KEEP_ADMIN,
          effects: { events: [event] },
        });
        if (!ended) throw new NotFoundError("There is no user with this id.");
        audit.emit([event]);
        return toAdminUser({ ...user, bannedAt, banReason: change.reason });
      }
      if (user.bannedAt === null) return toAdminUser(user);
      const event = adminEvent("user.unban", admin, user, meta);
      const updated = await users.updateUser(
        user.id,
        { bannedAt: null, banReason: null },
        { effects: { events: [event] } },
      );
      if (!updated) throw new NotFoundError("There is no user with this id.");
      audit.emit([event]);
      return toAdminUser(updated);
    },

    async revokeSessions(auth, userId, input, meta = {}) {
      await authorize(auth);
      const user = await target(userId);
      const admin = await reauthorize(auth, input, meta);
      const event = adminEvent("admin.sessions.revoke", admin, user, meta);
      const ended = await endSessions(roles, user.id, { effects: { events: [event] } });
      if (!ended) throw new NotFoundError("There is no user with this id.");
      audit.emit([event]);
      return { ended: ended.ended };
    },

    async sendPasswordReset(auth, userId, input, meta = {}) {
      await authorize(auth);
      const user = await target(userId);
      const admin = await reauthorize(auth, input, meta);
      const event = adminEvent("admin.password_reset", admin, user, meta);
      await options.sendResetMail(user, { events: [event] });
      audit.emit([event]);
    },

    async resetFactors(auth, userId, input, meta = {}) {
      await authorize(auth);
      const user = await target(userId);
      const admin = await reauthorize(auth, input, meta);
      const event = adminEvent("admin.factors.reset", admin, user, meta);
      const removed = await roles.factors.removeFactors(user.id, { effects: { events: [event] } });
      // Nothing to remove, nothing changed: the store wrote no event either.
      if (removed.totp || removed.recoveryCodes > 0 || removed.passkeys > 0) audit.emit([event]);
      return removed;
    },

    async deleteUser(auth, userId, input, meta = {}) {
      await authorize(auth);
      const user = await target(userId);
      const admin = await reauthorize(auth, input, meta);
      const event = adminEvent("user.delete", admin, user, meta);
      if (!(await deleteUser(roles, user.id, { keepAdmin: KEEP_ADMIN, effects: { events: [event] } }))) {
        throw new NotFoundError("There is no user with this id.");
      }
      audit.emit([event]);
    },

    async impersonate(auth, userId, input, meta) {
      await authorize(auth);
      impersonable(await target(userId));
      // The administrator's own session, to come back to: the cookie this request was authenticated with.
      const own = sessions.cookie.read(meta.cookieHeader);
      if (!own) throw new UnauthenticatedError();
      const admin = await reauthorize(auth, input, meta);
      // Read again after the password: a user promoted or banned meanwhile is no one to view the app as.
      const user = impersonable(await target(userId));
      const prepared = await sessions.prepare(user, meta, { impersonatedBy: admin });
      const event = adminEvent("impersonation.start", admin, user, meta);
      const started = await startRecorded(prepared, event);
      return {
        user: toUserDTO(user),
        impersonatedBy: { id: admin.id, email: admin.email },
        expiresAt: started.expiresAt,
        setCookies: [started.setCookie, sessions.impersonatorCookie.serialize(own, auth.session.expiresAt)],
      };
    },

    async stopImpersonation(auth, meta) {
      const { session, user } = await check.current(auth);
      const adminId = session.impersonatedBy;
      if (!adminId) throw new NotFoundError("This session is not an impersonation.");
      const admin = await users.getUserById(adminId);
      const event = audit.event("impersonation.stop", {
        user,
        actor: { type: "admin", id: adminId },
        meta,
        detail: {},
      });
      await deleteRecorded(session.id, event);
      const clearAside = sessions.impersonatorCookie.clear();
      const kept = sessions.impersonatorCookie.read(meta.cookieHeader);
      const back = kept && admin ? await sessions.manager.validate(kept, { rotate: true }) : null;
      // Only the administrator's own session comes back, never whichever session the cookie happens to hold.
      if (!back || back.user.id !== adminId) return { user: null, setCookies: [sessions.cookie.clear(), clearAside] };
      const restored = back.renewed
        ? sessions.cookie.serialize(back.renewed.value, back.renewed.expiresAt)
        : sessions.cookie.serialize(kept as string, back.session.expiresAt);
      return { user: toUserDTO(back.user), setCookies: [restored, clearAside] };
    },

    async impersonator(session) {
      if (!session.impersonatedBy) return null;
      const admin = await users.getUserById(session.impersonatedBy);
      return { id: session.impersonatedBy, email: admin?.email ?? null };
    },

    async listEvents(auth, input = {}) {
      await authorize(auth);
      const record = asRecord(input);
      const type = optionalText(field(record, "type"), "type", 64);
      if (type !== undefined && !(AUDIT_EVENT_TYPES as readonly string[]).includes(type))
        throw invalid("type", `Unknown event type. Use one of: ${AUDIT_EVENT_TYPES.join(", ")}.`);
      const userId = optionalText(field(record, "userId"), "userId", 64);
      if (userId !== undefined && !ID.test(userId)) throw invalid("userId", "This is not a user id.");
      const cursor = optionalText(field(record, "cursor"), "cursor", MAX_CURSOR_LENGTH);
      const after = cursor === undefined ? null : decodeEventCursor(cursor);
      const limit = eventPageSize(field(record, "limit"));
      // One more than asked: whether it comes back says whether there is a next page.
      const events = await roles.audit.listEvents({
        ...(type !== undefined && { type }),
        ...(userId !== undefined && { userId }),
        order: "newest",
        after,
        limit: limit + 1,
      });
      const items = events.slice(0, limit);
      const last = items.at(-1);
      return {
        items: items.map(toAdminEvent),
        nextCursor: events.length > limit && last ? encodeEventCursor(last) : null,
      };
    },

    async listMail(auth, input = {}) {
      await authorize(auth);
      const raw = field(asRecord(input), "status");
      const status = MAIL_STATUSES.find((known) => known === raw);
      if (raw !== undefined && raw !== "" && status === undefined)
        throw invalid("status", `Use one of: ${MAIL_STATUSES.join(", ")}.`);
      return options.mail.listMail({ ...(status && { status }), limit: MAIL_LIST_LIMIT });
    },

    async retryMail(auth, messageId, input, meta = {}) {
      await authorize(auth);
      if (typeof messageId !== "string" || !ID.test(messageId))
        throw new NotFoundError("No failed message has this id.");
      const admin = await reauthorize(auth, input, meta);
      const event = audit.event("admin.mail.retry", {
        actor: { type: "admin", id: admin.id },
        meta,
        detail: { messageId },
      });
      if (!(await options.mail.retryMail(messageId, { effects: { events: [event] } }))) {
        throw new NotFoundError("No failed message has this id.");
      }
      audit.emit([event]);
    },
  };
  return api;
}

import { roleHasPermission } from "../authz/roles.js";
import { ReauthenticationRequiredError, UnauthenticatedError } from "../errors.js";
import { IMPERSONATOR_ROLE } from "../session/store.js";
import type { RequestMeta } from "../session/types.js";
import type { AuditActorType, AuditEvent, RemovedFactors } from "../stores/types.js";
import type { Accounts, NewAccount } from "./accounts.js";
import type { AuditActor } from "./audit.js";
import { decodeEventCursor, encodeEventCursor, eventPageSize } from "./audit-cursor.js";
import type { CoreContext } from "./context.js";
import { type Auth, toUserDTO, type UserDTO } from "./dto.js";
import { type DeleteAccountInput, type ProfileInput, parseProfileInput } from "./input.js";
import type { PasswordCheck } from "./password-check.js";
import { actorOf } from "./sessions.js";
import { deleteUser } from "./stores.js";

/** One event of the audit log, as the user it is about sees it ("Signed in from … on …"). */
export interface UserEvent {
  id: string;
  at: Date;
  /** E.g. `login.success`, `password.change`: see `AUDIT_EVENT_TYPES`. */
  type: string;
  outcome: "success" | "failure";
  ip: string | null;
  userAgent: string | null;
  /** A small JSON object: a log-in's `method`, a failure's `reason`, a provider. Never a secret. */
  detail: Record<string, unknown>;
  /** Who acted: the user, an administrator, the CLI or the system. */
  actor: { type: AuditActorType; id: string | null };
}

/** A page of events, and the cursor of the next one (`null`: this is the last). */
export interface EventPage {
  events: UserEvent[];
  nextCursor: string | null;
}

/** The signed-in user's own account, roles, and account administration. */
export interface AccountApi {
  /** Updates what a user may change about themselves: only `name`. Other fields (such as `role`) are ignored. */
  updateProfile(userId: string, input: ProfileInput): Promise<UserDTO>;
  /**
   * Deletes the signed-in user and every session, with the `user.delete` event (the log outlives the account).
   * Needs `{ password }`, or a log-in within `freshAuthSeconds`: else `ReauthenticationRequiredError`;
   * `ImpersonationForbiddenError` for an administrator's impersonation. Resolves to the `Set-Cookie` that
   * clears the session cookie.
   */
  deleteAccount(auth: Auth, input?: DeleteAccountInput, meta?: RequestMeta): Promise<string>;
  /**
   * The signed-in user's own security events, newest first, `limit` at a time (default 20, at most 100):
   * `cursor` is the `nextCursor` of the page before. Throws `InvalidInputError` for a cursor or limit that is
   * not one.
   *
   * @example
   * ```ts
   * const { events, nextCursor } = await gatehouse.listEvents(auth, { cursor: null, limit: 20 });
   * for (const event of events) console.log(event.at, event.type, event.ip);
   * ```
   */
  listEvents(auth: Auth, page?: { cursor?: string | null; limit?: number }): Promise<EventPage>;
  /**
   * Whether `user`'s role grants `permission`.
   *
   * @example
   * ```ts
   * if (!gatehouse.can(user, "users:read")) return res.status(403).end();
   * ```
   */
  can(user: Pick<UserDTO, "role">, permission: string): boolean;
  /**
   * Account administration, as used by the CLI and admin pages. Each change is recorded in the audit log;
   * its actor is `by.actor`, by default the system.
   */
  users: {
    create(input: NewAccount, by?: { actor?: AuditActor }): Promise<UserDTO>;
    setRole(email: string, role: string, by?: { actor?: AuditActor }): Promise<UserDTO | null>;
    list(): Promise<UserDTO[]>;
    /** Removes every second factor and passkey of a locked-out user (`null`: no such email). */
    resetSecondFactors(email: string, by?: { actor?: AuditActor }): Promise<RemovedFactors | null>;
  };
}

/** What a user sees of an event about them: not their own id and email again. */
export function toUserEvent(event: AuditEvent): UserEvent {
  return {
    id: event.id,
    at: event.at,
    type: event.type,
    outcome: event.outcome,
    ip: event.ip,
    userAgent: event.userAgent,
    detail: event.detail,
    actor: { type: event.actorType, id: event.actorId },
  };
}

const SYSTEM: AuditActor = { type: "system", id: null };

export function createAccountApi(ctx: CoreContext, check: PasswordCheck, accounts: Accounts): AccountApi {
  const { roles, config, sessions, now, audit } = ctx;
  return {
    async updateProfile(userId, input) {
      const updated = await roles.users.updateUser(userId, parseProfileInput(input));
      if (!updated) throw new UnauthenticatedError();
      return toUserDTO(updated);
    },

    async deleteAccount(auth, input = {}, meta = {}) {
      // Deleting the account is the user's own decision, like their password: not one to take while viewing
      // the app as them.
      const { session, user } = await check.current(auth, { owner: true });
      const { password } = input;
      if (password !== undefined) await check.confirm(user, password, "password", meta);
      // The session's own creation time, as the store has it: not one the caller could have made up.
      else if (now() - session.createdAt.getTime() > config.freshAuthSeconds * 1000) {
        throw new ReauthenticationRequiredError();
      }
      const deleted = audit.event("user.delete", { user, actor: actorOf(user.id, session.impersonatedBy), meta });
      // The last admin cannot leave by deleting their own account either: the app would have no admin.
      const keepAdmin = { role: IMPERSONATOR_ROLE };
      if (await deleteUser(roles, user.id, { keepAdmin, effects: { events: [deleted] } })) audit.emit([deleted]);
      return sessions.cookie.clear();
    },

    async listEvents(auth, page = {}) {
      const limit = eventPageSize(page.limit);
      const after = page.cursor === undefined || page.cursor === null ? null : decodeEventCursor(page.cursor);
      // One more than the page: whether there is a next page is known without asking for an empty one.
      const found = await roles.audit.listEvents({ userId: auth.user.id, order: "newest", after, limit: limit + 1 });
      const events = found.slice(0, limit);
      const last = events[events.length - 1];
      return {
        events: events.map(toUserEvent),
        nextCursor: found.length > limit && last ? encodeEventCursor(last) : null,
      };
    },

    can: (user, permission) => roleHasPermission(config.roles, user.role, permission),

    users: {
      create: async (input, by = {}) => toUserDTO(await accounts.create(input, { actor: by.actor ?? SYSTEM })),
      setRole: (email, role, by = {}) => accounts.setRole(email, role, { actor: by.actor ?? SYSTEM }),
      list: accounts.list,
      resetSecondFactors: (email, by = {}) => accounts.resetSecondFactors(email, { actor: by.actor ?? SYSTEM }),
    },
  };
}

import { randomToken } from "../crypto/random.js";
import { InvalidInputError } from "../errors.js";
import { loadCommonPasswords } from "../password/common.js";
import type { PasswordHasher } from "../password/hasher.js";
import type { SessionMeta } from "../session/types.js";
import type { RemovedFactors, UserRecord } from "../stores/types.js";
import type { Audit, AuditActor } from "./audit.js";
import type { CredentialConfig } from "./config.js";
import { toUserDTO, type UserDTO } from "./dto.js";
import { normalizeEmail } from "./email.js";
import { parseSignUpInput } from "./input.js";
import { endSessions, type Roles } from "./stores.js";

/** What an administrator (or the CLI) gives to create a user. */
export interface NewAccount {
  email: string;
  password: string;
  name?: string | null;
  role?: string;
}

/**
 * Who makes an account change, for the audit log: the actor (default: the user themselves for a sign-up, the
 * system for the rest) and the request's client details.
 */
export interface ChangedBy {
  actor?: AuditActor;
  meta?: SessionMeta;
}

/** Account administration that needs no session secret: used by sign-up, the CLI and admin pages. */
export interface Accounts {
  /**
   * Creates a user after the same checks as sign-up, with its `user.signup` event. Throws `InvalidInputError`
   * or `EmailTakenError`.
   */
  create(input: NewAccount, by?: ChangedBy): Promise<UserRecord>;
  /**
   * Changes a user's role and bumps their session version, so each of their sessions is rotated at its
   * next check; a change is recorded (`role.change`). `null` when no user has that email. Throws
   * `InvalidInputError` for an unknown role.
   */
  setRole(email: string, role: string, by?: ChangedBy): Promise<UserDTO | null>;
  list(): Promise<UserDTO[]>;
  /**
   * Removes every second factor and passkey of the user with this email, for one who is locked out; `null`
   * when no user has that email. Their password and sessions stay. Recorded as `admin.factors.reset` when
   * anything was removed.
   */
  resetSecondFactors(email: string, by?: ChangedBy): Promise<RemovedFactors | null>;
  /**
   * Ends every session of the user (both strategies), in one transaction with voiding their pending
   * email-change and password-reset links and with its `admin.sessions.revoke` event; resolves to how many
   * sessions ended.
   */
  revokeAllSessions(userId: string, by?: ChangedBy): Promise<number>;
}

const SYSTEM: AuditActor = { type: "system", id: null };

export function createAccounts(roles: Roles, config: CredentialConfig, hasher: PasswordHasher, audit: Audit): Accounts {
  const { users } = roles;
  function assertRole(role: string): void {
    if (!Object.hasOwn(config.roles, role)) {
      const message = `Unknown role. Use one of: ${Object.keys(config.roles).join(", ")}.`;
      throw new InvalidInputError({ role: { code: "unknown_role", message } });
    }
  }

  return {
    async create(input, by = {}) {
      await loadCommonPasswords();
      const { email, password, name } = parseSignUpInput(input, config.passwordPolicy);
      const role = input.role ?? config.defaultRole;
      assertRole(role);
      const id = randomToken(12);
      const signedUp = audit.event("user.signup", {
        user: { id, email },
        ...(by.actor && { actor: by.actor }),
        meta: by.meta ?? {},
        detail: { method: "password" },
      });
      const passwordHash = await hasher.hash(password);
      const user = await users.createUser({ id, email, name, role, passwordHash }, { effects: { events: [signedUp] } });
      audit.emit([signedUp]);
      return user;
    },
    async setRole(email, role, by = {}) {
      assertRole(role);
      const user = await users.getUserByEmail(normalizeEmail(email));
      if (!user) return null;
      // The same role is no change: nothing to write, nothing to record.
      if (user.role === role) return toUserDTO(user);
      const changed = audit.event("role.change", {
        user,
        actor: by.actor ?? SYSTEM,
        meta: by.meta ?? {},
        detail: { from: user.role, to: role },
      });
      const updated = await users.updateUser(user.id, { role }, { effects: { events: [changed] } });
      if (!updated) return null;
      audit.emit([changed]);
      await users.bumpSessionVersion(user.id);
      return toUserDTO(updated);
    },
    async list() {
      return (await users.listUsers()).map(toUserDTO);
    },
    async resetSecondFactors(email, by = {}) {
      const user = await users.getUserByEmail(normalizeEmail(email));
      if (!user) return null;
      const reset = audit.event("admin.factors.reset", { user, actor: by.actor ?? SYSTEM, meta: by.meta ?? {} });
      // Written only when something was removed: a reset of nothing is no change.
      const removed = await roles.factors.removeFactors(user.id, { effects: { events: [reset] } });
      if (removed.totp || removed.recoveryCodes > 0 || removed.passkeys > 0) audit.emit([reset]);
      return removed;
    },
    async revokeAllSessions(userId, by = {}) {
      const user = await users.getUserById(userId);
      if (!user) return 0;
      const revoked = audit.event("admin.sessions.revoke", { user, actor: by.actor ?? SYSTEM, meta: by.meta ?? {} });
      const ended = await endSessions(roles, userId, { effects: { events: [revoked] } });
      if (!ended) return 0;
      audit.emit([revoked]);
      return ended.ended;
    },
  };
}

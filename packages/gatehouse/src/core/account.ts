import { roleHasPermission } from "../authz/roles.js";
import { ReauthenticationRequiredError, UnauthenticatedError } from "../errors.js";
import type { RequestMeta } from "../session/types.js";
import type { RemovedFactors } from "../stores/types.js";
import type { Accounts, NewAccount } from "./accounts.js";
import type { CoreContext } from "./context.js";
import { type Auth, toUserDTO, type UserDTO } from "./dto.js";
import { type DeleteAccountInput, type ProfileInput, parseProfileInput } from "./input.js";
import type { PasswordCheck } from "./password-check.js";
import { deleteUser } from "./stores.js";

/** The signed-in user's own account, roles, and account administration. */
export interface AccountApi {
  /** Updates what a user may change about themselves: only `name`. Other fields (such as `role`) are ignored. */
  updateProfile(userId: string, input: ProfileInput): Promise<UserDTO>;
  /**
   * Deletes the signed-in user and every session. Needs `{ password }`, or a log-in within `freshAuthSeconds`:
   * else `ReauthenticationRequiredError`. Resolves to the `Set-Cookie` that clears the session cookie.
   */
  deleteAccount(auth: Auth, input?: DeleteAccountInput, meta?: RequestMeta): Promise<string>;
  /**
   * Whether `user`'s role grants `permission`.
   *
   * @example
   * ```ts
   * if (!gatehouse.can(user, "users:read")) return res.status(403).end();
   * ```
   */
  can(user: Pick<UserDTO, "role">, permission: string): boolean;
  /** Account administration, as used by the CLI and admin pages. */
  users: {
    create(input: NewAccount): Promise<UserDTO>;
    setRole(email: string, role: string): Promise<UserDTO | null>;
    list(): Promise<UserDTO[]>;
    /** Removes every second factor and passkey of a locked-out user (`null`: no such email). */
    resetSecondFactors(email: string): Promise<RemovedFactors | null>;
  };
}

export function createAccountApi(ctx: CoreContext, check: PasswordCheck, accounts: Accounts): AccountApi {
  const { roles, config, sessions, now } = ctx;
  return {
    async updateProfile(userId, input) {
      const updated = await roles.users.updateUser(userId, parseProfileInput(input));
      if (!updated) throw new UnauthenticatedError();
      return toUserDTO(updated);
    },

    async deleteAccount(auth, input = {}, meta = {}) {
      const { session, user } = await check.current(auth);
      const { password } = input;
      if (password !== undefined) await check.confirm(user, password, "password", meta);
      // The session's own creation time, as the store has it: not one the caller could have made up.
      else if (now() - session.createdAt.getTime() > config.freshAuthSeconds * 1000) {
        throw new ReauthenticationRequiredError();
      }
      await deleteUser(roles, user.id);
      return sessions.cookie.clear();
    },

    can: (user, permission) => roleHasPermission(config.roles, user.role, permission),

    users: {
      create: async (input) => toUserDTO(await accounts.create(input)),
      setRole: accounts.setRole,
      list: accounts.list,
      resetSecondFactors: accounts.resetSecondFactors,
    },
  };
}

import { randomToken } from "../crypto/random.js";
import { InvalidInputError } from "../errors.js";
import { loadCommonPasswords } from "../password/common.js";
import type { PasswordHasher } from "../password/hasher.js";
import type { RemovedFactors, UserRecord } from "../stores/types.js";
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

/** Account administration that needs no session secret: used by sign-up, the CLI and admin pages. */
export interface Accounts {
  /** Creates a user after the same checks as sign-up. Throws `InvalidInputError` or `EmailTakenError`. */
  create(input: NewAccount): Promise<UserRecord>;
  /**
   * Changes a user's role and bumps their session version, so each of their sessions is rotated at its
   * next check. `null` when no user has that email. Throws `InvalidInputError` for an unknown role.
   */
  setRole(email: string, role: string): Promise<UserDTO | null>;
  list(): Promise<UserDTO[]>;
  /**
   * Removes every second factor and passkey of the user with this email, for one who is locked out; `null`
   * when no user has that email. Their password and sessions stay.
   */
  resetSecondFactors(email: string): Promise<RemovedFactors | null>;
  /**
   * Ends every session of the user (both strategies), in one transaction with voiding their pending
   * email-change and password-reset links; resolves to how many sessions ended.
   */
  revokeAllSessions(userId: string): Promise<number>;
}

export function createAccounts(roles: Roles, config: CredentialConfig, hasher: PasswordHasher): Accounts {
  const { users } = roles;
  function assertRole(role: string): void {
    if (!Object.hasOwn(config.roles, role)) {
      const message = `Unknown role. Use one of: ${Object.keys(config.roles).join(", ")}.`;
      throw new InvalidInputError({ role: { code: "unknown_role", message } });
    }
  }

  return {
    async create(input) {
      await loadCommonPasswords();
      const { email, password, name } = parseSignUpInput(input, config.passwordPolicy);
      const role = input.role ?? config.defaultRole;
      assertRole(role);
      return users.createUser({ id: randomToken(12), email, name, role, passwordHash: await hasher.hash(password) });
    },
    async setRole(email, role) {
      assertRole(role);
      const user = await users.getUserByEmail(normalizeEmail(email));
      if (!user) return null;
      const updated = await users.updateUser(user.id, { role });
      if (!updated) return null;
      if (updated.role !== user.role) await users.bumpSessionVersion(user.id);
      return toUserDTO(updated);
    },
    async list() {
      return (await users.listUsers()).map(toUserDTO);
    },
    async resetSecondFactors(email) {
      const user = await users.getUserByEmail(normalizeEmail(email));
      return user && roles.factors.removeFactors(user.id);
    },
    revokeAllSessions: async (userId) => (await endSessions(roles, userId))?.ended ?? 0,
  };
}

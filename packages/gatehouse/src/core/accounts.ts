import { randomToken } from "../crypto/random.js";
import { InvalidInputError } from "../errors.js";
import type { PasswordHasher } from "../password/hasher.js";
import type { Store, UserRecord } from "../store/types.js";
import type { CredentialConfig } from "./config.js";
import { toUserDTO, type UserDTO } from "./dto.js";
import { normalizeEmail } from "./email.js";
import { parseSignUpInput } from "./input.js";

/** Account administration that needs no session secret: used by sign-up, the CLI and admin pages. */
export interface Accounts {
  /** Creates a user after the same checks as sign-up. Throws `InvalidInputError` or `EmailTakenError`. */
  create(input: { email: string; password: string; name?: string | null; role?: string }): Promise<UserRecord>;
  /**
   * Changes a user's role and bumps their session version, so each of their sessions is rotated at its
   * next check. `null` when no user has that email. Throws `InvalidInputError` for an unknown role.
   */
  setRole(email: string, role: string): Promise<UserDTO | null>;
  list(): Promise<UserDTO[]>;
  /**
   * Ends every session of the user (both strategies), in one transaction with voiding their pending
   * email-change and password-reset links; resolves to how many sessions ended.
   */
  revokeAllSessions(userId: string): Promise<number>;
}

export function createAccounts(store: Store, config: CredentialConfig, hasher: PasswordHasher): Accounts {
  function assertRole(role: string): void {
    if (!Object.hasOwn(config.roles, role)) {
      throw new InvalidInputError({ role: `Unknown role. Use one of: ${Object.keys(config.roles).join(", ")}.` });
    }
  }

  return {
    async create(input) {
      const { email, password, name } = parseSignUpInput(input, config.passwordPolicy);
      const role = input.role ?? config.defaultRole;
      assertRole(role);
      return store.createUser({ id: randomToken(12), email, name, role, passwordHash: await hasher.hash(password) });
    },
    async setRole(email, role) {
      assertRole(role);
      const user = await store.getUserByEmail(normalizeEmail(email));
      if (!user) return null;
      const updated = await store.updateUser(user.id, { role });
      if (!updated) return null;
      if (updated.role !== user.role) await store.bumpSessionVersion(user.id);
      return toUserDTO(updated);
    },
    async list() {
      return (await store.listUsers()).map(toUserDTO);
    },
    // A pending email change or reset link could hand the account back to whoever was just shut out:
    // endSessions voids them too.
    revokeAllSessions: async (userId) => (await store.endSessions(userId))?.ended ?? 0,
  };
}

import type { SessionInfo } from "../session/types.js";
import type { UserRecord } from "../stores/types.js";

/** What a client may see of a user. Never carries the password hash, a token or the session version. */
export interface UserDTO {
  id: string;
  email: string;
  name: string | null;
  role: string;
  /** Whether the user has proved they receive mail at `email`. */
  emailVerified: boolean;
}

/** Who is signed in: the user and their session, as the secure check found them. */
export interface Auth {
  user: UserDTO;
  session: SessionInfo;
}

/** Copies only the public fields of a user, so new secret columns can never leak by accident. */
export function toUserDTO(user: UserRecord): UserDTO {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    emailVerified: user.emailVerifiedAt !== null,
  };
}

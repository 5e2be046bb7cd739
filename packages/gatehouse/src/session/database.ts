import { constantTimeEqual, sha256Hex } from "../crypto/digest.js";
import { randomToken } from "../crypto/random.js";
import { parseSessionToken } from "./token.js";
import type { SessionCodec } from "./types.js";

/** 24 random bytes (192 bits): only its SHA-256 is stored. */
const SECRET_BYTES = 24;

/** Database sessions: the cookie is an opaque `id.secret`; the store keeps SHA-256(secret). */
export function createDatabaseCodec(): SessionCodec {
  return {
    async issue(session) {
      const secret = randomToken(SECRET_BYTES);
      return { value: `${session.id}.${secret}`, secretHash: sha256Hex(secret) };
    },
    async reissue(_session, previousValue) {
      return previousValue;
    },
    async parse(value) {
      const token = parseSessionToken(value);
      if (!token) return null;
      return {
        id: token.id,
        expired: false,
        matches: (session) => constantTimeEqual(sha256Hex(token.secret), session.secretHash),
      };
    },
  };
}

import type { SessionCookieConfig } from "../core/config.js";
import { constantTimeEqual, sha256Hex } from "../crypto/digest.js";
import type { Store } from "../store/types.js";
import { generateSessionToken, parseSessionToken } from "./token.js";
import { type SessionStrategy, slideExpiry } from "./types.js";

/** Opaque `id.secret` tokens; the store keeps SHA-256(secret) and the expiry. */
export function createDatabaseStrategy(store: Store, config: SessionCookieConfig): SessionStrategy {
  const maxAgeMs = config.maxAgeSeconds * 1000;
  const absoluteMaxAgeMs = config.absoluteMaxAgeSeconds * 1000;
  return {
    async create(user, meta) {
      const token = generateSessionToken();
      const now = config.now();
      const expiresAt = new Date(now + maxAgeMs);
      await store.createSession({
        id: token.id,
        userId: user.id,
        secretHash: sha256Hex(token.secret),
        createdAt: new Date(now),
        expiresAt,
        userAgent: meta.userAgent?.slice(0, 512) ?? null,
        ip: meta.ip?.slice(0, 64) ?? null,
      });
      return { value: token.value, expiresAt };
    },

    async validate(value) {
      const token = parseSessionToken(value);
      if (!token) return null;
      const found = await store.getSessionAndUser(token.id);
      if (!found || !constantTimeEqual(sha256Hex(token.secret), found.session.secretHash)) return null;
      const { session, user } = found;
      const now = config.now();
      const createdAt = session.createdAt.getTime();
      if (session.expiresAt.getTime() <= now || createdAt + absoluteMaxAgeMs <= now) {
        await store.deleteSession(session.id);
        return null;
      }
      const extended = slideExpiry(createdAt, session.expiresAt.getTime(), now, maxAgeMs, absoluteMaxAgeMs);
      let expiresAt = session.expiresAt;
      if (extended !== null) {
        expiresAt = new Date(extended);
        await store.updateSessionExpiry(session.id, expiresAt);
      }
      return {
        user,
        session: { id: session.id, strategy: "database", createdAt: session.createdAt, expiresAt },
        renewed: extended === null ? null : { value, expiresAt },
      };
    },

    async revoke(value) {
      const token = parseSessionToken(value);
      if (!token) return;
      const found = await store.getSessionAndUser(token.id);
      if (found && constantTimeEqual(sha256Hex(token.secret), found.session.secretHash)) {
        await store.deleteSession(token.id);
      }
    },
  };
}

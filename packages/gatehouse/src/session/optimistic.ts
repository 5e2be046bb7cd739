import { createSealer } from "../crypto/seal.js";
import { resolveSessionConfig, type SessionCookieOptions } from "./config.js";
import { createStatelessOpener, openStatelessSession, SESSION_SEAL_PURPOSE } from "./stateless.js";
import { parseSessionToken } from "./token.js";

/** What the optimistic check can tell from the cookie alone. */
export interface OptimisticSession {
  /** The session's id. */
  sessionId: string;
  /** The user's id; only a stateless cookie carries it (`null` for a database token). */
  userId: string | null;
  /** When the cookie says the session ends; only a stateless cookie carries it. */
  expiresAt: Date | null;
}

/**
 * The database-free session check: a stateless cookie is opened (AES-256-GCM) and its expiry checked; a
 * database token's shape is checked. It is a fast first filter (redirects, UI hints), never the security
 * boundary: a revoked session still passes it until its cookie expires. Keys are derived here, once.
 *
 * @example
 * ```ts
 * const peek = createOptimisticCheck({ secret: process.env.GATEHOUSE_SECRET!, strategy: "stateless" });
 * const session = await peek(cookieValue); // null when signed out
 * ```
 */
export function createOptimisticCheck(
  options: SessionCookieOptions,
): (cookieValue: string | null | undefined) => Promise<OptimisticSession | null> {
  const config = resolveSessionConfig(options);
  if (config.strategy === "stateless") {
    const open = createStatelessOpener(createSealer(config.secrets, SESSION_SEAL_PURPOSE));
    return async (value) => {
      if (!value) return null;
      const payload = await openStatelessSession(open, config, value);
      return payload && { sessionId: payload.s, userId: payload.u, expiresAt: new Date(payload.e * 1000) };
    };
  }
  return async (value) => {
    const token = value ? parseSessionToken(value) : null;
    return token && { sessionId: token.id, userId: null, expiresAt: null };
  };
}

import type { SessionCookieConfig } from "../core/config.js";
import { createSealer, type Sealer } from "../crypto/seal.js";
import type { Store } from "../store/types.js";
import { type SessionStrategy, slideExpiry } from "./types.js";

/** What a stateless session cookie carries, sealed: user id, session version, created and expiry (seconds). */
export interface StatelessPayload {
  u: string;
  v: number;
  c: number;
  e: number;
}

/** The purpose the session key is derived for; other tokens use other purposes and so other keys. */
export const SESSION_SEAL_PURPOSE = "session";

/** Checks the shape of an opened payload; anything else is treated as no session. */
export function asStatelessPayload(value: unknown): StatelessPayload | null {
  if (typeof value !== "object" || value === null) return null;
  const { u, v, c, e } = value as Record<string, unknown>;
  if (typeof u !== "string" || u.length === 0 || u.length > 64) return null;
  if (!Number.isSafeInteger(v) || !Number.isSafeInteger(c) || !Number.isSafeInteger(e)) return null;
  return { u, v: v as number, c: c as number, e: e as number };
}

/** Opens a stateless cookie and checks its expiry and absolute cap; no store access. */
export async function openStatelessSession(
  sealer: Sealer,
  config: SessionCookieConfig,
  value: string,
): Promise<StatelessPayload | null> {
  const payload = asStatelessPayload(await sealer.open(value));
  if (!payload) return null;
  const now = config.now();
  if (payload.e * 1000 <= now || (payload.c + config.absoluteMaxAgeSeconds) * 1000 <= now) return null;
  return payload;
}

/**
 * An AES-256-GCM sealed cookie. The secure check still reads the user by id, which gives the current role
 * and lets a bump of the user's session version (log-out, revoke-all) kill every such cookie at once.
 */
export function createStatelessStrategy(store: Store, config: SessionCookieConfig, sealer: Sealer): SessionStrategy {
  const maxAgeMs = config.maxAgeSeconds * 1000;
  const absoluteMaxAgeMs = config.absoluteMaxAgeSeconds * 1000;
  return {
    async create(user) {
      const now = config.now();
      const created = Math.floor(now / 1000);
      const expires = created + config.maxAgeSeconds;
      const payload: StatelessPayload = { u: user.id, v: user.sessionVersion, c: created, e: expires };
      return { value: await sealer.seal(payload), expiresAt: new Date(expires * 1000) };
    },

    async validate(value) {
      const payload = await openStatelessSession(sealer, config, value);
      if (!payload) return null;
      const user = await store.getUserById(payload.u);
      if (!user || user.sessionVersion !== payload.v) return null;
      const now = config.now();
      const createdAt = new Date(payload.c * 1000);
      const extended = slideExpiry(payload.c * 1000, payload.e * 1000, now, maxAgeMs, absoluteMaxAgeMs);
      if (extended === null) {
        return {
          user,
          session: { id: null, strategy: "stateless", createdAt, expiresAt: new Date(payload.e * 1000) },
          renewed: null,
        };
      }
      const e = Math.floor(extended / 1000);
      const expiresAt = new Date(e * 1000);
      return {
        user,
        session: { id: null, strategy: "stateless", createdAt, expiresAt },
        renewed: { value: await sealer.seal({ ...payload, e }), expiresAt },
      };
    },

    async revoke(value) {
      const payload = await openStatelessSession(sealer, config, value);
      if (payload) await store.bumpSessionVersion(payload.u);
    },
  };
}

import type { SessionCookieConfig } from "../core/config.js";
import { createSealer, type Sealer } from "../crypto/seal.js";
import { randomToken } from "../crypto/random.js";
import type { Store } from "../store/types.js";
import { type SessionStrategy, slideExpiry } from "./types.js";

/**
 * What a stateless session cookie carries, sealed: session id, user id, the user's session version, and
 * created and expiry times in seconds.
 */
export interface StatelessPayload {
  s: string;
  u: string;
  v: number;
  c: number;
  e: number;
}

const ID_BYTES = 12;
/** Stateless session records hold no secret: the sealed cookie is the proof. No SHA-256 hex equals this. */
const NO_SECRET = "";

/** The purpose the session key is derived for; other tokens use other purposes and so other keys. */
export const SESSION_SEAL_PURPOSE = "session";

/** Checks the shape of an opened payload; anything else is treated as no session. */
export function asStatelessPayload(value: unknown): StatelessPayload | null {
  if (typeof value !== "object" || value === null) return null;
  const { s, u, v, c, e } = value as Record<string, unknown>;
  if (typeof s !== "string" || s.length === 0 || s.length > 64) return null;
  if (typeof u !== "string" || u.length === 0 || u.length > 64) return null;
  if (!Number.isSafeInteger(v) || !Number.isSafeInteger(c) || !Number.isSafeInteger(e)) return null;
  return { s, u, v: v as number, c: c as number, e: e as number };
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
 * An AES-256-GCM sealed cookie that the proxy can check without the store. The store still keeps a record
 * of each session (no secret in it), so the secure check can revoke one session (log-out), list them, and
 * compare the user's session version, which revoke-all bumps; it also reads the current role.
 */
export function createStatelessStrategy(store: Store, config: SessionCookieConfig, sealer: Sealer): SessionStrategy {
  const maxAgeMs = config.maxAgeSeconds * 1000;
  const absoluteMaxAgeMs = config.absoluteMaxAgeSeconds * 1000;
  return {
    async create(user, meta) {
      const id = randomToken(ID_BYTES);
      const created = Math.floor(config.now() / 1000);
      const expires = created + config.maxAgeSeconds;
      const expiresAt = new Date(expires * 1000);
      await store.createSession({
        id,
        userId: user.id,
        secretHash: NO_SECRET,
        createdAt: new Date(created * 1000),
        expiresAt,
        userAgent: meta.userAgent?.slice(0, 512) ?? null,
        ip: meta.ip?.slice(0, 64) ?? null,
      });
      const payload: StatelessPayload = { s: id, u: user.id, v: user.sessionVersion, c: created, e: expires };
      return { value: await sealer.seal(payload), expiresAt };
    },

    async validate(value) {
      const payload = await openStatelessSession(sealer, config, value);
      if (!payload) return null;
      const found = await store.getSessionAndUser(payload.s);
      if (!found || found.user.id !== payload.u || found.user.sessionVersion !== payload.v) return null;
      const { user } = found;
      const createdAt = new Date(payload.c * 1000);
      const extended = slideExpiry(payload.c * 1000, payload.e * 1000, config.now(), maxAgeMs, absoluteMaxAgeMs);
      if (extended === null) {
        const session = { id: payload.s, strategy: "stateless" as const, createdAt, expiresAt: new Date(payload.e * 1000) };
        return { user, session, renewed: null };
      }
      const e = Math.floor(extended / 1000);
      const expiresAt = new Date(e * 1000);
      await store.updateSessionExpiry(payload.s, expiresAt);
      return {
        user,
        session: { id: payload.s, strategy: "stateless", createdAt, expiresAt },
        renewed: { value: await sealer.seal({ ...payload, e }), expiresAt },
      };
    },

    async revoke(value) {
      const payload = await openStatelessSession(sealer, config, value);
      if (payload) await store.deleteSession(payload.s);
    },
  };
}

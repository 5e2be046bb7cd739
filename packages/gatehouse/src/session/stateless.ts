import type { Sealer } from "../crypto/seal.js";
import type { SessionCookieConfig } from "./config.js";
import type { SessionCodec } from "./types.js";

/** What a stateless session cookie carries, sealed: session id, user id, created and expiry times in seconds. */
export interface StatelessPayload {
  s: string;
  u: string;
  c: number;
  e: number;
}

/** The purpose the session key is derived for; other tokens use other purposes and so other keys. */
export const SESSION_SEAL_PURPOSE = "session";

/** Stateless session records hold no secret: the sealed cookie is the proof. No SHA-256 hex equals this. */
const NO_SECRET = "";

/** Checks the shape of an opened payload; anything else is treated as no session. */
export function asStatelessPayload(value: unknown): StatelessPayload | null {
  if (typeof value !== "object" || value === null) return null;
  const { s, u, c, e } = value as Record<string, unknown>;
  if (typeof s !== "string" || s.length === 0 || s.length > 64) return null;
  if (typeof u !== "string" || u.length === 0 || u.length > 64) return null;
  if (!Number.isSafeInteger(c) || !Number.isSafeInteger(e)) return null;
  return { s, u, c: c as number, e: e as number };
}

function isExpired(payload: StatelessPayload, config: SessionCookieConfig): boolean {
  const now = config.now();
  return payload.e * 1000 <= now || (payload.c + config.absoluteMaxAgeSeconds) * 1000 <= now;
}

/** How many opened cookies a process remembers. A cookie is a few hundred bytes: at most a few hundred KB. */
const OPENED_CACHE_SIZE = 1024;

/**
 * Opens sealed session cookies, remembering the last {@link OPENED_CACHE_SIZE} it opened: a signed-in user
 * sends the same cookie on every request, and decrypting it again would give the same payload. Only
 * genuine cookies are remembered (a forged one costs a decryption every time and is never stored), and
 * expiry is checked by the caller on every call, cached or not.
 */
export function createStatelessOpener(sealer: Sealer): (value: string) => Promise<StatelessPayload | null> {
  const opened = new Map<string, StatelessPayload>();
  return async (value) => {
    const cached = opened.get(value);
    if (cached) return cached;
    const payload = asStatelessPayload(await sealer.open(value));
    if (payload) {
      if (opened.size >= OPENED_CACHE_SIZE) opened.delete(opened.keys().next().value as string);
      opened.set(value, Object.freeze(payload));
    }
    return payload;
  };
}

/** Opens a stateless cookie and checks its expiry and absolute cap; no store access. */
export async function openStatelessSession(
  open: (value: string) => Promise<StatelessPayload | null>,
  config: SessionCookieConfig,
  value: string,
): Promise<StatelessPayload | null> {
  const payload = await open(value);
  return payload && !isExpired(payload, config) ? payload : null;
}

/**
 * Stateless sessions: an AES-256-GCM sealed cookie that the proxy can check without the store. The store
 * still keeps a record of each session (without any secret), so the secure check can end one session
 * (log-out), list them, and see the current role and session version.
 */
export function createStatelessCodec(sealer: Sealer, config: SessionCookieConfig): SessionCodec {
  const open = createStatelessOpener(sealer);
  const seal = (session: { id: string; userId: string; createdAt: Date; expiresAt: Date }) =>
    sealer.seal({
      s: session.id,
      u: session.userId,
      c: Math.floor(session.createdAt.getTime() / 1000),
      e: Math.floor(session.expiresAt.getTime() / 1000),
    } satisfies StatelessPayload);
  return {
    async issue(session) {
      return { value: await seal(session), secretHash: NO_SECRET };
    },
    reissue: (session) => seal(session),
    async parse(value) {
      const payload = await open(value);
      if (!payload) return null;
      // An expired cookie still names its record, so the manager can delete it.
      return { id: payload.s, expired: isExpired(payload, config), matches: (session) => session.userId === payload.u };
    },
  };
}

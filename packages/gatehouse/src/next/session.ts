import type { IncomingMessage, ServerResponse } from "node:http";
import { toUserDTO, type UserDTO } from "../core/dto.js";
import type { Gatehouse } from "../core/gatehouse.js";
import type { SessionInfo } from "../session/types.js";
import { appendSetCookie, headerOf } from "./node-http.js";
import { type GatehouseSource, resolveGatehouse } from "./source.js";

/** The signed-in user and their session, as the secure check found them. */
export interface Auth {
  user: UserDTO;
  session: SessionInfo;
}

/** The session as a page or the client may see it (JSON-serialisable), the same shape as `GET /api/auth/session`. */
export type ClientSession = SignedInSession | { user: null };

/** A {@link ClientSession} with a user. */
export type SignedInSession = { user: UserDTO; session: { expiresAt: string } };

const memo = new WeakMap<IncomingMessage, Promise<Auth | null>>();

/**
 * The secure, authoritative session check of the data access layer, memoized per request: call it from
 * as many places as you like while handling one request and the store is asked once. Pass `res` so that a
 * session that slides forward gets its cookie re-sent and a dead cookie gets cleared.
 *
 * Rejects with `StoreUnavailableError` when the store is down; it never resolves to a user then.
 *
 * @example
 * ```ts
 * const auth = await verifySession(gatehouse, req, res);
 * if (!auth) return res.status(401).end();
 * ```
 */
export function verifySession(
  gatehouse: GatehouseSource,
  req: IncomingMessage,
  res?: ServerResponse,
): Promise<Auth | null> {
  let pending = memo.get(req);
  if (!pending) {
    pending = check(resolveGatehouse(gatehouse), req, res);
    memo.set(req, pending);
  }
  return pending;
}

async function check(
  gatehouse: Gatehouse,
  req: IncomingMessage,
  res: ServerResponse | undefined,
): Promise<Auth | null> {
  const value = gatehouse.cookie.read(headerOf(req, "cookie"));
  if (!value) return null;
  const valid = await gatehouse.validateSession(value, { rotate: res !== undefined && !res.headersSent });
  if (!valid) {
    if (res && !res.headersSent) appendSetCookie(res, [gatehouse.cookie.clear()]);
    return null;
  }
  if (valid.renewed && res && !res.headersSent) {
    appendSetCookie(res, [gatehouse.cookie.serialize(valid.renewed.value, valid.renewed.expiresAt)]);
  }
  return { user: toUserDTO(valid.user), session: valid.session };
}

/** Turns an {@link Auth} (or its absence) into the serialisable {@link ClientSession}. */
export function toClientSession(auth: Auth): SignedInSession;
export function toClientSession(auth: Auth | null): ClientSession;
export function toClientSession(auth: Auth | null): ClientSession {
  return auth ? { user: auth.user, session: { expiresAt: auth.session.expiresAt.toISOString() } } : { user: null };
}

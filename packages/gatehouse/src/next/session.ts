import type { IncomingMessage, ServerResponse } from "node:http";
import type { Auth, UserDTO } from "../core/dto.js";
import type { Gatehouse } from "../core/gatehouse.js";
import { appendSetCookie, headerOf } from "./node-http.js";
import { type GatehouseSource, resolveGatehouse } from "./source.js";

export type { Auth } from "../core/dto.js";

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
  const canSetCookie = res !== undefined && !res.headersSent;
  const { auth, setCookie } = await checkCookie(gatehouse, headerOf(req, "cookie"), canSetCookie);
  if (setCookie && res && !res.headersSent) appendSetCookie(res, [setCookie]);
  return auth;
}

/**
 * The secure check of one `Cookie` header, as every adapter makes it: the {@link Auth} or `null`, and the
 * `Set-Cookie` to send with the answer (a renewed session, or the clearing of a dead one) — only ever when
 * `canSetCookie`, since only then may the session be renewed or rotated.
 */
export async function checkCookie(
  gatehouse: Gatehouse,
  cookieHeader: string | null | undefined,
  canSetCookie: boolean,
): Promise<{ auth: Auth | null; setCookie: string | null }> {
  const found = await gatehouse.authenticate(cookieHeader || null, { canSetCookie });
  return { auth: found.user && { user: found.user, session: found.session }, setCookie: found.setCookie };
}

/**
 * Turns an {@link Auth} (or its absence) into the serialisable {@link ClientSession}.
 *
 * @example
 * ```ts
 * return { props: { session: toClientSession(await verifySession(gatehouse, req, res)) } };
 * ```
 */
export function toClientSession(auth: Auth): SignedInSession;
export function toClientSession(auth: Auth | null): ClientSession;
export function toClientSession(auth: Auth | null): ClientSession {
  return auth ? { user: auth.user, session: { expiresAt: auth.session.expiresAt.toISOString() } } : { user: null };
}

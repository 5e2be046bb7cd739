import { decodeBase64url, encodeBase64url } from "../crypto/base64url.js";
import { InvalidInputError } from "../errors.js";
import type { AuditEvent } from "../stores/types.js";

/** A page of the log is at most this long, and this long by default. */
export const MAX_EVENT_PAGE = 100;
export const DEFAULT_EVENT_PAGE = 20;

/** What a cursor holds: the time (ms) and id of the last event of the page before. */
const CURSOR = /^(\d{1,15})\.([A-Za-z0-9_-]{1,64})$/;
/** No cursor this module makes is longer; a longer one is refused before it is decoded. */
const MAX_CURSOR_LENGTH = 120;

/** The cursor of the page after `event`: opaque to clients (base64url), so its format may change. */
export function encodeEventCursor(event: Pick<AuditEvent, "at" | "id">): string {
  return encodeBase64url(new TextEncoder().encode(`${event.at.getTime()}.${event.id}`));
}

/** The position a cursor names; `InvalidInputError` (fields.cursor) for anything this module did not make. */
export function decodeEventCursor(cursor: string): { at: Date; id: string } {
  const bytes = cursor.length <= MAX_CURSOR_LENGTH ? decodeBase64url(cursor) : null;
  const match = bytes && CURSOR.exec(new TextDecoder("utf-8", { fatal: false }).decode(bytes));
  if (!match) {
    throw new InvalidInputError({
      cursor: { code: "invalid", message: "The cursor is not one a page of events gave." },
    });
  }
  return { at: new Date(Number(match[1])), id: match[2] as string };
}

/** A page size from a caller: a whole number from 1 to {@link MAX_EVENT_PAGE}; `undefined` is the default. */
export function eventPageSize(limit: unknown): number {
  if (limit === undefined) return DEFAULT_EVENT_PAGE;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > MAX_EVENT_PAGE) {
    throw new InvalidInputError({
      limit: { code: "invalid_format", message: `The limit is a whole number from 1 to ${MAX_EVENT_PAGE}.` },
    });
  }
  return limit;
}

import { CsrfError, PayloadTooLargeError } from "../errors.js";
import { type ParsedBody, parseBody } from "./body.js";
import { isSameOriginRequest, isStateChanging } from "./origin.js";

/** Credentials never need more; anything larger is refused before it is parsed. */
export const MAX_BODY_BYTES = 16 * 1024;

/** What the guards read of a request, whatever the framework. */
export interface GuardedRequest {
  method: string;
  header(name: string): string | undefined;
  /** The body as text; rejects with `PayloadTooLargeError` past `limit` bytes. */
  readBody(limit: number): Promise<string>;
}

/** CSRF: a state-changing request must come from one of `origins` (`CsrfError`, 403). Safe methods pass. */
export function assertSameOrigin(
  request: Pick<GuardedRequest, "method" | "header">,
  origins: ReadonlySet<string>,
): void {
  if (isStateChanging(request.method) && !isSameOriginRequest((name) => request.header(name), origins)) {
    throw new CsrfError();
  }
}

/**
 * Reads and parses the body within `limit` bytes: a declared `Content-Length` over it is refused before
 * anything is read (413), then JSON — or an HTML form where `acceptForm` — or nothing (415 otherwise, 400
 * `invalid_json` for malformed JSON).
 */
export async function readRequestBody(
  request: GuardedRequest,
  options: { acceptForm?: boolean; limit?: number } = {},
): Promise<ParsedBody> {
  const limit = options.limit ?? MAX_BODY_BYTES;
  const length = Number(request.header("content-length"));
  if (Number.isFinite(length) && length > limit) throw new PayloadTooLargeError(limit);
  return parseBody(await request.readBody(limit), request.header("content-type"), options.acceptForm ?? false);
}

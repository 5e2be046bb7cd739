import { isIP } from "node:net";
import { PayloadTooLargeError } from "../errors.js";
import type { HttpResponse } from "../http/response.js";

/**
 * A header of a web `Request` (`undefined` when absent), as the framework-neutral guards read headers.
 *
 * @example
 * ```ts
 * assertSameOrigin({ method: request.method, header: headerReader(request.headers) }, origins);
 * ```
 */
export function headerReader(headers: Headers): (name: string) => string | undefined {
  return (name) => headers.get(name) ?? undefined;
}

/**
 * The client's address as a Route Handler can know it. A web `Request` carries no socket, and `next start`
 * fills `X-Forwarded-For` with the socket's address only when the client sent none, so the header is only
 * believed behind `trustedProxies` reverse proxies that each append to it — the entry the outermost trusted
 * proxy wrote, as `clientIp` does for the Pages Router. Otherwise `null` (per-address limits do not apply).
 *
 * @example
 * ```ts
 * const ip = webClientIp(request.headers, gatehouse.trustedProxies);
 * ```
 */
export function webClientIp(headers: Headers, trustedProxies: number): string | null {
  if (trustedProxies === 0) return null;
  const chain = (headers.get("x-forwarded-for") ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  const forwarded = chain[chain.length - trustedProxies];
  return forwarded !== undefined && isIP(forwarded) !== 0 ? forwarded : null;
}

/**
 * Reads a web `Request`'s body as UTF-8, refusing it (`PayloadTooLargeError`) once it passes `limit` bytes:
 * the stream is cancelled there rather than read to its end.
 *
 * @example
 * ```ts
 * const text = await readWebBody(request, 16 * 1024);
 * ```
 */
export async function readWebBody(request: Request, limit: number): Promise<string> {
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new PayloadTooLargeError(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * A framework-neutral response as a web `Response`; each `Set-Cookie` stays a header of its own.
 *
 * @example
 * ```ts
 * return toWebResponse(jsonResponse(200, { ok: true }));
 * ```
 */
export function toWebResponse(response: HttpResponse): Response {
  const headers = new Headers();
  for (const [name, value] of response.headers) headers.append(name, value);
  return new Response(response.body, { status: response.status, headers });
}

import { InvalidJsonError, PayloadTooLargeError, UnsupportedMediaTypeError } from "gatehouse-auth";

/** As much as the auth API reads of a body. */
const MAX_BODY_BYTES = 16 * 1024;

/**
 * A Route Handler's JSON body (`undefined` when empty), refused as `readJsonBody` refuses an API route's:
 * 415 unless it is JSON, 413 past 16 KiB, 400 `invalid_json`. `withRouteAuth` answers each as JSON.
 */
export async function readJson(request: Request): Promise<unknown> {
  const type = request.headers.get("content-type")?.split(";", 1)[0]?.trim().toLowerCase();
  if (type !== "application/json") throw new UnsupportedMediaTypeError(["application/json"]);
  if (Number(request.headers.get("content-length")) > MAX_BODY_BYTES) throw new PayloadTooLargeError(MAX_BODY_BYTES);
  const text = await readUpTo(request, MAX_BODY_BYTES);
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidJsonError();
  }
}

/** The body as text, read up to `limit` only: one without Content-Length is cut off there, not buffered whole. */
async function readUpTo(request: Request, limit: number): Promise<string> {
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks).toString("utf8");
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new PayloadTooLargeError(limit);
    }
    chunks.push(value);
  }
}

/** 405 with `Allow`, as the Pages Router app's API routes answer a method they do not take. */
export function methodNotAllowed(allow: readonly string[]): Response {
  const list = allow.join(" or ");
  return Response.json(
    { error: { code: "method_not_allowed", message: `Use ${list}.` } },
    { status: 405, headers: { Allow: allow.join(", ") } },
  );
}

import type { IncomingMessage, ServerResponse } from "node:http";
import { isIP } from "node:net";
import { PayloadTooLargeError } from "../errors.js";
import type { HttpResponse } from "../http/response.js";

/** A header of a Node request as one string (joined when repeated). */
export function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

/**
 * The client's address: the socket's, or — behind `trustedProxies` reverse proxies that each append to
 * `X-Forwarded-For` — the address the outermost trusted proxy saw. Entries a client wrote itself are never used.
 */
export function clientIp(req: IncomingMessage, trustedProxies: number): string | null {
  const socketAddress = req.socket?.remoteAddress ?? null;
  if (trustedProxies === 0) return socketAddress;
  const chain = (headerOf(req, "x-forwarded-for") ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  const forwarded = chain[chain.length - trustedProxies];
  // Only a real address counts: anything else is a client's invention (or a misconfigured proxy count).
  return forwarded !== undefined && isIP(forwarded) !== 0 ? forwarded : socketAddress;
}

/** Reads the request body as UTF-8, refusing it once it passes `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const preParsed = (req as { body?: unknown }).body;
  if (preParsed !== undefined) {
    // Next's body parser already consumed the stream; fall back to what it parsed.
    const text = typeof preParsed === "string" ? preParsed : JSON.stringify(preParsed);
    return text.length > limit ? Promise.reject(new PayloadTooLargeError(limit)) : Promise.resolve(text);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off("data", onData);
        req.resume();
        reject(new PayloadTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.once("error", reject);
  });
}

/** Appends `Set-Cookie` values to whatever the response already carries. */
export function appendSetCookie(res: ServerResponse, cookies: readonly string[]): void {
  if (cookies.length === 0) return;
  const existing = res.getHeader("Set-Cookie");
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  res.setHeader("Set-Cookie", [...list, ...cookies]);
}

/** Writes a framework-neutral response to a Node response. */
export function sendHttpResponse(res: ServerResponse, response: HttpResponse): void {
  res.statusCode = response.status;
  const cookies: string[] = [];
  for (const [name, value] of response.headers) {
    if (name.toLowerCase() === "set-cookie") cookies.push(value);
    else res.setHeader(name, value);
  }
  appendSetCookie(res, cookies);
  res.end(response.body ?? undefined);
}

import type { IncomingMessage } from "node:http";
import { readEnv } from "./env";

/**
 * Whether the request comes straight from this machine: a loopback socket and no proxy in between. The
 * server may listen on every interface, and a local reverse proxy would otherwise relay strangers.
 */
function fromThisMachine(req: IncomingMessage): boolean {
  const address = req.socket.remoteAddress ?? "";
  const loopback = address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127.");
  // Next fills X-Forwarded-For with the socket's address when the request has none; any other value was
  // added by a proxy.
  const forwardedFor = req.headers["x-forwarded-for"];
  const relayed =
    (forwardedFor !== undefined && forwardedFor !== address) ||
    req.headers.forwarded !== undefined ||
    req.headers["x-real-ip"] !== undefined;
  return loopback && !relayed;
}

/**
 * Whether the request names the app's own host and port. A page on another site can point its own name at
 * 127.0.0.1 (DNS rebinding) and then read this page as same-origin; its requests still carry that name.
 */
function addressedToApp(req: IncomingMessage, appUrl: string): boolean {
  return req.headers.host?.toLowerCase() === new URL(appUrl).host;
}

/**
 * Whether `/dev/outbox` answers this request: mail goes to the outbox (development, no SMTP_URL, a loopback
 * GATEHOUSE_URL) and the request comes from this machine under the app's own host. The outbox page itself
 * and every "check your inbox" hint ask this same question, so a hint never points at a 404.
 */
export function devOutboxOpenTo(req: IncomingMessage): boolean {
  const env = readEnv();
  return env.devOutbox && fromThisMachine(req) && addressedToApp(req, env.url);
}

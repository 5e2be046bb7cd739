import type { IncomingMessage } from "node:http";
import { readEnv } from "./env";

/** What the outbox check reads of a request: the client's address and the headers, by lower-case name. */
interface OutboxRequest {
  /** The socket's address (`""` once it is gone); `undefined` where the router gives none (App Router). */
  address: string | undefined;
  header(name: string): string | undefined;
}

/** One loopback address, and nothing else: a header can hold a list. */
function isLoopbackAddress(address: string): boolean {
  return /^(::1|(::ffff:)?127(\.\d{1,3}){3})$/.test(address);
}

/**
 * Whether the request comes straight from this machine: a loopback socket and no proxy in between. The
 * server may listen on every interface, and a local reverse proxy would otherwise relay strangers.
 */
function fromThisMachine({ address, header }: OutboxRequest): boolean {
  // Next fills X-Forwarded-For with the socket's address when the request has none; any other value was
  // added by a proxy. Without the socket (App Router), that header is the only address there is.
  const forwardedFor = header("x-forwarded-for");
  const client = address ?? forwardedFor ?? "";
  const relayed =
    (forwardedFor !== undefined && forwardedFor !== client) ||
    header("forwarded") !== undefined ||
    header("x-real-ip") !== undefined;
  return isLoopbackAddress(client) && !relayed;
}

/**
 * Whether the request names the app's own host and port. A page on another site can point its own name at
 * 127.0.0.1 (DNS rebinding) and then read this page as same-origin; its requests still carry that name.
 */
function addressedToApp({ header }: OutboxRequest, appUrl: string): boolean {
  return header("host")?.toLowerCase() === new URL(appUrl).host;
}

function outboxOpenTo(request: OutboxRequest): boolean {
  const env = readEnv();
  return env.devOutbox && fromThisMachine(request) && addressedToApp(request, env.url);
}

/**
 * Whether `/dev/outbox` answers this request: mail goes to the outbox (development, no SMTP_URL, a loopback
 * GATEHOUSE_URL) and the request comes from this machine under the app's own host. The outbox page itself
 * and every "check your inbox" hint ask this same question, so a hint never points at a 404.
 */
export function devOutboxOpenTo(req: IncomingMessage): boolean {
  return outboxOpenTo({
    address: req.socket.remoteAddress ?? "",
    header: (name) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(", ") : value;
    },
  });
}

/**
 * {@link devOutboxOpenTo} for the App Router, from `await headers()`. Next does not hand Server Components
 * the socket, and keeps a client's own X-Forwarded-For: a program on another machine that reaches the port
 * could claim to be 127.0.0.1. So the outbox opens only on a server that listens on loopback alone
 * (`GATEHOUSE_LOOPBACK_ONLY=1`, which `npm start` sets as it passes `-H 127.0.0.1`), where nobody else can
 * reach it; the header and Host checks still stop a relaying proxy and DNS rebinding there.
 */
export function devOutboxOpenToHeaders(headers: Headers): boolean {
  return (
    readEnv().loopbackOnly && outboxOpenTo({ address: undefined, header: (name) => headers.get(name) ?? undefined })
  );
}

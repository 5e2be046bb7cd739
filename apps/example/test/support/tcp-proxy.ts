import { connect, createServer, type Socket } from "node:net";

/**
 * A TCP forwarder on 127.0.0.1:<free port> to a real server, for fault tests: point the app at `url()`,
 * then `cut()` the link while it serves requests and `restore()` it, without touching the server itself.
 */
export interface TcpProxy {
  readonly port: number;
  /** `serviceUrl` (e.g. `postgres://postgres@127.0.0.1:5432/db`) with its host and port replaced by the proxy's. */
  url(serviceUrl: string): string;
  /** Destroys every open connection (both sides) and resets every new one as soon as it is accepted. */
  cut(): void;
  /**
   * Drops every byte silently, like a network partition: open connections hang (nothing is forwarded,
   * nothing is closed) and new ones are accepted but never forwarded.
   */
  stall(): void;
  /**
   * Forwards new connections again. After `cut()` nothing is left to resume. After `stall()` the hung
   * connections resume (the partition heals), unless `abandonStalled` leaves them hanging for good, as when
   * the other end vanished without a reset.
   */
  restore(options?: { abandonStalled?: boolean }): void;
  /** Holds each new connection this long before forwarding it, like a distant server or a TLS handshake. 0: none. */
  setConnectDelay(ms: number): void;
  /** Whether the link is cut or stalled. */
  readonly isCut: boolean;
  /** Open forwarded connections right now. */
  readonly openConnections: number;
  /** Connections accepted since the start (forwarded or reset). */
  readonly acceptedConnections: number;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let cut = false;
  let stalled = false;
  let accepted = 0;
  let connectDelayMs = 0;
  const pairs = new Set<[Socket, Socket]>();
  /** Connections accepted during a stall, waiting for restore(). */
  const held = new Set<Socket>();
  /** Pairs hung by stall() (and kept hung when abandoned), and held connections abandoned for good. */
  const hung = new Set<[Socket, Socket]>();
  const abandoned = new Set<Socket>();

  const destroyPair = (pair: [Socket, Socket]) => {
    pairs.delete(pair);
    for (const socket of pair) if (!socket.destroyed) socket.resetAndDestroy();
  };

  const forward = (client: Socket) => {
    const upstream = connect({ host: target.host, port: target.port });
    upstream.on("error", () => {});
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    client.once("close", () => destroyPair(pair));
    upstream.once("close", () => destroyPair(pair));
  };

  const server = createServer((client) => {
    accepted += 1;
    client.on("error", () => {});
    if (cut) {
      // Refused as far as the client can tell: the connection is reset before a single byte flows.
      client.resetAndDestroy();
      return;
    }
    if (stalled) {
      client.pause();
      held.add(client);
      client.once("close", () => held.delete(client));
      return;
    }
    if (connectDelayMs > 0) {
      client.pause();
      setTimeout(() => {
        if (client.destroyed) return;
        if (cut) return void client.resetAndDestroy();
        client.resume();
        forward(client);
      }, connectDelayMs);
      return;
    }
    forward(client);
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port));
  });

  return {
    port,
    url(serviceUrl) {
      const url = new URL(serviceUrl);
      url.hostname = "127.0.0.1";
      url.port = String(port);
      return url.toString();
    },
    cut() {
      cut = true;
      for (const pair of [...pairs]) destroyPair(pair);
    },
    stall() {
      stalled = true;
      for (const pair of pairs) {
        if (hung.has(pair)) continue;
        const [client, upstream] = pair;
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
        hung.add(pair);
      }
    },
    restore(options = {}) {
      cut = false;
      if (!stalled) return;
      stalled = false;
      if (!options.abandonStalled) {
        for (const pair of hung) {
          const [client, upstream] = pair;
          client.pipe(upstream);
          upstream.pipe(client);
        }
        hung.clear();
      }
      for (const client of [...held]) {
        held.delete(client);
        if (options.abandonStalled) {
          abandoned.add(client); // left hanging, like the connections before it
          continue;
        }
        client.resume();
        forward(client);
      }
    },
    setConnectDelay(ms) {
      connectDelayMs = ms;
    },
    get isCut() {
      return cut || stalled;
    },
    get openConnections() {
      return pairs.size;
    },
    get acceptedConnections() {
      return accepted;
    },
    async close() {
      cut = true;
      for (const pair of [...pairs]) destroyPair(pair);
      for (const client of [...held, ...abandoned]) client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A real HTTP server standing in for the auth API, for the unit tests of the `gatehouse/react` helpers: it
 * records each request and answers the reply set for the test, so the helpers run their real `fetch` against
 * the contract's answers.
 */
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach } from "vitest";

/** What the server saw of one request. */
export interface Seen {
  method: string;
  path: string;
  contentType: string | undefined;
  body: unknown;
}

export interface ApiStandIn {
  /** The API's base path on the server (`http://127.0.0.1:<port>/api/auth`), once it listens. */
  readonly basePath: string;
  /** The requests of the current test, in order. */
  readonly seen: Seen[];
  /** Sets the answer to every request from here on in the current test. */
  reply(status: number, body: unknown): void;
}

const DEFAULT_REPLY: { status: number; body: unknown } = { status: 200, body: { ok: true } };

/**
 * Starts the stand-in before the file's tests and closes it after; before each test it forgets the requests
 * seen and answers 200 `{ ok: true }` again. Call it once, at the top of a test file. (Not named `use…`
 * like `useTestServer`: biome takes such a name for a React hook, and refuses a hook called at module level.)
 */
export function apiStandIn(): ApiStandIn {
  let server: Server;
  let basePath = "";
  const seen: Seen[] = [];
  let reply = DEFAULT_REPLY;

  beforeAll(async () => {
    server = createServer(async (request, response) => {
      let text = "";
      for await (const chunk of request) text += chunk;
      seen.push({
        method: request.method ?? "",
        path: request.url ?? "",
        contentType: request.headers["content-type"],
        body: text === "" ? undefined : JSON.parse(text),
      });
      response.writeHead(reply.status, { "content-type": "application/json" });
      response.end(JSON.stringify(reply.body));
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    basePath = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/auth`;
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));
  beforeEach(() => {
    seen.length = 0;
    reply = DEFAULT_REPLY;
  });

  return {
    get basePath() {
      return basePath;
    },
    seen,
    reply(status, body) {
      reply = { status, body };
    },
  };
}

import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { clientIp, headerOf, readBody } from "./node-http.js";

function request(
  headers: Record<string, string | string[]>,
  remoteAddress = "10.0.0.9",
  body?: string,
): IncomingMessage {
  const stream = Readable.from(body === undefined ? [] : [Buffer.from(body)]) as unknown as IncomingMessage;
  Object.assign(stream, { headers, socket: { remoteAddress } });
  return stream;
}

describe("clientIp", () => {
  it("with no trusted proxy, is the socket's address whatever X-Forwarded-For says", () => {
    expect(clientIp(request({ "x-forwarded-for": "203.0.113.7" }), 0)).toBe("10.0.0.9");
    expect(clientIp(request({}), 0)).toBe("10.0.0.9");
  });

  it("behind one proxy, is the last X-Forwarded-For entry, never one the client wrote before it", () => {
    expect(clientIp(request({ "x-forwarded-for": "203.0.113.7" }), 1)).toBe("203.0.113.7");
    expect(clientIp(request({ "x-forwarded-for": "198.51.100.1, 203.0.113.7" }), 1)).toBe("203.0.113.7");
    expect(clientIp(request({ "x-forwarded-for": "198.51.100.1,203.0.113.7 " }), 1)).toBe("203.0.113.7");
  });

  it("behind two proxies, is the second entry from the end", () => {
    expect(clientIp(request({ "x-forwarded-for": "1.1.1.1, 203.0.113.7, 10.0.0.2" }), 2)).toBe("203.0.113.7");
  });

  it("falls back to the socket's address when the header is missing or shorter than the proxy chain", () => {
    expect(clientIp(request({}), 1)).toBe("10.0.0.9");
    expect(clientIp(request({ "x-forwarded-for": "" }), 1)).toBe("10.0.0.9");
    expect(clientIp(request({ "x-forwarded-for": "203.0.113.7" }), 2)).toBe("10.0.0.9");
  });

  it("reads repeated X-Forwarded-For headers as one list", () => {
    expect(clientIp(request({ "x-forwarded-for": ["198.51.100.1", "203.0.113.7"] }), 1)).toBe("203.0.113.7");
    expect(headerOf(request({ "x-forwarded-for": ["a", "b"] }), "x-forwarded-for")).toBe("a, b");
  });
});

describe("readBody", () => {
  it("reads the body, and refuses one past the limit with 413", async () => {
    expect(await readBody(request({}, undefined, "hello"), 5)).toBe("hello");
    await expect(readBody(request({}, undefined, "hello!"), 5)).rejects.toMatchObject({
      code: "payload_too_large",
    });
  });
});

import { describe, expect, it } from "vitest";
import { PayloadTooLargeError } from "../errors.js";
import { readWebBody, toWebResponse, webClientIp } from "./web-http.js";

describe("webClientIp", () => {
  const forwarded = (value: string) => new Headers({ "x-forwarded-for": value });

  it("believes no X-Forwarded-For without trusted proxies: a client can write it", () => {
    expect(webClientIp(forwarded("203.0.113.9"), 0)).toBeNull();
  });

  it("takes the entry the outermost trusted proxy wrote, never one the client wrote before it", () => {
    expect(webClientIp(forwarded("6.6.6.6, 203.0.113.9"), 1)).toBe("203.0.113.9");
    expect(webClientIp(forwarded("6.6.6.6, 203.0.113.9, 10.0.0.2"), 2)).toBe("203.0.113.9");
  });

  it("is null for a chain shorter than the proxies or an entry that is no address", () => {
    expect(webClientIp(forwarded("203.0.113.9"), 2)).toBeNull();
    expect(webClientIp(forwarded("not-an-ip"), 1)).toBeNull();
    expect(webClientIp(new Headers(), 1)).toBeNull();
  });
});

describe("readWebBody", () => {
  it("reads the body as UTF-8 within the limit", async () => {
    expect(await readWebBody(new Request("https://a.example", { method: "POST", body: "héllo" }), 16)).toBe("héllo");
    expect(await readWebBody(new Request("https://a.example"), 16)).toBe("");
  });

  it("refuses a body past the limit", async () => {
    const request = new Request("https://a.example", { method: "POST", body: "x".repeat(17) });
    await expect(readWebBody(request, 16)).rejects.toBeInstanceOf(PayloadTooLargeError);
  });
});

describe("toWebResponse", () => {
  it("keeps each Set-Cookie a header of its own", () => {
    const response = toWebResponse({
      status: 200,
      headers: [
        ["Set-Cookie", "a=1; Path=/"],
        ["Set-Cookie", "b=2; Path=/"],
        ["Cache-Control", "no-store"],
      ],
      body: "{}",
    });
    expect(response.headers.getSetCookie()).toEqual(["a=1; Path=/", "b=2; Path=/"]);
    expect(response.headers.get("cache-control")).toBe("no-store");
  });
});

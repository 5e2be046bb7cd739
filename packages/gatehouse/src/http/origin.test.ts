import { describe, expect, it } from "vitest";
import { originsOf } from "../core/config.js";
import { isSameOriginRequest, isStateChanging } from "./origin.js";

const ORIGINS: ReadonlySet<string> = new Set(["https://app.example", "https://www.app.example"]);

function headers(values: Record<string, string>): (name: string) => string | undefined {
  return (name) => values[name];
}

describe("isSameOriginRequest", () => {
  it("accepts an Origin that is one of the app's origins", () => {
    expect(isSameOriginRequest(headers({ origin: "https://app.example" }), ORIGINS)).toBe(true);
    expect(isSameOriginRequest(headers({ origin: "https://www.app.example" }), ORIGINS)).toBe(true);
  });

  it("rejects any other Origin, even one that looks close", () => {
    for (const origin of [
      "https://evil.example",
      "http://app.example",
      "https://app.example:8443",
      "https://app.example.evil.example",
      "https://evil-app.example",
      "https://app.example/",
      "HTTPS://APP.EXAMPLE",
      "https://app.example, https://evil.example",
      "",
    ]) {
      expect(isSameOriginRequest(headers({ origin }), ORIGINS), origin).toBe(false);
    }
  });

  it("rejects another Origin even with Sec-Fetch-Site: same-origin beside it", () => {
    for (const origin of ["https://evil.example", ""]) {
      expect(isSameOriginRequest(headers({ origin, "sec-fetch-site": "same-origin" }), ORIGINS), origin).toBe(false);
    }
  });

  it('rejects Origin "null" on its own (sandboxed frames, data: URLs, some redirects)', () => {
    expect(isSameOriginRequest(headers({ origin: "null" }), ORIGINS)).toBe(false);
    // "null" is never matched against the configured origins, even if someone lists it.
    expect(isSameOriginRequest(headers({ origin: "null" }), new Set(["null"]))).toBe(false);
  });

  it('rejects Origin "null" with Sec-Fetch-Site other than same-origin', () => {
    for (const site of ["cross-site", "same-site", "none", ""]) {
      expect(isSameOriginRequest(headers({ origin: "null", "sec-fetch-site": site }), ORIGINS), site).toBe(false);
    }
  });

  it('accepts Origin "null" with Sec-Fetch-Site: same-origin (a same-origin form on a no-referrer page)', () => {
    expect(isSameOriginRequest(headers({ origin: "null", "sec-fetch-site": "same-origin" }), ORIGINS)).toBe(true);
  });

  it("lets a real Origin decide when both Origin and Sec-Fetch-Site are present", () => {
    expect(
      isSameOriginRequest(headers({ origin: "https://evil.example", "sec-fetch-site": "same-origin" }), ORIGINS),
    ).toBe(false);
    expect(
      isSameOriginRequest(headers({ origin: "https://app.example", "sec-fetch-site": "cross-site" }), ORIGINS),
    ).toBe(true);
  });

  it("without Origin, accepts Sec-Fetch-Site: same-origin only", () => {
    expect(isSameOriginRequest(headers({ "sec-fetch-site": "same-origin" }), ORIGINS)).toBe(true);
    for (const site of ["cross-site", "same-site", "none", "SAME-ORIGIN", "same-origin, cross-site", ""]) {
      expect(isSameOriginRequest(headers({ "sec-fetch-site": site }), ORIGINS), site).toBe(false);
    }
  });

  it("with neither header, rejects the request (JSON bodies are no longer exempt)", () => {
    expect(isSameOriginRequest(headers({}), ORIGINS)).toBe(false);
  });

  it("never takes the origin from Host or X-Forwarded-Host", () => {
    const forged = headers({
      origin: "https://evil.example",
      host: "evil.example",
      "x-forwarded-host": "evil.example",
    });
    expect(isSameOriginRequest(forged, ORIGINS)).toBe(false);
  });

  it("rejects everything when no origin is configured", () => {
    expect(isSameOriginRequest(headers({ origin: "https://app.example" }), new Set())).toBe(false);
  });
});

describe("isStateChanging", () => {
  it("exempts only GET, HEAD and OPTIONS, whatever their case", () => {
    for (const method of ["GET", "get", "HEAD", "OPTIONS"]) expect(isStateChanging(method), method).toBe(false);
    for (const method of ["POST", "PUT", "PATCH", "DELETE", "post", "PROPFIND", "CONNECT", ""]) {
      expect(isStateChanging(method), method).toBe(true);
    }
  });
});

describe("originsOf", () => {
  const problem = (url: string) => `${url} is not a URL`;

  it("reduces each URL to its origin, skipping the ones not given", () => {
    const origins = originsOf(
      ["https://app.example/", undefined, "https://APP.example:443/path?q#h", "http://localhost:3000/"],
      problem,
    );
    expect([...origins]).toEqual(["https://app.example", "http://localhost:3000"]);
  });

  it("refuses something that is not a URL with the caller's message, as a configuration error", () => {
    expect(() => originsOf(["app.example"], problem)).toThrow(
      expect.objectContaining({ code: "configuration", message: "app.example is not a URL" }),
    );
  });
});

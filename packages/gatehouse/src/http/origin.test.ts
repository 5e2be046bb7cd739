import { describe, expect, it } from "vitest";
import { isSameOriginRequest, toOrigin } from "./origin.js";

const ORIGINS: ReadonlySet<string> = new Set(["https://app.example", "https://www.app.example"]);

function headers(values: Record<string, string>): (name: string) => string | undefined {
  return (name) => values[name];
}

describe("isSameOriginRequest", () => {
  it("accepts an Origin that is one of the app's origins, JSON or not", () => {
    expect(isSameOriginRequest(headers({ origin: "https://app.example" }), ORIGINS, true)).toBe(true);
    expect(isSameOriginRequest(headers({ origin: "https://www.app.example" }), ORIGINS, false)).toBe(true);
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
      expect(isSameOriginRequest(headers({ origin }), ORIGINS, true), origin).toBe(false);
    }
  });

  it('rejects Origin "null" (sandboxed frames, data: URLs, some redirects)', () => {
    expect(isSameOriginRequest(headers({ origin: "null" }), ORIGINS, true)).toBe(false);
    expect(isSameOriginRequest(headers({ origin: "null" }), new Set(["null"]), true)).toBe(true);
  });

  it("lets Origin decide when both Origin and Sec-Fetch-Site are present", () => {
    expect(isSameOriginRequest(headers({ origin: "https://evil.example", "sec-fetch-site": "same-origin" }), ORIGINS, true)).toBe(false);
    expect(isSameOriginRequest(headers({ origin: "https://app.example", "sec-fetch-site": "cross-site" }), ORIGINS, false)).toBe(true);
  });

  it("without Origin, accepts Sec-Fetch-Site: same-origin", () => {
    expect(isSameOriginRequest(headers({ "sec-fetch-site": "same-origin" }), ORIGINS, false)).toBe(true);
    expect(isSameOriginRequest(headers({ "sec-fetch-site": "same-origin" }), ORIGINS, true)).toBe(true);
  });

  it("without Origin, rejects Sec-Fetch-Site: cross-site and same-site", () => {
    for (const site of ["cross-site", "same-site"]) {
      expect(isSameOriginRequest(headers({ "sec-fetch-site": site }), ORIGINS, true), site).toBe(false);
      expect(isSameOriginRequest(headers({ "sec-fetch-site": site }), ORIGINS, false), site).toBe(false);
    }
  });

  it("without Origin, accepts Sec-Fetch-Site: none only for a JSON body", () => {
    expect(isSameOriginRequest(headers({ "sec-fetch-site": "none" }), ORIGINS, true)).toBe(true);
    expect(isSameOriginRequest(headers({ "sec-fetch-site": "none" }), ORIGINS, false)).toBe(false);
  });

  it("with neither header, accepts a JSON body (it needs a CORS preflight) and rejects a form", () => {
    expect(isSameOriginRequest(headers({}), ORIGINS, true)).toBe(true);
    expect(isSameOriginRequest(headers({}), ORIGINS, false)).toBe(false);
  });
});

describe("toOrigin", () => {
  it("reduces a URL to its origin", () => {
    expect(toOrigin("https://app.example/")).toBe("https://app.example");
    expect(toOrigin("https://APP.example:443/path?q#h")).toBe("https://app.example");
    expect(toOrigin("http://localhost:3000/")).toBe("http://localhost:3000");
  });

  it("throws for something that is not a URL", () => {
    expect(() => toOrigin("app.example")).toThrow();
  });
});

import { describe, expect, it } from "vitest";
import { safeRedirectPath, withQuery } from "./redirect.js";

const FALLBACK = "/fallback";

describe("safeRedirectPath", () => {
  it("keeps a same-site path with its query and fragment", () => {
    expect(safeRedirectPath("/dashboard?x=1#h", FALLBACK)).toBe("/dashboard?x=1#h");
    expect(safeRedirectPath("/", FALLBACK)).toBe("/");
    expect(safeRedirectPath("/profile", FALLBACK)).toBe("/profile");
  });

  it("falls back to / when no fallback is given", () => {
    expect(safeRedirectPath("https://evil.example")).toBe("/");
  });

  it.each([
    ["an absolute URL", "https://evil.example"],
    ["an absolute URL with a path", "http://evil.example/dashboard"],
    ["a protocol-relative URL", "//evil.example"],
    ["a protocol-relative URL with a path", "//evil.example/dashboard"],
    ["a backslash after the slash", "/\\evil.example"],
    ["backslashes only", "\\\\evil.example"],
    ["a scheme without slashes", "https:evil.example"],
    ["encoded slashes", "%2F%2Fevil.example"],
    ["a javascript: URL", "javascript:alert(1)"],
    ["a data: URL", "data:text/html,<script>alert(1)</script>"],
    ["a tab before //", "\t//evil"],
    ["a tab inside //", "/\t/evil.example"],
    ["a newline inside //", "/\n/evil.example"],
    ["a raw CR LF", "/\r\nSet-Cookie: a=b"],
    ["a NUL", "/dash\u0000board"],
    ["a dot segment that collapses to //", "/.//evil.example"],
    ["a parent segment that collapses to //", "/..//evil.example"],
    ["encoded dot segments that collapse to //", "/%2e%2e//evil.example"],
    ["deeper parent segments that collapse to //", "/a/../..//evil.example"],
    ["a relative path", "dashboard"],
    ["a leading space", " /dashboard"],
    ["an empty string", ""],
    ["a value longer than 2048 characters", `/${"a".repeat(2048)}`],
  ])("rejects %s (%j)", (_, target) => {
    expect(safeRedirectPath(target, FALLBACK)).toBe(FALLBACK);
  });

  it.each([undefined, null, 42, ["/dashboard"], { toString: () => "/dashboard" }, true])(
    "rejects the non-string %j",
    (target) => {
      expect(safeRedirectPath(target, FALLBACK)).toBe(FALLBACK);
    },
  );

  it("never returns a value with a raw CR or LF, even for percent-encoded ones", () => {
    for (const target of ["/%0d%0aSet-Cookie", "/%0D%0ASet-Cookie:%20a=b", "/x?y=%0a"]) {
      const result = safeRedirectPath(target, FALLBACK);
      expect(result, target).not.toMatch(/[\r\n\u0000-\u001f]/);
      expect(new URL(result, "https://app.example").origin).toBe("https://app.example");
    }
  });

  it("keeps every result on the same origin", () => {
    const attempts = [
      "/@evil.example",
      "/%2F%2Fevil.example",
      "/%5Cevil.example",
      "/ /evil.example",
      "/\u2028/evil.example",
      "/?//evil.example",
      "/#//evil.example",
      "/ｅｖｉｌ",
    ];
    for (const target of attempts) {
      const result = safeRedirectPath(target, FALLBACK);
      expect(result.startsWith("/") && !result.startsWith("//"), target).toBe(true);
      expect(new URL(result, "https://app.example").origin, target).toBe("https://app.example");
    }
  });
});

describe("withQuery", () => {
  it("adds the parameters to a page, keeping a query the page already has", () => {
    const params = new URLSearchParams({ error: "unavailable" });
    expect(withQuery("/login", params)).toBe("/login?error=unavailable");
    expect(withQuery("/login?signedOut=1", params)).toBe("/login?signedOut=1&error=unavailable");
    expect(withQuery("/login", new URLSearchParams())).toBe("/login");
    expect(withQuery("/login#top", params)).toBe("/login?error=unavailable#top");
    expect(withQuery("/login?", params)).toBe("/login?error=unavailable");
    expect(withQuery("https://accounts.example/login", params)).toBe(
      "https://accounts.example/login?error=unavailable",
    );
  });
});

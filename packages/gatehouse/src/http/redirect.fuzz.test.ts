/** Property tests: whatever `next` a client sends, the redirect stays on this site. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hostileString } from "../../test/support/fuzz.js";
import { safeRedirectPath } from "./redirect.js";

/** Strings built from the pieces of known open-redirect tricks. */
const redirectish = fc
  .array(
    fc.constantFrom(
      "/",
      "//",
      "\\",
      "/\\",
      "\\/",
      "%2F",
      "%2f",
      "%5C",
      "%5c",
      "%2e",
      ".",
      "..",
      "%2e%2e",
      "@",
      ":",
      "https:",
      "http:",
      "javascript:",
      "data:",
      "evil.example",
      "app",
      "?",
      "#",
      "\t",
      "\n",
      "\r",
      "\u0000",
      " ",
      "%09",
      "%0d%0a",
      "%00",
      "／",
      "＼",
      "。",
      "%E3%80%82",
      "\u2028",
      "%",
      "%%",
      "%25",
      "x",
    ),
    { maxLength: 8 },
  )
  .map((parts) => parts.join(""));

function expectSameSite(result: string): void {
  expect(result.startsWith("/")).toBe(true);
  expect(result.startsWith("//")).toBe(false);
  expect(result.startsWith("/\\")).toBe(false);
  expect(result).not.toMatch(/[\u0000-\u001f\u007f\\]/);
  expect(new URL(result, "https://app.example").origin).toBe("https://app.example");
  // A browser resolving the Location header against the page must stay on the site too.
  expect(new URL(result, "https://app.example/deep/page?x=1").origin).toBe("https://app.example");
}

describe("safeRedirectPath on arbitrary targets", () => {
  it('always answers a path that starts with "/" and never with "//" or "/\\", on the same origin', () => {
    fc.assert(
      fc.property(fc.oneof(redirectish, hostileString(64), fc.webUrl(), fc.webPath()), (target) => {
        expectSameSite(safeRedirectPath(target));
        expectSameSite(safeRedirectPath(target, "/dashboard"));
      }),
      { numRuns: 20_000 },
    );
  });

  it("keeps a plain same-site path as it is", () => {
    const segment = fc.string({
      unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789-_".split("")),
      minLength: 1,
      maxLength: 12,
    });
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 5 }), (segments) => {
        const path = `/${segments.join("/")}`;
        expect(safeRedirectPath(path, "/fallback")).toBe(path);
      }),
      { numRuns: 2000 },
    );
  });

  it("answers the fallback for any value that is not a string", () => {
    fc.assert(
      fc.property(
        fc.anything().filter((value) => typeof value !== "string"),
        (value) => {
          expect(safeRedirectPath(value, "/fallback")).toBe("/fallback");
        },
      ),
      { numRuns: 1000 },
    );
  });
});

/** Property tests: the session cookie reader takes any Cookie header and answers a bounded value or null. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HUGE_STRINGS, hostileString } from "../../test/support/fuzz.js";
import { resolveSessionConfig } from "./config.js";
import { createSessionCookie } from "./cookie.js";

const SECRET = "0123456789abcdef0123456789abcdef";
const cookies = [false, true].map((secureCookies) =>
  createSessionCookie(resolveSessionConfig({ secret: SECRET, secureCookies })),
);

/** A Cookie header: random pairs, some named like ours (with and without the prefix), joined by ; or odd separators. */
function cookieHeader(withHuge: boolean): fc.Arbitrary<string> {
  const value = withHuge
    ? fc.oneof(
        hostileString(64),
        fc.constantFrom(...HUGE_STRINGS.slice(0, 2)),
        fc.string({ unit: fc.constantFrom("A", "%", "2", "F", '"', "=", ";") }),
      )
    : fc.oneof(hostileString(64), fc.string({ unit: fc.constantFrom("A", "%", "2", "F", '"', "=", ";") }));
  return fc
    .array(
      fc.tuple(
        fc.oneof(
          fc.constantFrom(
            "gatehouse.session",
            "__Host-gatehouse.session",
            " gatehouse.session ",
            "__proto__",
            "constructor",
          ),
          hostileString(16),
        ),
        value,
        fc.constantFrom("; ", ";", ", ", " ; ", "\t;"),
      ),
      { maxLength: 5 },
    )
    .map((pairs) => pairs.map(([name, v, separator]) => `${name}=${v}${separator}`).join(""));
}

describe("SessionCookie.read on arbitrary Cookie headers", () => {
  it("never throws, and answers null or a value of at most 4096 characters", () => {
    const headers = fc.oneof(
      cookieHeader(true),
      hostileString(200),
      fc.constantFrom(...HUGE_STRINGS),
      fc.constantFrom(undefined, null, ""),
    );
    fc.assert(
      fc.property(headers, (header) => {
        for (const cookie of cookies) {
          const value = cookie.read(header);
          if (value !== null) {
            expect(typeof value).toBe("string");
            expect(value.length).toBeGreaterThan(0);
            expect(value.length).toBeLessThanOrEqual(4096);
            expect(header ?? "").toContain(cookie.name);
          }
        }
      }),
      { numRuns: 5000 },
    );
  });

  it("reads back every value it serialised, among other cookies, and nothing from a cookie with another name", () => {
    const token = fc.string({
      unit: fc.constantFrom(..."ABCXYZabcxyz0189-_.".split("")),
      minLength: 1,
      maxLength: 200,
    });
    fc.assert(
      fc.property(token, cookieHeader(false), (value, noise) => {
        for (const cookie of cookies) {
          const pair = cookie.serialize(value, new Date(Date.now() + 60_000)).split(";", 1)[0] as string;
          const cleaned = noise.replaceAll(cookie.name, "other");
          // Pairs are separated by ";" (a "," separates nothing: it belongs to the value before it).
          expect(cookie.read(`${cleaned}; ${pair}`)).toBe(value);
          expect(cookie.read(`${pair}; ${cleaned}`)).toBe(value);
          expect(cookie.read(`x${pair}`)).toBeNull();
        }
      }),
      { numRuns: 2000 },
    );
  });
});

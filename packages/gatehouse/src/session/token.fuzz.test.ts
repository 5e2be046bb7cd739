/** Property tests: parseSessionToken accepts exactly the shape Gatehouse issues, and nothing else. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hostileString } from "../../test/support/fuzz.js";
import { parseSessionToken } from "./token.js";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".split("");
const SHAPE = /^[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{32}$/;

/** Near misses: token characters with lengths around 16 and 32, odd separators and suffixes. */
const nearMiss = fc
  .tuple(
    fc.string({ unit: fc.constantFrom(...ALPHABET, "+", "/", "=", "."), minLength: 14, maxLength: 18 }),
    fc.constantFrom(".", "..", "", ":", "%2E"),
    fc.string({ unit: fc.constantFrom(...ALPHABET, "+", "/", "="), minLength: 30, maxLength: 34 }),
    fc.constantFrom("", "\n", "\r\n", " ", "\u0000", "=", "."),
  )
  .map(([id, dot, secret, suffix]) => `${id}${dot}${secret}${suffix}`);

describe("parseSessionToken on arbitrary strings", () => {
  it("returns { id, secret } exactly for id(16).secret(32) in base64url characters, else null", () => {
    fc.assert(
      fc.property(fc.oneof(nearMiss, hostileString(80)), (value) => {
        const parsed = parseSessionToken(value);
        if (SHAPE.test(value)) {
          expect(parsed).toEqual({ id: value.slice(0, 16), secret: value.slice(17) });
        } else {
          expect(parsed).toBeNull();
        }
      }),
      { numRuns: 10_000 },
    );
  });

  it("accepts every well-formed token", () => {
    const part = (length: number) =>
      fc.string({ unit: fc.constantFrom(...ALPHABET), minLength: length, maxLength: length });
    fc.assert(
      fc.property(part(16), part(32), (id, secret) => {
        expect(parseSessionToken(`${id}.${secret}`)).toEqual({ id, secret });
      }),
      { numRuns: 2000 },
    );
  });
});

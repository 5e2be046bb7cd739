/** Property tests: the input parsers answer or throw a GatehouseError for any value a JSON or form body can hold. */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import {
  expectPrototypeClean,
  HUGE_STRINGS,
  hostileJsonObject,
  hostileJsonValue,
  hostileString,
  onlyGatehouseErrors,
} from "../../test/support/fuzz.js";
import { isCommonPassword, loadCommonPasswords } from "../password/common.js";
import { DEFAULT_PASSWORD_POLICY } from "../password/policy.js";
import { isValidEmail } from "./email.js";
import { parseLogInInput, parseProfileInput, parseSignUpInput } from "./input.js";

const POLICY = DEFAULT_PASSWORD_POLICY;
const RUNS = 3000;

/** Bodies: anything JSON.parse can make, objects with the fields' keys (and __proto__), and odd JS values. */
const body = fc.oneof(
  { arbitrary: hostileJsonObject(["email", "password", "name", "role"]), weight: 6 },
  {
    arbitrary: fc.record(
      {
        email: fc.oneof(hostileString(), fc.emailAddress(), fc.constantFrom(...HUGE_STRINGS)),
        password: fc.oneof(hostileString(300), fc.constantFrom(...HUGE_STRINGS)),
        name: fc.option(hostileString(120)),
      },
      { requiredKeys: [] },
    ),
    weight: 6,
  },
  { arbitrary: hostileJsonValue, weight: 2 },
  {
    arbitrary: fc.anything({
      withNullPrototype: true,
      withBoxedValues: true,
      withObjectString: true,
      withBigInt: true,
      withMap: true,
      withSet: true,
      withDate: true,
      withTypedArray: true,
      withSparseArray: true,
    }),
    weight: 2,
  },
);

const codePoints = (text: string) => [...text].length;

beforeAll(loadCommonPasswords);

describe("parseSignUpInput on arbitrary input", () => {
  it("returns only a valid, normalised account, or throws a GatehouseError", () => {
    fc.assert(
      fc.property(body, (input) => {
        const result = onlyGatehouseErrors(() => parseSignUpInput(input, POLICY));
        if (result instanceof Error) {
          expect((result as { code?: string }).code).toBe("invalid_input");
        } else {
          expect(Object.keys(result).sort()).toEqual(["email", "name", "password"]);
          expect(isValidEmail(result.email)).toBe(true);
          expect(result.email).toBe(result.email.trim().toLowerCase());
          expect(codePoints(result.password)).toBeGreaterThanOrEqual(POLICY.minLength);
          expect(codePoints(result.password)).toBeLessThanOrEqual(POLICY.maxLength);
          expect(result.password).not.toContain("\u0000");
          expect(result.password).toBe(result.password.normalize("NFKC"));
          expect(isCommonPassword(result.password)).toBe(false);
          if (result.name !== null) {
            expect(result.name.length).toBeLessThanOrEqual(100);
            expect(result.name).not.toMatch(/[\u0000-\u001f\u007f]/);
          }
        }
        expectPrototypeClean();
      }),
      { numRuns: RUNS },
    );
  });
});

describe("parseLogInInput on arbitrary input", () => {
  it("returns bounded strings or throws a GatehouseError", () => {
    fc.assert(
      fc.property(body, (input) => {
        const result = onlyGatehouseErrors(() => parseLogInInput(input, POLICY));
        if (!(result instanceof Error)) {
          expect(Object.keys(result).sort()).toEqual(["email", "password"]);
          expect(typeof result.email).toBe("string");
          // The sizes are checked as sent; lower-casing ("İ" → "i̇") and NFKC ("ﷺ" → 18 characters) may grow them.
          expect(result.email.length).toBeLessThanOrEqual(320 * 3);
          expect(result.password.length).toBeGreaterThan(0);
          expect(codePoints(result.password)).toBeLessThanOrEqual(POLICY.maxLength * 4 * 18);
        }
        expectPrototypeClean();
      }),
      { numRuns: RUNS },
    );
  });
});

describe("parseProfileInput on arbitrary input", () => {
  it("returns at most a bounded name, never a role, or throws a GatehouseError", () => {
    fc.assert(
      fc.property(body, (input) => {
        const result = onlyGatehouseErrors(() => parseProfileInput(input));
        if (!(result instanceof Error)) {
          expect(Object.keys(result).every((key) => key === "name")).toBe(true);
          if (typeof result.name === "string") expect(result.name.length).toBeLessThanOrEqual(100);
        }
        expectPrototypeClean();
      }),
      { numRuns: RUNS },
    );
  });
});

/**
 * Arbitraries and checks the property tests share: hostile strings (NUL, lone surrogates, separators,
 * percent-escapes, huge lengths), hostile JSON objects (own `__proto__` / `constructor` keys), and the rule
 * that a parser answers or throws a GatehouseError, never anything else.
 */
import fc from "fast-check";
import { expect } from "vitest";
import { isGatehouseError } from "../../src/errors.js";

/** Characters that have broken parsers before: controls, separators, escapes, surrogate halves, look-alikes. */
export const HOSTILE_CHARACTERS = [
  "\u0000",
  "\u0001",
  "\t",
  "\n",
  "\r",
  "\u007f",
  "\u0085",
  "\u2028",
  "\u2029",
  "\ufeff",
  "\ufffd",
  "\ud800",
  "\udbff",
  "\udc00",
  "\udfff",
  "🔐",
  "😀",
  "é",
  "e\u0301",
  "＠",
  "／",
  "＼",
  " ",
  "/",
  "\\",
  "%",
  "%2F",
  "%5C",
  "%00",
  "%0a",
  "%zz",
  ".",
  "..",
  ":",
  "@",
  "?",
  "#",
  "&",
  "=",
  ";",
  ",",
  '"',
  "'",
  "<",
  ">",
  "{",
  "}",
  "[",
  "]",
  "a",
  "Z",
  "0",
  "_",
  "-",
  "+",
  "g1.",
  "null",
  "__proto__",
  "constructor",
];

/** Any string, biased toward the hostile characters above. */
export const hostileString = (maxLength = 64): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ unit: "binary", maxLength }),
    fc.string({ unit: fc.constantFrom(...HOSTILE_CHARACTERS), maxLength }),
    fc.string({ unit: "grapheme", maxLength }),
    fc.string({ maxLength }),
  );

/** A few strings far larger than any limit (built once; cheap to reuse). */
export const HUGE_STRINGS = [
  "a".repeat(1 << 20),
  "🔐".repeat(1 << 16),
  "\u0000".repeat(70_000),
  "\ud800".repeat(70_000),
  "/".repeat(5000),
];

/** A value as JSON.parse could produce it, including strings from {@link hostileString}. */
export const hostileJsonValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    { arbitrary: fc.constant(null), weight: 2 },
    { arbitrary: fc.boolean(), weight: 2 },
    { arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }), weight: 2 },
    { arbitrary: fc.integer(), weight: 2 },
    { arbitrary: hostileString(), weight: 10 },
    { arbitrary: fc.constantFrom(...HUGE_STRINGS), weight: 1 },
    { arbitrary: fc.array(tie("value"), { maxLength: 4 }), weight: 2 },
    { arbitrary: fc.dictionary(hostileString(8), tie("value"), { maxKeys: 4 }), weight: 2 },
  ),
})).value;

/**
 * A JSON object text whose keys are drawn from `keys` plus `__proto__`, `constructor` and `prototype`, parsed
 * with JSON.parse: so `__proto__` becomes an own property, exactly as in a request body.
 */
export function hostileJsonObject(keys: readonly string[]): fc.Arbitrary<unknown> {
  const key = fc.oneof(
    fc.constantFrom(...keys, "__proto__", "constructor", "prototype", "toString", "hasOwnProperty"),
    hostileString(8),
  );
  return fc.array(fc.tuple(key, hostileJsonValue), { maxLength: 6 }).map((entries) => {
    const text = `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? "null"}`).join(",")}}`;
    return JSON.parse(text) as unknown;
  });
}

/** Runs `run`; a thrown error must be a GatehouseError. Returns what `run` returned, or the error. */
export function onlyGatehouseErrors<T>(run: () => T): T | Error {
  try {
    return run();
  } catch (error) {
    expect(isGatehouseError(error), `threw ${String(error)}`).toBe(true);
    return error as Error;
  }
}

/** Object.prototype gained no property (a `__proto__` key must never pollute it). */
export function expectPrototypeClean(): void {
  expect(Object.keys(Object.prototype)).toEqual([]);
  for (const key of ["email", "password", "name", "role", "isAdmin"]) {
    expect(({} as Record<string, unknown>)[key], key).toBeUndefined();
  }
}

/** Property tests: parseBody takes any text and Content-Type and answers a parsed body or a GatehouseError. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hostileJsonValue, hostileString, onlyGatehouseErrors } from "../../test/support/fuzz.js";
import { parseBody } from "./body.js";

const contentType = fc.oneof(
  fc.constantFrom(
    "application/json",
    "APPLICATION/JSON; charset=utf-8",
    "application/json;",
    " application/json ",
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=UTF-8",
    "text/plain",
    "text/plain;charset=UTF-8",
    "multipart/form-data; boundary=x",
    "application/jsonx",
    "application/json-patch+json",
    ";",
    "",
    undefined,
  ),
  hostileString(40),
);

const text = fc.oneof(
  hostileString(200),
  hostileJsonValue.map((value) => JSON.stringify(value) ?? ""),
  fc.string({
    unit: fc.constantFrom("a", "=", "&", "%", "2", "F", "_", "_proto_", "__proto__", "+", "\u0000"),
    maxLength: 60,
  }),
);

describe("parseBody on arbitrary input", () => {
  it("returns json, form or empty, or throws a GatehouseError (400 invalid_json or 415)", () => {
    fc.assert(
      fc.property(text, contentType, fc.boolean(), (body, type, acceptForm) => {
        const result = onlyGatehouseErrors(() => parseBody(body, type, acceptForm));
        if (result instanceof Error) {
          expect(["invalid_json", "unsupported_media_type"]).toContain((result as { code?: string }).code);
          return;
        }
        expect(["json", "form", "empty"]).toContain(result.kind);
        if (result.kind === "form") {
          expect(acceptForm).toBe(true);
          expect(Object.getPrototypeOf(result.data)).toBeNull();
          for (const value of Object.values(result.data)) expect(typeof value).toBe("string");
        }
        if (result.kind === "json") expect(result.data).toEqual(JSON.parse(body));
        expect(Object.keys(Object.prototype)).toEqual([]);
      }),
      { numRuns: 10_000 },
    );
  });
});

import { describe, expect, it } from "vitest";
import { InvalidJsonError, UnsupportedMediaTypeError } from "../errors.js";
import { mediaType, parseBody } from "./body.js";

describe("mediaType", () => {
  it("lower-cases and strips parameters", () => {
    expect(mediaType("Application/JSON; charset=UTF-8")).toBe("application/json");
    expect(mediaType("  application/x-www-form-urlencoded ;x=y")).toBe("application/x-www-form-urlencoded");
  });

  it("is undefined for a missing or empty header", () => {
    expect(mediaType(undefined)).toBeUndefined();
    expect(mediaType("")).toBeUndefined();
    expect(mediaType("; charset=utf-8")).toBeUndefined();
  });
});

describe("parseBody", () => {
  it("parses JSON, with or without a charset parameter", () => {
    expect(parseBody('{"a":1}', "application/json", false)).toEqual({ kind: "json", data: { a: 1 } });
    expect(parseBody('{"a":1}', "application/json; charset=utf-8", false)).toEqual({ kind: "json", data: { a: 1 } });
    expect(parseBody("[1,2]", "APPLICATION/JSON", false)).toEqual({ kind: "json", data: [1, 2] });
  });

  it("returns JSON scalars and null as they are, for the caller to reject", () => {
    expect(parseBody("null", "application/json", false)).toEqual({ kind: "json", data: null });
    expect(parseBody("42", "application/json", false)).toEqual({ kind: "json", data: 42 });
    expect(parseBody('"x"', "application/json", false)).toEqual({ kind: "json", data: "x" });
  });

  it("treats an empty or blank JSON body as empty", () => {
    expect(parseBody("", "application/json", false)).toEqual({ kind: "empty" });
    expect(parseBody("  \n", "application/json", false)).toEqual({ kind: "empty" });
  });

  it("treats no body and no Content-Type as empty", () => {
    expect(parseBody("", undefined, false)).toEqual({ kind: "empty" });
    expect(parseBody("", undefined, true)).toEqual({ kind: "empty" });
  });

  it("throws InvalidJsonError for malformed JSON", () => {
    for (const text of ["{", "{'a':1}", '{"a":1,}', "undefined", "NaN", "\u0000"]) {
      expect(() => parseBody(text, "application/json", true), text).toThrow(InvalidJsonError);
    }
  });

  it("parses a form into a null-prototype record when forms are allowed", () => {
    const parsed = parseBody(
      "email=a%40b.co&password=p+w&next=%2Fprofile&__proto__=x",
      "application/x-www-form-urlencoded",
      true,
    );
    expect(parsed.kind).toBe("form");
    const data = (parsed as { data: Record<string, string> }).data;
    expect(Object.getPrototypeOf(data)).toBeNull();
    expect(Object.entries(data)).toEqual([
      ["email", "a@b.co"],
      ["password", "p w"],
      ["next", "/profile"],
      ["__proto__", "x"],
    ]);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it("keeps the last value of a repeated form field", () => {
    const parsed = parseBody("next=/a&next=/b", "application/x-www-form-urlencoded; charset=utf-8", true);
    expect(parsed).toMatchObject({ kind: "form", data: { next: "/b" } });
  });

  it("refuses a form with 415 when forms are not allowed", () => {
    expect(() => parseBody("a=1", "application/x-www-form-urlencoded", false)).toThrow(UnsupportedMediaTypeError);
  });

  it("refuses every other type with 415, naming what it accepts", () => {
    for (const type of [
      "text/plain",
      "multipart/form-data; boundary=x",
      "application/xml",
      "application/json-patch+json",
      "application/jsonx",
    ]) {
      let error: unknown;
      try {
        parseBody('{"a":1}', type, true);
      } catch (caught) {
        error = caught;
      }
      expect(error, type).toBeInstanceOf(UnsupportedMediaTypeError);
      expect((error as Error).message).toContain("application/json");
    }
  });

  it("refuses a body sent without a Content-Type", () => {
    expect(() => parseBody('{"a":1}', undefined, true)).toThrow(UnsupportedMediaTypeError);
  });
});

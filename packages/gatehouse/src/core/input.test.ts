import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../errors.js";
import { DEFAULT_PASSWORD_POLICY } from "../password/policy.js";
import { parseLogInInput, parseSignUpInput } from "./input.js";

const POLICY = DEFAULT_PASSWORD_POLICY;
const PASSWORD = "correct horse battery";

/** The field errors of an `InvalidInputError` thrown by `run`. */
function fieldErrors(run: () => unknown): Record<string, string> {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return { ...(error as InvalidInputError).fields };
  }
  throw new Error("expected an InvalidInputError");
}

describe("parseSignUpInput", () => {
  it("normalises the email and password and defaults the name to null", () => {
    expect(parseSignUpInput({ email: "  Alice@Example.COM ", password: "ｐａｓｓｗｏｒｄ１２" }, POLICY)).toEqual({
      email: "alice@example.com",
      password: "password12",
      name: null,
    });
  });

  it("NFC-normalises and trims the name; a blank name becomes null", () => {
    expect(parseSignUpInput({ email: "a@b.co", password: PASSWORD, name: "  Zoe\u0308 " }, POLICY).name).toBe("Zoë");
    expect(parseSignUpInput({ email: "a@b.co", password: PASSWORD, name: "   " }, POLICY).name).toBeNull();
  });

  it("takes only email, password and name: extra fields such as role are dropped", () => {
    const parsed = parseSignUpInput({ email: "a@b.co", password: PASSWORD, role: "admin", id: "x" }, POLICY);
    expect(Object.keys(parsed).sort()).toEqual(["email", "name", "password"]);
  });

  it("rejects a body that is not an object, without field errors", () => {
    for (const body of [undefined, null, [], [{ email: "a@b.co", password: PASSWORD }], "a@b.co", 42, true]) {
      expect(fieldErrors(() => parseSignUpInput(body, POLICY)), JSON.stringify(body)).toEqual({});
    }
  });

  it("names both fields when they are missing", () => {
    expect(Object.keys(fieldErrors(() => parseSignUpInput({}, POLICY))).sort()).toEqual(["email", "password"]);
  });

  it("names a field that is not a string", () => {
    for (const value of [42, null, ["a@b.co"], { toString: () => "a@b.co" }, true]) {
      expect(Object.keys(fieldErrors(() => parseSignUpInput({ email: value, password: PASSWORD }, POLICY)))).toEqual(["email"]);
      expect(Object.keys(fieldErrors(() => parseSignUpInput({ email: "a@b.co", password: value }, POLICY)))).toEqual(["password"]);
    }
  });

  it("names an invalid email and a too-short password", () => {
    const fields = fieldErrors(() => parseSignUpInput({ email: "not-an-email", password: "short" }, POLICY));
    expect(Object.keys(fields).sort()).toEqual(["email", "password"]);
    expect(fields.password).toMatch(/at least 8/);
  });

  it("rejects blank email and empty password", () => {
    expect(Object.keys(fieldErrors(() => parseSignUpInput({ email: "   ", password: "" }, POLICY))).sort()).toEqual([
      "email",
      "password",
    ]);
  });

  it("rejects a name that is not text, too long, or has control characters", () => {
    for (const name of [42, ["Ada"], "x".repeat(101), "Ada\nLovelace", "Ada\u0000"]) {
      expect(Object.keys(fieldErrors(() => parseSignUpInput({ email: "a@b.co", password: PASSWORD, name }, POLICY)))).toEqual([
        "name",
      ]);
    }
  });

  it("does not take fields from a __proto__ key in parsed JSON", () => {
    const body = JSON.parse(`{"__proto__":{"email":"x@y.co","password":"${PASSWORD}"}}`);
    expect(Object.keys(fieldErrors(() => parseSignUpInput(body, POLICY))).sort()).toEqual(["email", "password"]);
    expect(({} as Record<string, unknown>).email).toBeUndefined();
  });

  it("does not take fields from an object's prototype", () => {
    const body = Object.create({ email: "x@y.co", password: PASSWORD });
    expect(Object.keys(fieldErrors(() => parseSignUpInput(body, POLICY))).sort()).toEqual(["email", "password"]);
  });

  it("accepts a null-prototype object (as form bodies are parsed)", () => {
    const body = Object.assign(Object.create(null), { email: "a@b.co", password: PASSWORD });
    expect(parseSignUpInput(body, POLICY).email).toBe("a@b.co");
  });
});

describe("parseLogInInput", () => {
  it("normalises the email and password the same way sign-up does", () => {
    const login = parseLogInInput({ email: " Alice@Example.COM", password: "ｐａｓｓｗｏｒｄ１２" }, POLICY);
    const signup = parseSignUpInput({ email: "alice@example.com", password: "password12" }, POLICY);
    expect(login).toEqual({ email: signup.email, password: signup.password });
  });

  it("checks only presence, type and size, not the email's format", () => {
    expect(parseLogInInput({ email: "not-an-email", password: "x" }, POLICY)).toEqual({ email: "not-an-email", password: "x" });
  });

  it("rejects a body that is not an object", () => {
    for (const body of [undefined, null, [], "x", 0]) {
      expect(fieldErrors(() => parseLogInInput(body, POLICY)), JSON.stringify(body)).toEqual({});
    }
  });

  it("names missing and non-string fields", () => {
    expect(Object.keys(fieldErrors(() => parseLogInInput({}, POLICY))).sort()).toEqual(["email", "password"]);
    expect(Object.keys(fieldErrors(() => parseLogInInput({ email: ["a@b.co"], password: 1 }, POLICY))).sort()).toEqual([
      "email",
      "password",
    ]);
  });

  it("rejects an email longer than 320 characters and a password longer than four times the maximum", () => {
    expect(Object.keys(fieldErrors(() => parseLogInInput({ email: `${"a".repeat(315)}@b.com`, password: "x" }, POLICY)))).toEqual([
      "email",
    ]);
    expect(Object.keys(fieldErrors(() => parseLogInInput({ email: "a@b.co", password: "a".repeat(1025) }, POLICY)))).toEqual([
      "password",
    ]);
    expect(parseLogInInput({ email: "a@b.co", password: "a".repeat(1024) }, POLICY).password).toHaveLength(1024);
  });

  it("does not take fields from a __proto__ key in parsed JSON", () => {
    const body = JSON.parse(`{"__proto__":{"email":"x@y.co","password":"${PASSWORD}"}}`);
    expect(Object.keys(fieldErrors(() => parseLogInInput(body, POLICY))).sort()).toEqual(["email", "password"]);
  });
});

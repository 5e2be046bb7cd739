import { beforeAll, describe, expect, it } from "vitest";
import { type FieldProblem, InvalidInputError } from "../errors.js";
import { loadCommonPasswords } from "../password/common.js";
import { DEFAULT_PASSWORD_POLICY } from "../password/policy.js";
import { newPasswordProblem, parseLogInInput, parseProfileInput, parseSignUpInput } from "./input.js";

const POLICY = DEFAULT_PASSWORD_POLICY;
const PASSWORD = "correct horse battery";

/** The field errors of an `InvalidInputError` thrown by `run`. */
function fieldErrors(run: () => unknown): Record<string, FieldProblem> {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return { ...(error as InvalidInputError).fields };
  }
  throw new Error("expected an InvalidInputError");
}

beforeAll(loadCommonPasswords);

describe("parseSignUpInput", () => {
  it("normalises the email and password and defaults the name to null", () => {
    expect(parseSignUpInput({ email: "  Alice@Example.COM ", password: "ｇａｔｅｈｏｕｓｅ７３９" }, POLICY)).toEqual({
      email: "alice@example.com",
      password: "gatehouse739",
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
      expect(
        fieldErrors(() => parseSignUpInput(body, POLICY)),
        JSON.stringify(body),
      ).toEqual({});
    }
  });

  it("names both fields when they are missing", () => {
    expect(Object.keys(fieldErrors(() => parseSignUpInput({}, POLICY))).sort()).toEqual(["email", "password"]);
  });

  it("names a field that is not a string", () => {
    for (const value of [42, null, ["a@b.co"], { toString: () => "a@b.co" }, true]) {
      expect(Object.keys(fieldErrors(() => parseSignUpInput({ email: value, password: PASSWORD }, POLICY)))).toEqual([
        "email",
      ]);
      expect(Object.keys(fieldErrors(() => parseSignUpInput({ email: "a@b.co", password: value }, POLICY)))).toEqual([
        "password",
      ]);
    }
  });

  it("names an invalid email and a too-short password", () => {
    const fields = fieldErrors(() => parseSignUpInput({ email: "not-an-email", password: "short" }, POLICY));
    expect(Object.keys(fields).sort()).toEqual(["email", "password"]);
    expect(fields.email).toEqual({ code: "invalid_email", message: expect.stringMatching(/valid email/) });
    expect(fields.password).toEqual({ code: "too_short", message: expect.stringMatching(/at least 8/), min: 8 });
  });

  it("rejects blank email and empty password", () => {
    expect(Object.keys(fieldErrors(() => parseSignUpInput({ email: "   ", password: "" }, POLICY))).sort()).toEqual([
      "email",
      "password",
    ]);
  });

  it("rejects a name that is not text, too long, or has control characters", () => {
    for (const name of [42, ["Ada"], "x".repeat(101), "Ada\nLovelace", "Ada\u0000"]) {
      expect(
        Object.keys(fieldErrors(() => parseSignUpInput({ email: "a@b.co", password: PASSWORD, name }, POLICY))),
      ).toEqual(["name"]);
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
    const login = parseLogInInput({ email: " Alice@Example.COM", password: "ｇａｔｅｈｏｕｓｅ７３９" }, POLICY);
    const signup = parseSignUpInput({ email: "alice@example.com", password: "gatehouse739" }, POLICY);
    expect(login).toEqual({ email: signup.email, password: signup.password });
  });

  it("checks only presence, type and size, not the email's format", () => {
    expect(parseLogInInput({ email: "not-an-email", password: "x" }, POLICY)).toEqual({
      email: "not-an-email",
      password: "x",
    });
  });

  it("rejects a body that is not an object", () => {
    for (const body of [undefined, null, [], "x", 0]) {
      expect(
        fieldErrors(() => parseLogInInput(body, POLICY)),
        JSON.stringify(body),
      ).toEqual({});
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
    expect(
      Object.keys(fieldErrors(() => parseLogInInput({ email: `${"a".repeat(315)}@b.com`, password: "x" }, POLICY))),
    ).toEqual(["email"]);
    expect(
      Object.keys(fieldErrors(() => parseLogInInput({ email: "a@b.co", password: "a".repeat(1025) }, POLICY))),
    ).toEqual(["password"]);
    expect(parseLogInInput({ email: "a@b.co", password: "a".repeat(1024) }, POLICY).password).toHaveLength(1024);
  });

  it("does not take fields from a __proto__ key in parsed JSON", () => {
    const body = JSON.parse(`{"__proto__":{"email":"x@y.co","password":"${PASSWORD}"}}`);
    expect(Object.keys(fieldErrors(() => parseLogInInput(body, POLICY))).sort()).toEqual(["email", "password"]);
  });
});

describe("common passwords", () => {
  it("rejects a password on the common list at sign-up, saying it is common, whatever its case or width", () => {
    for (const password of [
      "password1234",
      "iloveyou12",
      "PASSWORD1234",
      "ILoveYou12",
      "ｐａｓｓｗｏｒｄ１２",
      "qwertyuiop",
    ]) {
      const fields = fieldErrors(() => parseSignUpInput({ email: "a@b.co", password }, POLICY));
      expect(Object.keys(fields), password).toEqual(["password"]);
      expect(fields.password?.code, password).toBe("too_common");
      expect(fields.password?.message, password).toMatch(/common/i);
    }
  });

  it("accepts an all-lowercase passphrase that is not on the list", () => {
    expect(parseSignUpInput({ email: "a@b.co", password: "purple gatehouse marmalade" }, POLICY).password).toBe(
      "purple gatehouse marmalade",
    );
  });

  it("newPasswordProblem checks the length before the list, and passes a good password", () => {
    expect(newPasswordProblem("admin", POLICY)).toMatchObject({
      code: "too_short",
      message: expect.stringMatching(/at least 8/),
    });
    expect(newPasswordProblem("password", POLICY)).toMatchObject({
      code: "too_common",
      message: expect.stringMatching(/common/i),
    });
    expect(newPasswordProblem("", POLICY)?.code).toBe("required");
    expect(newPasswordProblem("a".repeat(257), POLICY)).toMatchObject({ code: "too_long", max: 256 });
    expect(newPasswordProblem("abcdefgh\u0000", POLICY)?.code).toBe("invalid_character");
    expect(newPasswordProblem(PASSWORD, POLICY)).toBeNull();
    for (const value of [undefined, null, "", 42, ["x"]])
      expect(newPasswordProblem(value, POLICY)).toEqual({ code: "required", message: "Enter a password." });
  });
});

describe("parseProfileInput", () => {
  it("takes only the name: role and other fields are dropped", () => {
    expect(parseProfileInput({ name: "  Ada ", role: "admin", email: "x@y.co", id: "u1" })).toEqual({ name: "Ada" });
    expect(parseProfileInput({ role: "admin" })).toEqual({});
  });

  it("clears the name with null or a blank string", () => {
    expect(parseProfileInput({ name: null })).toEqual({ name: null });
    expect(parseProfileInput({ name: "   " })).toEqual({ name: null });
  });

  it("accepts 100 characters and rejects 101, control characters, and non-text", () => {
    expect(parseProfileInput({ name: "x".repeat(100) }).name).toHaveLength(100);
    for (const name of ["x".repeat(101), "Ada\u0007", 42, ["Ada"], { first: "Ada" }]) {
      expect(Object.keys(fieldErrors(() => parseProfileInput({ name }))), JSON.stringify(name)).toEqual(["name"]);
    }
  });

  it("gives each problem with the name its own code", () => {
    const problem = (name: unknown) => fieldErrors(() => parseProfileInput({ name })).name;
    expect(problem("x".repeat(101))).toMatchObject({ code: "too_long", max: 100 });
    expect(problem("Ada\u0007")?.code).toBe("invalid_character");
    expect(problem(42)?.code).toBe("invalid");
  });

  it("does not read a name from the prototype or a __proto__ key", () => {
    expect(parseProfileInput(Object.create({ name: "Mallory" }))).toEqual({});
    expect(parseProfileInput(JSON.parse('{"__proto__":{"name":"Mallory"}}'))).toEqual({});
  });

  it("rejects a body that is not an object", () => {
    for (const body of [undefined, null, [], "Ada", 1])
      expect(
        fieldErrors(() => parseProfileInput(body)),
        String(body),
      ).toEqual({});
  });
});

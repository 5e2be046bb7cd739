import { describe, expect, it } from "vitest";
import { HTTP_STATUS } from "../http/status.js";
import { DEFAULT_ERROR_MESSAGES, errorMessage } from "./messages.js";

const GENERIC = "Something went wrong. Try again.";
/** Every code of `GatehouseErrorCode`: `HTTP_STATUS` is typed to have each one as a key. */
const SERVER_CODES = Object.keys(HTTP_STATUS);

describe("errorMessage", () => {
  it.each([...SERVER_CODES, "network_error"])("has a message of its own for %s", (code) => {
    expect(Object.hasOwn(DEFAULT_ERROR_MESSAGES, code)).toBe(true);
    const message = errorMessage(code);
    expect(message).toBe(DEFAULT_ERROR_MESSAGES[code as keyof typeof DEFAULT_ERROR_MESSAGES]);
    expect(message.trim()).not.toBe("");
    expect(message).toMatch(/[.!?]$/);
  });

  it("has no messages for codes that do not exist", () => {
    expect(Object.keys(DEFAULT_ERROR_MESSAGES).sort()).toEqual([...SERVER_CODES, "network_error"].sort());
  });

  it.each([
    ["invalid_credentials", "The email or password is incorrect."],
    ["invalid_input", "Some details were not accepted. Check them and try again."],
    ["email_taken", "An account with this email already exists."],
    ["rate_limited", "Too many attempts. Wait a few minutes and try again."],
    ["csrf", "This form could not be verified. Reload the page and try again."],
    ["unavailable", "The service is temporarily unavailable. Try again shortly."],
    ["email_unverified", "Verify your email address first: we sent you a new link."],
    ["network_error", "Could not reach the server. Check your connection."],
  ])("keeps the wording people have been shown for %s", (code, message) => {
    expect(errorMessage(code)).toBe(message);
  });

  it("is frozen", () => {
    expect(Object.isFrozen(DEFAULT_ERROR_MESSAGES)).toBe(true);
  });

  it("prefers an override, and falls back to the default for the codes not overridden", () => {
    const overrides = { invalid_credentials: "Wrong email or password.", network_error: "You are offline." };
    expect(errorMessage("invalid_credentials", overrides)).toBe("Wrong email or password.");
    expect(errorMessage("network_error", overrides)).toBe("You are offline.");
    expect(errorMessage("email_taken", overrides)).toBe(DEFAULT_ERROR_MESSAGES.email_taken);
    expect(errorMessage("invalid_credentials", { invalid_credentials: undefined })).toBe(
      DEFAULT_ERROR_MESSAGES.invalid_credentials,
    );
  });

  it.each(["no_such_code", "", "__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"])(
    "gives the generic message for the unknown code %j",
    (code) => {
      expect(errorMessage(code)).toBe(GENERIC);
      expect(errorMessage(code, {})).toBe(GENERIC);
      expect(errorMessage(code, { invalid_credentials: "Wrong email or password." })).toBe(GENERIC);
    },
  );

  it("does not take an override for an unknown code from the overrides' prototype", () => {
    const overrides = Object.create({ no_such_code: "inherited" }) as Record<string, string>;
    expect(errorMessage("no_such_code", overrides)).toBe(GENERIC);
  });
});

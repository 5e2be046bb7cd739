import { describe, expect, it } from "vitest";
import { HTTP_STATUS } from "../http/status.js";
import {
  createMessages,
  DEFAULT_ERROR_MESSAGES,
  DEFAULT_FIELD_MESSAGES,
  errorMessage,
  fieldMessage,
} from "./messages.js";

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

  it.each([
    "mfa_required",
    "mfa_pending_expired",
    "invalid_code",
    "mfa_already_enabled",
    "mfa_not_enabled",
    "mfa_setup_required",
    "no_passkeys",
    "invalid_passkey",
    "challenge_expired",
  ])("has a sentence of its own for the second-factor code %s", (code) => {
    expect(Object.hasOwn(DEFAULT_ERROR_MESSAGES, code)).toBe(true);
    expect(errorMessage(code)).not.toBe(GENERIC);
    expect(errorMessage(code)).toMatch(/^[A-Z].*[.]$/);
  });

  it.each([
    "oauth_failed",
    "oauth_denied",
    "account_exists",
    "identity_in_use",
    "provider_already_linked",
    "last_sign_in_method",
  ])("has a sentence of its own for the sign-in-with-a-provider code %s", (code) => {
    expect(Object.hasOwn(DEFAULT_ERROR_MESSAGES, code)).toBe(true);
    expect(errorMessage(code)).not.toBe(GENERIC);
    expect(errorMessage(code)).toMatch(/^[A-Z].*[.]$/);
  });

  it.each(["banned", "last_admin", "cannot_ban_self", "impersonation_forbidden"])(
    "has a sentence of its own for the admin-console code %s",
    (code) => {
      expect(Object.hasOwn(DEFAULT_ERROR_MESSAGES, code)).toBe(true);
      expect(errorMessage(code)).not.toBe(GENERIC);
      expect(errorMessage(code)).toMatch(/^[A-Z].*[.]$/);
    },
  );

  it("tells a person whose email has an account to sign in as before and connect the provider in settings", () => {
    // Never "create an account": the account exists, and is not linked to the provider without its owner.
    expect(errorMessage("account_exists")).toMatch(/already exists/);
    expect(errorMessage("account_exists")).toMatch(/password, then connect .* in settings/);
    expect(errorMessage("last_sign_in_method")).toMatch(/password or add a passkey/);
  });

  it("sends a person whose log-in waited too long back to the password, not to a code they cannot use", () => {
    expect(errorMessage("mfa_pending_expired")).toMatch(/password again/);
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

describe("fieldMessage", () => {
  const tooShort = { code: "too_short", message: "Use at least 12 characters.", min: 12 } as const;

  it("shows the server's English message when no override names the code", () => {
    expect(fieldMessage(tooShort)).toBe("Use at least 12 characters.");
    expect(fieldMessage(tooShort, { too_common: "Trop courant." })).toBe("Use at least 12 characters.");
  });

  it("prefers the override for the code: a sentence, or a function of the problem's limit", () => {
    expect(fieldMessage(tooShort, { too_short: "Trop court." })).toBe("Trop court.");
    expect(fieldMessage(tooShort, { too_short: ({ min }) => `Au moins ${min} caractères.` })).toBe(
      "Au moins 12 caractères.",
    );
  });

  it("reads the plain strings of servers before 0.2.0, and nothing as nothing", () => {
    expect(fieldMessage("Enter a password.")).toBe("Enter a password.");
    expect(fieldMessage(undefined)).toBeUndefined();
  });

  it("falls back to the English default of the code when the problem has no message", () => {
    expect(fieldMessage({ code: "too_long", message: "", max: 100 })).toBe("Use at most 100 characters.");
    expect(fieldMessage({ code: "required", message: "" })).toBe(DEFAULT_FIELD_MESSAGES.required);
  });

  it("looks codes up as own keys only: a code from the wire cannot reach the prototype", () => {
    const hostile = JSON.parse('{"code": "__proto__", "message": ""}');
    expect(fieldMessage(hostile, {})).toBe(GENERIC);
    expect(fieldMessage({ ...hostile, code: "toString" })).toBe(GENERIC);
  });

  it("has an English sentence for every field code", () => {
    for (const [code, message] of Object.entries(DEFAULT_FIELD_MESSAGES)) {
      const text =
        typeof message === "function" ? message({ code: code as "too_short", message: "", min: 8, max: 8 }) : message;
      expect(text, code).toMatch(/^[A-Z].*[.]$/);
      expect(text, code).not.toMatch(/undefined|more|fewer/);
    }
  });
});

describe("createMessages", () => {
  it("binds one dictionary for errors and fields; what it leaves out stays English", () => {
    const messages = createMessages({
      errors: { invalid_credentials: "E-Mail oder Passwort ist falsch." },
      fields: { too_common: "Dieses Passwort ist zu häufig." },
    });
    expect(messages.error("invalid_credentials")).toBe("E-Mail oder Passwort ist falsch.");
    expect(messages.error("rate_limited")).toBe(DEFAULT_ERROR_MESSAGES.rate_limited);
    expect(messages.field({ code: "too_common", message: "This password is one of the most common ones." })).toBe(
      "Dieses Passwort ist zu häufig.",
    );
    expect(messages.field({ code: "required", message: "Enter your password." })).toBe("Enter your password.");
  });
});

describe("fieldMessage on whatever arrives from the wire", () => {
  it("never throws and always answers a string (or nothing for no problem)", () => {
    const hostile: unknown[] = [
      null,
      42,
      [],
      { code: { toString: 1 } },
      { code: "too_short", min: { toString: 1 } },
      { code: "too_long", max: "9; drop" },
      { code: "required", message: 7 },
    ];
    expect(fieldMessage(null)).toBeUndefined();
    for (const value of hostile.slice(1)) {
      const text = fieldMessage(value as never, { required: null as never, too_short: () => undefined as never });
      expect(typeof text, JSON.stringify(value)).toBe("string");
    }
    expect(fieldMessage({ code: "too_short", message: "", min: { toString: 1 } } as never)).toBe(
      "Use more characters.",
    );
    expect(fieldMessage({ code: "too_long", message: "", max: "9; drop" } as never)).toBe("Use fewer characters.");
    // An override keyed by a prototype name is still only an own key of the dictionary.
    expect(fieldMessage({ code: "toString", message: "" } as never, { toString: "x" } as never)).toBe("x");
    expect(fieldMessage({ code: "toString", message: "" } as never, {})).toBe(GENERIC);
    expect(errorMessage({ toString: 1 } as never)).toBe(GENERIC);
  });

  it("ignores dictionary entries that are not sentences, and a missing dictionary", () => {
    const problem = { code: "required", message: "Enter your email address." } as const;
    expect(fieldMessage(problem, { required: null as never })).toBe("Enter your email address.");
    expect(fieldMessage(problem, { required: 42 as never })).toBe("Enter your email address.");
    expect(fieldMessage(problem, { required: () => undefined as never })).toBe("Enter your email address.");
    expect(createMessages(undefined).error("csrf")).toBe(DEFAULT_ERROR_MESSAGES.csrf);
    expect(createMessages(null as never).field(problem)).toBe("Enter your email address.");
  });
});

import { type FieldProblem, InvalidInputError } from "../errors.js";
import { isCommonPassword } from "../password/common.js";
import { checkPassword, normalizePassword, type PasswordPolicy } from "../password/policy.js";
import { isValidEmail, normalizeEmail } from "./email.js";

const MAX_NAME_LENGTH = 100;
/** RFC 5321's limit on a path: anything longer is no address a log-in could match. */
const MAX_EMAIL_LENGTH = 320;

/** What {@link Gatehouse.signUp} takes. Only these fields are read: a `role` is never taken from a client. */
export interface SignUpInput {
  email: string;
  password: string;
  name?: string | null;
}

/** What {@link Gatehouse.logIn} takes. */
export interface LogInInput {
  email: string;
  password: string;
}

/** What {@link Gatehouse.changePassword} takes. */
export interface ChangePasswordInput {
  currentPassword: string;
  newPassword: string;
}

/** What {@link Gatehouse.deleteAccount} takes: the password, unless the log-in is recent enough. */
export interface DeleteAccountInput {
  password?: string;
}

/** What {@link Gatehouse.updateProfile} takes: only `name` is read. */
export interface ProfileInput {
  name?: string | null;
}

/** What {@link Gatehouse.verifyEmail} takes: the token of a link, or a code (with `email` unless signed in). */
export type VerifyEmailInput = { token: string } | { code: string; email?: string };

/** What {@link Gatehouse.requestPasswordReset} takes. */
export interface PasswordResetRequestInput {
  email: string;
}

/** What {@link Gatehouse.confirmPasswordReset} takes: the token of the reset link and the new password. */
export interface PasswordResetInput {
  token: string;
  password: string;
}

/** What {@link Gatehouse.requestEmailChange} takes; without `password`, `ReauthenticationRequiredError`. */
export interface EmailChangeInput {
  email: string;
  password?: string;
}

/** Checked and normalised sign-up fields. */
export interface ValidSignUp {
  email: string;
  password: string;
  name: string | null;
}

/** Checked log-in fields: types and sizes only, so a malformed email costs the same as an unknown one. */
export interface ValidLogIn {
  email: string;
  password: string;
}

/** The body as a plain object, or `InvalidInputError`. */
export function asRecord(input: unknown): Record<string, unknown> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new InvalidInputError({}, "Send a JSON object with the fields this route expects.");
  }
  return input as Record<string, unknown>;
}

/** An own property only: `__proto__` or `constructor` in a body never reach through to the prototype. */
export function field(record: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Checks and normalises sign-up fields; throws `InvalidInputError` naming each bad field. */
export function parseSignUpInput(input: unknown, policy: PasswordPolicy): ValidSignUp {
  const record = asRecord(input);
  const fields: Record<string, FieldProblem> = {};
  const rawEmail = field(record, "email");
  const rawPassword = field(record, "password");
  const rawName = field(record, "name");

  const checked = checkEmail(rawEmail);
  if (checked.problem !== null) fields.email = checked.problem;
  const email = checked.email ?? "";

  const password = typeof rawPassword === "string" ? normalizePassword(rawPassword) : "";
  const passwordProblem = newPasswordProblem(rawPassword, policy);
  if (passwordProblem) fields.password = passwordProblem;

  const name = parseName(rawName, fields);

  if (Object.keys(fields).length > 0) throw new InvalidInputError(fields);
  return { email, password, name };
}

/** A normalised email address, or what is wrong with the one given. */
export function checkEmail(raw: unknown): { email: string; problem: null } | { email: null; problem: FieldProblem } {
  if (typeof raw !== "string" || raw.trim() === "") return { email: null, problem: REQUIRED_EMAIL };
  const email = normalizeEmail(raw);
  if (!isValidEmail(email)) {
    return {
      email: null,
      problem: { code: "invalid_email", message: "Enter a valid email address, like name@example.com." },
    };
  }
  return { email, problem: null };
}

/** Half of a surrogate pair: no character, and a database would store U+FFFD in its place. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const REQUIRED_EMAIL: FieldProblem = { code: "required", message: "Enter your email address." };

/** A display name: optional, trimmed, NFC, at most 100 characters, no control characters. */
function parseName(raw: unknown, fields: Record<string, FieldProblem>): string | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== "string") {
    fields.name = { code: "invalid", message: "The name must be text." };
    return null;
  }
  const name = raw.normalize("NFC").trim() || null;
  const problem = name && nameProblem(name);
  if (problem) fields.name = problem;
  return name;
}

/**
 * What is wrong with a trimmed, non-empty name (a person's or a passkey's), or `null`: more than 100
 * characters, a control character (PostgreSQL refuses NUL), or half of a surrogate pair (no text at all).
 */
export function nameProblem(name: string): FieldProblem | null {
  if (name.length > MAX_NAME_LENGTH) {
    return { code: "too_long", message: `Use at most ${MAX_NAME_LENGTH} characters.`, max: MAX_NAME_LENGTH };
  }
  if (/[\u0000-\u001f\u007f]/.test(name) || LONE_SURROGATE.test(name)) {
    return { code: "invalid_character", message: "Use letters, digits and punctuation, without control characters." };
  }
  return null;
}

/** Checks a profile update: only `name` is read (when present), whatever else the body carries. */
export function parseProfileInput(input: unknown): ProfileInput {
  const record = asRecord(input);
  if (!Object.hasOwn(record, "name")) return {};
  const fields: Record<string, FieldProblem> = {};
  const name = parseName(record.name, fields);
  if (Object.keys(fields).length > 0) throw new InvalidInputError(fields);
  return { name };
}

/** Why a new password (as sent) is not acceptable, or `null`: length rules, then the common-password list. */
export function newPasswordProblem(raw: unknown, policy: PasswordPolicy): FieldProblem | null {
  if (typeof raw !== "string" || raw === "") return { code: "required", message: "Enter a password." };
  const password = normalizePassword(raw);
  const problem = checkPassword(password, policy);
  if (problem) return problem;
  if (isCommonPassword(password)) {
    return {
      code: "too_common",
      message: "This password is one of the most common ones. Choose one that is harder to guess.",
    };
  }
  return null;
}

/** Checks log-in fields' presence, types and sizes; throws `InvalidInputError`. */
export function parseLogInInput(input: unknown, policy: PasswordPolicy): ValidLogIn {
  const record = asRecord(input);
  const fields: Record<string, FieldProblem> = {};
  const rawEmail = field(record, "email");
  const rawPassword = field(record, "password");
  if (typeof rawEmail !== "string" || rawEmail.trim() === "") fields.email = REQUIRED_EMAIL;
  else if (rawEmail.length > MAX_EMAIL_LENGTH) {
    fields.email = { code: "too_long", message: "That email address is too long.", max: MAX_EMAIL_LENGTH };
  }
  if (typeof rawPassword !== "string" || rawPassword === "") {
    fields.password = { code: "required", message: "Enter your password." };
  } else if ([...rawPassword].length > policy.maxLength * 4) {
    fields.password = { code: "too_long", message: "That password is too long.", max: policy.maxLength * 4 };
  }
  if (Object.keys(fields).length > 0) throw new InvalidInputError(fields);
  return { email: normalizeEmail(rawEmail as string), password: normalizePassword(rawPassword as string) };
}

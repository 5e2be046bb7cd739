import { InvalidInputError } from "../errors.js";
import { isValidEmail, normalizeEmail } from "./email.js";
import { checkPassword, normalizePassword, type PasswordPolicy } from "../password/policy.js";

const MAX_NAME_LENGTH = 100;

/** Validated sign-up input. */
export interface SignUpInput {
  email: string;
  password: string;
  name: string | null;
}

/** Validated log-in input: types and sizes only, so a malformed email costs the same as an unknown one. */
export interface LogInInput {
  email: string;
  password: string;
}

function asRecord(input: unknown): Record<string, unknown> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new InvalidInputError({}, "Send a JSON object with the fields email and password.");
  }
  return input as Record<string, unknown>;
}

function field(record: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Checks and normalises sign-up fields; throws `InvalidInputError` naming each bad field. */
export function parseSignUpInput(input: unknown, policy: PasswordPolicy): SignUpInput {
  const record = asRecord(input);
  const fields: Record<string, string> = {};
  const rawEmail = field(record, "email");
  const rawPassword = field(record, "password");
  const rawName = field(record, "name");

  let email = "";
  if (typeof rawEmail !== "string" || rawEmail.trim() === "") fields.email = "Enter your email address.";
  else {
    email = normalizeEmail(rawEmail);
    if (!isValidEmail(email)) fields.email = "Enter a valid email address, like name@example.com.";
  }

  let password = "";
  if (typeof rawPassword !== "string" || rawPassword === "") fields.password = "Enter a password.";
  else {
    password = normalizePassword(rawPassword);
    const problem = checkPassword(password, policy);
    if (problem) fields.password = problem;
  }

  let name: string | null = null;
  if (rawName !== undefined && rawName !== null) {
    if (typeof rawName !== "string") fields.name = "The name must be text.";
    else {
      name = rawName.normalize("NFC").trim() || null;
      if (name && (name.length > MAX_NAME_LENGTH || /[\u0000-\u001f\u007f]/.test(name))) {
        fields.name = `Use at most ${MAX_NAME_LENGTH} characters, without control characters.`;
      }
    }
  }

  if (Object.keys(fields).length > 0) throw new InvalidInputError(fields);
  return { email, password, name };
}

/** Checks log-in fields' presence, types and sizes; throws `InvalidInputError`. */
export function parseLogInInput(input: unknown, policy: PasswordPolicy): LogInInput {
  const record = asRecord(input);
  const fields: Record<string, string> = {};
  const rawEmail = field(record, "email");
  const rawPassword = field(record, "password");
  if (typeof rawEmail !== "string" || rawEmail.trim() === "") fields.email = "Enter your email address.";
  else if (rawEmail.length > 320) fields.email = "That email address is too long.";
  if (typeof rawPassword !== "string" || rawPassword === "") fields.password = "Enter your password.";
  else if ([...rawPassword].length > policy.maxLength * 4) fields.password = "That password is too long.";
  if (Object.keys(fields).length > 0) throw new InvalidInputError(fields);
  return { email: normalizeEmail(rawEmail as string), password: normalizePassword(rawPassword as string) };
}

import type {
  ChangePasswordInput,
  DeleteAccountInput,
  EmailChangeInput,
  LogInInput,
  PasswordResetInput,
  PasswordResetRequestInput,
  ProfileInput,
  SignUpInput,
  VerifyEmailInput,
} from "../core/input.js";
import { asRecord, field } from "../core/input.js";
import type { SecondFactorInput, TotpCodeInput } from "../core/mfa.js";
import type { PasskeyLogInInput, RegisterPasskeyInput } from "../core/passkeys.js";
import type { FreshAuthInput } from "../core/password-check.js";
import type { ParsedBody } from "./body.js";

/**
 * A request body as the typed input of a core call: an object (else `InvalidInputError`), of which only the
 * named fields are taken, and only as own properties (`__proto__` in a body reaches nothing). The values'
 * types and contents are checked by the core, which must check them anyway for JavaScript callers.
 */
function pick<T>(body: ParsedBody, names: readonly string[]): T {
  const record = asRecord(body.kind === "empty" ? undefined : body.data);
  const picked: Record<string, unknown> = {};
  for (const name of names) {
    const value = field(record, name);
    if (value !== undefined) picked[name] = value;
  }
  return picked as T;
}

/** The typed inputs of the core's calls, from request bodies. */
export const inputs = {
  signUp: (body: ParsedBody) => pick<SignUpInput>(body, ["email", "password", "name"]),
  logIn: (body: ParsedBody) => pick<LogInInput>(body, ["email", "password"]),
  changePassword: (body: ParsedBody) => pick<ChangePasswordInput>(body, ["currentPassword", "newPassword"]),
  deleteAccount: (body: ParsedBody) => (body.kind === "empty" ? {} : pick<DeleteAccountInput>(body, ["password"])),
  verifyEmail: (body: ParsedBody) => pick<VerifyEmailInput>(body, ["token", "code", "email"]),
  passwordResetRequest: (body: ParsedBody) => pick<PasswordResetRequestInput>(body, ["email"]),
  passwordReset: (body: ParsedBody) => pick<PasswordResetInput>(body, ["token", "password"]),
  emailChange: (body: ParsedBody) => pick<EmailChangeInput>(body, ["email", "password"]),
  freshAuth: (body: ParsedBody) => (body.kind === "empty" ? {} : pick<FreshAuthInput>(body, ["password"])),
  totpCode: (body: ParsedBody) => pick<TotpCodeInput>(body, ["code"]),
  secondFactor(body: ParsedBody): SecondFactorInput {
    const picked = pick<Record<string, unknown>>(body, ["code", "recoveryCode", "passkey"]);
    // A form sends its empty inputs too (the code field while a recovery code is used): they are not answers.
    if (body.kind === "form") for (const [name, value] of Object.entries(picked)) if (value === "") delete picked[name];
    return picked as SecondFactorInput;
  },
  registerPasskey: (body: ParsedBody) => pick<RegisterPasskeyInput>(body, ["response", "name"]),
  passkeyName: (body: ParsedBody) => pick<{ name: string }>(body, ["name"]),
  passkeyLogIn: (body: ParsedBody) => pick<PasskeyLogInInput>(body, ["response"]),
};

/**
 * A profile update from a JSON body you read yourself (see `readJsonBody`): only `name` is taken.
 *
 * @example
 * ```ts
 * const updated = await gatehouse.updateProfile(user.id, profileInput(await readJsonBody(req)));
 * ```
 */
export function profileInput(body: unknown): ProfileInput {
  const record = asRecord(body);
  return Object.hasOwn(record, "name") ? { name: record.name as string | null } : {};
}

/** Length rules for passwords, counted in Unicode code points after NFKC normalisation. */
export interface PasswordPolicy {
  minLength: number;
  maxLength: number;
}

export const DEFAULT_PASSWORD_POLICY: Readonly<PasswordPolicy> = Object.freeze({ minLength: 8, maxLength: 256 });

/**
 * NFKC-normalises a password so that the same password typed on different keyboards (composed vs
 * decomposed accents, full-width digits) hashes the same.
 */
export function normalizePassword(password: string): string {
  return password.normalize("NFKC");
}

/** Why a password breaks the length rules: a code, an English message, and the limit broken. */
export type PasswordProblem =
  | { code: "too_short"; message: string; min: number }
  | { code: "too_long"; message: string; max: number }
  | { code: "invalid_character"; message: string };

/** Returns why a normalised password is not acceptable, or `null` when it is. No composition rules. */
export function checkPassword(password: string, policy: PasswordPolicy): PasswordProblem | null {
  const length = countCodePoints(password);
  const { minLength: min, maxLength: max } = policy;
  if (length < min) return { code: "too_short", message: `Use at least ${min} characters.`, min };
  if (length > max) return { code: "too_long", message: `Use at most ${max} characters.`, max };
  if (password.includes("\u0000")) {
    return { code: "invalid_character", message: "The password contains a character that is not allowed." };
  }
  return null;
}

function countCodePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

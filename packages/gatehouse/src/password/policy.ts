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

/** Returns why a normalised password is not acceptable, or `null` when it is. No composition rules. */
export function checkPassword(password: string, policy: PasswordPolicy): string | null {
  const length = countCodePoints(password);
  if (length < policy.minLength) return `Use at least ${policy.minLength} characters.`;
  if (length > policy.maxLength) return `Use at most ${policy.maxLength} characters.`;
  if (password.includes("\u0000")) return "The password contains a character that is not allowed.";
  return null;
}

function countCodePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

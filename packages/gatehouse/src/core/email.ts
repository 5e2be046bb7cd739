/** Longest address SMTP can carry (RFC 5321 path limit minus the angle brackets). */
const MAX_EMAIL_LENGTH = 254;

/**
 * The WHATWG `input type=email` grammar, with at least one dot in the domain. It excludes quotes, commas,
 * spaces, angle brackets and non-ASCII look-alikes such as the full-width `＠`, which have all been used
 * to smuggle a second address past auth libraries.
 */
const EMAIL =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** Trims and lower-cases an email address: the form in which it is stored and compared. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Whether a normalised email address is acceptable. */
export function isValidEmail(email: string): boolean {
  return email.length <= MAX_EMAIL_LENGTH && EMAIL.test(email);
}

import { dictionary } from "@zxcvbn-ts/language-common";

let common: ReadonlySet<string> | undefined;

/**
 * Whether a password is on the shipped list of about 49,000 passwords most often found in breaches
 * (zxcvbn-ts's common list, which includes the usual "top 10,000"). Case-insensitive. The list is loaded
 * on first use, so importing Gatehouse costs nothing until someone signs up.
 */
export function isCommonPassword(password: string): boolean {
  common ??= new Set((dictionary["passwords-common"] as string[]).map((word) => word.toLowerCase()));
  return common.has(password.toLowerCase());
}

let common: ReadonlySet<string> | undefined;
let loading: Promise<void> | undefined;

/**
 * Loads the shipped list of about 49,000 passwords most often found in breaches (zxcvbn-ts's common list,
 * which includes the usual "top 10,000"), once. It is about 400 KB, so it is imported on first use: loading
 * Gatehouse costs nothing until someone chooses a password.
 */
export function loadCommonPasswords(): Promise<void> {
  loading ??= import("@zxcvbn-ts/language-common").then(({ dictionary }) => {
    common = new Set((dictionary["passwords-common"] as string[]).map((word) => word.toLowerCase()));
  });
  return loading;
}

/** Whether a password is on the common list (case-insensitive). Call {@link loadCommonPasswords} first. */
export function isCommonPassword(password: string): boolean {
  if (!common) throw new Error("isCommonPassword: await loadCommonPasswords() first.");
  return common.has(password.toLowerCase());
}

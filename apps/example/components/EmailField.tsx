import type { ReactNode } from "react";
import { Field, type FieldProps } from "./Field";

/** The account's email address, as the log-in, sign-up and verification forms ask for it (up to 320 characters). */
export function EmailField({
  autoComplete = "email",
  defaultValue,
  error,
}: {
  /** The browser's autofill hint: `email` unless the form wants more, e.g. the log-in's passkeys. */
  autoComplete?: FieldProps["autoComplete"];
  /** What the input starts with: an address the server refused, to correct. */
  defaultValue?: FieldProps["defaultValue"];
  /** The server's message for the address, if it refused it. */
  error?: FieldProps["error"];
}): ReactNode {
  return (
    <Field
      name="email"
      label="Email"
      type="email"
      autoComplete={autoComplete}
      required
      maxLength={320}
      defaultValue={defaultValue}
      error={error}
    />
  );
}

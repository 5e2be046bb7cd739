import type { ReactNode } from "react";
import { Field } from "./Field";

/** The library's default minimum (`password.minLength`); the server checks it whatever the browser does. */
const MIN_PASSWORD_LENGTH = 8;

/** A field for choosing a password, with the rules as its hint and the browser's password-manager hint. */
export function NewPasswordField({
  name,
  label,
  error,
}: {
  name: string;
  label: string;
  error: string | undefined;
}): ReactNode {
  return (
    <Field
      name={name}
      label={label}
      type="password"
      autoComplete="new-password"
      required
      minLength={MIN_PASSWORD_LENGTH}
      maxLength={256}
      hint={`Use at least ${MIN_PASSWORD_LENGTH} characters. A long phrase is easier to remember and harder to guess.`}
      error={error}
    />
  );
}

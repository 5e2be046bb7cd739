import type { ReactNode } from "react";
import { Field, type FieldProps } from "./Field";

/** The optional display name, as the sign-up and profile forms ask for it (the API takes up to 100 characters). */
export function NameField({
  defaultValue,
  error,
}: {
  /** What the input starts with: the saved name, or one the server refused, to correct. */
  defaultValue?: FieldProps["defaultValue"];
  /** The server's message for the name, if it refused it. */
  error?: FieldProps["error"];
}): ReactNode {
  return (
    <Field
      name="name"
      label={
        <>
          Name <span className="field__optional">(optional)</span>
        </>
      }
      type="text"
      autoComplete="name"
      maxLength={100}
      defaultValue={defaultValue}
      error={error}
    />
  );
}

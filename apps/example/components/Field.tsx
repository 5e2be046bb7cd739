import type { ReactNode, Ref } from "react";
import { ErrorIcon } from "./icons";

export interface FieldProps {
  name: string;
  label: ReactNode;
  type: "email" | "password" | "text";
  autoComplete: string;
  required?: boolean;
  minLength?: number;
  maxLength?: number;
  /** Help shown under the label, e.g. the password rules. */
  hint?: string;
  /** The server's message for this field, if it refused the value. */
  error?: string;
  /** `numeric` for codes: phones show the digit keypad. */
  inputMode?: "numeric" | "text";
  defaultValue?: string;
  /** To move focus to the input, e.g. when a step of a form appears. */
  inputRef?: Ref<HTMLInputElement>;
}

/** A labelled input whose hint and error are announced with it (`aria-describedby`). */
export function Field({
  name,
  label,
  type,
  autoComplete,
  required,
  minLength,
  maxLength,
  hint,
  error,
  inputMode,
  defaultValue,
  inputRef,
}: FieldProps): ReactNode {
  const id = `field-${name}`;
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(" ") || undefined;
  return (
    <div className={error ? "field field--invalid" : "field"}>
      <label htmlFor={id}>{label}</label>
      {hint && (
        <p id={hintId} className="field__hint">
          {hint}
        </p>
      )}
      <input
        id={id}
        name={name}
        type={type}
        autoComplete={autoComplete}
        required={required}
        minLength={minLength}
        maxLength={maxLength}
        inputMode={inputMode}
        defaultValue={defaultValue}
        ref={inputRef}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
      />
      {error && (
        <p id={errorId} className="field__error">
          <ErrorIcon />
          <span>{error}</span>
        </p>
      )}
    </div>
  );
}

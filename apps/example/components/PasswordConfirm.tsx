import type { AuthFailure } from "gatehouse-auth/react";
import { type ReactNode, useEffect, useRef } from "react";
import { useForm } from "../hooks/useForm";
import { formValue } from "../lib/forms";
import { Field } from "./Field";
import { FormAlert } from "./FormAlert";

/**
 * "Confirm with your password" for one change to how the account signs in, opened by a button: the
 * password field takes focus as it appears, and Cancel closes it again. Needs JavaScript.
 */
export function PasswordConfirm<Result extends { ok: true }>({
  name,
  submitLabel,
  pendingLabel,
  failureTitle,
  tone,
  send,
  onSuccess,
  onCancel,
  children,
}: {
  /** The password input's name, unique on the page. */
  name: string;
  submitLabel: string;
  pendingLabel: string;
  /** The alert's title when the change was refused, e.g. "Your passkey was not removed". */
  failureTitle: string;
  tone?: "danger";
  send: (password: string) => Promise<Result | AuthFailure>;
  onSuccess: (result: Result) => void;
  onCancel: () => void;
  /** What the change does, above the field. */
  children?: ReactNode;
}): ReactNode {
  const confirm = useForm((form) => send(formValue(form, name)), { onSuccess });
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    input.current?.focus();
  }, []);
  const failure = confirm.outcome && !confirm.outcome.ok ? confirm.outcome : null;
  return (
    <div className="confirm">
      {failure && (
        <FormAlert key={failure.attempt} title={failureTitle}>
          {failure.message}
        </FormAlert>
      )}
      {children}
      <form className="form" onSubmit={confirm.onSubmit}>
        <Field
          name={name}
          label="Password"
          type="password"
          autoComplete="current-password"
          required
          maxLength={256}
          error={failure?.fields.password}
          inputRef={input}
        />
        <div className="actions actions--form">
          <button
            type="submit"
            className={tone === "danger" ? "button button--danger" : "button"}
            disabled={confirm.pending}
          >
            {confirm.pending ? pendingLabel : submitLabel}
          </button>
          <button type="button" className="button button--secondary" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </div>
  );
}

import type { AuthFailure } from "gatehouse-auth/react";
import type { ReactNode } from "react";
import { useFocusOnMount } from "../hooks/useFocusOnMount";
import { useForm } from "../hooks/useForm";
import { formValue } from "../lib/forms";
import { Field } from "./Field";
import { FormActions } from "./FormActions";
import { FormAlert } from "./FormAlert";

/**
 * What a confirmed change does next: hand the result on (the card updates in place), or go to the address
 * it names (connecting an account goes on to the provider), the button staying pending until then.
 */
export type ConfirmThen<Result> =
  | { onSuccess: (result: Result) => void; navigate?: never }
  | { navigate: (result: Result) => string; onSuccess?: never };

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
  navigate,
  onCancel,
  children,
}: ConfirmThen<Result> & {
  /** The password input's name, unique on the page. */
  name: string;
  submitLabel: string;
  pendingLabel: string;
  /** The alert's title when the change was refused, e.g. "Your passkey was not removed". */
  failureTitle: string;
  tone?: "danger";
  send: (password: string) => Promise<Result | AuthFailure>;
  onCancel: () => void;
  /** What the change does, above the field. */
  children?: ReactNode;
}): ReactNode {
  const confirm = useForm(
    (form) => send(formValue(form, name)),
    navigate ? { navigate } : { onSuccess: onSuccess ?? (() => undefined) },
  );
  const input = useFocusOnMount<HTMLInputElement>();
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
        <FormActions
          pending={confirm.pending}
          submitLabel={submitLabel}
          pendingLabel={pendingLabel}
          tone={tone}
          onCancel={onCancel}
        />
      </form>
    </div>
  );
}

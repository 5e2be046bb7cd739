"use client";

import type { AuthFailure } from "gatehouse-auth/react";
import { type KeyboardEvent, type ReactNode, useEffect, useId, useRef } from "react";
import { useForm } from "../hooks/useForm";
import { formValue } from "../lib/forms";
import { Field } from "./Field";
import { FormActions } from "./FormActions";
import { FormAlert } from "./FormAlert";
import type { ConfirmThen } from "./PasswordConfirm";

/** The password input's name: one dialog is open at a time. */
const PASSWORD_FIELD = "adminPassword";

/** What Tab can reach in the dialog. */
const FOCUSABLE = "input, select, textarea, button, a[href], [tabindex]:not([tabindex='-1'])";

/**
 * Tab from the last control goes to the first, and Shift+Tab from the first to the last. A modal `<dialog>`
 * makes the page behind it inert, but the browser would still tab out of it, to its own toolbar or nowhere.
 */
function keepFocusInside(event: KeyboardEvent<HTMLDialogElement>): void {
  if (event.key !== "Tab") return;
  const controls = [...event.currentTarget.querySelectorAll<HTMLElement>(FOCUSABLE)].filter(
    (element) => !element.matches(":disabled"),
  );
  const first = controls[0];
  const last = controls[controls.length - 1];
  if (!first || !last) return;
  const edge = event.shiftKey ? first : last;
  if (document.activeElement !== edge && event.currentTarget.contains(document.activeElement)) return;
  event.preventDefault();
  (event.shiftKey ? last : first).focus();
}

/**
 * An admin action's confirmation, as a modal dialog: what it does, its own fields (a role, a reason) and the
 * admin's password, which every write of the admin API asks for again. The browser's `<dialog>` keeps focus
 * inside while it is open, closes on Escape and gives focus back to the button that opened it. A refusal
 * stays in the dialog: a wrong password next to the field, anything else in an alert at its top.
 */
export function AdminConfirmDialog<Result extends { ok: true }>({
  title,
  submitLabel,
  pendingLabel,
  failureTitle,
  tone,
  send,
  onSuccess,
  navigate,
  onClose,
  messageFor,
  fields,
  children,
}: ConfirmThen<Result> & {
  /** The dialog's heading, e.g. "Ban ada@example.com?". */
  title: string;
  submitLabel: string;
  pendingLabel: string;
  /** The alert's title when the action was refused, e.g. "Ada was not banned". */
  failureTitle: string;
  tone?: "danger";
  /** Runs the action with the form's values and the typed password. */
  send: (form: FormData, password: string) => Promise<Result | AuthFailure>;
  /** Called once the dialog has closed, whether by Cancel, Escape or success. */
  onClose: () => void;
  /** This action's own wording for an error code, e.g. why a user cannot be viewed as; else the app's. */
  messageFor?: (code: string) => string | undefined;
  /** The action's own inputs, above the password (each given its error by the caller). */
  fields?: (errors: Readonly<Record<string, string>>) => ReactNode;
  /** What the action does. */
  children: ReactNode;
}): ReactNode {
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const confirm = useForm(
    (form) => send(form, formValue(form, PASSWORD_FIELD)),
    navigate
      ? { navigate }
      : {
          onSuccess: (result) => {
            onSuccess?.(result);
            dialog.current?.close();
          },
        },
    // A refused password is typed again; the action's own fields keep what was typed.
    { clearOnFailure: [PASSWORD_FIELD] },
  );

  // Opened as it appears. `showModal` moves focus to the first field; closing it (Cancel, Escape, success)
  // fires `close`, and the caller then takes the dialog away. Not closed on unmount: in development React
  // runs this effect twice, and the close event of the first would remove the dialog just opened.
  useEffect(() => {
    if (dialog.current && !dialog.current.open) dialog.current.showModal();
  }, []);

  const failure = confirm.outcome && !confirm.outcome.ok ? confirm.outcome : null;
  const errors = failure?.fields ?? {};
  const message = failure ? (messageFor?.(failure.code ?? "") ?? failure.message) : "";
  return (
    <dialog
      ref={dialog}
      className="dialog"
      aria-labelledby={titleId}
      onClose={onClose}
      // While the action runs, Escape does not hide it: its answer is shown here.
      onCancel={(event) => confirm.pending && event.preventDefault()}
      onKeyDown={keepFocusInside}
    >
      <div className="dialog__body">
        <h2 id={titleId} className="dialog__title">
          {title}
        </h2>
        {failure && (
          <FormAlert key={failure.attempt} title={failureTitle}>
            {message}
          </FormAlert>
        )}
        {children}
        <form className="form" onSubmit={confirm.onSubmit}>
          {fields?.(errors)}
          <Field
            name={PASSWORD_FIELD}
            label="Your password"
            hint="Every admin action asks for your password again."
            type="password"
            autoComplete="current-password"
            required
            maxLength={256}
            error={errors.password}
          />
          <FormActions
            pending={confirm.pending}
            submitLabel={submitLabel}
            pendingLabel={pendingLabel}
            tone={tone}
            onCancel={() => dialog.current?.close()}
          />
        </form>
      </div>
    </dialog>
  );
}

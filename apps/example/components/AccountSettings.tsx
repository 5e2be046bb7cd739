"use client";

import { changePassword, deleteAccount } from "gatehouse-auth/react";
import type { ReactNode } from "react";
import { useForm } from "../hooks/useForm";
import { formValue } from "../lib/forms";
import { Field } from "./Field";
import { FormAlert } from "./FormAlert";
import { NewPasswordField } from "./NewPasswordField";

/** Change the password, or delete the account. Both ask for the current password. Needs JavaScript. */
export function AccountSettings(): ReactNode {
  const password = useForm(
    (form) =>
      changePassword({
        currentPassword: formValue(form, "currentPassword"),
        newPassword: formValue(form, "newPassword"),
      }),
    { message: "Your password has been changed, and every other session has been signed out." },
  );
  const removal = useForm(
    (form) => deleteAccount({ password: formValue(form, "password") }),
    // Signed out everywhere: a full navigation, so no signed-in state survives.
    { navigate: "/" },
  );

  return (
    <div className="stack">
      <section className="card card--wide" aria-labelledby="password-heading">
        <h2 id="password-heading">Change your password</h2>
        {password.outcome && !password.outcome.ok && (
          <FormAlert key={password.outcome.attempt} title="Your password was not changed">
            {password.outcome.message}
          </FormAlert>
        )}
        <p role="status" className="status--success">
          {password.outcome?.ok ? password.outcome.message : ""}
        </p>
        <form className="form" onSubmit={password.onSubmit}>
          <Field
            name="currentPassword"
            label="Current password"
            type="password"
            autoComplete="current-password"
            required
            error={password.outcome?.fields.currentPassword}
          />
          <NewPasswordField name="newPassword" label="New password" error={password.outcome?.fields.newPassword} />
          <button type="submit" className="button" disabled={password.pending}>
            {password.pending ? "Changing…" : "Change password"}
          </button>
        </form>
      </section>

      <section className="card card--wide card--danger" aria-labelledby="delete-heading">
        <h2 id="delete-heading">Delete your account</h2>
        <p>This removes your account and signs you out everywhere. It cannot be undone.</p>
        {removal.outcome && !removal.outcome.ok && (
          <FormAlert key={removal.outcome.attempt} title="Your account was not deleted">
            {removal.outcome.message}
          </FormAlert>
        )}
        <form className="form" onSubmit={removal.onSubmit}>
          <Field
            name="password"
            label="Your password"
            type="password"
            autoComplete="current-password"
            required
            error={removal.outcome?.fields.password}
          />
          <button type="submit" className="button button--danger" disabled={removal.pending}>
            {removal.pending ? "Deleting…" : "Delete account"}
          </button>
        </form>
      </section>
    </div>
  );
}

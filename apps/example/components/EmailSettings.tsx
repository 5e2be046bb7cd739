"use client";

import { changeEmail } from "gatehouse-auth/react";
import type { ReactNode } from "react";
import { useForm } from "../hooks/useForm";
import { formValue } from "../lib/forms";
import { DevOutboxHint } from "./DevOutboxHint";
import { Field } from "./Field";
import { FormAlert } from "./FormAlert";
import { ResendVerification } from "./ResendVerification";
import { SuccessNotice } from "./SuccessNotice";
import { VerifiedBadge } from "./UserFacts";

/** The current address, its verification, and the form to move the account to a new one. */
export function EmailSettings({ email, verified }: { email: string; verified: boolean }): ReactNode {
  const change = useForm(
    (form) => changeEmail({ email: formValue(form, "newEmail"), password: formValue(form, "emailChangePassword") }),
    { message: (result) => `Confirm ${result.pendingEmail ?? "your new address"} to finish` },
  );
  return (
    <section className="card card--wide" aria-labelledby="email-heading">
      <h2 id="email-heading">Email address</h2>
      <p>
        Your account uses <strong>{email}</strong> <VerifiedBadge verified={verified} />
      </p>
      {!verified && <ResendVerification email={email} />}
      <h3>Change your email</h3>
      {change.outcome?.ok && (
        <SuccessNotice key={change.outcome.attempt} title={change.outcome.message}>
          <p>We sent a link to the new address. Until you open it, your account keeps using {email}.</p>
          <DevOutboxHint />
        </SuccessNotice>
      )}
      {change.outcome && !change.outcome.ok && (
        <FormAlert key={change.outcome.attempt} title="Your email was not changed">
          {change.outcome.message}
        </FormAlert>
      )}
      <form className="form" onSubmit={change.onSubmit}>
        <Field
          name="newEmail"
          label="New email"
          type="email"
          autoComplete="email"
          required
          maxLength={320}
          error={change.outcome?.fields.email}
        />
        <Field
          name="emailChangePassword"
          label="Confirm with your password"
          type="password"
          autoComplete="current-password"
          required
          error={change.outcome?.fields.password}
        />
        <button type="submit" className="button" disabled={change.pending}>
          {change.pending ? "Sending…" : "Send confirmation link"}
        </button>
      </form>
    </section>
  );
}

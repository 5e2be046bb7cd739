"use client";

import { DevOutboxHint } from "@shared/components/DevOutboxHint";
import { Field } from "@shared/components/Field";
import { FormAlert } from "@shared/components/FormAlert";
import { SuccessNotice } from "@shared/components/SuccessNotice";
import Link from "next/link";
import { type ReactNode, useActionState } from "react";
import { requestPasswordReset } from "@/app/actions";
import { submitted, useActionOutcome } from "@/hooks/useActionOutcome";

/** Asks for a reset link, with or without JavaScript. The answer never says whether the address has an account. */
export function ForgotPasswordForm(): ReactNode {
  const [state, action, pending] = useActionState(requestPasswordReset, null);
  const outcome = useActionOutcome(state, "Check your inbox");
  return (
    <div className="card">
      <h1>Forgot your password?</h1>
      {outcome?.ok ? (
        <SuccessNotice title={outcome.message}>
          <p>
            If an account uses that address, we sent it a link to choose a new password. The link works once, and only
            for a short while.
          </p>
          <p>
            Nothing arrived? Check your spam folder, or <a href="/forgot-password">ask again</a> in a minute.
          </p>
          <DevOutboxHint />
        </SuccessNotice>
      ) : (
        <>
          <p>Enter the email address of your account and we will send you a link to choose a new password.</p>
          {outcome && (
            <FormAlert key={outcome.attempt} title="We could not send the link">
              {outcome.message}
            </FormAlert>
          )}
          <form action={action} className="form">
            <Field
              name="email"
              label="Email"
              type="email"
              autoComplete="email"
              required
              maxLength={320}
              defaultValue={submitted(state, "email")}
              error={outcome?.fields.email}
            />
            <button type="submit" className="button button--block" disabled={pending}>
              {pending ? "Sending…" : "Send reset link"}
            </button>
          </form>
        </>
      )}
      <p className="card__footer">
        Remembered it? <Link href="/login">Log in</Link>
      </p>
    </div>
  );
}

import Link from "next/link";
import type { ReactNode } from "react";
import type { FormCardProps } from "./cardForm";
import { DevOutboxHint } from "./DevOutboxHint";
import { EmailField } from "./EmailField";
import { FormAlert } from "./FormAlert";
import { SuccessNotice } from "./SuccessNotice";

/**
 * The "forgot your password?" card of both example apps: the email form, sent as the app's `form` says,
 * and once it is sent (`outcome.ok`, its message the notice's title) what to expect. The answer never says
 * whether the address has an account.
 */
export function ForgotPasswordCard({ form, pending, outcome, values }: FormCardProps<"email">): ReactNode {
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
          <form {...form} className="form">
            <EmailField defaultValue={values?.email} error={outcome?.fields.email} />
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

import { requestPasswordReset } from "gatehouse-auth/react";
import type { GetServerSideProps } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { DevOutboxHint } from "../components/DevOutboxHint";
import { Field } from "../components/Field";
import { FormAlert } from "../components/FormAlert";
import { PageTitle } from "../components/PageTitle";
import { SuccessNotice } from "../components/SuccessNotice";
import { useForm } from "../hooks/useForm";
import { devOutboxOpenTo } from "../lib/devOutbox";
import { formValue } from "../lib/forms";

export const getServerSideProps: GetServerSideProps<{ devOutbox: boolean }> = async ({ req }) => ({
  props: { devOutbox: devOutboxOpenTo(req) },
});

/** Asks for a reset link. The answer never says whether the address has an account. */
export default function ForgotPasswordPage(): ReactNode {
  const { pending, outcome, onSubmit } = useForm((form) => requestPasswordReset({ email: formValue(form, "email") }), {
    message: "Check your inbox",
  });
  return (
    <>
      <PageTitle title="Forgot your password?" />
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
            <form className="form" onSubmit={onSubmit}>
              <Field
                name="email"
                label="Email"
                type="email"
                autoComplete="email"
                required
                maxLength={320}
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
    </>
  );
}

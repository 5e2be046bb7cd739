import { resetPassword } from "gatehouse-auth/react";
import type { GetServerSideProps } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { FormAlert } from "../components/FormAlert";
import { NewPasswordField } from "../components/NewPasswordField";
import { PageTitle } from "../components/PageTitle";
import { SuccessNotice } from "../components/SuccessNotice";
import { useForm } from "../hooks/useForm";
import { formValue } from "../lib/forms";

interface ResetPasswordProps {
  /** The token from the emailed link; `null` when the link is incomplete. */
  token: string | null;
}

export const getServerSideProps: GetServerSideProps<ResetPasswordProps> = async ({ query }) => ({
  props: { token: typeof query.token === "string" && query.token !== "" ? query.token : null },
});

/** A link that cannot be used any more: say why and offer a new one. */
function DeadLink({ title, children }: { title: string; children: ReactNode }): ReactNode {
  return (
    <FormAlert title={title}>
      {children} <Link href="/forgot-password">Ask for a new link</Link>.
    </FormAlert>
  );
}

/**
 * Where a reset link lands (served with `Referrer-Policy: no-referrer`, so the token in the URL never leaks
 * to another site). Posting the new password uses up the link, ends every session and signs nobody in.
 */
export default function ResetPasswordPage({ token }: ResetPasswordProps): ReactNode {
  const { pending, outcome, onSubmit } = useForm(
    (form) => resetPassword({ token: token ?? "", password: formValue(form, "password") }),
    { message: "Your password has been changed" },
  );
  const linkFailed = outcome && !outcome.ok && (outcome.code === "invalid_token" || outcome.code === "token_expired");
  // Once the password is set, the page is about that, not about choosing one.
  const title = outcome?.ok ? outcome.message : "Choose a new password";
  return (
    <>
      <PageTitle title={title} />
      <div className="card">
        <h1>{title}</h1>
        {!token ? (
          <DeadLink title="This link is incomplete">Open the whole link from the email, or</DeadLink>
        ) : outcome?.ok ? (
          <SuccessNotice title="Every session was signed out">
            <p>For your safety we signed you out on every device. Log in with your new password.</p>
            <p>
              <Link href="/login" className="button">
                Log in
              </Link>
            </p>
          </SuccessNotice>
        ) : linkFailed ? (
          <DeadLink
            key={outcome.attempt}
            title={outcome.code === "token_expired" ? "This link has expired" : "This link cannot be used"}
          >
            {outcome.message}
          </DeadLink>
        ) : (
          <>
            {outcome && (
              <FormAlert key={outcome.attempt} title="Your password was not changed">
                {outcome.message}
              </FormAlert>
            )}
            <form className="form" onSubmit={onSubmit}>
              <NewPasswordField name="password" label="New password" error={outcome?.fields.password} />
              <button type="submit" className="button button--block" disabled={pending}>
                {pending ? "Saving…" : "Set new password"}
              </button>
            </form>
          </>
        )}
      </div>
    </>
  );
}

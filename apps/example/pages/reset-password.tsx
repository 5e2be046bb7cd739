import { resetPassword } from "gatehouse-auth/react";
import type { GetServerSideProps } from "next";
import type { ReactNode } from "react";
import { PageTitle } from "../components/PageTitle";
import { ResetPasswordCard, resetPasswordTitle } from "../components/ResetPasswordCard";
import { useForm } from "../hooks/useForm";
import { formValue } from "../lib/forms";

interface ResetPasswordProps {
  /** The token from the emailed link; `null` when the link is incomplete. */
  token: string | null;
}

export const getServerSideProps: GetServerSideProps<ResetPasswordProps> = async ({ query }) => ({
  props: { token: typeof query.token === "string" && query.token !== "" ? query.token : null },
});

/**
 * Where a reset link lands (served with `Referrer-Policy: no-referrer`, so the token in the URL never leaks
 * to another site). Posting the new password uses up the link, ends every session and signs nobody in.
 */
export default function ResetPasswordPage({ token }: ResetPasswordProps): ReactNode {
  const { pending, outcome, onSubmit } = useForm(
    (form) => resetPassword({ token: token ?? "", password: formValue(form, "password") }),
    { message: "Your password has been changed" },
  );
  return (
    <>
      <PageTitle title={resetPasswordTitle(outcome)} />
      <ResetPasswordCard token={token} tokenField={false} form={{ onSubmit }} pending={pending} outcome={outcome} />
    </>
  );
}

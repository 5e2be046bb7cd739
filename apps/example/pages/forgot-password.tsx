import { requestPasswordReset } from "gatehouse-auth/react";
import type { GetServerSideProps } from "next";
import type { ReactNode } from "react";
import { ForgotPasswordCard } from "../components/ForgotPasswordCard";
import { PageTitle } from "../components/PageTitle";
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
      <ForgotPasswordCard form={{ onSubmit }} pending={pending} outcome={outcome} />
    </>
  );
}

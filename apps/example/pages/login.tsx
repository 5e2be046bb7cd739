import { safeRedirectPath } from "gatehouse-auth";
import { type ClientSession, verifySession } from "gatehouse-auth/next";
import { signIn } from "gatehouse-auth/react";
import type { GetServerSideProps } from "next";
import type { ReactNode } from "react";
import { LoginCard, type LoginCardProps, type LoginNotice } from "../components/LoginCard";
import { PageTitle } from "../components/PageTitle";
import { useForm } from "../hooks/useForm";
import { DEFAULT_NEXT, secondStepPath } from "../lib/authPaths";
import { devOutboxOpenTo } from "../lib/devOutbox";
import { formValue } from "../lib/forms";
import { getGatehouse } from "../lib/gatehouse";

interface LoginProps extends Pick<LoginCardProps, "next" | "notice" | "providers"> {
  session: ClientSession;
  /** The error code of a failed plain form post. */
  error: string | null;
  devOutbox: boolean;
}

function noticeOf(query: Record<string, string | string[] | undefined>): LoginNotice {
  if (query.notice === "verify_email") return "verify_email";
  if (query.signedOut === "1") return "signed_out";
  return null;
}

export const getServerSideProps: GetServerSideProps<LoginProps> = async ({ req, res, query }) => {
  const next = safeRedirectPath(query.next, DEFAULT_NEXT);
  const auth = await verifySession(getGatehouse, req, res);
  if (auth) return { redirect: { destination: next, permanent: false } };
  return {
    props: {
      session: { user: null },
      next,
      error: typeof query.error === "string" ? query.error : null,
      notice: noticeOf(query),
      providers: getGatehouse().oauthProviders(),
      devOutbox: devOutboxOpenTo(req),
    },
  };
};

export default function LoginPage({ next, error, notice, providers }: LoginProps): ReactNode {
  const { pending, outcome, onSubmit } = useForm(
    (form) => signIn({ email: formValue(form, "email"), password: formValue(form, "password") }),
    { navigate: next },
    {
      initialError: error,
      // A wrong password is not left in the field to be retyped around; the email stays.
      clearOnFailure: ["password"],
      // The right password of an account with two-factor authentication: on to the second step.
      navigateOnFailure: (result) => (result.secondFactor ? secondStepPath({ next, ...result.secondFactor }) : null),
    },
  );
  return (
    <>
      <PageTitle title="Log in" />
      <LoginCard
        next={next}
        notice={notice}
        providers={providers}
        form={{ method: "post", action: "/api/auth/login", onSubmit }}
        pending={pending}
        outcome={outcome}
      />
    </>
  );
}

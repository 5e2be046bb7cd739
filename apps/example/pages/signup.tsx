import { safeRedirectPath } from "gatehouse-auth";
import { type ClientSession, verifySession } from "gatehouse-auth/next";
import { signUp } from "gatehouse-auth/react";
import type { GetServerSideProps } from "next";
import type { ReactNode } from "react";
import { PageTitle } from "../components/PageTitle";
import { SignupCard, type SignupCardProps } from "../components/SignupCard";
import { useForm } from "../hooks/useForm";
import { DEFAULT_NEXT, welcomePath, withoutWelcome } from "../lib/authPaths";
import { formValue } from "../lib/forms";
import { getGatehouse } from "../lib/gatehouse";

interface SignupProps extends Pick<SignupCardProps, "next" | "providers"> {
  session: ClientSession;
  /** The error code of a failed plain form post. */
  error: string | null;
}

export const getServerSideProps: GetServerSideProps<SignupProps> = async ({ req, res, query }) => {
  const next = withoutWelcome(safeRedirectPath(query.next, DEFAULT_NEXT));
  const auth = await verifySession(getGatehouse, req, res);
  if (auth) return { redirect: { destination: next, permanent: false } };
  return {
    props: {
      session: { user: null },
      next,
      error: typeof query.error === "string" ? query.error : null,
      providers: getGatehouse().oauthProviders(),
    },
  };
};

export default function SignupPage({ next, error, providers }: SignupProps): ReactNode {
  const { pending, outcome, onSubmit } = useForm(
    (form) =>
      signUp({
        email: formValue(form, "email"),
        password: formValue(form, "password"),
        // An empty optional field means "no name", not an empty one.
        name: formValue(form, "name") || undefined,
      }),
    // The dashboard greets a new account, as the form's `next` field asks for a plain form post.
    { navigate: welcomePath(next) },
    { initialError: error },
  );
  return (
    <>
      <PageTitle title="Create your account" />
      <SignupCard
        next={next}
        providers={providers}
        form={{ method: "post", action: "/api/auth/signup", onSubmit }}
        pending={pending}
        outcome={outcome}
      />
    </>
  );
}

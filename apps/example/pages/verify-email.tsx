import { useSession, verifyEmail } from "gatehouse-auth/react";
import type { GetServerSideProps } from "next";
import type { ReactNode } from "react";
import { PageTitle } from "../components/PageTitle";
import { VerifyEmailCard, type VerifyEmailCardProps } from "../components/VerifyEmailCard";
import { useForm } from "../hooks/useForm";
import { devOutboxOpenTo } from "../lib/devOutbox";
import { readEnv } from "../lib/env";
import { formValue } from "../lib/forms";

interface VerifyEmailProps extends Pick<VerifyEmailCardProps, "token" | "codes" | "lifetimeHours"> {
  devOutbox: boolean;
}

export const getServerSideProps: GetServerSideProps<VerifyEmailProps> = async ({ req, query }) => {
  const env = readEnv();
  return {
    props: {
      token: typeof query.token === "string" && query.token !== "" ? query.token : null,
      codes: env.emailVerificationMethod === "code",
      lifetimeHours: Math.max(1, Math.round((env.emailVerificationLifetime ?? 86_400) / 3600)),
      devOutbox: devOutboxOpenTo(req),
    },
  };
};

/**
 * Where verification and email-change links land. Opening the page changes nothing: mail scanners and
 * link previews fetch links, so only the button (a POST) uses the token up.
 */
export default function VerifyEmailPage({ token, codes, lifetimeHours }: VerifyEmailProps): ReactNode {
  const session = useSession();
  const { pending, outcome, onSubmit } = useForm(
    (form) =>
      token ? verifyEmail({ token }) : verifyEmail({ code: formValue(form, "code"), email: formValue(form, "email") }),
    {
      message: (result) => `${result.user?.email ?? "Your email address"} is verified`,
      // The session was rotated and the user changed: the header should show the new state.
      onSuccess: () => void session.refresh(),
    },
  );
  return (
    <>
      <PageTitle title="Verify your email" />
      <VerifyEmailCard
        session={session}
        token={token}
        tokenField={false}
        codes={codes}
        lifetimeHours={lifetimeHours}
        form={{ onSubmit }}
        pending={pending}
        outcome={outcome}
      />
    </>
  );
}

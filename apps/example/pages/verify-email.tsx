import { useSession, verifyEmail } from "gatehouse-auth/react";
import type { GetServerSideProps } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { DevOutboxHint } from "../components/DevOutboxHint";
import { Field } from "../components/Field";
import { FormAlert } from "../components/FormAlert";
import { PageTitle } from "../components/PageTitle";
import { ResendVerification } from "../components/ResendVerification";
import { SuccessNotice } from "../components/SuccessNotice";
import { useForm } from "../hooks/useForm";
import { devOutboxOpenTo } from "../lib/devOutbox";
import { readEnv } from "../lib/env";
import { formValue } from "../lib/forms";

interface VerifyEmailProps {
  /** The token from the emailed link; `null` when the page was opened without one. */
  token: string | null;
  /** Whether addresses are verified with 8-digit codes instead of links. */
  codes: boolean;
  /** How long a link is valid, in hours. */
  lifetimeHours: number;
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
  const signedInUnverified = session.status === "authenticated" && !session.user.emailVerified;

  let body: ReactNode;
  if (outcome?.ok) {
    body = (
      <SuccessNotice title={outcome.message}>
        <p>
          Thank you.{" "}
          {session.status === "authenticated" ? (
            <Link href="/dashboard">Continue to your dashboard</Link>
          ) : (
            <Link href="/login">Log in</Link>
          )}
          .
        </p>
      </SuccessNotice>
    );
  } else if (token) {
    body = (
      <>
        <p>Confirm that this email address is yours. This link works once.</p>
        {outcome && (
          <FormAlert
            key={outcome.attempt}
            title={outcome.code === "token_expired" ? "This link has expired" : "Your email was not verified"}
          >
            {outcome.message}
          </FormAlert>
        )}
        <form onSubmit={onSubmit}>
          <button type="submit" className="button button--block" disabled={pending}>
            {pending ? "Verifying…" : "Verify my email"}
          </button>
        </form>
      </>
    );
  } else if (codes) {
    body = (
      <>
        <p>Enter the 8-digit code we emailed you.</p>
        <DevOutboxHint />
        {outcome && (
          <FormAlert key={outcome.attempt} title="Your email was not verified">
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
          <Field
            name="code"
            label="Code"
            type="text"
            autoComplete="one-time-code"
            required
            maxLength={12}
            error={outcome?.fields.code}
          />
          <button type="submit" className="button button--block" disabled={pending}>
            {pending ? "Verifying…" : "Verify"}
          </button>
        </form>
      </>
    );
  } else {
    body = (
      <>
        <p>
          Open the link in the email we sent you. It works once, for{" "}
          {lifetimeHours === 1 ? "an hour" : `${lifetimeHours} hours`}.
        </p>
        <DevOutboxHint />
      </>
    );
  }

  return (
    <>
      <PageTitle title="Verify your email" />
      <div className="card">
        <h1>Verify your email</h1>
        {body}
        {signedInUnverified && !outcome?.ok && (
          <div className="card__footer">
            <p>Link expired or lost?</p>
            <ResendVerification email={session.user.email} />
          </div>
        )}
      </div>
    </>
  );
}

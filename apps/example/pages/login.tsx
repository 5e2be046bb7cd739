import { safeRedirectPath } from "gatehouse-auth";
import { type ClientSession, verifySession } from "gatehouse-auth/next";
import { type OAuthProviderSummary, signIn } from "gatehouse-auth/react";
import type { GetServerSideProps } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { DevOutboxHint } from "../components/DevOutboxHint";
import { Field } from "../components/Field";
import { FormAlert } from "../components/FormAlert";
import { PageTitle } from "../components/PageTitle";
import { ProviderButtons } from "../components/ProviderButtons";
import { SuccessNotice } from "../components/SuccessNotice";
import { useForm } from "../hooks/useForm";
import { usePasskeySignIn } from "../hooks/usePasskeySignIn";
import { DEFAULT_NEXT, pathWithNext, secondStepPath } from "../lib/authPaths";
import { devOutboxOpenTo } from "../lib/devOutbox";
import { formValue } from "../lib/forms";
import { getGatehouse } from "../lib/gatehouse";

/** What the page says above the form when it was sent here on purpose. */
type LoginNotice = "verify_email" | "signed_out" | null;

interface LoginProps {
  session: ClientSession;
  /** Where to go after logging in; a path on this site. */
  next: string;
  /** The error code of a failed plain form post. */
  error: string | null;
  /** `verify_email` after a sign-up that must verify its address first; `signed_out` after log-out. */
  notice: LoginNotice;
  /** The enabled sign-in providers, each a "Continue with …" link. */
  providers: OAuthProviderSummary[];
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
  const {
    pending,
    outcome: failure,
    onSubmit,
  } = useForm(
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
  const passkey = usePasskeySignIn(next);
  // The latest of the two ways to fail: sending the password form forgets the passkey's problem.
  const alert = passkey.problem ?? failure;
  return (
    <>
      <PageTitle title="Log in" />
      <div className="card">
        <h1>Log in</h1>
        {notice === "verify_email" && !alert && (
          <SuccessNotice title="Check your inbox">
            <p>We sent you a link to verify your email address. Open it, then log in here.</p>
            <DevOutboxHint />
          </SuccessNotice>
        )}
        {notice === "signed_out" && !alert && (
          <SuccessNotice title="You have been signed out">
            <p>Log in again whenever you like.</p>
          </SuccessNotice>
        )}
        {alert && (
          <FormAlert key={`${passkey.problem ? "passkey" : "password"}-${alert.attempt}`} title="Could not log in">
            {alert.message}
          </FormAlert>
        )}
        <form
          method="post"
          action="/api/auth/login"
          className="form"
          onSubmit={(event) => {
            passkey.dismiss();
            onSubmit(event);
          }}
        >
          <input type="hidden" name="next" value={next} />
          <Field
            name="email"
            label="Email"
            type="email"
            // "webauthn" lets the browser offer this site's passkeys in the field's autofill.
            autoComplete="username webauthn"
            required
            maxLength={320}
            error={failure?.fields.email}
          />
          <Field
            name="password"
            label="Password"
            type="password"
            autoComplete="current-password"
            required
            maxLength={256}
            error={failure?.fields.password}
          />
          <p className="form-links">
            <Link href="/forgot-password">Forgot your password?</Link>
          </p>
          <button type="submit" className="button button--block" disabled={pending || passkey.pending}>
            {pending ? "Logging in…" : "Log in"}
          </button>
        </form>
        {(providers.length > 0 || passkey.supported) && (
          <div className="alternative">
            <p className="alternative__label">or</p>
            {providers.length > 0 && <ProviderButtons providers={providers} next={next} />}
            {/* Only once the page runs: without JavaScript a passkey cannot be used, so the button would do nothing. */}
            {passkey.supported && (
              <button
                type="button"
                className="button button--secondary button--block"
                disabled={pending || passkey.pending}
                onClick={passkey.signIn}
              >
                {passkey.pending ? "Waiting for your passkey…" : "Use a passkey"}
              </button>
            )}
          </div>
        )}
        <p className="card__footer">
          New here? <Link href={pathWithNext("/signup", next)}>Create an account</Link>
        </p>
      </div>
    </>
  );
}

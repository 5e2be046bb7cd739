import { safeRedirectPath } from "gatehouse-auth";
import { type ClientSession, verifySession } from "gatehouse-auth/next";
import { type OAuthProviderSummary, signUp } from "gatehouse-auth/react";
import type { GetServerSideProps } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { Field } from "../components/Field";
import { FormAlert } from "../components/FormAlert";
import { NewPasswordField } from "../components/NewPasswordField";
import { PageTitle } from "../components/PageTitle";
import { ProviderButtons } from "../components/ProviderButtons";
import { useForm } from "../hooks/useForm";
import { DEFAULT_NEXT, pathWithNext, welcomePath, withoutWelcome } from "../lib/authPaths";
import { formValue } from "../lib/forms";
import { getGatehouse } from "../lib/gatehouse";

interface SignupProps {
  session: ClientSession;
  /** Where to go after signing up; a path on this site. */
  next: string;
  /** The error code of a failed plain form post. */
  error: string | null;
  /** The enabled sign-in providers, each a "Continue with …" link. */
  providers: OAuthProviderSummary[];
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
  // The dashboard greets a new account; the plain form post carries the flag in its `next` field.
  const destination = welcomePath(next);
  const {
    pending,
    outcome: failure,
    onSubmit,
  } = useForm(
    (form) =>
      signUp({
        email: formValue(form, "email"),
        password: formValue(form, "password"),
        // An empty optional field means "no name", not an empty one.
        name: formValue(form, "name") || undefined,
      }),
    { navigate: destination },
    { initialError: error },
  );
  const loginPath = pathWithNext("/login", next);
  return (
    <>
      <PageTitle title="Create your account" />
      <div className="card">
        <h1>Create your account</h1>
        {failure && (
          <FormAlert key={failure.attempt} title="Could not create your account">
            {failure.message}
            {failure.code === "email_taken" && (
              <>
                {" "}
                <Link href={loginPath}>Log in instead?</Link>
              </>
            )}
          </FormAlert>
        )}
        <form method="post" action="/api/auth/signup" className="form" onSubmit={onSubmit}>
          <input type="hidden" name="next" value={destination} />
          <Field
            name="name"
            label={
              <>
                Name <span className="field__optional">(optional)</span>
              </>
            }
            type="text"
            autoComplete="name"
            maxLength={100}
            error={failure?.fields.name}
          />
          <Field
            name="email"
            label="Email"
            type="email"
            autoComplete="email"
            required
            maxLength={320}
            error={failure?.fields.email}
          />
          <NewPasswordField name="password" label="Password" error={failure?.fields.password} />
          <button type="submit" className="button button--block" disabled={pending}>
            {pending ? "Creating account…" : "Create account"}
          </button>
        </form>
        {providers.length > 0 && (
          <div className="alternative">
            <p className="alternative__label">or</p>
            {/* The same links as on the log-in page: a provider's account makes a new one here or logs in. */}
            <ProviderButtons providers={providers} next={next} />
          </div>
        )}
        <p className="card__footer">
          Already have an account? <Link href={loginPath}>Log in</Link>
        </p>
      </div>
    </>
  );
}

"use client";

import { Field } from "@shared/components/Field";
import { FormAlert } from "@shared/components/FormAlert";
import { NewPasswordField } from "@shared/components/NewPasswordField";
import { ProviderButtons } from "@shared/components/ProviderButtons";
import { failure as failureOf } from "@shared/hooks/useForm";
import { pathWithNext, welcomePath } from "@shared/lib/authPaths";
import type { OAuthProviderSummary } from "gatehouse-auth/react";
import Link from "next/link";
import { type ReactNode, useActionState } from "react";
import { signUp } from "@/app/actions";
import { submitted, useActionOutcome } from "@/hooks/useActionOutcome";

/**
 * The sign-up form, run by the `signUp` Server Action with or without JavaScript: a refused sign-up comes
 * back with the name and email filled in; a new account goes on to `next` signed in, or to the log-in page's
 * "check your inbox" when its address must be verified first.
 */
export function SignupForm({
  next,
  error,
  providers,
}: {
  /** Where to go after signing up; a path on this site. */
  next: string;
  /** An error code the page was sent here with (`?error=`). */
  error: string | null;
  /** The enabled sign-in providers, each a "Continue with …" link. */
  providers: OAuthProviderSummary[];
}): ReactNode {
  const [state, action, pending] = useActionState(signUp, null);
  const failure = useActionOutcome(state) ?? (error ? failureOf(error, {}, 0) : null);
  const loginPath = pathWithNext("/login", next);
  return (
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
      <form action={action} className="form">
        {/* The dashboard greets a new account: the flag rides in `next`. */}
        <input type="hidden" name="next" value={welcomePath(next)} />
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
          defaultValue={submitted(state, "name")}
          error={failure?.fields.name}
        />
        <Field
          name="email"
          label="Email"
          type="email"
          autoComplete="email"
          required
          maxLength={320}
          defaultValue={submitted(state, "email")}
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
  );
}

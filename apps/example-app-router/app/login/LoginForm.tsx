"use client";

import { DevOutboxHint } from "@shared/components/DevOutboxHint";
import { Field } from "@shared/components/Field";
import { FormAlert } from "@shared/components/FormAlert";
import { ProviderButtons } from "@shared/components/ProviderButtons";
import { SuccessNotice } from "@shared/components/SuccessNotice";
import { failure as failureOf } from "@shared/hooks/useForm";
import { usePasskeySignIn } from "@shared/hooks/usePasskeySignIn";
import { pathWithNext } from "@shared/lib/authPaths";
import type { OAuthProviderSummary } from "gatehouse-auth/react";
import Link from "next/link";
import { type ReactNode, useActionState } from "react";
import { logIn } from "@/app/actions";
import { submitted, useActionOutcome } from "@/hooks/useActionOutcome";

/** What the page says above the form when it was sent here on purpose. */
export type LoginNotice = "verify_email" | "signed_out" | null;

/**
 * The log-in form, run by the `logIn` Server Action with or without JavaScript: a wrong password comes back
 * as an error with the email filled in, the right one redirects to `next` (or to the second step of an
 * account with two-factor authentication). With JavaScript, passkeys are offered too.
 */
export function LoginForm({
  next,
  error,
  notice,
  providers,
}: {
  /** Where to go after logging in; a path on this site. */
  next: string;
  /** An error code the page was sent here with (`?error=`, e.g. from a provider's callback). */
  error: string | null;
  /** `verify_email` after a sign-up that must verify its address first; `signed_out` after log-out. */
  notice: LoginNotice;
  /** The enabled sign-in providers, each a "Continue with …" link. */
  providers: OAuthProviderSummary[];
}): ReactNode {
  const [state, action, pending] = useActionState(logIn, null);
  const failure = useActionOutcome(state) ?? (error ? failureOf(error, {}, 0) : null);
  const passkey = usePasskeySignIn(next);
  // The latest of the two ways to fail: sending the password form forgets the passkey's problem.
  const alert = passkey.problem ?? failure;
  return (
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
      <form action={action} className="form" onSubmit={passkey.dismiss}>
        <input type="hidden" name="next" value={next} />
        <Field
          name="email"
          label="Email"
          type="email"
          // "webauthn" lets the browser offer this site's passkeys in the field's autofill.
          autoComplete="username webauthn"
          required
          maxLength={320}
          defaultValue={submitted(state, "email")}
          error={failure?.fields.email}
        />
        {/* A refused password is not sent back: the field is empty again, to be retyped, not edited. */}
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
  );
}

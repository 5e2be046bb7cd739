"use client";

import type { OAuthProviderSummary } from "gatehouse-auth/react";
import Link from "next/link";
import type { ReactNode } from "react";
import { usePasskeySignIn } from "../hooks/usePasskeySignIn";
import { pathWithNext } from "../lib/authPaths";
import type { FormCardProps } from "./cardForm";
import { DevOutboxHint } from "./DevOutboxHint";
import { EmailField } from "./EmailField";
import { Field } from "./Field";
import { FormAlert } from "./FormAlert";
import { ProviderButtons } from "./ProviderButtons";
import { SuccessNotice } from "./SuccessNotice";

/** What the log-in page says above the form when it was sent there on purpose. */
export type LoginNotice = "verify_email" | "signed_out" | null;

export interface LoginCardProps extends FormCardProps<"email"> {
  /** Where to go after logging in; a path on this site. */
  next: string;
  /** `verify_email` after a sign-up that must verify its address first; `signed_out` after log-out. */
  notice: LoginNotice;
  /** The enabled sign-in providers, each a "Continue with …" link. */
  providers: OAuthProviderSummary[];
}

/**
 * The log-in card of both example apps: the email and password form, sent as the app's `form` says, and
 * the other ways in (the providers; a passkey once the page runs, which goes on to `next` itself).
 */
export function LoginCard({ next, notice, providers, form, pending, outcome, values }: LoginCardProps): ReactNode {
  const passkey = usePasskeySignIn(next);
  // The latest of the two ways to fail: sending the password form forgets the passkey's problem.
  const alert = passkey.problem ?? outcome;
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
      <form
        {...form}
        className="form"
        onSubmit={(event) => {
          passkey.dismiss();
          form.onSubmit?.(event);
        }}
      >
        <input type="hidden" name="next" value={next} />
        <EmailField
          // "webauthn" lets the browser offer this site's passkeys in the field's autofill.
          autoComplete="username webauthn"
          defaultValue={values?.email}
          error={outcome?.fields.email}
        />
        {/* Never filled in again: a refused password is retyped, not edited. */}
        <Field
          name="password"
          label="Password"
          type="password"
          autoComplete="current-password"
          required
          maxLength={256}
          error={outcome?.fields.password}
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

import type { SessionState } from "gatehouse-auth/react";
import Link from "next/link";
import type { ReactNode } from "react";
import type { FormCardProps } from "./cardForm";
import { DevOutboxHint } from "./DevOutboxHint";
import { EmailField } from "./EmailField";
import { Field } from "./Field";
import { FormAlert } from "./FormAlert";
import { ResendVerification } from "./ResendVerification";
import { SuccessNotice } from "./SuccessNotice";

export interface VerifyEmailCardProps extends FormCardProps<"email"> {
  /** Who is signed in, if anyone: where to go once verified, and whether to offer a new link. */
  session: SessionState;
  /** The token from the emailed link; `null` when the page was opened without one. */
  token: string | null;
  /**
   * Whether the link's form carries `token` in a hidden input: a Server Action reads nothing but the form,
   * while the Pages app's script sends the token itself.
   */
  tokenField: boolean;
  /** Whether addresses are verified with 8-digit codes instead of links. */
  codes: boolean;
  /** How long a link is valid, in hours. */
  lifetimeHours: number;
}

/**
 * The card where verification and email-change links land, in both example apps: the link's button
 * (`token`), or the emailed code with its address (`codes`), sent as the app's `form` says; without either,
 * how long the emailed link lasts. Once verified (`outcome.ok`), its message is the notice's title.
 */
export function VerifyEmailCard({
  session,
  token,
  tokenField,
  codes,
  lifetimeHours,
  form,
  pending,
  outcome,
  values,
}: VerifyEmailCardProps): ReactNode {
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
        <form {...form}>
          {tokenField && <input type="hidden" name="token" value={token} />}
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
        <form {...form} className="form">
          <EmailField defaultValue={values?.email} error={outcome?.fields.email} />
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
  );
}

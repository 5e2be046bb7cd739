"use client";

import { DevOutboxHint } from "@shared/components/DevOutboxHint";
import { Field } from "@shared/components/Field";
import { FormAlert } from "@shared/components/FormAlert";
import { ResendVerification } from "@shared/components/ResendVerification";
import { SuccessNotice } from "@shared/components/SuccessNotice";
import { useSession } from "gatehouse-auth/react";
import Link from "next/link";
import { type ReactNode, useActionState, useEffect } from "react";
import { verifyEmail } from "@/app/actions";
import { submitted, useActionOutcome } from "@/hooks/useActionOutcome";

/**
 * The link's button (`token`), or the emailed code with its address (`codes`), run by the `verifyEmail`
 * Server Action with or without JavaScript; without either, how long the emailed link lasts.
 */
export function VerifyEmailForm({
  token,
  codes,
  lifetimeHours,
}: {
  /** The token from the emailed link; `null` when the page was opened without one. */
  token: string | null;
  /** Whether addresses are verified with 8-digit codes instead of links. */
  codes: boolean;
  /** How long a link is valid, in hours. */
  lifetimeHours: number;
}): ReactNode {
  const session = useSession();
  const [state, action, pending] = useActionState(verifyEmail, null);
  const outcome = useActionOutcome(state);
  const verified = state?.ok === true;
  // The session was rotated and the user changed: the header should show the new state.
  const { refresh } = session;
  useEffect(() => {
    if (verified) void refresh();
  }, [verified, refresh]);
  const signedInUnverified = session.status === "authenticated" && !session.user.emailVerified;

  let body: ReactNode;
  if (outcome?.ok) {
    body = (
      <SuccessNotice
        title={`${session.status === "authenticated" ? session.user.email : "Your email address"} is verified`}
      >
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
        <form action={action}>
          <input type="hidden" name="token" value={token} />
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
        <form action={action} className="form">
          <Field
            name="email"
            label="Email"
            type="email"
            autoComplete="email"
            required
            maxLength={320}
            defaultValue={submitted(state, "email")}
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

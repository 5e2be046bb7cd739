"use client";

import { FormAlert } from "@shared/components/FormAlert";
import { NewPasswordField } from "@shared/components/NewPasswordField";
import { SuccessNotice } from "@shared/components/SuccessNotice";
import Link from "next/link";
import { type ReactNode, useActionState } from "react";
import { resetPassword } from "@/app/actions";
import { useActionOutcome } from "@/hooks/useActionOutcome";

/** A link that cannot be used any more: say why and offer a new one. */
function DeadLink({ title, children }: { title: string; children: ReactNode }): ReactNode {
  return (
    <FormAlert title={title}>
      {children} <Link href="/forgot-password">Ask for a new link</Link>.
    </FormAlert>
  );
}

/** The new password for the emailed link's `token` (`null` when the link is incomplete), with or without JavaScript. */
export function ResetPasswordForm({ token }: { token: string | null }): ReactNode {
  const [state, action, pending] = useActionState(resetPassword, null);
  const outcome = useActionOutcome(state, "Your password has been changed");
  const linkFailed = outcome && !outcome.ok && (outcome.code === "invalid_token" || outcome.code === "token_expired");
  // Once the password is set, the page is about that, not about choosing one.
  const title = outcome?.ok ? outcome.message : "Choose a new password";
  return (
    <>
      {/* React puts it in the document's head, on the server too: the page has no `metadata` title. */}
      <title>{`${title} · Gatehouse`}</title>
      <div className="card">
        <h1>{title}</h1>
        {!token ? (
          <DeadLink title="This link is incomplete">Open the whole link from the email, or</DeadLink>
        ) : outcome?.ok ? (
          <SuccessNotice title="Every session was signed out">
            <p>For your safety we signed you out on every device. Log in with your new password.</p>
            <p>
              <Link href="/login" className="button">
                Log in
              </Link>
            </p>
          </SuccessNotice>
        ) : linkFailed ? (
          <DeadLink
            key={outcome.attempt}
            title={outcome.code === "token_expired" ? "This link has expired" : "This link cannot be used"}
          >
            {outcome.message}
          </DeadLink>
        ) : (
          <>
            {outcome && (
              <FormAlert key={outcome.attempt} title="Your password was not changed">
                {outcome.message}
              </FormAlert>
            )}
            <form action={action} className="form">
              <input type="hidden" name="token" value={token} />
              <NewPasswordField name="password" label="New password" error={outcome?.fields.password} />
              <button type="submit" className="button button--block" disabled={pending}>
                {pending ? "Saving…" : "Set new password"}
              </button>
            </form>
          </>
        )}
      </div>
    </>
  );
}

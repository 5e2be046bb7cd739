import Link from "next/link";
import type { ReactNode } from "react";
import type { FormOutcome } from "../hooks/useForm";
import type { FormCardProps } from "./cardForm";
import { FormAlert } from "./FormAlert";
import { NewPasswordField } from "./NewPasswordField";
import { SuccessNotice } from "./SuccessNotice";

export interface ResetPasswordCardProps extends FormCardProps {
  /** The token from the emailed link; `null` when the link is incomplete. */
  token: string | null;
  /**
   * Whether the form carries `token` in a hidden input: a Server Action reads nothing but the form, while
   * the Pages app's script sends the token itself.
   */
  tokenField: boolean;
}

/**
 * The page's title and heading, which follow the answer: once the password is set, the page is about that,
 * not about choosing one. Each app puts it in the document's title its own way.
 */
export function resetPasswordTitle(outcome: FormOutcome | null): string {
  return outcome?.ok ? outcome.message : "Choose a new password";
}

/** A link that cannot be used any more: say why and offer a new one. */
function DeadLink({ title, children }: { title: string; children: ReactNode }): ReactNode {
  return (
    <FormAlert title={title}>
      {children} <Link href="/forgot-password">Ask for a new link</Link>.
    </FormAlert>
  );
}

/**
 * The card where a reset link lands, in both example apps: the new password, sent as the app's `form` says;
 * what was wrong with the link; or, once it is set (`outcome.ok`), that every session was signed out.
 */
export function ResetPasswordCard({ token, tokenField, form, pending, outcome }: ResetPasswordCardProps): ReactNode {
  const linkFailed = outcome && !outcome.ok && (outcome.code === "invalid_token" || outcome.code === "token_expired");
  return (
    <div className="card">
      <h1>{resetPasswordTitle(outcome)}</h1>
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
          <form {...form} className="form">
            {tokenField && <input type="hidden" name="token" value={token} />}
            <NewPasswordField name="password" label="New password" error={outcome?.fields.password} />
            <button type="submit" className="button button--block" disabled={pending}>
              {pending ? "Saving…" : "Set new password"}
            </button>
          </form>
        </>
      )}
    </div>
  );
}

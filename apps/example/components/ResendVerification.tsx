import { requestEmailVerification } from "gatehouse/react";
import type { ReactNode } from "react";
import { FormAlert } from "./FormAlert";
import { SuccessNotice } from "./SuccessNotice";
import { useFormSubmit } from "./useFormSubmit";

/** "Send me a new link": for a signed-in user whose address is not verified yet. */
export function ResendVerification({ email }: { email: string }): ReactNode {
  const { pending, outcome, onSubmit } = useFormSubmit(
    () => requestEmailVerification(),
    `We sent a new email to ${email}`,
  );
  if (outcome?.ok) {
    return (
      <SuccessNotice title={outcome.message}>
        <p>Open it and confirm. Older links no longer work.</p>
      </SuccessNotice>
    );
  }
  return (
    <>
      {outcome && (
        <FormAlert key={outcome.attempt} title="We could not send the email">
          {outcome.message}
        </FormAlert>
      )}
      <form onSubmit={onSubmit}>
        <button type="submit" className="button button--secondary" disabled={pending}>
          {pending ? "Sending…" : "Send a new verification email"}
        </button>
      </form>
    </>
  );
}

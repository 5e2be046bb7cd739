"use client";

import { requestEmailVerification } from "gatehouse-auth/react";
import type { ReactNode } from "react";
import { useForm } from "../hooks/useForm";
import { DevOutboxHint } from "./DevOutboxHint";
import { FormAlert } from "./FormAlert";
import { SuccessNotice } from "./SuccessNotice";

/** "Send me a new link": for a signed-in user whose address is not verified yet. */
export function ResendVerification({ email }: { email: string }): ReactNode {
  const { pending, outcome, onSubmit } = useForm(() => requestEmailVerification(), {
    message: `We sent a new email to ${email}`,
  });
  if (outcome?.ok) {
    return (
      <SuccessNotice title={outcome.message}>
        <p>Open it and confirm. Older links no longer work.</p>
        <DevOutboxHint />
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

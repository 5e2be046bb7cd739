"use client";

import { ResetPasswordCard, resetPasswordTitle } from "@shared/components/ResetPasswordCard";
import { type ReactNode, useActionState } from "react";
import { resetPassword } from "@/app/actions";
import { useActionOutcome } from "@/hooks/useActionOutcome";

/** The new password for the emailed link's `token` (`null` when the link is incomplete), with or without JavaScript. */
export function ResetPasswordForm({ token }: { token: string | null }): ReactNode {
  const [state, action, pending] = useActionState(resetPassword, null);
  const outcome = useActionOutcome(state, "Your password has been changed");
  return (
    <>
      {/* React puts it in the document's head, on the server too: the page has no `metadata` title. */}
      <title>{`${resetPasswordTitle(outcome)} · Gatehouse`}</title>
      <ResetPasswordCard token={token} tokenField form={{ action }} pending={pending} outcome={outcome} />
    </>
  );
}

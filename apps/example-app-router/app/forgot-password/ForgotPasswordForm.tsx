"use client";

import { ForgotPasswordCard } from "@shared/components/ForgotPasswordCard";
import { type ReactNode, useActionState } from "react";
import { requestPasswordReset } from "@/app/actions";
import { submitted, useActionOutcome } from "@/hooks/useActionOutcome";

/** Asks for a reset link, with or without JavaScript. The answer never says whether the address has an account. */
export function ForgotPasswordForm(): ReactNode {
  const [state, action, pending] = useActionState(requestPasswordReset, null);
  const outcome = useActionOutcome(state, "Check your inbox");
  return (
    <ForgotPasswordCard
      form={{ action }}
      pending={pending}
      outcome={outcome}
      values={{ email: submitted(state, "email") }}
    />
  );
}

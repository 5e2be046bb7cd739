"use client";

import { LoginCard, type LoginCardProps } from "@shared/components/LoginCard";
import { failure as failureOf } from "@shared/hooks/useForm";
import { type ReactNode, useActionState } from "react";
import { logIn } from "@/app/actions";
import { submitted, useActionOutcome } from "@/hooks/useActionOutcome";

/**
 * The log-in form, run by the `logIn` Server Action with or without JavaScript: a wrong password comes back
 * as an error with the email filled in, the right one redirects to `next` (or to the second step of an
 * account with two-factor authentication). With JavaScript, passkeys are offered too.
 */
export function LoginForm({
  error,
  ...card
}: Pick<LoginCardProps, "next" | "notice" | "providers"> & {
  /** An error code the page was sent here with (`?error=`, e.g. from a provider's callback). */
  error: string | null;
}): ReactNode {
  const [state, action, pending] = useActionState(logIn, null);
  const outcome = useActionOutcome(state) ?? (error ? failureOf(error, {}, 0) : null);
  return (
    <LoginCard
      {...card}
      form={{ action }}
      pending={pending}
      outcome={outcome}
      values={{ email: submitted(state, "email") }}
    />
  );
}

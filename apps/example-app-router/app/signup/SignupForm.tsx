"use client";

import { SignupCard, type SignupCardProps } from "@shared/components/SignupCard";
import { failure as failureOf } from "@shared/hooks/useForm";
import { type ReactNode, useActionState } from "react";
import { signUp } from "@/app/actions";
import { submitted, useActionOutcome } from "@/hooks/useActionOutcome";

/**
 * The sign-up form, run by the `signUp` Server Action with or without JavaScript: a refused sign-up comes
 * back with the name and email filled in; a new account goes on to `next` signed in, or to the log-in page's
 * "check your inbox" when its address must be verified first.
 */
export function SignupForm({
  error,
  ...card
}: Pick<SignupCardProps, "next" | "providers"> & {
  /** An error code the page was sent here with (`?error=`). */
  error: string | null;
}): ReactNode {
  const [state, action, pending] = useActionState(signUp, null);
  const outcome = useActionOutcome(state) ?? (error ? failureOf(error, {}, 0) : null);
  return (
    <SignupCard
      {...card}
      form={{ action }}
      pending={pending}
      outcome={outcome}
      values={{ name: submitted(state, "name"), email: submitted(state, "email") }}
    />
  );
}

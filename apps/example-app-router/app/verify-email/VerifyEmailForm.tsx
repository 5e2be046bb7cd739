"use client";

import { VerifyEmailCard, type VerifyEmailCardProps } from "@shared/components/VerifyEmailCard";
import { useSession } from "gatehouse-auth/react";
import { type ReactNode, useActionState, useEffect } from "react";
import { verifyEmail } from "@/app/actions";
import { submitted, useActionOutcome } from "@/hooks/useActionOutcome";

/**
 * The link's button (`token`), or the emailed code with its address (`codes`), run by the `verifyEmail`
 * Server Action with or without JavaScript; without either, how long the emailed link lasts.
 */
export function VerifyEmailForm(props: Pick<VerifyEmailCardProps, "token" | "codes" | "lifetimeHours">): ReactNode {
  const session = useSession();
  const [state, action, pending] = useActionState(verifyEmail, null);
  // The action's state has no user: the address is the session's, once the refresh below has it.
  const outcome = useActionOutcome(
    state,
    `${session.status === "authenticated" ? session.user.email : "Your email address"} is verified`,
  );
  const verified = state?.ok === true;
  // The session was rotated and the user changed: the header should show the new state.
  const { refresh } = session;
  useEffect(() => {
    if (verified) void refresh();
  }, [verified, refresh]);
  return (
    <VerifyEmailCard
      {...props}
      session={session}
      tokenField
      form={{ action }}
      pending={pending}
      outcome={outcome}
      values={{ email: submitted(state, "email") }}
    />
  );
}

"use client";

import { messages } from "@shared/lib/messages";
import { type ReactNode, useActionState } from "react";
import { logOut } from "@/app/actions";

/**
 * A form with a Server Action, so logging out works before (or without) JavaScript too. The action ends the
 * session and redirects to the log-in page saying "You have been signed out", as the Pages Router app's
 * button does; clearing the cookie makes Next render every page afresh, so no signed-in view is reused.
 */
export function LogoutButton(): ReactNode {
  const [state, action, pending] = useActionState(logOut, null);
  return (
    <form action={action} className="logout-form">
      <button type="submit" className="button button--small button--secondary" disabled={pending}>
        {pending ? "Logging out…" : "Log out"}
      </button>
      {/* Still signed in (the store is down, say): the header must not look as if it worked. */}
      {state?.ok === false && (
        <span role="alert" className="nav-user">
          {messages.error(state.error.code)}
        </span>
      )}
    </form>
  );
}

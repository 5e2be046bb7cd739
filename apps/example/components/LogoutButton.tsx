import { signOut } from "gatehouse-auth/react";
import { type FormEvent, type ReactNode, useState } from "react";
import { SIGNED_OUT_PATH } from "../lib/authPaths";

/**
 * A real form, so logging out works before (or without) JavaScript; with it, the JSON call avoids a
 * redirect round trip. Either way the next page is a full navigation, so no signed-in state survives, and
 * it is the log-in page saying "You have been signed out" (the API redirects the form post there too).
 */
export function LogoutButton(): ReactNode {
  const [pending, setPending] = useState(false);

  async function handleSubmit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const form = event.currentTarget;
    setPending(true);
    const result = await signOut();
    // If the JSON call failed, the plain form post still ends the session and shows the server's answer.
    if (result.ok) window.location.assign(SIGNED_OUT_PATH);
    else form.submit();
  }

  return (
    <form
      method="post"
      action="/api/auth/logout"
      className="logout-form"
      onSubmit={(event) => void handleSubmit(event)}
    >
      <button type="submit" className="button button--small button--secondary" disabled={pending}>
        {pending ? "Logging out…" : "Log out"}
      </button>
    </form>
  );
}

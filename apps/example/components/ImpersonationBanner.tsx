"use client";

import { useSession } from "gatehouse-auth/react";
import { type ReactNode, useEffect, useState } from "react";
import { type Impersonator, readImpersonator, stopImpersonation } from "../lib/activity";
import { messages } from "../lib/messages";

/**
 * "Viewing as … — Stop" at the top of every page while an administrator views the app as a user: who they
 * are viewing as, who they really are, and the way back to their own session. Whether the session is one is
 * asked of `GET /api/auth/session` once per signed-in user and page load (the header stays across client-side
 * navigations; starting and stopping load a new page).
 */
export function ImpersonationBanner(): ReactNode {
  const session = useSession();
  const userId = session.status === "authenticated" ? session.user.id : null;
  const [asked, setAsked] = useState<{ userId: string; impersonator: Impersonator } | null>(null);
  const [stopping, setStopping] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (userId === null) return;
    let current = true;
    void readImpersonator().then((result) => {
      if (current && result.ok) setAsked({ userId, impersonator: result.impersonatedBy ?? null });
    });
    return () => {
      current = false;
    };
  }, [userId]);

  const impersonator = asked !== null && asked.userId === userId ? asked.impersonator : null;
  if (session.status !== "authenticated" || impersonator === null) return null;
  const { user } = session;

  async function stop(): Promise<void> {
    setStopping(true);
    setError(null);
    const result = await stopImpersonation();
    // A full navigation: every part of the page is the admin's again, from the server.
    if (result.ok) return window.location.assign(`/admin/users/${encodeURIComponent(user.id)}`);
    setStopping(false);
    setError(messages.error(result.error.code));
  }

  return (
    <section className="impersonation" aria-label="Viewing as another user">
      <div className="impersonation__inner">
        <p className="impersonation__text">
          <strong>Viewing as {user.email}</strong>
          <span>
            {" "}
            — you are {impersonator.email ?? "an administrator"}
            {impersonator.email ? ", an administrator" : ""}. Password, email and second-factor changes are blocked.
          </span>
        </p>
        <button type="button" className="button button--small" disabled={stopping} onClick={() => void stop()}>
          {stopping ? "Stopping…" : "Stop viewing as this user"}
        </button>
        {error && (
          <p className="impersonation__error" role="alert">
            {error}
          </p>
        )}
      </div>
    </section>
  );
}

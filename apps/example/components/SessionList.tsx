"use client";

import { revokeOtherSessions, revokeSession } from "gatehouse-auth/react";
import { type ReactNode, useState } from "react";
import { SIGNED_OUT_PATH } from "../lib/authPaths";
import { messages } from "../lib/messages";
import type { SessionRow } from "../lib/sessions";
import { FormAlert } from "./FormAlert";

/** The user's sessions, with a way to end any of them or all the others. Needs JavaScript (DELETE requests). */
export function SessionList({ sessions: initial }: { sessions: SessionRow[] }): ReactNode {
  const [sessions, setSessions] = useState(initial);
  const [error, setError] = useState<{ message: string; attempt: number } | null>(null);
  const [status, setStatus] = useState<string | null>(null);

  function fail(code: string): void {
    setStatus(null);
    setError((previous) => ({ message: messages.error(code), attempt: (previous?.attempt ?? 0) + 1 }));
  }

  async function end(id: string): Promise<void> {
    const result = await revokeSession(id);
    if (!result.ok) return fail(result.error.code);
    if (sessions.find((s) => s.id === id)?.current) return window.location.assign(SIGNED_OUT_PATH);
    setError(null);
    setSessions((list) => list.filter((s) => s.id !== id));
    setStatus("That session has been signed out.");
  }

  async function endOthers(): Promise<void> {
    const result = await revokeOtherSessions();
    if (!result.ok) return fail(result.error.code);
    setError(null);
    setSessions((list) => list.filter((s) => s.current));
    setStatus("Every other session has been signed out.");
  }

  return (
    <section className="card card--wide" aria-labelledby="sessions-heading">
      <h2 id="sessions-heading">Where you're signed in</h2>
      {error && (
        <FormAlert key={error.attempt} title="Could not sign that session out">
          {error.message}
        </FormAlert>
      )}
      <p role="status" className="status--success">
        {status}
      </p>
      <ul className="session-list">
        {sessions.map((session) => (
          <li key={session.id} className="session-list__item">
            <div>
              <strong>{session.device}</strong> {session.current && <span className="badge">This device</span>}
              <div className="muted session-list__meta">
                Last active {session.lastSeen} · signed in {session.created}
                {session.ip ? ` · ${session.ip}` : ""}
              </div>
            </div>
            <button
              type="button"
              className="button button--small button--secondary"
              onClick={() => void end(session.id)}
            >
              {session.current ? "Sign out" : "Sign out this session"}
            </button>
          </li>
        ))}
      </ul>
      {sessions.length > 1 && (
        <button type="button" className="button" onClick={() => void endOthers()}>
          Sign out all other sessions
        </button>
      )}
    </section>
  );
}

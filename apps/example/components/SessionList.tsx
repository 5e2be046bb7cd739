import { revokeOtherSessions, revokeSession } from "gatehouse-auth/react";
import { type ReactNode, useState } from "react";
import { FormAlert } from "./FormAlert";

/** One session as the profile page shows it (dates preformatted on the server to avoid hydration drift). */
export interface SessionRow {
  id: string;
  current: boolean;
  device: string;
  ip: string | null;
  lastSeen: string;
  created: string;
}

/** The user's sessions, with a way to end any of them or all the others. Needs JavaScript (DELETE requests). */
export function SessionList({ sessions: initial }: { sessions: SessionRow[] }): ReactNode {
  const [sessions, setSessions] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);

  async function end(id: string): Promise<void> {
    const result = await revokeSession(id);
    if (!result.ok) return setError(result.error.message);
    if (sessions.find((s) => s.id === id)?.current) return window.location.assign("/login");
    setSessions((list) => list.filter((s) => s.id !== id));
    setStatus("That session has been signed out.");
  }

  async function endOthers(): Promise<void> {
    const result = await revokeOtherSessions();
    if (!result.ok) return setError(result.error.message);
    setSessions((list) => list.filter((s) => s.current));
    setStatus("Every other session has been signed out.");
  }

  return (
    <section className="card card--wide" aria-labelledby="sessions-heading">
      <h2 id="sessions-heading">Where you're signed in</h2>
      {error && <FormAlert title="Could not sign that session out">{error}</FormAlert>}
      <p role="status" className="muted">
        {status}
      </p>
      <ul className="session-list">
        {sessions.map((session) => (
          <li key={session.id} className="session-list__item">
            <div>
              <strong>{session.device}</strong> {session.current && <span className="badge">This device</span>}
              <div className="muted">
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

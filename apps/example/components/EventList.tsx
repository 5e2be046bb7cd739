import Link from "next/link";
import type { ReactNode } from "react";
import { eventContext, eventTitle, type PublicEvent } from "../lib/activity";
import type { AdminEvent } from "../lib/adminApi";

/** An event's small facts as admins read them, e.g. "reason: wrong_password, method: password". */
function detailText(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .map(([key, value]) => `${key}: ${String(value)}`)
    .join(", ");
}

/** Whom an admin's event is about: a link to the user's page while there is one, else the address recorded. */
function Subject({ event }: { event: AdminEvent }): ReactNode {
  const email = event.userEmail ?? "an unknown address";
  if (!event.userId) return <>{email}</>;
  return <Link href={`/admin/users/${encodeURIComponent(event.userId)}`}>{email}</Link>;
}

/**
 * Security events, newest first, each as one sentence in two parts: what happened ("Signed in with a
 * passkey") and where and when ("from Chrome on Linux (127.0.0.1) on 2 Jan 2026, 03:04 UTC"). A failure says
 * so in words as well as colour. `admin` adds whom each is about and its details, for the audit log.
 */
export function EventList(
  props: ({ events: readonly PublicEvent[]; admin?: false } | { events: readonly AdminEvent[]; admin: true }) & {
    /** Whether each event can take focus from script, e.g. the first of those "Show older" just added. */
    focusable?: boolean;
  },
): ReactNode {
  return (
    <ol className="event-list">
      {props.events.map((event) => (
        <li
          key={event.id}
          className={event.outcome === "failure" ? "event event--failure" : "event"}
          tabIndex={props.focusable ? -1 : undefined}
        >
          <p className="event__title">
            <strong>{eventTitle(event)}</strong>
            {event.outcome === "failure" && <span className="badge badge--warning">Failed</span>}
          </p>
          <p className="event__context muted">
            {props.admin && (
              <>
                <Subject event={event as AdminEvent} />
                {" · "}
              </>
            )}
            {eventContext(event)}
          </p>
          {props.admin && Object.keys(event.detail).length > 0 && (
            <p className="event__detail muted">
              <code>{detailText(event.detail)}</code>
            </p>
          )}
        </li>
      ))}
    </ol>
  );
}

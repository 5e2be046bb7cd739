"use client";

import { type ReactNode, useCallback, useEffect, useRef, useState } from "react";
import { listMyEvents, type PublicEvent } from "../lib/activity";
import { messages } from "../lib/messages";
import { EventList } from "./EventList";
import { ErrorIcon } from "./icons";

/** Events per request: the first look, and each "Show older activity". */
const PAGE_SIZE = 10;

type Activity =
  | { status: "loading" }
  | { status: "ready"; events: PublicEvent[]; nextCursor: string | null; more: boolean }
  | { status: "failed"; message: string; events: PublicEvent[]; nextCursor: string | null };

/**
 * "Recent security activity" on the settings page: the user's own log-ins, password changes and the rest,
 * newest first, read from `GET /api/auth/events` in the browser; "Show older activity" adds the page before.
 * Something the user does not recognise is their cue to change the password and sign out other sessions.
 */
export function SecurityActivity(): ReactNode {
  const [activity, setActivity] = useState<Activity>({ status: "loading" });
  // Where focus goes after "Show older activity": the first of the events just added.
  const firstAdded = useRef<number | null>(null);
  const list = useRef<HTMLDivElement>(null);

  const load = useCallback(async (cursor: string | null, before: PublicEvent[]): Promise<void> => {
    const result = await listMyEvents({ cursor, limit: PAGE_SIZE });
    if (!result.ok) {
      setActivity({ status: "failed", message: messages.error(result.error.code), events: before, nextCursor: cursor });
      return;
    }
    firstAdded.current = before.length > 0 ? before.length : null;
    setActivity({ status: "ready", events: [...before, ...result.events], nextCursor: result.nextCursor, more: false });
  }, []);

  useEffect(() => {
    void load(null, []);
  }, [load]);

  // Keyboard and screen-reader users continue at the first older event rather than at a button that moved.
  useEffect(() => {
    if (activity.status !== "ready" || firstAdded.current === null) return;
    const item = list.current?.querySelectorAll<HTMLElement>(".event")[firstAdded.current];
    firstAdded.current = null;
    item?.focus();
  }, [activity]);

  function showOlder(): void {
    if (activity.status !== "ready" || activity.nextCursor === null) return;
    setActivity({ ...activity, more: true });
    void load(activity.nextCursor, activity.events);
  }

  function retry(): void {
    if (activity.status !== "failed") return;
    const { nextCursor, events } = activity;
    setActivity(events.length > 0 ? { status: "ready", events, nextCursor, more: true } : { status: "loading" });
    void load(nextCursor, events);
  }

  const events = activity.status === "loading" ? [] : activity.events;
  const more = activity.status === "ready" && activity.more;
  return (
    <section className="card card--wide" aria-labelledby="activity-heading">
      <h2 id="activity-heading">Recent security activity</h2>
      <p>
        Log-ins, password changes and other changes to how you log in. If you do not recognise one, change your password
        and sign out your other sessions.
      </p>
      <p role="status" className="list-status muted">
        {activity.status === "loading"
          ? "Loading your activity…"
          : more
            ? "Loading older activity…"
            : activity.status === "ready" && events.length === 0
              ? "No activity recorded yet."
              : ""}
      </p>
      {activity.status === "failed" && (
        <div className="alert alert--error" role="alert">
          <ErrorIcon />
          <div>
            <p className="alert__title">Your activity could not be loaded</p>
            <p>{activity.message}</p>
            <button type="button" className="button button--small button--secondary alert__action" onClick={retry}>
              Try again
            </button>
          </div>
        </div>
      )}
      {events.length > 0 && (
        <div ref={list} className="event-list__wrap">
          <EventList events={events} focusable />
        </div>
      )}
      {activity.status === "ready" && activity.nextCursor !== null && (
        <button type="button" className="button button--secondary" disabled={more} onClick={showOlder}>
          {more ? "Loading…" : "Show older activity"}
        </button>
      )}
    </section>
  );
}

"use client";

import Link from "next/link";
import type { ReactNode } from "react";
import { useCursorPages } from "../hooks/useCursorPages";
import { EVENT_TYPES, typeLabel } from "../lib/activity";
import { type AdminEvent, listAudit } from "../lib/adminApi";
import { AdminNav } from "./AdminNav";
import { EventList } from "./EventList";
import { ListStatus, Pager } from "./Pager";

/** Events per page. */
const PAGE_SIZE = 25;

/**
 * The whole audit log in the admin console of both example apps, newest first, a page at a time, optionally
 * of one event type or one user. The filters are a plain GET form, so a filtered log has an address (a user's
 * page links to theirs); the events are read from the admin API in the browser.
 */
export function AuditLogView({
  type,
  userId,
}: {
  /** `?type=`: one event type, or empty for all. */
  type: string;
  /** `?userId=`: one user's events, or empty for everyone's. */
  userId: string;
}): ReactNode {
  const list = useCursorPages<AdminEvent>(async (cursor) => {
    const result = await listAudit({ type, userId, cursor, limit: PAGE_SIZE });
    return result.ok ? { ok: true, items: result.events, nextCursor: result.nextCursor } : result;
  });
  const filtered = type !== "" || userId !== "";
  // Whom the user filter is about, once one of their events says so.
  const email = userId ? list.items.find((event) => event.userId === userId)?.userEmail : undefined;
  const count = list.items.length;
  return (
    <>
      <div className="page-header">
        <p className="eyebrow">Admin console</p>
        <h1>Audit log</h1>
        <p className="lead">
          Every security event: log-ins, changes to accounts and every admin action, with who did it, from where and
          when.
        </p>
        <AdminNav current="audit" />
      </div>
      <form className="filter-form" method="get" action="/admin/audit" aria-label="Filter the audit log">
        <div className="field">
          <label htmlFor="audit-type">Event type</label>
          <select id="audit-type" name="type" defaultValue={type}>
            <option value="">All types</option>
            {EVENT_TYPES.map((value) => (
              <option key={value} value={value}>
                {typeLabel(value)}
              </option>
            ))}
            {type && !EVENT_TYPES.includes(type) && <option value={type}>{type}</option>}
          </select>
        </div>
        <div className="field">
          <label htmlFor="audit-user">User ID</label>
          <input
            id="audit-user"
            name="userId"
            type="text"
            defaultValue={userId}
            maxLength={64}
            autoComplete="off"
            spellCheck={false}
            aria-describedby="audit-user-hint"
          />
          <p id="audit-user-hint" className="field__hint">
            A user’s page links to their events.
          </p>
        </div>
        <div className="filter-form__actions">
          <button type="submit" className="button">
            Filter
          </button>
          {filtered && <Link href="/admin/audit">Show every event</Link>}
        </div>
      </form>
      <section aria-labelledby="audit-heading" aria-busy={list.loading}>
        <h2 id="audit-heading" className="section-title" ref={list.heading} tabIndex={-1}>
          {userId ? `Events of ${email ?? "one user"}` : "Events"}
          {type ? `: ${typeLabel(type)}` : ""}
          {list.page > 1 ? `, page ${list.page}` : ""}
        </h2>
        <ListStatus
          list={list}
          loadingText="Loading events…"
          emptyText={filtered ? "No event matches these filters." : "No events recorded yet."}
          countText={count === 1 ? "1 event on this page" : `${count} events on this page`}
        />
        {count > 0 && (
          <div className="card card--wide card--list">
            <EventList events={list.items} admin />
          </div>
        )}
        <Pager list={list} label="Pages of the audit log" />
      </section>
    </>
  );
}

"use client";

import Link from "next/link";
import type { ReactNode } from "react";
import { useCursorPages } from "../hooks/useCursorPages";
import { type AdminUser, searchUsers } from "../lib/adminApi";
import { formatUtc } from "../lib/dates";
import { AdminNav } from "./AdminNav";
import { AdminUserBadges } from "./AdminUserBadges";
import { ListStatus, Pager } from "./Pager";
import { SuccessNotice } from "./SuccessNotice";
import { Detail, DisplayName, RoleBadge } from "./UserFacts";

/** Users per page. */
const PAGE_SIZE = 20;

const userHref = (user: AdminUser) => `/admin/users/${encodeURIComponent(user.id)}`;

/** Wide screens: one row per user, every column in view. */
function UserTable({ users }: { users: AdminUser[] }): ReactNode {
  return (
    <div className="table-wrap user-table">
      <table aria-labelledby="users-heading">
        <thead>
          <tr>
            <th scope="col">Email</th>
            <th scope="col">Name</th>
            <th scope="col">Role</th>
            <th scope="col">Status</th>
            <th scope="col">Joined</th>
          </tr>
        </thead>
        <tbody>
          {users.map((user) => (
            <tr key={user.id}>
              <td className="cell-strong">
                <Link href={userHref(user)}>{user.email}</Link>
              </td>
              <td>
                <DisplayName name={user.name} />
              </td>
              <td>
                <RoleBadge role={user.role} />
              </td>
              <td>
                <AdminUserBadges user={user} />
              </td>
              <td className="cell-nowrap">{formatUtc(user.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Narrow screens: a card per user, so no column hides behind a sideways scroll. */
function UserCards({ users }: { users: AdminUser[] }): ReactNode {
  return (
    <ul className="user-cards" aria-labelledby="users-heading">
      {users.map((user) => (
        <li key={user.id} className="user-card">
          <p className="user-card__email">
            <Link href={userHref(user)}>{user.email}</Link>
          </p>
          <dl className="user-card__details">
            <Detail label="Name">
              <DisplayName name={user.name} />
            </Detail>
            <Detail label="Role">
              <RoleBadge role={user.role} />
            </Detail>
            <Detail label="Status">
              <AdminUserBadges user={user} />
            </Detail>
            <Detail label="Joined">{formatUtc(user.createdAt)}</Detail>
          </dl>
        </li>
      ))}
    </ul>
  );
}

/**
 * The admin console's first page in both example apps: search the accounts by email or name, a page at a
 * time, and open one. The search is a plain GET form, so the results have an address (back from a user's page
 * returns to them); the list itself is read from the admin API in the browser. Who may see the page (role
 * `admin`) is each router's check.
 */
export function AdminView({
  query,
  deleted,
}: {
  /** The search (`?query=`); empty lists everyone. */
  query: string;
  /** The address of the user just deleted (`?deleted=`), to say so once. */
  deleted: string | null;
}): ReactNode {
  const list = useCursorPages(async (cursor) => {
    const result = await searchUsers({ query, cursor, limit: PAGE_SIZE });
    return result.ok ? { ok: true, items: result.users, nextCursor: result.nextCursor } : result;
  });
  const count = list.items.length;
  const heading = query ? `Users matching “${query}”` : list.page > 1 ? `All users, page ${list.page}` : "All users";
  return (
    <>
      <div className="page-header">
        <p className="eyebrow">Admin console</p>
        <h1>Users</h1>
        <p className="lead">
          Find an account by email or name, then open it to change its role, ban it or see the app as that user.
        </p>
        <AdminNav current="users" />
      </div>
      {deleted && (
        <SuccessNotice title="The account was deleted">
          <p>{deleted} can no longer log in. Their audit events stay in the log.</p>
        </SuccessNotice>
      )}
      <search className="search-form">
        <form method="get" action="/admin">
          <div className="field">
            <label htmlFor="user-search">Search users</label>
            <div className="search-form__row">
              <input
                id="user-search"
                name="query"
                type="search"
                defaultValue={query}
                maxLength={254}
                autoComplete="off"
                placeholder="Email or name"
              />
              <button type="submit" className="button">
                Search
              </button>
            </div>
          </div>
          {query && (
            <p className="search-form__clear">
              <Link href="/admin">Show everyone</Link>
            </p>
          )}
        </form>
      </search>
      <section aria-labelledby="users-heading" aria-busy={list.loading}>
        <h2 id="users-heading" className="section-title" ref={list.heading} tabIndex={-1}>
          {heading}
        </h2>
        <ListStatus
          list={list}
          loadingText="Loading users…"
          emptyText={query ? `No user’s email or name contains “${query}”.` : "There are no users yet."}
          countText={count === 1 ? "1 user on this page" : `${count} users on this page`}
        />
        {count > 0 && (
          <>
            {/* Both are rendered; CSS shows one (the other is display: none, so hidden from screen readers too). */}
            <UserTable users={list.items} />
            <UserCards users={list.items} />
          </>
        )}
        <Pager list={list} label="Pages of users" />
      </section>
    </>
  );
}

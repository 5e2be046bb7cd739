import type { UserDTO } from "gatehouse-auth";
import Link from "next/link";
import type { ReactNode } from "react";
import type { SessionRow } from "../lib/sessions";
import { SessionList } from "./SessionList";
import { Detail, DisplayName, RoleBadge, VerifiedBadge } from "./UserFacts";

/** The profile page of both example apps: the account's details and its sessions. */
export function ProfileView({
  user,
  sessions,
  nameForm,
}: {
  user: UserDTO;
  /** The user's sessions, the current one marked. */
  sessions: SessionRow[];
  /** A form to change the display name, under the details: the App Router app's Server Action form. */
  nameForm?: ReactNode;
}): ReactNode {
  return (
    <>
      <div className="page-header">
        <h1>Profile</h1>
        <p className="lead">The details Gatehouse keeps about your account.</p>
      </div>
      <div className="page-grid">
        <section className="card card--wide" aria-labelledby="details-heading">
          <h2 id="details-heading">Your account</h2>
          <dl className="details">
            <Detail label="Email">
              {user.email} <VerifiedBadge verified={user.emailVerified} />
            </Detail>
            <Detail label="Name">
              <DisplayName name={user.name} />
            </Detail>
            <Detail label="Role">
              <RoleBadge role={user.role} />
            </Detail>
            <Detail label="User ID">
              <code>{user.id}</code>
            </Detail>
          </dl>
          {nameForm}
          <p className="card__link">
            <Link href="/settings">Change your email or password, or delete your account</Link>
          </p>
        </section>
        <SessionList sessions={sessions} />
      </div>
    </>
  );
}

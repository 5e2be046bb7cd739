import { SessionList } from "@shared/components/SessionList";
import { Detail, DisplayName, RoleBadge, VerifiedBadge } from "@shared/components/UserFacts";
import { getGatehouse } from "@shared/lib/gatehouse";
import { toSessionRows } from "@shared/lib/sessions";
import Link from "next/link";
import type { ReactNode } from "react";
import { requireUser } from "@/lib/auth";
import { titled } from "@/lib/metadata";
import { NameForm } from "./NameForm";

export const metadata = titled("Profile");

export default async function ProfilePage(): Promise<ReactNode> {
  const { user, session } = await requireUser("/profile");
  const sessions = toSessionRows(await getGatehouse().listSessions(user.id), session.id);
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
          <NameForm name={user.name} />
          <p className="card__link">
            <Link href="/settings">Change your email or password, or delete your account</Link>
          </p>
        </section>
        <SessionList sessions={sessions} />
      </div>
    </>
  );
}

import type { UserDTO } from "gatehouse-auth";
import { withPageAuth } from "gatehouse-auth/next";
import Link from "next/link";
import type { ReactNode } from "react";
import { PageTitle } from "../components/PageTitle";
import { SessionList } from "../components/SessionList";
import { Detail, DisplayName, RoleBadge, VerifiedBadge } from "../components/UserFacts";
import { getGatehouse } from "../lib/gatehouse";
import { type SessionRow, toSessionRows } from "../lib/sessions";

type ProfileProps = {
  user: UserDTO;
  sessions: SessionRow[];
};

export const getServerSideProps = withPageAuth<ProfileProps>(getGatehouse, {}, async (_context, { user, session }) => ({
  props: { user, sessions: toSessionRows(await getGatehouse().listSessions(user.id), session.id) },
}));

export default function ProfilePage({ user, sessions }: ProfileProps): ReactNode {
  return (
    <>
      <PageTitle title="Profile" />
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
          <p className="card__link">
            <Link href="/settings">Change your email or password, or delete your account</Link>
          </p>
        </section>
        <SessionList sessions={sessions} />
      </div>
    </>
  );
}

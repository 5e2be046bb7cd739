import type { UserDTO } from "gatehouse-auth";
import { withPageAuth } from "gatehouse-auth/next";
import Link from "next/link";
import type { ReactNode } from "react";
import { PageTitle } from "../components/PageTitle";
import { SessionList } from "../components/SessionList";
import { VerifiedBadge } from "../components/VerifiedBadge";
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
            <div>
              <dt>Email</dt>
              <dd>
                {user.email} <VerifiedBadge verified={user.emailVerified} />
              </dd>
            </div>
            <div>
              <dt>Name</dt>
              <dd>{user.name ?? <span className="muted">Not set</span>}</dd>
            </div>
            <div>
              <dt>Role</dt>
              <dd>
                <span className="badge">{user.role}</span>
              </dd>
            </div>
            <div>
              <dt>User ID</dt>
              <dd>
                <code>{user.id}</code>
              </dd>
            </div>
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

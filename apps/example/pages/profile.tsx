import type { ReactNode } from "react";
import type { UserDTO } from "gatehouse";
import { withPageAuth } from "gatehouse/next";
import { PageTitle } from "../components/PageTitle";
import { getGatehouse } from "../lib/gatehouse";

// A type alias, not an interface: withPageAuth wants props assignable to Record<string, unknown>.
type ProfileProps = {
  user: UserDTO;
};

export const getServerSideProps = withPageAuth<ProfileProps>(getGatehouse, {}, async (_context, { user }) => ({
  props: { user },
}));

export default function ProfilePage({ user }: ProfileProps): ReactNode {
  return (
    <>
      <PageTitle title="Profile" />
      <div className="page-header">
        <h1>Profile</h1>
        <p className="lead">The details Gatehouse keeps about your account.</p>
      </div>
      <dl className="details card card--wide">
        <div>
          <dt>Email</dt>
          <dd>{user.email}</dd>
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
    </>
  );
}

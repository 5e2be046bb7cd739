import type { UserDTO } from "gatehouse-auth";
import { withPageAuth } from "gatehouse-auth/next";
import Link from "next/link";
import type { ReactNode } from "react";
import { PageTitle } from "../components/PageTitle";
import { ResendVerification } from "../components/ResendVerification";
import { getGatehouse } from "../lib/gatehouse";

// A type alias, not an interface: withPageAuth wants props assignable to Record<string, unknown>.
type DashboardProps = {
  user: UserDTO;
  /** ISO 8601, for `<time dateTime>`. */
  expiresAt: string;
  /** Formatted once on the server, in UTC, so the client renders the very same text (no hydration mismatch). */
  expiresLabel: string;
  canListUsers: boolean;
};

const EXPIRY_FORMAT = new Intl.DateTimeFormat("en-GB", { dateStyle: "long", timeStyle: "short", timeZone: "UTC" });

export const getServerSideProps = withPageAuth<DashboardProps>(
  getGatehouse,
  {},
  async (_context, { user, session }) => ({
    props: {
      user,
      expiresAt: session.expiresAt.toISOString(),
      expiresLabel: `${EXPIRY_FORMAT.format(session.expiresAt)} UTC`,
      canListUsers: getGatehouse().can(user, "users:read"),
    },
  }),
);

export default function DashboardPage({ user, expiresAt, expiresLabel, canListUsers }: DashboardProps): ReactNode {
  return (
    <>
      <PageTitle title="Dashboard" />
      <div className="page-header">
        <h1>Dashboard</h1>
        <p className="lead">Welcome back, {user.name ?? user.email}.</p>
      </div>
      {!user.emailVerified && (
        <section className="card card--wide" aria-labelledby="verify-heading">
          <h2 id="verify-heading">Verify your email address</h2>
          <p>
            We sent a link to {user.email}. Open it to confirm the address is yours: you will need it to reset a
            forgotten password.
          </p>
          <ResendVerification email={user.email} />
        </section>
      )}
      <dl className="stat-grid">
        <div className="stat">
          <dt>Signed in as</dt>
          <dd>{user.email}</dd>
        </div>
        <div className="stat">
          <dt>Role</dt>
          <dd>
            <span className="badge">{user.role}</span>
          </dd>
        </div>
        <div className="stat">
          <dt>Session expires</dt>
          <dd>
            <time dateTime={expiresAt}>{expiresLabel}</time>
          </dd>
        </div>
      </dl>
      <h2>Next steps</h2>
      <ul className="link-list">
        <li>
          <Link href="/profile">View your profile</Link>
        </li>
        {canListUsers && (
          <li>
            <Link href="/admin">Manage users</Link>
          </li>
        )}
      </ul>
    </>
  );
}

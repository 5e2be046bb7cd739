import type { UserDTO } from "gatehouse-auth";
import { withPageAuth } from "gatehouse-auth/next";
import Link from "next/link";
import type { ReactNode } from "react";
import { PageTitle } from "../components/PageTitle";
import { SessionList, type SessionRow } from "../components/SessionList";
import { getGatehouse } from "../lib/gatehouse";

type ProfileProps = {
  user: UserDTO;
  sessions: SessionRow[];
};

const DATE_FORMAT = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });

/** A short, human name for a browser from its user agent; the full string is not worth showing. */
function describeDevice(userAgent: string | null): string {
  if (!userAgent) return "Unknown device";
  const browser = /Edg\//.test(userAgent)
    ? "Edge"
    : /Chrome\//.test(userAgent)
      ? "Chrome"
      : /Firefox\//.test(userAgent)
        ? "Firefox"
        : /Safari\//.test(userAgent)
          ? "Safari"
          : userAgent.split(/[ /]/, 1)[0];
  const system = /Android/.test(userAgent)
    ? "Android"
    : /iPhone|iPad/.test(userAgent)
      ? "iOS"
      : /Windows/.test(userAgent)
        ? "Windows"
        : /Mac OS X/.test(userAgent)
          ? "macOS"
          : /Linux/.test(userAgent)
            ? "Linux"
            : null;
  return system ? `${browser} on ${system}` : `${browser}`;
}

export const getServerSideProps = withPageAuth<ProfileProps>(getGatehouse, {}, async (_context, { user, session }) => {
  const sessions = await getGatehouse().listSessions(user.id);
  return {
    props: {
      user,
      sessions: sessions.map((s) => ({
        id: s.id,
        current: s.id === session.id,
        device: describeDevice(s.userAgent),
        ip: s.ip,
        lastSeen: `${DATE_FORMAT.format(s.lastSeenAt)} UTC`,
        created: `${DATE_FORMAT.format(s.createdAt)} UTC`,
      })),
    },
  };
});

export default function ProfilePage({ user, sessions }: ProfileProps): ReactNode {
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
          <dd>
            {user.email}{" "}
            {user.emailVerified ? (
              <span className="badge">Verified</span>
            ) : (
              <span className="badge badge--warning">Not verified</span>
            )}
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
      <SessionList sessions={sessions} />
      <p>
        <Link href="/settings">Change your email or password, or delete your account</Link>
      </p>
    </>
  );
}

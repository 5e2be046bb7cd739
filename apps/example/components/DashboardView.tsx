import type { UserDTO } from "gatehouse-auth";
import Link from "next/link";
import type { ReactNode } from "react";
import type { SessionRow } from "../lib/sessions";
import { DevOutboxHint } from "./DevOutboxHint";
import { CheckIcon } from "./icons";
import { ResendVerification } from "./ResendVerification";
import { RoleBadge, VerifiedBadge } from "./UserFacts";

/**
 * What the dashboard shows: plain data, which the Pages Router passes as JSON props. A type alias, not an
 * interface: withPageAuth wants props assignable to `Record<string, unknown>`.
 */
export type DashboardViewProps = {
  user: UserDTO;
  /** When the current session expires, ISO 8601, for `<time dateTime>`. */
  expiresAt: string;
  /** The same moment as text, formatted once on the server in UTC (`formatUtc`): the client renders the same text. */
  expiresLabel: string;
  /** The user's sessions, the current one marked. */
  sessions: SessionRow[];
  /** Whether the user may see the user list (`users:read`): a step then points at it. */
  canListUsers: boolean;
  /** Just signed up (`?welcome=1`, set by the sign-up form): greet a new account, not a returning one. */
  newAccount: boolean;
};

/** One thing to do next; `done` ones stay listed, ticked, so the list shows progress. */
interface Step {
  title: string;
  text: string;
  href: string;
  action: string;
  done: boolean;
}

function nextSteps({ user, sessions, canListUsers }: DashboardViewProps): Step[] {
  const others = sessions.filter((s) => !s.current).length;
  return [
    {
      title: "Verify your email address",
      text: user.emailVerified
        ? `${user.email} is verified: you can reset a forgotten password.`
        : "Open the link we emailed you, so you can reset a forgotten password.",
      href: "/settings",
      action: "Email settings",
      done: user.emailVerified,
    },
    {
      title: "Check where you're signed in",
      text:
        others === 0
          ? "Only this device is signed in. Sign out a device you no longer use from your profile."
          : `${others === 1 ? "1 other device is" : `${others} other devices are`} signed in. Sign out any you don't recognise.`,
      href: "/profile#sessions-heading",
      action: "Review sessions",
      done: false,
    },
    {
      title: "Keep your password strong",
      text: "Use a long phrase you use nowhere else. Changing it signs out every other device.",
      href: "/settings#password-heading",
      action: "Change password",
      done: false,
    },
    ...(canListUsers
      ? [
          {
            title: "Manage users",
            text: "You are an admin: find accounts, change roles, ban or unban, and read the audit log.",
            href: "/admin",
            action: "Open the admin console",
            done: false,
          },
        ]
      : []),
  ];
}

/**
 * The dashboard of both example apps: a greeting, the account at a glance, the next steps and the signed-in
 * devices. Taking the one-visit `?welcome=1` out of the address bar is each router's business.
 */
export function DashboardView(props: DashboardViewProps): ReactNode {
  const { user, expiresAt, expiresLabel, sessions, newAccount } = props;
  const who = user.name ?? user.email;
  return (
    <>
      <div className="page-header">
        <h1>Dashboard</h1>
        <p className="lead">
          {newAccount ? `Welcome to Gatehouse, ${who}. Your account is ready.` : `Welcome back, ${who}.`}
        </p>
      </div>
      <div className="stack">
        {!user.emailVerified && (
          <section className="card card--wide card--attention" aria-labelledby="verify-heading">
            <h2 id="verify-heading">Verify your email address</h2>
            <p>
              We sent a link to <strong>{user.email}</strong>. Open it to confirm the address is yours: you will need it
              to reset a forgotten password.
            </p>
            <DevOutboxHint />
            <ResendVerification email={user.email} />
          </section>
        )}
        <dl className="stat-grid">
          <div className="stat">
            <dt>Email</dt>
            <dd>
              <VerifiedBadge verified={user.emailVerified} />
            </dd>
          </div>
          <div className="stat">
            <dt>Role</dt>
            <dd>
              <RoleBadge role={user.role} />
            </dd>
          </div>
          <div className="stat">
            <dt>Active sessions</dt>
            <dd>{sessions.length}</dd>
          </div>
          <div className="stat">
            <dt>Session expires</dt>
            <dd>
              <time dateTime={expiresAt}>{expiresLabel}</time>
            </dd>
          </div>
        </dl>
        <div className="page-grid">
          <section className="card card--wide" aria-labelledby="steps-heading">
            <h2 id="steps-heading">Next steps</h2>
            <ol className="steps">
              {nextSteps(props).map((step) => (
                <li key={step.title} className={step.done ? "step step--done" : "step"}>
                  <span className="step__marker" aria-hidden="true">
                    {step.done && <CheckIcon />}
                  </span>
                  <div>
                    <p className="step__title">
                      {step.title}
                      {step.done && <span className="visually-hidden"> (done)</span>}
                    </p>
                    <p className="step__text">{step.text}</p>
                    {!step.done && <Link href={step.href}>{step.action}</Link>}
                  </div>
                </li>
              ))}
            </ol>
          </section>
          <section className="card card--wide" aria-labelledby="devices-heading">
            <h2 id="devices-heading">Where you're signed in</h2>
            <ul className="device-list">
              {sessions.map((s) => (
                <li key={s.id}>
                  <strong>{s.device}</strong> {s.current && <span className="badge">This device</span>}
                  <span className="muted device-list__meta">Last active {s.lastSeen}</span>
                </li>
              ))}
            </ul>
            <p className="card__link">
              <Link href="/profile#sessions-heading">Manage your sessions</Link>
            </p>
          </section>
        </div>
      </div>
    </>
  );
}

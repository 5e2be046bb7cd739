"use client";

import Link from "next/link";
import { type ReactNode, useCallback, useEffect, useState } from "react";
import {
  type AdminSession,
  type AdminUser,
  type AdminUserDetail,
  deleteUser,
  endUserSessions,
  getUserDetail,
  impersonate,
  resetFactors,
  sendPasswordReset,
  updateUser,
} from "../lib/adminApi";
import { formatUtc } from "../lib/dates";
import { messages } from "../lib/messages";
import { describeDevice } from "../lib/sessions";
import { AdminConfirmDialog } from "./AdminConfirmDialog";
import { AdminNav } from "./AdminNav";
import { AdminUserBadges } from "./AdminUserBadges";
import { EventList } from "./EventList";
import { CheckIcon, ErrorIcon } from "./icons";
import { Detail, DisplayName, RoleBadge } from "./UserFacts";

/** The longest ban reason the API keeps. */
const MAX_REASON = 500;

/** The action whose dialog is open. */
type Action = "role" | "ban" | "unban" | "sessions" | "reset" | "factors" | "impersonate" | "delete";

type Loaded =
  | { status: "loading" }
  | { status: "missing" }
  | { status: "failed"; message: string }
  | { status: "ready"; detail: AdminUserDetail };

/** A select or textarea laid out as `Field` lays out an input, its error announced with it. */
function ControlField({
  id,
  label,
  hint,
  error,
  children,
}: {
  id: string;
  label: string;
  hint?: string;
  error?: string;
  children: (describedBy: string | undefined) => ReactNode;
}): ReactNode {
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(" ") || undefined;
  return (
    <div className={error ? "field field--invalid" : "field"}>
      <label htmlFor={id}>{label}</label>
      {hint && (
        <p id={hintId} className="field__hint">
          {hint}
        </p>
      )}
      {children(describedBy)}
      {error && (
        <p id={errorId} className="field__error">
          <ErrorIcon />
          <span>{error}</span>
        </p>
      )}
    </div>
  );
}

/** The session's administrator, whichever way the API names them. */
function impersonatorOf(session: AdminSession): string | null {
  const by = session.impersonatedBy;
  if (by === null || by === undefined) return null;
  return typeof by === "string" ? by : by.email;
}

/** The user's live sessions: where, since when, and which are an administrator's "view as user". */
function SessionsCard({ sessions }: { sessions: AdminSession[] }): ReactNode {
  return (
    <section className="card card--wide" aria-labelledby="user-sessions-heading">
      <h2 id="user-sessions-heading">Sessions</h2>
      {sessions.length === 0 ? (
        <p className="muted">Not signed in anywhere.</p>
      ) : (
        <ul className="session-list">
          {sessions.map((session) => {
            const by = impersonatorOf(session);
            return (
              <li key={session.id} className="session-list__item">
                <div>
                  <strong>{describeDevice(session.userAgent)}</strong>{" "}
                  {by && <span className="badge badge--warning">Viewed by an administrator</span>}
                  <div className="muted session-list__meta">
                    Last active {formatUtc(session.lastSeenAt)} · signed in {formatUtc(session.createdAt)}
                    {session.ip ? ` · ${session.ip}` : ""} · ends {formatUtc(session.expiresAt)}
                  </div>
                </div>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

/** How the user logs in: connected accounts, the authenticator app, recovery codes and passkeys. */
function SignInCard({ detail }: { detail: AdminUserDetail }): ReactNode {
  const { identities, factors } = detail;
  return (
    <section className="card card--wide" aria-labelledby="user-signin-heading">
      <h2 id="user-signin-heading">Sign-in methods</h2>
      <dl className="details">
        <Detail label="Authenticator app">{factors.totp ? "On" : "Off"}</Detail>
        <Detail label="Recovery codes">
          {factors.recoveryCodes === 1 ? "1 left" : `${factors.recoveryCodes} left`}
        </Detail>
        <Detail label="Passkeys">
          {factors.passkeys.length === 0 ? (
            "None"
          ) : (
            <ul className="plain-list">
              {factors.passkeys.map((passkey) => (
                <li key={passkey.id}>
                  {passkey.name}{" "}
                  <span className="muted">
                    · added {formatUtc(passkey.createdAt)}
                    {passkey.lastUsedAt ? ` · last used ${formatUtc(passkey.lastUsedAt)}` : " · never used"}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </Detail>
        <Detail label="Connected accounts">
          {identities.length === 0 ? (
            "None"
          ) : (
            <ul className="plain-list">
              {identities.map((identity) => (
                <li key={identity.provider}>
                  {identity.provider}{" "}
                  <span className="muted">
                    · {identity.email ?? "no email given"} · connected {formatUtc(identity.createdAt)}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </Detail>
      </dl>
    </section>
  );
}

/** One action of the "Manage" card: what it does, and its button. */
function ActionRow({
  title,
  text,
  button,
  tone,
  onClick,
}: {
  title: string;
  text: ReactNode;
  button: string;
  tone?: "danger";
  onClick: () => void;
}): ReactNode {
  return (
    <li className="action-list__item">
      <div className="action-list__text">
        <strong>{title}</strong>
        <span className="muted">{text}</span>
      </div>
      <button
        type="button"
        className={tone === "danger" ? "button button--small button--danger" : "button button--small button--secondary"}
        aria-haspopup="dialog"
        onClick={onClick}
      >
        {button}
      </button>
    </li>
  );
}

/** What an action did, shown until the next one; a live region, so it is announced where focus went back to. */
interface Notice {
  title: string;
  text: string;
  attempt: number;
}

/**
 * One user's page in the admin console of both example apps: who they are, the actions an admin can take
 * (each confirmed with the admin's password in a dialog), their sessions, sign-in methods and recent events.
 * Read from the admin API in the browser, and read again after each action, so the page shows what the
 * server now holds (a ban's ended sessions, the events it recorded).
 */
export function AdminUserView({
  userId,
  adminId,
  roles,
}: {
  userId: string;
  /** The signed-in administrator, to mark their own account. */
  adminId: string;
  /** The roles a user can be given. */
  roles: string[];
}): ReactNode {
  const [loaded, setLoaded] = useState<Loaded>({ status: "loading" });
  const [open, setOpen] = useState<Action | null>(null);
  const [notice, setNotice] = useState<Notice | null>(null);

  const reload = useCallback(async (): Promise<void> => {
    const result = await getUserDetail(userId);
    if (result.ok) return setLoaded({ status: "ready", detail: result });
    // Signed out meanwhile (e.g. the admin ended their own sessions): to the log-in page, and back here after.
    if (result.status === 401) {
      window.location.assign(`/login?${new URLSearchParams({ next: `/admin/users/${userId}` })}`);
      return;
    }
    if (result.error.code === "not_found") return setLoaded({ status: "missing" });
    setLoaded({ status: "failed", message: messages.error(result.error.code) });
  }, [userId]);

  useEffect(() => {
    void reload();
  }, [reload]);

  if (loaded.status === "loading") {
    return (
      <>
        <UserPageHeader title="User" />
        <p role="status" className="muted">
          Loading the account…
        </p>
      </>
    );
  }
  if (loaded.status === "missing") {
    return (
      <>
        <UserPageHeader title="User not found" />
        <div className="card card--notice" role="alert">
          <p>There is no user with this id. They may have been deleted.</p>
          <p>
            <Link href="/admin">Back to all users</Link>
          </p>
        </div>
      </>
    );
  }
  if (loaded.status === "failed") {
    return (
      <>
        <UserPageHeader title="User" />
        <div className="alert alert--error" role="alert">
          <ErrorIcon />
          <div>
            <p className="alert__title">The account could not be loaded</p>
            <p>{loaded.message}</p>
            <button
              type="button"
              className="button button--small button--secondary alert__action"
              onClick={() => {
                setLoaded({ status: "loading" });
                void reload();
              }}
            >
              Try again
            </button>
          </div>
        </div>
      </>
    );
  }

  const { detail } = loaded;
  const { user } = detail;
  const self = user.id === adminId;
  const canViewAs = user.role !== "admin" && !user.banned;

  /** After an action: say what it did, show the user as the server now has them, then read the rest again. */
  function done(title: string, text: string, changed?: AdminUser): void {
    setNotice((previous) => ({ title, text, attempt: (previous?.attempt ?? 0) + 1 }));
    if (changed) setLoaded({ status: "ready", detail: { ...detail, user: changed } });
    void reload();
  }

  const close = () => setOpen(null);
  const dialogs: Record<Action, () => ReactNode> = {
    role: () => (
      <AdminConfirmDialog
        title={`Change the role of ${user.email}`}
        submitLabel="Change role"
        pendingLabel="Changing…"
        failureTitle="The role was not changed"
        send={(form, password) => updateUser(user.id, { role: String(form.get("role") ?? ""), password })}
        onSuccess={(result) => {
          // An admin who made themselves something else can no longer see this page.
          if (self && result.user.role !== "admin") return window.location.assign("/dashboard");
          done("Role changed", `${result.user.email} is now ${result.user.role}.`, result.user);
        }}
        onClose={close}
        fields={(errors) => (
          <ControlField id="field-role" label="New role" error={errors.role}>
            {(describedBy) => (
              <select
                id="field-role"
                name="role"
                defaultValue={user.role}
                aria-invalid={errors.role ? true : undefined}
                aria-describedby={describedBy}
              >
                {roles.map((role) => (
                  <option key={role} value={role}>
                    {role}
                  </option>
                ))}
              </select>
            )}
          </ControlField>
        )}
      >
        <p>The new role applies from the user’s next request. There is always at least one admin left.</p>
      </AdminConfirmDialog>
    ),
    ban: () => (
      <AdminConfirmDialog
        title={`Ban ${user.email}?`}
        submitLabel="Ban user"
        pendingLabel="Banning…"
        failureTitle="The user was not banned"
        tone="danger"
        send={(form, password) => {
          const reason = String(form.get("reason") ?? "").trim();
          return updateUser(user.id, { banned: true, ...(reason && { reason }), password });
        }}
        onSuccess={(result) =>
          done("User banned", `${result.user.email} was signed out everywhere and can no longer log in.`, result.user)
        }
        onClose={close}
        fields={(errors) => (
          <ControlField
            id="field-reason"
            label="Reason (optional)"
            hint="Only admins see it, here and in the audit log."
            error={errors.reason}
          >
            {(describedBy) => (
              <textarea
                id="field-reason"
                name="reason"
                rows={3}
                maxLength={MAX_REASON}
                aria-invalid={errors.reason ? true : undefined}
                aria-describedby={describedBy}
              />
            )}
          </ControlField>
        )}
      >
        <p>Every session of theirs ends now, on every device, and they cannot log in again until the ban is lifted.</p>
      </AdminConfirmDialog>
    ),
    unban: () => (
      <AdminConfirmDialog
        title={`Lift the ban on ${user.email}?`}
        submitLabel="Lift ban"
        pendingLabel="Lifting…"
        failureTitle="The ban was not lifted"
        send={(_form, password) => updateUser(user.id, { banned: false, password })}
        onSuccess={(result) => done("Ban lifted", `${result.user.email} can log in again.`, result.user)}
        onClose={close}
      >
        <p>They can log in again with their password, passkeys or connected accounts.</p>
      </AdminConfirmDialog>
    ),
    sessions: () => (
      <AdminConfirmDialog
        title={`Sign ${user.email} out everywhere?`}
        submitLabel="Sign out everywhere"
        pendingLabel="Signing out…"
        failureTitle="The sessions were not ended"
        tone="danger"
        send={(_form, password) => endUserSessions(user.id, { password })}
        onSuccess={(result) => {
          // The admin's own sessions, this one included: the next request asks them to log in again.
          if (self) return window.location.assign("/login?signedOut=1");
          done(
            "Signed out everywhere",
            result.ended === 1 ? "1 session was ended." : `${result.ended} sessions were ended.`,
          );
        }}
        onClose={close}
      >
        <p>Every device they are signed in on is signed out at its next request. They can log in again.</p>
      </AdminConfirmDialog>
    ),
    reset: () => (
      <AdminConfirmDialog
        title={`Send ${user.email} a password-reset link?`}
        submitLabel="Send link"
        pendingLabel="Sending…"
        failureTitle="No link was sent"
        send={(_form, password) => sendPasswordReset(user.id, { password })}
        onSuccess={() => done("Link sent", `A password-reset link is on its way to ${user.email}.`)}
        onClose={close}
      >
        <p>They get an email with a link to choose a new password. Their current password keeps working until then.</p>
      </AdminConfirmDialog>
    ),
    factors: () => (
      <AdminConfirmDialog
        title={`Reset the second factors of ${user.email}?`}
        submitLabel="Reset second factors"
        pendingLabel="Resetting…"
        failureTitle="The second factors were not reset"
        tone="danger"
        send={(_form, password) => resetFactors(user.id, { password })}
        onSuccess={(result) => {
          const { passkeys } = result.removed;
          done(
            "Second factors reset",
            `Removed: the authenticator app${result.removed.totp ? "" : " (it was off)"}, the recovery codes and ${
              passkeys === 1 ? "1 passkey" : `${passkeys} passkeys`
            }. They log in with their password alone now.`,
          );
        }}
        onClose={close}
      >
        <p>
          For someone who lost their phone and their recovery codes: this turns off the authenticator app and removes
          their recovery codes and passkeys. Check it really is them first.
        </p>
      </AdminConfirmDialog>
    ),
    impersonate: () => (
      <AdminConfirmDialog
        title={`View the app as ${user.email}?`}
        submitLabel="View as user"
        pendingLabel="Opening…"
        failureTitle="You are not viewing as this user"
        send={(_form, password) => impersonate(user.id, { password })}
        navigate={() => "/dashboard"}
        onClose={close}
        messageFor={(code) =>
          code === "forbidden" ? "Administrators and banned users cannot be viewed as." : undefined
        }
      >
        <p>
          You see the app as they do, for 30 minutes at most, and cannot change their password, email or second factors.
          A banner on every page takes you back to your own account. Starting and stopping are in the audit log.
        </p>
      </AdminConfirmDialog>
    ),
    delete: () => (
      <AdminConfirmDialog
        title={`Delete ${user.email}?`}
        submitLabel="Delete user"
        pendingLabel="Deleting…"
        failureTitle="The user was not deleted"
        tone="danger"
        send={(_form, password) => deleteUser(user.id, { password })}
        navigate={() => `/admin?${new URLSearchParams({ deleted: user.email })}`}
        onClose={close}
      >
        <p>
          This removes the account, its sessions, passkeys and connected accounts. It cannot be undone. Its audit events
          stay in the log.
        </p>
      </AdminConfirmDialog>
    ),
  };

  return (
    <>
      <UserPageHeader title={user.email}>
        <p className="lead">
          <DisplayName name={user.name} /> · joined {formatUtc(user.createdAt)}
        </p>
        <p className="badges">
          <RoleBadge role={user.role} />
          <AdminUserBadges user={user} />
          {self && <span className="badge">This is you</span>}
        </p>
      </UserPageHeader>
      <div role="status" className="notice-region">
        {notice && (
          <div key={notice.attempt} className="alert alert--success">
            <CheckIcon />
            <div>
              <p className="alert__title">{notice.title}</p>
              <p>{notice.text}</p>
            </div>
          </div>
        )}
      </div>
      {user.banned && (
        <section className="card card--wide card--attention" aria-labelledby="ban-heading">
          <h2 id="ban-heading">Banned</h2>
          <p>
            Since {user.bannedAt ? formatUtc(user.bannedAt) : "an unknown time"}.{" "}
            {user.banReason ? `Reason: ${user.banReason}` : "No reason was given."}
          </p>
        </section>
      )}
      <div className="page-grid page-section">
        <div className="stack">
          <section className="card card--wide" aria-labelledby="manage-heading">
            <h2 id="manage-heading">Manage</h2>
            <p className="muted">Each action asks for your password.</p>
            <ul className="action-list">
              <ActionRow
                title="Role"
                text={`Now ${user.role}. Admins can open this console.`}
                button="Change role"
                onClick={() => setOpen("role")}
              />
              {user.banned ? (
                <ActionRow
                  title="Ban"
                  text="They cannot log in until the ban is lifted."
                  button="Lift ban"
                  onClick={() => setOpen("unban")}
                />
              ) : (
                <ActionRow
                  title="Ban"
                  text="Signs them out everywhere and stops every log-in."
                  button="Ban user"
                  tone="danger"
                  onClick={() => setOpen("ban")}
                />
              )}
              <ActionRow
                title="Sessions"
                text="Ends every session, on every device."
                button="Sign out everywhere"
                onClick={() => setOpen("sessions")}
              />
              <ActionRow
                title="Password"
                text="Emails them a link to choose a new one."
                button="Send password reset"
                onClick={() => setOpen("reset")}
              />
              <ActionRow
                title="Second factors"
                text="Removes the authenticator app, recovery codes and passkeys."
                button="Reset second factors"
                onClick={() => setOpen("factors")}
              />
              {canViewAs ? (
                <ActionRow
                  title="View as user"
                  text="See the app as they do, to help them. For 30 minutes at most."
                  button="View as user"
                  onClick={() => setOpen("impersonate")}
                />
              ) : (
                <li className="action-list__item">
                  <div className="action-list__text">
                    <strong>View as user</strong>
                    <span className="muted">Not for administrators or banned users.</span>
                  </div>
                </li>
              )}
              <ActionRow
                title="Delete"
                text="Removes the account for good."
                button="Delete user"
                tone="danger"
                onClick={() => setOpen("delete")}
              />
            </ul>
          </section>
          <SignInCard detail={detail} />
        </div>
        <div className="stack">
          <SessionsCard sessions={detail.sessions} />
          <section className="card card--wide" aria-labelledby="user-events-heading">
            <h2 id="user-events-heading">Recent events</h2>
            {detail.events.length === 0 ? (
              <p className="muted">No events recorded yet.</p>
            ) : (
              <EventList events={detail.events} admin />
            )}
            <p className="card__link">
              <Link href={`/admin/audit?${new URLSearchParams({ userId: user.id })}`}>
                Every event of this user in the audit log
              </Link>
            </p>
          </section>
        </div>
      </div>
      {open && dialogs[open]()}
    </>
  );
}

/** The user page's heading, the console's navigation and the way back to the list. */
function UserPageHeader({ title, children }: { title: string; children?: ReactNode }): ReactNode {
  return (
    <div className="page-header">
      <p className="eyebrow">
        <Link href="/admin" className="eyebrow__link">
          Users
        </Link>{" "}
        / Account
      </p>
      <h1 className="heading-break">{title}</h1>
      {children}
      <AdminNav current="users" nested />
    </div>
  );
}

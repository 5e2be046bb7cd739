"use client";

import Link from "next/link";
import { type ReactNode, useCallback, useEffect, useState } from "react";
import { listMail, type MailMessage, type MailStatus, retryMail } from "../lib/adminApi";
import { formatUtc } from "../lib/dates";
import { messages } from "../lib/messages";
import { AdminConfirmDialog } from "./AdminConfirmDialog";
import { AdminNav } from "./AdminNav";
import { CheckIcon, ErrorIcon } from "./icons";

const STATUSES: readonly { status: MailStatus | ""; label: string }[] = [
  { status: "failed", label: "Failed" },
  { status: "pending", label: "Waiting" },
  { status: "sent", label: "Sent" },
  { status: "", label: "All" },
];

type Loaded =
  | { status: "loading" }
  | { status: "failed"; message: string }
  | { status: "ready"; messages: MailMessage[]; counts: Record<MailStatus, number> };

function StatusBadge({ status }: { status: MailStatus }): ReactNode {
  if (status === "failed") return <span className="badge badge--danger">Failed</span>;
  if (status === "pending") return <span className="badge badge--warning">Waiting</span>;
  return <span className="badge">Sent</span>;
}

/** When a message went, or when it is tried next, or that it was given up on. */
function progress(message: MailMessage): string {
  const tries = message.attempts === 1 ? "1 attempt" : `${message.attempts} attempts`;
  if (message.status === "sent") return `Sent ${message.sentAt ? formatUtc(message.sentAt) : ""} · ${tries}`;
  if (message.status === "failed") return `Given up after ${tries}`;
  return message.nextAttemptAt ? `Next try ${formatUtc(message.nextAttemptAt)} · ${tries}` : `Queued · ${tries}`;
}

/**
 * The mail outbox in the admin console of both example apps: how many messages wait, went or failed, and each
 * message's recipient, subject and last error (never its body, which may hold a link that signs in). A failed
 * one can be sent again, confirmed with the admin's password. The status filter is the page's address.
 */
export function MailView({ status }: { status: MailStatus | "" }): ReactNode {
  const [loaded, setLoaded] = useState<Loaded>({ status: "loading" });
  const [retrying, setRetrying] = useState<MailMessage | null>(null);
  const [notice, setNotice] = useState<{ text: string; attempt: number } | null>(null);

  const reload = useCallback(async (): Promise<void> => {
    const result = await listMail({ status });
    setLoaded(
      result.ok
        ? { status: "ready", messages: result.messages, counts: result.counts }
        : { status: "failed", message: messages.error(result.error.code) },
    );
  }, [status]);

  useEffect(() => {
    void reload();
  }, [reload]);

  const counts = loaded.status === "ready" ? loaded.counts : null;
  const label = STATUSES.find((s) => s.status === status)?.label ?? "All";
  return (
    <>
      <div className="page-header">
        <p className="eyebrow">Admin console</p>
        <h1>Mail</h1>
        <p className="lead">
          Every email the app sends goes through this outbox, and is tried again with growing pauses when the mail
          server does not answer. Messages that keep failing stop here.
        </p>
        <AdminNav current="mail" />
      </div>
      <nav className="tabs" aria-label="Mail by status">
        <ul>
          {STATUSES.map((s) => {
            const count = counts && s.status !== "" ? ` (${counts[s.status]})` : "";
            return (
              <li key={s.status || "all"}>
                <Link
                  href={s.status ? `/admin/mail?status=${s.status}` : "/admin/mail"}
                  className="admin-nav__link"
                  aria-current={s.status === status ? "page" : undefined}
                >
                  {s.label}
                  {count}
                </Link>
              </li>
            );
          })}
        </ul>
      </nav>
      <div role="status" className="notice-region">
        {notice && (
          <div key={notice.attempt} className="alert alert--success">
            <CheckIcon />
            <div>
              <p className="alert__title">Queued again</p>
              <p>{notice.text}</p>
            </div>
          </div>
        )}
      </div>
      <section aria-labelledby="mail-heading" aria-busy={loaded.status === "loading"}>
        <h2 id="mail-heading" className="section-title">
          {status ? `${label} messages` : "All messages"}
        </h2>
        {loaded.status === "loading" && (
          <p role="status" className="muted">
            Loading messages…
          </p>
        )}
        {loaded.status === "failed" && (
          <div className="alert alert--error" role="alert">
            <ErrorIcon />
            <div>
              <p className="alert__title">The outbox could not be loaded</p>
              <p>{loaded.message}</p>
              <button
                type="button"
                className="button button--small button--secondary alert__action"
                onClick={() => void reload()}
              >
                Try again
              </button>
            </div>
          </div>
        )}
        {loaded.status === "ready" && loaded.messages.length === 0 && (
          <p className="muted">
            {status === "failed" ? "No message has failed. Every email got through." : "No messages here."}
          </p>
        )}
        {loaded.status === "ready" && loaded.messages.length > 0 && (
          <ul className="mail-list">
            {loaded.messages.map((message) => (
              <li key={message.id} className="mail-list__item">
                <div className="mail-list__text">
                  <p className="mail-list__line">
                    <strong>{message.subject}</strong> <StatusBadge status={message.status} />
                  </p>
                  <p className="mail-list__line mail-list__meta muted">
                    To {message.to} · queued {formatUtc(message.createdAt)} · {progress(message)}
                  </p>
                  {message.lastError && (
                    <p className="mail-list__error">
                      Last error: <code>{message.lastError}</code>
                    </p>
                  )}
                </div>
                {message.status === "failed" && (
                  <button
                    type="button"
                    className="button button--small button--secondary"
                    aria-haspopup="dialog"
                    aria-label={`Send again: ${message.subject} to ${message.to}`}
                    onClick={() => setRetrying(message)}
                  >
                    Send again
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
      </section>
      {retrying && (
        <AdminConfirmDialog
          title={`Send “${retrying.subject}” to ${retrying.to} again?`}
          submitLabel="Send again"
          pendingLabel="Queueing…"
          failureTitle="The message was not queued again"
          send={(_form, password) => retryMail(retrying.id, { password })}
          onSuccess={() => {
            setNotice((previous) => ({
              text: `“${retrying.subject}” to ${retrying.to} will be sent in a moment.`,
              attempt: (previous?.attempt ?? 0) + 1,
            }));
            void reload();
          }}
          onClose={() => setRetrying(null)}
          messageFor={(code) =>
            code === "not_found" ? "This message is no longer failed: it may have been sent." : undefined
          }
        >
          <p>It goes back in the queue and is tried again in a moment.</p>
        </AdminConfirmDialog>
      )}
    </>
  );
}

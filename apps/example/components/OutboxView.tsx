import type { ReactNode } from "react";

/** One email of the dev outbox, as the page shows it. */
export interface OutboxEntry {
  id: string;
  to: string;
  subject: string;
  text: string;
  /** When it was sent, as text (`toOutboxEntry`). */
  sentAt: string;
}

const TIME_FORMAT = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "medium", timeZone: "UTC" });

/** A stored outbox message as an entry: the time as text, in UTC, written on the server. */
export function toOutboxEntry(message: Omit<OutboxEntry, "sentAt"> & { createdAt: Date }): OutboxEntry {
  const { id, to, subject, text, createdAt } = message;
  return { id, to, subject, text, sentAt: `${TIME_FORMAT.format(createdAt)} UTC` };
}

/** The message's text with the app's own links clickable; anything else stays text. */
function MessageText({ text, origin }: { text: string; origin: string }): ReactNode {
  const parts = text.split(/(https?:\/\/\S+)/g);
  return (
    <pre>
      {parts.map((part, i) =>
        /^https?:\/\//.test(part) && URL.canParse(part) && new URL(part).origin === origin ? (
          // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one message's text never change order
          <a key={i} href={part}>
            {part}
          </a>
        ) : (
          part
        ),
      )}
    </pre>
  );
}

/**
 * The dev outbox page of both example apps: the emails the app would have sent. Whether the page exists at
 * all (development, this machine, the app's own host) is each router's check.
 */
export function OutboxView({
  messages,
  origin,
}: {
  /** Newest first. */
  messages: OutboxEntry[];
  /** The app's origin: links to it are made clickable; anything else stays text. */
  origin: string;
}): ReactNode {
  return (
    <>
      <div className="page-header">
        <h1>Dev outbox</h1>
        <p className="lead">
          Emails the app would have sent, newest first. Set <code>SMTP_URL</code> to deliver them for real.
        </p>
      </div>
      {messages.length === 0 ? (
        <p className="muted">No emails yet. Sign up or ask for a password reset, then reload this page.</p>
      ) : (
        <ol className="outbox">
          {messages.map((m) => (
            <li key={m.id} className="card card--wide outbox__message">
              <h2>{m.subject}</h2>
              <p className="muted">
                To {m.to} · {m.sentAt}
              </p>
              <MessageText text={m.text} origin={origin} />
            </li>
          ))}
        </ol>
      )}
    </>
  );
}

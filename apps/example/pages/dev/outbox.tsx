import type { GetServerSideProps } from "next";
import type { ReactNode } from "react";
import { PageTitle } from "../../components/PageTitle";
import { devOutboxOpenTo } from "../../lib/devOutbox";
import { readEnv } from "../../lib/env";
import { getStores } from "../../lib/gatehouse";

interface OutboxEntry {
  id: string;
  to: string;
  subject: string;
  text: string;
  sentAt: string;
}

interface OutboxProps {
  messages: OutboxEntry[];
  /** Links to this origin are made clickable; anything else stays text. */
  origin: string;
}

const TIME_FORMAT = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "medium", timeZone: "UTC" });

/**
 * The development outbox: without SMTP_URL, in development on a loopback origin only, emails are kept in the
 * database and listed here, to requests from this machine only, addressed to GATEHOUSE_URL's host. Anywhere
 * else this page does not exist (404): it shows every reset link.
 */
export const getServerSideProps: GetServerSideProps<OutboxProps> = async ({ req, res }) => {
  if (!devOutboxOpenTo(req)) return { notFound: true };
  res.setHeader("Cache-Control", "no-store");
  const messages = await getStores().store.listOutboxMessages(50);
  return {
    props: {
      origin: new URL(readEnv().url).origin,
      messages: messages.map((m) => ({
        id: m.id,
        to: m.to,
        subject: m.subject,
        text: m.text,
        sentAt: `${TIME_FORMAT.format(m.createdAt)} UTC`,
      })),
    },
  };
};

/** The message's text with the app's own links clickable. */
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

export default function OutboxPage({ messages, origin }: OutboxProps): ReactNode {
  return (
    <>
      <PageTitle title="Dev outbox" />
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

import { devOutboxOpenToHeaders } from "@shared/lib/devOutbox";
import { readEnv } from "@shared/lib/env";
import { getStores } from "@shared/lib/gatehouse";
import { headers } from "next/headers";
import { notFound } from "next/navigation";
import type { ReactNode } from "react";
import { titled } from "@/lib/metadata";

export const metadata = titled("Dev outbox");

const TIME_FORMAT = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "medium", timeZone: "UTC" });

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
 * The development outbox: without SMTP_URL, in development on a loopback origin only, emails are kept in the
 * database and listed here, to requests from this machine only, addressed to GATEHOUSE_URL's host. Anywhere
 * else this page does not exist (404): it shows every reset link. (A dynamic page: Next sends it `no-store`.)
 */
export default async function OutboxPage(): Promise<ReactNode> {
  if (!devOutboxOpenToHeaders(await headers())) notFound();
  const messages = await getStores().store.listOutboxMessages(50);
  const origin = new URL(readEnv().url).origin;
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
                To {m.to} · {TIME_FORMAT.format(m.createdAt)} UTC
              </p>
              <MessageText text={m.text} origin={origin} />
            </li>
          ))}
        </ol>
      )}
    </>
  );
}

import type { GetServerSideProps } from "next";
import type { ReactNode } from "react";
import { type OutboxEntry, OutboxView, toOutboxEntry } from "../../components/OutboxView";
import { PageTitle } from "../../components/PageTitle";
import { devOutboxOpenTo } from "../../lib/devOutbox";
import { readEnv } from "../../lib/env";
import { getGatehouse } from "../../lib/gatehouse";

interface OutboxProps {
  messages: OutboxEntry[];
  origin: string;
}

/**
 * The development outbox: without SMTP_URL, in development on a loopback origin only, emails are kept in the
 * database and listed here, to requests from this machine only, addressed to GATEHOUSE_URL's host. Anywhere
 * else this page does not exist (404): it shows every reset link.
 */
export const getServerSideProps: GetServerSideProps<OutboxProps> = async ({ req, res }) => {
  if (!devOutboxOpenTo(req)) return { notFound: true };
  res.setHeader("Cache-Control", "no-store");
  const messages = await getGatehouse().outboxMessages(50);
  return { props: { origin: new URL(readEnv().url).origin, messages: messages.map(toOutboxEntry) } };
};

export default function OutboxPage(props: OutboxProps): ReactNode {
  return (
    <>
      <PageTitle title="Dev outbox" />
      <OutboxView {...props} />
    </>
  );
}

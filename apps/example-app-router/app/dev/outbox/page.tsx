import { OutboxView, toOutboxEntry } from "@shared/components/OutboxView";
import { devOutboxOpenToHeaders } from "@shared/lib/devOutbox";
import { readEnv } from "@shared/lib/env";
import { getGatehouse } from "@shared/lib/gatehouse";
import { headers } from "next/headers";
import { notFound } from "next/navigation";
import type { ReactNode } from "react";
import { titled } from "@/lib/metadata";

export const metadata = titled("Dev outbox");

/**
 * The development outbox: without SMTP_URL, in development on a loopback origin only, emails are kept in the
 * database and listed here, to requests from this machine only, addressed to GATEHOUSE_URL's host. Anywhere
 * else this page does not exist (404): it shows every reset link. (A dynamic page: Next sends it `no-store`.)
 */
export default async function OutboxPage(): Promise<ReactNode> {
  if (!devOutboxOpenToHeaders(await headers())) notFound();
  const messages = await getGatehouse().outboxMessages(50);
  return <OutboxView messages={messages.map(toOutboxEntry)} origin={new URL(readEnv().url).origin} />;
}

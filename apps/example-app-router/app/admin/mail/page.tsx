import { MailView } from "@shared/components/MailView";
import { ADMIN_ROLE, mailStatusOf } from "@shared/lib/adminPages";
import type { ReactNode } from "react";
import { requireRole } from "@/lib/auth";
import { titled } from "@/lib/metadata";
import type { SearchParams } from "@/lib/searchParams";

export const metadata = titled("Mail");

/** The mail outbox: what waits, went or failed, by the address's `status`. */
export default async function MailPage({ searchParams }: { searchParams: SearchParams }): Promise<ReactNode> {
  await requireRole(ADMIN_ROLE, "/admin/mail");
  return <MailView status={mailStatusOf((await searchParams).status)} />;
}

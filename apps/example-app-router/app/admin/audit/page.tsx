import { AuditLogView } from "@shared/components/AuditLogView";
import { ADMIN_ROLE, queryValue } from "@shared/lib/adminPages";
import type { ReactNode } from "react";
import { requireRole } from "@/lib/auth";
import { titled } from "@/lib/metadata";
import type { SearchParams } from "@/lib/searchParams";

export const metadata = titled("Audit log");

/** The whole audit log, filtered by the address's `type` and `userId`. */
export default async function AuditPage({ searchParams }: { searchParams: SearchParams }): Promise<ReactNode> {
  await requireRole(ADMIN_ROLE, "/admin/audit");
  const query = await searchParams;
  return <AuditLogView type={queryValue(query.type, 64)} userId={queryValue(query.userId, 64)} />;
}

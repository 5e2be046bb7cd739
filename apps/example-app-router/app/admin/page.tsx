import { AdminView } from "@shared/components/AdminView";
import { ADMIN_ROLE, queryValue } from "@shared/lib/adminPages";
import type { Metadata } from "next";
import type { ReactNode } from "react";
import { requireRole } from "@/lib/auth";
import { titled } from "@/lib/metadata";
import type { SearchParams } from "@/lib/searchParams";

export async function generateMetadata({ searchParams }: { searchParams: SearchParams }): Promise<Metadata> {
  const query = queryValue((await searchParams).query);
  return titled(query ? `Users matching “${query}”` : "Users");
}

/** The admin console: search the users. A signed-in user who is not an admin gets the 403 page (app/forbidden.tsx). */
export default async function AdminPage({ searchParams }: { searchParams: SearchParams }): Promise<ReactNode> {
  await requireRole(ADMIN_ROLE, "/admin");
  const query = await searchParams;
  return <AdminView query={queryValue(query.query)} deleted={queryValue(query.deleted) || null} />;
}

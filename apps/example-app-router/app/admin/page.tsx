import { AdminView } from "@shared/components/AdminView";
import { getGatehouse } from "@shared/lib/gatehouse";
import type { ReactNode } from "react";
import { requirePermission } from "@/lib/auth";
import { titled } from "@/lib/metadata";

export const metadata = titled("Users");

/** Every account; a signed-in user without `users:read` gets the 403 page (app/forbidden.tsx). */
export default async function AdminPage(): Promise<ReactNode> {
  await requirePermission("users:read", "/admin");
  return <AdminView users={await getGatehouse().users.list()} />;
}

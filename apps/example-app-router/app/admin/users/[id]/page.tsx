import { AdminUserView } from "@shared/components/AdminUserView";
import { ADMIN_ROLE, queryValue, ROLES } from "@shared/lib/adminPages";
import type { ReactNode } from "react";
import { requireRole } from "@/lib/auth";
import { titled } from "@/lib/metadata";

export const metadata = titled("User");

/** One user in the admin console: their account, sessions, sign-in methods and events, and the admin's actions. */
export default async function AdminUserPage({ params }: { params: Promise<{ id: string }> }): Promise<ReactNode> {
  const { id } = await params;
  const userId = queryValue(id, 64);
  const { user } = await requireRole(ADMIN_ROLE, `/admin/users/${encodeURIComponent(userId)}`);
  return <AdminUserView userId={userId} adminId={user.id} roles={ROLES} />;
}

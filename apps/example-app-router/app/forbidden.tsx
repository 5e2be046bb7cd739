import Link from "next/link";
import type { ReactNode } from "react";
import { titled } from "@/lib/metadata";

export const metadata = titled("Admins only");

/**
 * What `requirePermission` shows, with status 403, to a signed-in user who lacks the permission (only the
 * admin page asks for one).
 */
export default function Forbidden(): ReactNode {
  return (
    <div className="card card--notice">
      <p className="eyebrow">Error 403</p>
      <h1>Admins only</h1>
      <p>Your account does not have permission to see the list of users.</p>
      <p>
        <Link href="/dashboard">Back to your dashboard</Link>
      </p>
    </div>
  );
}

import type { ReactNode } from "react";
import type { AdminUser } from "../lib/adminApi";

/** A user's state at a glance, in words as well as colours: banned, their address, two-factor authentication. */
export function AdminUserBadges({
  user,
}: {
  user: Pick<AdminUser, "banned" | "emailVerified" | "totpEnabled">;
}): ReactNode {
  return (
    <span className="badges">
      {user.banned && <span className="badge badge--danger">Banned</span>}
      {user.emailVerified ? (
        <span className="badge">Verified</span>
      ) : (
        <span className="badge badge--warning">Not verified</span>
      )}
      {user.totpEnabled && <span className="badge">2FA</span>}
    </span>
  );
}

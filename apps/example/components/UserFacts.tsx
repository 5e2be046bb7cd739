import type { ReactNode } from "react";

/** Whether an address is verified, as a badge: the same words and colours on every page. */
export function VerifiedBadge({ verified }: { verified: boolean }): ReactNode {
  return verified ? (
    <span className="badge">Verified</span>
  ) : (
    <span className="badge badge--warning">Not verified</span>
  );
}

/** A user's role, as a badge. */
export function RoleBadge({ role }: { role: string }): ReactNode {
  return <span className="badge">{role}</span>;
}

/** A user's display name, or a muted "Not set". */
export function DisplayName({ name }: { name: string | null }): ReactNode {
  return name ?? <span className="muted">Not set</span>;
}

/** One labelled value of a `<dl>`. */
export function Detail({ label, children }: { label: string; children: ReactNode }): ReactNode {
  return (
    <div>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

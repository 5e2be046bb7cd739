import type { ReactNode } from "react";

/** Whether an address is verified, as a badge: the same words and colours on every page. */
export function VerifiedBadge({ verified }: { verified: boolean }): ReactNode {
  return verified ? (
    <span className="badge">Verified</span>
  ) : (
    <span className="badge badge--warning">Not verified</span>
  );
}

import { ErrorCard, FORBIDDEN } from "@shared/components/ErrorCard";
import type { ReactNode } from "react";
import { titled } from "@/lib/metadata";

export const metadata = titled(FORBIDDEN.title);

/**
 * What `requireRole` shows, with status 403, to a signed-in user who lacks the role (only the admin
 * console's pages ask for one).
 */
export default function Forbidden(): ReactNode {
  return <ErrorCard notice={FORBIDDEN} />;
}

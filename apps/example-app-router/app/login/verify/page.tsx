import { SecondStepCard } from "@shared/components/SecondStepCard";
import { DEFAULT_NEXT, methodsOf } from "@shared/lib/authPaths";
import { safeRedirectPath } from "gatehouse-auth";
import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { getSession } from "@/lib/auth";
import { titled } from "@/lib/metadata";
import { queryText, type SearchParams } from "@/lib/searchParams";

export const metadata = titled("Confirm it's you");

/**
 * The second step of a log-in whose password was right: a code from the authenticator app, a recovery
 * code, or a passkey. The codes work as a plain form post too; the API redirects back here on failure, to
 * `next` on success, and to the log-in page when the five minutes of the pending log-in are over.
 */
export default async function VerifyPage({ searchParams }: { searchParams: SearchParams }): Promise<ReactNode> {
  const query = await searchParams;
  const next = safeRedirectPath(query.next, DEFAULT_NEXT);
  if (await getSession()) redirect(next);
  const use = query.use === "recovery" ? "recovery" : "totp";
  return <SecondStepCard next={next} error={queryText(query.error)} methods={methodsOf(query.methods)} use={use} />;
}

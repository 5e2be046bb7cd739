import type { ReactNode } from "react";
import { queryText, type SearchParams } from "@/lib/searchParams";
import { ResetPasswordForm } from "./ResetPasswordForm";

/**
 * Where a reset link lands (served with `Referrer-Policy: no-referrer`, so the token in the URL never leaks
 * to another site). Posting the new password uses up the link, ends every session and signs nobody in. Its
 * title follows the form's answer, so the form sets it.
 */
export default async function ResetPasswordPage({ searchParams }: { searchParams: SearchParams }): Promise<ReactNode> {
  return <ResetPasswordForm token={queryText((await searchParams).token)} />;
}

import { readEnv } from "@shared/lib/env";
import type { ReactNode } from "react";
import { titled } from "@/lib/metadata";
import { queryText, type SearchParams } from "@/lib/searchParams";
import { VerifyEmailForm } from "./VerifyEmailForm";

export const metadata = titled("Verify your email");

/**
 * Where verification and email-change links land. Opening the page changes nothing: mail scanners and
 * link previews fetch links, so only the button (a POST) uses the token up.
 */
export default async function VerifyEmailPage({ searchParams }: { searchParams: SearchParams }): Promise<ReactNode> {
  const env = readEnv();
  return (
    <VerifyEmailForm
      token={queryText((await searchParams).token)}
      codes={env.emailVerificationMethod === "code"}
      lifetimeHours={Math.max(1, Math.round((env.emailVerificationLifetime ?? 86_400) / 3600))}
    />
  );
}

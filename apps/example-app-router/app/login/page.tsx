import type { LoginNotice } from "@shared/components/LoginCard";
import { DEFAULT_NEXT } from "@shared/lib/authPaths";
import { getGatehouse } from "@shared/lib/gatehouse";
import { safeRedirectPath } from "gatehouse-auth";
import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { getSession } from "@/lib/auth";
import { titled } from "@/lib/metadata";
import { queryText, type SearchParams } from "@/lib/searchParams";
import { LoginForm } from "./LoginForm";

export const metadata = titled("Log in");

function noticeOf(query: Awaited<SearchParams>): LoginNotice {
  if (query.notice === "verify_email") return "verify_email";
  if (query.signedOut === "1") return "signed_out";
  return null;
}

export default async function LoginPage({ searchParams }: { searchParams: SearchParams }): Promise<ReactNode> {
  const query = await searchParams;
  const next = safeRedirectPath(query.next, DEFAULT_NEXT);
  if (await getSession()) redirect(next);
  return (
    <LoginForm
      next={next}
      error={queryText(query.error)}
      notice={noticeOf(query)}
      providers={getGatehouse().oauthProviders()}
    />
  );
}

import { DEFAULT_NEXT, withoutWelcome } from "@shared/lib/authPaths";
import { getGatehouse } from "@shared/lib/gatehouse";
import { safeRedirectPath } from "gatehouse-auth";
import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { getSession } from "@/lib/auth";
import { titled } from "@/lib/metadata";
import { queryText, type SearchParams } from "@/lib/searchParams";
import { SignupForm } from "./SignupForm";

export const metadata = titled("Create your account");

export default async function SignupPage({ searchParams }: { searchParams: SearchParams }): Promise<ReactNode> {
  const query = await searchParams;
  const next = withoutWelcome(safeRedirectPath(query.next, DEFAULT_NEXT));
  if (await getSession()) redirect(next);
  return <SignupForm next={next} error={queryText(query.error)} providers={getGatehouse().oauthProviders()} />;
}

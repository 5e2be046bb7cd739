import { DashboardView } from "@shared/components/DashboardView";
import { formatUtc } from "@shared/lib/dates";
import { getGatehouse } from "@shared/lib/gatehouse";
import { toSessionRows } from "@shared/lib/sessions";
import type { ReactNode } from "react";
import { ForgetQuery } from "@/components/ForgetQuery";
import { requireUser } from "@/lib/auth";
import { titled } from "@/lib/metadata";
import type { SearchParams } from "@/lib/searchParams";

export const metadata = titled("Dashboard");

export default async function DashboardPage({ searchParams }: { searchParams: SearchParams }): Promise<ReactNode> {
  const { user, session } = await requireUser("/dashboard");
  const newAccount = (await searchParams).welcome === "1";
  return (
    <>
      {/* The greeting is for this visit: a later reload or bookmark of the dashboard says "Welcome back". */}
      {newAccount && <ForgetQuery path="/dashboard" />}
      <DashboardView
        user={user}
        expiresAt={session.expiresAt.toISOString()}
        expiresLabel={formatUtc(session.expiresAt)}
        sessions={toSessionRows(await getGatehouse().listSessions(user.id), session.id)}
        canListUsers={getGatehouse().can(user, "users:read")}
        newAccount={newAccount}
      />
    </>
  );
}

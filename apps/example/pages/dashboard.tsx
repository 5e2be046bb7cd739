import { withPageAuth } from "gatehouse-auth/next";
import { useRouter } from "next/router";
import { type ReactNode, useEffect } from "react";
import { DashboardView, type DashboardViewProps } from "../components/DashboardView";
import { PageTitle } from "../components/PageTitle";
import { formatUtc } from "../lib/dates";
import { devOutboxOpenTo } from "../lib/devOutbox";
import { getGatehouse } from "../lib/gatehouse";
import { toSessionRows } from "../lib/sessions";

// `devOutbox` is for `_app` (the "check your inbox" hint), not the view.
type DashboardProps = DashboardViewProps & { devOutbox: boolean };

export const getServerSideProps = withPageAuth<DashboardProps>(
  getGatehouse,
  {},
  async ({ req, query }, { user, session }) => ({
    props: {
      user,
      expiresAt: session.expiresAt.toISOString(),
      expiresLabel: formatUtc(session.expiresAt),
      sessions: toSessionRows(await getGatehouse().listSessions(user.id), session.id),
      canListUsers: getGatehouse().can(user, "users:read"),
      newAccount: query.welcome === "1",
      devOutbox: devOutboxOpenTo(req),
    },
  }),
);

export default function DashboardPage(props: DashboardProps): ReactNode {
  const router = useRouter();
  // The greeting is for this visit: a later reload or bookmark of the dashboard says "Welcome back".
  useEffect(() => {
    if (router.query.welcome !== undefined) void router.replace("/dashboard", undefined, { shallow: true });
  }, [router]);
  return (
    <>
      <PageTitle title="Dashboard" />
      <DashboardView {...props} />
    </>
  );
}

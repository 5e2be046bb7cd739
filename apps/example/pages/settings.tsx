import { withPageAuth } from "gatehouse-auth/next";
import { useRouter } from "next/router";
import { type ReactNode, useEffect } from "react";
import { PageTitle } from "../components/PageTitle";
import { SettingsView, type SettingsViewProps } from "../components/SettingsView";
import { devOutboxOpenTo } from "../lib/devOutbox";
import { getGatehouse } from "../lib/gatehouse";
import { loadSettings } from "../lib/settings";

// `devOutbox` is for `_app` (the "check your inbox" hint), not the view.
type SettingsProps = SettingsViewProps & { devOutbox: boolean };

const queryString = (value: string | string[] | undefined): string | null => (typeof value === "string" ? value : null);

export const getServerSideProps = withPageAuth<SettingsProps>(getGatehouse, {}, async ({ req, query }, { user }) => ({
  props: {
    ...(await loadSettings(user)),
    linked: queryString(query.linked),
    error: queryString(query.error),
    devOutbox: devOutboxOpenTo(req),
  },
}));

export default function SettingsPage(props: SettingsProps): ReactNode {
  const router = useRouter();
  // The callback's message is for this visit: a reload or bookmark of the page does not repeat it.
  useEffect(() => {
    if (router.query.linked !== undefined || router.query.error !== undefined) {
      void router.replace("/settings", undefined, { shallow: true });
    }
  }, [router]);
  return (
    <>
      <PageTitle title="Settings" />
      <SettingsView {...props} />
    </>
  );
}

import "../styles/globals.css";
import { type ClientSession, isUnavailable, SessionProvider } from "gatehouse-auth/react";
import type { AppProps } from "next/app";
import type { ReactNode } from "react";
import { DevOutboxContext } from "../components/DevOutboxHint";
import { Layout } from "../components/Layout";
import { Unavailable } from "../components/Unavailable";

type AppPageProps = { session?: ClientSession; devOutbox?: boolean };

/**
 * Pages with `getServerSideProps` pass `session`, so the navigation is right on the first paint. When the
 * store is down, guarded pages get status 503 and `isUnavailable` props, and every page shows the same notice. Pages
 * that say "check your inbox" pass `devOutbox`, so in development they can point at `/dev/outbox`.
 */
export default function App({ Component, pageProps }: AppProps<AppPageProps>): ReactNode {
  return (
    <SessionProvider session={pageProps.session}>
      <DevOutboxContext value={pageProps.devOutbox === true}>
        <Layout>{isUnavailable(pageProps) ? <Unavailable /> : <Component {...pageProps} />}</Layout>
      </DevOutboxContext>
    </SessionProvider>
  );
}

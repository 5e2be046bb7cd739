import "../styles/globals.css";
import { type ClientSession, SessionProvider } from "gatehouse-auth/react";
import type { AppProps } from "next/app";
import type { ReactNode } from "react";
import { Layout } from "../components/Layout";
import { Unavailable } from "../components/Unavailable";

type AppPageProps = { session?: ClientSession; unavailable?: true };

/**
 * Pages with `getServerSideProps` pass `session`, so the navigation is right on the first paint. When the
 * store is down, guarded pages pass `unavailable` (status 503) and every page shows the same notice.
 */
export default function App({ Component, pageProps }: AppProps<AppPageProps>): ReactNode {
  return (
    <SessionProvider session={pageProps.session}>
      <Layout>{pageProps.unavailable ? <Unavailable /> : <Component {...pageProps} />}</Layout>
    </SessionProvider>
  );
}

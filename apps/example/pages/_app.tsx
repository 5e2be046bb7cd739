import "../styles/globals.css";
import type { AppProps } from "next/app";
import type { ReactNode } from "react";
import { type ClientSession, SessionProvider } from "gatehouse/react";
import { Layout } from "../components/Layout";

/** Pages with `getServerSideProps` pass `session`, so the navigation is right on the first paint. */
export default function App({ Component, pageProps }: AppProps<{ session?: ClientSession }>): ReactNode {
  return (
    <SessionProvider session={pageProps.session}>
      <Layout>
        <Component {...pageProps} />
      </Layout>
    </SessionProvider>
  );
}

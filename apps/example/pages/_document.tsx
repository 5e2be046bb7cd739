import { Head, Html, Main, NextScript } from "next/document";
import type { ReactNode } from "react";
import { SITE_ICON } from "../lib/siteIcon";

/** Sets the page language, which screen readers need to pick a voice, and the site icon. */
export default function Document(): ReactNode {
  return (
    <Html lang="en">
      <Head>
        <meta name="color-scheme" content="light dark" />
        <link rel="icon" href={SITE_ICON} />
      </Head>
      <body>
        <Main />
        <NextScript />
      </body>
    </Html>
  );
}

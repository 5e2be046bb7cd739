import { Head, Html, Main, NextScript } from "next/document";
import type { ReactNode } from "react";

/** Declares the page language, which screen readers need to pick a voice. */
export default function Document(): ReactNode {
  return (
    <Html lang="en">
      <Head>
        <meta name="color-scheme" content="light dark" />
      </Head>
      <body>
        <Main />
        <NextScript />
      </body>
    </Html>
  );
}

import { Head, Html, Main, NextScript } from "next/document";
import type { ReactNode } from "react";

const FAVICON =
  "data:image/svg+xml," +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#2b48c8"/><path d="M9 27V14l7-6 7 6v13h-5v-7h-4v7z" fill="#fff"/></svg>',
  );

/** Sets the page language, which screen readers need to pick a voice, and the site icon. */
export default function Document(): ReactNode {
  return (
    <Html lang="en">
      <Head>
        <meta name="color-scheme" content="light dark" />
        {/* Inline, so browsers do not request a /favicon.ico that does not exist. */}
        <link rel="icon" href={FAVICON} />
      </Head>
      <body>
        <Main />
        <NextScript />
      </body>
    </Html>
  );
}

"use client";

import Link from "next/link";
import type { ReactNode } from "react";

/** What a page that failed on the server shows (the Pages Router app's 500 page), with status 500. */
export default function ErrorPage(): ReactNode {
  return (
    <>
      {/* An error boundary is a Client Component, which cannot export `metadata`. */}
      <title>Something went wrong · Gatehouse</title>
      <div className="card card--notice">
        <p className="eyebrow">Error 500</p>
        <h1>Something went wrong</h1>
        <p>The service may be temporarily unavailable. Wait a moment, then try again.</p>
        <p>
          <Link href="/">Go to the home page</Link>
        </p>
      </div>
    </>
  );
}

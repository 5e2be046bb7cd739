"use client";

import { ErrorCard, SERVER_ERROR } from "@shared/components/ErrorCard";
import type { ReactNode } from "react";

/** What a page that failed on the server shows (the Pages Router app's 500 page), with status 500. */
export default function ErrorPage(): ReactNode {
  return (
    <>
      {/* An error boundary is a Client Component, which cannot export `metadata`. */}
      <title>{`${SERVER_ERROR.title} · Gatehouse`}</title>
      <ErrorCard notice={SERVER_ERROR} />
    </>
  );
}

import Link from "next/link";
import type { ReactNode } from "react";
import { PageTitle } from "../components/PageTitle";

export default function ServerErrorPage(): ReactNode {
  return (
    <>
      <PageTitle title="Something went wrong" />
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

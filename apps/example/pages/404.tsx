import Link from "next/link";
import type { ReactNode } from "react";
import { PageTitle } from "../components/PageTitle";

export default function NotFoundPage(): ReactNode {
  return (
    <>
      <PageTitle title="Page not found" />
      <div className="card card--notice">
        <p className="eyebrow">Error 404</p>
        <h1>Page not found</h1>
        <p>There is no page at this address. Check the link, or start again from the home page.</p>
        <p>
          <Link href="/">Go to the home page</Link>
        </p>
      </div>
    </>
  );
}

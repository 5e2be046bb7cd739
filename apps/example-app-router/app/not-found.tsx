import Link from "next/link";
import type { ReactNode } from "react";
import { titled } from "@/lib/metadata";

export const metadata = titled("Page not found");

export default function NotFoundPage(): ReactNode {
  return (
    <div className="card card--notice">
      <p className="eyebrow">Error 404</p>
      <h1>Page not found</h1>
      <p>There is no page at this address. Check the link, or start again from the home page.</p>
      <p>
        <Link href="/">Go to the home page</Link>
      </p>
    </div>
  );
}

import Link from "next/link";
import type { ReactNode } from "react";

/** What an error page says; both example apps show the same ones. */
export interface ErrorNotice {
  /** The HTTP status the page is sent with, shown above the title. */
  status: 403 | 404 | 500;
  /** The card's heading, and the document title. */
  title: string;
  /** What happened, and what to do about it. */
  text: string;
  /** The way on from here. */
  back: { href: string; label: string };
}

export const NOT_FOUND: ErrorNotice = {
  status: 404,
  title: "Page not found",
  text: "There is no page at this address. Check the link, or start again from the home page.",
  back: { href: "/", label: "Go to the home page" },
};

export const SERVER_ERROR: ErrorNotice = {
  status: 500,
  title: "Something went wrong",
  text: "The service may be temporarily unavailable. Wait a moment, then try again.",
  back: { href: "/", label: "Go to the home page" },
};

/** A signed-in user without the role a page asks for: only the admin console's pages ask for one, `admin`. */
export const FORBIDDEN: ErrorNotice = {
  status: 403,
  title: "Admins only",
  text: "The admin console is for administrators, and your account is not one.",
  back: { href: "/dashboard", label: "Back to your dashboard" },
};

/** The card of an error page; the document title and the status are each router's business. */
export function ErrorCard({
  notice,
}: {
  /** Which error: `NOT_FOUND`, `SERVER_ERROR` or `FORBIDDEN`. */
  notice: ErrorNotice;
}): ReactNode {
  return (
    <div className="card card--notice">
      {/* One string, not "Error {status}": React would split the text with a comment in the HTML. */}
      <p className="eyebrow">{`Error ${notice.status}`}</p>
      <h1>{notice.title}</h1>
      <p>{notice.text}</p>
      <p>
        <Link href={notice.back.href}>{notice.back.label}</Link>
      </p>
    </div>
  );
}

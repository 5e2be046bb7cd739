"use client";

import { createContext, type ReactNode, useContext } from "react";

/**
 * Whether this request may open `/dev/outbox`, as the page's `getServerSideProps` found it (`devOutbox`
 * prop, provided by `_app`). False on pages that do not ask, and always in production.
 */
export const DevOutboxContext = createContext(false);

/** Under a "check your inbox": in development, where the email really went, with a link to read it. */
export function DevOutboxHint(): ReactNode {
  if (!useContext(DevOutboxContext)) return null;
  return (
    <p className="dev-hint">
      <span className="dev-hint__label">Development</span> No email is sent: read it in the{" "}
      <a href="/dev/outbox">dev outbox</a>.
    </p>
  );
}

"use client";

import { DevOutboxContext } from "@shared/components/DevOutboxHint";
import { type ClientSession, SessionProvider } from "gatehouse-auth/react";
import type { ReactNode } from "react";

/**
 * The client-side context of every page, as the Pages Router's `_app` provides it: the session (read by the
 * root layout, so the first paint is right) and whether "check your inbox" may point at `/dev/outbox`.
 */
export function Providers({
  session,
  devOutbox,
  children,
}: {
  /** `undefined` while the store cannot be reached: the provider then asks the server itself. */
  session: ClientSession | undefined;
  devOutbox: boolean;
  children: ReactNode;
}): ReactNode {
  return (
    <SessionProvider session={session}>
      <DevOutboxContext value={devOutbox}>{children}</DevOutboxContext>
    </SessionProvider>
  );
}

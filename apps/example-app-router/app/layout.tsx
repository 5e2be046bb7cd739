import "@shared/styles/globals.css";
import { PageFrame } from "@shared/components/PageFrame";
import { devOutboxOpenToHeaders } from "@shared/lib/devOutbox";
import { SITE_ICON } from "@shared/lib/siteIcon";
import { isGatehouseError } from "gatehouse-auth";
import { type ClientSession, toClientSession } from "gatehouse-auth/next";
import type { Viewport } from "next";
import { headers } from "next/headers";
import type { ReactNode } from "react";
import { Providers } from "@/components/Providers";
import { SiteHeader } from "@/components/SiteHeader";
import { getSession } from "@/lib/auth";

// No title here: each page names itself (see lib/metadata.ts).
export const viewport: Viewport = { colorScheme: "light dark" };

/**
 * The header's session. While the store is down, the header asks again from the browser rather than take
 * every page down with it; a page's own check (`requireUser`) still fails, and its error page says so.
 */
async function headerSession(): Promise<ClientSession | undefined> {
  try {
    return toClientSession(await getSession());
  } catch (error) {
    if (isGatehouseError(error) && error.code === "unavailable") return undefined;
    throw error;
  }
}

/**
 * The frame of every page, as the Pages Router app's `_document` and `_app`: the language (screen readers
 * pick a voice by it), the session, and whether "check your inbox" may point at the dev outbox.
 */
export default async function RootLayout({ children }: { children: ReactNode }): Promise<ReactNode> {
  const [session, requestHeaders] = await Promise.all([headerSession(), headers()]);
  return (
    <html lang="en">
      <head>
        {/* In the head itself, not in `metadata`, which Next may stream after the browser has gone looking for
            a /favicon.ico. */}
        <link rel="icon" href={SITE_ICON} />
      </head>
      <body>
        <Providers session={session} devOutbox={devOutboxOpenToHeaders(requestHeaders)}>
          <PageFrame header={<SiteHeader />}>{children}</PageFrame>
        </Providers>
      </body>
    </html>
  );
}

import { SIGNED_OUT_PATH } from "@shared/lib/authPaths";
import { getGatehouse } from "@shared/lib/gatehouse";
import { createAppAuth } from "gatehouse-auth/next/app";

/**
 * The App Router's checks over the same instance (and so the same environment variables) as the Pages Router
 * example. Server-only: `gatehouse-auth/next/app` refuses to be bundled for the browser.
 */
export const { getSession, requireUser, requireRole, withRouteAuth, handlers, adminHandlers, actions, guardAction } =
  createAppAuth(getGatehouse, {
    // A user without the role gets app/forbidden.tsx with status 403 where they asked, as /admin answers in
    // the Pages Router app (Next's `forbidden()`, see `authInterrupts` in next.config.ts).
    forbiddenPath: null,
    // Log-out lands where the Pages Router app's does: the log-in page, saying so.
    pages: { afterLogout: SIGNED_OUT_PATH },
  });

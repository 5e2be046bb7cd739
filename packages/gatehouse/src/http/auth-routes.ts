import type { Gatehouse } from "../core/gatehouse.js";
import type { HttpResponse } from "./response.js";
import { type AuthPages, type AuthRequest, createRouter } from "./router.js";
import { accountRoutes } from "./routes/account.js";
import { adminRoutes, impersonationRoutes } from "./routes/admin.js";
import { credentialRoutes } from "./routes/credentials.js";
import { emailRoutes } from "./routes/email.js";
import { eventRoutes } from "./routes/events.js";
import { mfaRoutes } from "./routes/mfa.js";
import { oauthRoutes } from "./routes/oauth.js";
import { passkeyRoutes } from "./routes/passkeys.js";
import { sessionRoutes } from "./routes/sessions.js";

/** Options of {@link createAuthRoutes}. */
export interface AuthRoutesOptions {
  /** The app's public origins. State-changing requests from elsewhere get 403 `csrf`. */
  origins: ReadonlySet<string>;
  pages: AuthPages;
}

/**
 * The auth API as a function from request to response, independent of any framework: each concern's routes
 * file, registered here in one line. `gatehouse-auth/next` adapts it to a Pages Router API route.
 */
export function createAuthRoutes(
  gatehouse: Gatehouse,
  options: AuthRoutesOptions,
): (request: AuthRequest) => Promise<HttpResponse> {
  return createRouter(gatehouse, options, [
    ...credentialRoutes,
    ...sessionRoutes,
    ...accountRoutes,
    ...emailRoutes,
    ...mfaRoutes,
    ...passkeyRoutes,
    ...oauthRoutes,
    ...eventRoutes,
    ...impersonationRoutes,
  ]);
}

/**
 * The admin console's API as a function from request to response, for its own mount point (`/api/admin`):
 * `gatehouse-auth/next` adapts it to a Pages Router API route and to App Router Route Handlers.
 */
export function createAdminRoutes(
  gatehouse: Gatehouse,
  options: AuthRoutesOptions,
): (request: AuthRequest) => Promise<HttpResponse> {
  return createRouter(gatehouse, options, adminRoutes);
}

/**
 * Next.js (Pages Router) integration: one named function per context.
 *
 * - {@link gatehouseApiHandler}: the catch-all `pages/api/auth/[...gatehouse].ts` route.
 * - {@link gatehouseAdminHandler}: the admin console's catch-all `pages/api/admin/[...gatehouse].ts` route.
 * - {@link withApiAuth}: guard for API routes (401 / 403 / 503).
 * - {@link withPageAuth}: guard for `getServerSideProps`.
 * - {@link verifySession}: the memoized secure check, for a data access layer.
 * - {@link gatehouseProxy}: the optimistic, database-free check for `proxy.ts` / `middleware.ts`.
 *
 * @packageDocumentation
 */
export {
  type AdminHandlerOptions,
  type ApiHandlerOptions,
  type AuthedApiHandler,
  assertAllowed,
  type GuardOptions,
  gatehouseAdminHandler,
  gatehouseApiHandler,
  readJsonBody,
  withApiAuth,
} from "./api.js";
export {
  type PageAuthProps,
  type PageGetProps,
  type PageGuardOptions,
  type UnavailableProps,
  withPageAuth,
} from "./pages.js";
export { gatehouseProxy, type ProxyOptions } from "./proxy.js";
export { type Auth, type ClientSession, type SignedInSession, toClientSession, verifySession } from "./session.js";
export type { GatehouseSource } from "./source.js";

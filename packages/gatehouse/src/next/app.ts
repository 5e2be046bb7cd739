/**
 * Next.js App Router integration: the secure check and the guards for Server Components, Route Handlers
 * and the auth API's catch-all Route Handler, built once per app by {@link createAppAuth}.
 *
 * Server-only: importing it from a Client Component fails the build. `proxy.ts` keeps using
 * `gatehouse-auth/next/proxy`, the optimistic check, which needs no store.
 *
 * @packageDocumentation
 */
import "server-only";
import type { AuthPages } from "../http/router.js";
import { DEFAULT_PAGES, type GuardOptions } from "./api.js";
import {
  type AuthedRouteHandler,
  type AuthRouteHandlers,
  createRouteHelpers,
  type RouteHandlerContext,
} from "./app-routes.js";
import { createSessionHelpers } from "./app-session.js";
import type { Auth } from "./session.js";
import type { GatehouseSource } from "./source.js";

export type { AuthPages } from "../http/router.js";
export type { GuardOptions } from "./api.js";
export type { AuthedRouteHandler, AuthRouteHandlers, RouteHandlerContext } from "./app-routes.js";
export type { Auth } from "./session.js";
export type { GatehouseSource } from "./source.js";

/** Options of {@link createAppAuth}. */
export interface AppAuthOptions {
  /** Where signed-out visitors are sent; `?next=<path>` is added when the guard is given the path. Default `/login`. */
  loginPath?: string;
  /**
   * Where a signed-in user who lacks the role or permission is sent. Default `/403`. `null` calls Next's
   * `forbidden()` instead, which renders `app/forbidden.tsx` with status 403 and needs
   * `experimental: { authInterrupts: true }` in `next.config`.
   */
  forbiddenPath?: string | null;
  /** Where the auth API's catch-all Route Handler is mounted. Default `/api/auth`. */
  basePath?: string;
  /** Pages that HTML form posts to the auth API are redirected to (as for `gatehouseApiHandler`). */
  pages?: Partial<AuthPages>;
}

/** What {@link createAppAuth} returns: export these from one module of the app, e.g. `lib/auth.ts`. */
export interface AppAuth {
  /**
   * The secure check of the data access layer: who is signed in, or `null`. Asks the store at most once per
   * request (React `cache`) and reads the `Cookie` header through `cookies()`. It never sets a cookie, since
   * Server Components cannot: a session due to slide forward is renewed by the next request through a
   * {@link AppAuth.withRouteAuth} route or the auth API (`GET /api/auth/session`), which authenticate with
   * `canSetCookie: true`. Rejects with `StoreUnavailableError` when the store is down; it never resolves to
   * a user then.
   *
   * @example
   * ```tsx
   * const auth = await getSession();
   * return auth ? <p>Signed in as {auth.user.email}</p> : <a href="/login">Log in</a>;
   * ```
   */
  getSession(): Promise<Auth | null>;
  /**
   * The {@link Auth} of the signed-in user, else a redirect to the log-in page with `?next=<next>` (a path on
   * this site; anything else becomes `/`). A Server Component does not know its own path: pass it.
   *
   * @example
   * ```tsx
   * // app/dashboard/page.tsx
   * export default async function Dashboard() {
   *   const { user } = await requireUser("/dashboard");
   *   return <p>{user.email}</p>;
   * }
   * ```
   */
  requireUser(next?: string): Promise<Auth>;
  /**
   * {@link AppAuth.requireUser}, and the user must have `role`, else `forbiddenPath` (or `forbidden()`).
   * Prefer {@link AppAuth.requirePermission}.
   *
   * @example
   * ```ts
   * await requireRole("admin", "/admin");
   * ```
   */
  requireRole(role: string, next?: string): Promise<Auth>;
  /**
   * {@link AppAuth.requireUser}, and the user's role must grant `permission` (see `roles`), else
   * `forbiddenPath` (or `forbidden()`).
   *
   * @example
   * ```tsx
   * // app/admin/page.tsx
   * export default async function Admin() {
   *   await requirePermission("users:read", "/admin");
   *   return <UserList users={await getGatehouse().users.list()} />;
   * }
   * ```
   */
  requirePermission(permission: string, next?: string): Promise<Auth>;
  /**
   * Guards a Route Handler as `withApiAuth` guards an API route: 401 `unauthenticated` without a valid
   * session, 403 `forbidden` when the role lacks the permission, 403 `csrf` for a write from another origin,
   * 503 `unavailable` when the store is down, all as `{ error: { code, message } }`. The answer gets
   * `Cache-Control: private, no-store`, and a renewed session cookie is appended to it.
   *
   * @example
   * ```ts
   * // app/api/admin/users/route.ts
   * export const GET = withRouteAuth(async () => Response.json({ users: await getGatehouse().users.list() }), {
   *   permission: "users:read",
   * });
   * ```
   */
  withRouteAuth<C = RouteHandlerContext>(
    handler: AuthedRouteHandler<C>,
    options?: GuardOptions,
  ): (request: Request, context: C) => Promise<Response>;
  /**
   * The auth API (sign-up, log-in, log-out, session and the rest) with the same HTTP contract as
   * `gatehouseApiHandler`, for the catch-all Route Handler below `basePath`.
   *
   * @example
   * ```ts
   * // app/api/auth/[...gatehouse]/route.ts
   * import { handlers } from "@/lib/auth";
   * export const { GET, POST, PATCH, DELETE } = handlers;
   * ```
   */
  handlers: AuthRouteHandlers;
}

/**
 * The App Router helpers over one Gatehouse instance (or a function returning it, created on first use so
 * that `next build` needs no secret or database).
 *
 * @example
 * ```ts
 * // lib/auth.ts
 * import { createAppAuth } from "gatehouse-auth/next/app";
 * import { getGatehouse } from "./gatehouse";
 *
 * export const { getSession, requireUser, requirePermission, withRouteAuth, handlers } = createAppAuth(getGatehouse);
 * ```
 */
export function createAppAuth(gatehouse: GatehouseSource, options: AppAuthOptions = {}): AppAuth {
  const pages: AuthPages = { ...DEFAULT_PAGES, ...options.pages };
  const session = createSessionHelpers(gatehouse, {
    loginPath: options.loginPath ?? "/login",
    forbiddenPath: options.forbiddenPath === undefined ? "/403" : options.forbiddenPath,
  });
  const routes = createRouteHelpers(gatehouse, { basePath: options.basePath ?? "/api/auth", pages });
  return { ...session, ...routes };
}

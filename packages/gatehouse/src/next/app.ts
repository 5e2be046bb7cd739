/**
 * Next.js App Router integration: the secure check and the guards for Server Components, Route Handlers
 * and Server Actions, the auth API's catch-all Route Handler and its form actions, built once per app by
 * {@link createAppAuth}.
 *
 * Needs Next.js 15.1 or newer (`forbidden()`, `unauthorized()`, `unstable_rethrow`); the rest of the package
 * works from Next 14. Server-only: importing it from a Client Component fails the build. `proxy.ts` keeps using
 * `gatehouse-auth/next/proxy`, the optimistic check, which needs no store.
 *
 * @packageDocumentation
 */
import "server-only";
import type { Gatehouse } from "../core/gatehouse.js";
import { createAdminRoutes, createAuthRoutes } from "../http/auth-routes.js";
import type { HttpResponse } from "../http/response.js";
import type { AuthPages, AuthRequest } from "../http/router.js";
import { allowedOrigins, DEFAULT_PAGES, type GuardOptions } from "./api.js";
import { type ActionFailure, type AuthActions, createActionHelpers } from "./app-actions.js";
import {
  type AuthedRouteHandler,
  type AuthRouteHandlers,
  createRouteHandlers,
  createRouteHelpers,
  type RouteHandlerContext,
} from "./app-routes.js";
import { createSessionHelpers } from "./app-session.js";
import type { Auth } from "./session.js";
import type { GatehouseSource } from "./source.js";

export type { AuthPages } from "../http/router.js";
export type { GuardOptions } from "./api.js";
export type { ActionError, ActionFailure, ActionState, AuthActions, FormAction } from "./app-actions.js";
export type { AuthedRouteHandler, AuthRouteHandlers, RouteHandlerContext } from "./app-routes.js";
export { readJsonBody } from "./app-routes.js";
export type { Auth } from "./session.js";
export type { GatehouseSource } from "./source.js";

/** Options of {@link createAppAuth}. */
export interface AppAuthOptions {
  /**
   * Where signed-out visitors are sent; `?next=<path>` is added when the guard is given the path. Default
   * `/login`. `null` calls Next's `unauthorized()` instead, which renders `app/unauthorized.tsx` with status
   * 401 and needs `experimental: { authInterrupts: true }` in `next.config`.
   */
  loginPath?: string | null;
  /**
   * Where a signed-in user who lacks the role or permission is sent. Default `/403`. `null` calls Next's
   * `forbidden()` instead, which renders `app/forbidden.tsx` with status 403 and needs
   * `experimental: { authInterrupts: true }` in `next.config`.
   */
  forbiddenPath?: string | null;
  /** Where the auth API's catch-all Route Handler is mounted. Default `/api/auth`. */
  basePath?: string;
  /** Where the admin API's catch-all Route Handler ({@link AppAuth.adminHandlers}) is mounted. Default `/api/admin`. */
  adminBasePath?: string;
  /**
   * Pages that HTML form posts to the auth API and the form {@link AppAuth.actions} redirect to (as for
   * `gatehouseApiHandler`).
   */
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
  /**
   * The admin console's API (users, bans, roles, impersonation, the audit log, the outbox) with the same HTTP
   * contract as `gatehouseAdminHandler`, for the catch-all Route Handler below `adminBasePath`. Every route
   * answers 401 to a visitor, 403 `forbidden` to a user whose role is not `admin`, 403
   * `impersonation_forbidden` to an impersonated session; every write needs the administrator's password.
   *
   * @example
   * ```ts
   * // app/api/admin/[...gatehouse]/route.ts
   * import { adminHandlers } from "@/lib/auth";
   * export const { GET, POST, PATCH, DELETE } = adminHandlers;
   * ```
   */
  adminHandlers: AuthRouteHandlers;
  /**
   * Sign-up, log-in, log-out, password reset and email verification as Server Actions for forms, with
   * `useActionState`, that work without JavaScript too. Each runs the auth API's route, with the same checks,
   * limits and error codes, and sets its cookies through `cookies()`. Each refuses a call whose `Origin` is
   * missing, `null` or not the app's (`csrf`), whatever `serverActions.allowedOrigins` says, and changes
   * nothing then. Call them from the app's own `"use server"` module.
   *
   * @example
   * ```ts
   * // app/actions.ts
   * "use server";
   * import type { ActionState } from "gatehouse-auth/next/app";
   * import { actions } from "@/lib/auth";
   *
   * export async function logIn(state: ActionState, form: FormData) {
   *   return actions.logIn(state, form);
   * }
   * ```
   */
  actions: AuthActions;
  /**
   * Guards any Server Action: the same strict `Origin` check as {@link AppAuth.actions}, then a signed-in
   * user (and the permission or role), else the action does not run and the call returns a failed
   * `ActionState` (`csrf`, `unauthenticated`, `forbidden`, `unavailable`). The action gets the
   * {@link Auth} first, then the call's own arguments.
   *
   * @example
   * ```ts
   * // app/profile/actions.ts
   * "use server";
   * export const rename = guardAction(async ({ user }, _state: ActionState, form: FormData) => {
   *   await getGatehouse().updateProfile(user.id, profileInput({ name: form.get("name") }));
   *   return { ok: true } as const;
   * });
   * ```
   */
  guardAction<Args extends unknown[], R>(
    action: (auth: Auth, ...args: Args) => Promise<R>,
    options?: GuardOptions,
  ): (...args: Args) => Promise<R | ActionFailure>;
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
    loginPath: options.loginPath === undefined ? "/login" : options.loginPath,
    forbiddenPath: options.forbiddenPath === undefined ? "/403" : options.forbiddenPath,
    basePath: options.basePath ?? "/api/auth",
  });
  // One router for the catch-all Route Handler and the form actions, made on first use.
  let router: ((request: AuthRequest) => Promise<HttpResponse>) | undefined;
  const routes = (instance: Gatehouse) =>
    (router ??= createAuthRoutes(instance, { origins: allowedOrigins(instance), pages }));
  const handlers = createRouteHelpers(gatehouse, { basePath: options.basePath ?? "/api/auth", routes });
  let adminRouter: ((request: AuthRequest) => Promise<HttpResponse>) | undefined;
  const adminHandlers = createRouteHandlers(gatehouse, {
    basePath: options.adminBasePath ?? "/api/admin",
    routes: (instance) => (adminRouter ??= createAdminRoutes(instance, { origins: allowedOrigins(instance), pages })),
  });
  return { ...session, ...handlers, adminHandlers, ...createActionHelpers(gatehouse, { pages, routes }) };
}

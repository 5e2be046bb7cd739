import { cookies } from "next/headers";
import { forbidden, redirect, unauthorized } from "next/navigation";
import { cache } from "react";
import type { Auth } from "../core/dto.js";
import { safeRedirectPath, withQuery } from "../http/redirect.js";
import { checkCookie } from "./session.js";
import { type GatehouseSource, resolveGatehouse } from "./source.js";

/** Where the session helpers send visitors they turn away. */
export interface SessionHelperOptions {
  /** The log-in page; `?next=<path>` is added when a path is given. `null` calls Next's `unauthorized()` instead. */
  loginPath: string | null;
  /** The page for a signed-in user who is not allowed; `null` calls Next's `forbidden()` instead. */
  forbiddenPath: string | null;
}

/** The secure check and the guards of Server Components, Server Actions and Route Handlers. */
export interface SessionHelpers {
  getSession(): Promise<Auth | null>;
  requireUser(next?: string): Promise<Auth>;
  requireRole(role: string, next?: string): Promise<Auth>;
  requirePermission(permission: string, next?: string): Promise<Auth>;
}

/**
 * The App Router's session helpers over one instance. `getSession` asks the store once per request (React
 * `cache`) and never sets a cookie: a Server Component cannot, so a session that is due to slide forward is
 * renewed by the next Route Handler that authenticates with `canSetCookie: true` (`withRouteAuth`, the auth
 * API's `GET session`) — never silently lost, since an unrenewed session is still valid until it expires.
 */
export function createSessionHelpers(gatehouse: GatehouseSource, options: SessionHelperOptions): SessionHelpers {
  const getSession = cache(async (): Promise<Auth | null> => {
    // `cookies()` first: during `next build` it makes the page dynamic before any instance is made.
    const cookieHeader = (await cookies()).toString();
    return (await checkCookie(resolveGatehouse(gatehouse), cookieHeader, false)).auth;
  });

  function toLogin(next: string | undefined): never {
    if (options.loginPath === null) unauthorized();
    if (next === undefined) redirect(options.loginPath);
    redirect(withQuery(options.loginPath, new URLSearchParams({ next: safeRedirectPath(next, "/") })));
  }

  function refuse(): never {
    if (options.forbiddenPath === null) forbidden();
    redirect(options.forbiddenPath);
  }

  async function requireUser(next?: string): Promise<Auth> {
    const auth = await getSession();
    if (!auth) toLogin(next);
    return auth;
  }

  return {
    getSession,
    requireUser,
    async requireRole(role, next) {
      const auth = await requireUser(next);
      if (auth.user.role !== role) refuse();
      return auth;
    },
    async requirePermission(permission, next) {
      const auth = await requireUser(next);
      if (!resolveGatehouse(gatehouse).can(auth.user, permission)) refuse();
      return auth;
    },
  };
}

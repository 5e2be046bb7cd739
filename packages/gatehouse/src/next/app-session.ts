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
  /** Where the auth API is mounted: a visitor with a dead session cookie goes to the log-in page through it. */
  basePath: string;
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

  async function toLogin(next: string | undefined): Promise<never> {
    if (options.loginPath === null) unauthorized();
    const login =
      next === undefined
        ? options.loginPath
        : withQuery(options.loginPath, new URLSearchParams({ next: safeRedirectPath(next, "/") }));
    // A cookie whose session ended on the server (revoked, banned, idle) still looks signed in to the proxy,
    // which would send the visitor straight back from the log-in page. A Server Component cannot clear it, so
    // the auth API's `session/clear` does on the way (the check below costs a lookup only for such a cookie).
    const cookieHeader = (await cookies()).toString();
    const { setCookie } = await checkCookie(resolveGatehouse(gatehouse), cookieHeader, true);
    if (setCookie) redirect(withQuery(`${options.basePath}/session/clear`, new URLSearchParams({ next: login })));
    redirect(login);
  }

  function refuse(): never {
    if (options.forbiddenPath === null) forbidden();
    redirect(options.forbiddenPath);
  }

  async function requireUser(next?: string): Promise<Auth> {
    const auth = await getSession();
    if (!auth) return toLogin(next);
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

import { safeRedirectPath } from "../http/redirect.js";
import { resolveSessionConfig, type SessionCookieOptions } from "../session/config.js";
import { createSessionCookie } from "../session/cookie.js";
import { createOptimisticCheck } from "../session/optimistic.js";

/** Options for {@link gatehouseProxy}: the session options of `createGatehouse` plus route lists. */
export interface ProxyOptions extends SessionCookieOptions {
  /** Path prefixes that need a session, e.g. `["/dashboard", "/admin"]`. */
  protectedRoutes: readonly string[];
  /** Pages only for signed-out visitors; signed-in ones are sent to `afterLoginPath`. Default `["/login", "/signup"]`. */
  signedOutRoutes?: readonly string[];
  /** Default `/login`. */
  loginPath?: string;
  /** Default `/dashboard`. */
  afterLoginPath?: string;
  /** The app's public origin (`GATEHOUSE_URL`); redirects are built on it rather than on the request's `Host`. */
  url?: string;
}

type ProxyRequest = Request & { nextUrl?: URL };

/** Whether `path` is `prefix` or below it (`/admin` covers `/admin/x` and `/admin.rsc`, not `/administrator`). */
function underPrefix(path: string, prefix: string): boolean {
  return (
    path === prefix || path.startsWith(prefix.endsWith("/") ? prefix : `${prefix}/`) || path.startsWith(`${prefix}.`)
  );
}

/**
 * The optimistic check for Next.js `proxy.ts` (or `middleware.ts`). It reads the cookie only and never
 * touches the database: a stateless cookie is opened and its expiry checked; a database token's shape is
 * checked. It redirects signed-out visitors away from protected routes to `/login?next=<path>` and
 * signed-in ones away from `/login` and `/signup`. It is a fast first filter, not the security boundary:
 * pages and API routes still run the secure check ({@link verifySession}, {@link withPageAuth}, {@link withApiAuth}).
 *
 * @example
 * ```ts
 * // proxy.ts
 * import { gatehouseProxy } from "gatehouse-auth/next";
 * export const proxy = gatehouseProxy({
 *   secret: process.env.GATEHOUSE_SECRET!,
 *   protectedRoutes: ["/dashboard", "/profile", "/admin"],
 * });
 * export const config = { matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"] };
 * ```
 */
export function gatehouseProxy(options: ProxyOptions): (request: Request) => Promise<Response | undefined> {
  const config = resolveSessionConfig(options);
  const cookie = createSessionCookie(config);
  const check = createOptimisticCheck(options);
  const signedOutRoutes = options.signedOutRoutes ?? ["/login", "/signup"];
  const loginPath = options.loginPath ?? "/login";
  const afterLoginPath = options.afterLoginPath ?? "/dashboard";

  function redirect(request: ProxyRequest, location: string, setCookie?: string): Response {
    const base = options.url ?? request.nextUrl?.href ?? request.url;
    const headers = new Headers({ Location: new URL(location, base).href, "Cache-Control": "no-store" });
    if (setCookie) headers.append("Set-Cookie", setCookie);
    return new Response(null, { status: 307, headers });
  }

  return async (request: ProxyRequest) => {
    const url = request.nextUrl ?? new URL(request.url);
    const path = url.pathname;
    const value = cookie.read(request.headers.get("cookie"));
    const signedIn = (await check(value)) !== null;
    if (!signedIn && options.protectedRoutes.some((prefix) => underPrefix(path, prefix))) {
      const next = safeRedirectPath(path + url.search, "/");
      return redirect(request, `${loginPath}?${new URLSearchParams({ next })}`, value ? cookie.clear() : undefined);
    }
    if (signedIn && signedOutRoutes.some((prefix) => underPrefix(path, prefix))) {
      return redirect(request, safeRedirectPath(url.searchParams.get("next"), afterLoginPath));
    }
    return undefined;
  };
}

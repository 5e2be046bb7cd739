import { unstable_rethrow } from "next/navigation";
import type { Auth } from "../core/dto.js";
import type { Gatehouse } from "../core/gatehouse.js";
import { UnauthenticatedError } from "../errors.js";
import { assertSameOrigin, MAX_BODY_BYTES, readRequestBody } from "../http/guards.js";
import { errorResponse, type HttpResponse } from "../http/response.js";
import type { AuthRequest } from "../http/router.js";
import { allowedOrigins, assertAllowed, checkGuardOptions, GUARD_OPTIONS, type GuardOptions } from "./api.js";
import { checkCookie } from "./session.js";
import { type GatehouseSource, resolveGatehouse } from "./source.js";
import { headerReader, readWebBody, toWebResponse, webClientIp } from "./web-http.js";

/** The second argument Next.js passes a Route Handler: the dynamic segments, as a promise. */
export type RouteHandlerContext = { params: Promise<Record<string, string | string[] | undefined>> };

/** A Route Handler's code once the request is signed in and allowed: the request, the {@link Auth}, Next's context. */
export type AuthedRouteHandler<C> = (request: Request, auth: Auth, context: C) => Response | Promise<Response>;

/** The catch-all auth API for `app/api/auth/[...gatehouse]/route.ts`: one function per method. */
export interface AuthRouteHandlers {
  GET(request: Request): Promise<Response>;
  POST(request: Request): Promise<Response>;
  PATCH(request: Request): Promise<Response>;
  DELETE(request: Request): Promise<Response>;
}

/** The Route Handler helpers of one instance. */
export interface RouteHelpers {
  withRouteAuth<C = RouteHandlerContext>(
    handler: AuthedRouteHandler<C>,
    options?: GuardOptions,
  ): (request: Request, context: C) => Promise<Response>;
  handlers: AuthRouteHandlers;
}

/** Where a router of the core's HTTP API is mounted, and the router (made on first use). */
interface MountedRoutes {
  basePath: string;
  routes: (gatehouse: Gatehouse) => (request: AuthRequest) => Promise<HttpResponse>;
}

/** A router of the core's HTTP API (the auth API, the admin API) as the methods of a catch-all Route Handler. */
export function createRouteHandlers(gatehouse: GatehouseSource, options: MountedRoutes): AuthRouteHandlers {
  const basePath = options.basePath.replace(/\/+$/, "");

  async function handle(request: Request): Promise<Response> {
    try {
      const instance = resolveGatehouse(gatehouse);
      const { pathname: path, searchParams: query } = new URL(request.url);
      const route = path.startsWith(`${basePath}/`) ? path.slice(basePath.length + 1).split("/") : [];
      return toWebResponse(
        await options.routes(instance)({
          method: request.method,
          route,
          query,
          header: headerReader(request.headers),
          readBody: (limit) => readWebBody(request, limit),
          ip: webClientIp(request.headers, instance.trustedProxies),
        }),
      );
    } catch (error) {
      return toWebResponse(errorResponse(error));
    }
  }

  return { GET: handle, POST: handle, PATCH: handle, DELETE: handle };
}

/** `withRouteAuth` and the auth API's handlers, for `basePath` and `pages`. */
export function createRouteHelpers(gatehouse: GatehouseSource, options: MountedRoutes): RouteHelpers {
  function withRouteAuth<C = RouteHandlerContext>(
    handler: AuthedRouteHandler<C>,
    given?: GuardOptions,
  ): (request: Request, context: C) => Promise<Response> {
    if (typeof handler !== "function") {
      throw new TypeError("withRouteAuth(handler, options): the handler must be a function.");
    }
    const guard = checkGuardOptions<GuardOptions>("withRouteAuth", given, GUARD_OPTIONS);
    return async (request, context) => {
      let setCookie: string | undefined;
      let response: Response;
      try {
        const instance = resolveGatehouse(gatehouse);
        // Cookie-authenticated writes get the same CSRF check as the auth routes.
        assertSameOrigin({ method: request.method, header: headerReader(request.headers) }, allowedOrigins(instance));
        const checked = await checkCookie(instance, request.headers.get("cookie"), true);
        setCookie = checked.setCookie ?? undefined;
        const { auth } = checked;
        if (!auth) throw new UnauthenticatedError();
        assertAllowed(instance, auth, guard);
        response = privateAnswer(await handler(request, auth, context));
      } catch (error) {
        // Next's own control flow (`redirect()`, `notFound()`) thrown by the handler goes on to Next.
        unstable_rethrow(error);
        response = toWebResponse(errorResponse(error));
      }
      // A renewed session (or the clearing of a dead one) goes with whatever the answer is.
      if (setCookie) response.headers.append("Set-Cookie", setCookie);
      return response;
    };
  }

  return { withRouteAuth, handlers: createRouteHandlers(gatehouse, options) };
}

/**
 * The handler's answer with `Cache-Control: private, no-store`: a signed-in user's data must not be cached by
 * a shared cache. `Response.redirect()` and fetched responses have immutable headers; those are copied.
 */
function privateAnswer(response: Response): Response {
  const answer = isMutable(response) ? response : new Response(response.body, response);
  answer.headers.set("Cache-Control", "private, no-store");
  return answer;
}

function isMutable(response: Response): boolean {
  try {
    response.headers.set("Cache-Control", "private, no-store");
    return true;
  } catch {
    // TypeError: immutable headers.
    return false;
  }
}

/**
 * A Route Handler's JSON body, read and refused as the auth API reads its own: 415 `unsupported_media_type`
 * unless it is `application/json`, 413 `payload_too_large` past `limit` bytes (default 16 KiB, the stream
 * cut off there), 400 `invalid_json` when it does not parse; `undefined` for an empty body. Inside
 * `withRouteAuth` each refusal becomes its JSON error, never a 500 (as `request.json()` would give).
 *
 * @example
 * ```ts
 * export const PATCH = withRouteAuth(async (request, { user }) =>
 *   Response.json({ user: await getGatehouse().updateProfile(user.id, profileInput(await readJsonBody(request))) }),
 * );
 * ```
 */
export async function readJsonBody(request: Request, limit = MAX_BODY_BYTES): Promise<unknown> {
  const body = await readRequestBody(
    { method: request.method, header: headerReader(request.headers), readBody: (max) => readWebBody(request, max) },
    { limit },
  );
  return body.kind === "json" ? body.data : undefined;
}

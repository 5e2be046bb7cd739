import type { Auth } from "../core/dto.js";
import type { Gatehouse } from "../core/gatehouse.js";
import { UnauthenticatedError } from "../errors.js";
import type { RequestMeta } from "../session/types.js";
import type { ParsedBody } from "./body.js";
import { assertSameOrigin, type GuardedRequest, readRequestBody } from "./guards.js";
import { isStateChanging } from "./origin.js";
import { errorResponse, type HttpResponse, jsonResponse } from "./response.js";

/** A framework-neutral view of an incoming request to the auth routes. */
export interface AuthRequest extends GuardedRequest {
  /** Path segments below the mount point, e.g. `["login"]` for `/api/auth/login`. */
  route: readonly string[];
  /** The request URL's query. */
  query: URLSearchParams;
  ip: string | null;
}

/** Where HTML form posts are sent after they succeed or fail. */
export interface AuthPages {
  login: string;
  signup: string;
  afterLogin: string;
  afterLogout: string;
  /** The second step of a log-in (a code, a recovery code or a passkey). Default `/login/verify`. */
  verifyLogin: string;
  /** Where linking a provider from settings comes back to, with `?linked=<id>` or `?error=<code>`. Default `/settings`. */
  settings: string;
}

/** What a route's handler is given, once the guards it asked for have passed. */
export interface RouteContext {
  gatehouse: Gatehouse;
  pages: AuthPages;
  request: AuthRequest;
  /** The `:param` of the route's path, if it has one. */
  param: string;
  /** The parsed body of a state-changing request (`empty` for a safe one). */
  body: ParsedBody;
  /** The request's `Cookie` header. */
  cookieHeader: string | null;
  /** The client's address, user agent and cookies, for the core's calls. */
  meta: RequestMeta;
  /** Who is signed in, on a route that requires it. */
  auth: Auth;
  /** The `Set-Cookie` of a session the check renewed or rotated: send it with the answer. */
  renewed: string[];
}

/** One route: a path below the mount point (a segment `:id` matches an id), a method, guards, a handler. */
export interface Route {
  path: string;
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** Accept an HTML form post besides JSON. Default `false`. */
  acceptForm?: boolean;
  /** Needs a signed-in user: 401 `unauthenticated` without one. Default `false`. */
  signedIn?: boolean;
  handle(context: RouteContext): Promise<HttpResponse>;
  /** Turns a failure into the answer, instead of the JSON error (a form post redirects back to its page). */
  onError?(error: unknown, context: Partial<RouteContext> & { request: AuthRequest; pages: AuthPages }): HttpResponse;
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Routes requests to `routes`: 404 for an unknown path, 405 with `Allow` for a known path and another method.
 * A state-changing request passes the same-origin check and has its body read and limited before anything
 * else — a request refused for its origin or body never touches the session —, then a route that needs a
 * session checks it (rotating and renewing it); a renewed cookie is sent even when the handler then fails.
 */
export function createRouter(
  gatehouse: Gatehouse,
  options: { origins: ReadonlySet<string>; pages: AuthPages },
  routes: readonly Route[],
): (request: AuthRequest) => Promise<HttpResponse> {
  const { origins, pages } = options;
  // Plain paths and `:id` templates apart: a request for the template's own text (`sessions/:id`) is no route.
  const plain = new Map<string, Route[]>();
  const templated = new Map<string, Route[]>();
  for (const route of routes) {
    const table = route.path.split("/").includes(":id") ? templated : plain;
    table.set(route.path, [...(table.get(route.path) ?? []), route]);
  }

  function match(segments: readonly string[]): { routes: Route[]; param: string } | null {
    const exact = plain.get(segments.join("/"));
    if (exact) return { routes: exact, param: "" };
    // One segment of a template is an id: `passkeys/:id`, `oauth/:id/callback`.
    for (const [index, segment] of segments.entries()) {
      if (!ID.test(segment)) continue;
      const withParam = templated.get(segments.map((part, i) => (i === index ? ":id" : part)).join("/"));
      if (withParam) return { routes: withParam, param: segment };
    }
    return null;
  }

  async function run(route: Route, request: AuthRequest, param: string): Promise<HttpResponse> {
    const cookieHeader = request.header("cookie") ?? null;
    const meta: RequestMeta = { userAgent: request.header("user-agent") ?? null, ip: request.ip, cookieHeader };
    const context: Partial<RouteContext> & { request: AuthRequest; pages: AuthPages } = { request, pages };
    let renewed: string[] = [];
    try {
      let body: ParsedBody = { kind: "empty" };
      if (isStateChanging(request.method)) {
        assertSameOrigin(request, origins);
        body = await readRequestBody(request, { acceptForm: route.acceptForm ?? false });
      }
      Object.assign(context, { gatehouse, param, body, cookieHeader, meta, renewed });
      if (route.signedIn) {
        const found = await gatehouse.authenticate(cookieHeader, { canSetCookie: true });
        if (!found.user) throw new UnauthenticatedError();
        renewed = found.setCookie ? [found.setCookie] : [];
        Object.assign(context, { auth: { user: found.user, session: found.session }, renewed });
      }
      return await route.handle(context as RouteContext);
    } catch (error) {
      const response = route.onError ? route.onError(error, context) : errorResponse(error);
      for (const setCookie of renewed) response.headers.push(["Set-Cookie", setCookie]);
      return response;
    }
  }

  return async (request) => {
    const target = match(request.route);
    if (!target) return jsonResponse(404, { error: { code: "not_found", message: "There is no such auth route." } });
    const method = request.method.toUpperCase();
    const route = target.routes.find((candidate) => candidate.method === method);
    if (!route) {
      const response = jsonResponse(405, { error: { code: "method_not_allowed", message: "Method not allowed." } });
      response.headers.push(["Allow", target.routes.map((candidate) => candidate.method).join(", ")]);
      return response;
    }
    return run(route, request, target.param);
  };
}

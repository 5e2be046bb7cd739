import { toUserDTO } from "../core/dto.js";
import type { Gatehouse } from "../core/gatehouse.js";
import { CsrfError, isGatehouseError, PayloadTooLargeError } from "../errors.js";
import { FORM_TYPE, JSON_TYPE, mediaType, type ParsedBody, parseBody } from "./body.js";
import { isSameOriginRequest } from "./origin.js";
import { safeRedirectPath } from "./redirect.js";
import { errorBody, errorResponse, type HttpResponse, jsonResponse, redirectResponse } from "./response.js";

/** A framework-neutral view of an incoming request to the auth routes. */
export interface AuthRequest {
  method: string;
  /** Path segments below the mount point, e.g. `["login"]` for `/api/auth/login`. */
  route: readonly string[];
  header(name: string): string | undefined;
  /** The body as text; rejects with `PayloadTooLargeError` past `limit` bytes. */
  readBody(limit: number): Promise<string>;
  ip: string | null;
}

/** Where HTML form posts are sent after they succeed or fail. */
export interface AuthPages {
  login: string;
  signup: string;
  afterLogin: string;
  afterLogout: string;
}

export interface AuthRoutesOptions {
  /** The app's public origins (the first is its own). State-changing requests from elsewhere get 403 `csrf`. */
  origins: ReadonlySet<string>;
  pages: AuthPages;
}

/** Credentials never need more; anything larger is refused before it is parsed. */
export const MAX_BODY_BYTES = 16 * 1024;

type Route = (request: AuthRequest) => Promise<HttpResponse>;

/**
 * The auth API (`/signup`, `/login`, `/logout`, `/session`) as a function from request to response,
 * independent of any framework. `gatehouse/next` adapts it to a Pages Router API route.
 */
export function createAuthRoutes(gatehouse: Gatehouse, options: AuthRoutesOptions): Route {
  const { cookie } = gatehouse;
  const { pages } = options;

  async function readInput(request: AuthRequest): Promise<ParsedBody> {
    const contentType = request.header("content-type");
    const isJson = mediaType(contentType) === JSON_TYPE;
    if (!isSameOriginRequest((n) => request.header(n), options.origins, isJson)) throw new CsrfError();
    const length = Number(request.header("content-length"));
    if (Number.isFinite(length) && length > MAX_BODY_BYTES) throw new PayloadTooLargeError(MAX_BODY_BYTES);
    return parseBody(await request.readBody(MAX_BODY_BYTES), contentType, true);
  }

  function meta(request: AuthRequest) {
    return { userAgent: request.header("user-agent") ?? null, ip: request.ip };
  }

  /**
   * A failed HTML form post goes back to its page with `?error=<code>`, so it works without JavaScript.
   * A cross-site post is the exception: it gets the plain 403, as no page of ours sent it.
   */
  function formFailure(page: string, error: unknown, next: string | undefined): HttpResponse {
    if (isGatehouseError(error) && error.code === "csrf") return errorResponse(error);
    const params = new URLSearchParams({ error: errorBody(error).body.error.code });
    if (next) params.set("next", safeRedirectPath(next, pages.afterLogin));
    return redirectResponse(`${page}?${params}`);
  }

  const signIn = (kind: "login" | "signup"): Route => async (request) => {
    const isForm = mediaType(request.header("content-type")) === FORM_TYPE;
    let next: string | undefined;
    try {
      const body = await readInput(request);
      if (body.kind === "form") next = body.data.next;
      const input = body.kind === "empty" ? undefined : body.data;
      const signedIn =
        kind === "signup"
          ? await gatehouse.signUp(input, meta(request))
          : await gatehouse.logIn(input, { ...meta(request), previousValue: cookie.read(request.header("cookie")) });
      if (isForm) return redirectResponse(safeRedirectPath(next, pages.afterLogin), [signedIn.setCookie]);
      return jsonResponse(kind === "signup" ? 201 : 200, { user: signedIn.user }, [signedIn.setCookie]);
    } catch (error) {
      return isForm ? formFailure(kind === "signup" ? pages.signup : pages.login, error, next) : errorResponse(error);
    }
  };

  const routes: Record<string, Partial<Record<string, Route>>> = {
    signup: { POST: signIn("signup") },
    login: { POST: signIn("login") },
    logout: {
      async POST(request) {
        const isForm = mediaType(request.header("content-type")) === FORM_TYPE;
        try {
          await readInput(request);
          const clear = await gatehouse.logOut(cookie.read(request.header("cookie")));
          return isForm ? redirectResponse(pages.afterLogout, [clear]) : jsonResponse(200, { ok: true }, [clear]);
        } catch (error) {
          return isForm ? formFailure(pages.afterLogout, error, undefined) : errorResponse(error);
        }
      },
    },
    session: {
      async GET(request) {
        const value = cookie.read(request.header("cookie"));
        try {
          const valid = await gatehouse.validateSession(value);
          if (!valid) return jsonResponse(200, { user: null }, value ? [cookie.clear()] : []);
          return jsonResponse(
            200,
            { user: toUserDTO(valid.user), session: { expiresAt: valid.session.expiresAt.toISOString() } },
            valid.renewed ? [cookie.serialize(valid.renewed.value, valid.renewed.expiresAt)] : [],
          );
        } catch (error) {
          return errorResponse(error);
        }
      },
    },
  };

  return async (request) => {
    const name = request.route.length === 1 ? (request.route[0] as string) : "";
    const handlers = Object.hasOwn(routes, name) ? routes[name] : undefined;
    if (!handlers) {
      return jsonResponse(404, { error: { code: "not_found", message: "There is no such auth route." } });
    }
    const method = request.method.toUpperCase();
    const handler = Object.hasOwn(handlers, method) ? handlers[method] : undefined;
    if (!handler) {
      const response = jsonResponse(405, { error: { code: "method_not_allowed", message: "Method not allowed." } });
      response.headers.push(["Allow", Object.keys(handlers).join(", ")]);
      return response;
    }
    return handler(request);
  };
}

import { toUserDTO } from "../core/dto.js";
import type { Gatehouse, LoggedIn } from "../core/gatehouse.js";
import { CsrfError, isGatehouseError, NotFoundError, PayloadTooLargeError, UnauthenticatedError } from "../errors.js";
import type { ValidSession } from "../session/types.js";
import { FORM_TYPE, mediaType, type ParsedBody, parseBody } from "./body.js";
import { isSameOriginRequest, isStateChanging } from "./origin.js";
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

/** The one answer to a password-reset request, whether or not the address has an account. */
const RESET_REQUESTED = "If an account uses this address, we sent it a link to reset the password. Check your inbox.";

/** Credentials never need more; anything larger is refused before it is parsed. */
export const MAX_BODY_BYTES = 16 * 1024;

type Route = (request: AuthRequest, param: string) => Promise<HttpResponse>;

/**
 * The auth API (`/signup`, `/login`, `/logout`, `/session`, `/sessions`, `/sessions/revoke-others`,
 * `/sessions/:id`, `/password`, `/account`, `/verify-email`, `/verify-email/request`, `/password-reset/request`,
 * `/password-reset/confirm`, `/email-change`) as a function from request to response,
 * independent of any framework. `gatehouse/next` adapts it to a Pages Router API route.
 */
export function createAuthRoutes(
  gatehouse: Gatehouse,
  options: AuthRoutesOptions,
): (request: AuthRequest) => Promise<HttpResponse> {
  const { cookie } = gatehouse;
  const { pages } = options;

  function assertSameOrigin(request: AuthRequest): void {
    if (!isSameOriginRequest((n) => request.header(n), options.origins)) throw new CsrfError();
  }

  /** Checks the origin and reads the body: JSON, or an HTML form only on the routes that serve forms. */
  async function readInput(request: AuthRequest, acceptForm = false): Promise<ParsedBody> {
    const contentType = request.header("content-type");
    assertSameOrigin(request);
    const length = Number(request.header("content-length"));
    if (Number.isFinite(length) && length > MAX_BODY_BYTES) throw new PayloadTooLargeError(MAX_BODY_BYTES);
    return parseBody(await request.readBody(MAX_BODY_BYTES), contentType, acceptForm);
  }

  function renewedCookie(valid: ValidSession): string[] {
    return valid.renewed ? [cookie.serialize(valid.renewed.value, valid.renewed.expiresAt)] : [];
  }

  /**
   * Wraps a route that needs a session: 401 without one; errors become JSON responses. A session rotated
   * by the check keeps its new cookie even when the handler then fails.
   */
  function signedIn(
    handler: (request: AuthRequest, valid: ValidSession, param: string, body: ParsedBody) => Promise<HttpResponse>,
  ): Route {
    return async (request, param) => {
      let valid: ValidSession | null = null;
      try {
        // A request refused for its origin or body must not touch the session (no rotation, no renewal).
        const body: ParsedBody = isStateChanging(request.method) ? await readInput(request) : { kind: "empty" };
        valid = await gatehouse.validateSession(cookie.read(request.header("cookie")), { rotate: true });
        if (!valid) throw new UnauthenticatedError();
        return await handler(request, valid, param, body);
      } catch (error) {
        const response = errorResponse(error);
        for (const setCookie of valid ? renewedCookie(valid) : []) response.headers.push(["Set-Cookie", setCookie]);
        return response;
      }
    };
  }

  function meta(request: AuthRequest) {
    const cookies = request.header("cookie");
    return {
      userAgent: request.header("user-agent") ?? null,
      ip: request.ip,
      deviceCookie: gatehouse.deviceCookie.read(cookies),
    };
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

  const signIn =
    (kind: "login" | "signup"): Route =>
    async (request) => {
      const isForm = mediaType(request.header("content-type")) === FORM_TYPE;
      let next: string | undefined;
      try {
        const body = await readInput(request, true);
        if (body.kind === "form") next = body.data.next;
        const input = body.kind === "empty" ? undefined : body.data;
        const signedIn =
          kind === "signup"
            ? await gatehouse.signUp(input, meta(request))
            : await gatehouse.logIn(input, { ...meta(request), previousValue: cookie.read(request.header("cookie")) });
        if ("verificationRequired" in signedIn) {
          if (isForm) return redirectResponse(`${pages.login}?${new URLSearchParams({ notice: "verify_email" })}`);
          return jsonResponse(201, { user: signedIn.user, verificationRequired: true });
        }
        const cookies = [
          signedIn.setCookie,
          ...("deviceCookie" in signedIn ? [(signedIn as LoggedIn).deviceCookie] : []),
        ];
        if (isForm) return redirectResponse(safeRedirectPath(next, pages.afterLogin), cookies);
        return jsonResponse(kind === "signup" ? 201 : 200, { user: signedIn.user }, cookies);
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
          await readInput(request, true);
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
          const valid = await gatehouse.validateSession(value, { rotate: true });
          if (!valid) return jsonResponse(200, { user: null }, value ? [cookie.clear()] : []);
          return jsonResponse(
            200,
            { user: toUserDTO(valid.user), session: { expiresAt: valid.session.expiresAt.toISOString() } },
            renewedCookie(valid),
          );
        } catch (error) {
          return errorResponse(error);
        }
      },
    },
    sessions: {
      GET: signedIn(async (_request, valid) => {
        const sessions = await gatehouse.listSessions(valid.user.id);
        return jsonResponse(
          200,
          {
            sessions: sessions.map((session) => ({
              id: session.id,
              createdAt: session.createdAt.toISOString(),
              lastSeenAt: session.lastSeenAt.toISOString(),
              expiresAt: session.expiresAt.toISOString(),
              userAgent: session.userAgent,
              ip: session.ip,
              current: session.id === valid.session.id,
            })),
          },
          renewedCookie(valid),
        );
      }),
    },
    "sessions/revoke-others": {
      POST: signedIn(async (_request, valid) => {
        const revoked = await gatehouse.revokeOtherSessions(valid.user.id, valid.session.id);
        return jsonResponse(200, { revoked }, renewedCookie(valid));
      }),
    },
    password: {
      POST: signedIn(async (request, valid, _param, body) => {
        const signedIn = await gatehouse.changePassword(
          valid,
          body.kind === "empty" ? undefined : body.data,
          meta(request),
        );
        return jsonResponse(200, { user: signedIn.user }, [signedIn.setCookie, signedIn.deviceCookie]);
      }),
    },
    account: {
      DELETE: signedIn(async (request, valid, _param, body) => {
        const clear = await gatehouse.deleteAccount(valid, body.kind === "empty" ? {} : body.data, meta(request));
        return jsonResponse(200, { ok: true }, [clear]);
      }),
    },
    "verify-email": {
      async POST(request) {
        try {
          const body = await readInput(request);
          const input = body.kind === "empty" ? undefined : body.data;
          const verified = await gatehouse.verifyEmail(input, cookie.read(request.header("cookie")), meta(request));
          return jsonResponse(200, { user: verified.user }, verified.setCookie ? [verified.setCookie] : []);
        } catch (error) {
          return errorResponse(error);
        }
      },
    },
    "verify-email/request": {
      POST: signedIn(async (_request, valid) => {
        await gatehouse.requestEmailVerification(valid);
        return jsonResponse(202, { ok: true }, renewedCookie(valid));
      }),
    },
    "password-reset/request": {
      async POST(request) {
        try {
          const body = await readInput(request);
          await gatehouse.requestPasswordReset(body.kind === "empty" ? undefined : body.data, meta(request));
          return jsonResponse(202, { ok: true, message: RESET_REQUESTED });
        } catch (error) {
          return errorResponse(error);
        }
      },
    },
    "password-reset/confirm": {
      async POST(request) {
        try {
          const body = await readInput(request);
          await gatehouse.confirmPasswordReset(body.kind === "empty" ? undefined : body.data);
          return jsonResponse(200, { ok: true });
        } catch (error) {
          return errorResponse(error);
        }
      },
    },
    "email-change": {
      POST: signedIn(async (request, valid, _param, body) => {
        const pending = await gatehouse.requestEmailChange(
          valid,
          body.kind === "empty" ? undefined : body.data,
          meta(request),
        );
        return jsonResponse(202, pending, renewedCookie(valid));
      }),
    },
    "sessions/:id": {
      DELETE: signedIn(async (_request, valid, id) => {
        if (!(await gatehouse.revokeSession(valid.user.id, id))) {
          throw new NotFoundError("You have no session with this id.");
        }
        // Revoking the session this request came with is a log-out: the cookie goes too.
        return jsonResponse(200, { ok: true }, id === valid.session.id ? [cookie.clear()] : renewedCookie(valid));
      }),
    },
  };

  function resolve(route: readonly string[]): { key: string; param: string } | null {
    const path = route.join("/");
    if (Object.hasOwn(routes, path)) return { key: path, param: "" };
    if (route.length === 2 && route[0] === "sessions" && /^[A-Za-z0-9_-]{1,64}$/.test(route[1] as string)) {
      return { key: "sessions/:id", param: route[1] as string };
    }
    return null;
  }

  return async (request) => {
    const target = resolve(request.route);
    const handlers = target ? routes[target.key] : undefined;
    if (!target || !handlers) {
      return jsonResponse(404, { error: { code: "not_found", message: "There is no such auth route." } });
    }
    const method = request.method.toUpperCase();
    const handler = Object.hasOwn(handlers, method) ? handlers[method] : undefined;
    if (!handler) {
      const response = jsonResponse(405, { error: { code: "method_not_allowed", message: "Method not allowed." } });
      response.headers.push(["Allow", Object.keys(handlers).join(", ")]);
      return response;
    }
    return handler(request, target.param);
  };
}

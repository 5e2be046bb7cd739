import type { IncomingMessage, ServerResponse } from "node:http";
import type { Gatehouse } from "../core/gatehouse.js";
import { ConfigurationError, ForbiddenError, UnauthenticatedError } from "../errors.js";
import { type AuthPages, createAuthRoutes } from "../http/auth-routes.js";
import { toOrigin } from "../http/origin.js";
import { errorResponse } from "../http/response.js";
import { headerOf, readBody, sendHttpResponse } from "./node-http.js";
import { type Auth, verifySession } from "./session.js";
import { type GatehouseSource, resolveGatehouse } from "./source.js";

/** Options for {@link gatehouseApiHandler}. */
export interface ApiHandlerOptions {
  /** The app's public origin, e.g. `process.env.GATEHOUSE_URL`. Requests from other origins get 403 `csrf`. */
  url: string;
  /** More origins allowed to call the auth API (e.g. a separate marketing site). */
  trustedOrigins?: readonly string[];
  /** Where the routes are mounted. Default `/api/auth`. */
  basePath?: string;
  /** Pages that HTML form posts are redirected to. */
  pages?: Partial<AuthPages>;
}

type NodeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * The catch-all API route for `pages/api/auth/[...gatehouse].ts`: `POST signup`, `POST login`,
 * `POST logout`, `GET session`. Turn Next's body parser off for this route; Gatehouse reads and limits
 * the body itself so that malformed input gets a JSON error.
 *
 * @example
 * ```ts
 * // pages/api/auth/[...gatehouse].ts
 * import { gatehouseApiHandler } from "gatehouse/next";
 * import { gatehouse } from "@/lib/gatehouse";
 *
 * export const config = { api: { bodyParser: false } };
 * export default gatehouseApiHandler(gatehouse, { url: process.env.GATEHOUSE_URL! });
 * ```
 */
export function gatehouseApiHandler(gatehouse: GatehouseSource, options: ApiHandlerOptions): NodeHandler {
  const basePath = (options.basePath ?? "/api/auth").replace(/\/+$/, "");
  if (typeof options.url !== "string" || !URL.canParse(options.url)) {
    throw new ConfigurationError(
      `gatehouseApiHandler needs the app's public origin as url (e.g. url: process.env.GATEHOUSE_URL); got ${JSON.stringify(options.url)}.`,
    );
  }
  const origins = new Set([options.url, ...(options.trustedOrigins ?? [])].map(toOrigin));
  const pages: AuthPages = {
    login: "/login",
    signup: "/signup",
    afterLogin: "/dashboard",
    afterLogout: "/login",
    ...options.pages,
  };
  let routes: ReturnType<typeof createAuthRoutes> | undefined;
  return async (req, res) => {
    let response;
    try {
      routes ??= createAuthRoutes(resolveGatehouse(gatehouse), { origins, pages });
      const path = new URL(req.url ?? "/", "http://gatehouse.invalid").pathname;
      const route = path.startsWith(`${basePath}/`) ? path.slice(basePath.length + 1).split("/") : [];
      response = await routes({
        method: req.method ?? "GET",
        route,
        header: (name) => headerOf(req, name),
        readBody: (limit) => readBody(req, limit),
        ip: req.socket?.remoteAddress ?? null,
      });
    } catch (error) {
      response = errorResponse(error);
    }
    sendHttpResponse(res, response);
  };
}

/** What a guarded route requires beyond being signed in. */
export interface GuardOptions {
  /** A permission the user's role must grant (see `roles`). */
  permission?: string;
  /** A role the user must have. Prefer `permission`. */
  role?: string;
}

/** Throws `ForbiddenError` unless `auth` satisfies `options`. */
export function assertAllowed(gatehouse: Gatehouse, auth: Auth, options: GuardOptions): void {
  if (options.role !== undefined && auth.user.role !== options.role) throw new ForbiddenError();
  if (options.permission !== undefined && !gatehouse.can(auth.user, options.permission)) throw new ForbiddenError();
}

/**
 * Guards a Pages Router API route: 401 `unauthenticated` without a valid session, 403 `forbidden` when the
 * role lacks the permission, 503 `unavailable` when the store is down. The handler receives the
 * {@link Auth} as a third argument.
 *
 * @example
 * ```ts
 * export default withApiAuth(gatehouse, async (req, res, { user }) => {
 *   res.status(200).json({ user });
 * });
 * ```
 */
export function withApiAuth<Req extends IncomingMessage, Res extends ServerResponse>(
  gatehouse: GatehouseSource,
  handler: (req: Req, res: Res, auth: Auth) => unknown,
  options: GuardOptions = {},
): (req: Req, res: Res) => Promise<void> {
  return async (req, res) => {
    const instance = resolveGatehouse(gatehouse);
    try {
      const auth = await verifySession(instance, req, res);
      if (!auth) throw new UnauthenticatedError();
      assertAllowed(instance, auth, options);
      res.setHeader("Cache-Control", "private, no-store");
      await handler(req, res, auth);
    } catch (error) {
      if (res.headersSent) throw error;
      sendHttpResponse(res, errorResponse(error));
    }
  };
}

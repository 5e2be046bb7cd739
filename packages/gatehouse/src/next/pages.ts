import type { GetServerSideProps, GetServerSidePropsContext, GetServerSidePropsResult } from "next";
import { isGatehouseError } from "../errors.js";
import { safeRedirectPath } from "../http/redirect.js";
import { assertAllowed, type GuardOptions } from "./api.js";
import { type Auth, type SignedInSession, toClientSession, verifySession } from "./session.js";
import { type GatehouseSource, resolveGatehouse } from "./source.js";

/** Options for {@link withPageAuth}. */
export interface PageGuardOptions extends GuardOptions {
  /** Where signed-out visitors go; `?next=<path>` is added. Default `/login`. */
  loginPath?: string;
}

/** Props every guarded page receives. `forbidden` pages render a "no access" state with status 403. */
export type PageAuthProps<P> =
  | (P & { session: SignedInSession; forbidden?: false })
  | { session: SignedInSession; forbidden: true };

/**
 * What a guarded page receives, with status 503, when the store is down: render a "try again shortly"
 * state (the example app does it once, in `_app`). Nobody is treated as signed in.
 */
export interface UnavailableProps {
  session: { user: null };
  unavailable: true;
}

/**
 * Guards `getServerSideProps`: signed-out visitors are redirected to `/login?next=<this path>`; a signed-in
 * user without the permission gets status 403 and `{ forbidden: true }`; when the store is down the page
 * gets status 503 and {@link UnavailableProps} (Next.js would turn a thrown error into a 500). Otherwise
 * `getProps` runs with the {@link Auth}, and its props are merged with `session` (for `SessionProvider`).
 *
 * @example
 * ```ts
 * export const getServerSideProps = withPageAuth(gatehouse, { permission: "users:read" }, async (ctx, auth) => ({
 *   props: { users: await gatehouse.users.list() },
 * }));
 * ```
 */
export function withPageAuth<P extends object = Record<string, never>>(
  gatehouse: GatehouseSource,
  options: PageGuardOptions = {},
  getProps?: (context: GetServerSidePropsContext, auth: Auth) => Promise<GetServerSidePropsResult<P>>,
): GetServerSideProps<PageAuthProps<P> | UnavailableProps> {
  const loginPath = options.loginPath ?? "/login";
  return async (context) => {
    const instance = resolveGatehouse(gatehouse);
    let auth: Auth | null;
    try {
      auth = await verifySession(instance, context.req, context.res);
    } catch (error) {
      if (!isGatehouseError(error) || error.code !== "unavailable") throw error;
      context.res.statusCode = 503;
      context.res.setHeader("Retry-After", "5");
      return { props: { session: { user: null }, unavailable: true } };
    }
    if (!auth) {
      const next = safeRedirectPath(context.resolvedUrl, "/");
      return { redirect: { destination: `${loginPath}?${new URLSearchParams({ next })}`, permanent: false } };
    }
    const session = toClientSession(auth);
    try {
      assertAllowed(instance, auth, options);
    } catch {
      context.res.statusCode = 403;
      return { props: { session, forbidden: true } };
    }
    if (!getProps) return { props: { session } as PageAuthProps<P> };
    const result = await getProps(context, auth);
    if (!("props" in result)) return result;
    const props = await result.props;
    return { props: { ...props, session } as PageAuthProps<P> };
  };
}

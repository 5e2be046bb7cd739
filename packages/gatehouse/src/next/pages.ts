import type { GetServerSideProps, GetServerSidePropsContext, GetServerSidePropsResult } from "next";
import { isGatehouseError } from "../errors.js";
import { safeRedirectPath } from "../http/redirect.js";
import { assertAllowed, checkGuardOptions, type GuardOptions } from "./api.js";
import { type Auth, type SignedInSession, toClientSession, verifySession } from "./session.js";
import { type GatehouseSource, resolveGatehouse } from "./source.js";

/** Options for {@link withPageAuth}. */
export interface PageGuardOptions extends GuardOptions {
  /** Where signed-out visitors go; `?next=<path>` is added. Default `/login`. */
  loginPath?: string;
}

/**
 * Props every guarded page receives, a union on `forbidden`: after `if (props.forbidden) return …` the page's
 * own props are known to be there. `forbidden` pages render a "no access" state (status 403); so do pages
 * while the store is down (status 503, {@link UnavailableProps}) unless `_app` shows a notice first.
 */
export type PageAuthProps<P> =
  | (P & { session: SignedInSession; forbidden?: false; unavailable?: false })
  | { session: SignedInSession; forbidden: true; unavailable?: false }
  | UnavailableProps;

/**
 * What a guarded page receives, with status 503, when the store is down. Nobody is treated as signed in,
 * and `forbidden` is set too, so a page that does not know about this case shows its "no access" state
 * rather than data it does not have. `isUnavailable(pageProps)` from `gatehouse-auth/react`, in `_app`,
 * shows a "try again shortly" notice instead.
 */
export type UnavailableProps = { session: { user: null }; forbidden: true; unavailable: true };

/** Loads a guarded page's own props once the visitor is signed in and allowed. */
export type PageGetProps<P> = (context: GetServerSidePropsContext, auth: Auth) => Promise<GetServerSidePropsResult<P>>;

/**
 * Guards `getServerSideProps`: signed-out visitors are redirected to `/login?next=<this path>`; a signed-in
 * user without the permission gets status 403 and `{ forbidden: true }`; when the store is down the page
 * gets status 503 and {@link UnavailableProps} (Next.js would turn a thrown error into a 500). Otherwise
 * `getProps` runs with the {@link Auth}, and its props are merged with `session` (for `SessionProvider`).
 * Options in the middle, the loader last, as for `withApiAuth`; both may be left out.
 *
 * @example
 * ```ts
 * export const getServerSideProps = withPageAuth(getGatehouse, { permission: "users:read" }, async () => ({
 *   props: { users: await getGatehouse().users.list() },
 * }));
 * export default function Admin(props: InferGetServerSidePropsType<typeof getServerSideProps>) {
 *   if (props.forbidden) return <p>Admins only.</p>;
 *   return <UserList users={props.users} />;
 * }
 * ```
 */
export function withPageAuth(gatehouse: GatehouseSource): GetServerSideProps<PageAuthProps<NoProps>>;
/** {@link withPageAuth} that loads the page's own props once the visitor is signed in. */
export function withPageAuth<P extends object>(
  gatehouse: GatehouseSource,
  getProps: PageGetProps<P>,
): GetServerSideProps<PageAuthProps<P>>;
/**
 * {@link withPageAuth} with a permission, a role or another log-in page, and optionally the page's own props:
 * `withPageAuth(getGatehouse, { permission: "users:read" }, getProps)`.
 */
export function withPageAuth<P extends object = NoProps>(
  gatehouse: GatehouseSource,
  options: PageGuardOptions,
  getProps?: PageGetProps<P>,
): GetServerSideProps<PageAuthProps<P>>;
export function withPageAuth<P extends object>(
  gatehouse: GatehouseSource,
  first?: PageGuardOptions | PageGetProps<P>,
  second?: PageGetProps<P>,
): GetServerSideProps<PageAuthProps<P>> {
  if (typeof first === "function" && second !== undefined) {
    throw new TypeError("withPageAuth(gatehouse, options, getProps): the options come before getProps.");
  }
  if (second !== undefined && typeof second !== "function") {
    throw new TypeError("withPageAuth(gatehouse, options, getProps): getProps must be a function.");
  }
  const [given, getProps] = typeof first === "function" ? [undefined, first] : [first, second];
  const options = checkGuardOptions<PageGuardOptions>("withPageAuth", given, PAGE_GUARD_OPTIONS);
  const loginPath = options.loginPath ?? "/login";
  return async (context) => {
    const instance = resolveGatehouse(gatehouse);
    let auth: Auth | null;
    try {
      auth = await verifySession(instance, context.req, context.res);
    } catch (error) {
      if (!isGatehouseError(error) || error.code !== "unavailable") throw error;
      return unavailable(context);
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
    try {
      const result = await getProps(context, auth);
      if (!("props" in result)) return result;
      const props = await result.props;
      return { props: { ...props, session } as PageAuthProps<P> };
    } catch (error) {
      // The store can fail after the session check too, in the page's own reads: the same 503, not a 500.
      if (!isGatehouseError(error) || error.code !== "unavailable") throw error;
      return unavailable(context);
    }
  };
}

const PAGE_GUARD_OPTIONS = ["permission", "role", "loginPath"] as const;

function unavailable(context: GetServerSidePropsContext): { props: UnavailableProps } {
  context.res.statusCode = 503;
  context.res.setHeader("Retry-After", "5");
  return { props: { session: { user: null }, forbidden: true, unavailable: true } };
}

/** The props of a guarded page that loads none of its own. */
type NoProps = Record<never, never>;

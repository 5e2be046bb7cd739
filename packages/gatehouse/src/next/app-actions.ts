import { parseSetCookie } from "cookie";
import { cookies, headers } from "next/headers";
import { redirect, unstable_rethrow } from "next/navigation";
import type { Auth } from "../core/dto.js";
import type { Gatehouse } from "../core/gatehouse.js";
import {
  CsrfError,
  type FieldErrors,
  type GatehouseErrorCode,
  PayloadTooLargeError,
  UnauthenticatedError,
} from "../errors.js";
import { safeRedirectPath, withQuery } from "../http/redirect.js";
import { type ErrorBody, errorBody, type HttpResponse } from "../http/response.js";
import type { AuthPages, AuthRequest } from "../http/router.js";
import { allowedOrigins, assertAllowed, checkGuardOptions, GUARD_OPTIONS, type GuardOptions } from "./api.js";
import { checkCookie } from "./session.js";
import { type GatehouseSource, resolveGatehouse } from "./source.js";
import { webClientIp } from "./web-http.js";

/** What went wrong in a Server Action: the HTTP API's error body, `{ code, message, fields? }`. */
export interface ActionError {
  code: GatehouseErrorCode;
  message: string;
  /** Per-field problems of an `invalid_input` error. */
  fields?: FieldErrors;
}

/**
 * What a form's Server Action returns, for React's `useActionState`: `null` before the first submit, `ok`
 * when the action is done and the page stays (a requested reset), or the error with the submitted values
 * that are safe to show again (never a password, token or code), so a form posted without JavaScript comes
 * back filled in. Actions that succeed by moving on (log-in, sign-up, log-out) redirect instead.
 */
export type ActionState =
  | null
  | { ok: true; message?: string }
  | { ok: false; error: ActionError; values: Readonly<Record<string, string>> };

/** A failed {@link ActionState}. */
export type ActionFailure = Extract<ActionState, { ok: false }>;

/** A form's Server Action: the previous state and the form's data, as `useActionState` calls it. */
export type FormAction = (state: ActionState, form: FormData) => Promise<ActionState>;

/** The auth API's form actions, each with the HTTP route's checks, limits and answers. */
export interface AuthActions {
  /** `email`, `password`, `next`: signs in and redirects to `next`, or to the second step of a 2FA account. */
  logIn: FormAction;
  /** `email`, `password`, `name`, `next`: signs up and redirects; to the log-in page when the address must be verified first. */
  signUp: FormAction;
  /** Ends the session and redirects to `pages.afterLogout`. */
  logOut: FormAction;
  /** `email`: sends a reset link if the address has an account; `ok` with the same message either way. */
  requestPasswordReset: FormAction;
  /** `token`, `password`: sets the new password and ends every session; `ok`. */
  resetPassword: FormAction;
  /** `token` (a link's), or `code` and `email`: verifies the address; `ok`. */
  verifyEmail: FormAction;
}

/** The Server Action helpers of one instance. */
export interface ActionHelpers {
  actions: AuthActions;
  guardAction<Args extends unknown[], R>(
    action: (auth: Auth, ...args: Args) => Promise<R>,
    options?: GuardOptions,
  ): (...args: Args) => Promise<R | ActionFailure>;
}

/** The form fields each action sends to its route; the rest of a form is ignored. */
const FIELDS = {
  login: ["email", "password"],
  signup: ["email", "password", "name"],
  logout: [],
  "password-reset/request": ["email"],
  "password-reset/confirm": ["token", "password"],
  "verify-email": ["token", "code", "email"],
} as const;

type ActionRoute = keyof typeof FIELDS;

/** The submitted values an error state may carry back to the form: none of them is a secret. */
const SHOWN_AGAIN = ["email", "name", "next"] as const;

/**
 * Server Actions must be refused from any other origin, whatever Next's own check allows: `Origin` is
 * required (a browser sends it with every POST, a Server Action's included), and `null` (a sandboxed frame,
 * a redirect chain across sites) is not an origin of this app.
 */
function assertActionOrigin(requestHeaders: Headers, origins: ReadonlySet<string>): void {
  const origin = requestHeaders.get("origin");
  if (origin === null || !origins.has(origin)) throw new CsrfError();
}

function failure(error: unknown, values: Readonly<Record<string, string>> = {}): ActionFailure {
  return { ok: false, error: errorBody(error).body.error, values };
}

function textOf(form: FormData | undefined, name: string): string | undefined {
  // A Server Action can be called with any serialisable arguments, not only the form's FormData.
  const value = form instanceof FormData ? form.get(name) : undefined;
  // A file where text belongs is left out: the route then says which field is missing.
  return typeof value === "string" ? value : undefined;
}

function shownAgain(form: FormData | undefined, fallbackNext: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of SHOWN_AGAIN) {
    const value = textOf(form, name);
    if (value !== undefined) values[name] = value.slice(0, 2048);
  }
  // A page may put `next` back in a link: only a path on this site goes back, as only one is followed.
  if (values.next !== undefined) values.next = safeRedirectPath(values.next, fallbackNext);
  return values;
}

/** Every cookie of the route's answer, set through Next's `cookies()` (the only way an action can). */
async function applyCookies(response: HttpResponse): Promise<void> {
  const jar = await cookies();
  for (const [name, value] of response.headers) {
    if (name === "Set-Cookie") setCookie(jar, value);
  }
}

function setCookie(jar: Awaited<ReturnType<typeof cookies>>, header: string): void {
  const { name, value, sameSite, ...attributes } = parseSetCookie(header);
  jar.set({ name, value: value ?? "", ...attributes, ...(sameSite === undefined ? {} : { sameSite }) });
}

/**
 * `createAuthRoutes`' router run for a Server Action: the request's headers, cookie and client address as
 * Next gives them, and the form's fields as the JSON body the route reads.
 */
async function callRoute(
  gatehouse: Gatehouse,
  routes: (request: AuthRequest) => Promise<HttpResponse>,
  route: ActionRoute,
  form: FormData | undefined,
): Promise<HttpResponse> {
  const requestHeaders = await headers();
  assertActionOrigin(requestHeaders, allowedOrigins(gatehouse));
  const fields: Record<string, string> = {};
  for (const name of FIELDS[route]) {
    const value = textOf(form, name);
    if (value !== undefined) fields[name] = value;
  }
  const body = JSON.stringify(fields);
  return routes({
    method: "POST",
    route: route.split("/"),
    query: new URLSearchParams(),
    // The action's own body was multipart, and Next has read it: the route sees the JSON made from it.
    header: (name) => {
      const lower = name.toLowerCase();
      if (lower === "content-type") return "application/json";
      if (lower === "content-length") return undefined;
      return requestHeaders.get(lower) ?? undefined;
    },
    readBody: async (limit) => {
      if (Buffer.byteLength(body) > limit) throw new PayloadTooLargeError(limit);
      return body;
    },
    ip: webClientIp(requestHeaders, gatehouse.trustedProxies),
  });
}

function parsed(response: HttpResponse): Record<string, unknown> {
  return response.body ? (JSON.parse(response.body) as Record<string, unknown>) : {};
}

/** `withRouteAuth`'s Server Action counterparts and the auth API's form actions, for `pages`. */
export function createActionHelpers(
  gatehouse: GatehouseSource,
  options: { pages: AuthPages; routes: (gatehouse: Gatehouse) => (request: AuthRequest) => Promise<HttpResponse> },
): ActionHelpers {
  const { pages } = options;

  /**
   * Runs `route` for the form and decides: `onSuccess` for a 2xx answer (which may redirect), the error as a
   * state otherwise. The answer's cookies are set either way (a failed log-in may still clear a dead one).
   * `redirect()` throws, so it is only ever called outside the `try`.
   */
  async function run(
    route: ActionRoute,
    form: FormData | undefined,
    onSuccess: (body: Record<string, unknown>) => ActionState | string,
    onError?: (error: ErrorBody["error"]) => string | null,
  ): Promise<ActionState> {
    let outcome: ActionState | string;
    try {
      const instance = resolveGatehouse(gatehouse);
      const response = await callRoute(instance, options.routes(instance), route, form);
      await applyCookies(response);
      const body = parsed(response);
      if (response.status < 300) outcome = onSuccess(body);
      else {
        const error = (body as unknown as ErrorBody).error;
        outcome = onError?.(error) ?? { ok: false, error, values: shownAgain(form, pages.afterLogin) };
      }
    } catch (error) {
      // Next's own control flow (a prerender's dynamic bail-out of `headers()`) goes on to Next.
      unstable_rethrow(error);
      outcome = failure(error, shownAgain(form, pages.afterLogin));
    }
    if (typeof outcome === "string") redirect(outcome);
    return outcome;
  }

  function nextOf(form: FormData | undefined): string {
    return safeRedirectPath(textOf(form, "next"), pages.afterLogin);
  }

  const actions: AuthActions = {
    logIn: (_state, form) =>
      run(
        "login",
        form,
        () => nextOf(form),
        (error) => {
          if (error.code !== "mfa_required") return null;
          // The pending cookie is set; the second step's page asks for one of the methods the account has.
          const params = new URLSearchParams();
          if (textOf(form, "next") !== undefined) params.set("next", nextOf(form));
          if (error.methods?.length) params.set("methods", error.methods.join(","));
          return withQuery(pages.verifyLogin, params);
        },
      ),
    signUp: (_state, form) =>
      run("signup", form, (body) =>
        body.verificationRequired
          ? withQuery(pages.login, new URLSearchParams({ notice: "verify_email" }))
          : nextOf(form),
      ),
    logOut: (_state, form) => run("logout", form, () => pages.afterLogout),
    requestPasswordReset: (_state, form) =>
      run("password-reset/request", form, (body) => ({
        ok: true,
        ...(typeof body.message === "string" && { message: body.message }),
      })),
    resetPassword: (_state, form) => run("password-reset/confirm", form, () => ({ ok: true })),
    verifyEmail: (_state, form) => run("verify-email", form, () => ({ ok: true })),
  };

  function guardAction<Args extends unknown[], R>(
    action: (auth: Auth, ...args: Args) => Promise<R>,
    given?: GuardOptions,
  ): (...args: Args) => Promise<R | ActionFailure> {
    if (typeof action !== "function") {
      throw new TypeError("guardAction(action, options): the action must be a function.");
    }
    const guard = checkGuardOptions<GuardOptions>("guardAction", given, GUARD_OPTIONS);
    return async (...args) => {
      let auth: Auth | null;
      try {
        const instance = resolveGatehouse(gatehouse);
        const requestHeaders = await headers();
        assertActionOrigin(requestHeaders, allowedOrigins(instance));
        const checked = await checkCookie(instance, requestHeaders.get("cookie"), true);
        // An action may set cookies: a renewed session (or the clearing of a dead one) is kept.
        if (checked.setCookie) setCookie(await cookies(), checked.setCookie);
        auth = checked.auth;
        if (!auth) return failure(new UnauthenticatedError());
        assertAllowed(instance, auth, guard);
      } catch (error) {
        unstable_rethrow(error);
        return failure(error);
      }
      return action(auth, ...args);
    };
  }

  return { actions, guardAction };
}

import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from "react";
import type { FieldErrors } from "../errors.js";

import { DEFAULT_ERROR_MESSAGES } from "./messages.js";

// What a person is told for each error code and field problem (documented, with examples, in ./messages.ts).
export type { FieldErrorCode, FieldErrors, FieldProblem } from "../errors.js";
export {
  createMessages,
  DEFAULT_ERROR_MESSAGES,
  DEFAULT_FIELD_MESSAGES,
  type ErrorMessageCode,
  errorMessage,
  type FieldMessage,
  type FieldProblemLike,
  fieldMessage,
  type Messages,
} from "./messages.js";

/** The public user fields (the same shape as the server's user DTO). */
export interface SessionUser {
  id: string;
  email: string;
  name: string | null;
  role: string;
  emailVerified: boolean;
}

/** What `GET /api/auth/session` returns, and what `withPageAuth` passes to pages as `session`. */
export type ClientSession = { user: SessionUser; session: { expiresAt: string } } | { user: null };

/** `useSession()`'s value: a union on `status`, so `user` is non-null exactly when authenticated. */
export type SessionState =
  | { status: "loading"; user: null; expiresAt: null }
  | { status: "authenticated"; user: SessionUser; expiresAt: string }
  | { status: "unauthenticated"; user: null; expiresAt: null };

/**
 * `{ error: { code, message, fields? } }` as the API sends it. Each field carries `{ code, message }`; show
 * it with {@link fieldMessage}, which also reads the plain strings of servers before 0.2.0.
 */
export interface ApiError {
  code: string;
  message: string;
  fields?: FieldErrors;
}

/**
 * Whether a page's props are those a guarded page gets, with status 503, while the store is down
 * (`withPageAuth`'s `{ unavailable: true }`). Check it once in `pages/_app.tsx` and show a "try again
 * shortly" notice instead of the page; a page that is not told still renders its `forbidden` state.
 *
 * @example
 * ```tsx
 * export default function App({ Component, pageProps }: AppProps) {
 *   return (
 *     <SessionProvider session={pageProps.session}>
 *       {isUnavailable(pageProps) ? <p role="alert">Try again in a moment.</p> : <Component {...pageProps} />}
 *     </SessionProvider>
 *   );
 * }
 * ```
 */
export function isUnavailable(
  pageProps: unknown,
): pageProps is { session: { user: null }; forbidden: true; unavailable: true } {
  if (typeof pageProps !== "object" || pageProps === null) return false;
  const { unavailable, forbidden, session } = pageProps as {
    unavailable?: unknown;
    forbidden?: unknown;
    session?: unknown;
  };
  // All three markers: a page's own prop that happens to be called `unavailable` is not mistaken for an outage.
  return (
    unavailable === true &&
    forbidden === true &&
    typeof session === "object" &&
    session !== null &&
    (session as { user?: unknown }).user === null
  );
}

/**
 * The outcome of every call here. `pendingEmail` is set by {@link changeEmail}; `verificationRequired` by
 * {@link signUp} when the server requires a verified address before the first log-in.
 */
export type AuthResult =
  | { ok: true; user: SessionUser | null; pendingEmail?: string; verificationRequired?: boolean }
  | { ok: false; status: number; error: ApiError };

interface SessionContextValue {
  state: SessionState;
  refresh(): Promise<void>;
}

const SessionContext = createContext<SessionContextValue | null>(null);

/** Where the auth API is mounted. */
const DEFAULT_BASE_PATH = "/api/auth";

function toState(session: ClientSession | undefined): SessionState {
  if (session === undefined) return { status: "loading", user: null, expiresAt: null };
  if (session.user === null) return { status: "unauthenticated", user: null, expiresAt: null };
  return { status: "authenticated", user: session.user, expiresAt: session.session.expiresAt };
}

/** Props of {@link SessionProvider}. */
export interface SessionProviderProps {
  /** The session from `getServerSideProps` (`pageProps.session`); without it the provider fetches it. */
  session?: ClientSession;
  /** Where the auth API is mounted. Default `/api/auth`. */
  basePath?: string;
  children: ReactNode;
}

/**
 * Makes the session available to {@link useSession}. Seed it from `getServerSideProps` so that the first
 * paint is already right; unseeded, it starts as `loading` and asks the server.
 *
 * @example
 * ```tsx
 * // pages/_app.tsx
 * export default function App({ Component, pageProps }: AppProps) {
 *   return (
 *     <SessionProvider session={pageProps.session}>
 *       <Component {...pageProps} />
 *     </SessionProvider>
 *   );
 * }
 * ```
 */
export function SessionProvider({ session, basePath = DEFAULT_BASE_PATH, children }: SessionProviderProps): ReactNode {
  const [state, setState] = useState<SessionState>(() => toState(session));

  const refresh = useCallback(async () => {
    try {
      const response = await fetch(`${basePath}/session`, { credentials: "same-origin", cache: "no-store" });
      setState(response.ok ? toState((await response.json()) as ClientSession) : toState({ user: null }));
    } catch {
      setState(toState({ user: null }));
    }
  }, [basePath]);

  // A new page's server-rendered session replaces ours; without one, ask the server.
  useEffect(() => {
    if (session !== undefined) setState(toState(session));
    else void refresh();
  }, [session, refresh]);

  const value = useMemo(() => ({ state, refresh }), [state, refresh]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

/**
 * The current session: `{ status: "loading" | "authenticated" | "unauthenticated", user, expiresAt, refresh }`.
 *
 * @example
 * ```tsx
 * const { status, user } = useSession();
 * if (status === "authenticated") return <p>Hello {user.email}</p>;
 * ```
 */
export function useSession(): SessionState & { refresh(): Promise<void> } {
  const context = useContext(SessionContext);
  if (!context) throw new Error("useSession must be used inside <SessionProvider> (add it to pages/_app.tsx).");
  return { ...context.state, refresh: context.refresh };
}

async function post(path: string, body: unknown, method = "POST"): Promise<AuthResult> {
  const hasBody = body !== null;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: hasBody ? JSON.stringify(body) : null,
    });
  } catch {
    return {
      ok: false,
      status: 0,
      error: { code: "network_error", message: DEFAULT_ERROR_MESSAGES.network_error },
    };
  }
  const data = (await response.json().catch(() => null)) as {
    user?: SessionUser;
    pendingEmail?: string;
    verificationRequired?: boolean;
    error?: ApiError;
  } | null;
  if (response.ok) {
    return {
      ok: true,
      user: data?.user ?? null,
      ...(data?.pendingEmail !== undefined && { pendingEmail: data.pendingEmail }),
      ...(data?.verificationRequired === true && { verificationRequired: true }),
    };
  }
  return {
    ok: false,
    status: response.status,
    error: data?.error ?? { code: "internal_error", message: "Something went wrong. Try again." },
  };
}

/**
 * Logs in with email and password. Resolves to `{ ok: false, error }` on failure; it does not throw.
 *
 * @example
 * ```ts
 * const result = await signIn({ email, password });
 * if (!result.ok) setError(errorMessage(result.error.code));
 * ```
 */
export function signIn(
  credentials: { email: string; password: string },
  options: { basePath?: string } = {},
): Promise<AuthResult> {
  return post(`${options.basePath ?? DEFAULT_BASE_PATH}/login`, credentials);
}

/**
 * Creates an account and signs it in. Resolves to `{ ok: false, error }` with `fields` on invalid input.
 *
 * @example
 * ```ts
 * const result = await signUp({ email, password, name });
 * if (!result.ok) setPasswordError(fieldMessage(result.error.fields?.password));
 * ```
 */
export function signUp(
  details: { email: string; password: string; name?: string },
  options: { basePath?: string } = {},
): Promise<AuthResult> {
  return post(`${options.basePath ?? DEFAULT_BASE_PATH}/signup`, details);
}

/**
 * Ends the session on the server and clears the cookie.
 *
 * @example
 * ```ts
 * await signOut();
 * window.location.assign("/login");
 * ```
 */
export function signOut(options: { basePath?: string } = {}): Promise<AuthResult> {
  return post(`${options.basePath ?? DEFAULT_BASE_PATH}/logout`, {});
}

/**
 * Ends one of the signed-in user's sessions (e.g. from a "your devices" list).
 *
 * @example
 * ```ts
 * await revokeSession(session.id); // from GET /api/auth/sessions
 * ```
 */
export function revokeSession(id: string, options: { basePath?: string } = {}): Promise<AuthResult> {
  return post(`${options.basePath ?? DEFAULT_BASE_PATH}/sessions/${encodeURIComponent(id)}`, null, "DELETE");
}

/**
 * Ends every session of the signed-in user except this one.
 *
 * @example
 * ```ts
 * const result = await revokeOtherSessions();
 * ```
 */
export function revokeOtherSessions(options: { basePath?: string } = {}): Promise<AuthResult> {
  return post(`${options.basePath ?? DEFAULT_BASE_PATH}/sessions/revoke-others`, {});
}

/**
 * Changes the signed-in user's password; every other session ends and this one gets a new cookie.
 *
 * @example
 * ```ts
 * const result = await changePassword({ currentPassword, newPassword });
 * ```
 */
export function changePassword(
  passwords: { currentPassword: string; newPassword: string },
  options: { basePath?: string } = {},
): Promise<AuthResult> {
  return post(`${options.basePath ?? DEFAULT_BASE_PATH}/password`, passwords);
}

/**
 * Deletes the signed-in user's account and ends every session.
 *
 * @example
 * ```ts
 * const result = await deleteAccount({ password });
 * ```
 */
export function deleteAccount(confirm: { password: string }, options: { basePath?: string } = {}): Promise<AuthResult> {
  return post(`${options.basePath ?? DEFAULT_BASE_PATH}/account`, confirm, "DELETE");
}

/**
 * Confirms an address with the token from an email link, or with `{ code, email }` when codes are used.
 *
 * @example
 * ```ts
 * const result = await verifyEmail({ token: new URLSearchParams(location.search).get("token") ?? "" });
 * ```
 */
export function verifyEmail(
  proof: { token: string } | { code: string; email?: string },
  options: { basePath?: string } = {},
): Promise<AuthResult> {
  return post(`${options.basePath ?? DEFAULT_BASE_PATH}/verify-email`, proof);
}

/**
 * Sends the signed-in user a new verification email.
 *
 * @example
 * ```ts
 * await requestEmailVerification();
 * ```
 */
export function requestEmailVerification(options: { basePath?: string } = {}): Promise<AuthResult> {
  return post(`${options.basePath ?? DEFAULT_BASE_PATH}/verify-email/request`, {});
}

/**
 * Asks for a password-reset link. The answer is the same whether or not the address has an account.
 *
 * @example
 * ```ts
 * await requestPasswordReset({ email }); // always ok: it tells nothing about the account
 * ```
 */
export function requestPasswordReset(
  details: { email: string },
  options: { basePath?: string } = {},
): Promise<AuthResult> {
  return post(`${options.basePath ?? DEFAULT_BASE_PATH}/password-reset/request`, details);
}

/**
 * Sets a new password with the token from a reset link. Signs nobody in: log in afterwards.
 *
 * @example
 * ```ts
 * const result = await resetPassword({ token, password });
 * ```
 */
export function resetPassword(
  details: { token: string; password: string },
  options: { basePath?: string } = {},
): Promise<AuthResult> {
  return post(`${options.basePath ?? DEFAULT_BASE_PATH}/password-reset/confirm`, details);
}

/**
 * Asks to change the signed-in user's email; the new address must confirm it through the link sent to it.
 *
 * @example
 * ```ts
 * const result = await changeEmail({ email: newEmail, password }); // result.pendingEmail
 * ```
 */
export function changeEmail(
  details: { email: string; password?: string },
  options: { basePath?: string } = {},
): Promise<AuthResult> {
  return post(`${options.basePath ?? DEFAULT_BASE_PATH}/email-change`, details);
}

import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/server";
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

/** A way to finish a log-in whose password was right, in the order the server offers them. */
export type SecondFactorMethod = "totp" | "recovery_code" | "passkey";

const SECOND_FACTOR_METHODS: readonly SecondFactorMethod[] = ["totp", "recovery_code", "passkey"];

/**
 * A failed call. `secondFactor` is set when the password was right but the account has two-factor
 * authentication on (403 `mfa_required`): no session yet, finish with {@link verifySecondFactor} using one of
 * `methods` within five minutes.
 */
export interface AuthFailure {
  ok: false;
  status: number;
  error: ApiError;
  secondFactor?: { methods: SecondFactorMethod[] };
}

/**
 * The outcome of every call here that answers with a user or nothing. `pendingEmail` is set by
 * {@link changeEmail}; `verificationRequired` by {@link signUp} when the server requires a verified address
 * before the first log-in.
 */
export type AuthResult =
  | { ok: true; user: SessionUser | null; pendingEmail?: string; verificationRequired?: boolean }
  | AuthFailure;

/** The outcome of a call that answers with data: its fields beside `ok: true`, or the same failure as {@link AuthResult}. */
export type ApiResult<Data> = ({ ok: true } & Data) | AuthFailure;

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

/** Sends one request to the API; resolves to its JSON body or to the failure, and never throws. */
async function send(
  path: string,
  body: unknown,
  method: string,
): Promise<{ ok: true; data: Record<string, unknown> | null } | AuthFailure> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: body === null ? null : JSON.stringify(body),
    });
  } catch {
    return {
      ok: false,
      status: 0,
      error: { code: "network_error", message: DEFAULT_ERROR_MESSAGES.network_error },
    };
  }
  const data = (await response.json().catch(() => null)) as Record<string, unknown> | null;
  if (response.ok) return { ok: true, data };
  const error = (data?.error as (ApiError & { methods?: unknown }) | undefined) ?? {
    code: "internal_error",
    message: "Something went wrong. Try again.",
  };
  if (response.status !== 403 || error.code !== "mfa_required") return { ok: false, status: response.status, error };
  // From the wire: only the methods this version knows how to offer.
  const offered = Array.isArray(error.methods) ? error.methods : [];
  const methods = SECOND_FACTOR_METHODS.filter((method) => offered.includes(method));
  return { ok: false, status: response.status, error, secondFactor: { methods } };
}

async function post(path: string, body: unknown, method = "POST"): Promise<AuthResult> {
  const result = await send(path, body, method);
  if (!result.ok) return result;
  const data = result.data as { user?: SessionUser; pendingEmail?: string; verificationRequired?: boolean } | null;
  return {
    ok: true,
    user: data?.user ?? null,
    ...(data?.pendingEmail !== undefined && { pendingEmail: data.pendingEmail }),
    ...(data?.verificationRequired === true && { verificationRequired: true }),
  };
}

/** A call whose answer is data: `pick` takes what the caller gets from the JSON body. */
async function fetchData<Data>(
  path: string,
  body: unknown,
  method: string,
  pick: (data: Record<string, unknown>) => Data,
): Promise<ApiResult<Data>> {
  const result = await send(path, body, method);
  if (!result.ok) return result;
  return { ok: true, ...pick(result.data ?? {}) };
}

/**
 * Logs in with email and password. Resolves to `{ ok: false, error }` on failure; it does not throw. When the
 * account has two-factor authentication on, the right password gives a failure with `secondFactor` (403
 * `mfa_required`): finish the log-in with {@link verifySecondFactor}.
 *
 * @example
 * ```ts
 * const result = await signIn({ email, password });
 * if (result.ok) window.location.assign("/dashboard");
 * else if (result.secondFactor) showCodeForm(result.secondFactor.methods); // e.g. ["totp", "recovery_code"]
 * else setError(errorMessage(result.error.code));
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

/** The signed-in user's second factors: `GET /api/auth/mfa`. */
export interface MfaStatus {
  /** Whether TOTP (an authenticator app) is on; while it is, every password log-in asks for a second step. */
  totp: boolean;
  /** How many passkeys the user has registered. */
  passkeys: number;
  /** How many unused recovery codes are left (0 while TOTP is off). */
  recoveryCodesLeft: number;
}

/** A new, unconfirmed authenticator-app secret, from {@link setUpTotp}. */
export interface TotpSetup {
  /** The secret in base32, for typing into an app that cannot scan. */
  secret: string;
  /** The `otpauth://totp/…` URI that the QR code holds. */
  uri: string;
  /** The QR code as an SVG document made by the server; show it as an image, never as HTML. */
  qrSvg: string;
}

/** One of the user's passkeys, as the API lists it. */
export interface PasskeySummary {
  id: string;
  name: string;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601; `null` until it has been used to sign in. */
  lastUsedAt: string | null;
}

/** The second step of a log-in: a code from the authenticator app, a recovery code, or a passkey's answer. */
export type SecondFactorProof = { code: string } | { recoveryCode: string } | { passkey: AuthenticationResponseJSON };

export type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
};

const recoveryCodesOf = (data: Record<string, unknown>) => ({ recoveryCodes: data.recoveryCodes as string[] });

/**
 * Finishes a log-in that {@link signIn} answered with `secondFactor`, within five minutes of it: signs in and
 * sets the session cookie. A wrong proof is a 401 `invalid_code`; a log-in that waited too long (or was
 * finished already) is a 401 `mfa_pending_expired`, and has to start again with the password.
 *
 * @example
 * ```ts
 * const result = await verifySecondFactor({ code: "123456" });
 * if (result.ok) window.location.assign("/dashboard");
 * else if (result.error.code === "mfa_pending_expired") window.location.assign("/login");
 * ```
 */
export function verifySecondFactor(proof: SecondFactorProof, options: { basePath?: string } = {}): Promise<AuthResult> {
  return post(`${options.basePath ?? DEFAULT_BASE_PATH}/mfa/verify`, proof);
}

/**
 * The options for a passkey as the second step of a log-in (the user's own passkeys): pass them to the
 * browser, then the answer to {@link verifySecondFactor}. A 409 `no_passkeys` when the user has none.
 *
 * @example
 * ```ts
 * import { startAuthentication } from "@simplewebauthn/browser";
 * const result = await getSecondFactorPasskeyOptions();
 * if (result.ok) await verifySecondFactor({ passkey: await startAuthentication({ optionsJSON: result.options }) });
 * ```
 */
export function getSecondFactorPasskeyOptions(
  options: { basePath?: string } = {},
): Promise<ApiResult<{ options: PublicKeyCredentialRequestOptionsJSON }>> {
  return fetchData(`${options.basePath ?? DEFAULT_BASE_PATH}/mfa/passkey/options`, {}, "POST", (data) => ({
    options: data as unknown as PublicKeyCredentialRequestOptionsJSON,
  }));
}

/**
 * The signed-in user's second factors: whether TOTP is on, how many passkeys and recovery codes they have.
 *
 * @example
 * ```ts
 * const result = await getMfaStatus();
 * if (result.ok && result.totp) setCodesLeft(result.recoveryCodesLeft);
 * ```
 */
export function getMfaStatus(options: { basePath?: string } = {}): Promise<ApiResult<MfaStatus>> {
  return fetchData(`${options.basePath ?? DEFAULT_BASE_PATH}/mfa`, null, "GET", (data) => ({
    totp: data.totp as boolean,
    passkeys: data.passkeys as number,
    recoveryCodesLeft: data.recoveryCodesLeft as number,
  }));
}

/**
 * Starts turning on TOTP: a new secret, to scan as a QR code or type into an authenticator app. Nothing is
 * on until {@link confirmTotp} gets a code from it; a new setup replaces one that was not confirmed.
 *
 * @example
 * ```tsx
 * const result = await setUpTotp({ password });
 * if (result.ok) {
 *   // An image, so nothing in the SVG can run as part of the page.
 *   <img alt="QR code" src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(result.qrSvg)}`} />;
 * }
 * ```
 */
export function setUpTotp(
  confirm: { password: string },
  options: { basePath?: string } = {},
): Promise<ApiResult<TotpSetup>> {
  return fetchData(`${options.basePath ?? DEFAULT_BASE_PATH}/mfa/totp/setup`, confirm, "POST", (data) => ({
    secret: data.secret as string,
    uri: data.uri as string,
    qrSvg: data.qrSvg as string,
  }));
}

/**
 * Turns TOTP on with a first code from the app set up by {@link setUpTotp}. Answers the ten recovery codes,
 * which are shown this once; every other session of the user ends, and this one gets a new cookie.
 *
 * @example
 * ```ts
 * const result = await confirmTotp({ code });
 * if (result.ok) showOnce(result.recoveryCodes);
 * ```
 */
export function confirmTotp(
  proof: { code: string },
  options: { basePath?: string } = {},
): Promise<ApiResult<{ recoveryCodes: string[] }>> {
  return fetchData(`${options.basePath ?? DEFAULT_BASE_PATH}/mfa/totp/confirm`, proof, "POST", recoveryCodesOf);
}

/**
 * Turns TOTP off and voids the recovery codes; log-ins then need only the password.
 *
 * @example
 * ```ts
 * const result = await disableTotp({ password });
 * ```
 */
export function disableTotp(confirm: { password: string }, options: { basePath?: string } = {}): Promise<AuthResult> {
  return post(`${options.basePath ?? DEFAULT_BASE_PATH}/mfa/totp/disable`, confirm);
}

/**
 * Replaces the recovery codes with ten new ones (the old ones stop working), while TOTP is on.
 *
 * @example
 * ```ts
 * const result = await regenerateRecoveryCodes({ password });
 * if (result.ok) showOnce(result.recoveryCodes);
 * ```
 */
export function regenerateRecoveryCodes(
  confirm: { password: string },
  options: { basePath?: string } = {},
): Promise<ApiResult<{ recoveryCodes: string[] }>> {
  return fetchData(`${options.basePath ?? DEFAULT_BASE_PATH}/mfa/recovery-codes`, confirm, "POST", recoveryCodesOf);
}

/**
 * The options for registering a new passkey for the signed-in user: pass them to the browser, then its
 * answer to {@link registerPasskey} within five minutes.
 *
 * @example
 * ```ts
 * import { startRegistration } from "@simplewebauthn/browser";
 * const result = await getPasskeyRegistrationOptions({ password });
 * if (result.ok) await registerPasskey({ response: await startRegistration({ optionsJSON: result.options }) });
 * ```
 */
export function getPasskeyRegistrationOptions(
  confirm: { password: string },
  options: { basePath?: string } = {},
): Promise<ApiResult<{ options: PublicKeyCredentialCreationOptionsJSON }>> {
  return fetchData(`${options.basePath ?? DEFAULT_BASE_PATH}/passkeys/register/options`, confirm, "POST", (data) => ({
    options: data as unknown as PublicKeyCredentialCreationOptionsJSON,
  }));
}

/**
 * Stores the passkey the browser created from {@link getPasskeyRegistrationOptions}' options, with an
 * optional name (default "Passkey").
 *
 * @example
 * ```ts
 * const result = await registerPasskey({ response, name: "Work laptop" });
 * if (result.ok) addToList(result.passkey);
 * ```
 */
export function registerPasskey(
  registration: { response: RegistrationResponseJSON; name?: string },
  options: { basePath?: string } = {},
): Promise<ApiResult<{ passkey: PasskeySummary }>> {
  return fetchData(`${options.basePath ?? DEFAULT_BASE_PATH}/passkeys/register`, registration, "POST", (data) => ({
    passkey: data.passkey as PasskeySummary,
  }));
}

/**
 * The signed-in user's passkeys, newest first.
 *
 * @example
 * ```ts
 * const result = await listPasskeys();
 * if (result.ok) setPasskeys(result.passkeys);
 * ```
 */
export function listPasskeys(options: { basePath?: string } = {}): Promise<ApiResult<{ passkeys: PasskeySummary[] }>> {
  return fetchData(`${options.basePath ?? DEFAULT_BASE_PATH}/passkeys`, null, "GET", (data) => ({
    passkeys: (data.passkeys ?? []) as PasskeySummary[],
  }));
}

/**
 * Renames one of the signed-in user's passkeys (1–100 characters).
 *
 * @example
 * ```ts
 * const result = await renamePasskey(passkey.id, { name: "Phone" });
 * ```
 */
export function renamePasskey(
  id: string,
  details: { name: string },
  options: { basePath?: string } = {},
): Promise<ApiResult<{ passkey: PasskeySummary }>> {
  return fetchData(
    `${options.basePath ?? DEFAULT_BASE_PATH}/passkeys/${encodeURIComponent(id)}`,
    details,
    "PATCH",
    (data) => ({ passkey: data.passkey as PasskeySummary }),
  );
}

/**
 * Removes one of the signed-in user's passkeys; it can no longer sign in.
 *
 * @example
 * ```ts
 * const result = await deletePasskey(passkey.id, { password });
 * ```
 */
export function deletePasskey(
  id: string,
  confirm: { password: string },
  options: { basePath?: string } = {},
): Promise<AuthResult> {
  return post(`${options.basePath ?? DEFAULT_BASE_PATH}/passkeys/${encodeURIComponent(id)}`, confirm, "DELETE");
}

/**
 * The options for signing in with a passkey, for any account: pass them to the browser (as a button's
 * ceremony, or to the email field's autofill), then its answer to {@link signInWithPasskey}.
 *
 * @example
 * ```ts
 * import { startAuthentication } from "@simplewebauthn/browser";
 * const result = await getPasskeyLoginOptions();
 * if (result.ok) {
 *   const response = await startAuthentication({ optionsJSON: result.options, useBrowserAutofill: true });
 *   await signInWithPasskey({ response });
 * }
 * ```
 */
export function getPasskeyLoginOptions(
  options: { basePath?: string } = {},
): Promise<ApiResult<{ options: PublicKeyCredentialRequestOptionsJSON }>> {
  return fetchData(`${options.basePath ?? DEFAULT_BASE_PATH}/passkeys/login/options`, {}, "POST", (data) => ({
    options: data as unknown as PublicKeyCredentialRequestOptionsJSON,
  }));
}

/**
 * Signs in with the browser's answer to {@link getPasskeyLoginOptions}' options. A passkey is both factors:
 * there is no second step. A 401 `invalid_passkey` when it is not one of ours.
 *
 * @example
 * ```ts
 * const result = await signInWithPasskey({ response });
 * if (result.ok) window.location.assign("/dashboard");
 * ```
 */
export function signInWithPasskey(
  assertion: { response: AuthenticationResponseJSON },
  options: { basePath?: string } = {},
): Promise<AuthResult> {
  return post(`${options.basePath ?? DEFAULT_BASE_PATH}/passkeys/login`, assertion);
}

/** A sign-in provider the server has enabled, from {@link getOAuthProviders}: its id and its button label. */
export interface OAuthProviderSummary {
  /** The provider's id in the auth API's paths, e.g. `oidc`, `google`, `github`. */
  id: string;
  /** What to call it, e.g. "Single sign-on" or "GitHub". */
  name: string;
}

/** An account at a provider connected to the signed-in user, from {@link listIdentities}. */
export interface IdentitySummary {
  /** The provider's id, as in {@link OAuthProviderSummary}. */
  provider: string;
  /** The email address the provider gave, if it gave one. */
  email: string | null;
  /** When it was connected, ISO 8601. */
  createdAt: string;
}

/**
 * The sign-in providers the server has enabled, in the order it was configured with. A page that renders on
 * the server can ask the Gatehouse instance instead (`gatehouse.oauthProviders()`), so its buttons are in
 * the first paint.
 *
 * @example
 * ```ts
 * const result = await getOAuthProviders();
 * if (result.ok) setProviders(result.providers); // [{ id: "github", name: "GitHub" }]
 * ```
 */
export function getOAuthProviders(
  options: { basePath?: string } = {},
): Promise<ApiResult<{ providers: OAuthProviderSummary[] }>> {
  return fetchData(`${options.basePath ?? DEFAULT_BASE_PATH}/providers`, null, "GET", (data) => ({
    providers: (data.providers ?? []) as OAuthProviderSummary[],
  }));
}

/**
 * Where a "Continue with …" link points: the auth API sends the browser on to the provider, and its callback
 * back to `next` (a path on this site, checked by the server; default `/dashboard`) signed in, or to
 * `/login?error=<code>`. A plain link, so it works without JavaScript; it sends no request itself.
 *
 * @example
 * ```tsx
 * <a className="button" href={oauthSignInUrl("github", { next: "/settings" })}>Continue with GitHub</a>
 * ```
 */
export function oauthSignInUrl(provider: string, options: { next?: string; basePath?: string } = {}): string {
  const path = `${options.basePath ?? DEFAULT_BASE_PATH}/oauth/${encodeURIComponent(provider)}`;
  return options.next === undefined ? path : `${path}?${new URLSearchParams({ next: options.next })}`;
}

/**
 * The accounts at providers connected to the signed-in user, oldest first, and whether the user has a
 * password (an account made by signing in with a provider has none until it sets one through a password
 * reset). Changes to connected accounts ask for the password when there is one.
 *
 * @example
 * ```ts
 * const result = await listIdentities();
 * if (result.ok) setConnected(result.identities.map((identity) => identity.provider));
 * ```
 */
export function listIdentities(
  options: { basePath?: string } = {},
): Promise<ApiResult<{ identities: IdentitySummary[]; hasPassword: boolean }>> {
  return fetchData(`${options.basePath ?? DEFAULT_BASE_PATH}/identities`, null, "GET", (data) => ({
    identities: (data.identities ?? []) as IdentitySummary[],
    hasPassword: data.hasPassword === true,
  }));
}

/**
 * Starts connecting an account at `provider` to the signed-in user: answers the provider's URL, to navigate
 * to; its callback comes back to `/settings?linked=<provider>`, or `/settings?error=<code>` (e.g.
 * `identity_in_use` when that account belongs to someone else). A user with a password confirms with it
 * (403 `reauthentication_required` without it); one without needs to have signed in within ten minutes.
 * A 409 `provider_already_linked` when the user has an account of this provider connected already.
 *
 * @example
 * ```ts
 * const result = await linkProvider("github", { password });
 * if (result.ok) window.location.assign(result.url);
 * else setError(errorMessage(result.error.code));
 * ```
 */
export function linkProvider(
  provider: string,
  confirm: { password?: string } = {},
  options: { basePath?: string } = {},
): Promise<ApiResult<{ url: string }>> {
  return fetchData(
    `${options.basePath ?? DEFAULT_BASE_PATH}/oauth/${encodeURIComponent(provider)}/link`,
    confirm,
    "POST",
    (data) => ({ url: data.url as string }),
  );
}

/**
 * Disconnects the signed-in user's account at `provider`: it can no longer sign in. Confirmed like
 * {@link linkProvider}. Refused with a 409 `last_sign_in_method` when it is the user's only way to sign in
 * (no password, no passkey, no other provider); a 404 `not_found` when it is not connected.
 *
 * @example
 * ```ts
 * const result = await unlinkIdentity("github", { password });
 * if (!result.ok && result.error.code === "last_sign_in_method") suggestSettingAPassword();
 * ```
 */
export function unlinkIdentity(
  provider: string,
  confirm: { password?: string } = {},
  options: { basePath?: string } = {},
): Promise<AuthResult> {
  return post(`${options.basePath ?? DEFAULT_BASE_PATH}/identities/${encodeURIComponent(provider)}`, confirm, "DELETE");
}

/**
 * Gatehouse core: framework-agnostic authentication, sessions and authorization.
 *
 * @packageDocumentation
 */

export { DEFAULT_ROLES, type RolePermissions } from "./authz/roles.js";
export type { NewAccount } from "./core/accounts.js";
export {
  ADMIN_ROLE,
  type AdminApi,
  type AdminAuditInput,
  type AdminEvent,
  type AdminMailList,
  type AdminPage,
  type AdminSearchInput,
  type AdminUser,
  type AdminUserDetail,
  type AdminUserUpdate,
  type Impersonation,
  type ImpersonationEnd,
} from "./core/admin.js";
export type { CredentialOptions } from "./core/config.js";
export type { LoggedIn, VerificationPending } from "./core/credentials.js";
export type { Auth, UserDTO } from "./core/dto.js";
export { createGatehouse, type Gatehouse, type GatehouseOptions } from "./core/gatehouse.js";
export type {
  ChangePasswordInput,
  DeleteAccountInput,
  EmailChangeInput,
  LogInInput,
  PasswordResetInput,
  PasswordResetRequestInput,
  ProfileInput,
  SignUpInput,
  VerifyEmailInput,
} from "./core/input.js";
export type {
  MfaStatus,
  SecondFactorInput,
  SecondFactorLoggedIn,
  TotpCodeInput,
  TotpConfirmed,
  TotpSetup,
} from "./core/mfa.js";
export type {
  IdentityDTO,
  OAuthApi,
  OAuthFailureCode,
  OAuthOutcome,
  OAuthStart,
  ProviderSummary,
  ProviderTokens,
} from "./core/oauth.js";
export {
  discord,
  github,
  gitlab,
  google,
  microsoft,
  type OAuth2Options,
  type OAuth2ProviderConfig,
  type OAuthOptions,
  type OAuthProfile,
  type OAuthProvider,
  type OidcOptions,
  type OidcProviderConfig,
  oauth2,
  oidc,
  type ProfileRequest,
  type ProviderOptions,
  providersFromEnv,
  standardClaims,
} from "./core/oauth-providers.js";
export type {
  AuthenticationResponseJSON,
  PasskeyDTO,
  PasskeyLogInInput,
  PasskeyOptions,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegisterPasskeyInput,
  RegistrationResponseJSON,
} from "./core/passkeys.js";
export type { FreshAuthInput } from "./core/password-check.js";
export type { RateLimitOptions, RateLimitRule } from "./core/rate-limit.js";
export type { SignedIn } from "./core/sessions.js";
export * from "./errors.js";
export { profileInput } from "./http/inputs.js";
export { safeRedirectPath } from "./http/redirect.js";
export type { Mailer, MailMessage } from "./mail/mailer.js";
export { type Argon2Params, createArgon2idHasher, OWASP_ARGON2ID, type PasswordHasher } from "./password/hasher.js";
export type { PasswordPolicy } from "./password/policy.js";
export {
  MAX_COOKIE_AGE_SECONDS,
  MIN_SECRET_LENGTH,
  type SessionCookieOptions,
  type SessionStrategyName,
} from "./session/config.js";
export { IMPERSONATION_MAX_AGE_MS, type SessionSummary } from "./session/manager.js";
export { createOptimisticCheck, type OptimisticSession } from "./session/optimistic.js";
export type { Authentication } from "./session/sessions.js";
export type { RequestMeta, SessionInfo, SessionMeta } from "./session/types.js";
export type { IdentityRecord, RemovedFactors, StoreOptions } from "./stores/types.js";

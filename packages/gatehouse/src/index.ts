/**
 * Gatehouse core: framework-agnostic authentication, sessions and authorization.
 *
 * @packageDocumentation
 */

export { DEFAULT_ROLES, type RolePermissions, roleHasPermission } from "./authz/roles.js";
export {
  type CredentialOptions,
  type EmailConfig,
  MAX_COOKIE_AGE_SECONDS,
  MIN_SECRET_LENGTH,
  resolveSessionConfig,
  type SessionCookieConfig,
  type SessionCookieOptions,
  type SessionStrategyName,
} from "./core/config.js";
export { toUserDTO, type UserDTO } from "./core/dto.js";
export { isValidEmail, normalizeEmail } from "./core/email.js";
export {
  createGatehouse,
  type Gatehouse,
  type GatehouseOptions,
  type SignedIn,
  type VerificationPending,
} from "./core/gatehouse.js";
export { randomToken } from "./crypto/random.js";
export { createSealer, type Sealer } from "./crypto/seal.js";
export * from "./errors.js";
export {
  type AuthPages,
  type AuthRequest,
  type AuthRoutesOptions,
  createAuthRoutes,
  MAX_BODY_BYTES,
} from "./http/auth-routes.js";
export { safeRedirectPath } from "./http/redirect.js";
export type { ErrorBody, HttpResponse } from "./http/response.js";
export type { Mailer, MailMessage } from "./mail/mailer.js";
export { type Argon2Params, createArgon2idHasher, OWASP_ARGON2ID, type PasswordHasher } from "./password/hasher.js";
export { DEFAULT_PASSWORD_POLICY, type PasswordPolicy } from "./password/policy.js";
export { createOptimisticCheck, type OptimisticSession } from "./session/optimistic.js";
export type { SessionInfo, SessionMeta, ValidSession } from "./session/types.js";
export type {
  NewUser,
  OutboxMessage,
  SessionRecord,
  Store,
  TokenPurpose,
  TokenRecord,
  UserRecord,
  UserUpdate,
} from "./store/types.js";

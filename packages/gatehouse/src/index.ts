/**
 * Gatehouse core: framework-agnostic authentication, sessions and authorization.
 *
 * @packageDocumentation
 */
export {
  createGatehouse,
  type Gatehouse,
  type GatehouseOptions,
  type SignedIn,
  type VerificationPending,
} from "./core/gatehouse.js";
export {
  MAX_COOKIE_AGE_SECONDS,
  MIN_SECRET_LENGTH,
  resolveSessionConfig,
  type CredentialOptions,
  type EmailConfig,
  type SessionCookieConfig,
  type SessionCookieOptions,
  type SessionStrategyName,
} from "./core/config.js";
export { toUserDTO, type UserDTO } from "./core/dto.js";
export { isValidEmail, normalizeEmail } from "./core/email.js";
export { DEFAULT_ROLES, roleHasPermission, type RolePermissions } from "./authz/roles.js";
export { createArgon2idHasher, OWASP_ARGON2ID, type Argon2Params, type PasswordHasher } from "./password/hasher.js";
export { DEFAULT_PASSWORD_POLICY, type PasswordPolicy } from "./password/policy.js";
export { createSealer, type Sealer } from "./crypto/seal.js";
export { randomToken } from "./crypto/random.js";
export { safeRedirectPath } from "./http/redirect.js";
export {
  createAuthRoutes,
  MAX_BODY_BYTES,
  type AuthRequest,
  type AuthRoutesOptions,
  type AuthPages,
} from "./http/auth-routes.js";
export type { HttpResponse, ErrorBody } from "./http/response.js";
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
export type { Mailer, MailMessage } from "./mail/mailer.js";
export * from "./errors.js";

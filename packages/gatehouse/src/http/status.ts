import type { GatehouseErrorCode } from "../errors.js";

/**
 * The HTTP status of each error code: decided here, at the HTTP edge, not by the errors themselves. Part of
 * the public HTTP contract. `configuration` never reaches a client: it is answered as `internal_error`.
 */
export const HTTP_STATUS: Readonly<Record<GatehouseErrorCode, number>> = Object.freeze({
  invalid_input: 400,
  invalid_json: 400,
  invalid_token: 400,
  token_expired: 400,
  challenge_expired: 400,
  invalid_credentials: 401,
  invalid_code: 401,
  invalid_passkey: 401,
  mfa_pending_expired: 401,
  unauthenticated: 401,
  forbidden: 403,
  csrf: 403,
  reauthentication_required: 403,
  email_unverified: 403,
  mfa_required: 403,
  not_found: 404,
  method_not_allowed: 405,
  email_taken: 409,
  already_verified: 409,
  mfa_already_enabled: 409,
  mfa_not_enabled: 409,
  mfa_setup_required: 409,
  no_passkeys: 409,
  account_exists: 409,
  identity_in_use: 409,
  provider_already_linked: 409,
  last_sign_in_method: 409,
  oauth_denied: 403,
  oauth_failed: 502,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  configuration: 500,
  internal_error: 500,
  unavailable: 503,
  mail_unavailable: 503,
});

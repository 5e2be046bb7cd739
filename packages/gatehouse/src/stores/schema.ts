import type { Generated } from "kysely";

/** Table shapes shared by every SQL store. Times are integer milliseconds since the epoch. */
export interface Database {
  gatehouse_users: {
    id: string;
    email: string;
    name: string | null;
    role: string;
    password_hash: string;
    session_version: Generated<number>;
    revocation_epoch: Generated<number>;
    email_verified_at: number | null;
    /** 1 while an authenticator app (TOTP) is on: a log-in then needs its second step. */
    totp_enabled: Generated<number>;
    /** When an administrator banned the user; `null` when not banned. */
    banned_at: number | null;
    ban_reason: string | null;
    created_at: number;
    updated_at: number;
  };
  gatehouse_sessions: {
    id: string;
    user_id: string;
    secret_hash: string;
    user_version: number;
    revocation_epoch: number;
    created_at: number;
    expires_at: number;
    last_seen_at: number;
    user_agent: string | null;
    ip: string | null;
    /** The administrator viewing the app as the user (impersonation); `null` for the user's own session. */
    impersonated_by: string | null;
    /** The administrator's revocation epoch when the impersonation began; `null` for the user's own session. */
    impersonator_epoch: number | null;
  };
  gatehouse_tokens: {
    token_hash: string;
    purpose: string;
    user_id: string;
    email: string;
    revocation_epoch: Generated<number>;
    created_at: number;
    expires_at: number;
  };
  gatehouse_rate_limits: {
    key: string;
    count: number;
    pending: Generated<number>;
    reset_at: number;
  };
  gatehouse_totp: {
    user_id: string;
    secret: string;
    confirmed_at: number | null;
    last_used_step: number | null;
    created_at: number;
  };
  gatehouse_recovery_codes: {
    code_hash: string;
    user_id: string;
    created_at: number;
  };
  gatehouse_passkeys: {
    id: string;
    user_id: string;
    credential_id: string;
    credential_key: string;
    public_key: string;
    counter: number;
    transports: string;
    device_type: string;
    backed_up: number;
    name: string;
    created_at: number;
    last_used_at: number | null;
  };
  gatehouse_challenges: {
    id_hash: string;
    purpose: string;
    user_id: string | null;
    challenge: string;
    revocation_epoch: number;
    created_at: number;
    expires_at: number;
  };
  gatehouse_audit: {
    id: string;
    at: number;
    type: string;
    outcome: string;
    user_id: string | null;
    user_email: string | null;
    actor_type: string;
    actor_id: string | null;
    ip: string | null;
    user_agent: string | null;
    /** A JSON object. */
    detail: string;
  };
  gatehouse_mail: {
    id: string;
    recipient: string;
    subject: string;
    /** `""` once sent, unless the development mailer kept it. */
    sealed_body: string;
    /** `pending`, `sent` or `failed`. */
    status: string;
    attempts: number;
    next_attempt_at: number;
    /** While a sender holds the message (claimed, not settled): until when. */
    lease_until: number | null;
    last_error: string | null;
    created_at: number;
    sent_at: number | null;
  };
  gatehouse_identities: {
    identity_key: string;
    provider: string;
    subject: string;
    user_id: string;
    email: string | null;
    email_verified: number;
    tokens: string | null;
    created_at: number;
  };
}

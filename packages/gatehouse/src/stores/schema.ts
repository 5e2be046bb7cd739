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
  gatehouse_outbox: {
    id: string;
    recipient: string;
    subject: string;
    text_body: string;
    html_body: string;
    created_at: number;
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

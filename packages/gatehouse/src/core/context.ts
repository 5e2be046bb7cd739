import { createSealer } from "../crypto/seal.js";
import type { Mailer } from "../mail/mailer.js";
import { createArgon2idHasher, type PasswordHasher } from "../password/hasher.js";
import { resolveSessionConfig, type SessionCookieConfig, type SessionCookieOptions } from "../session/config.js";
import { createDeviceCookie, DEVICE_SEAL_PURPOSE, type DeviceCookie } from "../session/device-cookie.js";
import { createSessions, type Sessions } from "../session/sessions.js";
import type { StoreOptions, UserRecord } from "../stores/types.js";
import { type Audit, type AuditOptions, createAudit } from "./audit.js";
import { type CredentialConfig, type CredentialOptions, resolveCredentialConfig } from "./config.js";
import { toUserDTO, type UserDTO } from "./dto.js";
import { createRateLimiter, type RateLimiter } from "./limiter.js";
import { createMailQueue, type MailQueue, type MailQueueOptions } from "./mail-queue.js";
import type { OAuthOptions } from "./oauth-providers.js";
import { type Roles, resolveRoles } from "./stores.js";

/** Options for `createGatehouse`. */
export interface GatehouseOptions
  extends StoreOptions,
    SessionCookieOptions,
    CredentialOptions,
    OAuthOptions,
    AuditOptions,
    MailQueueOptions {}

/** What the core's modules share: resolved configuration and the parts built from it, once. Internal. */
export interface CoreContext {
  roles: Roles;
  sessionConfig: SessionCookieConfig;
  config: CredentialConfig;
  sessions: Sessions<UserRecord, UserDTO>;
  deviceCookie: DeviceCookie;
  hasher: PasswordHasher;
  limiter: RateLimiter;
  mailer: Mailer | null;
  /** The audit log: events to write with each change, and the sink they go to once committed. */
  audit: Audit;
  /** The durable outbox every email goes through, and its sender. */
  mail: MailQueue;
  now: () => number;
}

/** Resolves the options and builds what every module uses. Keys are derived here, once. */
export function createContext(options: GatehouseOptions): CoreContext {
  const roles = resolveRoles(options);
  const sessionConfig = resolveSessionConfig(options);
  const config = resolveCredentialConfig(options);
  const now = sessionConfig.now;
  const audit = createAudit(options.store, options, now);
  return {
    roles,
    sessionConfig,
    config,
    sessions: createSessions(sessionConfig, { sessions: roles.sessions, users: roles.users }, toUserDTO),
    deviceCookie: createDeviceCookie(sessionConfig, createSealer(sessionConfig.secrets, DEVICE_SEAL_PURPOSE)),
    hasher: createArgon2idHasher(config.argon2),
    // The background sweep also drops the audit events past their retention.
    limiter: createRateLimiter(roles.rateLimits, now, (time) =>
      roles.lifecycle.sweepExpired(time, { eventsBefore: time - audit.retentionDays * 86_400_000 }),
    ),
    mailer: config.email.mailer,
    audit,
    mail: createMailQueue({
      store: roles.mail,
      mainStore: options.store,
      secrets: sessionConfig.secrets,
      mailer: config.email.mailer,
      now,
      options,
    }),
    now,
  };
}

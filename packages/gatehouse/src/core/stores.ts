import { ConfigurationError } from "../errors.js";
import type { SessionStore } from "../session/store.js";
import type {
  AuditStore,
  Effects,
  FactorStore,
  IdentityStore,
  KeepAdmin,
  MailStore,
  RateLimitStore,
  Reclaim,
  StoreLifecycle,
  StoreOptions,
  TokenStore,
  UserRecord,
  UserStore,
  UserUpdate,
  WriteBatch,
} from "../stores/types.js";

/** One store per role, resolved from {@link StoreOptions}. Internal: the core's modules take what they need. */
export interface Roles {
  users: UserStore;
  sessions: SessionStore<UserRecord>;
  tokens: TokenStore;
  rateLimits: RateLimitStore;
  /** The audit log: always with the users, so an event commits with the change it describes. */
  audit: AuditStore;
  /** The durable outbox: always with the users and tokens, so a token's mail commits with the token. */
  mail: MailStore;
  /** Second factors, passkeys and ceremony challenges: always with the users. */
  factors: FactorStore;
  /** Accounts at OAuth and OpenID providers: always with the users. */
  identities: IdentityStore;
  /** The store that owns the schema: it sweeps what has ended. */
  lifecycle: StoreLifecycle;
  /** Whether sessions live in a store of their own, which the user store's transactions do not reach. */
  sessionsApart: boolean;
  /** Gathers counter and session writes into one transaction, when one store keeps both; else `null`. */
  writeBatch: (() => Promise<WriteBatch>) | null;
}

/** The role of each store: `store` for every role no other store was given. */
export function resolveRoles(options: StoreOptions): Roles {
  const { store } = options;
  if (!store) throw new ConfigurationError("createGatehouse needs a store, e.g. createSqliteStore({ url }).");
  return {
    users: store,
    sessions: options.sessionStore ?? store,
    tokens: store,
    rateLimits: options.rateLimitStore ?? store,
    audit: store,
    mail: store,
    factors: store,
    identities: store,
    lifecycle: store,
    sessionsApart: options.sessionStore !== undefined && (options.sessionStore as object) !== store,
    writeBatch:
      (options.sessionStore ?? store) === store && (options.rateLimitStore ?? store) === store
        ? () => store.writeBatch()
        : null,
  };
}

/**
 * Ends the user's sessions (see {@link UserStore.endSessions}). Where sessions live apart from users, the
 * user's new epoch is committed first: from then on their old records are refused, so a failure deleting them
 * leaves them dead (and the kept one with them), never alive.
 */
export async function endSessions(
  roles: Roles,
  userId: string,
  options: {
    keep?: string;
    update?: UserUpdate;
    ifEpoch?: number;
    reclaim?: Reclaim;
    keepAdmin?: KeepAdmin;
    effects?: Effects;
  } = {},
): Promise<{ ended: number; epoch: number } | null> {
  if (!roles.sessionsApart) return roles.users.endSessions(userId, options);
  const { keep, ...rest } = options;
  // The epoch, the update and the effects commit together in the user store; the sessions apart follow.
  const moved = await roles.users.endSessions(userId, rest);
  const { ifEpoch } = options;
  // Refused for its epoch: nothing changes. Without the user (deleted meanwhile) their sessions go all the same.
  if (!moved && ifEpoch !== undefined) return null;
  const ended = await roles.sessions.deleteUserSessions(
    userId,
    moved && keep !== undefined ? { keep, epoch: moved.epoch } : {},
  );
  return moved && { ended, epoch: moved.epoch };
}

/** Deletes the user, their tokens and every session, wherever sessions live. */
export async function deleteUser(
  roles: Roles,
  userId: string,
  options: { keepAdmin?: KeepAdmin; effects?: Effects } = {},
): Promise<boolean> {
  const deleted = await roles.users.deleteUser(userId, options);
  if (roles.sessionsApart) await roles.sessions.deleteUserSessions(userId);
  return deleted;
}

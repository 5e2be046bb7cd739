import { type AccountApi, createAccountApi } from "./account.js";
import { createAccounts } from "./accounts.js";
import { type AdminApi, createAdminApi } from "./admin.js";
import { createContext, type GatehouseOptions } from "./context.js";
import { type CredentialsApi, createCredentialsApi } from "./credentials.js";
import { createEmailApi, type EmailApi } from "./email-flows.js";
import { createSecondFactors, type SecondFactorApi } from "./mfa.js";
import { createNotices } from "./notices.js";
import { createOAuth, type OAuthApi } from "./oauth.js";
import { createPasskeys, type PasskeysApi } from "./passkeys.js";
import { createPasswordCheck } from "./password-check.js";
import { createSessionsApi, type SessionsApi } from "./sessions.js";

/**
 * The framework-agnostic core: one module per concern, each its own interface. A new capability is a new
 * module, added here and to `createGatehouse` in one line each. The `gatehouse-auth/next` helpers are thin
 * wrappers around it.
 */
export interface Gatehouse
  extends SessionsApi,
    CredentialsApi,
    AccountApi,
    EmailApi,
    SecondFactorApi,
    PasskeysApi,
    OAuthApi {
  /** The app's origins (`url` and `trustedOrigins`): state-changing requests must come from one of them. */
  readonly origins: ReadonlySet<string>;
  /** How many reverse proxies in front of the app append to `X-Forwarded-For` (`trustedProxies`). */
  readonly trustedProxies: number;
  /**
   * The admin console: users, bans, roles, impersonation, the audit log and the outbox, for users of role
   * `admin`. Every call checks the role itself, and every write needs the administrator's password.
   *
   * @example
   * ```ts
   * const { items } = await gatehouse.admin.searchUsers(auth, { query: "ada" });
   * ```
   */
  readonly admin: AdminApi;
}

/**
 * Creates a Gatehouse instance. Keys are derived and checked here, once; nothing on the per-request path
 * derives or imports keys.
 *
 * @example
 * ```ts
 * import { createGatehouse } from "gatehouse-auth";
 * import { createSqliteStore } from "gatehouse-auth/stores/sqlite";
 *
 * export const gatehouse = createGatehouse({
 *   store: createSqliteStore({ url: process.env.DATABASE_URL ?? "file:data/gatehouse.db" }),
 *   secret: process.env.GATEHOUSE_SECRET!,
 *   strategy: "database",
 * });
 * ```
 */
export function createGatehouse(options: GatehouseOptions): Gatehouse {
  const ctx = createContext(options);
  const check = createPasswordCheck(ctx);
  const accounts = createAccounts(ctx.roles, ctx.config, ctx.hasher, ctx.audit);
  const email = createEmailApi(ctx, check);
  const notices = createNotices(ctx);
  const passkeys = createPasskeys(ctx, check, notices);
  const secondFactors = createSecondFactors(ctx, check, passkeys.secondStep, notices);
  return {
    origins: ctx.config.origins,
    trustedProxies: ctx.config.trustedProxies,
    ...createSessionsApi(ctx),
    ...createCredentialsApi(ctx, check, accounts, email.events, secondFactors.gate),
    ...createAccountApi(ctx, check, accounts),
    ...email.api,
    ...secondFactors.api,
    ...passkeys.api,
    ...createOAuth(ctx, options, check, secondFactors.gate, email.events, notices),
    admin: createAdminApi(ctx, check, {
      store: options.store,
      mail: ctx.mail.api,
      sendResetMail: email.sendPasswordReset,
    }),
  };
}

export type { GatehouseOptions } from "./context.js";

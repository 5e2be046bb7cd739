import { createGatehouse, type Gatehouse, providersFromEnv, type SessionStrategyName } from "gatehouse-auth";
import { createOutboxMailer, createSmtpMailer, type Mailer } from "gatehouse-auth/mail";
import { createStoreFromUrl, type StoresFromUrl } from "gatehouse-auth/stores";
import { readEnv } from "./env";

declare global {
  // One instance per server process, also across Next's dev-mode module reloads.
  var gatehouseInstance: Gatehouse | undefined;
  var gatehouseStores: StoresFromUrl | undefined;
}

/** The app's stores (users, and sessions and counters in Redis when REDIS_URL is set), opened on first use. */
export function getStores(): StoresFromUrl {
  if (globalThis.gatehouseStores) return globalThis.gatehouseStores;
  const env = readEnv();
  globalThis.gatehouseStores = createStoreFromUrl({
    databaseUrl: env.databaseUrl,
    redisUrl: env.redisUrl,
    redisKeyPrefix: env.redisKeyPrefix,
  });
  return globalThis.gatehouseStores;
}

/**
 * The app's Gatehouse instance, created on first use (not at import, so `next build` needs no secret or
 * database). Migrations run before the first query.
 */
export function getGatehouse(): Gatehouse {
  if (globalThis.gatehouseInstance) return globalThis.gatehouseInstance;
  const env = readEnv();
  const stores = getStores();
  const { limits } = env;
  let mailer: Mailer | undefined;
  if (env.smtpUrl) mailer = createSmtpMailer({ url: env.smtpUrl, from: env.mailFrom });
  else if (env.devOutbox) mailer = createOutboxMailer(stores.store);
  else console.warn("gatehouse example: SMTP_URL is not set, so no email can be sent (password reset answers 503).");
  const gatehouse = createGatehouse({
    ...stores,
    secret: env.secret ?? "",
    strategy: env.strategy as SessionStrategyName,
    url: env.url,
    trustedOrigins: env.trustedOrigins,
    trustedProxies: env.trustedProxies,
    rateLimits: {
      ...(limits.loginPerIp && { loginPerIp: { max: limits.loginPerIp, windowSeconds: 15 * 60 } }),
      ...(limits.loginPerAccount && { loginPerAccount: { max: limits.loginPerAccount, windowSeconds: 15 * 60 } }),
      ...(limits.loginPerAccountAndIp && {
        loginPerAccountAndIp: { max: limits.loginPerAccountAndIp, windowSeconds: 15 * 60 },
      }),
      ...(limits.signupPerIp && { signupPerIp: { max: limits.signupPerIp, windowSeconds: 60 * 60 } }),
      ...(limits.passwordResetPerIp && {
        passwordResetPerIp: { max: limits.passwordResetPerIp, windowSeconds: 60 * 60 },
      }),
    },
    ...(mailer && { mailer }),
    requireEmailVerification: env.requireEmailVerification,
    emailVerification: {
      method: env.emailVerificationMethod === "code" ? "code" : "link",
      ...(env.emailVerificationLifetime && { lifetimeSeconds: env.emailVerificationLifetime }),
    },
    ...(env.passwordResetLifetime && { passwordResetLifetimeSeconds: env.passwordResetLifetime }),
    // "Continue with …" for each provider whose variables are set (see lib/env.ts).
    providers: providersFromEnv(),
    appName: "Gatehouse example",
  });
  globalThis.gatehouseInstance = gatehouse;
  return gatehouse;
}

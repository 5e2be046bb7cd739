import path from "node:path";

/**
 * The example app's configuration, read from the environment once.
 *
 * - `PORT` (default 3000) and `GATEHOUSE_URL` (default `http://localhost:$PORT`): the public origin.
 * - `DATABASE_URL` (default `file:<app>/data/gatehouse.db`): `file:`, `postgres://` or `mysql://`.
 * - `REDIS_URL` (optional): keep sessions in Redis; `REDIS_KEY_PREFIX` (default `gatehouse:`) prefixes its keys.
 * - `GATEHOUSE_SECRET`: required in production; `npm start` creates one in `data/` when it is missing.
 * - `GATEHOUSE_SESSION_STRATEGY`: `database` (default) or `stateless`.
 * - `GATEHOUSE_TRUSTED_ORIGINS`: more origins allowed to send writes, comma-separated.
 * - `GATEHOUSE_TRUSTED_PROXIES`: how many reverse proxies append to `X-Forwarded-For` (default 0: ignore it).
 * - Brute-force limits: `GATEHOUSE_LOGIN_LIMIT_PER_ACCOUNT_AND_IP` (10), `GATEHOUSE_LOGIN_LIMIT_PER_ACCOUNT`
 *   (100, from any IP), `GATEHOUSE_LOGIN_LIMIT_PER_IP` (100), all per 15 minutes; `GATEHOUSE_SIGNUP_LIMIT_PER_IP`
 *   (20 per hour).
 */
export interface AppEnv {
  url: string;
  databaseUrl: string;
  redisUrl: string | undefined;
  redisKeyPrefix: string | undefined;
  secret: string | undefined;
  strategy: string;
  trustedOrigins: string[];
  trustedProxies: number;
  limits: { loginPerIp?: number; loginPerAccount?: number; loginPerAccountAndIp?: number; signupPerIp?: number };
}

function optionalNumber(name: string): number | undefined {
  const value = process.env[name];
  return value ? Number(value) : undefined;
}

export function readEnv(): AppEnv {
  const port = process.env.PORT || "3000";
  return {
    url: process.env.GATEHOUSE_URL || `http://localhost:${port}`,
    databaseUrl: process.env.DATABASE_URL || `file:${path.join(process.cwd(), "data", "gatehouse.db")}`,
    redisUrl: process.env.REDIS_URL || undefined,
    redisKeyPrefix: process.env.REDIS_KEY_PREFIX || undefined,
    secret: process.env.GATEHOUSE_SECRET,
    strategy: process.env.GATEHOUSE_SESSION_STRATEGY || "database",
    trustedOrigins: (process.env.GATEHOUSE_TRUSTED_ORIGINS ?? "").split(",").map((o) => o.trim()).filter(Boolean),
    trustedProxies: optionalNumber("GATEHOUSE_TRUSTED_PROXIES") ?? 0,
    limits: {
      loginPerIp: optionalNumber("GATEHOUSE_LOGIN_LIMIT_PER_IP"),
      loginPerAccount: optionalNumber("GATEHOUSE_LOGIN_LIMIT_PER_ACCOUNT"),
      loginPerAccountAndIp: optionalNumber("GATEHOUSE_LOGIN_LIMIT_PER_ACCOUNT_AND_IP"),
      signupPerIp: optionalNumber("GATEHOUSE_SIGNUP_LIMIT_PER_IP"),
    },
  };
}

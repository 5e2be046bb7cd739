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
 *   (20 per hour); `GATEHOUSE_PASSWORD_RESET_LIMIT_PER_IP` (20 per hour).
 * - Mail: `SMTP_URL` (`smtp://user:pass@host:587` or `smtps://…`) and `MAIL_FROM` (default
 *   `Gatehouse <no-reply@localhost>`). Without `SMTP_URL`, mail goes to the dev outbox (`/dev/outbox`), but only
 *   in development (`NODE_ENV` other than `production`, or `GATEHOUSE_DEV_OUTBOX=1`, which `npm start` sets),
 *   only while `GATEHOUSE_URL` is a loopback address, and only to requests from this machine whose `Host` is
 *   `GATEHOUSE_URL`'s. The App Router app, which cannot see a request's socket, also needs
 *   `GATEHOUSE_LOOPBACK_ONLY=1`: the promise that the server listens on loopback only, which `npm start` keeps
 *   (`-H 127.0.0.1`) and sets.
 * - `GATEHOUSE_REQUIRE_EMAIL_VERIFICATION=1`: unverified users cannot log in. `GATEHOUSE_EMAIL_VERIFICATION`:
 *   `link` (default) or `code`. `GATEHOUSE_EMAIL_VERIFICATION_LIFETIME` (86400) and
 *   `GATEHOUSE_PASSWORD_RESET_LIFETIME` (3600), in seconds.
 * - Sign-in providers ("Continue with …" on the log-in and sign-up pages), each enabled when its variables are
 *   set (read by `providersFromEnv()` from `gatehouse-auth`). Register the app at the provider with the
 *   callback URL `$GATEHOUSE_URL/api/auth/oauth/<id>/callback`:
 *   - any OpenID Connect provider (id `oidc`): `GATEHOUSE_OIDC_ISSUER` (its issuer URL, e.g.
 *     `https://sso.example.com/realms/main`), `GATEHOUSE_OIDC_CLIENT_ID`, `GATEHOUSE_OIDC_CLIENT_SECRET`, and
 *     `GATEHOUSE_OIDC_NAME`, the button's label (default "Single sign-on");
 *   - Google (`google`): `GOOGLE_CLIENT_ID`, `GOOGLE_CLIENT_SECRET`;
 *   - Microsoft Entra ID (`microsoft`): `MICROSOFT_CLIENT_ID`, `MICROSOFT_CLIENT_SECRET`, `MICROSOFT_TENANT_ID`;
 *   - GitLab (`gitlab`): `GITLAB_CLIENT_ID`, `GITLAB_CLIENT_SECRET`, and `GITLAB_URL` for a self-managed one
 *     (default `https://gitlab.com`);
 *   - GitHub (`github`): `GITHUB_CLIENT_ID`, `GITHUB_CLIENT_SECRET`, and `GITHUB_ENTERPRISE_URL` for GitHub
 *     Enterprise Server;
 *   - Discord (`discord`): `DISCORD_CLIENT_ID`, `DISCORD_CLIENT_SECRET`.
 *   An `http:` issuer or endpoint is accepted only on this machine (127.0.0.1, localhost), for development.
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
  limits: {
    loginPerIp?: number;
    loginPerAccount?: number;
    loginPerAccountAndIp?: number;
    signupPerIp?: number;
    passwordResetPerIp?: number;
  };
  smtpUrl: string | undefined;
  mailFrom: string;
  /** Whether mail goes to the dev outbox (and `/dev/outbox` exists). */
  devOutbox: boolean;
  /** `GATEHOUSE_LOOPBACK_ONLY=1`: the server listens on a loopback address only, so nobody else can reach it. */
  loopbackOnly: boolean;
  requireEmailVerification: boolean;
  emailVerificationMethod: string;
  emailVerificationLifetime: number | undefined;
  passwordResetLifetime: number | undefined;
}

/** Whether `url` points at this machine: the dev outbox must never be reachable from anywhere else. */
function isLoopback(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const { hostname } = new URL(url);
  return hostname === "localhost" || hostname === "[::1]" || /^127(\.\d{1,3}){3}$/.test(hostname);
}

function optionalNumber(name: string): number | undefined {
  const value = process.env[name];
  return value ? Number(value) : undefined;
}

export function readEnv(): AppEnv {
  const port = process.env.PORT || "3000";
  const url = process.env.GATEHOUSE_URL || `http://localhost:${port}`;
  const smtpUrl = process.env.SMTP_URL || undefined;
  const development = process.env.NODE_ENV !== "production" || process.env.GATEHOUSE_DEV_OUTBOX === "1";
  return {
    url,
    databaseUrl: process.env.DATABASE_URL || `file:${path.join(process.cwd(), "data", "gatehouse.db")}`,
    redisUrl: process.env.REDIS_URL || undefined,
    redisKeyPrefix: process.env.REDIS_KEY_PREFIX || undefined,
    secret: process.env.GATEHOUSE_SECRET,
    strategy: process.env.GATEHOUSE_SESSION_STRATEGY || "database",
    trustedOrigins: (process.env.GATEHOUSE_TRUSTED_ORIGINS ?? "")
      .split(",")
      .map((o) => o.trim())
      .filter(Boolean),
    trustedProxies: optionalNumber("GATEHOUSE_TRUSTED_PROXIES") ?? 0,
    limits: {
      loginPerIp: optionalNumber("GATEHOUSE_LOGIN_LIMIT_PER_IP"),
      loginPerAccount: optionalNumber("GATEHOUSE_LOGIN_LIMIT_PER_ACCOUNT"),
      loginPerAccountAndIp: optionalNumber("GATEHOUSE_LOGIN_LIMIT_PER_ACCOUNT_AND_IP"),
      signupPerIp: optionalNumber("GATEHOUSE_SIGNUP_LIMIT_PER_IP"),
      passwordResetPerIp: optionalNumber("GATEHOUSE_PASSWORD_RESET_LIMIT_PER_IP"),
    },
    smtpUrl,
    mailFrom: process.env.MAIL_FROM || "Gatehouse <no-reply@localhost>",
    devOutbox: !smtpUrl && development && isLoopback(url),
    loopbackOnly: process.env.GATEHOUSE_LOOPBACK_ONLY === "1",
    requireEmailVerification: process.env.GATEHOUSE_REQUIRE_EMAIL_VERIFICATION === "1",
    emailVerificationMethod: process.env.GATEHOUSE_EMAIL_VERIFICATION || "link",
    emailVerificationLifetime: optionalNumber("GATEHOUSE_EMAIL_VERIFICATION_LIFETIME"),
    passwordResetLifetime: optionalNumber("GATEHOUSE_PASSWORD_RESET_LIFETIME"),
  };
}

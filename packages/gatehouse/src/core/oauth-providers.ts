import { ConfigurationError } from "../errors.js";

/** Who signed in at the provider, as a provider's profile mapper reports it. */
export interface OAuthProfile {
  /** The provider's stable id for the account (`sub`; GitHub's numeric id). Never the email: that can change. */
  subject: string;
  /** `null` when the provider gave none. */
  email: string | null;
  /** Only `true` when the provider says it verified `email`. */
  emailVerified: boolean;
  name: string | null;
}

/** What an OAuth 2.0 provider's profile mapper is given: the access token, and a way to call the provider's API with it. */
export interface ProfileRequest {
  accessToken: string;
  /** GETs `url` with the access token as a Bearer token and resolves to its JSON; rejects on a non-2xx answer. */
  fetchJson(url: string): Promise<unknown>;
}

/** Settings every provider has. */
interface ProviderBase {
  /** The id in URLs (`/api/auth/oauth/<id>`): letters, digits, `-` and `_`. */
  id: string;
  /** The name on buttons: "Continue with <name>". */
  name: string;
  clientId: string;
  /** Omit for a public client (PKCE only), where the provider allows one. */
  clientSecret?: string;
  /** How the client authenticates at the token endpoint. Default `client_secret_basic` (`client_secret_post` for GitHub). */
  tokenAuth: "client_secret_basic" | "client_secret_post";
  scopes: readonly string[];
  /** Keep the provider's access and refresh tokens (sealed) for the app to call its API. Default `false`. */
  storeTokens: boolean;
  /** Extra parameters of the authorization request, e.g. `{ prompt: "select_account" }`. */
  authorizationParams: Readonly<Record<string, string>>;
}

/** An OpenID Connect provider, found by discovery from its issuer; the ID token is validated by openid-client. */
export interface OidcProviderConfig extends ProviderBase {
  kind: "oidc";
  issuer: string;
  /** Maps the ID token's claims (and, when it lacks an email, the UserInfo answer's) to a profile. */
  profile(claims: Readonly<Record<string, unknown>>): OAuthProfile;
}

/** A plain OAuth 2.0 provider (no ID token): the profile comes from its API. */
export interface OAuth2ProviderConfig extends ProviderBase {
  kind: "oauth2";
  /** The `iss` the provider sends in its authorization responses, if it sends one (mix-up defence). */
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  profile(request: ProfileRequest): Promise<OAuthProfile>;
}

/** A provider as {@link createGatehouse}'s `providers` takes it: made by {@link oidc}, {@link github}, {@link oauth2}, … */
export type OAuthProvider = OidcProviderConfig | OAuth2ProviderConfig;

/** Options every provider factory takes. */
export interface ProviderOptions {
  clientId: string;
  clientSecret?: string;
  /** Replaces the default scopes. */
  scopes?: readonly string[];
  storeTokens?: boolean;
  authorizationParams?: Readonly<Record<string, string>>;
  tokenAuth?: "client_secret_basic" | "client_secret_post";
}

/** Options of {@link oidc}. */
export interface OidcOptions extends ProviderOptions {
  /** The issuer URL; `/.well-known/openid-configuration` is read from it. `http:` only on a loopback address. */
  issuer: string;
  /** Default `oidc`. */
  id?: string;
  /** Default "Single sign-on". */
  name?: string;
  /** Default: `sub`, `email`, `email_verified === true`, `name`. */
  profile?: (claims: Readonly<Record<string, unknown>>) => OAuthProfile;
}

/** Options of {@link oauth2}: a provider without OpenID Connect. */
export interface OAuth2Options extends ProviderOptions {
  id: string;
  name: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  /** The `iss` its authorization responses carry, when they carry one. Default: the authorization endpoint's origin. */
  issuer?: string;
  scopes: readonly string[];
  profile: (request: ProfileRequest) => Promise<OAuthProfile>;
}

const PROVIDER_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Whether `hostname` is this machine: the only place a provider may be reached over plain `http:`. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** `url` when it is HTTPS, or HTTP on a loopback address (development and tests); a `ConfigurationError` otherwise. */
function providerUrl(url: unknown, what: string): string {
  if (typeof url !== "string" || !URL.canParse(url)) {
    throw new ConfigurationError(`${what} must be a URL, like https://accounts.example.com.`);
  }
  const { protocol, hostname } = new URL(url);
  if (protocol === "https:" || (protocol === "http:" && isLoopbackHost(hostname))) return url;
  throw new ConfigurationError(`${what} must use https: (http: is accepted only on a loopback address): ${url}`);
}

function base(id: string, name: string, options: ProviderOptions, defaults: Partial<ProviderBase>): ProviderBase {
  if (!PROVIDER_ID.test(id)) {
    throw new ConfigurationError(`The provider id "${id}" may hold only letters, digits, - and _ (at most 64).`);
  }
  if (typeof options?.clientId !== "string" || options.clientId === "") {
    throw new ConfigurationError(`The ${name} provider needs a clientId.`);
  }
  if (options.clientSecret !== undefined && (typeof options.clientSecret !== "string" || options.clientSecret === "")) {
    throw new ConfigurationError(`The ${name} provider's clientSecret must be a non-empty string when given.`);
  }
  return {
    id,
    name,
    clientId: options.clientId,
    ...(options.clientSecret !== undefined && { clientSecret: options.clientSecret }),
    tokenAuth: options.tokenAuth ?? defaults.tokenAuth ?? "client_secret_basic",
    scopes: options.scopes ?? defaults.scopes ?? ["openid", "email", "profile"],
    storeTokens: options.storeTokens ?? false,
    authorizationParams: { ...defaults.authorizationParams, ...options.authorizationParams },
  };
}

const text = (value: unknown): string | null => (typeof value === "string" && value !== "" ? value : null);

/** The standard claims: `sub`, `email`, `email_verified`, `name`. */
export function standardClaims(claims: Readonly<Record<string, unknown>>): OAuthProfile {
  return {
    subject: text(claims.sub) ?? "",
    email: text(claims.email),
    emailVerified: claims.email_verified === true,
    name: text(claims.name),
  };
}

/**
 * Any OpenID Connect provider, from its issuer URL (Okta, Auth0, Keycloak, Authentik, Zitadel, …).
 *
 * @example
 * ```ts
 * oidc({ issuer: "https://sso.example.com", clientId: "app", clientSecret: process.env.OIDC_SECRET })
 * ```
 */
export function oidc(options: OidcOptions): OidcProviderConfig {
  return {
    kind: "oidc",
    ...base(options.id ?? "oidc", options.name ?? "Single sign-on", options, {}),
    issuer: providerUrl(options.issuer, "The OpenID Connect issuer"),
    profile: options.profile ?? standardClaims,
  };
}

/** Google (OpenID Connect). Register at the Google Cloud console: APIs & Services → Credentials → OAuth client ID. */
export function google(options: ProviderOptions): OidcProviderConfig {
  return oidc({ ...options, id: "google", name: "Google", issuer: "https://accounts.google.com" });
}

/**
 * Microsoft Entra ID (OpenID Connect) of one tenant: its id or domain. The multi-tenant endpoints (`common`,
 * `organizations`) are not supported: their ID tokens' issuer differs per tenant and cannot be checked
 * against discovery.
 */
export function microsoft(options: ProviderOptions & { tenantId: string }): OidcProviderConfig {
  const { tenantId } = options;
  if (typeof tenantId !== "string" || !/^[A-Za-z0-9.-]{1,100}$/.test(tenantId)) {
    throw new ConfigurationError("The Microsoft provider needs tenantId: the directory (tenant) id or its domain.");
  }
  if (["common", "organizations", "consumers"].includes(tenantId.toLowerCase())) {
    throw new ConfigurationError(
      `Microsoft's multi-tenant endpoint "${tenantId}" is not supported: set tenantId to your directory (tenant) id.`,
    );
  }
  return oidc({
    ...options,
    id: "microsoft",
    name: "Microsoft",
    issuer: `https://login.microsoftonline.com/${tenantId}/v2.0`,
  });
}

/** GitLab (OpenID Connect), gitlab.com or a self-managed instance at `url`. */
export function gitlab(options: ProviderOptions & { url?: string }): OidcProviderConfig {
  return oidc({ ...options, id: "gitlab", name: "GitLab", issuer: options.url ?? "https://gitlab.com" });
}

interface GitHubEmail {
  email?: unknown;
  primary?: unknown;
  verified?: unknown;
}

/**
 * GitHub (OAuth 2.0 and its REST API), github.com or GitHub Enterprise Server at `enterpriseUrl`. The email is
 * taken only from `/user/emails` entries that are both primary and verified; the subject is the numeric user id.
 */
export function github(options: ProviderOptions & { enterpriseUrl?: string }): OAuth2ProviderConfig {
  const web = options.enterpriseUrl
    ? providerUrl(options.enterpriseUrl, "GitHub's enterpriseUrl").replace(/\/+$/, "")
    : "https://github.com";
  const api = options.enterpriseUrl ? `${web}/api/v3` : "https://api.github.com";
  return {
    kind: "oauth2",
    ...base("github", "GitHub", options, { scopes: ["read:user", "user:email"], tokenAuth: "client_secret_post" }),
    issuer: `${web}/login/oauth`,
    authorizationEndpoint: `${web}/login/oauth/authorize`,
    tokenEndpoint: `${web}/login/oauth/access_token`,
    async profile({ fetchJson }) {
      const [user, emails] = (await Promise.all([fetchJson(`${api}/user`), fetchJson(`${api}/user/emails`)])) as [
        { id?: unknown; login?: unknown; name?: unknown },
        unknown,
      ];
      const primary = (Array.isArray(emails) ? (emails as GitHubEmail[]) : []).find(
        (entry) => entry.primary === true && entry.verified === true,
      );
      const email = text(primary?.email);
      return {
        subject: typeof user.id === "number" || typeof user.id === "string" ? String(user.id) : "",
        email,
        emailVerified: email !== null,
        name: text(user.name) ?? text(user.login),
      };
    },
  };
}

/** Discord (OAuth 2.0 and `/users/@me`). */
export function discord(options: ProviderOptions): OAuth2ProviderConfig {
  return {
    kind: "oauth2",
    ...base("discord", "Discord", options, { scopes: ["identify", "email"] }),
    issuer: "https://discord.com",
    authorizationEndpoint: "https://discord.com/oauth2/authorize",
    tokenEndpoint: "https://discord.com/api/oauth2/token",
    async profile({ fetchJson }) {
      const me = (await fetchJson("https://discord.com/api/users/@me")) as {
        id?: unknown;
        email?: unknown;
        verified?: unknown;
        global_name?: unknown;
        username?: unknown;
      };
      const email = text(me.email);
      return {
        subject: text(me.id) ?? "",
        email,
        emailVerified: email !== null && me.verified === true,
        name: text(me.global_name) ?? text(me.username),
      };
    },
  };
}

/** Any OAuth 2.0 provider without OpenID Connect: its endpoints, and a `profile` that reads who signed in. */
export function oauth2(options: OAuth2Options): OAuth2ProviderConfig {
  if (typeof options?.profile !== "function") {
    throw new ConfigurationError(`The ${options?.name ?? "OAuth 2.0"} provider needs a profile function.`);
  }
  const authorizationEndpoint = providerUrl(options.authorizationEndpoint, `${options.name}'s authorizationEndpoint`);
  return {
    kind: "oauth2",
    ...base(options.id, options.name, options, { scopes: options.scopes }),
    issuer: options.issuer ?? new URL(authorizationEndpoint).origin,
    authorizationEndpoint,
    tokenEndpoint: providerUrl(options.tokenEndpoint, `${options.name}'s tokenEndpoint`),
    profile: options.profile,
  };
}

/** `[id, secret]` of a provider's pair of variables, `null` when neither is set; half a pair is a mistake. */
function credentialsOf(
  env: Readonly<Record<string, string | undefined>>,
  prefix: string,
): { clientId: string; clientSecret: string } | null {
  const clientId = env[`${prefix}_CLIENT_ID`] || undefined;
  const clientSecret = env[`${prefix}_CLIENT_SECRET`] || undefined;
  if (!clientId && !clientSecret) return null;
  if (!clientId || !clientSecret) {
    throw new ConfigurationError(
      `Set both ${prefix}_CLIENT_ID and ${prefix}_CLIENT_SECRET to enable that provider, or neither.`,
    );
  }
  return { clientId, clientSecret };
}

/**
 * The providers the environment configures, in a fixed order: `GATEHOUSE_OIDC_ISSUER` +
 * `GATEHOUSE_OIDC_CLIENT_ID` + `GATEHOUSE_OIDC_CLIENT_SECRET` (+ `GATEHOUSE_OIDC_NAME`), then `GOOGLE_`,
 * `MICROSOFT_` (+ `MICROSOFT_TENANT_ID`), `GITLAB_` (+ `GITLAB_URL`), `GITHUB_` (+ `GITHUB_ENTERPRISE_URL`) and
 * `DISCORD_` `CLIENT_ID` / `CLIENT_SECRET`. A provider is on when its variables are set; half of them is a
 * `ConfigurationError`.
 *
 * @example
 * ```ts
 * createGatehouse({ store, secret, url: process.env.GATEHOUSE_URL, providers: providersFromEnv() });
 * ```
 */
export function providersFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): OAuthProvider[] {
  const providers: OAuthProvider[] = [];
  const issuer = env.GATEHOUSE_OIDC_ISSUER || undefined;
  const sso = credentialsOf(env, "GATEHOUSE_OIDC");
  if (issuer || sso) {
    if (!issuer || !sso) {
      throw new ConfigurationError(
        "Set GATEHOUSE_OIDC_ISSUER, GATEHOUSE_OIDC_CLIENT_ID and GATEHOUSE_OIDC_CLIENT_SECRET together to enable single sign-on.",
      );
    }
    providers.push(oidc({ ...sso, issuer, ...(env.GATEHOUSE_OIDC_NAME && { name: env.GATEHOUSE_OIDC_NAME }) }));
  }
  const googleKeys = credentialsOf(env, "GOOGLE");
  if (googleKeys) providers.push(google(googleKeys));
  const microsoftKeys = credentialsOf(env, "MICROSOFT");
  if (microsoftKeys) {
    if (!env.MICROSOFT_TENANT_ID) {
      throw new ConfigurationError("Set MICROSOFT_TENANT_ID (the directory id or domain) to enable Microsoft sign-in.");
    }
    providers.push(microsoft({ ...microsoftKeys, tenantId: env.MICROSOFT_TENANT_ID }));
  }
  const gitlabKeys = credentialsOf(env, "GITLAB");
  if (gitlabKeys) providers.push(gitlab({ ...gitlabKeys, ...(env.GITLAB_URL && { url: env.GITLAB_URL }) }));
  const githubKeys = credentialsOf(env, "GITHUB");
  if (githubKeys) {
    providers.push(
      github({ ...githubKeys, ...(env.GITHUB_ENTERPRISE_URL && { enterpriseUrl: env.GITHUB_ENTERPRISE_URL }) }),
    );
  }
  const discordKeys = credentialsOf(env, "DISCORD");
  if (discordKeys) providers.push(discord(discordKeys));
  return providers;
}

/** Options of {@link createGatehouse} for OAuth and OpenID sign-in. */
export interface OAuthOptions {
  /**
   * The OAuth and OpenID providers people can sign in with (`oidc(...)`, `github(...)`, … or
   * `providersFromEnv()`). Needs `url`: callback URLs are built on it, never on the request's `Host`.
   */
  providers?: readonly OAuthProvider[];
  /** Where the auth routes are mounted, for callback URLs (`<url><authBasePath>/oauth/<id>/callback`). Default `/api/auth`. */
  authBasePath?: string;
}

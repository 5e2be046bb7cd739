import { serialize } from "cookie";
import * as client from "openid-client";
import { randomToken } from "../crypto/random.js";
import { createSealer } from "../crypto/seal.js";
import {
  ConfigurationError,
  EmailTakenError,
  EmailUnverifiedError,
  isGatehouseError,
  LastSignInMethodError,
  MfaRequiredError,
  NotFoundError,
  OAuthFailedError,
  ProviderAlreadyLinkedError,
} from "../errors.js";
import { readCookie } from "../session/cookie.js";
import type { RequestMeta } from "../session/types.js";
import type { IdentityRecord, UserRecord } from "../stores/types.js";
import { ceremonyCookieName, handleHash, isLive } from "./ceremony.js";
import type { CoreContext } from "./context.js";
import type { Auth } from "./dto.js";
import { isValidEmail, normalizeEmail } from "./email.js";
import { nameProblem } from "./input.js";
import { perAddress, rateLimitKeys } from "./limiter.js";
import type { SecondFactorGate } from "./mfa.js";
import type { Notices } from "./notices.js";
import { isLoopbackHost, type OAuthOptions, type OAuthProfile, type OAuthProvider } from "./oauth-providers.js";
import type { FreshAuthInput, PasswordCheck } from "./password-check.js";
import { actorOf, completeLogIn, type LoggedIn, recordLogInFailure, refuseBanned } from "./sessions.js";

/** How long a started sign-in may take at the provider: 10 minutes. */
const FLOW_SECONDS = 10 * 60;
/** 24 random bytes (192 bits): the handle of the flow's single-use record. */
const HANDLE_BYTES = 24;
const FLOW_SEAL_PURPOSE = "oauth-flow";
const TOKENS_SEAL_PURPOSE = "oauth-tokens";
/** A longer `next` is refused: the whole flow travels in one cookie. */
const MAX_NEXT_LENGTH = 1024;
/** Seconds each request to a provider may take. */
const PROVIDER_TIMEOUT_SECONDS = 10;

/** A provider people can sign in with, as a log-in page shows it. */
export interface ProviderSummary {
  id: string;
  name: string;
}

/** An account at a provider, linked to the user, as the user may see it. */
export interface IdentityDTO {
  provider: string;
  email: string | null;
  createdAt: Date;
}

/** A provider's tokens, kept for a provider configured with `storeTokens`. */
export interface ProviderTokens {
  accessToken: string;
  refreshToken: string | null;
  expiresAt: Date | null;
}

/** A started flow: send the browser to `url` with `setCookie`. */
export interface OAuthStart {
  url: string;
  setCookie: string;
}

/** Why a callback signed nobody in (the `?error=` code of the page it goes back to). */
export type OAuthFailureCode =
  | "oauth_failed"
  | "oauth_denied"
  | "account_exists"
  | "email_unverified"
  | "rate_limited"
  | "banned"
  | "identity_in_use"
  | "provider_already_linked";

/** How a callback ended. Each carries `clearFlow`, the `Set-Cookie` that deletes the flow cookie. */
export type OAuthOutcome =
  | { kind: "signed_in"; loggedIn: LoggedIn; next: string; clearFlow: string }
  /** The account has a second factor: `setCookie` is the pending log-in that its step finishes. */
  | { kind: "second_factor"; setCookie: string; next: string; clearFlow: string }
  | { kind: "linked"; provider: string; clearFlow: string }
  | { kind: "failed"; code: OAuthFailureCode; link: boolean; clearFlow: string };

/** Sign-in with OAuth 2.0 and OpenID Connect providers, and the identities linked to each user. */
export interface OAuthApi {
  /** The configured providers, in order. */
  oauthProviders(): ProviderSummary[];
  /**
   * Starts a sign-in at a provider: authorization code flow with PKCE (S256), `state` and (OpenID) `nonce`, kept
   * in a 10-minute flow cookie that names a single-use record. `next` is where the callback goes after it.
   * Throws `NotFoundError` (no such provider), `OAuthFailedError` (the provider cannot be reached) or
   * `RateLimitedError`.
   */
  startOAuth(providerId: string, options?: { next?: string | null }, meta?: RequestMeta): Promise<OAuthStart>;
  /**
   * Starts linking a provider to the signed-in user; fresh authentication as for every sign-in method change
   * (the password, or for an account without one a recent sign-in). Also `ProviderAlreadyLinkedError`.
   */
  startOAuthLink(auth: Auth, providerId: string, input: FreshAuthInput, meta?: RequestMeta): Promise<OAuthStart>;
  /**
   * Finishes a flow with the callback's query. Never throws for what the provider or the browser sent: the
   * outcome says how it ended (the reason of a failure is logged, never a token or code; a banned user's is
   * `banned`, told only once the provider proved the account). Throws `NotFoundError` for an unknown provider
   * and `StoreUnavailableError` when the store is down. A sign-in of a flow this app started is recorded in the
   * audit log (`user.signup`, `login.success` with the new session, `login.failure`), a link as `oauth.link`.
   */
  finishOAuth(providerId: string, query: URLSearchParams, meta?: RequestMeta): Promise<OAuthOutcome>;
  /** The user's linked identities, oldest first. */
  listIdentities(userId: string): Promise<IdentityDTO[]>;
  /** Whether the user has a password (an account made by an OAuth sign-in has none until a reset sets one). */
  hasPassword(userId: string): Promise<boolean>;
  /**
   * Unlinks the user's identity at `providerId`, with fresh authentication, and its `oauth.unlink` event. Throws
   * `NotFoundError` when none is linked and `LastSignInMethodError` when it is their only way to sign in; like
   * starting a link, `ImpersonationForbiddenError` for an administrator's impersonation.
   */
  unlinkIdentity(auth: Auth, providerId: string, input: FreshAuthInput, meta?: RequestMeta): Promise<void>;
  /** The stored tokens of the user's identity at a provider configured with `storeTokens`; else `null`. */
  providerTokens(userId: string, providerId: string): Promise<ProviderTokens | null>;
}

/** What the flow cookie carries, sealed. */
interface FlowPayload {
  /** The handle of the single-use record. */
  h: string;
  /** The provider. */
  p: string;
  /** state, nonce (`null` for plain OAuth 2.0) and the PKCE verifier. */
  s: string;
  n: string | null;
  v: string;
  next: string;
  /** The user a link flow adds the identity to; `null` for a sign-in. */
  l: string | null;
}

/** What the callback needs of the sign-in events: mail for accounts that still have to verify. */
export interface OAuthEvents {
  afterSignUp(user: UserRecord): void;
  afterUnverifiedLogIn(user: UserRecord): void;
}

function isFlowPayload(value: unknown): value is FlowPayload {
  const flow = value as FlowPayload | null;
  return (
    typeof flow === "object" &&
    flow !== null &&
    typeof flow.h === "string" &&
    typeof flow.p === "string" &&
    typeof flow.s === "string" &&
    (flow.n === null || typeof flow.n === "string") &&
    typeof flow.v === "string" &&
    typeof flow.next === "string" &&
    (flow.l === null || typeof flow.l === "string")
  );
}

/**
 * A line of the operator's log: control characters escaped and the length capped, since parts of it (an error
 * code) come from the provider or the callback's query, and must not forge lines of their own.
 */
function logFailure(providerId: string, code: string, reason: string): void {
  const safe = JSON.stringify(reason.slice(0, 500)).slice(1, -1);
  console.warn(`gatehouse: oauth ${providerId}: ${code}: ${safe}`);
}

/** A failure's reason for the operator's log: the error's name, code and message, never a response body. */
function describe(error: unknown): string {
  if (error instanceof client.AuthorizationResponseError) return `the provider answered error=${error.error}`;
  if (error instanceof client.ResponseBodyError) return `the provider answered ${error.status} error=${error.error}`;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${error.name}${typeof code === "string" ? ` (${code})` : ""}: ${error.message}`;
  }
  return String(error);
}

/** The reason a callback fails, kept for the log; the person is told only the code. */
class FlowFailure extends Error {
  constructor(
    readonly failure: OAuthFailureCode,
    reason: string,
  ) {
    super(reason);
  }
}

export function createOAuth(
  ctx: CoreContext,
  options: OAuthOptions,
  check: PasswordCheck,
  gate: SecondFactorGate,
  events: OAuthEvents,
  notices: Notices,
): OAuthApi {
  const { roles, config, sessionConfig, limiter, now } = ctx;
  const { identities, factors, users } = roles;
  const providers = new Map<string, OAuthProvider>();
  for (const provider of options.providers ?? []) {
    if (providers.has(provider.id)) throw new ConfigurationError(`Two providers have the id "${provider.id}".`);
    providers.set(provider.id, provider);
  }
  const basePath = (options.authBasePath ?? "/api/auth").replace(/\/+$/, "");
  if (!basePath.startsWith("/")) throw new ConfigurationError("authBasePath must be a path, like /api/auth.");
  if (providers.size > 0 && !config.url) {
    throw new ConfigurationError(
      "Set url (GATEHOUSE_URL) when OAuth providers are configured: callback URLs are built on it, never on the request's Host.",
    );
  }
  const flowSealer = createSealer(sessionConfig.secrets, FLOW_SEAL_PURPOSE);
  const tokenSealer = createSealer(sessionConfig.secrets, TOKENS_SEAL_PURPOSE);
  const cookieName = ceremonyCookieName(sessionConfig, "oauth");
  const cookieOptions = { httpOnly: true, sameSite: "lax", path: "/", secure: sessionConfig.secureCookies } as const;
  const clearFlow = serialize(cookieName, "", { ...cookieOptions, maxAge: 0 });
  /** Discovered (or built) once per provider; a failure is forgotten, so the next sign-in tries again. */
  const configurations = new Map<string, Promise<client.Configuration>>();

  const redirectUri = (provider: OAuthProvider) =>
    new URL(`${basePath}/oauth/${provider.id}/callback`, config.url as URL).href;

  function providerOf(providerId: string): OAuthProvider {
    const provider = providers.get(providerId);
    if (!provider) throw new NotFoundError("There is no such sign-in provider.");
    return provider;
  }

  function clientAuth(provider: OAuthProvider): client.ClientAuth {
    if (provider.clientSecret === undefined) return client.None();
    return provider.tokenAuth === "client_secret_post"
      ? client.ClientSecretPost(provider.clientSecret)
      : client.ClientSecretBasic(provider.clientSecret);
  }

  async function configure(provider: OAuthProvider): Promise<client.Configuration> {
    const insecure = (url: string) => new URL(url).protocol === "http:" && isLoopbackHost(new URL(url).hostname);
    if (provider.kind === "oidc") {
      return client.discovery(new URL(provider.issuer), provider.clientId, undefined, clientAuth(provider), {
        // The ID token's signature is checked against the provider's JWKS too, not only TLS to the token
        // endpoint: a token that did not come from the provider's key is refused however it arrived.
        execute: [
          client.enableNonRepudiationChecks,
          ...(insecure(provider.issuer) ? [client.allowInsecureRequests] : []),
        ],
        timeout: PROVIDER_TIMEOUT_SECONDS,
      });
    }
    const configuration = new client.Configuration(
      {
        issuer: provider.issuer,
        authorization_endpoint: provider.authorizationEndpoint,
        token_endpoint: provider.tokenEndpoint,
      },
      provider.clientId,
      undefined,
      clientAuth(provider),
    );
    if (insecure(provider.authorizationEndpoint) || insecure(provider.tokenEndpoint)) {
      client.allowInsecureRequests(configuration);
    }
    configuration.timeout = PROVIDER_TIMEOUT_SECONDS;
    return configuration;
  }

  async function configurationOf(provider: OAuthProvider): Promise<client.Configuration> {
    let pending = configurations.get(provider.id);
    if (!pending) {
      pending = configure(provider);
      configurations.set(provider.id, pending);
      pending.catch(() => configurations.delete(provider.id));
    }
    try {
      return await pending;
    } catch (error) {
      logFailure(provider.id, "oauth_failed", `the provider could not be reached: ${describe(error)}`);
      throw new OAuthFailedError({ cause: error });
    }
  }

  async function start(provider: OAuthProvider, next: string, link: UserRecord | null, meta: RequestMeta) {
    await limiter.hit(perAddress(config.rateLimits.oauthPerIp, meta.ip), rateLimitKeys.oauthIp(meta.ip ?? ""));
    const configuration = await configurationOf(provider);
    const verifier = client.randomPKCECodeVerifier();
    const flow: FlowPayload = {
      h: randomToken(HANDLE_BYTES),
      p: provider.id,
      s: client.randomState(),
      n: provider.kind === "oidc" ? client.randomNonce() : null,
      v: verifier,
      next,
      l: link?.id ?? null,
    };
    const createdAt = now();
    await factors.createChallenge({
      idHash: handleHash(flow.h),
      purpose: "oauth_flow",
      userId: link?.id ?? null,
      challenge: "",
      revocationEpoch: link?.revocationEpoch ?? 0,
      createdAt: new Date(createdAt),
      expiresAt: new Date(createdAt + FLOW_SECONDS * 1000),
    });
    const url = client.buildAuthorizationUrl(configuration, {
      ...provider.authorizationParams,
      redirect_uri: redirectUri(provider),
      scope: provider.scopes.join(" "),
      state: flow.s,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      ...(flow.n !== null && { nonce: flow.n }),
    });
    const setCookie = serialize(cookieName, await flowSealer.seal(flow), { ...cookieOptions, maxAge: FLOW_SECONDS });
    return { url: url.href, setCookie };
  }

  /** The flow the request's cookie names, used up: of two callbacks with one cookie, one gets it. */
  async function takeFlow(meta: RequestMeta): Promise<{ flow: FlowPayload; epoch: number }> {
    const sealed = readCookie(meta.cookieHeader, cookieName);
    const flow = sealed ? await flowSealer.open(sealed) : null;
    if (!isFlowPayload(flow)) throw new FlowFailure("oauth_failed", "the browser brought no flow cookie of ours");
    const record = await factors.consumeChallenge(handleHash(flow.h), "oauth_flow");
    if (!record || !isLive(record, now())) throw new FlowFailure("oauth_failed", "the flow was used or has expired");
    if (record.userId !== flow.l) throw new FlowFailure("oauth_failed", "the flow record does not match its cookie");
    return { flow, epoch: record.revocationEpoch };
  }

  /** Exchanges the code and reads who signed in, with every check openid-client makes. */
  async function profileOf(
    provider: OAuthProvider,
    flow: FlowPayload,
    query: URLSearchParams,
  ): Promise<{ profile: OAuthProfile; tokens: client.TokenEndpointResponse }> {
    const configuration = await configurationOf(provider);
    const callback = new URL(redirectUri(provider));
    callback.search = query.toString();
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(configuration, callback, {
        pkceCodeVerifier: flow.v,
        expectedState: flow.s,
        ...(flow.n !== null && { expectedNonce: flow.n }),
        idTokenExpected: provider.kind === "oidc",
      });
    } catch (error) {
      if (error instanceof client.AuthorizationResponseError && error.error === "access_denied") {
        throw new FlowFailure("oauth_denied", "the person declined at the provider");
      }
      throw new FlowFailure("oauth_failed", describe(error));
    }
    let profile: OAuthProfile;
    try {
      if (provider.kind === "oidc") {
        const claims = tokens.claims() as Record<string, unknown>;
        profile = provider.profile(claims);
        if (profile.email === null && configuration.serverMetadata().userinfo_endpoint) {
          const info = await client.fetchUserInfo(configuration, tokens.access_token, String(claims.sub));
          profile = provider.profile({ ...info, ...claims });
        }
      } else {
        profile = await provider.profile({
          accessToken: tokens.access_token,
          async fetchJson(url) {
            const response = await client.fetchProtectedResource(
              configuration,
              tokens.access_token,
              new URL(url),
              "GET",
              undefined,
              new Headers({ accept: "application/json" }),
            );
            if (!response.ok) throw new Error(`${url} answered ${response.status}`);
            return response.json();
          },
        });
      }
    } catch (error) {
      throw new FlowFailure("oauth_failed", `reading the profile failed: ${describe(error)}`);
    }
    if (typeof profile.subject !== "string" || profile.subject === "" || profile.subject.length > 255) {
      throw new FlowFailure("oauth_failed", "the profile has no usable subject");
    }
    return { profile, tokens };
  }

  async function sealTokens(provider: OAuthProvider, tokens: client.TokenEndpointResponse): Promise<string | null> {
    if (!provider.storeTokens) return null;
    const expiresAt = typeof tokens.expires_in === "number" ? now() + tokens.expires_in * 1000 : null;
    return tokenSealer.seal({ a: tokens.access_token, r: tokens.refresh_token ?? null, e: expiresAt });
  }

  /**
   * The address a profile gives, when it is one an account could have. Only ASCII: lower-casing some other
   * characters (the Kelvin sign K) yields a different ASCII address than the one the provider verified.
   */
  function emailOf(profile: OAuthProfile): string | null {
    if (typeof profile.email !== "string" || !/^[\x21-\x7e]+$/.test(profile.email.trim())) return null;
    const email = normalizeEmail(profile.email);
    return isValidEmail(email) ? email : null;
  }

  /** Signs `user` in: a session, or the pending log-in of their second step. */
  async function signIn(
    provider: OAuthProvider,
    user: UserRecord,
    next: string,
    meta: RequestMeta,
  ): Promise<OAuthOutcome> {
    const detail = { method: "oauth", provider: provider.id } as const;
    await refuseBanned(ctx, user, meta, detail);
    if (config.email.requireVerification && !user.emailVerifiedAt) {
      events.afterUnverifiedLogIn(user);
      await recordLogInFailure(ctx, "unverified", { user }, meta, detail);
      throw new EmailUnverifiedError();
    }
    if (user.totpEnabled) {
      try {
        await gate.require(user, await gate.summary(user.id));
      } catch (error) {
        if (error instanceof MfaRequiredError)
          return { kind: "second_factor", setCookie: error.setCookie, next, clearFlow };
        throw error;
      }
    }
    const loggedIn = await completeLogIn(ctx, user, meta, detail);
    return { kind: "signed_in", loggedIn, next, clearFlow };
  }

  async function signInOrUp(
    provider: OAuthProvider,
    profile: OAuthProfile,
    sealedTokens: string | null,
    next: string,
    meta: RequestMeta,
  ): Promise<OAuthOutcome> {
    const known = await identities.getIdentity(provider.id, profile.subject);
    if (known) {
      const user = await users.getUserById(known.userId);
      if (!user) throw new FlowFailure("oauth_failed", "the identity's user is gone");
      if (sealedTokens) await identities.setIdentityTokens(provider.id, profile.subject, sealedTokens);
      return signIn(provider, user, next, meta);
    }
    const email = emailOf(profile);
    if (!email) throw new FlowFailure("oauth_failed", "the provider gave no usable (verified, for GitHub) email");
    // Never linked silently: the owner of the address signs in as usual and links the provider themselves.
    if (await users.getUserByEmail(email)) {
      throw new FlowFailure("account_exists", "the email belongs to an account that has not linked this identity");
    }
    await limiter.hit(perAddress(config.rateLimits.signupPerIp, meta.ip), rateLimitKeys.signupIp(meta.ip ?? ""));
    const name = profile.name && !nameProblem(profile.name.trim()) ? profile.name.trim() : null;
    const identity: Omit<IdentityRecord, "userId"> = {
      provider: provider.id,
      subject: profile.subject,
      email,
      emailVerified: profile.emailVerified === true,
      sealedTokens,
      createdAt: new Date(now()),
    };
    const id = randomToken(12);
    const signedUp = ctx.audit.event("user.signup", {
      user: { id, email },
      meta,
      detail: { method: "oauth", provider: provider.id },
    });
    let created: UserRecord | null;
    try {
      created = await identities.createUserWithIdentity(
        {
          id,
          email,
          name,
          role: config.defaultRole,
          passwordHash: null,
          emailVerifiedAt: identity.emailVerified ? new Date(now()) : null,
        },
        identity,
        { effects: { events: [signedUp] } },
      );
    } catch (error) {
      if (!(error instanceof EmailTakenError)) throw error;
      created = null;
    }
    if (!created) {
      // A concurrent first sign-in of the same identity made the account: it is the one. Else the address was
      // taken by someone else meanwhile.
      const winner = await identities.getIdentity(provider.id, profile.subject);
      const user = winner && (await users.getUserById(winner.userId));
      if (!user) throw new FlowFailure("account_exists", "the email was registered meanwhile");
      return signIn(provider, user, next, meta);
    }
    ctx.audit.emit([signedUp]);
    if (!created.emailVerifiedAt) events.afterSignUp(created);
    return signIn(provider, created, next, meta);
  }

  async function link(
    provider: OAuthProvider,
    profile: OAuthProfile,
    sealedTokens: string | null,
    { userId, epoch }: { userId: string; epoch: number },
    meta: RequestMeta,
  ): Promise<OAuthOutcome> {
    // The browser must still be signed in as the user who started the link.
    const found = await ctx.sessions.authenticate(meta.cookieHeader, { canSetCookie: false });
    if (!found.user || found.user.id !== userId) {
      throw new FlowFailure("oauth_failed", "the session that started the link has ended");
    }
    // Only the user's own session starts a link (an impersonation may not): the user is the actor.
    const linked = ctx.audit.event("oauth.link", { user: found.user, meta, detail: { provider: provider.id } });
    // Only in the epoch the link was started in: a password reset or "sign out everywhere" since voids it, in
    // the same transaction that checks it.
    const result = await identities.linkIdentity(
      {
        provider: provider.id,
        subject: profile.subject,
        userId,
        email: emailOf(profile),
        emailVerified: profile.emailVerified === true,
        sealedTokens,
        createdAt: new Date(now()),
      },
      { ifEpoch: epoch, effects: { events: [linked] } },
    );
    if (result === "taken") {
      const owner = await identities.getIdentity(provider.id, profile.subject);
      if (owner?.userId !== userId) throw new FlowFailure("identity_in_use", "the identity belongs to another user");
      if (sealedTokens) await identities.setIdentityTokens(provider.id, profile.subject, sealedTokens);
    } else if (result === "provider_linked") {
      throw new FlowFailure("provider_already_linked", "the user has another identity of this provider");
    } else if (result === "no_user" || result === "stale") {
      throw new FlowFailure(
        "oauth_failed",
        `the user ${result === "stale" ? "signed out everywhere since" : "is gone"}`,
      );
    } else {
      ctx.audit.emit([linked]);
      const user = await users.getUserById(userId);
      if (user) notices.send(user, `${provider.name} was connected to your account`);
    }
    return { kind: "linked", provider: provider.id, clearFlow };
  }

  return {
    oauthProviders: () => [...providers.values()].map(({ id, name }) => ({ id, name })),

    async startOAuth(providerId, startOptions = {}, meta = {}) {
      const provider = providerOf(providerId);
      const wanted = startOptions.next;
      // Checked where the callback redirects to it (same-site paths only), like every `next`.
      const next = typeof wanted === "string" && wanted.length <= MAX_NEXT_LENGTH ? wanted : "";
      return start(provider, next, null, meta);
    },

    async startOAuthLink(auth, providerId, input, meta = {}) {
      const provider = providerOf(providerId);
      const { user } = await check.fresh(auth, input, meta);
      const linked = await identities.listIdentities(user.id);
      if (linked.some((identity) => identity.provider === provider.id)) throw new ProviderAlreadyLinkedError();
      return start(provider, "", user, meta);
    },

    async finishOAuth(providerId, query, meta = {}) {
      const provider = providerOf(providerId);
      let linking = false;
      // A failed sign-in is recorded only for a flow this app started (its record was used up here): a callback
      // anyone can send with nothing of ours costs no write, and its start is limited per address.
      let started = false;
      try {
        const { flow, epoch } = await takeFlow(meta);
        started = true;
        linking = flow.l !== null;
        // Mix-up defence: a flow started with one provider is finished only by that provider's callback.
        if (flow.p !== provider.id) throw new FlowFailure("oauth_failed", `the flow was started for ${flow.p}`);
        const { profile, tokens } = await profileOf(provider, flow, query);
        const sealedTokens = await sealTokens(provider, tokens);
        if (flow.l !== null) return await link(provider, profile, sealedTokens, { userId: flow.l, epoch }, meta);
        return await signInOrUp(provider, profile, sealedTokens, flow.next, meta);
      } catch (error) {
        let code: OAuthFailureCode;
        const signingIn = started && !linking;
        if (error instanceof FlowFailure) {
          code = error.failure;
          logFailure(provider.id, code, error.message);
          if (signingIn) {
            const detail = { method: "oauth", provider: provider.id, failure: code } as const;
            await recordLogInFailure(ctx, "oauth_failure", {}, meta, detail);
          }
        } else if (isGatehouseError(error) && error.code === "rate_limited") {
          code = error.code;
          if (signingIn)
            await recordLogInFailure(ctx, "rate_limited", {}, meta, { method: "oauth", provider: provider.id });
        } else if (isGatehouseError(error) && (error.code === "email_unverified" || error.code === "banned")) {
          // Recorded where the account was known.
          code = error.code;
        } else {
          // A store that fails fails the request (503); anything else unexpected is a failed sign-in, logged.
          if (isGatehouseError(error) && error.code === "unavailable") throw error;
          logFailure(provider.id, "oauth_failed", describe(error));
          code = "oauth_failed";
        }
        return { kind: "failed", code, link: linking, clearFlow };
      }
    },

    async listIdentities(userId) {
      const linked = await identities.listIdentities(userId);
      return linked.map(({ provider, email, createdAt }) => ({ provider, email, createdAt }));
    },

    hasPassword: async (userId) => ((await users.getUserById(userId))?.passwordHash ?? null) !== null,

    async unlinkIdentity(auth, providerId, input, meta = {}) {
      const { session, user } = await check.fresh(auth, input, meta);
      const unlinked = ctx.audit.event("oauth.unlink", {
        user,
        actor: actorOf(user.id, session.impersonatedBy),
        meta,
        detail: { provider: providerId },
      });
      const result = await identities.unlinkIdentity(user.id, providerId, { effects: { events: [unlinked] } });
      if (result === "not_found") throw new NotFoundError("No account at that provider is connected.");
      if (result === "last_method") throw new LastSignInMethodError();
      ctx.audit.emit([unlinked]);
      notices.send(user, `${providers.get(providerId)?.name ?? providerId} was disconnected from your account`);
    },

    async providerTokens(userId, providerId) {
      const identity = (await identities.listIdentities(userId)).find((entry) => entry.provider === providerId);
      if (!identity?.sealedTokens) return null;
      const opened = (await tokenSealer.open(identity.sealedTokens)) as {
        a?: unknown;
        r?: unknown;
        e?: unknown;
      } | null;
      if (!opened || typeof opened.a !== "string") return null;
      return {
        accessToken: opened.a,
        refreshToken: typeof opened.r === "string" ? opened.r : null,
        expiresAt: typeof opened.e === "number" ? new Date(opened.e) : null,
      };
    },
  };
}

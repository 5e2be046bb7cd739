import {
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from "@simplewebauthn/server";
import { decodeBase64url, encodeBase64url } from "../crypto/base64url.js";
import { randomToken } from "../crypto/random.js";
import {
  ChallengeExpiredError,
  ConfigurationError,
  EmailUnverifiedError,
  InvalidInputError,
  InvalidPasskeyError,
  isGatehouseError,
  LastSignInMethodError,
  NoPasskeysError,
  NotFoundError,
} from "../errors.js";
import type { RequestMeta } from "../session/types.js";
import type { ChallengeRecord, PasskeyRecord, UserRecord } from "../stores/types.js";
import { CEREMONY_SECONDS, createCeremonyCookie, handleHash, isLive } from "./ceremony.js";
import type { CoreContext } from "./context.js";
import type { Auth } from "./dto.js";
import { asRecord, field, nameProblem } from "./input.js";
import { perAddress, rateLimitKeys } from "./limiter.js";
import type { Notices } from "./notices.js";
import type { FreshAuthInput, PasswordCheck } from "./password-check.js";
import { actorOf, completeLogIn, type LoggedIn, recordLogInFailure, refuseBanned } from "./sessions.js";

export type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
};

/** A credential id is at most 1023 bytes: 1364 characters of base64url. */
const MAX_CREDENTIAL_ID_LENGTH = 1364;
/** The transports WebAuthn names; anything else a client sends is dropped, not stored. */
const TRANSPORTS = new Set(["ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"]);
const encoder = new TextEncoder();

/** A passkey as its owner sees it. */
export interface PasskeyDTO {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** What {@link PasskeysApi.registerPasskey} takes: the browser's answer to the options, and a name. */
export interface RegisterPasskeyInput {
  response: RegistrationResponseJSON;
  name?: string;
}

/** What {@link PasskeysApi.logInWithPasskey} takes: the browser's answer to the options. */
export interface PasskeyLogInInput {
  response: AuthenticationResponseJSON;
}

/** WebAuthn options, and the `Set-Cookie` of the challenge cookie that binds them to this browser. */
export interface PasskeyOptions<Options> {
  options: Options;
  setCookie: string;
}

/** Passkeys (WebAuthn): registering, listing, renaming and removing them, and signing in with one. */
export interface PasskeysApi {
  /**
   * Options for `navigator.credentials.create()` (resident key and user verification required; the user's
   * passkeys excluded) and the challenge cookie to send with them. Needs `{ password }`.
   */
  passkeyRegistrationOptions(
    auth: Auth,
    input: FreshAuthInput,
    meta?: RequestMeta,
  ): Promise<PasskeyOptions<PublicKeyCredentialCreationOptionsJSON>>;
  /**
   * Verifies the browser's answer against this browser's challenge (used up) and stores the passkey, with its
   * `passkey.add` event. `clearChallenge` deletes the challenge cookie. Throws `ChallengeExpiredError`,
   * `InvalidPasskeyError` or `InvalidInputError`; like every passkey change, `ImpersonationForbiddenError` for
   * an administrator's impersonation.
   */
  registerPasskey(
    auth: Auth,
    input: RegisterPasskeyInput,
    meta?: RequestMeta,
  ): Promise<{ passkey: PasskeyDTO; clearChallenge: string }>;
  /** The user's passkeys, newest first. */
  listPasskeys(userId: string): Promise<PasskeyDTO[]>;
  /** Renames one of the user's passkeys; `NotFoundError` for any other id. */
  renamePasskey(userId: string, passkeyId: string, input: { name: string }): Promise<PasskeyDTO>;
  /**
   * Removes one of the user's passkeys, with its `passkey.remove` event; needs `{ password }`. `NotFoundError`
   * for any other id.
   */
  deletePasskey(auth: Auth, passkeyId: string, input: FreshAuthInput, meta?: RequestMeta): Promise<void>;
  /** Options for `navigator.credentials.get()` for a sign-in without an email (discoverable credentials). */
  passkeyLogInOptions(meta?: RequestMeta): Promise<PasskeyOptions<PublicKeyCredentialRequestOptionsJSON>>;
  /**
   * Signs in with a passkey: with user verification it is both factors, so no second step follows. Throws
   * `ChallengeExpiredError`, `InvalidPasskeyError`, `InvalidInputError`, `EmailUnverifiedError`, or
   * `BannedError` (once the passkey proved the account). An answer to a live challenge is recorded:
   * `login.success` with the new session, or `login.failure`.
   */
  logInWithPasskey(input: PasskeyLogInInput, meta?: RequestMeta): Promise<LoggedIn & { clearChallenge: string }>;
}

/** A passkey as the second step of a pending log-in (used by the second-factor module). */
export interface PasskeySecondStep {
  /** Request options limited to the user's passkeys, bound to the pending log-in. `NoPasskeysError` without any. */
  options(user: UserRecord, pendingHandle: string): Promise<PublicKeyCredentialRequestOptionsJSON>;
  /** Whether `response` is a valid answer of one of the user's passkeys to the pending log-in's challenge. */
  verify(user: UserRecord, pendingHandle: string, response: unknown): Promise<boolean>;
}

const toDTO = (passkey: PasskeyRecord): PasskeyDTO => ({
  id: passkey.id,
  name: passkey.name,
  createdAt: passkey.createdAt,
  lastUsedAt: passkey.lastUsedAt,
});

/** A passkey's name: trimmed, NFC, 1 to 100 characters, as a display name; none given is "Passkey". */
function parseName(raw: unknown, required: boolean): string {
  if (raw === undefined && !required) return "Passkey";
  const name = typeof raw === "string" ? raw.normalize("NFC").trim() : "";
  if (name === "") throw new InvalidInputError({ name: { code: "required", message: "Give the passkey a name." } });
  const problem = nameProblem(name);
  if (problem) throw new InvalidInputError({ name: problem });
  return name;
}

/** The browser's answer: an object, or `InvalidInputError`. Its contents are the WebAuthn library's to check. */
function parseResponse<T>(input: unknown): T {
  const response = field(asRecord(input), "response");
  if (typeof response !== "object" || response === null || Array.isArray(response)) {
    throw new InvalidInputError({
      response: { code: "required", message: "Send the passkey's answer as response." },
    });
  }
  return response as T;
}

/** The stored key of the passkey challenge of a pending log-in. */
const secondStepHash = (pendingHandle: string) => handleHash(`${pendingHandle}.passkey`);

export function createPasskeys(
  ctx: CoreContext,
  check: PasswordCheck,
  notices: Notices,
): { api: PasskeysApi; secondStep: PasskeySecondStep } {
  const { roles, config, now, sessionConfig, limiter } = ctx;
  const { factors, users } = roles;
  const challengeCookie = createCeremonyCookie(sessionConfig, factors, "challenge");
  // From the configured URL, never from a request's Host: a passkey is bound to the real site.
  const rp = config.url && { id: config.url.hostname, origin: config.url.origin, name: config.email.appName };
  const timeout = CEREMONY_SECONDS * 1000;

  function relyingParty(): { id: string; origin: string; name: string } {
    if (!rp) throw new ConfigurationError("Passkeys need url (GATEHOUSE_URL): the passkey is bound to its host.");
    return rp;
  }

  /** The live challenge this browser's cookie names, used up; `ChallengeExpiredError` otherwise. */
  async function takeChallenge(
    meta: RequestMeta,
    purpose: "passkey_register" | "passkey_login",
  ): Promise<ChallengeRecord> {
    const handle = challengeCookie.read(meta.cookieHeader);
    const challenge = handle === null ? null : await factors.consumeChallenge(handleHash(handle), purpose);
    if (!challenge || !isLive(challenge, now())) throw new ChallengeExpiredError();
    return challenge;
  }

  /**
   * Verifies an assertion to `expectedChallenge` and records its use. With `owner`, the passkey must be theirs
   * (a second step); without, its user is whoever the passkey belongs to. `InvalidPasskeyError` otherwise.
   */
  async function verifyAssertion(
    response: AuthenticationResponseJSON,
    expectedChallenge: string,
    owner: UserRecord | null,
    tried: { userId?: string } = {},
  ): Promise<UserRecord> {
    const { id, origin } = relyingParty();
    const credentialId: unknown = response.id;
    if (typeof credentialId !== "string" || credentialId === "" || credentialId.length > MAX_CREDENTIAL_ID_LENGTH) {
      throw new InvalidPasskeyError();
    }
    const passkey = await factors.getPasskeyByCredentialId(credentialId);
    if (!passkey || (owner && passkey.userId !== owner.id)) throw new InvalidPasskeyError();
    // Whose passkey the answer names, for the audit log of a sign-in that fails from here on.
    tried.userId = passkey.userId;
    // A discoverable credential names its user too; it must be the passkey's.
    const userHandle: unknown = response.response?.userHandle;
    if (userHandle !== undefined && userHandle !== encodeBase64url(encoder.encode(passkey.userId))) {
      throw new InvalidPasskeyError();
    }
    const publicKey = decodeBase64url(passkey.publicKey);
    if (!publicKey) throw new InvalidPasskeyError();
    let verified: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
    try {
      verified = await verifyAuthenticationResponse({
        response,
        expectedChallenge,
        expectedOrigin: origin,
        expectedRPID: id,
        credential: {
          id: passkey.credentialId,
          publicKey: publicKey as Uint8Array<ArrayBuffer>,
          counter: passkey.counter,
          transports: passkey.transports as AuthenticatorTransport[],
        },
        requireUserVerification: true,
      });
    } catch (error) {
      throw new InvalidPasskeyError({ cause: error });
    }
    if (!verified.verified) throw new InvalidPasskeyError();
    // The counter the authenticator keeps, if it keeps one, moved on (checked by the library); of two uses
    // racing from one counter value, one is recorded.
    const recorded = await factors.recordPasskeyUse(passkey.id, passkey.counter, {
      counter: verified.authenticationInfo.newCounter,
      lastUsedAt: new Date(now()),
    });
    if (!recorded) throw new InvalidPasskeyError();
    const user = owner ?? (await users.getUserById(passkey.userId));
    if (!user) throw new InvalidPasskeyError();
    return user;
  }

  async function requestOptions(allow: readonly PasskeyRecord[]): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return generateAuthenticationOptions({
      rpID: relyingParty().id,
      userVerification: "required",
      timeout,
      allowCredentials: allow.map((passkey) => ({
        id: passkey.credentialId,
        transports: passkey.transports as AuthenticatorTransport[],
      })),
    });
  }

  const api: PasskeysApi = {
    async passkeyRegistrationOptions(auth, input, meta = {}) {
      const { user } = await check.fresh(auth, input, meta);
      const { id, name } = relyingParty();
      const existing = await factors.listPasskeys(user.id);
      const options = await generateRegistrationOptions({
        rpName: name,
        rpID: id,
        userName: user.email,
        userDisplayName: user.name ?? user.email,
        // The user's id (random, no personal data): a discoverable credential hands it back at sign-in.
        userID: encoder.encode(user.id),
        attestationType: "none",
        timeout,
        excludeCredentials: existing.map((passkey) => ({ id: passkey.credentialId, transports: passkey.transports })),
        authenticatorSelection: { residentKey: "required", requireResidentKey: true, userVerification: "required" },
      });
      const { setCookie } = await challengeCookie.issue({
        purpose: "passkey_register",
        userId: user.id,
        challenge: options.challenge,
        revocationEpoch: user.revocationEpoch,
      });
      return { options, setCookie };
    },

    async registerPasskey(auth, input, meta = {}) {
      const { session, user } = await check.current(auth, { owner: true });
      // Bad input is refused before the challenge is used up.
      const response = parseResponse<RegistrationResponseJSON>(input);
      const name = parseName(field(asRecord(input), "name"), false);
      const challenge = await takeChallenge(meta, "passkey_register");
      // Bound to the user who asked, in the epoch they asked in: not to whoever signed in since on this browser.
      if (challenge.userId !== user.id || challenge.revocationEpoch < user.revocationEpoch) {
        throw new ChallengeExpiredError();
      }
      const { id, origin } = relyingParty();
      let verified: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
      try {
        verified = await verifyRegistrationResponse({
          response,
          expectedChallenge: challenge.challenge,
          expectedOrigin: origin,
          expectedRPID: id,
          requireUserVerification: true,
        });
      } catch (error) {
        throw new InvalidPasskeyError({ cause: error });
      }
      if (!verified.verified) throw new InvalidPasskeyError();
      const { credential, credentialDeviceType, credentialBackedUp } = verified.registrationInfo;
      if (credential.id.length > MAX_CREDENTIAL_ID_LENGTH) throw new InvalidPasskeyError();
      const passkey: PasskeyRecord = {
        id: randomToken(12),
        userId: user.id,
        credentialId: credential.id,
        publicKey: encodeBase64url(credential.publicKey),
        counter: credential.counter,
        // The library passes on what the client claims: only known names, from a real list, are kept.
        transports: Array.isArray(credential.transports)
          ? [...new Set<unknown>(credential.transports)].filter(
              (transport): transport is string => typeof transport === "string" && TRANSPORTS.has(transport),
            )
          : [],
        deviceType: credentialDeviceType,
        backedUp: credentialBackedUp,
        name,
        createdAt: new Date(now()),
        lastUsedAt: null,
      };
      const added = ctx.audit.event("passkey.add", {
        user,
        actor: actorOf(user.id, session.impersonatedBy),
        meta,
        detail: { id: passkey.id, name },
      });
      // A credential registered already (to anyone) is not registered twice.
      const created = await factors.createPasskey(passkey, {
        ifEpoch: user.revocationEpoch,
        effects: { events: [added] },
      });
      if (!created) throw new InvalidPasskeyError();
      ctx.audit.emit([added]);
      notices.send(user, `A passkey ("${name}") was added`);
      return { passkey: toDTO(passkey), clearChallenge: challengeCookie.clear() };
    },

    listPasskeys: async (userId) => (await factors.listPasskeys(userId)).map(toDTO),

    async renamePasskey(userId, passkeyId, input) {
      const name = parseName(field(asRecord(input), "name"), true);
      const renamed = await factors.renamePasskey(userId, passkeyId, name);
      if (!renamed) throw new NotFoundError("You have no passkey with this id.");
      return toDTO(renamed);
    },

    async deletePasskey(auth, passkeyId, input, meta = {}) {
      const { session, user } = await check.fresh(auth, input, meta);
      const removed = ctx.audit.event("passkey.remove", {
        user,
        actor: actorOf(user.id, session.impersonatedBy),
        meta,
        detail: { id: passkeyId },
      });
      // One keyed delete: someone else's passkey answers exactly like one that does not exist.
      const result = await factors.deletePasskey(user.id, passkeyId, { effects: { events: [removed] } });
      if (result === "not_found") throw new NotFoundError("You have no passkey with this id.");
      if (result === "last_method") throw new LastSignInMethodError();
      ctx.audit.emit([removed]);
      notices.send(user, "A passkey was removed");
    },

    async passkeyLogInOptions(meta = {}) {
      // Anyone may ask, and each answer is a row: the address's budget bounds them.
      await limiter.hit(
        perAddress(config.rateLimits.passkeyOptionsPerIp, meta.ip),
        rateLimitKeys.passkeyOptionsIp(meta.ip ?? ""),
      );
      const options = await requestOptions([]);
      const { setCookie } = await challengeCookie.issue({
        purpose: "passkey_login",
        userId: null,
        challenge: options.challenge,
        revocationEpoch: 0,
      });
      return { options, setCookie };
    },

    async logInWithPasskey(input, meta = {}) {
      const response = parseResponse<AuthenticationResponseJSON>(input);
      const challenge = await takeChallenge(meta, "passkey_login");
      // Only an answer to a live challenge is recorded: the challenge's own budget (per address) bounds them.
      const tried: { userId?: string } = {};
      const user = await verifyAssertion(response, challenge.challenge, null, tried).catch(async (error: unknown) => {
        if (isGatehouseError(error) && error.code === "invalid_passkey") {
          const owner = tried.userId === undefined ? null : await users.getUserById(tried.userId);
          await recordLogInFailure(ctx, "passkey_failure", { user: owner }, meta, { method: "passkey" });
        }
        throw error;
      });
      await refuseBanned(ctx, user, meta, { method: "passkey" });
      if (config.email.requireVerification && !user.emailVerifiedAt) {
        await recordLogInFailure(ctx, "unverified", { user }, meta, { method: "passkey" });
        throw new EmailUnverifiedError();
      }
      const loggedIn = await completeLogIn(ctx, user, meta, { method: "passkey" });
      return { ...loggedIn, clearChallenge: challengeCookie.clear() };
    },
  };

  const secondStep: PasskeySecondStep = {
    async options(user, pendingHandle) {
      const passkeys = await factors.listPasskeys(user.id);
      if (passkeys.length === 0) throw new NoPasskeysError();
      const options = await requestOptions(passkeys);
      const created = now();
      await factors.createChallenge({
        idHash: secondStepHash(pendingHandle),
        purpose: "mfa_passkey",
        userId: user.id,
        challenge: options.challenge,
        revocationEpoch: user.revocationEpoch,
        createdAt: new Date(created),
        expiresAt: new Date(created + CEREMONY_SECONDS * 1000),
      });
      return options;
    },

    async verify(user, pendingHandle, response) {
      if (typeof response !== "object" || response === null) return false;
      const challenge = await factors.consumeChallenge(secondStepHash(pendingHandle), "mfa_passkey");
      if (!challenge || challenge.userId !== user.id || !isLive(challenge, now())) return false;
      try {
        await verifyAssertion(response as AuthenticationResponseJSON, challenge.challenge, user);
        return true;
      } catch (error) {
        if (isGatehouseError(error) && error.code === "invalid_passkey") return false;
        throw error;
      }
    },
  };

  return { api, secondStep };
}

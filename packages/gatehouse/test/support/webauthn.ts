/**
 * A software WebAuthn client and authenticator in one: what a browser and a platform authenticator do with
 * the options a server sends, done with node:crypto (ES256 keys on P-256) and CBOR, so the integration tests
 * drive the real server-side verification end to end. Attestation format "none"; every credential is
 * discoverable (it keeps the user handle and hands it back on sign-in).
 *
 * Like a real client it refuses what a real one would refuse (an rp.id the origin may not claim, no ES256 in
 * pubKeyCredParams, a credential the server excluded, no credential to answer with). Each ceremony takes
 * overrides that make it misbehave as an attacker's or a broken client would: another origin or rp id, no
 * user verification, another credential or user handle, an old signature counter, a tampered signature.
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import { type CBORType, encodeCBOR } from "@levischuck/tiny-cbor";
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/server";

/** Authenticator data flags (WebAuthn §6.1). */
const UP = 0x01;
const UV = 0x04;
const BE = 0x08;
const BS = 0x10;
const AT = 0x40;
/** COSE: key type EC2, algorithm ES256, curve P-256. */
const COSE_KTY_EC2 = 2;
const COSE_ALG_ES256 = -7;
const COSE_CRV_P256 = 1;

/** A credential the authenticator holds: its key, and what it stored at registration. */
export interface SoftwareCredential {
  /** The credential id, base64url. */
  readonly id: string;
  readonly rpId: string;
  /** `user.id` of the registration options (base64url), handed back as `userHandle` on sign-in. */
  readonly userHandle: string;
  readonly privateKey: KeyObject;
  /** The public key as COSE_Key (CBOR), as it goes into the attested credential data. */
  readonly cosePublicKey: Uint8Array;
  /** The signature counter as the authenticator last reported it. */
  signCount: number;
}

export interface AuthenticatorOptions {
  /** The origin of the page the client runs on: it goes into clientDataJSON. */
  origin: string;
  /**
   * How much the signature counter grows on each use. 0 is an authenticator that keeps no counter (it always
   * reports 0, like most synced passkeys); default 1.
   */
  counterStep?: number;
  /** Sets BE and BS: a backed-up, multi-device credential. Default off. */
  backedUp?: boolean;
  /** Default 16 zero bytes, what "none" attestation usually carries. */
  aaguid?: Uint8Array;
}

/** What both ceremonies let a test change about one answer. */
export interface CeremonyOverrides {
  /** clientDataJSON.origin; default the authenticator's origin. */
  origin?: string;
  /**
   * The rp id hashed into authenticatorData instead of the client's own (which still picks the credential):
   * what an authenticator tricked by a lying client would sign.
   */
  rpId?: string;
  /** The UV flag; default true (the authenticator verified the user). */
  userVerified?: boolean;
  /** clientDataJSON.challenge; default the options' challenge. */
  challenge?: string;
  /** clientDataJSON.type; default "webauthn.create" or "webauthn.get". */
  type?: string;
}

export interface CreateOverrides extends CeremonyOverrides {
  /** Registers this credential again instead of a new one (an authenticator that ignores excludeCredentials). */
  credential?: SoftwareCredential;
  /** The length of a new credential id in bytes; default 32. */
  credentialIdBytes?: number;
}

export interface GetOverrides extends CeremonyOverrides {
  /** Answers with this credential, whether or not the options allow it or the rp id is its own. */
  credential?: SoftwareCredential;
  /** Reports this counter instead of the next one (an old count replayed, or a cloned authenticator). */
  signCount?: number;
  /** The userHandle to send; `null` leaves it out. Default the credential's own. */
  userHandle?: string | null;
  /** Flips a bit of the signature after signing (the DER stays well-formed; the signature is wrong). */
  tamperSignature?: boolean;
}

/** A client and its authenticator: makes credentials and answers challenges with them. */
export interface SoftwareAuthenticator {
  readonly origin: string;
  /** The credentials made so far, oldest first. */
  readonly credentials: readonly SoftwareCredential[];
  /** `navigator.credentials.create()`: a new credential for `options`, and the response JSON to send. */
  create(
    options: PublicKeyCredentialCreationOptionsJSON,
    overrides?: CreateOverrides,
  ): { response: RegistrationResponseJSON; credential: SoftwareCredential };
  /** `navigator.credentials.get()`: an assertion for `options`, with a held credential. */
  get(options: PublicKeyCredentialRequestOptionsJSON, overrides?: GetOverrides): AuthenticationResponseJSON;
}

/** A client refusing a ceremony, named like the DOMException a browser throws. */
export class WebAuthnClientError extends Error {
  constructor(
    readonly name: "SecurityError" | "NotSupportedError" | "InvalidStateError" | "NotAllowedError",
    message: string,
  ) {
    super(`${name}: ${message}`);
  }
}

const b64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64url");
const sha256 = (data: Uint8Array | string): Buffer => createHash("sha256").update(data).digest();

function uint32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return buffer;
}

function uint16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16BE(value);
  return buffer;
}

/** The rp id the page's origin may claim: its host, or a parent domain of it (IP addresses only themselves). */
function mayClaim(origin: string, rpId: string): boolean {
  const { hostname } = new URL(origin);
  if (/^[\d.]+$/.test(hostname) || hostname.includes(":")) return hostname === rpId;
  return hostname === rpId || hostname.endsWith(`.${rpId}`);
}

/** The client's own rp id for a ceremony: the options' (if the origin may claim it), else the origin's host. */
function clientRpId(origin: string, requested: string | undefined): string {
  const rpId = requested ?? new URL(origin).hostname;
  if (!mayClaim(origin, rpId)) throw new WebAuthnClientError("SecurityError", `${origin} may not use rp id ${rpId}`);
  return rpId;
}

function clientData(type: string, challenge: string, origin: string): Buffer {
  return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }), "utf8");
}

/** The P-256 public key as COSE_Key: {1: EC2, 3: ES256, -1: P-256, -2: x, -3: y}. */
function coseKeyOf(publicKey: KeyObject): Uint8Array {
  const jwk = publicKey.export({ format: "jwk" });
  return encodeCBOR(
    new Map<number, number | Uint8Array>([
      [1, COSE_KTY_EC2],
      [3, COSE_ALG_ES256],
      [-1, COSE_CRV_P256],
      [-2, Buffer.from(jwk.x as string, "base64url")],
      [-3, Buffer.from(jwk.y as string, "base64url")],
    ]),
  );
}

export function createSoftwareAuthenticator(options: AuthenticatorOptions): SoftwareAuthenticator {
  const { origin } = options;
  const counterStep = options.counterStep ?? 1;
  const aaguid = options.aaguid ?? new Uint8Array(16);
  const backupFlags = options.backedUp ? BE | BS : 0;
  const credentials: SoftwareCredential[] = [];

  function flags(overrides: CeremonyOverrides, extra: number): number {
    return UP | (overrides.userVerified === false ? 0 : UV) | backupFlags | extra;
  }

  return {
    origin,
    credentials,

    create(creation, overrides = {}) {
      const rpId = clientRpId(origin, creation.rp.id);
      if (!creation.pubKeyCredParams.some((param) => param.type === "public-key" && param.alg === COSE_ALG_ES256)) {
        throw new WebAuthnClientError("NotSupportedError", "the server does not accept ES256");
      }
      const excluded = new Set((creation.excludeCredentials ?? []).map((descriptor) => descriptor.id));
      if (!overrides.credential && credentials.some((held) => held.rpId === rpId && excluded.has(held.id))) {
        throw new WebAuthnClientError("InvalidStateError", "this authenticator already holds an excluded credential");
      }
      let credential = overrides.credential;
      if (!credential) {
        const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
        credential = {
          id: b64url(randomBytes(overrides.credentialIdBytes ?? 32)),
          rpId,
          userHandle: creation.user.id,
          privateKey,
          cosePublicKey: coseKeyOf(publicKey),
          signCount: 0,
        };
        credentials.push(credential);
      }
      const credentialId = Buffer.from(credential.id, "base64url");
      const authenticatorData = Buffer.concat([
        sha256(overrides.rpId ?? rpId),
        Buffer.of(flags(overrides, AT)),
        uint32(credential.signCount),
        aaguid,
        uint16(credentialId.length),
        credentialId,
        credential.cosePublicKey,
      ]);
      const attestationObject = encodeCBOR(
        new Map<string, CBORType>([
          ["fmt", "none"],
          ["attStmt", new Map<string, CBORType>()],
          ["authData", authenticatorData],
        ]),
      );
      const clientDataJSON = clientData(
        overrides.type ?? "webauthn.create",
        overrides.challenge ?? creation.challenge,
        overrides.origin ?? origin,
      );
      return {
        credential,
        response: {
          id: credential.id,
          rawId: credential.id,
          type: "public-key",
          authenticatorAttachment: "platform",
          clientExtensionResults: {},
          response: {
            clientDataJSON: b64url(clientDataJSON),
            attestationObject: b64url(attestationObject),
            transports: ["internal", "hybrid"],
          },
        },
      };
    },

    get(request, overrides = {}) {
      const rpId = clientRpId(origin, request.rpId);
      const allowed = (request.allowCredentials ?? []).map((descriptor) => descriptor.id);
      // With allowCredentials, one of those; without (a discoverable sign-in), the newest for the rp id.
      const candidates = credentials.filter(
        (held) => held.rpId === rpId && (!allowed.length || allowed.includes(held.id)),
      );
      const credential = overrides.credential ?? candidates.at(-1);
      if (!credential) throw new WebAuthnClientError("NotAllowedError", "no credential to answer with");
      credential.signCount += counterStep;
      const authenticatorData = Buffer.concat([
        sha256(overrides.rpId ?? rpId),
        Buffer.of(flags(overrides, 0)),
        uint32(overrides.signCount ?? credential.signCount),
      ]);
      const clientDataJSON = clientData(
        overrides.type ?? "webauthn.get",
        overrides.challenge ?? request.challenge,
        overrides.origin ?? origin,
      );
      // ES256: ECDSA with SHA-256 over authenticatorData ‖ SHA-256(clientDataJSON), DER-encoded.
      const signature = sign(
        "sha256",
        Buffer.concat([authenticatorData, sha256(clientDataJSON)]),
        credential.privateKey,
      );
      if (overrides.tamperSignature) {
        const last = signature.length - 1;
        signature.writeUInt8(signature.readUInt8(last) ^ 0x01, last);
      }
      const userHandle = overrides.userHandle === undefined ? credential.userHandle : overrides.userHandle;
      return {
        id: credential.id,
        rawId: credential.id,
        type: "public-key",
        authenticatorAttachment: "platform",
        clientExtensionResults: {},
        response: {
          clientDataJSON: b64url(clientDataJSON),
          authenticatorData: b64url(authenticatorData),
          signature: b64url(signature),
          ...(userHandle !== null && { userHandle }),
        },
      };
    },
  };
}

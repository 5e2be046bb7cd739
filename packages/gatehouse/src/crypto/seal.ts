import { decodeBase64url, encodeBase64url } from "./base64url.js";
import { nodeCrypto } from "./runtime.js";

/**
 * Authenticated encryption of small JSON payloads (AES-256-GCM) for cookies.
 *
 * Format: `g1.` + base64url(iv[12] ‖ ciphertext ‖ tag[16]). The version prefix is also the additional
 * authenticated data, so a future format cannot be confused with this one. One key per secret is derived
 * once with HKDF-SHA256 for the given purpose, so a value sealed for one purpose never opens for another.
 * The first secret seals; every secret opens (rotation).
 */
export interface Sealer {
  seal(payload: unknown): Promise<string>;
  /** The payload, or `null` when the value is malformed, tampered with or sealed with an unknown key. */
  open(value: string): Promise<unknown>;
}

const VERSION = "g1";
const PREFIX = `${VERSION}.`;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HKDF_SALT = "gatehouse";
/** Cookies are at most 4096 bytes; anything longer is not ours and is rejected before decoding. */
const MAX_SEALED_LENGTH = 4096;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const AAD = encoder.encode(VERSION);

/** Creates a sealer whose keys are derived once, here, and never on the per-request path. */
export function createSealer(secrets: readonly string[], purpose: string): Sealer {
  if (secrets.length === 0) throw new TypeError("createSealer needs at least one secret.");
  const info = `gatehouse:${purpose}:${VERSION}`;
  return nodeCrypto ? createNodeSealer(nodeCrypto, secrets, info) : createWebSealer(secrets, info);
}

function splitSealed(value: string): { iv: Uint8Array; body: Uint8Array } | null {
  if (typeof value !== "string" || value.length > MAX_SEALED_LENGTH || !value.startsWith(PREFIX)) return null;
  const raw = decodeBase64url(value.slice(PREFIX.length));
  if (!raw || raw.length < IV_BYTES + TAG_BYTES + 1) return null;
  return { iv: raw.subarray(0, IV_BYTES), body: raw.subarray(IV_BYTES) };
}

function parsePlaintext(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch {
    return null;
  }
}

function joinSealed(iv: Uint8Array, body: Uint8Array): string {
  const out = new Uint8Array(iv.length + body.length);
  out.set(iv, 0);
  out.set(body, iv.length);
  return PREFIX + encodeBase64url(out);
}

function createNodeSealer(crypto: typeof import("node:crypto"), secrets: readonly string[], info: string): Sealer {
  const keys = secrets.map((secret) =>
    crypto.createSecretKey(Buffer.from(crypto.hkdfSync("sha256", secret, HKDF_SALT, info, 32))),
  );
  const [sealKey] = keys as [import("node:crypto").KeyObject];
  return {
    async seal(payload) {
      const iv = crypto.randomBytes(IV_BYTES);
      const cipher = crypto.createCipheriv("aes-256-gcm", sealKey, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(AAD);
      const ciphertext = Buffer.concat([cipher.update(JSON.stringify(payload), "utf8"), cipher.final()]);
      return joinSealed(iv, Buffer.concat([ciphertext, cipher.getAuthTag()]));
    },
    async open(value) {
      const parts = splitSealed(value);
      if (!parts) return null;
      const ciphertext = parts.body.subarray(0, parts.body.length - TAG_BYTES);
      const tag = parts.body.subarray(parts.body.length - TAG_BYTES);
      for (const key of keys) {
        const decipher = crypto.createDecipheriv("aes-256-gcm", key, parts.iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(AAD);
        decipher.setAuthTag(tag);
        let plaintext: Buffer;
        try {
          plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
        } catch {
          continue;
        }
        return parsePlaintext(plaintext);
      }
      return null;
    },
  };
}

function createWebSealer(secrets: readonly string[], info: string): Sealer {
  const subtle = globalThis.crypto.subtle;
  const keys = Promise.all(
    secrets.map(async (secret) => {
      const material = await subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveKey"]);
      return subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: encoder.encode(HKDF_SALT), info: encoder.encode(info) },
        material,
        { name: "AES-GCM", length: 256 },
        false,
        ["encrypt", "decrypt"],
      );
    }),
  );
  return {
    async seal(payload) {
      const [sealKey] = (await keys) as [CryptoKey];
      const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV_BYTES));
      const body = await subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: AAD, tagLength: TAG_BYTES * 8 },
        sealKey,
        encoder.encode(JSON.stringify(payload)),
      );
      return joinSealed(iv, new Uint8Array(body));
    },
    async open(value) {
      const parts = splitSealed(value);
      if (!parts) return null;
      for (const key of await keys) {
        try {
          const plaintext = await subtle.decrypt(
            { name: "AES-GCM", iv: parts.iv as Uint8Array<ArrayBuffer>, additionalData: AAD, tagLength: TAG_BYTES * 8 },
            key,
            parts.body as Uint8Array<ArrayBuffer>,
          );
          return parsePlaintext(new Uint8Array(plaintext));
        } catch {}
      }
      return null;
    },
  };
}

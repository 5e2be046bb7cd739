import { nodeCrypto } from "./runtime.js";

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * Whether the bits the last character carries beyond the data are zero. Decoders ignore them, so without
 * this check one value would have several spellings ("AB" would decode like "AA").
 */
function hasCanonicalTail(text: string): boolean {
  const spareBits = ((text.length % 4) * 6) % 8;
  if (spareBits === 0) return true;
  return (ALPHABET.indexOf(text[text.length - 1] as string) & ((1 << spareBits) - 1)) === 0;
}

/** Encodes bytes as unpadded base64url. */
export function encodeBase64url(bytes: Uint8Array): string {
  if (nodeCrypto) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Decodes unpadded base64url; returns `null` for anything that is not strictly base64url. */
export function decodeBase64url(text: string): Uint8Array | null {
  if (!BASE64URL.test(text) || text.length % 4 === 1 || !hasCanonicalTail(text)) return null;
  if (nodeCrypto) return Buffer.from(text, "base64url");
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

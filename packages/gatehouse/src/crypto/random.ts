import { encodeBase64url } from "./base64url.js";

/** `byteLength` bytes from the platform CSPRNG, as unpadded base64url. */
export function randomToken(byteLength: number): string {
  const bytes = new Uint8Array(byteLength);
  globalThis.crypto.getRandomValues(bytes);
  return encodeBase64url(bytes);
}

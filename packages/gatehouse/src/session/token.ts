import { randomToken } from "../crypto/random.js";

/** 12 random bytes: unique lookup key, stored in clear. */
const ID_BYTES = 12;
/** 24 random bytes (192 bits): only its SHA-256 is stored. */
const SECRET_BYTES = 24;
const TOKEN = /^([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{32})$/;

/** A fresh database-session token `id.secret`. */
export function generateSessionToken(): { id: string; secret: string; value: string } {
  const id = randomToken(ID_BYTES);
  const secret = randomToken(SECRET_BYTES);
  return { id, secret, value: `${id}.${secret}` };
}

/** Splits a token into id and secret, or `null` when it does not have the exact shape Gatehouse issues. */
export function parseSessionToken(value: string): { id: string; secret: string } | null {
  const match = TOKEN.exec(value);
  return match ? { id: match[1] as string, secret: match[2] as string } : null;
}

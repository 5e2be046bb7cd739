const TOKEN = /^([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{32})$/;

/**
 * Splits a database-session token into id and secret, or `null` when it does not have the exact shape
 * Gatehouse issues. Free of `node:crypto`, so the proxy can use it on any runtime.
 */
export function parseSessionToken(value: string): { id: string; secret: string } | null {
  const match = TOKEN.exec(value);
  return match ? { id: match[1] as string, secret: match[2] as string } : null;
}

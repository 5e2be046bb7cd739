/**
 * CSRF defence for state-changing requests: the `Origin` must be one of the app's own origins (from
 * configuration, never from `Host`). Without `Origin`, `Sec-Fetch-Site: same-origin` is accepted, and so
 * is a JSON body, which no cross-site form can send without a CORS preflight. `Origin: null` is never ours.
 */
export function isSameOriginRequest(
  header: (name: string) => string | undefined,
  allowedOrigins: ReadonlySet<string>,
  isJsonBody: boolean,
): boolean {
  const origin = header("origin");
  if (origin !== undefined) return allowedOrigins.has(origin);
  const site = header("sec-fetch-site");
  if (site !== undefined) return site === "same-origin" || (site === "none" && isJsonBody);
  return isJsonBody;
}

/** Normalises configured origins (`https://app.example/` → `https://app.example`). Throws on a non-URL. */
export function toOrigin(url: string): string {
  return new URL(url).origin;
}

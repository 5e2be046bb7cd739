/** Methods that must not change anything, and so need no CSRF check. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Whether a request with this method may change state and so must pass {@link isSameOriginRequest}. */
export function isStateChanging(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

/**
 * CSRF defence for state-changing requests: the `Origin` must be one of the app's own origins (from
 * configuration, never from `Host` or `X-Forwarded-Host`). Without `Origin`, only `Sec-Fetch-Site:
 * same-origin` is accepted, and a request with neither is refused. `Origin: null` alone is refused too; a
 * browser also sends it for a same-origin form on a `Referrer-Policy: no-referrer` page, and then its
 * `Sec-Fetch-Site: same-origin` (which no page can forge) is what vouches for the request.
 */
export function isSameOriginRequest(
  header: (name: string) => string | undefined,
  allowedOrigins: ReadonlySet<string>,
): boolean {
  const origin = header("origin");
  if (origin !== undefined && origin !== "null") return allowedOrigins.has(origin);
  return header("sec-fetch-site") === "same-origin";
}

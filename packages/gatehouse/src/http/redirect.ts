const BASE = "http://gatehouse.invalid";

/**
 * Returns `target` when it is a path on this site, else `fallback`. Rejects absolute and protocol-relative
 * URLs, backslash tricks (`/\evil.example`), scheme-relative forms (`https:evil.example`), encoded slashes
 * (`%2F%2Fevil.example` is treated as the relative path it is and then refused for not starting with `/`),
 * control characters and backslashes, raw or percent-encoded, and `javascript:` URLs.
 *
 * @example
 * ```ts
 * safeRedirectPath("/dashboard?tab=1") // "/dashboard?tab=1"
 * safeRedirectPath("//evil.example")   // "/"
 * ```
 */
export function safeRedirectPath(target: unknown, fallback = "/"): string {
  if (typeof target !== "string" || target.length === 0 || target.length > 2048) return fallback;
  if (
    !target.startsWith("/") ||
    target.startsWith("//") ||
    /[\\\u0000-\u001f\u007f]|%(?:[01][0-9a-f]|7f|5c)/i.test(target)
  ) {
    return fallback;
  }
  let url: URL;
  try {
    url = new URL(target, BASE);
  } catch {
    return fallback;
  }
  if (url.origin !== BASE) return fallback;
  const path = url.pathname + url.search + url.hash;
  return path.startsWith("//") ? fallback : path;
}

/**
 * `page` with `params` added to its query: a configured page may carry a query (`/login?signedOut=1`) or a
 * fragment of its own, which keep their place.
 */
export function withQuery(page: string, params: URLSearchParams): string {
  const url = new URL(page, BASE);
  for (const [name, value] of params) url.searchParams.append(name, value);
  // A page configured as a full URL stays one; a path stays a path.
  return URL.canParse(page) ? url.href : url.pathname + url.search + url.hash;
}

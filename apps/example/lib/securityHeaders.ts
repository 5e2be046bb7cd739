/**
 * The security headers of both example apps (the Pages Router's `next.config.ts`, the App Router's
 * `next.config.ts` and `proxy.ts`), so the two send the same policy.
 */

/** A response header as `next.config`'s `headers()` takes it. */
export interface Header {
  key: string;
  value: string;
}

/**
 * The Content-Security-Policy. The Pages Router's production pages run files from `/_next/static` only
 * (`__NEXT_DATA__` is JSON, never run), so `script-src 'self'` is enough and no inline code can run. The App
 * Router inlines its RSC payload in scripts: there `proxy.ts` gives each request a `nonce`, which Next puts
 * on its own scripts, and `'strict-dynamic'` lets those load their chunks. `next dev` needs eval and inline
 * code for React's debugging and hot reloading, so only there are they allowed.
 */
export function contentSecurityPolicy(options: { development: boolean; nonce?: string }): string {
  const { development, nonce } = options;
  const scripts = [
    "'self'",
    ...(nonce ? [`'nonce-${nonce}'`, "'strict-dynamic'"] : []),
    ...(development ? ["'unsafe-eval'", "'unsafe-inline'"] : []),
  ];
  return [
    "default-src 'self'",
    `script-src ${scripts.join(" ")}`,
    `style-src 'self'${development ? " 'unsafe-inline'" : ""}`,
    // The site icon is an inline data: URL.
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Every response's headers but the Content-Security-Policy. */
export function securityHeaders(options: { development: boolean }): Header[] {
  return [
    { key: "X-Frame-Options", value: "DENY" },
    { key: "X-Content-Type-Options", value: "nosniff" },
    { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
    // Browsers only honour HSTS over HTTPS; in production the app is expected to be served that way.
    ...(options.development
      ? []
      : [{ key: "Strict-Transport-Security", value: "max-age=31536000; includeSubDomains" }]),
  ];
}

/**
 * The auth pages: their addresses must not leak through the Referer header, not even the path; those that
 * emailed links open carry a token in their URL.
 */
export const AUTH_PAGE_PATHS = [
  "/login",
  "/login/verify",
  "/signup",
  "/forgot-password",
  "/reset-password",
  "/verify-email",
] as const;

/** The auth API, which sends no Referer to anyone either. */
export const AUTH_API_PATH = "/api/auth/:path*";

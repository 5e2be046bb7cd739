import type { NextConfig } from "next";

const development = process.env.NODE_ENV !== "production";

/**
 * The Content-Security-Policy. In production every script and style is a file from `/_next/static`
 * (`__NEXT_DATA__` is JSON, never run), so `'self'` is enough and no inline code can run. `next dev` needs
 * eval and inline code for React's debugging and hot reloading, so only there are they allowed.
 */
const contentSecurityPolicy = [
  "default-src 'self'",
  `script-src 'self'${development ? " 'unsafe-eval' 'unsafe-inline'" : ""}`,
  `style-src 'self'${development ? " 'unsafe-inline'" : ""}`,
  // The site icon is an inline data: URL (see _document.tsx).
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const securityHeaders = [
  { key: "Content-Security-Policy", value: contentSecurityPolicy },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
];

// Browsers only honour HSTS over HTTPS; in production the app is expected to be served that way.
const productionHeaders = development
  ? []
  : [{ key: "Strict-Transport-Security", value: "max-age=31536000; includeSubDomains" }];

const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  serverExternalPackages: ["better-sqlite3", "@node-rs/argon2", "pg", "mysql2", "ioredis", "nodemailer"],
  experimental: {
    // Turbopack's shared runtime inlines a bootstrap <script> into every page, which `script-src 'self'`
    // refuses; without it each page loads its runtime from a file like every other chunk.
    turbopackSharedRuntime: false,
  },
  async headers() {
    return [
      { source: "/:path*", headers: [...securityHeaders, ...productionHeaders] },
      // Auth pages and the auth API leak nothing through the Referer header, not even the path; the pages
      // that emailed links open carry a token in their URL.
      ...[
        "/login",
        "/login/verify",
        "/signup",
        "/forgot-password",
        "/reset-password",
        "/verify-email",
        "/api/auth/:path*",
      ].map((source) => ({
        source,
        headers: [{ key: "Referrer-Policy", value: "no-referrer" }],
      })),
    ];
  },
};

export default config;

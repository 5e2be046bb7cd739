import type { NextConfig } from "next";

const securityHeaders = [
  { key: "Content-Security-Policy", value: "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'" },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
];

// Browsers only honour HSTS over HTTPS; in production the app is expected to be served that way.
const productionHeaders =
  process.env.NODE_ENV === "production"
    ? [{ key: "Strict-Transport-Security", value: "max-age=31536000; includeSubDomains" }]
    : [];

const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  serverExternalPackages: ["better-sqlite3", "@node-rs/argon2", "pg", "mysql2", "ioredis", "nodemailer"],
  async headers() {
    return [
      { source: "/:path*", headers: [...securityHeaders, ...productionHeaders] },
      // Auth pages and the auth API leak nothing through the Referer header, not even the path; the pages
      // that emailed links open carry a token in their URL.
      ...["/login", "/signup", "/forgot-password", "/reset-password", "/verify-email", "/api/auth/:path*"].map((source) => ({
        source,
        headers: [{ key: "Referrer-Policy", value: "no-referrer" }],
      })),
    ];
  },
};

export default config;

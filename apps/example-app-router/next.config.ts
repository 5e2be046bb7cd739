import type { NextConfig } from "next";
import { AUTH_API_PATH, AUTH_PAGE_PATHS, contentSecurityPolicy, securityHeaders } from "../example/lib/securityHeaders";

const development = process.env.NODE_ENV !== "production";

const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  serverExternalPackages: ["better-sqlite3", "@node-rs/argon2", "pg", "mysql2", "ioredis", "nodemailer"],
  // `forbidden()`, which `requireRole` calls (see lib/auth.ts).
  experimental: { authInterrupts: true },
  async headers() {
    return [
      { source: "/:path*", headers: securityHeaders({ development }) },
      // Pages get theirs, with a nonce, from proxy.ts; the API's JSON runs no script at all.
      {
        source: "/api/:path*",
        headers: [{ key: "Content-Security-Policy", value: contentSecurityPolicy({ development }) }],
      },
      // The auth pages' forms run Server Actions, which Next and Gatehouse refuse without a real Origin, and a
      // browser posts a `no-referrer` page's form with `Origin: null`. `same-origin` still sends no Referer
      // to another site, and to this one only the address it served.
      ...AUTH_PAGE_PATHS.map((source) => ({
        source,
        headers: [{ key: "Referrer-Policy", value: "same-origin" }],
      })),
      { source: AUTH_API_PATH, headers: [{ key: "Referrer-Policy", value: "no-referrer" }] },
    ];
  },
};

export default config;

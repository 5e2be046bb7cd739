import type { NextConfig } from "next";
import { AUTH_API_PATH, AUTH_PAGE_PATHS, contentSecurityPolicy, securityHeaders } from "./lib/securityHeaders";

const development = process.env.NODE_ENV !== "production";

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
      {
        source: "/:path*",
        headers: [
          { key: "Content-Security-Policy", value: contentSecurityPolicy({ development }) },
          ...securityHeaders({ development }),
        ],
      },
      ...[...AUTH_PAGE_PATHS, AUTH_API_PATH].map((source) => ({
        source,
        headers: [{ key: "Referrer-Policy", value: "no-referrer" }],
      })),
    ];
  },
};

export default config;

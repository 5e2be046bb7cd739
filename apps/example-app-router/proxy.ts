import { readEnv } from "@shared/lib/env";
import { contentSecurityPolicy } from "@shared/lib/securityHeaders";
import { gatehouseProxy } from "gatehouse-auth/next/proxy";
import { type NextRequest, NextResponse } from "next/server";

const env = readEnv();
const development = process.env.NODE_ENV !== "production";

/**
 * The optimistic check: reads the session cookie only, never the database. Pages, Route Handlers and Server
 * Actions still run the secure check (`requireUser`, `withRouteAuth`, `guardAction`).
 */
const checkSession = gatehouseProxy({
  secret: env.secret ?? "",
  strategy: env.strategy === "stateless" ? "stateless" : "database",
  url: env.url,
  protectedRoutes: ["/dashboard", "/profile", "/settings", "/admin"],
  signedOutRoutes: ["/login", "/signup"],
});

/** 128 random bits, base64: a fresh one per request, or an injected script could reuse it. */
function newNonce(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
}

/**
 * The optimistic check, then the Content-Security-Policy with this request's nonce. Next reads the policy
 * from the request's headers and puts the nonce on every script it renders; the browser reads it from the
 * response's.
 */
export async function proxy(request: NextRequest): Promise<Response> {
  const policy = contentSecurityPolicy({ development, nonce: newNonce() });
  const headers = new Headers(request.headers);
  headers.set("Content-Security-Policy", policy);
  const response = (await checkSession(request)) ?? NextResponse.next({ request: { headers } });
  response.headers.set("Content-Security-Policy", policy);
  return response;
}

export const config = {
  matcher: ["/((?!_next/static/|_next/image$|api/).*)"],
};

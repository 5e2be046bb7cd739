import { gatehouseProxy } from "gatehouse-auth/next/proxy";
import { readEnv } from "./lib/env";

const env = readEnv();

/**
 * The optimistic check: reads the session cookie only, never the database. Pages and API routes still
 * run the secure check (`withPageAuth`, `withApiAuth`).
 */
export const proxy = gatehouseProxy({
  secret: env.secret ?? "",
  strategy: env.strategy === "stateless" ? "stateless" : "database",
  url: env.url,
  protectedRoutes: ["/dashboard", "/profile", "/settings", "/admin"],
  signedOutRoutes: ["/login", "/signup"],
});

export const config = {
  matcher: ["/((?!_next/static|_next/image|favicon.ico|api/).*)"],
};

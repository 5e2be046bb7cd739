import { pathToRegexp } from "path-to-regexp";

/** Why a `config.matcher` source cannot be read (Next.js refuses it at build time too). */
export class MatcherSyntaxError extends Error {}

/**
 * A `config.matcher` source of `proxy.ts` / `middleware.ts` as Next.js reads it: a path-to-regexp 6 pattern
 * (`/dashboard/:path*`, `/((?!api|_next/static).*)`) compiled with that library's defaults, the version
 * Next.js bundles, and tested against the pathname. Next.js keeps only the expression's source and matches
 * with it case-sensitively, so the library's `i` flag is dropped here too.
 */
export function matcherRegExp(source: string): RegExp {
  try {
    return new RegExp(pathToRegexp(source).source);
  } catch (error) {
    throw new MatcherSyntaxError(error instanceof Error ? error.message : String(error));
  }
}

import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { MatcherSyntaxError, matcherRegExp } from "./proxy-matcher.js";

// The path-to-regexp that Next.js bundles and compiles `config.matcher` with (a devDependency here).
const { pathToRegexp } = createRequire(import.meta.url)("next/dist/compiled/path-to-regexp") as {
  pathToRegexp: (source: string) => RegExp;
};

const SOURCES = [
  "/dashboard",
  "/dashboard/:path*",
  "/admin/:path+",
  "/posts/:id",
  "/posts/:id?",
  "/files/:name.:ext",
  "/about/:slug(\\d+)",
  "/((?!api|_next/static|_next/image|favicon.ico).*)",
  "/((?!_next/static|_next/image|favicon.ico|api/).*)",
  "/shop{/:category}?",
  "/:locale(en|fr)/account/:rest*",
  "/",
];

describe("matcherRegExp", () => {
  it("builds the expression Next.js's bundled path-to-regexp builds", () => {
    for (const source of SOURCES) expect(matcherRegExp(source).source, source).toBe(pathToRegexp(source).source);
  });

  it("matches a prefix and everything below it with :path*, and nothing beside it", () => {
    const matcher = matcherRegExp("/dashboard/:path*");
    expect(["/dashboard", "/dashboard/", "/dashboard/a/b"].every((path) => matcher.test(path))).toBe(true);
    expect(["/dashboards", "/admin/dashboard", "/Dashboard"].some((path) => matcher.test(path))).toBe(false);
  });

  it("reads a negative lookahead as Next.js's docs write it", () => {
    const matcher = matcherRegExp("/((?!api|_next/static|_next/image|favicon.ico).*)");
    expect(matcher.test("/settings/danger")).toBe(true);
    expect(matcher.test("/api/private/items")).toBe(false);
  });

  it("refuses what Next.js refuses: capturing groups, a pattern starting with ?, unbalanced groups", () => {
    for (const source of ["/(a(b))", "/(?x)", "/(abc", "/:"])
      expect(() => matcherRegExp(source), source).toThrow(MatcherSyntaxError);
  });
});

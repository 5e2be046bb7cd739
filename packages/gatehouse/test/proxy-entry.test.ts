/**
 * The entry for Next.js's `proxy.ts` (`gatehouse-auth/next/proxy`) must load no native module, no nodemailer
 * and no `node:net`: the proxy runs on every request, before any page, and may be bundled for a runtime that
 * has none of them. This walks the import graph of the built entry (dist/, as a user gets it), through the
 * packages it reaches, static and dynamic imports alike (a bundler follows both), and fails on any of them.
 */
import { existsSync, readFileSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { init, parse } from "es-module-lexer";
import { beforeAll, describe, expect, it } from "vitest";

const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "dist");

/** What must never be reached from the proxy's entry, by specifier. */
const FORBIDDEN = new Set([
  // The Edge runtime (middleware.ts on Next 14 and 15) has no node:crypto: the entry reaches it only at run time.
  "node:crypto",
  "crypto",
  "nodemailer",
  "node:net",
  "net",
  "node:tls",
  "tls",
  "pg",
  "mysql2",
  "ioredis",
  "better-sqlite3",
]);

interface Reached {
  files: Set<string>;
  /** Every bare specifier and built-in reached, e.g. `cookie`, `node:crypto`. */
  specifiers: Set<string>;
  /** Files of packages that are native addons (`.node` binaries, or a package built by node-gyp or napi). */
  native: Set<string>;
}

function packageRoot(file: string): string | null {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
  }
  return null;
}

function isNativePackage(root: string): boolean {
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as Record<string, unknown>;
  return manifest.gypfile === true || "napi" in manifest || existsSync(join(root, "binding.gyp"));
}

/** Import specifiers of a file: ESM (static and dynamic, through es-module-lexer) or CommonJS `require`s. */
function specifiersOf(source: string): string[] {
  const [imports] = parse(source);
  const found = imports.map((entry) => entry.n).filter((name): name is string => typeof name === "string");
  for (const match of source.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)) found.push(match[1] as string);
  return found;
}

function walk(entry: string): Reached {
  const reached: Reached = { files: new Set(), specifiers: new Set(), native: new Set() };
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (reached.files.has(file)) continue;
    reached.files.add(file);
    if (file.endsWith(".node")) {
      reached.native.add(file);
      continue;
    }
    const root = packageRoot(file);
    if (root && !root.startsWith(join(dist, "..")) && isNativePackage(root)) reached.native.add(file);
    const require = createRequire(file);
    for (const specifier of specifiersOf(readFileSync(file, "utf8"))) {
      const bare = !specifier.startsWith(".") && !specifier.startsWith("/");
      if (bare) reached.specifiers.add(specifier);
      if (specifier.startsWith("node:") || builtinModules.includes(specifier)) continue;
      let resolved: string;
      try {
        resolved = require.resolve(specifier);
      } catch {
        // An optional dependency that is not installed cannot be loaded either; it is still listed above.
        continue;
      }
      queue.push(resolved);
    }
  }
  return reached;
}

function problems(reached: Reached): string[] {
  const packageOf = (specifier: string) =>
    specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : (specifier.split("/")[0] as string);
  return [
    ...[...reached.specifiers].filter(
      (s) => FORBIDDEN.has(s) || FORBIDDEN.has(packageOf(s)) || packageOf(s).startsWith("@node-rs/"),
    ),
    ...reached.native,
  ];
}

beforeAll(async () => {
  await init;
});

describe("the proxy entry's import graph", () => {
  it("reaches no native module, no nodemailer, no node:net and no database driver", () => {
    const entry = join(dist, "next", "proxy.js");
    expect(existsSync(entry), "build the library first (npm run build)").toBe(true);
    const reached = walk(entry);
    expect(problems(reached)).toEqual([]);
    // It is the optimistic check and nothing more: the cookie library, and Gatehouse's own files.
    expect([...reached.specifiers].filter((s) => !s.startsWith("node:")).sort()).toEqual(["cookie"]);
  });

  it("would fail: the full entries do reach argon2 and node:net", () => {
    expect(problems(walk(join(dist, "index.js")))).toContain("@node-rs/argon2");
    expect(problems(walk(join(dist, "next", "index.js")))).toContain("node:net");
  });
});

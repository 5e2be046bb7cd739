/**
 * The library's layers, as the README's map draws them: each folder of src/ may import only the folders
 * listed for it. A file that imports upward (session/ reaching into core/, say) fails here with its name.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const src = join(dirname(fileURLToPath(import.meta.url)), "..", "src");

/** Folder (or top-level file) → what it may import besides itself. */
const ALLOWED: Record<string, readonly string[]> = {
  crypto: [],
  "errors.ts": [],
  password: [],
  authz: [],
  session: ["crypto", "errors.ts"],
  stores: ["session", "crypto", "errors.ts"],
  mail: ["stores", "crypto", "errors.ts"],
  core: ["session", "stores", "mail", "password", "authz", "crypto", "errors.ts"],
  http: ["core", "session", "stores", "mail", "password", "authz", "crypto", "errors.ts"],
  next: ["http", "core", "session", "stores", "mail", "password", "authz", "crypto", "errors.ts"],
  react: ["errors.ts"],
  cli: ["core", "session", "stores", "mail", "password", "authz", "crypto", "errors.ts"],
  "index.ts": ["core", "session", "stores", "http", "mail", "password", "authz", "crypto", "errors.ts"],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

/** A file's layer: its folder under src/, or the top-level file itself (imports name `.js`, sources are `.ts`). */
const layerOf = (path: string) => (relative(src, path).split("/")[0] as string).replace(/\.js$/, ".ts");

/** The imports of `files` (path under src/ → text) that the map does not allow. */
function upwardImports(files: ReadonlyArray<{ path: string; text: string }>): string[] {
  const found: string[] = [];
  for (const { path, text } of files) {
    const file = join(src, path);
    const layer = layerOf(file);
    const allowed = ALLOWED[layer];
    if (!allowed) {
      found.push(`${path}: ${layer} is in no layer of the map`);
      continue;
    }
    for (const [, fromSpecifier, dynamic] of text.matchAll(/\bfrom\s+"(\.[^"]+)"|\bimport\(\s*"(\.[^"]+)"\s*\)/g)) {
      const specifier = (fromSpecifier ?? dynamic) as string;
      const target = layerOf(resolve(dirname(file), specifier));
      if (target !== layer && !allowed.includes(target)) found.push(`${path} imports ${specifier}`);
    }
  }
  return found;
}

describe("the library's layers", () => {
  it("import only downward, as the map allows", () => {
    const files = sourceFiles(src).map((file) => ({ path: relative(src, file), text: readFileSync(file, "utf8") }));
    expect(files.length).toBeGreaterThan(50);
    expect(upwardImports(files)).toEqual([]);
  });

  it("names an upward import, static or dynamic, and a file outside the map", () => {
    expect(
      upwardImports([
        { path: "session/cookie.ts", text: 'import { x } from "../core/config.js";' },
        { path: "stores/from-url.ts", text: 'const m = await import("../http/router.js");' },
        { path: "session/ok.ts", text: 'import { y } from "./store.js";\nimport { z } from "../crypto/seal.js";' },
        { path: "extra/thing.ts", text: "" },
      ]),
    ).toEqual([
      "session/cookie.ts imports ../core/config.js",
      "stores/from-url.ts imports ../http/router.js",
      "extra/thing.ts: extra is in no layer of the map",
    ]);
  });
});

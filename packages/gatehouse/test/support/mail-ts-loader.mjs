// Runs the library's TypeScript sources in a plain Node child process (`node --import <this file> child.ts`),
// the way vitest runs them in its workers: each .ts file is transpiled on load with TypeScript (types
// stripped, nothing checked), and a relative `./x.js` resolves to `./x.ts` when only that exists. Outputs are
// kept in the temp folder by the source's hash, so the children after the first start without TypeScript.
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { register } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMainThread } from "node:worker_threads";

// This file is both the entry (`--import`) and the hooks, which Node runs on a thread of their own.
if (isMainThread) register(import.meta.url);

let typescript;
const CACHE = join(tmpdir(), "gatehouse-test-ts");

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const relative = specifier.startsWith("./") || specifier.startsWith("../");
    if (error?.code !== "ERR_MODULE_NOT_FOUND" || !relative || !specifier.endsWith(".js")) throw error;
    return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
  }
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith("file:") || !url.endsWith(".ts")) return nextLoad(url, context);
  const source = await readFile(new URL(url), "utf8");
  const cached = join(CACHE, `${createHash("sha256").update(url).update("\0").update(source).digest("hex")}.js`);
  const hit = await readFile(cached, "utf8").catch(() => null);
  if (hit !== null) return { format: "module", source: hit, shortCircuit: true };
  typescript ??= (await import("typescript")).default;
  const { outputText } = typescript.transpileModule(source, {
    fileName: url,
    compilerOptions: {
      module: typescript.ModuleKind.ESNext,
      target: typescript.ScriptTarget.ES2022,
      jsx: typescript.JsxEmit.ReactJSX,
    },
  });
  await mkdir(CACHE, { recursive: true });
  // Written whole under a name of its own, then renamed: two children starting at once never read half a file.
  const partial = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  await writeFile(partial, outputText);
  await rename(partial, cached);
  return { format: "module", source: outputText, shortCircuit: true };
}

/**
 * `node:crypto` when the runtime has it (Node, Next.js's Node runtime), otherwise `undefined`, in which case
 * callers use WebCrypto (Edge runtimes). `process.getBuiltinModule` avoids a static `import "node:crypto"` so
 * that this file also loads where the module does not exist.
 *
 * The Edge runtime (Next.js `middleware.ts` on 14 and 15, Vercel Edge Functions) announces itself with a global
 * `EdgeRuntime` string, and its `process` throws on any Node API it lacks — `process.getBuiltinModule`
 * included, which would fail the whole module graph at load — so it is not asked there at all.
 */
export const nodeCrypto: typeof import("node:crypto") | undefined = findNodeCrypto(globalThis as RuntimeGlobals);

/** The global object as far as this file reads it; a parameter so that tests can pose as another runtime. */
export interface RuntimeGlobals {
  EdgeRuntime?: unknown;
  process?: { getBuiltinModule?: (id: string) => unknown };
}

/**
 * `node:crypto` from `globals`' runtime, or `undefined` on the Edge runtime and wherever the module is missing.
 *
 * @example
 * ```ts
 * findNodeCrypto({ EdgeRuntime: "edge-runtime", process: edgeProcess }); // undefined, edgeProcess never asked
 * ```
 */
export function findNodeCrypto(globals: RuntimeGlobals): typeof import("node:crypto") | undefined {
  if (typeof globals.EdgeRuntime === "string") return undefined;
  return globals.process?.getBuiltinModule?.("node:crypto") as typeof import("node:crypto") | undefined;
}

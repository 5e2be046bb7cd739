/**
 * `node:crypto` when the runtime has it (Node, Next.js's Node runtime), otherwise `undefined`, in which case
 * callers use WebCrypto (Edge runtimes). `process.getBuiltinModule` avoids a static `import "node:crypto"` so
 * that this file also loads where the module does not exist.
 */
export const nodeCrypto: typeof import("node:crypto") | undefined = (
  globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
).process?.getBuiltinModule?.("node:crypto") as typeof import("node:crypto") | undefined;

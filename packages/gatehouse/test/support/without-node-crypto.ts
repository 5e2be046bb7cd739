/**
 * Edge runtimes have no `node:crypto`. `src/crypto/runtime.ts` detects it once, at load time, through
 * `process.getBuiltinModule`; loading fresh copies of the crypto modules while that lookup answers `undefined`
 * for `node:crypto` gives their WebCrypto implementations, next to the node:crypto ones a test imports as usual.
 */
import { vi } from "vitest";

export interface WebCryptoModules {
  runtime: typeof import("../../src/crypto/runtime.js");
  base64url: typeof import("../../src/crypto/base64url.js");
  seal: typeof import("../../src/crypto/seal.js");
}

export async function importWithoutNodeCrypto(): Promise<WebCryptoModules> {
  const original = process.getBuiltinModule;
  vi.resetModules();
  process.getBuiltinModule = ((id: string) =>
    id === "node:crypto" || id === "crypto" ? undefined : original.call(process, id)) as typeof original;
  try {
    return {
      runtime: await import("../../src/crypto/runtime.js"),
      base64url: await import("../../src/crypto/base64url.js"),
      seal: await import("../../src/crypto/seal.js"),
    };
  } finally {
    process.getBuiltinModule = original;
    vi.resetModules();
  }
}

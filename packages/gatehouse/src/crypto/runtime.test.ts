import * as crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { findNodeCrypto, nodeCrypto } from "./runtime.js";

/** A `process` like the Edge runtime's: any Node API it lacks throws when it is merely read. */
const edgeProcess = new Proxy(
  {},
  {
    get(_target, name) {
      throw new Error(`A Node.js API is used (process.${String(name)}) which is not supported in the Edge Runtime.`);
    },
  },
);

describe("finding node:crypto", () => {
  it("finds it on Node", () => {
    expect(nodeCrypto?.createHash).toBe(crypto.createHash);
    expect(findNodeCrypto({ process })?.createHash).toBe(crypto.createHash);
  });

  it("does not ask the Edge runtime's process for it: reading process.getBuiltinModule there throws", () => {
    expect(findNodeCrypto({ EdgeRuntime: "edge-runtime", process: edgeProcess })).toBeUndefined();
  });

  it("answers undefined where there is no process or no getBuiltinModule (browsers, workers)", () => {
    expect(findNodeCrypto({})).toBeUndefined();
    expect(findNodeCrypto({ process: {} })).toBeUndefined();
  });
});

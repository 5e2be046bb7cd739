import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { importWithoutNodeCrypto, type WebCryptoModules } from "../../test/support/without-node-crypto.js";
import * as nodeBase64url from "./base64url.js";
import * as nodeSeal from "./seal.js";

const SECRET_A = "secret-A-0123456789abcdef0123456789abcdef";
const SECRET_B = "secret-B-fedcba9876543210fedcba9876543210";
const PAYLOAD = { u: "user-1", v: 0, c: 1_700_000_000, e: 1_700_604_800, name: "Zoë 🔐" };

let web: WebCryptoModules;

beforeAll(async () => {
  web = await importWithoutNodeCrypto();
});

describe("the WebCrypto path (no node:crypto)", () => {
  it("is really taken: the reloaded runtime reports no node:crypto and sealing goes through crypto.subtle", async () => {
    expect(web.runtime.nodeCrypto).toBeUndefined();
    expect(web.seal.createSealer).not.toBe(nodeSeal.createSealer);
    const encrypt = vi.spyOn(globalThis.crypto.subtle, "encrypt");
    const decrypt = vi.spyOn(globalThis.crypto.subtle, "decrypt");
    try {
      const sealer = web.seal.createSealer([SECRET_A], "session");
      await sealer.open(await sealer.seal(PAYLOAD));
      expect(encrypt).toHaveBeenCalledTimes(1);
      expect(decrypt).toHaveBeenCalledTimes(1);
      encrypt.mockClear();
      const nodeSealer = nodeSeal.createSealer([SECRET_A], "session");
      await nodeSealer.open(await nodeSealer.seal(PAYLOAD));
      expect(encrypt).not.toHaveBeenCalled();
    } finally {
      encrypt.mockRestore();
      decrypt.mockRestore();
    }
  });

  it("encodes base64url exactly as Buffer does, for every length from 0 to 64 bytes", () => {
    for (let length = 0; length <= 64; length++) {
      const bytes = new Uint8Array(randomBytes(length));
      const encoded = web.base64url.encodeBase64url(bytes);
      expect(encoded).toBe(Buffer.from(bytes).toString("base64url"));
      expect(web.base64url.decodeBase64url(encoded)).toEqual(bytes);
    }
  });

  it("is as strict as the node:crypto path when decoding base64url", () => {
    for (const text of ["ab+c", "ab/c", "abc=", "abcde", "a b c", "ä", "\u0000"]) {
      expect(web.base64url.decodeBase64url(text), text).toBeNull();
      expect(nodeBase64url.decodeBase64url(text), text).toBeNull();
    }
  });

  it("opens what it sealed", async () => {
    const sealer = web.seal.createSealer([SECRET_A], "session");
    expect(await sealer.open(await sealer.seal(PAYLOAD))).toEqual(PAYLOAD);
  });

  it("returns null for every single-byte flip", async () => {
    const sealer = web.seal.createSealer([SECRET_A], "session");
    const raw = nodeBase64url.decodeBase64url((await sealer.seal(PAYLOAD)).slice(3)) as Uint8Array;
    const accepted: number[] = [];
    for (let position = 0; position < raw.length; position++) {
      const flipped = Uint8Array.from(raw);
      flipped[position] = (flipped[position] as number) ^ 0x01;
      if ((await sealer.open(`g1.${nodeBase64url.encodeBase64url(flipped)}`)) !== null) accepted.push(position);
    }
    expect(accepted).toEqual([]);
  });

  it("returns null for garbage", async () => {
    const sealer = web.seal.createSealer([SECRET_A], "session");
    for (const value of [
      "",
      "g1.",
      "g1.🔐",
      `g1.${"A".repeat(8192)}`,
      "g1.abc+/=",
      "g2.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ]) {
      expect(await sealer.open(value)).toBeNull();
    }
  });

  it("rotates keys and separates purposes like the node:crypto path", async () => {
    const sealedWithA = await web.seal.createSealer([SECRET_A], "session").seal(PAYLOAD);
    expect(await web.seal.createSealer([SECRET_B, SECRET_A], "session").open(sealedWithA)).toEqual(PAYLOAD);
    expect(await web.seal.createSealer([SECRET_B], "session").open(sealedWithA)).toBeNull();
    expect(await web.seal.createSealer([SECRET_A], "other").open(sealedWithA)).toBeNull();
  });
});

describe("cross-compatibility between node:crypto and WebCrypto", () => {
  it("opens with WebCrypto what node:crypto sealed", async () => {
    const sealed = await nodeSeal.createSealer([SECRET_A], "session").seal(PAYLOAD);
    expect(await web.seal.createSealer([SECRET_A], "session").open(sealed)).toEqual(PAYLOAD);
  });

  it("opens with node:crypto what WebCrypto sealed", async () => {
    const sealed = await web.seal.createSealer([SECRET_A], "session").seal(PAYLOAD);
    expect(await nodeSeal.createSealer([SECRET_A], "session").open(sealed)).toEqual(PAYLOAD);
  });

  it("agrees on rotation: a WebCrypto value sealed with [B, A] opens on node:crypto with B, not with A", async () => {
    const sealed = await web.seal.createSealer([SECRET_B, SECRET_A], "session").seal(PAYLOAD);
    expect(await nodeSeal.createSealer([SECRET_B], "session").open(sealed)).toEqual(PAYLOAD);
    expect(await nodeSeal.createSealer([SECRET_A], "session").open(sealed)).toBeNull();
  });

  it("agrees on purposes: a node:crypto value for one purpose does not open on WebCrypto for another", async () => {
    const sealed = await nodeSeal.createSealer([SECRET_A], "session").seal(PAYLOAD);
    expect(await web.seal.createSealer([SECRET_A], "other").open(sealed)).toBeNull();
  });
});

import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decodeBase64url, encodeBase64url } from "./base64url.js";
import { createSealer } from "./seal.js";

const SECRET_A = "secret-A-0123456789abcdef0123456789abcdef";
const SECRET_B = "secret-B-fedcba9876543210fedcba9876543210";
const PAYLOAD = { u: "user-1", v: 3, c: 1_700_000_000, e: 1_700_604_800 };

/** The raw bytes (iv ‖ ciphertext ‖ tag) of a sealed value. */
function rawBytes(sealed: string): Uint8Array {
  expect(sealed.startsWith("g1.")).toBe(true);
  const raw = decodeBase64url(sealed.slice(3));
  if (!raw) throw new Error("sealed value is not base64url");
  return raw;
}

function reseal(raw: Uint8Array): string {
  return `g1.${encodeBase64url(raw)}`;
}

describe("createSealer", () => {
  const sealer = createSealer([SECRET_A], "session");

  it("opens what it sealed", async () => {
    for (const payload of [PAYLOAD, "text", 42, [1, "two", null], { nested: { ünïcödé: "🔐" } }, true]) {
      expect(await sealer.open(await sealer.seal(payload))).toEqual(payload);
    }
  });

  it("produces the versioned format g1.<base64url of iv[12] ‖ ciphertext ‖ tag[16]>", async () => {
    const sealed = await sealer.seal(PAYLOAD);
    expect(sealed).toMatch(/^g1\.[A-Za-z0-9_-]+$/);
    expect(rawBytes(sealed).length).toBe(12 + JSON.stringify(PAYLOAD).length + 16);
  });

  it("uses a fresh iv for every seal of the same payload", async () => {
    const first = await sealer.seal(PAYLOAD);
    const second = await sealer.seal(PAYLOAD);
    expect(first).not.toBe(second);
    expect(rawBytes(first).subarray(0, 12)).not.toEqual(rawBytes(second).subarray(0, 12));
  });

  it("does not reveal the payload in the sealed value", async () => {
    const sealed = await sealer.seal({ email: "alice@example.com", role: "admin" });
    const decoded = Buffer.from(rawBytes(sealed)).toString("latin1");
    expect(decoded).not.toContain("alice");
    expect(decoded).not.toContain("admin");
    expect(sealed).not.toContain("alice");
  });

  it("refuses to be created without a secret", () => {
    expect(() => createSealer([], "session")).toThrow(TypeError);
  });
});

describe("opening tampered values", () => {
  const sealer = createSealer([SECRET_A], "session");

  it("returns null for every single-byte flip of iv, ciphertext and tag", async () => {
    const raw = rawBytes(await sealer.seal(PAYLOAD));
    const accepted: string[] = [];
    for (let position = 0; position < raw.length; position++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const flipped = Uint8Array.from(raw);
        flipped[position] = (flipped[position] as number) ^ mask;
        if ((await sealer.open(reseal(flipped))) !== null) accepted.push(`byte ${position} ^ ${mask}`);
      }
    }
    expect(accepted).toEqual([]);
    // The untouched bytes still open, so the loop above really exercised the cipher.
    expect(await sealer.open(reseal(raw))).toEqual(PAYLOAD);
  });

  it("returns null when the last character is changed only in bits that carry no data", async () => {
    // Pick a payload whose sealed length leaves unused bits in the last base64url character.
    let sealed = await sealer.seal({ ...PAYLOAD, pad: "" });
    for (let pad = "x"; rawBytes(sealed).length % 3 === 0; pad += "x") sealed = await sealer.seal({ ...PAYLOAD, pad });
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(sealed.at(-1) as string);
    const tampered = sealed.slice(0, -1) + alphabet[last | 1];
    expect(tampered).not.toBe(sealed);
    expect(await sealer.open(tampered)).toBeNull();
  });

  it("returns null for truncated values", async () => {
    const sealed = await sealer.seal(PAYLOAD);
    const raw = rawBytes(sealed);
    const truncated = [
      sealed.slice(0, -1),
      sealed.slice(0, -4),
      sealed.slice(0, sealed.length / 2),
      "g1.",
      "g1",
      "",
      reseal(raw.subarray(0, raw.length - 1)),
      reseal(raw.subarray(0, raw.length - 16)),
      reseal(raw.subarray(0, 12 + 16)),
      reseal(raw.subarray(0, 12)),
      reseal(raw.subarray(1)),
    ];
    for (const value of truncated) expect(await sealer.open(value), JSON.stringify(value)).toBeNull();
  });

  it("returns null when the prefix or version is wrong", async () => {
    const body = (await sealer.seal(PAYLOAD)).slice(3);
    for (const value of [
      `g2.${body}`,
      `G1.${body}`,
      `g0.${body}`,
      `g1${body}`,
      `g1..${body}`,
      ` g1.${body}`,
      body,
      `v1.${body}`,
    ]) {
      expect(await sealer.open(value), value.slice(0, 5)).toBeNull();
    }
  });

  it("returns null for garbage, however long or strange", async () => {
    const garbage = [
      "x".repeat(8 * 1024),
      `g1.${"A".repeat(8 * 1024)}`,
      `g1.${encodeBase64url(randomBytes(3000))}`,
      "g1.abc+def/ghi=",
      "g1.abcd efgh",
      "g1.abc\u0000defghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMN",
      "\u0000\u0000\u0000",
      "g1.🔐🔐🔐🔐🔐🔐🔐🔐🔐🔐🔐🔐🔐🔐🔐🔐🔐🔐🔐🔐🔐🔐🔐🔐",
      "🍪",
      "g1.%zz%zz%zz%zz%zz%zz%zz%zz%zz%zz%zz%zz%zz%zz",
      "eyJhbGciOiJub25lIn0.eyJ1IjoiYWRtaW4ifQ.",
    ];
    for (let i = 0; i < 200; i++) {
      const length = 1 + (randomBytes(1)[0] as number);
      garbage.push(`g1.${randomBytes(length).toString("latin1")}`, `g1.${encodeBase64url(randomBytes(length))}`);
    }
    for (const value of garbage) expect(await sealer.open(value)).toBeNull();
  });

  it("returns null for values that are not strings", async () => {
    for (const value of [undefined, null, 42, {}, ["g1.x"]]) {
      expect(await sealer.open(value as unknown as string)).toBeNull();
    }
  });
});

describe("key rotation", () => {
  it("opens a value sealed with the old secret once a new one is put in front", async () => {
    const sealed = await createSealer([SECRET_A], "session").seal(PAYLOAD);
    expect(await createSealer([SECRET_B, SECRET_A], "session").open(sealed)).toEqual(PAYLOAD);
  });

  it("seals with the first secret only", async () => {
    const sealed = await createSealer([SECRET_B, SECRET_A], "session").seal(PAYLOAD);
    expect(await createSealer([SECRET_B], "session").open(sealed)).toEqual(PAYLOAD);
    expect(await createSealer([SECRET_A], "session").open(sealed)).toBeNull();
  });

  it("does not open a value sealed with a secret that was removed", async () => {
    const sealed = await createSealer([SECRET_A], "session").seal(PAYLOAD);
    expect(await createSealer([SECRET_B], "session").open(sealed)).toBeNull();
  });
});

describe("purpose separation", () => {
  it("does not open a value sealed for another purpose with the same secret", async () => {
    const sealed = await createSealer([SECRET_A], "session").seal(PAYLOAD);
    expect(await createSealer([SECRET_A], "other").open(sealed)).toBeNull();
    expect(await createSealer([SECRET_A], "session").open(sealed)).toEqual(PAYLOAD);
  });
});

import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decodeBase64url as decodeToBuffer, encodeBase64url } from "./base64url.js";

/** Node returns a Buffer; compare plain bytes. */
function decodeBase64url(text: string): Uint8Array | null {
  const bytes = decodeToBuffer(text);
  return bytes === null ? null : new Uint8Array(bytes);
}

describe("encodeBase64url / decodeBase64url", () => {
  it("round-trips every length from 0 to 100 bytes", () => {
    for (let length = 0; length <= 100; length++) {
      const bytes = new Uint8Array(randomBytes(length));
      const encoded = encodeBase64url(bytes);
      expect(encoded).toMatch(/^[A-Za-z0-9_-]*$/);
      expect(decodeBase64url(encoded)).toEqual(bytes);
    }
  });

  it("encodes without padding, with - and _ in place of + and /", () => {
    expect(encodeBase64url(new Uint8Array([0xfb, 0xff]))).toBe("-_8");
    expect(encodeBase64url(new Uint8Array([0xff]))).toBe("_w");
    expect(encodeBase64url(new Uint8Array([]))).toBe("");
  });

  it("encodes only the bytes of a view, not the whole underlying buffer", () => {
    const buffer = new Uint8Array([1, 2, 3, 4, 5, 6]);
    expect(encodeBase64url(buffer.subarray(2, 4))).toBe(encodeBase64url(new Uint8Array([3, 4])));
  });

  it("matches the RFC 4648 test vectors (in the url alphabet, unpadded)", () => {
    const vectors: Array<[string, string]> = [
      ["", ""],
      ["f", "Zg"],
      ["fo", "Zm8"],
      ["foo", "Zm9v"],
      ["foob", "Zm9vYg"],
      ["fooba", "Zm9vYmE"],
      ["foobar", "Zm9vYmFy"],
    ];
    for (const [text, encoded] of vectors) {
      expect(encodeBase64url(new TextEncoder().encode(text))).toBe(encoded);
      expect(new TextDecoder().decode(decodeBase64url(encoded) as Uint8Array)).toBe(text);
    }
  });

  it("rejects the standard alphabet's + and /", () => {
    expect(decodeBase64url("-_8")).toEqual(new Uint8Array([0xfb, 0xff]));
    expect(decodeBase64url("+/8")).toBeNull();
    expect(decodeBase64url("ab+c")).toBeNull();
    expect(decodeBase64url("ab/c")).toBeNull();
  });

  it("rejects padding", () => {
    expect(decodeBase64url("Zg==")).toBeNull();
    expect(decodeBase64url("Zm8=")).toBeNull();
  });

  it("rejects lengths that no byte string encodes to (length % 4 == 1)", () => {
    expect(decodeBase64url("A")).toBeNull();
    expect(decodeBase64url("Zm9vY")).toBeNull();
    expect(decodeBase64url("Zm9vYmFyZ")).toBeNull();
  });

  it("rejects non-canonical encodings whose unused trailing bits are set (RFC 4648 §3.5)", () => {
    // "AA" and "AAA" are the only encodings of 0x00 and 0x0000; "AB" and "AAB" set bits that carry no data.
    expect(decodeBase64url("AA")).toEqual(new Uint8Array([0]));
    expect(decodeBase64url("AB")).toBeNull();
    expect(decodeBase64url("AAB")).toBeNull();
    expect(decodeBase64url("Zh")).toBeNull(); // "Zg" is "f"
  });

  it("rejects whitespace, NUL, non-ASCII and percent-encoding", () => {
    for (const text of ["Zm9v Yg", " Zm9v", "Zm9v\n", "Zm9v\u0000", "Zm9vä", "🔐", "Zm%39v", "Zm9v."]) {
      expect(decodeBase64url(text), JSON.stringify(text)).toBeNull();
    }
  });
});

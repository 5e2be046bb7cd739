import { describe, expect, it } from "vitest";
import { decodeBase64url } from "./base64url.js";
import { randomToken } from "./random.js";

describe("randomToken", () => {
  it("returns exactly the requested number of bytes, base64url-encoded", () => {
    for (const byteLength of [1, 12, 16, 24, 32, 64]) {
      const token = randomToken(byteLength);
      expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(token.length).toBe(Math.ceil((byteLength * 4) / 3));
      expect(decodeBase64url(token)?.length).toBe(byteLength);
    }
  });

  it("never repeats a 16-byte token over 1000 draws", () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => randomToken(16)));
    expect(tokens.size).toBe(1000);
  });

  it("varies every byte position across 1000 draws (none is stuck)", () => {
    // A broken generator (zero-filled buffer, a constant) would leave some byte identical in every draw.
    const draws = Array.from({ length: 1000 }, () => decodeBase64url(randomToken(16)) as Uint8Array);
    for (let position = 0; position < 16; position++) {
      const values = new Set(draws.map((bytes) => bytes[position]));
      expect(values.size, `byte ${position}`).toBeGreaterThan(100);
    }
  });
});

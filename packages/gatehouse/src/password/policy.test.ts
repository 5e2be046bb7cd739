import { describe, expect, it } from "vitest";
import { checkPassword, DEFAULT_PASSWORD_POLICY, normalizePassword } from "./policy.js";

describe("normalizePassword", () => {
  it("folds full-width characters to ASCII (NFKC)", () => {
    expect(normalizePassword("ｐａｓｓｗｏｒｄ１２")).toBe("password12");
  });

  it("makes composed and decomposed accents equal", () => {
    const composed = "caf\u00e9-password";
    const decomposed = "cafe\u0301-password";
    expect(composed).not.toBe(decomposed);
    expect(normalizePassword(composed)).toBe(normalizePassword(decomposed));
  });

  it("keeps case, spaces and emoji", () => {
    expect(normalizePassword("Correct Horse 🐴 Battery")).toBe("Correct Horse 🐴 Battery");
  });
});

describe("checkPassword with the default policy (8 to 256)", () => {
  it("accepts 8 characters and rejects 7", () => {
    expect(checkPassword("abcdefgh", DEFAULT_PASSWORD_POLICY)).toBeNull();
    expect(checkPassword("abcdefg", DEFAULT_PASSWORD_POLICY)).toMatchObject({
      code: "too_short",
      min: 8,
      message: expect.stringMatching(/at least 8/),
    });
  });

  it("counts code points, not UTF-16 units: 8 emoji are accepted, 4 are not", () => {
    const eight = "🔐🐴🍪🚀🌍🎉🧪🔑";
    expect(eight.length).toBe(16);
    expect(checkPassword(eight, DEFAULT_PASSWORD_POLICY)).toBeNull();
    const four = "🔐🐴🍪🚀";
    expect(four.length).toBe(8);
    expect(checkPassword(four, DEFAULT_PASSWORD_POLICY)).toMatchObject({
      code: "too_short",
      min: 8,
      message: expect.stringMatching(/at least 8/),
    });
  });

  it("accepts 256 characters and rejects 257", () => {
    expect(checkPassword("a".repeat(256), DEFAULT_PASSWORD_POLICY)).toBeNull();
    expect(checkPassword("a".repeat(257), DEFAULT_PASSWORD_POLICY)).toMatchObject({
      code: "too_long",
      max: 256,
      message: expect.stringMatching(/at most 256/),
    });
  });

  it("accepts 256 emoji (512 UTF-16 units) and rejects 257", () => {
    expect(checkPassword("🔐".repeat(256), DEFAULT_PASSWORD_POLICY)).toBeNull();
    expect(checkPassword("🔐".repeat(257), DEFAULT_PASSWORD_POLICY)).toMatchObject({
      code: "too_long",
      max: 256,
      message: expect.stringMatching(/at most 256/),
    });
  });

  it("accepts a 64-character passphrase with spaces and emoji", () => {
    const passphrase = "correct horse battery staple 🐴 and more words to reach sixty-fou";
    expect([...passphrase].length).toBe(64);
    expect(checkPassword(passphrase, DEFAULT_PASSWORD_POLICY)).toBeNull();
  });

  it("rejects a NUL character", () => {
    expect(checkPassword("password\u0000123", DEFAULT_PASSWORD_POLICY)).toMatchObject({
      code: "invalid_character",
      message: expect.stringMatching(/not allowed/),
    });
  });

  it("follows a custom policy", () => {
    const policy = { minLength: 15, maxLength: 64 };
    expect(checkPassword("a".repeat(14), policy)).toMatchObject({
      code: "too_short",
      min: 15,
      message: expect.stringMatching(/at least 15/),
    });
    expect(checkPassword("a".repeat(15), policy)).toBeNull();
    expect(checkPassword("a".repeat(65), policy)).toMatchObject({
      code: "too_long",
      max: 64,
      message: expect.stringMatching(/at most 64/),
    });
  });
});

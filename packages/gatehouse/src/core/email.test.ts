import { describe, expect, it } from "vitest";
import { isValidEmail, normalizeEmail } from "./email.js";

/** A syntactically valid address of exactly `length` characters. */
function addressOfLength(length: number): string {
  const domain = `${"x".repeat(63)}.${"y".repeat(63)}.${"z".repeat(63)}.com`;
  const local = "a".repeat(length - 1 - domain.length);
  return `${local}@${domain}`;
}

describe("normalizeEmail", () => {
  it("trims and lower-cases", () => {
    expect(normalizeEmail("  Alice@Example.COM \n")).toBe("alice@example.com");
    expect(normalizeEmail("\tBOB@x.io")).toBe("bob@x.io");
  });

  it("is idempotent", () => {
    const once = normalizeEmail(" Carol@Example.com ");
    expect(normalizeEmail(once)).toBe(once);
  });
});

describe("isValidEmail", () => {
  it("accepts ordinary addresses", () => {
    for (const email of [
      "a@b.co",
      "first.last@example.com",
      "user+tag@sub.example.org",
      "o'neil@example.ie",
      "x_y-z@a-b.example",
    ]) {
      expect(isValidEmail(email), email).toBe(true);
    }
  });

  it("rejects a comma-separated list of addresses", () => {
    expect(isValidEmail("a,b@x.com")).toBe(false);
    expect(isValidEmail("a@x.com,b@y.com")).toBe(false);
  });

  it('rejects a quoted local part that hides a second address ("e@attacker.com"@victim.com)', () => {
    expect(isValidEmail('"e@attacker.com"@victim.com')).toBe(false);
  });

  it("rejects the full-width ＠ and other non-ASCII look-alikes", () => {
    expect(isValidEmail("a＠b.com")).toBe(false);
    expect(isValidEmail(normalizeEmail("a＠b.com"))).toBe(false);
    expect(isValidEmail("a@b．com")).toBe(false);
    expect(isValidEmail("аlice@example.com")).toBe(false); // Cyrillic а
  });

  it("rejects a domain without a dot", () => {
    expect(isValidEmail("a@localhost")).toBe(false);
  });

  it("rejects spaces, angle brackets and control characters", () => {
    for (const email of [
      "a b@x.com",
      "a@x .com",
      "<a@x.com>",
      "Alice <a@x.com>",
      "a@x.com\r\nBcc: b@y.com",
      "a\u0000@x.com",
    ]) {
      expect(isValidEmail(email), JSON.stringify(email)).toBe(false);
    }
  });

  it("rejects missing parts and a second @", () => {
    for (const email of ["", "@x.com", "a@", "a@.com", "a@x.", "a@@x.com", "a@b@x.com", "a@-x.com", "a@x-.com"]) {
      expect(isValidEmail(email), email).toBe(false);
    }
  });

  it("accepts 254 characters and rejects 255", () => {
    expect(addressOfLength(254).length).toBe(254);
    expect(isValidEmail(addressOfLength(254))).toBe(true);
    expect(isValidEmail(addressOfLength(255))).toBe(false);
  });

  it("rejects a 200,000-character input", () => {
    expect(isValidEmail(`${"a".repeat(100_000)}@${"b.".repeat(50_000)}`)).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import { decodeBase64url } from "../crypto/base64url.js";
import { generateSessionToken, parseSessionToken } from "./token.js";

describe("generateSessionToken", () => {
  it("returns id.secret with a 96-bit id and a 192-bit secret", () => {
    const token = generateSessionToken();
    expect(token.value).toBe(`${token.id}.${token.secret}`);
    expect(decodeBase64url(token.id)?.length).toBe(12);
    expect(decodeBase64url(token.secret)?.length).toBe(24);
  });

  it("never repeats an id or a secret over 1000 tokens", () => {
    const tokens = Array.from({ length: 1000 }, generateSessionToken);
    expect(new Set(tokens.map((t) => t.id)).size).toBe(1000);
    expect(new Set(tokens.map((t) => t.secret)).size).toBe(1000);
  });
});

describe("parseSessionToken", () => {
  it("splits a token it issued", () => {
    const token = generateSessionToken();
    expect(parseSessionToken(token.value)).toEqual({ id: token.id, secret: token.secret });
  });

  it("returns null for anything of another shape", () => {
    const { id, secret, value } = generateSessionToken();
    for (const bad of [
      "",
      id,
      secret,
      `${id}.`,
      `.${secret}`,
      `${id}${secret}`,
      `${id}.${secret}.x`,
      `${id}.${secret.slice(1)}`,
      `${id.slice(1)}.${secret}`,
      `${value} `,
      ` ${value}`,
      `${id}.${secret.slice(1)}+`,
      `${id}.${secret.slice(1)}=`,
      `${value}\n`,
      "x".repeat(8192),
    ]) {
      expect(parseSessionToken(bad), JSON.stringify(bad)).toBeNull();
    }
  });
});

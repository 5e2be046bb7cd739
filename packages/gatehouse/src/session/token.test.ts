import { describe, expect, it } from "vitest";
import { randomToken } from "../crypto/random.js";
import { createDatabaseCodec } from "./database.js";
import { parseSessionToken } from "./token.js";

/** A token as the database codec issues it for a session id as the manager makes it (12 random bytes). */
async function issueToken(): Promise<{ id: string; secret: string; value: string }> {
  const id = randomToken(12);
  const now = new Date();
  const { value } = await createDatabaseCodec().issue({
    id,
    userId: "u1",
    userVersion: 0,
    revocationEpoch: 0,
    createdAt: now,
    expiresAt: now,
    lastSeenAt: now,
    userAgent: null,
    ip: null,
  });
  const secret = value.slice(id.length + 1);
  return { id, secret, value };
}

describe("parseSessionToken", () => {
  it("splits a token the database codec issued into its id and secret", async () => {
    const token = await issueToken();
    expect(token.value).toBe(`${token.id}.${token.secret}`);
    expect(parseSessionToken(token.value)).toEqual({ id: token.id, secret: token.secret });
  });

  it("returns null for anything of another shape", async () => {
    const { id, secret, value } = await issueToken();
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

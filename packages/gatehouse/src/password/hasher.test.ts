import { describe, expect, it } from "vitest";
import { createArgon2idHasher, OWASP_ARGON2ID } from "./hasher.js";

const CHEAP = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
const PASSWORD = "correct horse battery staple";

describe("createArgon2idHasher with the default (OWASP) parameters", () => {
  const hasher = createArgon2idHasher();

  it("defaults to m=19456 KiB, t=2, p=1", () => {
    expect(OWASP_ARGON2ID).toEqual({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
  });

  it("produces an argon2id v19 PHC string with those parameters and a 128-bit salt", async () => {
    const phc = await hasher.hash(PASSWORD);
    expect(phc.startsWith("$argon2id$v=19$m=19456,t=2,p=1$")).toBe(true);
    const [, , , , salt, hash] = phc.split("$");
    expect(Buffer.from(salt as string, "base64").length).toBeGreaterThanOrEqual(16);
    expect(Buffer.from(hash as string, "base64").length).toBe(32);
    expect(phc).not.toContain(PASSWORD);
  });

  it("salts every hash: the same password hashes differently twice", async () => {
    expect(await hasher.hash(PASSWORD)).not.toBe(await hasher.hash(PASSWORD));
  });

  it("verifies the right password and refuses a wrong, truncated or case-flipped one", async () => {
    const phc = await hasher.hash(PASSWORD);
    expect(await hasher.verify(phc, PASSWORD)).toBe(true);
    expect(await hasher.verify(phc, "correct horse battery stapler")).toBe(false);
    expect(await hasher.verify(phc, PASSWORD.slice(0, -1))).toBe(false);
    expect(await hasher.verify(phc, PASSWORD.toUpperCase())).toBe(false);
    expect(await hasher.verify(phc, "")).toBe(false);
  });

  it("does not need a rehash for a hash made with the current parameters", async () => {
    expect(hasher.needsRehash(await hasher.hash(PASSWORD))).toBe(false);
  });

  it("needs a rehash for a hash made with other parameters", async () => {
    const cheap = await createArgon2idHasher(CHEAP).hash(PASSWORD);
    expect(hasher.needsRehash(cheap)).toBe(true);
  });
});

describe("createArgon2idHasher with custom parameters", () => {
  const hasher = createArgon2idHasher(CHEAP);

  it("writes its parameters into the PHC string", async () => {
    expect((await hasher.hash(PASSWORD)).startsWith("$argon2id$v=19$m=1024,t=1,p=1$")).toBe(true);
  });

  it("verifies hashes made with other parameters (they are read from the PHC string)", async () => {
    const owasp = await createArgon2idHasher().hash(PASSWORD);
    expect(await hasher.verify(owasp, PASSWORD)).toBe(true);
    expect(await hasher.verify(owasp, "wrong password")).toBe(false);
  });

  it("needs a rehash when only one parameter differs", async () => {
    for (const params of [
      { ...CHEAP, memoryCost: 2048 },
      { ...CHEAP, timeCost: 2 },
      { ...CHEAP, parallelism: 2 },
    ]) {
      expect(createArgon2idHasher(params).needsRehash(await hasher.hash(PASSWORD))).toBe(true);
    }
    expect(createArgon2idHasher({ ...CHEAP }).needsRehash(await hasher.hash(PASSWORD))).toBe(false);
  });
});

describe("unreadable hashes", () => {
  const hasher = createArgon2idHasher(CHEAP);
  const garbage = [
    "",
    "garbage",
    "$argon2id$",
    "$argon2id$v=19$m=1024,t=1,p=1$AAAA$BBBB",
    "$argon2id$v=19$m=abc,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
    "$2b$10$abcdefghijklmnopqrstuuJ0Lr0fA3h1J/9Q5h5y4P7M1zm3bL4y.",
    "\u0000\u0000",
    "🔐",
  ];

  it("verify returns false and never throws", async () => {
    for (const phc of garbage) await expect(hasher.verify(phc, PASSWORD), JSON.stringify(phc)).resolves.toBe(false);
  });

  it("needsRehash answers true rather than throwing", () => {
    for (const phc of garbage) expect(hasher.needsRehash(phc), JSON.stringify(phc)).toBe(true);
  });

  it("needsRehash is true for argon2i and argon2d hashes", async () => {
    const { hash } = await import("@node-rs/argon2");
    const argon2i = await hash(PASSWORD, { ...CHEAP, algorithm: 1 });
    const argon2d = await hash(PASSWORD, { ...CHEAP, algorithm: 0 });
    expect(argon2i.startsWith("$argon2i$")).toBe(true);
    expect(hasher.needsRehash(argon2i)).toBe(true);
    expect(hasher.needsRehash(argon2d)).toBe(true);
  });
});

/**
 * Property tests: the unsealer, on node:crypto and on WebCrypto, opens only what it sealed. Arbitrary strings
 * and every mutation of a genuine value open to null, never to a payload and never with an exception.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { hostileJsonValue, hostileString } from "../../test/support/fuzz.js";
import { importWithoutNodeCrypto, type WebCryptoModules } from "../../test/support/without-node-crypto.js";
import * as nodeSeal from "./seal.js";

const SECRET = "fuzz-secret-0123456789abcdef0123456789";
const OTHER_SECRET = "fuzz-other-0123456789abcdef0123456789";
const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".split("");

let web: WebCryptoModules;
beforeAll(async () => {
  web = await importWithoutNodeCrypto();
});

/** A change to a sealed value: flip, replace, delete or insert one character, truncate, extend, or re-prefix. */
type Mutation = (value: string) => string;
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.nat(), fc.constantFrom(...BASE64URL, ".", "=", "+", "/", " ", "\u0000", "é")).map(
    ([at, char]): Mutation =>
      (value) => {
        const i = at % value.length;
        return value.slice(0, i) + char + value.slice(i + 1);
      },
  ),
  fc.nat().map(
    (at): Mutation =>
      (value) => {
        const i = at % value.length;
        return value.slice(0, i) + value.slice(i + 1);
      },
  ),
  fc.tuple(fc.nat(), fc.constantFrom(...BASE64URL)).map(
    ([at, char]): Mutation =>
      (value) => {
        const i = at % (value.length + 1);
        return value.slice(0, i) + char + value.slice(i);
      },
  ),
  fc.nat().map(
    (keep): Mutation =>
      (value) =>
        value.slice(0, keep % value.length),
  ),
  fc.string({ unit: fc.constantFrom(...BASE64URL), minLength: 1, maxLength: 8 }).map(
    (tail): Mutation =>
      (value) =>
        value + tail,
  ),
  fc.constantFrom<Mutation>(
    (value) => value.replace(/^g1\./, "g2."),
    (value) => value.replace(/^g1\./, "G1."),
    (value) => value.replace(/^g1\./, ""),
    (value) => ` ${value}`,
    (value) => value.toUpperCase(),
    (value) => encodeURIComponent(`${value}=`),
  ),
);

describe.each(["node:crypto", "WebCrypto"] as const)("Sealer.open on arbitrary input (%s)", (implementation) => {
  const sealerFor = (secrets: string[], purpose = "session") =>
    (implementation === "WebCrypto" ? web.seal : nodeSeal).createSealer(secrets, purpose);

  it("opens arbitrary strings to null, without throwing", async () => {
    const sealer = sealerFor([SECRET]);
    const candidates = fc.oneof(
      hostileString(120),
      fc.string({ unit: fc.constantFrom(...BASE64URL), maxLength: 200 }).map((body) => `g1.${body}`),
    );
    await fc.assert(
      fc.asyncProperty(candidates, async (value) => {
        expect(await sealer.open(value)).toBeNull();
      }),
      { numRuns: 3000 },
    );
  });

  it("opens a genuine value to its payload, and every mutation of it to null", async () => {
    const sealer = sealerFor([SECRET]);
    await fc.assert(
      fc.asyncProperty(
        hostileJsonValue,
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        async (payload, mutations) => {
          // Keep payloads within a cookie's size, as the sessions Gatehouse seals are.
          fc.pre((JSON.stringify(payload) ?? "").length < 2000);
          const sealed = await sealer.seal(payload);
          expect(await sealer.open(sealed)).toEqual(JSON.parse(JSON.stringify(payload)));
          const mutated = mutations.reduce((value, mutate) => mutate(value), sealed);
          if (mutated !== sealed) expect(await sealer.open(mutated)).toBeNull();
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("does not open a value sealed for another purpose or with another secret", async () => {
    const sealer = sealerFor([SECRET]);
    await fc.assert(
      fc.asyncProperty(hostileJsonValue, async (payload) => {
        fc.pre((JSON.stringify(payload) ?? "").length < 2000);
        expect(await sealer.open(await sealerFor([SECRET], "oauth-state").seal(payload))).toBeNull();
        expect(await sealer.open(await sealerFor([OTHER_SECRET]).seal(payload))).toBeNull();
      }),
      { numRuns: 500 },
    );
  });
});

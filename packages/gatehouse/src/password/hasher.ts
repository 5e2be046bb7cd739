import { hash, parseOptions, verify } from "@node-rs/argon2";

/** argon2id cost parameters. The defaults are OWASP's: m=19456 KiB, t=2, p=1. */
export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** Hashes and verifies passwords; produces and reads PHC strings (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`). */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** `false` for a wrong password and for a hash it cannot read; never throws for those. */
  verify(phc: string, password: string): Promise<boolean>;
  /** `true` when the hash was made with other parameters than the current ones, so it should be replaced. */
  needsRehash(phc: string): boolean;
}

export const OWASP_ARGON2ID: Readonly<Argon2Params> = Object.freeze({ memoryCost: 19456, timeCost: 2, parallelism: 1 });

/** `@node-rs/argon2`'s `Algorithm.Argon2id`; a const enum, so it cannot be imported under isolated modules. */
const ARGON2ID = 2;
/** `Version.V0x13`. */
const ARGON2_V13 = 1;

/**
 * An argon2id hasher (via `@node-rs/argon2`, which runs off the main thread), e.g. to import users whose
 * passwords you hold in clear during a migration.
 *
 * @example
 * ```ts
 * const passwordHash = await createArgon2idHasher().hash(password);
 * ```
 */
export function createArgon2idHasher(params: Argon2Params = OWASP_ARGON2ID): PasswordHasher {
  const options = { ...params, algorithm: ARGON2ID, version: ARGON2_V13 } as const;
  return {
    hash: (password) => hash(password, options),
    async verify(phc, password) {
      try {
        return await verify(phc, password);
      } catch {
        return false;
      }
    },
    needsRehash(phc) {
      try {
        const used = parseOptions(phc);
        return (
          used.algorithm !== ARGON2ID ||
          used.version !== ARGON2_V13 ||
          used.memoryCost !== params.memoryCost ||
          used.timeCost !== params.timeCost ||
          used.parallelism !== params.parallelism
        );
      } catch {
        return true;
      }
    },
  };
}

// Section 3: what a log-in costs beyond its password hash, at the default argon2id parameters.
import { join } from "node:path";
import { log, randomSecret, scratchDir, summarize } from "./util.mjs";

/**
 * Times `gatehouse.logIn` (input parsing, the user lookup, the counters reserved in one transaction, the
 * argon2id verify, the settled counters and the session insert and sweep in one write batch, the cookie)
 * against `hasher.verify` alone on the same hash, alternating one of each. The session each log-in creates
 * is ended outside the timed span, so a user's session list stays as short as a real one.
 */
/**
 * Where a log-in's time goes outside the hash: every store call it makes, counted and timed through a
 * wrapper around the store (a separate pass, so the wrapper does not touch the figures above).
 */
async function storeCallsPerLogIn(rateLimits, store, input, meta, count = 30) {
  const { createGatehouse } = await import("gatehouse-auth");
  const totals = new Map();
  let counting = false;
  const timing =
    (name, run) =>
    async (...args) => {
      const started = performance.now();
      try {
        return await run(...args);
      } finally {
        if (counting) {
          const entry = totals.get(name) ?? { calls: 0, ms: 0 };
          entry.calls++;
          entry.ms += performance.now() - started;
          totals.set(name, entry);
        }
      }
    };
  const timed = new Proxy(store, {
    get(target, name) {
      const value = target[name];
      if (typeof value !== "function") return value;
      // A write batch gathers without writing: its commit is the store call to time.
      if (name === "writeBatch") {
        return async () => {
          const batch = await value.call(target);
          return { ...batch, commit: timing("writeBatch.commit", () => batch.commit()) };
        };
      }
      return timing(name, (...args) => value.apply(target, args));
    },
  });
  const gatehouse = createGatehouse({
    store: timed,
    secret: randomSecret(),
    strategy: "database",
    url: "http://127.0.0.1:3000",
    secureCookies: true,
    rateLimits,
  });
  for (let i = 0; i < count + 5; i++) {
    counting = i >= 5;
    const signedIn = await gatehouse.logIn(input, meta);
    counting = false;
    await gatehouse.logOut(signedIn.setCookie.split(";")[0]);
  }
  return [...totals.entries()].map(([method, { calls, ms }]) => ({
    method,
    callsPerLogIn: calls / count,
    usPerCall: (ms / calls) * 1000,
    msPerLogIn: ms / count,
  }));
}

/** @param {{ repeats?: number, perRepeat?: number, warmup?: number }} [options] */
export async function measureLogin({ repeats = 5, perRepeat = 10, warmup = 3 } = {}) {
  const { createGatehouse, createArgon2idHasher, OWASP_ARGON2ID } = await import("gatehouse-auth");
  const { createSqliteStore } = await import("gatehouse-auth/stores/sqlite");
  const { dir, remove } = scratchDir();
  const store = createSqliteStore({ url: `file:${join(dir, "login.db")}` });
  const limit = { max: 1_000_000_000, windowSeconds: 900 };
  const rateLimits = { loginPerIp: limit, loginPerAccount: limit, loginPerAccountAndIp: limit };
  const gatehouse = createGatehouse({
    store,
    secret: randomSecret(),
    strategy: "database",
    url: "http://127.0.0.1:3000",
    secureCookies: true,
    // Counted as in production, only never reached.
    rateLimits,
  });
  const email = "login-bench@example.com";
  const password = "correct horse battery staple 42";
  try {
    await gatehouse.users.create({ email, password });
    const { passwordHash } = await store.getUserByEmail(email);
    const hasher = createArgon2idHasher();
    const meta = { ip: "127.0.0.1", userAgent: "bench" };

    const timeLogIn = async () => {
      const started = performance.now();
      const signedIn = await gatehouse.logIn({ email, password }, meta);
      const ms = performance.now() - started;
      await gatehouse.logOut(signedIn.setCookie.split(";")[0]);
      return ms;
    };
    const timeHash = async () => {
      const started = performance.now();
      const ok = await hasher.verify(passwordHash, password);
      const ms = performance.now() - started;
      if (!ok) throw new Error("argon2id verify refused the right password");
      return ms;
    };

    for (let i = 0; i < warmup; i++) {
      await timeLogIn();
      await timeHash();
    }
    const logIns = [];
    const hashes = [];
    const overheads = [];
    for (let round = 0; round < repeats; round++) {
      const l = [];
      const h = [];
      for (let i = 0; i < perRepeat; i++) {
        // Alternate which goes first, so neither always follows the other.
        if (i % 2 === 0) {
          l.push(await timeLogIn());
          h.push(await timeHash());
        } else {
          h.push(await timeHash());
          l.push(await timeLogIn());
        }
      }
      const lm = summarize(l).median;
      const hm = summarize(h).median;
      logIns.push(lm);
      hashes.push(hm);
      overheads.push(((lm - hm) / hm) * 100);
      log(`  login: round ${round + 1}/${repeats}: log-in ${lm.toFixed(1)} ms, hash ${hm.toFixed(1)} ms`);
    }
    const storeCalls = await storeCallsPerLogIn(rateLimits, store, { email, password }, meta);
    const login = summarize(logIns);
    const hash = summarize(hashes);
    return {
      argon2: { ...OWASP_ARGON2ID },
      repeats,
      perRepeat,
      loginMs: login,
      hashMs: hash,
      overheadMs: login.median - hash.median,
      overheadPct: summarize(overheads),
      storeCalls,
    };
  } finally {
    await store.close();
    remove();
  }
}

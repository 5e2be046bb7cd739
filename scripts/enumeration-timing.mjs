// Measures whether timing reveals which accounts exist, through the real core on a real SQLite file:
// - log-in: 50 (or ENUMERATION_TRIES) tries with an unknown email and with a wrong password, alternated, at
//   the default argon2id cost;
// - password-reset requests: as many for an unknown and for a registered address (the request is written to
//   the durable outbox before the answer; the sender looks the address up after it).
// Prints the medians and their difference. A measurement, not a test: run it with
// `npm run timing:enumeration` after `npm run build`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createGatehouse } from "../packages/gatehouse/dist/index.js";
import { createOutboxMailer } from "../packages/gatehouse/dist/mail/index.js";
import { createSqliteStore } from "../packages/gatehouse/dist/stores/sqlite.js";

const tries = Number(process.env.ENUMERATION_TRIES ?? 50);
const dir = mkdtempSync(join(tmpdir(), "gatehouse-timing-"));
const store = createSqliteStore({ url: `file:${join(dir, "timing.db")}` });
const gatehouse = createGatehouse({
  store,
  secret: "timing-script-secret-0123456789abcdef",
  url: "http://localhost:3000",
  mailer: createOutboxMailer(store),
  rateLimits: {
    loginPerIp: false,
    loginPerAccountAndIp: false,
    // Counted as in production (a store write each), just never reached.
    passwordResetPerEmail: { max: 1e9, windowSeconds: 3600 },
    passwordResetPerIp: { max: 1e9, windowSeconds: 3600 },
  },
});

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function timeLogIn(email, password) {
  const start = performance.now();
  const outcome = await gatehouse.logIn({ email, password }, { ip: "127.0.0.1" }).then(
    () => "signed-in",
    (error) => error.code,
  );
  if (outcome !== "invalid_credentials") throw new Error(`expected invalid_credentials, got ${outcome}`);
  return performance.now() - start;
}

async function timeResetRequest(email) {
  const start = performance.now();
  await gatehouse.requestPasswordReset({ email }, { ip: "127.0.0.1" });
  const elapsed = performance.now() - start;
  // Let the sender's work that follows the answer (lookup, token, mail) finish before the next measurement.
  await new Promise((resolve) => setTimeout(resolve, 5));
  return elapsed;
}

function report(title, [labelA, a], [labelB, b], goal) {
  const [ma, mb] = [median(a), median(b)];
  console.log(`${title} over ${tries} tries each (median):`);
  console.log(`  ${labelA.padEnd(16)}${ma.toFixed(3)} ms`);
  console.log(`  ${labelB.padEnd(16)}${mb.toFixed(3)} ms`);
  const difference = `${((Math.abs(ma - mb) / Math.min(ma, mb)) * 100).toFixed(1)}% (${(Math.abs(ma - mb) * 1000).toFixed(1)} µs)`;
  console.log(`  ${"difference:".padEnd(16)}${difference} (goal: under ${goal}%)`);
}

try {
  await gatehouse.signUp({ email: "existing@example.com", password: "correct horse battery staple" });
  await timeLogIn("warm-up@example.com", "wrong password!");
  const unknown = [];
  const wrong = [];
  for (let i = 0; i < tries; i++) {
    unknown.push(await timeLogIn(`nobody-${i}@example.com`, "wrong password!"));
    wrong.push(await timeLogIn("existing@example.com", "wrong password!"));
  }
  report("log-in timing", ["unknown email:", unknown], ["wrong password:", wrong], 10);

  await timeResetRequest("warm-up@example.com");
  const resetUnknown = [];
  const resetExisting = [];
  for (let i = 0; i < tries; i++) {
    resetUnknown.push(await timeResetRequest(`nobody-${i}@example.com`));
    resetExisting.push(await timeResetRequest("existing@example.com"));
  }
  report("password-reset request timing", ["unknown email:", resetUnknown], ["registered:", resetExisting], 10);
} finally {
  await gatehouse.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

// Measures whether log-in timing reveals which accounts exist: 50 (or ENUMERATION_TRIES) log-ins with an
// unknown email and with a wrong password, alternated, through the real core on a real SQLite file, at the
// default argon2id cost. Prints both medians and their difference. A measurement, not a test: run it with
// `npm run timing:enumeration` after `npm run build`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createGatehouse } from "../packages/gatehouse/dist/index.js";
import { createSqliteStore } from "../packages/gatehouse/dist/stores/sqlite.js";

const tries = Number(process.env.ENUMERATION_TRIES ?? 50);
const dir = mkdtempSync(join(tmpdir(), "gatehouse-timing-"));
const store = createSqliteStore({ url: `file:${join(dir, "timing.db")}` });
const gatehouse = createGatehouse({
  store,
  secret: "timing-script-secret-0123456789abcdef",
  rateLimits: { loginPerIp: false, loginPerAccountAndIp: false },
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

try {
  await gatehouse.signUp({ email: "existing@example.com", password: "correct horse battery staple" });
  await timeLogIn("warm-up@example.com", "wrong password!");
  const unknown = [];
  const wrong = [];
  for (let i = 0; i < tries; i++) {
    unknown.push(await timeLogIn(`nobody-${i}@example.com`, "wrong password!"));
    wrong.push(await timeLogIn("existing@example.com", "wrong password!"));
  }
  const [u, w] = [median(unknown), median(wrong)];
  const difference = Math.abs(u - w) / Math.min(u, w);
  console.log(`log-in timing over ${tries} tries each (median):`);
  console.log(`  unknown email:  ${u.toFixed(2)} ms`);
  console.log(`  wrong password: ${w.toFixed(2)} ms`);
  console.log(`  difference:     ${(difference * 100).toFixed(1)}% (goal: under 10%)`);
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

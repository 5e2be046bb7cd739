// Section 1: per-check cost in process, measured with mitata.
import { measure } from "mitata";
import { casesFor } from "./cases.mjs";
import { openPostgres, openRedis } from "./services.mjs";
import { log, scratchDir, summarize } from "./util.mjs";

/**
 * Sets up every case this machine supports and hands them to `body`; tears everything down afterwards.
 * `services` says which services were reachable (`postgres`/`redis`: null when skipped).
 */
/**
 * @template T
 * @param {{ only?: string[], services?: { postgres?: boolean, redis?: boolean } }} options
 * @param {(prepared: Array<{ spec: import("./cases.mjs").CaseSpec, instance: import("./cases.mjs").CaseInstance }>, reachable: { postgres: boolean, redis: boolean }) => Promise<T>} body
 * @returns {Promise<T>}
 */
export async function withCases(options, body) {
  const { dir, remove } = scratchDir();
  const postgres = options.services?.postgres === false ? null : await openPostgres();
  const redis = options.services?.redis === false ? null : await openRedis();
  /** @type {Array<{ spec: import("./cases.mjs").CaseSpec, instance: import("./cases.mjs").CaseInstance }>} */
  const prepared = [];
  try {
    for (const spec of casesFor({ postgres, redis }, options.only)) {
      const instance = await spec.setup({ dir, postgres, redis });
      prepared.push({ spec, instance });
    }
    return await body(prepared, { postgres: Boolean(postgres), redis: Boolean(redis) });
  } finally {
    for (const { instance } of prepared.reverse()) await instance.close?.();
    await postgres?.drop();
    await redis?.clear();
    remove();
  }
}

/**
 * Measures each case `repeats` times, round-robin (so drift hits every case alike), after a warm-up.
 * Each repeat is one mitata `measure` (its own warm-up, batching and ≥ `minCpuMs` of samples); the
 * figure kept per repeat is mitata's median (p50) time per call.
 */
/**
 * @param {{ repeats?: number, minCpuMs?: number, warmupMs?: number, only?: string[], services?: { postgres?: boolean, redis?: boolean } }} [options]
 */
export async function measureChecks({ repeats = 5, minCpuMs = 400, warmupMs = 300, only, services } = {}) {
  return withCases({ only, services }, async (prepared, reachable) => {
    for (const { spec, instance } of prepared) {
      const answer = await instance.run(instance.value);
      if (answer !== instance.expected)
        throw new Error(`${spec.id}: expected user ${instance.expected}, got ${answer}`);
      const end = performance.now() + warmupMs;
      while (performance.now() < end) await instance.run(instance.value);
    }
    const samples = new Map(prepared.map(({ spec }) => [spec.id, []]));
    for (let round = 0; round < repeats; round++) {
      for (const { spec, instance } of prepared) {
        const { value, run } = instance;
        const stats = await measure(() => run(value), { min_cpu_time: minCpuMs * 1e6 });
        samples.get(spec.id).push(stats.p50);
      }
      log(`  checks: round ${round + 1}/${repeats} done`);
    }
    const results = prepared.map(({ spec, instance }) => {
      const ns = summarize(samples.get(spec.id));
      return {
        id: spec.id,
        label: spec.label,
        kind: spec.kind,
        floor: spec.floor ?? null,
        likeForLike: spec.likeForLike ?? null,
        info: Boolean(spec.info),
        us: { median: ns.median / 1000, min: ns.min / 1000, max: ns.max / 1000, spreadPct: ns.spreadPct },
        opsPerSec: 1e9 / ns.median,
        cookieBytes: Buffer.byteLength(instance.cookie),
        repeats: ns.runs,
      };
    });
    const byId = new Map(results.map((r) => [r.id, r]));
    const aes = byId.get("floor-aes-gcm");
    for (const r of results) {
      const floor = r.floor ? byId.get(r.floor) : aes;
      r.xAesFloor = r.us.median / aes.us.median;
      r.xFloor = floor ? r.us.median / floor.us.median : null;
      r.xLikeForLike =
        r.likeForLike && byId.get(r.likeForLike) ? r.us.median / byId.get(r.likeForLike).us.median : null;
    }
    return { repeats, minCpuMs, services: reachable, results };
  });
}

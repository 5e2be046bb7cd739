#!/usr/bin/env node
// `npm run bench`: measures Gatehouse against its peers and writes bench/results/latest.json,
// bench/results/per-check.svg and bench/BENCHMARKS.md. `npm run bench -- --help` for the options.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { measureChecks } from "./lib/checks.mjs";
import { commit, machine, serverVersions, versions } from "./lib/environment.mjs";
import { evaluateGoals } from "./lib/goals.mjs";
import { runServers, TARGETS } from "./lib/http.mjs";
import { measureLogin } from "./lib/login.mjs";
import { profileInProcess, profileServer } from "./lib/profile.mjs";
import { benchmarksMarkdown, perCheckSvg } from "./lib/report.mjs";
import { log } from "./lib/util.mjs";

const HELP = `npm run bench [-- options]

  --only=SECTIONS   comma-separated subset of: checks, http, login, memory (default: all)
  --cases=IDS       comma-separated case or server ids (e.g. gatehouse-db-sqlite,jose-jwe); floors come along
  --quick           short runs (about a minute): fewer repeats, 1 s HTTP rounds, 1,000 sessions
  --no-profile      do not profile missed goals
  --report-only     rewrite BENCHMARKS.md and the chart from results/latest.json without measuring
  --out=DIR         where latest.json and per-check.svg go (default bench/results); BENCHMARKS.md goes
                    next to it, one folder up, only when DIR is the default

Environment: BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test; a private database is
created and dropped), BENCH_REDIS_URL (default redis://127.0.0.1:6379; keys under a private prefix are
removed). Unreachable services are skipped with a message, except under CI=true, where they fail the run.`;

const SECTIONS = ["checks", "http", "login", "memory"];
const benchDir = import.meta.dirname;

function parseArgs(argv) {
  const options = {
    sections: SECTIONS,
    cases: undefined,
    quick: false,
    profile: true,
    reportOnly: false,
    out: join(benchDir, "results"),
  };
  for (const arg of argv) {
    const [flag, value] = arg.split("=", 2);
    if (flag === "--help" || flag === "-h") {
      console.log(HELP);
      process.exit(0);
    } else if (flag === "--only") {
      options.sections = value.split(",").map((s) => s.trim());
      const unknown = options.sections.filter((s) => !SECTIONS.includes(s));
      if (unknown.length) throw new Error(`--only: unknown section ${unknown.join(", ")}; use ${SECTIONS.join(", ")}`);
    } else if (flag === "--cases") options.cases = value.split(",").map((s) => s.trim());
    else if (flag === "--quick") options.quick = true;
    else if (flag === "--no-profile") options.profile = false;
    else if (flag === "--out") options.out = value;
    else if (flag === "--report-only") options.reportOnly = true;
    else throw new Error(`unknown option ${arg}\n\n${HELP}`);
  }
  return options;
}

export async function main(argv = process.argv.slice(2)) {
  const options = parseArgs(argv);
  if (options.reportOnly) {
    const saved = JSON.parse(readFileSync(join(options.out, "latest.json"), "utf8"));
    if (saved.checks) writeFileSync(join(options.out, "per-check.svg"), perCheckSvg(saved.checks));
    writeFileSync(join(benchDir, "BENCHMARKS.md"), benchmarksMarkdown(saved, evaluateGoals(saved), benchDir));
    log("Rewrote bench/BENCHMARKS.md and the chart from latest.json.");
    return saved;
  }
  const started = performance.now();
  const q = options.quick;
  const resultsPath = join(options.out, "latest.json");
  // A subset run keeps the other sections of the previous results, each with its own date.
  const previous =
    existsSync(resultsPath) && options.sections.length < SECTIONS.length
      ? JSON.parse(readFileSync(resultsPath, "utf8"))
      : {};
  const date = new Date().toISOString();
  const results = {
    ...previous,
    date,
    commit: commit(),
    machine: machine(),
    versions: versions(),
    servers: await serverVersions(),
    skipped: [],
  };
  const stamp = (section) => ({ ...section, date });

  if (options.sections.includes("checks")) {
    log("1. Per-check cost, in process");
    results.checks = stamp(
      await measureChecks({
        repeats: q ? 2 : 5,
        minCpuMs: q ? 150 : 400,
        warmupMs: q ? 100 : 300,
        only: options.cases,
      }),
    );
    results.checks.warmupMs = q ? 100 : 300;
    for (const service of ["postgres", "redis"]) {
      if (!results.checks.services[service])
        results.skipped.push({ what: `${service} per-check cases`, why: `${service} not reachable` });
    }
  }
  const serverParts = options.sections.filter((s) => s === "http" || s === "memory");
  if (serverParts.length > 0) {
    log(`2/4. ${serverParts.join(" and ")} against next start`);
    const config = {
      rounds: q ? 1 : 3,
      seconds: q ? 1 : 5,
      warmupSeconds: q ? 1 : 2,
      connections: 10,
      sessions: q ? 1000 : 10_000,
    };
    const out = await runServers({ parts: serverParts, only: options.cases, ...config });
    if (serverParts.includes("http")) results.http = stamp({ ...config, targets: out.http });
    if (serverParts.includes("memory")) results.memory = stamp({ sessions: config.sessions, targets: out.memory });
    for (const s of out.skipped) results.skipped.push({ what: `${s.id} server`, why: s.reason });
  }
  if (options.sections.includes("login")) {
    log("3. Log-in cost");
    results.login = stamp(await measureLogin({ repeats: q ? 2 : 5, perRepeat: q ? 4 : 20 }));
  }

  const goals = evaluateGoals(results);
  results.goals = goals;
  if (options.profile) {
    results.profiles = [];
    const missed = goals.filter((g) => g.met === false && g.profile);
    const workloads = [...new Set(missed.map((g) => g.profile))];
    for (const workload of workloads) {
      const goal = missed
        .filter((g) => g.profile === workload)
        .map((g) => `${g.area}: ${g.target}`)
        .join("; ");
      log(`Profiling ${workload} (missed: ${goal})`);
      try {
        if (workload.startsWith("http:")) {
          const target = TARGETS.find((t) => t.id === workload.slice("http:".length));
          const { dir: scratch, remove } = (await import("./lib/util.mjs")).scratchDir();
          const prepared = await target.prepare(scratch);
          try {
            const profile =
              prepared && (await profileServer(prepared, (server) => prepared.session(server), q ? 3000 : 20_000));
            if (profile) results.profiles.push({ goal, ...profile });
          } finally {
            await prepared?.cleanup?.();
            remove();
          }
        } else {
          results.profiles.push({ goal, ...(await profileInProcess(workload, q ? 1 : 4)) });
        }
      } catch (error) {
        results.profiles.push({ goal, workload, error: error.message });
      }
    }
  }
  results.wallSeconds = (performance.now() - started) / 1000;

  mkdirSync(options.out, { recursive: true });
  writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
  if (results.checks) writeFileSync(join(options.out, "per-check.svg"), perCheckSvg(results.checks));
  if (options.out === join(benchDir, "results"))
    writeFileSync(join(benchDir, "BENCHMARKS.md"), benchmarksMarkdown(results, goals, benchDir));
  printSummary(results, goals);
  log(
    `\nWrote ${resultsPath}${options.out === join(benchDir, "results") ? " and bench/BENCHMARKS.md" : ""} in ${results.wallSeconds.toFixed(0)} s.`,
  );
  return results;
}

function printSummary(results, goals) {
  if (results.checks) {
    console.log("\nPer-check cost (median µs, × AES floor, × own floor, cookie bytes):");
    for (const r of results.checks.results) {
      console.log(
        `  ${r.label.padEnd(58)} ${r.us.median.toFixed(2).padStart(9)} µs ±${r.us.spreadPct.toFixed(1).padStart(4)}%  ${r.xAesFloor.toFixed(2).padStart(7)}×  ${(r.xFloor ?? 0).toFixed(2).padStart(6)}×  ${r.cookieBytes} B`,
      );
    }
  }
  if (results.http) {
    console.log("\nHTTP (req/s health → me, ratio, p99 ms):");
    for (const t of results.http.targets) {
      console.log(
        `  ${t.label.padEnd(48)} ${Math.round(t.health.rps.median).toString().padStart(6)} → ${Math.round(t.me.rps.median).toString().padStart(6)}  ${t.ratio.median.toFixed(3)}  p99 ${t.health.p99} / ${t.me.p99}`,
      );
    }
  }
  if (results.login)
    console.log(
      `\nLog-in: ${results.login.loginMs.median.toFixed(2)} ms vs hash ${results.login.hashMs.median.toFixed(2)} ms: +${results.login.overheadPct.median.toFixed(1)}%`,
    );
  if (results.memory)
    for (const m of results.memory.targets)
      console.log(`Memory ${m.label}: ${(m.idleRss / 2 ** 20).toFixed(0)} → ${(m.rss / 2 ** 20).toFixed(0)} MiB`);
  console.log("\nGoals:");
  for (const g of goals)
    console.log(
      `  ${g.met === true ? "met   " : g.met === false ? "MISSED" : "n/a   "} ${g.area}: ${g.target} — ${g.measured}`,
    );
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}

// The bench's smoke test: every case, server and section runs once, tiny, and must give the right answer.
// No timing is asserted: figures come from `npm run bench` only.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CASES } from "../lib/cases.mjs";
import { measureChecks } from "../lib/checks.mjs";
import { machine, versions } from "../lib/environment.mjs";
import { evaluateGoals } from "../lib/goals.mjs";
import { runServers } from "../lib/http.mjs";
import { measureLogin } from "../lib/login.mjs";
import { summarizeProfile } from "../lib/profile.mjs";
import { benchmarksMarkdown, perCheckSvg } from "../lib/report.mjs";
import { openPostgres, openRedis } from "../lib/services.mjs";

type Services = { postgres: Awaited<ReturnType<typeof openPostgres>>; redis: Awaited<ReturnType<typeof openRedis>> };

let dir: string;
let services: Services;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gatehouse-bench-smoke-"));
  // Outside CI an unreachable service is skipped with a loud message; under CI=true these throw.
  services = { postgres: await openPostgres(), redis: await openRedis() };
});

afterAll(async () => {
  await services?.postgres?.drop();
  await services?.redis?.clear();
  rmSync(dir, { recursive: true, force: true });
});

describe("in-process session checks", () => {
  for (const spec of CASES) {
    it(`${spec.id}: answers the user id for its cookie and refuses a forged one`, async (context) => {
      if (spec.needs && !services[spec.needs as keyof Services]) {
        context.skip(`${spec.needs} is not reachable (under CI=true this fails instead)`);
      }
      const instance = await spec.setup({ dir, ...services });
      try {
        expect(await instance.run(instance.value)).toBe(instance.expected);
        expect(await instance.run(instance.tampered)).toBeNull();
        expect(Buffer.byteLength(instance.cookie)).toBeGreaterThan(0);
      } finally {
        await instance.close?.();
      }
    });
  }
});

describe("the sections, once each, tiny", () => {
  // The report's sections are plain JSON of several shapes; the assertions below read them loosely.
  // biome-ignore lint/suspicious/noExplicitAny: see above
  let results: Record<string, any>;

  beforeAll(() => {
    results = {
      date: new Date().toISOString(),
      commit: "smoke",
      machine: machine(),
      versions: versions(),
      servers: {},
      skipped: [],
    };
  });

  it("measures the checks with mitata and relates them to their floors", async () => {
    const checks = await measureChecks({
      repeats: 1,
      minCpuMs: 1,
      warmupMs: 0,
      only: ["gatehouse-stateless", "gatehouse-db-sqlite", "jose-jwe"],
    });
    const ids = checks.results.map((r: { id: string }) => r.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        "floor-aes-gcm",
        "gatehouse-stateless",
        "floor-sqlite",
        "gatehouse-db-sqlite",
        "jose-jwe",
      ]),
    );
    for (const r of checks.results) {
      expect(r.us.median).toBeGreaterThan(0);
      expect(r.xFloor).toBeGreaterThan(0);
    }
    results.checks = checks;
  });

  it("times a log-in against its hash and breaks down its store calls", async () => {
    const login = await measureLogin({ repeats: 1, perRepeat: 1, warmup: 0 });
    expect(login.loginMs.median).toBeGreaterThan(0);
    expect(login.hashMs.median).toBeGreaterThan(0);
    // The counters reserved in one call before the hash; after it, the settled counters and the new session
    // committed together as one write batch.
    expect(login.storeCalls.map((c: { method: string }) => c.method)).toEqual(
      expect.arrayContaining(["getUserByEmail", "reserveAttempts", "writeBatch.commit"]),
    );
    results.login = login;
  });

  it("serves /api/me with a session and 401 without, on the example app and both peer apps", async () => {
    // The example app must be built (npm test builds it); the peer apps are built here when missing.
    const out = await runServers({
      parts: ["http", "memory"],
      only: ["gatehouse-stateless", "gatehouse-db-sqlite", "peer-iron-session", "peer-next-auth"],
      rounds: 1,
      seconds: 1,
      warmupSeconds: 1,
      connections: 2,
      sessions: 50,
    });
    expect(out.http.map((t: { id: string }) => t.id)).toEqual([
      "gatehouse-stateless",
      "gatehouse-db-sqlite",
      "peer-iron-session",
      "peer-next-auth",
    ]);
    for (const t of out.http) expect(t.ratio.median).toBeGreaterThan(0);
    expect(out.memory.map((m: { sessions: number; presented: number }) => m.presented)).toEqual([50, 50]);
    results.http = { rounds: 1, seconds: 1, warmupSeconds: 1, connections: 2, targets: out.http };
    results.memory = { sessions: 50, targets: out.memory };
  }, 180_000);

  it("writes the goals, the chart and BENCHMARKS.md from those results", () => {
    const goals = evaluateGoals(results);
    expect(goals.find((g: { area: string }) => g.area === "stateless check")?.met).toBeTypeOf("boolean");
    expect(goals.find((g: { area: string }) => g.area === "log-in")?.met).toBeTypeOf("boolean");
    const svg = perCheckSvg(results.checks);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.trim().endsWith("</svg>")).toBe(true);
    expect(svg).toContain("Gatehouse stateless");
    const markdown = benchmarksMarkdown(results, goals, join(import.meta.dirname, ".."));
    for (const heading of [
      "## Goals",
      "## 1. Per-check cost",
      "## 2. End to end over HTTP",
      "## 3. Log-in cost",
      "## 4. Memory",
    ]) {
      expect(markdown).toContain(heading);
    }
  });
});

describe("profile summaries", () => {
  it("ranks functions and packages of a .cpuprofile", async () => {
    const path = join(dir, "tiny.cpuprofile");
    const profile = {
      nodes: [
        { id: 1, callFrame: { functionName: "(root)", url: "", lineNumber: -1, columnNumber: -1 }, children: [2] },
        {
          id: 2,
          callFrame: {
            functionName: "outer",
            url: "file:///x/node_modules/kysely/a.js",
            lineNumber: 0,
            columnNumber: 0,
          },
          children: [3],
        },
        {
          id: 3,
          callFrame: {
            functionName: "inner",
            url: "file:///x/packages/gatehouse/dist/b.js",
            lineNumber: 4,
            columnNumber: 0,
          },
        },
      ],
      samples: [3, 3, 2],
      timeDeltas: [100, 100, 100],
    };
    (await import("node:fs")).writeFileSync(path, JSON.stringify(profile));
    const summary = summarizeProfile(path);
    expect(summary.self[0]).toMatchObject({ name: "inner b.js:5" });
    expect(summary.inclusive.find((f: { name: string }) => f.name.startsWith("outer"))?.pct).toBeCloseTo(100);
    expect(summary.packages.map((p: { name: string }) => p.name)).toEqual(["gatehouse", "kysely"]);
    expect(readFileSync(path, "utf8").length).toBeGreaterThan(0);
  });
});

// Profiling for missed goals: runs a workload under `node --cpu-prof` and summarizes where the time went,
// by function (self and inclusive time) and by package.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { startNext } from "./servers.mjs";
import { scratchDir } from "./util.mjs";

const worker = join(import.meta.dirname, "profile-worker.mjs");

/** Which package a profile frame's script belongs to. */
function packageOf(url) {
  if (!url) return "(native / V8)";
  if (url.startsWith("node:")) return "node internals";
  const modules = url.lastIndexOf("/node_modules/");
  if (modules >= 0) {
    const rest = url.slice(modules + "/node_modules/".length).split("/");
    return rest[0].startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.includes("/packages/gatehouse/")) return "gatehouse";
  if (url.includes("/apps/example/.next/")) return "example app bundle";
  if (url.includes("/bench/")) return "bench harness";
  return "other";
}

/**
 * Maps a frame of a bundled file (the example app's `.next` chunks are minified) back to its source through
 * the chunk's source map: `{ url, name }` of the original function, or `null` when there is no map.
 */
function createOriginalLookup() {
  const maps = new Map();
  const load = (url) => {
    if (maps.has(url)) return maps.get(url);
    let entry = null;
    try {
      const path = url.startsWith("file://") ? fileURLToPath(url) : url;
      if (path.startsWith("/") && existsSync(`${path}.map`)) {
        const payload = JSON.parse(readFileSync(`${path}.map`, "utf8"));
        if (payload.mappings) entry = { map: new SourceMap(payload), payload, dir: dirname(path) };
      }
    } catch {
      entry = null;
    }
    maps.set(url, entry);
    return entry;
  };
  return (frame) => {
    if (!frame.url || !/\/\.next\//.test(frame.url)) return null;
    const loaded = load(frame.url);
    if (!loaded) return null;
    const found = loaded.map.findEntry(frame.lineNumber, frame.columnNumber);
    if (!found?.originalSource) return null;
    const index = loaded.payload.sources.indexOf(found.originalSource);
    const text = loaded.payload.sourcesContent?.[index]?.split("\n")[found.originalLine]?.trim() ?? "";
    // The function's first line names it well enough: `async validate(value, options) {`.
    const declared =
      /(?:function\s*\*?\s*([\w$]+)|([\w$]+)\s*[:=]\s*(?:async\s*)?(?:function|\()|(?:async\s+)?([\w$]+)\s*\([^)]*\)\s*\{)/.exec(
        text,
      );
    const name = found.name || declared?.[1] || declared?.[2] || declared?.[3] || frame.functionName || "(anonymous)";
    return { url: resolve(loaded.dir, found.originalSource), line: found.originalLine, name };
  };
}

/**
 * Reads a `.cpuprofile` into time per function (self, and inclusive: samples in which it is on the stack)
 * and self time per package, in µs, leaving out idle samples.
 */
export function readProfile(path) {
  const profile = JSON.parse(readFileSync(path, "utf8"));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const original = createOriginalLookup();
  const frames = new Map();
  const frameOf = (node) => {
    if (!frames.has(node.id)) {
      const mapped = original(node.callFrame);
      const { functionName, url, lineNumber } = node.callFrame;
      frames.set(
        node.id,
        mapped
          ? { key: `${mapped.name} ${mapped.url.split("/").slice(-2).join("/")}:${mapped.line + 1}`, url: mapped.url }
          : { key: `${functionName || "(anonymous)"} ${url ? `${basename(url)}:${lineNumber + 1}` : ""}`.trim(), url },
      );
    }
    return frames.get(node.id);
  };
  const self = new Map();
  const inclusive = new Map();
  const packages = new Map();
  const add = (map, k, dt) => map.set(k, (map.get(k) ?? 0) + dt);
  let busy = 0;
  let idle = 0;
  let loading = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const node = nodes.get(id);
    if (node.callFrame.functionName === "(idle)") {
      idle += dt;
      return;
    }
    // Lazy module loading on a route's first requests is a one-off, not a per-request cost.
    const stack = [];
    for (let current = id; current !== undefined; current = parent.get(current)) stack.push(nodes.get(current));
    if (stack.some((n) => MODULE_LOADING.test(n.callFrame.functionName))) {
      loading += dt;
      return;
    }
    busy += dt;
    const frame = frameOf(node);
    add(self, frame.key, dt);
    add(packages, packageOf(frame.url), dt);
    const seen = new Set();
    for (const current of stack) {
      const k = frameOf(current).key;
      if (!seen.has(k)) {
        seen.add(k);
        add(inclusive, k, dt);
      }
    }
  });
  return { busy, idle, loading, self, inclusive, packages };
}

const MODULE_LOADING =
  /^(Module\._load|compileSourceTextModule|compileForInternalLoader|loadESM|importModuleDynamically)$/;
const UNINTERESTING = /^\((root|program)\)|^(processTicksAndRejections|runMicrotasks|listOnTimeout|processTimers) /;

function rank(map, total, n, filter = () => true) {
  return [...map.entries()]
    .filter(([k]) => filter(k))
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, ms: us / 1000, pct: (us / total) * 100 }));
}

/** The top functions by self and inclusive time, and self time per package, as shares of busy time. */
export function summarizeProfile(path, { top = 15 } = {}) {
  const p = readProfile(path);
  return {
    busyMs: p.busy / 1000,
    idleMs: p.idle / 1000,
    self: rank(p.self, p.busy, top),
    inclusive: rank(p.inclusive, p.busy, top, (k) => !UNINTERESTING.test(k)),
    packages: rank(p.packages, p.busy, 12),
  };
}

/**
 * What `b` costs beyond `a` per request, when both served `requests` requests: µs per request by function
 * (self and inclusive) and by package, largest first.
 */
function diffProfiles(a, b, requests, top = 15) {
  const diff = (ma, mb) => {
    const out = new Map();
    for (const [k, v] of mb) out.set(k, (v - (ma.get(k) ?? 0)) / requests);
    for (const [k, v] of ma) if (!mb.has(k)) out.set(k, -v / requests);
    return out;
  };
  const extra = (b.busy - a.busy) / requests;
  const list = (map, filter = () => true) =>
    [...map.entries()]
      .filter(([k]) => filter(k))
      .sort((x, y) => y[1] - x[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, us, pct: (us / extra) * 100 }));
  return {
    busyUsPerRequest: { base: a.busy / requests, measured: b.busy / requests, extra },
    self: list(diff(a.self, b.self)),
    inclusive: list(diff(a.inclusive, b.inclusive), (k) => !UNINTERESTING.test(k)),
    packages: list(diff(a.packages, b.packages)),
  };
}

function newestProfile(dir) {
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  if (files.length === 0) throw new Error(`no .cpuprofile written in ${dir}`);
  return join(dir, files.sort().at(-1));
}

/** Profiles an in-process workload (`case:<id>` or `login`) for `seconds` in a child process. */
export async function profileInProcess(workload, seconds = 4) {
  const { dir, remove } = scratchDir("gatehouse-prof-");
  try {
    await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [worker, workload, String(seconds), join(dir, "workload.cpuprofile")], {
        stdio: ["ignore", "inherit", "inherit"],
      });
      child.on("exit", (code) =>
        code === 0 ? resolve() : reject(new Error(`profiling ${workload} exited with ${code}`)),
      );
    });
    return { workload, seconds, ...summarizeProfile(newestProfile(dir)) };
  } finally {
    remove();
  }
}

/**
 * Profiles where `/api/me` spends what `/api/health` does not: the server is started twice under
 * `--cpu-prof` (written when it exits on SIGTERM), each time sent the same number of requests to one of
 * the two endpoints, and the two profiles are subtracted and divided by that number. Start-up and the
 * framework's own per-request work cancel out; what is left is the authenticated route's extra cost.
 */
export async function profileServer(prepared, session, requests = 20_000) {
  const { dir, remove } = scratchDir("gatehouse-prof-");
  try {
    const profiles = {};
    for (const path of ["/api/health", "/api/me"]) {
      const out = join(dir, path.replaceAll("/", "_"));
      const server = await startNext(prepared.dir, prepared.env, {
        nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${out}`, "--cpu-prof-interval=200"],
      });
      try {
        const cookie = await session(server);
        const headers = path === "/api/me" ? { cookie } : {};
        await autocannon({ url: `${server.url}${path}`, connections: 10, amount: 2000, headers });
        const result = await autocannon({ url: `${server.url}${path}`, connections: 10, amount: requests, headers });
        if (result.non2xx > 0) throw new Error(`${path} answered ${result.non2xx} non-2xx responses`);
      } finally {
        await server.stop();
      }
      // next start may fork: keep the profile with the most samples (the process that served the requests).
      const files = readdirSync(out).filter((f) => f.endsWith(".cpuprofile"));
      profiles[path] = files.map((f) => readProfile(join(out, f))).sort((a, b) => b.busy - a.busy)[0];
    }
    const me = profiles["/api/me"];
    return {
      workload: `GET /api/me minus GET /api/health, ${requests.toLocaleString("en-US")} requests each`,
      requests,
      busyMs: me.busy / 1000,
      idleMs: me.idle / 1000,
      self: rank(me.self, me.busy, 15),
      inclusive: rank(me.inclusive, me.busy, 15, (k) => !UNINTERESTING.test(k)),
      packages: rank(me.packages, me.busy, 12),
      diff: diffProfiles(profiles["/api/health"], me, requests + 2000),
    };
  } finally {
    remove();
  }
}

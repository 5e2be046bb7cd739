// Next.js servers for the HTTP and memory sections: the example app and the peer apps, built when their
// build is missing or older than their sources, started with `next start` on a free loopback port.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { log } from "./util.mjs";

export const repoRoot = resolve(import.meta.dirname, "..", "..");
export const exampleDir = join(repoRoot, "apps", "example");
export const libraryDir = join(repoRoot, "packages", "gatehouse");
export const peersDir = join(repoRoot, "bench", "peers");
const nextBin = join(repoRoot, "node_modules", "next", "dist", "bin", "next");
const cliBin = join(libraryDir, "bin", "gatehouse.js");
const SKIP = new Set(["node_modules", ".next", "data", "test", "next-env.d.ts", "tsconfig.tsbuildinfo"]);

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path))
    if (!SKIP.has(entry)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

const buildTime = (dir) => newestMtime(join(dir, ".next", "BUILD_ID"));

function run(command, args, cwd) {
  // Build output goes to stderr, so stdout carries only the summary.
  const result = spawnSync(command, args, {
    cwd,
    stdio: ["ignore", 2, 2],
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
  });
  if (result.status !== 0) throw new Error(`${[command, ...args].join(" ")} failed with ${result.status}`);
}

/** Builds the example app (and the library it bundles) only when the build is missing or stale. */
export function ensureExampleBuilt() {
  const libSources = newestMtime(join(libraryDir, "src"));
  if (libSources > newestMtime(join(libraryDir, "dist", "index.js"))) {
    log("  building the gatehouse library (sources are newer than dist/)…");
    run("npm", ["run", "build", "--workspace", "gatehouse-auth"], repoRoot);
  }
  const sources = Math.max(newestMtime(exampleDir), newestMtime(join(libraryDir, "dist")));
  if (sources > buildTime(exampleDir)) {
    log("  building the example app (its .next build is missing or stale)…");
    run("npm", ["run", "build", "--workspace", "gatehouse-example"], repoRoot);
  }
}

/** Builds a peer app in bench/peers/<name> when its build is missing or stale. */
export function ensurePeerBuilt(name) {
  const dir = join(peersDir, name);
  if (newestMtime(dir) > buildTime(dir)) {
    log(`  building bench/peers/${name}…`);
    run(process.execPath, [nextBin, "build", dir], repoRoot);
  }
  return dir;
}

export async function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** Runs `gatehouse migrate` with the app's environment. */
export function migrate(env) {
  const result = spawnSync(process.execPath, [cliBin, "migrate"], { env, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`gatehouse migrate failed: ${result.stderr || result.stdout}`);
}

/** Resident set size of a process and all its descendants, in bytes (Linux /proc). */
export function treeRss(pid) {
  const children = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  let total = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const current = stack.pop();
    try {
      const status = readFileSync(`/proc/${current}/status`, "utf8");
      const match = /VmRSS:\s+(\d+) kB/.exec(status);
      if (match) total += Number(match[1]) * 1024;
    } catch {
      // gone meanwhile
    }
    stack.push(...(children.get(current) ?? []));
  }
  return total;
}

/**
 * Starts `next start` for a built app in `dir` with `env`, waits until `/api/health` answers, and resolves
 * to `{ url, pid, logs, rss, stop }`.
 */
export async function startNext(dir, env, { nodeArgs = [] } = {}) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const fullEnv = {
    ...process.env,
    NODE_ENV: "production",
    NEXT_TELEMETRY_DISABLED: "1",
    PORT: String(port),
    ...env(url),
  };
  let output = "";
  const child = spawn(process.execPath, [...nodeArgs, nextBin, "start", dir, "-p", String(port), "-H", "127.0.0.1"], {
    cwd: dir,
    env: fullEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`next start exited with ${child.exitCode}:\n${output}`);
    try {
      if ((await fetch(`${url}/api/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`next start did not answer within 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    env: fullEnv,
    pid: child.pid,
    logs: () => output,
    rss: () => treeRss(child.pid),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}

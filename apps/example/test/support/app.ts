import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const appDir = resolve(import.meta.dirname, "..", "..");
const repoRoot = resolve(appDir, "..", "..");

/**
 * The two example apps, which answer the same HTTP contract: `pages` (apps/example, the Pages Router) and
 * `app-router` (apps/example-app-router). The contract tests run against each.
 */
export const EXAMPLE_APPS = ["pages", "app-router"] as const;
export type ExampleApp = (typeof EXAMPLE_APPS)[number];

/** Where an example app lives. */
export function exampleAppDir(app: ExampleApp): string {
  return app === "pages" ? appDir : resolve(repoRoot, "apps", "example-app-router");
}
const nextBin = join(repoRoot, "node_modules", "next", "dist", "bin", "next");
const cliBin = join(repoRoot, "packages", "gatehouse", "bin", "gatehouse.js");

/** A running `next start` of the built example app on its own port, database and secret. */
export interface RunningApp {
  url: string;
  env: NodeJS.ProcessEnv;
  /** Runs the `gatehouse` CLI against this app's database. */
  cli(args: string[]): { status: number | null; stdout: string; stderr: string };
  /** The server's output so far, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

async function waitForHealth(url: string, child: ChildProcess, logs: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`next start exited with ${child.exitCode}:\n${logs()}`);
    try {
      const response = await fetch(`${url}/api/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`next start did not become healthy within 60 s:\n${logs()}`);
}

/**
 * Starts a built example app (`app`, default the Pages Router's). `npm test` builds both first; run
 * `npm run build` when calling vitest directly.
 * `host` is the name it is reached (and bound) at: `localhost` for passkeys, whose relying party must be a
 * domain (WebAuthn refuses an IP address); 127.0.0.1 by default.
 */
export async function startApp(
  options: {
    strategy?: "database" | "stateless";
    // Not `NodeJS.ProcessEnv`: a test that also loads Next's types (through the library's sources) would have
    // to name NODE_ENV, which is set here anyway.
    env?: Record<string, string | undefined>;
    host?: "127.0.0.1" | "localhost";
    app?: ExampleApp;
  } = {},
): Promise<RunningApp> {
  const cwd = exampleAppDir(options.app ?? "pages");
  if (!existsSync(join(cwd, ".next", "BUILD_ID"))) {
    throw new Error(`${cwd} is not built. Run \`npm run build\` (npm test does it) before these tests.`);
  }
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-e2e-"));
  const port = await freePort();
  const host = options.host ?? "127.0.0.1";
  const url = `http://${host}:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    PORT: String(port),
    GATEHOUSE_URL: url,
    DATABASE_URL: `file:${join(dir, "app.db")}`,
    GATEHOUSE_SECRET: randomBytes(32).toString("base64url"),
    GATEHOUSE_SESSION_STRATEGY: options.strategy ?? "database",
    NEXT_TELEMETRY_DISABLED: "1",
    // Every test client comes from 127.0.0.1: per-IP limits are raised so that only the throttling tests,
    // which set their own, meet them.
    GATEHOUSE_SIGNUP_LIMIT_PER_IP: "100000",
    GATEHOUSE_LOGIN_LIMIT_PER_IP: "100000",
    // True: the server is bound to `host`, a loopback address (the App Router app's dev outbox needs it).
    GATEHOUSE_LOOPBACK_ONLY: "1",
    ...options.env,
  };
  let output = "";
  const child = spawn(process.execPath, [nextBin, "start", "-p", String(port), "-H", host], {
    cwd,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (chunk) => (output += chunk));
  child.stderr?.on("data", (chunk) => (output += chunk));
  const logs = () => output;
  try {
    await waitForHealth(url, child, logs);
  } catch (error) {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    env,
    logs,
    cli(args) {
      const result = spawnSync(process.execPath, [cliBin, ...args], { env, encoding: "utf8" });
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

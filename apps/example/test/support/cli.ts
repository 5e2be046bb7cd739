import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import type { RunningApp } from "./app";

const cliBin = join(
  resolve(import.meta.dirname, "..", "..", "..", ".."),
  "packages",
  "gatehouse",
  "bin",
  "gatehouse.js",
);

/**
 * Runs the `gatehouse` CLI with the app's environment, like `RunningApp.cli`, but without blocking the test
 * process: `cli()` uses spawnSync, which freezes this event loop and so anything served from it (such as
 * the TCP forwarders of the fault tests) for as long as the CLI runs.
 */
export function runCli(
  app: RunningApp,
  args: string[],
  options: { timeoutMs?: number } = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cliBin, ...args], { env: app.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (status) => {
      clearTimeout(timer);
      resolvePromise({ status, stdout, stderr });
    });
  });
}

import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = path.join(PACKAGE_DIR, "bin", "gatehouse.js");
const BUILT_CLI = path.join(PACKAGE_DIR, "dist", "cli", "main.js");

/** What the CLI printed and how it exited. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Fails with what to do when `dist/` is missing: the tests run the built CLI, as `npx gatehouse` does. */
export function requireBuiltCli(): void {
  if (!fs.existsSync(BUILT_CLI)) {
    throw new Error(
      `The CLI is not built (${path.relative(PACKAGE_DIR, BUILT_CLI)} is missing). Run \`npm run build --workspace gatehouse-auth\` first; \`npm test\` does this before vitest.`,
    );
  }
}

/**
 * Runs the real CLI (`bin/gatehouse.js`) in a child process, in `cwd`, with an environment of `PATH` and
 * `env` only: no DATABASE_URL, GATEHOUSE_* or NODE_ENV (vitest sets it to `test`) from the test's process.
 */
export function runCli(
  args: string[],
  options: { cwd: string; env?: Record<string, string>; stdin?: string },
): Promise<CliRun> {
  // Next's types make NODE_ENV required on ProcessEnv; leaving it out is the point here.
  const variables: Record<string, string | undefined> = { PATH: process.env.PATH, ...options.env };
  const env = variables as NodeJS.ProcessEnv;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? "");
  });
}

/** A new empty folder under the system's temp folder, with `files` (path → text) written into it. */
export function tempFolder(files: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-cli-"));
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

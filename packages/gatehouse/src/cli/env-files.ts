import nextEnv from "@next/env";

/** What {@link loadEnvFiles} read. */
export interface LoadedEnv {
  /** The files read, highest precedence first, like `[".env.local", ".env"]`: names inside the folder. */
  files: string[];
  /** Variable → the file that set it, for each variable that came from a file rather than the process environment. */
  origins: Record<string, string>;
}

/**
 * Loads `dir`'s `.env` files into `process.env` exactly as `next dev` (`development`) or `next start`
 * (`production`) does, through Next's own loader: `.env.$mode.local`, `.env.local` (not when NODE_ENV is
 * `test`), `.env.$mode`, `.env`, the first to set a variable winning, and variables already in the process
 * environment winning over all of them. Call it once per process, before anything reads `process.env`.
 *
 * @example
 * ```ts
 * const { files } = loadEnvFiles(process.cwd(), process.env.NODE_ENV === "production" ? "production" : "development");
 * // files: [".env.local", ".env"]; process.env.GATEHOUSE_SECRET now holds .env.local's value
 * ```
 */
export function loadEnvFiles(dir: string, mode: "development" | "production"): LoadedEnv {
  const before = new Set(Object.keys(process.env));
  // Gatehouse prints its own one line; Next's loader would print one per file on stdout, which `secret` and
  // `users list --json` keep for their output. Reloading (the 4th argument) makes it read the files even when a
  // parent process was Next and left `__NEXT_PROCESSED_ENV` set, so that the line we print is true.
  const { loadedEnvFiles } = nextEnv.loadEnvConfig(dir, mode === "development", SILENT, true);
  const origins: Record<string, string> = {};
  for (const file of loadedEnvFiles) {
    for (const name of Object.keys(file.env)) {
      if (!before.has(name) && origins[name] === undefined) origins[name] = file.path;
    }
  }
  return { files: loadedEnvFiles.map((file) => file.path), origins };
}

const SILENT = {
  info: (): void => {},
  error: (message: string, error?: unknown): void => {
    process.stderr.write(`gatehouse: ${message}${error instanceof Error ? `: ${error.message}` : ""}\n`);
  },
};

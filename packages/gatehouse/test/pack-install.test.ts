/**
 * What a user gets from the registry, on each Next.js major the package supports: `npm pack` of the library,
 * installed into a fresh app per major in a temporary folder outside the workspace (so nothing resolves from
 * the repository's node_modules), and the README's guide ("Add it to your Pages Router app in five minutes")
 * followed there as a user would: its code blocks written verbatim into an app that starts with only what
 * create-next-app writes (package.json, tsconfig.json, next.config), the setup it names done with the packed
 * CLI (init, migrate, an admin), `next build` (type-checked, strict), `next start`, and the flow the guide
 * promises checked over HTTP.
 *
 * The exports map, the types and the `files` list are checked as they ship; the build also bundles the proxy
 * entry — as `middleware.ts` on the Edge runtime on Next 14 and 15, as `proxy.ts` on Next 16 — so it must
 * need no native module and no `node:crypto`. The three apps install at once; they build one at a time (two cores).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

const library = join(dirname(fileURLToPath(import.meta.url)), "..");
const root = join(library, "..", "..");
const manifest = JSON.parse(readFileSync(join(library, "package.json"), "utf8")) as {
  name: string;
  exports: Record<string, unknown>;
};
/** The versions the workspace itself is tested with. */
const workspaceVersion = (name: string): string =>
  (JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;

const GUIDE_FILE = join(root, "README.md");
const GUIDE_HEADING = "## Add it to your Pages Router app in five minutes";

// ——— The majors ———————————————————————————————————————————————————————————————————————————————————————

interface Major {
  major: 14 | 15 | 16;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  /** The config file create-next-app writes for this major, and its text. */
  nextConfig: [path: string, text: string];
  /** What create-next-app's tsconfig.json differs in from the 14 one. */
  tsconfig: { target?: string; jsx: string; include: string[] };
}

const NEXT_CONFIG_MJS = `/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
};

export default nextConfig;
`;
const NEXT_CONFIG_TS = `import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  /* config options here */
  reactStrictMode: true,
};

export default nextConfig;
`;
const INCLUDE = ["next-env.d.ts", "**/*.ts", "**/*.tsx"];

/** React 19 and its types as the workspace has them, for the majors that take it. */
const WORKSPACE_REACT = {
  dependencies: { react: workspaceVersion("react"), "react-dom": workspaceVersion("react-dom") },
  devDependencies: {
    "@types/react": workspaceVersion("@types/react"),
    "@types/react-dom": workspaceVersion("@types/react-dom"),
  },
};

/** Exact versions: the latest 14.2.x and 15.5.x, and 16.4.5 (16.4.6's lockfile lacks the SWC binaries). */
const MAJORS: readonly Major[] = [
  {
    major: 14,
    dependencies: { next: "14.2.35", react: "18.3.1", "react-dom": "18.3.1" },
    devDependencies: { "@types/react": "18.3.32", "@types/react-dom": "18.3.7" },
    nextConfig: ["next.config.mjs", NEXT_CONFIG_MJS],
    tsconfig: { jsx: "preserve", include: INCLUDE },
  },
  {
    major: 15,
    dependencies: { next: "15.5.29", ...WORKSPACE_REACT.dependencies },
    devDependencies: WORKSPACE_REACT.devDependencies,
    nextConfig: ["next.config.ts", NEXT_CONFIG_TS],
    tsconfig: { target: "ES2017", jsx: "preserve", include: INCLUDE },
  },
  {
    major: 16,
    dependencies: { next: "16.4.5", ...WORKSPACE_REACT.dependencies },
    devDependencies: WORKSPACE_REACT.devDependencies,
    nextConfig: ["next.config.ts", NEXT_CONFIG_TS],
    tsconfig: {
      target: "ES2017",
      jsx: "react-jsx",
      include: [...INCLUDE, ".next/types/**/*.ts", ".next/dev/types/**/*.ts", "**/*.mts"],
    },
  },
];

/** tsconfig.json as create-next-app writes it for a Pages Router app in TypeScript. */
function tsconfigFor({ tsconfig }: Major): string {
  const compilerOptions = {
    ...(tsconfig.target ? { target: tsconfig.target } : {}),
    lib: ["dom", "dom.iterable", "esnext"],
    allowJs: true,
    skipLibCheck: true,
    strict: true,
    noEmit: true,
    esModuleInterop: true,
    module: "esnext",
    moduleResolution: "bundler",
    resolveJsonModule: true,
    isolatedModules: true,
    jsx: tsconfig.jsx,
    incremental: true,
    paths: { "@/*": ["./*"] },
  };
  return `${JSON.stringify({ compilerOptions, include: tsconfig.include, exclude: ["node_modules"] }, null, 2)}\n`;
}

// ——— The guide ——————————————————————————————————————————————————————————————————————————————————————————

interface GuideFile {
  path: string;
  /** The majors the block is for; all of them unless its header says `(Next 14, 15)` or the like. */
  majors: ReadonlySet<number>;
  text: string;
}

interface Guide {
  files: GuideFile[];
  /** The lines of its ```sh blocks, comments removed. */
  commands: string[];
  /** Everything wrong with its code blocks, one sentence each. */
  problems: string[];
}

const FENCE = /^```([\w-]*)[^\n]*\n([\s\S]*?)^```\s*$/gm;
/** `// lib/gatehouse.ts`, `// middleware.ts (Next 14, 15)`, `// pages/login.tsx — a prose comment`. */
const HEADER = /^\/\/ ([\w@.[\]/-]+\.(?:ts|tsx|mts|js|mjs))(?: \(Next (\d+(?:, \d+)*)\))?(?: — .*)?$/;

function readGuide(): Guide {
  const readme = readFileSync(GUIDE_FILE, "utf8");
  const start = readme.indexOf(`${GUIDE_HEADING}\n`);
  if (start === -1) return { files: [], commands: [], problems: [`${GUIDE_FILE} has no "${GUIDE_HEADING}" section.`] };
  const rest = readme.slice(start + GUIDE_HEADING.length);
  const end = rest.search(/^## /m);
  const section = end === -1 ? rest : rest.slice(0, end);
  const guide: Guide = { files: [], commands: [], problems: [] };
  const all = new Set(MAJORS.map(({ major }) => major));
  for (const [, language, body = ""] of section.matchAll(FENCE)) {
    if (language === "sh" || language === "bash") {
      for (const line of body.split("\n")) {
        const command = line.replace(/(^|\s)#.*$/, "").trim();
        if (command) guide.commands.push(command);
      }
      continue;
    }
    if (language !== "ts" && language !== "tsx") continue;
    const firstLine = body.split("\n", 1)[0] ?? "";
    const header = HEADER.exec(firstLine);
    const path = header?.[1];
    if (!header || !path || path.startsWith("/") || normalize(path).startsWith("..")) {
      guide.problems.push(
        `A \`\`\`${language} block does not start with "// <relative/path.${language}>" naming the file it is: ${JSON.stringify(firstLine)}`,
      );
      continue;
    }
    const majors = header[2] ? new Set(header[2].split(", ").map(Number)) : all;
    for (const major of majors) {
      if (!all.has(major as Major["major"])) guide.problems.push(`${path}: there is no Next ${major} in this test.`);
    }
    guide.files.push({ path, majors, text: body });
  }
  for (const { major } of MAJORS) {
    const paths = guide.files.filter((file) => file.majors.has(major)).map((file) => file.path);
    for (const path of new Set(paths.filter((path, index) => paths.indexOf(path) !== index))) {
      guide.problems.push(`Two blocks are ${path} for Next ${major}.`);
    }
  }
  return guide;
}

/** Versions for what the guide's `npm install` names besides the library: the workspace's own. */
const KNOWN_PACKAGES: Record<string, string> = { "better-sqlite3": workspaceVersion("better-sqlite3") };

/** The packages of the guide's `npm install …` lines, the library excepted. */
function installedByGuide(guide: Guide): { packages: Record<string, string>; unknown: string[] } {
  const packages: Record<string, string> = {};
  const unknown: string[] = [];
  for (const command of guide.commands) {
    const words = /^npm (?:install|i|add) (.*)$/.exec(command)?.[1]?.split(/\s+/) ?? [];
    // `name@range` counts as `name`: the version is the workspace's either way.
    const names = words.filter((word) => !word.startsWith("-")).map((word) => word.replace(/(?<=.)@.*$/, ""));
    for (const name of names.filter((name) => name !== manifest.name)) {
      const version = KNOWN_PACKAGES[name];
      if (version) packages[name] = version;
      else unknown.push(name);
    }
  }
  return { packages, unknown };
}

// ——— Processes ———————————————————————————————————————————————————————————————————————————————————————————

/**
 * The environment of every command: the test's own, minus what would leak into the app — vitest's, ours, and
 * NODE_ENV (vitest sets it to "test"; each Next.js command and the CLI pick their own).
 */
function appEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: "1", ...extra };
  for (const name of Object.keys(env)) {
    // Reflect: Next's global types declare NODE_ENV always set, and it is left out on purpose.
    if (/^(VITEST|GATEHOUSE_|DATABASE_URL$|REDIS_|NODE_ENV$|NODE_OPTIONS$|__NEXT)/.test(name) && !(name in extra)) {
      Reflect.deleteProperty(env, name);
    }
  }
  return env;
}

interface Ran {
  /** The exit code; `null` when a signal ended it. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end, whatever its exit code. */
function execute(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; input?: string },
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? appEnv(), stdio: "pipe" });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}

/** Runs a command; a failure says what the command printed, so a broken build explains itself. */
async function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; input?: string },
): Promise<Ran> {
  const ran = await execute(command, args, options);
  if (ran.code !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} (in ${options.cwd}) exited ${ran.code}:\n${ran.stdout}\n${ran.stderr}`,
    );
  }
  return ran;
}

/** At most `size` of the returned function's tasks at once (builds: two cores). */
function limit(size: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (running >= size) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface Server {
  url: string;
  /** What it has printed so far. */
  output(): string;
  stop(): void;
}

/** `next start` on a free port, resolved once it answers; its own process group, so stopping it stops all of it. */
async function nextStart(app: string): Promise<Server> {
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const child: ChildProcess = spawn(
    process.execPath,
    [join(app, "node_modules/next/dist/bin/next"), "start", "--port", String(port)],
    // The process env beats .env.local: GATEHOUSE_URL is this port's, not the one `gatehouse init` wrote.
    { cwd: app, env: appEnv({ GATEHOUSE_URL: url }), stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk;
  });
  const stop = (): void => {
    if (child.exitCode !== null || !child.pid) return;
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // The group is gone already: nothing left to stop.
    }
  };
  // Detached, it would outlive a test run that is interrupted.
  process.once("exit", stop);
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
    if (child.exitCode !== null) throw new Error(`next start exited ${child.exitCode}:\n${output}`);
    try {
      await fetch(`${url}/api/auth/session`);
      return { url, output: () => output, stop };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  stop();
  throw new Error(`next start did not answer on ${url} within 60 s:\n${output}`);
}

// ——— One app per major ——————————————————————————————————————————————————————————————————————————————————

interface Packed {
  tarball: string;
  files: string[];
}

interface App {
  dir: string;
  /** `next build`'s output. */
  build: string;
  declarations: Declarations;
  server: Server;
}

interface Declarations {
  /** tsc's errors in the library's own .d.ts files (and any not in a file). */
  errors: string[];
  /** Whether the check reached the declarations that `import … from "next"` resolves to. */
  reachedNext: boolean;
}

const ADMIN = { email: "admin@example.com", password: "a long admin passphrase 7" };
const USER = { email: "ada@example.com", password: "correct horse battery 42" };

let workdir: string;
let packed: Promise<Packed>;
const apps = new Map<number, Promise<App>>();
const oneBuildAtATime = limit(1);

async function pack(): Promise<Packed> {
  // The library as built by `npm run build` (which `npm test` runs first), packed as `npm publish` would;
  // `prepare` would build it again, so it is skipped.
  const { stdout } = await run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", workdir], {
    cwd: library,
  });
  const [result] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  if (!result) throw new Error(`npm pack printed no package: ${stdout}`);
  return { tarball: join(workdir, result.filename), files: result.files.map((file) => file.path) };
}

/**
 * The guide's setup, as its commands say: `init` writes .env.local (GATEHOUSE_SECRET, and a GATEHOUSE_URL that
 * the server's own environment overrides with its port), `migrate` creates data/gatehouse.db, and an admin is
 * created with the password on stdin.
 */
async function setUp(dir: string): Promise<void> {
  await run("npx", ["--no-install", "gatehouse", "init"], { cwd: dir });
  await run("npx", ["--no-install", "gatehouse", "migrate"], { cwd: dir });
  await run(
    "npx",
    ["--no-install", "gatehouse", "users", "create", "--email", ADMIN.email, "--password-stdin", "--role", "admin"],
    { cwd: dir, input: `${ADMIN.password}\n` },
  );
}

/**
 * The app's tsconfig skips every .d.ts (skipLibCheck, as create-next-app sets it: Next's own do not check
 * without it), so a type of ours that this major's "next" lacks would silently be any in the build. Here the
 * library's declarations are checked with the app's compiler options, together with what they import; only
 * errors in ours count.
 */
async function checkDeclarations(target: Major, dir: string): Promise<Declarations> {
  const name = `next${target.major}`;
  writeFileSync(
    join(workdir, `${name}.types.json`),
    JSON.stringify({
      extends: `./${name}/tsconfig.json`,
      compilerOptions: { skipLibCheck: false, incremental: false, noEmit: true },
      include: [`${name}/node_modules/${manifest.name}/dist/**/*.d.ts`],
      // Not the app's exclude (node_modules), which would leave nothing to check.
      exclude: [],
    }),
  );
  const tsc = join(dir, "node_modules/typescript/bin/tsc");
  const args = [tsc, "-p", `${name}.types.json`, "--pretty", "false", "--listFiles"];
  const lines = (await execute(process.execPath, args, { cwd: workdir })).stdout.split("\n");
  const next = JSON.parse(readFileSync(join(dir, "node_modules/next/package.json"), "utf8")) as { types: string };
  return {
    // Errors in our files, and those of no file (a broken config).
    errors: lines.filter(
      (line) => line.startsWith(`${name}/node_modules/${manifest.name}/`) || line.startsWith("error"),
    ),
    reachedNext: lines.includes(join(dir, "node_modules/next", next.types)),
  };
}

async function prepareApp(target: Major): Promise<App> {
  const guide = readGuide();
  if (guide.problems.length > 0) throw new Error(`The guide's code blocks:\n${guide.problems.join("\n")}`);
  const { packages, unknown } = installedByGuide(guide);
  if (unknown.length > 0) throw new Error(`The guide installs ${unknown.join(", ")}: add a version to KNOWN_PACKAGES.`);
  const { tarball } = await packed;
  const dir = join(workdir, `next${target.major}`);
  mkdirSync(dir);
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({
      name: `gatehouse-next${target.major}`,
      version: "0.1.0",
      private: true,
      scripts: { dev: "next dev", build: "next build", start: "next start" },
      dependencies: { [manifest.name]: `file:${tarball}`, ...packages, ...target.dependencies },
      devDependencies: {
        typescript: workspaceVersion("typescript"),
        "@types/node": workspaceVersion("@types/node"),
        ...target.devDependencies,
      },
    }),
  );
  writeFileSync(join(dir, "tsconfig.json"), tsconfigFor(target));
  writeFileSync(join(dir, target.nextConfig[0]), target.nextConfig[1]);
  // No install scripts: the one native build (better-sqlite3's) is borrowed below from the workspace, the
  // same version built for this Node, where a user's install would download a prebuilt binary.
  await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--ignore-scripts", "--loglevel=error"], {
    cwd: dir,
  });
  const binary = "node_modules/better-sqlite3/build/Release/better_sqlite3.node";
  if (existsSync(join(dir, "node_modules/better-sqlite3")) && !existsSync(join(dir, binary))) {
    mkdirSync(dirname(join(dir, binary)), { recursive: true });
    copyFileSync(join(root, binary), join(dir, binary));
  }
  for (const file of guide.files.filter(({ majors }) => majors.has(target.major))) {
    mkdirSync(dirname(join(dir, file.path)), { recursive: true });
    writeFileSync(join(dir, file.path), file.text);
  }
  const build = async (): Promise<string> => {
    await setUp(dir);
    const next = join(dir, "node_modules/next/dist/bin/next");
    const { stdout, stderr } = await oneBuildAtATime(() => run(process.execPath, [next, "build"], { cwd: dir }));
    return `${stdout}\n${stderr}`;
  };
  // tsc is mostly single-threaded, as are parts of a build: the two share the cores.
  const [declarations, output] = await Promise.all([checkDeclarations(target, dir), build()]);
  return { dir, build: output, declarations, server: await nextStart(dir) };
}

beforeAll(() => {
  workdir = mkdtempSync(join(tmpdir(), "gatehouse-pack-"));
  packed = pack();
  for (const target of MAJORS) {
    const app = prepareApp(target);
    // Awaited by its own describe; until then a failure must not count as unhandled.
    app.catch(() => {});
    apps.set(target.major, app);
  }
});

afterAll(async () => {
  for (const app of apps.values()) (await app.catch(() => null))?.server.stop();
  if (workdir) rmSync(workdir, { recursive: true, force: true });
}, 30_000);

// ——— The tests ———————————————————————————————————————————————————————————————————————————————————————————

describe(`the packed ${manifest.name}`, () => {
  it("ships the built library, its types, the CLI, README, LICENSE and CHANGELOG, and no sources or tests", async () => {
    const { files } = await packed;
    for (const file of ["package.json", "README.md", "LICENSE", "CHANGELOG.md", "bin/gatehouse.js"]) {
      expect(files).toContain(file);
    }
    expect(files).toContain("dist/index.js");
    expect(files).toContain("dist/index.d.ts");
    expect(
      files.filter((file) => !/^(dist\/|bin\/|package\.json$|README\.md$|LICENSE$|CHANGELOG\.md$)/.test(file)),
    ).toEqual([]);
    expect(files.filter((file) => /\.test\.|\/test\/|\.tsbuildinfo$/.test(file))).toEqual([]);
    // Every subpath of the exports map points at files that are in the package.
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      if (typeof target === "string") continue;
      const { types, default: main } = target as { types: string; default: string };
      expect(files, subpath).toContain(types.replace(/^\.\//, ""));
      expect(files, subpath).toContain(main.replace(/^\.\//, ""));
    }
  }, 120_000);
});

describe("the README's guide", () => {
  it("names the file of every ts/tsx block, once per Next.js major, and installs only what this test knows", () => {
    const guide = readGuide();
    expect(guide.problems).toEqual([]);
    expect(guide.files.length).toBeGreaterThan(0);
    expect(installedByGuide(guide).unknown).toEqual([]);
  });

  it("says to install the library, and runs the CLI's setup: init, migrate", () => {
    const { commands } = readGuide();
    expect(commands.some((command) => /^npm (install|i|add) .*\bgatehouse-auth\b/.test(command))).toBe(true);
    for (const step of ["init", "migrate"]) {
      expect(
        commands.some((command) => command.startsWith(`npx gatehouse ${step}`)),
        step,
      ).toBe(true);
    }
  });
});

for (const target of MAJORS) {
  describe(`Next.js ${target.major} (next@${target.dependencies.next}, react@${target.dependencies.react})`, () => {
    let app: App;
    let url: string;
    const cookies: { user?: string; admin?: string } = {};

    beforeAll(async () => {
      app = await (apps.get(target.major) as Promise<App>);
      url = app.server.url;
    }, 600_000);

    let printed = 0;
    beforeEach(() => {
      printed = app?.server.output().length ?? 0;
    });
    afterEach(({ task }) => {
      // An HTTP answer that surprises is explained by what the server printed meanwhile (a 500's stack, say).
      const output = app?.server.output().slice(printed);
      if (task.result?.state === "fail" && output)
        console.error(`next start (Next ${target.major}) printed:\n${output}`);
    });

    /** A request as a browser on GATEHOUSE_URL sends it; redirects are answers, not followed. */
    function request(
      path: string,
      init: { cookie?: string; form?: Record<string, string>; json?: unknown } = {},
    ): Promise<Response> {
      const headers: Record<string, string> = { Origin: url };
      if (init.cookie) headers.Cookie = init.cookie;
      let body: string | undefined;
      if (init.form) {
        headers["Content-Type"] = "application/x-www-form-urlencoded";
        body = new URLSearchParams(init.form).toString();
      } else if (init.json !== undefined) {
        headers["Content-Type"] = "application/json";
        body = JSON.stringify(init.json);
      }
      return fetch(`${url}${path}`, { method: body ? "POST" : "GET", headers, body, redirect: "manual" });
    }

    /** The session cookie a response sets, as a Cookie header, or `undefined`. */
    function sessionCookieOf(response: Response): string | undefined {
      return response.headers
        .getSetCookie()
        .map((header) => header.split(";", 1)[0] as string)
        .find((pair) => /^[^=]*session=./.test(pair));
    }

    /** Where a redirect goes, as a path on this site (`/login?next=%2Fdashboard`). */
    function locationOf(response: Response): string {
      const location = new URL(response.headers.get("location") ?? "", url);
      expect(location.origin).toBe(url);
      return location.pathname + location.search;
    }

    it("builds with next build: the guide's pages, API routes and its proxy, type-checked", () => {
      expect(app.build).toMatch(/Compiled successfully|Compiled with warnings/);
      expect(app.build).toMatch(target.major >= 16 ? /Proxy/ : /Middleware/);
      expect(app.build).toContain("/api/auth/[...gatehouse]");
      expect(app.build).not.toMatch(/Edge Runtime|node:crypto/);
    });

    it(`has declarations that type-check against next@${target.dependencies.next}'s own types`, () => {
      expect(app.declarations.errors).toEqual([]);
      expect(app.declarations.reachedNext).toBe(true);
    });

    it("installs no database driver but the guide's and no nodemailer: they are optional peers", async () => {
      for (const optional of ["pg", "mysql2", "ioredis", "nodemailer"]) {
        await expect(
          run("node", ["-e", `require.resolve(${JSON.stringify(optional)})`], { cwd: app.dir }),
        ).rejects.toThrow();
      }
    });

    it("loads each entry, and its CLI runs", async () => {
      const entries = ["", "/next", "/next/proxy", "/react", "/mail", "/stores", "/stores/sqlite"].map(
        (subpath) => `${manifest.name}${subpath}`,
      );
      const script = `for (const entry of ${JSON.stringify(entries)}) await import(entry);`;
      await run("node", ["--input-type=module", "-e", script], { cwd: app.dir });
      const { stdout } = await run("npx", ["--no-install", "gatehouse", "secret"], { cwd: app.dir });
      expect(stdout.trim()).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    });

    it("renders the log-in and sign-up pages as forms", async () => {
      for (const path of ["/login", "/signup"]) {
        const response = await request(path);
        expect(response.status, path).toBe(200);
        expect(await response.text(), path).toContain("<form");
      }
    });

    it("signs up over the JSON API: 201 and a session cookie", async () => {
      const response = await request("/api/auth/signup", { json: USER });
      expect(response.status, await response.clone().text()).toBe(201);
      const cookie = sessionCookieOf(response);
      expect(cookie).toBeDefined();
      expect((await request("/api/me", { cookie })).status).toBe(200);
    });

    it("logs in with the log-in page's form post: 303 to next and a session cookie", async () => {
      for (const [who, account] of [
        ["user", USER],
        ["admin", ADMIN],
      ] as const) {
        const response = await request("/api/auth/login", { form: { ...account, next: "/dashboard" } });
        expect(response.status, who).toBe(303);
        expect(locationOf(response), who).toBe("/dashboard");
        cookies[who] = sessionCookieOf(response);
        expect(cookies[who], who).toBeDefined();
      }
    });

    it("shows the dashboard to a signed-in user, and sends a signed-out one to /login?next=%2Fdashboard", async () => {
      const signedIn = await request("/dashboard", { cookie: cookies.user });
      expect(signedIn.status).toBe(200);
      expect(await signedIn.text()).toContain(USER.email);
      const signedOut = await request("/dashboard");
      expect([302, 303, 307]).toContain(signedOut.status);
      expect(locationOf(signedOut)).toBe("/login?next=%2Fdashboard");
    });

    it(`sends a signed-in user from /login to /dashboard in ${target.major >= 16 ? "proxy.ts" : "middleware.ts"}`, async () => {
      // The log-in page is static (no getServerSideProps): a redirect from it can only be the proxy's.
      expect(app.build).toMatch(/○ \/login\b/);
      const response = await request("/login", { cookie: cookies.user });
      expect(response.status).toBe(307);
      expect(locationOf(response)).toBe("/dashboard");
    });

    it("guards an API route with a permission: 401 signed out, 403 forbidden for a user, 200 for the admin", async () => {
      const signedOut = await request("/api/admin/users");
      expect(signedOut.status).toBe(401);
      const user = await request("/api/admin/users", { cookie: cookies.user });
      expect(user.status).toBe(403);
      expect(((await user.json()) as { error: { code: string } }).error.code).toBe("forbidden");
      const admin = await request("/api/admin/users", { cookie: cookies.admin });
      expect(admin.status).toBe(200);
    });

    it("guards a page with a permission: 403 and the guide's no-access state for a user, the list for the admin", async () => {
      const user = await request("/admin", { cookie: cookies.user });
      expect(user.status).toBe(403);
      const forbidden = await user.text();
      expect(forbidden).toContain("Admins only.");
      expect(forbidden).not.toContain(ADMIN.email);
      const admin = await request("/admin", { cookie: cookies.admin });
      expect(admin.status).toBe(200);
      const list = await admin.text();
      expect(list).toContain(USER.email);
      expect(list).toContain(ADMIN.email);
      const signedOut = await request("/admin");
      expect([302, 303, 307]).toContain(signedOut.status);
      expect(locationOf(signedOut)).toBe("/login?next=%2Fadmin");
    });

    it("answers /api/me with the signed-in user", async () => {
      const response = await request("/api/me", { cookie: cookies.user });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { user: { email: string } }).user.email).toBe(USER.email);
    });
  });
}

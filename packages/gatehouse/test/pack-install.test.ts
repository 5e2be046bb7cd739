/**
 * What a user gets from the registry: `npm pack` of the library, installed into a fresh Next.js app in a
 * temporary folder outside the workspace (so nothing resolves from the repository's node_modules), and a
 * `next build` there of a page, an API route and a `proxy.ts` using it. The exports map, the types and the
 * `files` list are checked as they ship; the build also bundles the proxy entry, which must need no native
 * module. Database drivers and nodemailer are optional peers: this app installs none of them.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const execFileAsync = promisify(execFile);

/** Runs a command; a failure says what the command printed, so a broken build explains itself. */
async function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; maxBuffer?: number },
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await execFileAsync(command, args, options);
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(" ")} failed:\n${stdout}\n${stderr}`, { cause: error });
  }
}
const library = join(dirname(fileURLToPath(import.meta.url)), "..");
const root = join(library, "..", "..");
const manifest = JSON.parse(readFileSync(join(library, "package.json"), "utf8")) as {
  name: string;
  exports: Record<string, unknown>;
};
/** The versions the workspace itself is tested with. */
const workspaceVersion = (name: string) =>
  (JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;

const FILES: Record<string, string> = {
  "tsconfig.json": JSON.stringify({
    compilerOptions: {
      target: "ES2022",
      lib: ["dom", "dom.iterable", "esnext"],
      strict: true,
      noEmit: true,
      module: "esnext",
      moduleResolution: "bundler",
      jsx: "react-jsx",
      allowJs: true,
      esModuleInterop: true,
      // As create-next-app sets it: Next's own declarations do not check without it.
      skipLibCheck: true,
      isolatedModules: true,
      incremental: false,
      resolveJsonModule: true,
    },
    include: ["next-env.d.ts", "**/*.ts", "**/*.tsx"],
    exclude: ["node_modules"],
  }),
  "next.config.mjs": "export default {};\n",
  "lib/gatehouse.ts": `import { createGatehouse, type Gatehouse, type UserDTO } from "gatehouse-auth";
import { createStoreFromUrl } from "gatehouse-auth/stores";

let instance: Gatehouse | undefined;

export function getGatehouse(): Gatehouse {
  instance ??= createGatehouse({
    ...createStoreFromUrl({ databaseUrl: process.env.DATABASE_URL ?? "file:data/app.db" }),
    secret: process.env.GATEHOUSE_SECRET ?? "",
    url: process.env.GATEHOUSE_URL,
  });
  return instance;
}

/** Never called: the build type-checks it, and fails if the package's types went missing or went loose. */
export function typesAreStrict(gatehouse: Gatehouse, user: UserDTO): void {
  // @ts-expect-error: the core's inputs are typed; a sign-up needs a string email and a password
  void gatehouse.signUp({ email: 1 });
  // @ts-expect-error: nothing public carries the password hash
  void user.passwordHash;
}
`,
  "pages/api/auth/[...gatehouse].ts": `import { gatehouseApiHandler } from "gatehouse-auth/next";
import { getGatehouse } from "../../../lib/gatehouse";

export const config = { api: { bodyParser: false } };
export default gatehouseApiHandler(getGatehouse);
`,
  "pages/api/me.ts": `import { type Auth, isGatehouseError, profileInput } from "gatehouse-auth";
import { readJsonBody, withApiAuth } from "gatehouse-auth/next";
import type { NextApiRequest, NextApiResponse } from "next";
import { getGatehouse } from "../../lib/gatehouse";

export const config = { api: { bodyParser: false } };
export default withApiAuth(getGatehouse, async (req: NextApiRequest, res: NextApiResponse, { user }: Auth) => {
  if (req.method !== "PATCH") return res.status(200).json({ user });
  try {
    res.status(200).json({ user: await getGatehouse().updateProfile(user.id, profileInput(await readJsonBody(req))) });
  } catch (error) {
    if (isGatehouseError(error) && error.code === "invalid_input") res.status(400).json({ fields: error.fields });
    else throw error;
  }
});
`,
  "pages/index.tsx": `import type { UserDTO } from "gatehouse-auth";
import { errorMessage, SessionProvider, signIn, useSession } from "gatehouse-auth/react";
import { type ReactNode, useState } from "react";

function Status(): ReactNode {
  const session = useSession();
  const [problem, setProblem] = useState<string | null>(null);
  const user: UserDTO | null = session.user;
  return (
    <main>
      <p>{session.status === "authenticated" && user ? user.email : "signed out"}</p>
      <button
        type="button"
        onClick={async () => {
          const result = await signIn({ email: "ada@example.com", password: "correct horse battery" });
          setProblem(result.ok ? null : errorMessage(result.error.code));
        }}
      >
        Log in
      </button>
      {problem && <p role="alert">{problem}</p>}
    </main>
  );
}

export default function Home(): ReactNode {
  return (
    <SessionProvider>
      <Status />
    </SessionProvider>
  );
}
`,
  "proxy.ts": `import { gatehouseProxy } from "gatehouse-auth/next/proxy";

export const proxy = gatehouseProxy({
  secret: process.env.GATEHOUSE_SECRET ?? "x".repeat(32),
  protectedRoutes: ["/dashboard"],
});
export const config = { matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"] };
`,
};

let app: string;
let tarball: string;

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), "gatehouse-pack-"));
  // The library as built by `npm run build`, packed as `npm publish` would.
  const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", app], { cwd: library });
  const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = join(app, (packed as { filename: string }).filename);
  writeFileSync(join(app, "packed-files.json"), JSON.stringify(packed?.files.map((file) => file.path)));
  writeFileSync(
    join(app, "package.json"),
    JSON.stringify({
      name: "gatehouse-pack-test",
      private: true,
      type: "module",
      dependencies: {
        [manifest.name]: `file:${tarball}`,
        next: workspaceVersion("next"),
        react: workspaceVersion("react"),
        "react-dom": workspaceVersion("react-dom"),
      },
      devDependencies: {
        typescript: workspaceVersion("typescript"),
        "@types/react": workspaceVersion("@types/react"),
        "@types/react-dom": workspaceVersion("@types/react-dom"),
        "@types/node": workspaceVersion("@types/node"),
      },
    }),
  );
  for (const [path, text] of Object.entries(FILES)) {
    mkdirSync(dirname(join(app, path)), { recursive: true });
    writeFileSync(join(app, path), text);
  }
  await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], {
    cwd: app,
    maxBuffer: 64 * 1024 * 1024,
  });
}, 300_000);

afterAll(() => {
  if (app) rmSync(app, { recursive: true, force: true });
});

describe(`the packed ${manifest.name}, installed into a new Next.js app`, () => {
  it("ships the built library, its types and the CLI, and no sources or tests", () => {
    const files = JSON.parse(readFileSync(join(app, "packed-files.json"), "utf8")) as string[];
    expect(files).toContain("package.json");
    expect(files).toContain("bin/gatehouse.js");
    expect(files).toContain("dist/index.js");
    expect(files).toContain("dist/index.d.ts");
    expect(files.filter((file) => !/^(dist\/|bin\/|package\.json$|README\.md$|LICENSE$)/.test(file))).toEqual([]);
    expect(files.filter((file) => /\.test\.|\/test\/|\.tsbuildinfo$/.test(file))).toEqual([]);
    // Every subpath of the exports map points at files that are in the package.
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      if (typeof target === "string") continue;
      const { types, default: main } = target as { types: string; default: string };
      expect(files, subpath).toContain(types.replace(/^\.\//, ""));
      expect(files, subpath).toContain(main.replace(/^\.\//, ""));
    }
  });

  it("installs without any database driver or nodemailer: they are optional peers", async () => {
    for (const optional of ["better-sqlite3", "pg", "mysql2", "ioredis", "nodemailer"]) {
      await expect(run("node", ["-e", `require.resolve(${JSON.stringify(optional)})`], { cwd: app })).rejects.toThrow();
    }
  });

  it("loads each entry that needs nothing optional, and its CLI runs", async () => {
    const entries = ["", "/next", "/next/proxy", "/react", "/mail", "/stores"].map(
      (subpath) => `${manifest.name}${subpath}`,
    );
    const script = `for (const entry of ${JSON.stringify(entries)}) await import(entry);`;
    await run("node", ["--input-type=module", "-e", script], { cwd: app });
    const { stdout } = await run("npx", ["--no-install", "gatehouse", "secret"], { cwd: app });
    expect(stdout.trim()).toMatch(/^[A-Za-z0-9_-]{43,}$/);
  });

  it("builds with next build: a page, API routes and proxy.ts, type-checked", async () => {
    const { stdout } = await run("npx", ["--no-install", "next", "build"], {
      cwd: app,
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production" },
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(stdout).toMatch(/Compiled successfully/);
    expect(stdout).toMatch(/Proxy|Middleware/);
    expect(stdout).toContain("/api/auth/[...gatehouse]");
  }, 300_000);
});

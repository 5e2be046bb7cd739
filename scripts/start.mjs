// `npm start`: build what is stale, make sure there is a secret, migrate, then serve the example app.
// `npm start -- --dev` runs `next dev` instead of a production build. `GATEHOUSE_EXAMPLE=app-router npm start`
// serves the App Router example (apps/example-app-router) in the same way; `pages` (the default) the other.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const library = join(root, "packages", "gatehouse");
const dev = process.argv.includes("--dev");

const pagesApp = join(root, "apps", "example");
const EXAMPLES = {
  pages: { label: "Pages Router", dir: pagesApp, workspace: "gatehouse-example", sources: [pagesApp] },
  // Its pages are built from apps/example's components, hooks and lib too: a change there makes it stale.
  "app-router": {
    label: "App Router",
    dir: join(root, "apps", "example-app-router"),
    workspace: "gatehouse-example-app-router",
    sources: [join(root, "apps", "example-app-router"), pagesApp],
  },
};
const chosen = process.env.GATEHOUSE_EXAMPLE || "pages";
if (!Object.hasOwn(EXAMPLES, chosen)) {
  console.error(`GATEHOUSE_EXAMPLE must be "pages" (the default) or "app-router", not ${JSON.stringify(chosen)}.`);
  process.exit(2);
}
const example = EXAMPLES[chosen];
const app = example.dir;

function newestMtime(dir, skip) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skip.has(entry.name)) continue;
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path, skip) : statSync(path).mtimeMs);
  }
  return newest;
}

function mtime(path) {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}

function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, stdio: "inherit", env: process.env });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const skip = new Set(["node_modules", ".next", "data", "dist", "test", "next-env.d.ts", "tsconfig.tsbuildinfo"]);
const librarySources = newestMtime(join(library, "src"), skip);
if (librarySources > mtime(join(library, "dist", "index.js"))) {
  console.log("Building the gatehouse-auth library…");
  run("npm", ["run", "build", "--workspace", "gatehouse-auth"], root);
}
const appSources = Math.max(...example.sources.map((dir) => newestMtime(dir, skip)));
if (!dev && Math.max(librarySources, appSources) > mtime(join(app, ".next", "BUILD_ID"))) {
  console.log(`Building the ${example.label} example app…`);
  run("npm", ["run", "build", "--workspace", example.workspace], root);
}

const env = { ...process.env };
env.PORT ||= "3000";
env.GATEHOUSE_URL ||= `http://localhost:${env.PORT}`;
env.DATABASE_URL ||= `file:${join(app, "data", "gatehouse.db")}`;
// The example's secret and origin live in its .env.local (apps/example/.env.local for the Pages Router app):
// `next` reads it, and so does `npx gatehouse` (gatehouse.config.json, at the repository root for apps/example
// and in apps/example-app-router for that one, names the app's folder as its appDir). init adds only what is missing.
const envLocal = join(app, ".env.local");
const oldSecretFile = join(app, "data", "secret"); // where earlier versions kept it: move it so sessions survive
if (!env.GATEHOUSE_SECRET && existsSync(oldSecretFile) && !existsSync(envLocal)) {
  writeFileSync(envLocal, `GATEHOUSE_SECRET=${readFileSync(oldSecretFile, "utf8").trim()}\n`, { mode: 0o600 });
  console.log(`Moved the secret kept in ${oldSecretFile} to ${envLocal}.`);
}
// The default origin only: a PORT or GATEHOUSE_URL of this run is in `env`, which wins over the file.
const init = spawnSync(process.execPath, [join(library, "bin", "gatehouse.js"), "init", app], {
  encoding: "utf8",
  env,
});
if (init.status !== 0) {
  process.stderr.write(init.stderr);
  process.exit(init.status ?? 1);
}
if (!init.stdout.startsWith("Nothing to change")) console.log(init.stdout.slice(0, init.stdout.indexOf("\n\n")));

// A local demo has no mail server: keep emails in the dev outbox (the app allows it only on a loopback
// origin). `next start` runs the build with NODE_ENV=production either way; an explicit NODE_ENV=production
// here means a real deployment, where the outbox must not exist.
const devOutbox = !env.SMTP_URL && env.NODE_ENV !== "production";
if (devOutbox) env.GATEHOUSE_DEV_OUTBOX ??= "1";

// Run in the app's folder, so the CLI finds that app's gatehouse.config.json and env files.
const migrate = spawnSync(process.execPath, [join(library, "bin", "gatehouse.js"), "migrate"], {
  cwd: app,
  stdio: "inherit",
  env,
});
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

console.log(
  `Gatehouse example (${example.label}): ${env.GATEHOUSE_URL} (sessions: ${env.GATEHOUSE_SESSION_STRATEGY || "database"})`,
);
if (devOutbox) console.log(`No SMTP_URL: emails are kept in the dev outbox, ${env.GATEHOUSE_URL}/dev/outbox`);
// The App Router app cannot see the socket's address, so its dev outbox (whose emails carry reset links)
// believes X-Forwarded-For, which another machine could forge: with the outbox on, it listens on loopback only.
const host = devOutbox && chosen === "app-router" ? ["-H", "127.0.0.1"] : [];
if (host.length > 0) env.GATEHOUSE_LOOPBACK_ONLY = "1";
const next = spawn(
  process.execPath,
  [join(root, "node_modules", "next", "dist", "bin", "next"), dev ? "dev" : "start", "-p", env.PORT, ...host],
  { cwd: app, stdio: "inherit", env },
);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => next.kill(signal));
next.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

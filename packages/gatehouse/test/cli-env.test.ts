/**
 * The CLI reads the app's `.env` files as `next dev` / `next start` do (through @next/env), says on stderr which
 * ones, and leaves stdout to the command's output. Each test runs the built CLI in a temp folder of its own.
 */
import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { requireBuiltCli, runCli, tempFolder } from "./support/cli.js";
import { querySqliteFile } from "./support/temp-sqlite.js";

const SECRET = "f".repeat(43);
const folders: string[] = [];

function app(files: Record<string, string>): string {
  const dir = tempFolder(files);
  folders.push(dir);
  return dir;
}

function tables(file: string): string[] {
  const query = "SELECT name FROM sqlite_master WHERE type = 'table'";
  return querySqliteFile(file, (db) => (db.prepare(query).all() as Array<{ name: string }>).map((t) => t.name));
}

beforeAll(requireBuiltCli);
afterEach(() => {
  for (const dir of folders.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe("gatehouse CLI: the app's .env files", () => {
  it("doctor reports a secret and an origin set only in .env.local as set, and names .env.local", async () => {
    const cwd = app({ ".env.local": `GATEHOUSE_SECRET=${SECRET}\nGATEHOUSE_URL=http://localhost:3000\n` });
    const run = await runCli(["doctor"], { cwd });
    expect(run.stderr).toBe("Loaded env from .env.local\n");
    expect(run.stdout).toContain("ok   GATEHOUSE_SECRET is set (43 characters, from .env.local)\n");
    expect(run.stdout).toContain("ok   GATEHOUSE_URL is http://localhost:3000 (from .env.local)\n");
    expect(run.stdout).not.toContain(SECRET);
  });

  it("lists the files read by precedence, and a variable of the process environment beats every file", async () => {
    const cwd = app({
      ".env": "GATEHOUSE_URL=https://from-dotenv.example\n",
      ".env.local": `GATEHOUSE_SECRET=${SECRET}\nGATEHOUSE_URL=https://from-local.example\n`,
    });
    const fromFiles = await runCli(["doctor"], { cwd });
    expect(fromFiles.stderr).toBe("Loaded env from .env.local, .env\n");
    expect(fromFiles.stdout).toContain("GATEHOUSE_URL is https://from-local.example (from .env.local)");
    const fromShell = await runCli(["doctor"], { cwd, env: { GATEHOUSE_URL: "https://from-shell.example" } });
    expect(fromShell.stdout).toContain("GATEHOUSE_URL is https://from-shell.example (from the environment)");
  });

  it("reads .env.production only when NODE_ENV=production, and .env.development only otherwise", async () => {
    const cwd = app({
      ".env.production": "GATEHOUSE_URL=https://app.example.com\n",
      ".env.development": "GATEHOUSE_URL=http://localhost:4000\n",
    });
    const development = await runCli(["doctor"], { cwd });
    expect(development.stderr).toBe("Loaded env from .env.development\n");
    expect(development.stdout).toContain("GATEHOUSE_URL is http://localhost:4000 (from .env.development)");
    const production = await runCli(["doctor"], { cwd, env: { NODE_ENV: "production" } });
    expect(production.stderr).toBe("Loaded env from .env.production\n");
    expect(production.stdout).toContain("GATEHOUSE_URL is https://app.example.com (from .env.production)");
  });

  it("says nothing on stderr when the app has no env file, and the doctor's fix names .env.local and init", async () => {
    const run = await runCli(["doctor"], { cwd: app({}) });
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(
      /FIX +GATEHOUSE_SECRET is not set\n +→ .*in \.env\.local: npx gatehouse init writes one/,
    );
  });

  it("migrate with DATABASE_URL in .env creates the SQLite file there, relative to the app", async () => {
    const cwd = app({ ".env": "DATABASE_URL=file:db/app.db\n" });
    const run = await runCli(["migrate"], { cwd });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe("Loaded env from .env\n");
    const file = path.join(fs.realpathSync(cwd), "db", "app.db");
    expect(run.stdout).toBe(`Database is up to date: file:${file}\n`);
    expect(tables(file)).toContain("gatehouse_users");
  });

  it("migrate on the default URL creates data/ and data/gatehouse.db in the app", async () => {
    const cwd = app({});
    const run = await runCli(["migrate"], { cwd });
    expect(run.code, run.stderr).toBe(0);
    expect(tables(path.join(cwd, "data", "gatehouse.db"))).toContain("gatehouse_sessions");
  });

  it("doctor does not create the database it reports missing", async () => {
    const cwd = app({});
    const run = await runCli(["doctor"], { cwd });
    expect(run.stdout).toMatch(/FIX +no database at .*data\/gatehouse\.db\n +→ run npx gatehouse migrate/);
    expect(fs.existsSync(path.join(cwd, "data"))).toBe(false);
  });

  it("secret prints only the secret on stdout, even with env files present", async () => {
    const cwd = app({ ".env": "GATEHOUSE_URL=http://localhost:3000\n", ".env.local": `GATEHOUSE_SECRET=${SECRET}\n` });
    const run = await runCli(["secret"], { cwd });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect(run.stdout).not.toContain(SECRET);
    expect(run.stderr).toBe("Loaded env from .env.local, .env\n");
  });

  it("users list --json prints only JSON on stdout, with DATABASE_URL from .env.local", async () => {
    const cwd = app({ ".env.local": "DATABASE_URL=file:data/users.db\n" });
    const created = await runCli(["users", "create", "--email", "ada@example.com", "--password-stdin"], {
      cwd,
      stdin: "correct horse battery staple\n",
    });
    expect(created.code, created.stderr).toBe(0);
    const run = await runCli(["users", "list", "--json"], { cwd });
    expect(run.code, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as Array<{ email: string }>).map((user) => user.email)).toEqual(["ada@example.com"]);
    // The user went to the database .env.local names, not to the default one.
    expect(fs.existsSync(path.join(cwd, "data", "users.db"))).toBe(true);
    expect(fs.existsSync(path.join(cwd, "data", "gatehouse.db"))).toBe(false);
  });

  it('reads the env files and the database of the "appDir" that gatehouse.config.json names', async () => {
    const root = app({
      "gatehouse.config.json": '{ "appDir": "apps/web" }\n',
      "apps/web/.env.local": `GATEHOUSE_SECRET=${SECRET}\nDATABASE_URL=file:data/web.db\n`,
    });
    const migrate = await runCli(["migrate"], { cwd: root });
    expect(migrate.code, migrate.stderr).toBe(0);
    expect(migrate.stderr).toBe(`Loaded env from ${path.join("apps", "web", ".env.local")}\n`);
    expect(fs.existsSync(path.join(root, "apps", "web", "data", "web.db"))).toBe(true);
    const doctor = await runCli(["doctor"], { cwd: path.join(root, "apps") });
    expect(doctor.stdout).toContain("GATEHOUSE_SECRET is set (43 characters, from web/.env.local)");
  });

  it("--cwd runs the command as if started in that folder; one that does not exist exits 1", async () => {
    const cwd = app({ ".env.local": `GATEHOUSE_SECRET=${SECRET}\n` });
    const run = await runCli(["doctor", "--cwd", cwd], { cwd: app({}) });
    expect(run.stderr).toBe("Loaded env from .env.local\n");
    expect(run.stdout).toContain("GATEHOUSE_SECRET is set");
    const missing = await runCli(["doctor", "--cwd", path.join(cwd, "nope")], { cwd });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^gatehouse: --cwd: .*nope does not exist/);
  });

  it("the help lists init and the env files", async () => {
    const run = await runCli(["--help"], { cwd: app({}) });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^ {2}init \[dir\]/m);
    expect(run.stdout).toContain(".env.local");
    expect(run.stdout).toContain("NODE_ENV=production");
  });
});

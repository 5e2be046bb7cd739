/** `npx gatehouse init [dir]`, run for real in temp folders: what it writes, and that a second run writes nothing. */
import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { requireBuiltCli, runCli, tempFolder } from "./support/cli.js";

const folders: string[] = [];

function app(files: Record<string, string> = {}): string {
  const dir = tempFolder(files);
  folders.push(dir);
  return dir;
}

const read = (dir: string, file: string): string => fs.readFileSync(path.join(dir, file), "utf8");

/** The value the last `NAME=` line of a dotenv text gives, as dotenv reads it. */
function envValue(text: string, name: string): string | undefined {
  return [...text.matchAll(new RegExp(`^${name}=(.*)$`, "gm"))].at(-1)?.[1];
}

beforeAll(requireBuiltCli);
afterEach(() => {
  for (const dir of folders.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe("gatehouse init", () => {
  it("writes a new .env.local (mode 0600) with a random secret and the local origin, and a .gitignore", async () => {
    const dir = app();
    const run = await runCli(["init"], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const env = read(dir, ".env.local");
    expect(envValue(env, "GATEHOUSE_SECRET")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(envValue(env, "GATEHOUSE_URL")).toBe("http://localhost:3000");
    expect(fs.statSync(path.join(dir, ".env.local")).mode & 0o777).toBe(0o600);
    expect(read(dir, ".gitignore").split("\n")).toEqual(expect.arrayContaining(["/data/", ".env*.local"]));
    expect(run.stdout).toContain(`Set up Gatehouse in ${fs.realpathSync(dir)}:\n`);
    expect(run.stdout).toContain("  created .env.local (mode 0600): added GATEHOUSE_SECRET (a new random secret)");
    expect(run.stdout).toContain("  created .gitignore: added /data/, .env*.local\n");
    expect(run.stdout).toContain("npm install gatehouse-auth better-sqlite3");
    expect(run.stdout).toContain("npx gatehouse migrate");
    expect(run.stdout).not.toContain(envValue(env, "GATEHOUSE_SECRET"));
    // A new secret each time: another app gets another one.
    const other = app();
    expect((await runCli(["init"], { cwd: other })).code).toBe(0);
    expect(envValue(read(other, ".env.local"), "GATEHOUSE_SECRET")).not.toBe(envValue(env, "GATEHOUSE_SECRET"));
  });

  it("run a second time, changes nothing and says so", async () => {
    const dir = app();
    expect((await runCli(["init"], { cwd: dir })).code).toBe(0);
    const before = { env: read(dir, ".env.local"), ignore: read(dir, ".gitignore") };
    const again = await runCli(["init"], { cwd: dir });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^Nothing to change in .*: it is set up already\.\n/);
    expect(again.stdout).toContain("  unchanged .gitignore: already ignores /data/, .env*.local\n");
    expect({ env: read(dir, ".env.local"), ignore: read(dir, ".gitignore") }).toEqual(before);
  });

  it("keeps a GATEHOUSE_SECRET already in .env.local, and the file's other lines, adding only GATEHOUSE_URL", async () => {
    const existing = "# mine\nGATEHOUSE_SECRET=keep-this-one-it-is-long-enough-0123456789\nOTHER=1";
    const dir = app({ ".env.local": existing });
    const run = await runCli(["init", "--url", "https://app.example.com/ignored/path"], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const env = read(dir, ".env.local");
    expect(env.startsWith(`${existing}\n`)).toBe(true);
    expect(envValue(env, "GATEHOUSE_SECRET")).toBe("keep-this-one-it-is-long-enough-0123456789");
    expect(envValue(env, "GATEHOUSE_URL")).toBe("https://app.example.com");
    expect(env.match(/GATEHOUSE_SECRET=/g)).toHaveLength(1);
    expect(run.stdout).toContain("kept GATEHOUSE_SECRET (already set in .env.local)");
  });

  // What counts as set is what Next's own parser reads: a line scan would get these wrong.
  it.each([
    ["a `KEY: value` line", "GATEHOUSE_SECRET: keep-this-one-it-is-long-enough-0123456789\n", true],
    ["an export and CRLF line endings", "export GATEHOUSE_SECRET=keep-this-one-it-is-long-enough-0123\r\n", true],
    ["a blank quoted value", 'GATEHOUSE_SECRET="   "\n', false],
    ["a commented-out line", "# GATEHOUSE_SECRET=old\n", false],
    ["a line inside another value's quotes", 'OTHER="multi\nGATEHOUSE_SECRET=x\n"\n', false],
  ])("with %s in .env.local, counts the secret as set: %s", async (_label, existing, set) => {
    const dir = app({ ".env.local": existing });
    const run = await runCli(["init"], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.includes("kept GATEHOUSE_SECRET")).toBe(set);
    expect(run.stdout.includes("added GATEHOUSE_SECRET")).toBe(!set);
  });

  it("adds the data folder to an existing .gitignore once, and keeps create-next-app's .env*.local", async () => {
    const nextIgnore = "# dependencies\n/node_modules\n\n# local env files\n.env*.local\n";
    const dir = app({ ".gitignore": nextIgnore });
    expect((await runCli(["init"], { cwd: dir })).code).toBe(0);
    expect((await runCli(["init"], { cwd: dir })).code).toBe(0);
    const ignore = read(dir, ".gitignore");
    expect(ignore.startsWith(nextIgnore)).toBe(true);
    expect(ignore.split("\n").filter((line) => /^\/?data\/?$/.test(line))).toEqual(["/data/"]);
    expect(ignore.split("\n").filter((line) => line.includes(".env"))).toEqual([".env*.local"]);
  });

  it.each(["data", "/data", "data/", "/data/"])("recognises %s as ignoring the data folder", async (line) => {
    const dir = app({ ".gitignore": `${line}\n.env*\n` });
    const run = await runCli(["init"], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(read(dir, ".gitignore")).toBe(`${line}\n.env*\n`);
    expect(run.stdout).toContain("unchanged .gitignore: already ignores /data/, .env*.local");
  });

  it("sets up the folder it is given", async () => {
    const parent = app({ "web/package.json": "{}" });
    const run = await runCli(["init", "web"], { cwd: parent });
    expect(run.code, run.stderr).toBe(0);
    expect(fs.existsSync(path.join(parent, "web", ".env.local"))).toBe(true);
    expect(fs.existsSync(path.join(parent, ".env.local"))).toBe(false);
  });

  it("leads to a doctor that finds the secret and the origin", async () => {
    const dir = app();
    await runCli(["init"], { cwd: dir });
    const doctor = await runCli(["doctor"], { cwd: dir });
    expect(doctor.stdout).toContain("ok   GATEHOUSE_SECRET is set (43 characters, from .env.local)");
    expect(doctor.stdout).toContain("ok   GATEHOUSE_URL is http://localhost:3000 (from .env.local)");
  });

  it("exits 1, writing nothing, when the folder does not exist or is a file", async () => {
    const dir = app({ "notes.txt": "x" });
    const missing = await runCli(["init", "nope"], { cwd: dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      "gatehouse: init: nope does not exist. Create the app first, for example with npx create-next-app.\n",
    );
    const file = await runCli(["init", "notes.txt"], { cwd: dir });
    expect(file.code).toBe(1);
    expect(file.stderr).toBe("gatehouse: init: notes.txt is not a directory.\n");
    expect(fs.readdirSync(dir)).toEqual(["notes.txt"]);
  });

  it("exits 2 with the usage for two folders, a --url that is not http(s), or --url on another command", async () => {
    const dir = app();
    for (const args of [
      ["init", "a", "b"],
      ["init", "--url", "localhost:3000"],
      ["migrate", "--url", "http://x"],
    ]) {
      const run = await runCli(args, { cwd: dir });
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr).toContain("Usage: gatehouse");
    }
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("refuses a --url that would smuggle a line or an expansion into .env.local", async () => {
    const dir = app();
    for (const url of ["http://x.com\nGATEHOUSE_SECRET=pwned", "http://x$HOME.com", 'http://x".com']) {
      const run = await runCli(["init", "--url", url], { cwd: dir });
      expect(run.code, JSON.stringify(url)).toBe(2);
    }
    expect(fs.readdirSync(dir)).toEqual([]);
    // A loopback IPv6 origin is a plain origin, as the doctor counts it.
    expect((await runCli(["init", "--url", "http://[::1]:3000"], { cwd: dir })).code).toBe(0);
    expect(envValue(read(dir, ".env.local"), "GATEHOUSE_URL")).toBe("http://[::1]:3000");
  });

  it("refuses to write through a symbolic link, dangling or not, and writes nothing", async () => {
    const outside = app({ "elsewhere.txt": "KEEP=1\n" });
    for (const target of [path.join(outside, "elsewhere.txt"), path.join(outside, "public-leak.txt")]) {
      const dir = app();
      fs.symlinkSync(target, path.join(dir, ".env.local"));
      const run = await runCli(["init"], { cwd: dir });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("symbolic link");
      expect(fs.readdirSync(dir)).toEqual([".env.local"]);
    }
    expect(fs.readdirSync(outside)).toEqual(["elsewhere.txt"]);
    expect(read(outside, "elsewhere.txt")).toBe("KEEP=1\n");
  });
});

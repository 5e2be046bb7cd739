/**
 * `gatehouse audit export` and `gatehouse audit tail`, run as the real CLI in a child process on a SQLite file:
 * JSON lines oldest first, paged (more events than a page), filtered by time and by user (id or email), a
 * reader that goes away early; a tail that prints the newest events, then each new one once (a late commit
 * too), and ends cleanly on SIGINT. And what the CLI's own account commands record: their events, acted by
 * the CLI.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomToken } from "../src/crypto/random.js";
import { createSqliteStore } from "../src/stores/sqlite.js";
import type { AuditEvent, Store } from "../src/stores/types.js";
import { type CliRun, requireBuiltCli, runCli, tempFolder } from "./support/cli.js";
import { PASSWORD } from "./support/credentials.js";
import { querySqliteFile } from "./support/temp-sqlite.js";

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "bin", "gatehouse.js");
const T0 = Date.UTC(2030, 0, 1);
const HOUR = 60 * 60 * 1000;

let dir: string;
let dbFile: string;
let store: Store;

/** The CLI's environment: `PATH` only, as in support/cli.ts (Next's types make NODE_ENV required; its absence is the point). */
const CHILD_ENV = { PATH: process.env.PATH } as Record<string, string | undefined> as NodeJS.ProcessEnv;

const withDb = (...args: string[]) => [...args, "--database-url", `file:${dbFile}`];
const gatehouse = (args: string[]): Promise<CliRun> => runCli(args, { cwd: dir });

function eventAt(userId: string | null, at: number, type = "login.success"): AuditEvent {
  return {
    id: randomToken(16),
    at: new Date(at),
    type,
    outcome: userId ? "success" : "failure",
    userId,
    userEmail: userId ? `${userId}@example.com` : "nobody@example.com",
    actorType: userId ? "user" : "system",
    actorId: userId,
    ip: "192.0.2.1",
    userAgent: "Line\nBreaker/1.0",
    detail: { method: "password", note: 'a "quoted" value' },
  };
}

/** The ids of the events, oldest first, as the database orders them, read raw; only `where` when given. */
function rawIds(where = "1 = 1", params: unknown[] = []): string[] {
  const query = `SELECT id FROM gatehouse_audit WHERE ${where} ORDER BY at, id`;
  return querySqliteFile(dbFile, (db) => (db.prepare(query).all(...params) as Array<{ id: string }>).map((r) => r.id));
}

const lines = (stdout: string) =>
  stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);

let ada: { id: string };

beforeAll(async () => {
  requireBuiltCli();
  dir = tempFolder();
  dbFile = path.join(dir, "audit.db");
  expect((await gatehouse(withDb("migrate"))).code).toBe(0);
  const created = await gatehouse(withDb("users", "create", "--email", "ada@example.com", "--password", PASSWORD));
  expect(created.code, created.stderr).toBe(0);
  store = createSqliteStore({ url: `file:${dbFile}` });
  ada = (await store.getUserByEmail("ada@example.com")) as { id: string };
  // 1,203 events in all, over 1,200 hours, three at each of some times: more than two pages of the export.
  const events: AuditEvent[] = [];
  for (let i = 0; i < 1200; i++) events.push(eventAt(i % 3 === 0 ? ada.id : `user-${i % 7}`, T0 + i * HOUR));
  events.push(eventAt(null, T0 + 600 * HOUR), eventAt(ada.id, T0 + 600 * HOUR), eventAt(ada.id, T0 + 600 * HOUR));
  await store.recordEvents(events);
});

afterAll(async () => {
  await store?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("gatehouse audit export", () => {
  it("writes every event as a JSON line, oldest first, across pages", async () => {
    const run = await gatehouse(withDb("audit", "export"));
    expect(run.code, run.stderr).toBe(0);
    const exported = lines(run.stdout);
    expect(exported.map((event) => event.id)).toEqual(rawIds());
    expect(exported.length).toBeGreaterThan(1200);
    const line = exported.find((event) => event.userAgent === "Line\nBreaker/1.0");
    expect(Object.keys(line ?? {}).sort()).toEqual(
      ["actor", "at", "detail", "id", "ip", "outcome", "type", "userAgent", "userEmail", "userId"].sort(),
    );
    expect(line).toMatchObject({ detail: { note: 'a "quoted" value' }, actor: { type: "user" } });
    // One event per line, whatever the event holds.
    expect(run.stdout.split("\n").length).toBe(exported.length + 1);
  });

  it("--since keeps the events from that time on; a date alone is its midnight (UTC)", async () => {
    const since = new Date(T0 + 1000 * HOUR);
    const run = await gatehouse(withDb("audit", "export", "--since", since.toISOString()));
    expect(run.code, run.stderr).toBe(0);
    expect(lines(run.stdout).map((event) => event.id)).toEqual(rawIds("at >= ?", [since.getTime()]));
    const day = await gatehouse(withDb("audit", "export", "--since", "2030-02-01"));
    expect(lines(day.stdout).map((event) => event.id)).toEqual(rawIds("at >= ?", [Date.UTC(2030, 1, 1)]));
  });

  it("--user takes an email or an id, and keeps that user's events only", async () => {
    const byEmail = await gatehouse(withDb("audit", "export", "--user", "ADA@example.com"));
    expect(byEmail.code, byEmail.stderr).toBe(0);
    const expected = rawIds("user_id = ?", [ada.id]);
    expect(lines(byEmail.stdout).map((event) => event.id)).toEqual(expected);
    const byId = await gatehouse(withDb("audit", "export", "--user", "user-3", "--since", "2030-01-20"));
    expect(lines(byId.stdout).map((event) => event.id)).toEqual(
      rawIds("user_id = ? AND at >= ?", ["user-3", Date.UTC(2030, 0, 20)]),
    );
  });

  it("refuses a bad --since or --user (exit 2), an unknown email (exit 1), and --since on tail (exit 2)", async () => {
    for (const args of [
      ["audit", "export", "--since", "yesterday"],
      ["audit", "export", "--since", "2030-13-45"],
      ["audit", "export", "--user", "not an id; drop table"],
      ["audit", "tail", "--since", "2030-01-01"],
      ["audit", "import"],
      ["users", "list", "--user", "ada@example.com"],
    ]) {
      const run = await gatehouse(withDb(...args));
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stdout).toBe("");
    }
    const unknown = await gatehouse(withDb("audit", "export", "--user", "nobody@example.com"));
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("No user with email nobody@example.com");
  });

  it("stops quietly, exit 0, when its reader goes away after the first line", async () => {
    const child = spawn(process.execPath, [BIN, ...withDb("audit", "export")], {
      cwd: dir,
      env: CHILD_ENV,
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.stdout.once("data", () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(0);
    expect(stderr).toBe("");
  });
});

describe("gatehouse audit tail", () => {
  /** The tail's stdout as JSON lines so far. */
  function tailOf(child: ChildProcessWithoutNullStreams) {
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
    return { events: () => lines(stdout), stderr: () => stderr, closed };
  }

  it("prints the newest 10, then each new event once as it arrives (one committed late too), and exits 0 on SIGINT", async () => {
    const child = spawn(process.execPath, [BIN, ...withDb("audit", "tail")], {
      cwd: dir,
      env: CHILD_ENV,
    });
    const tail = tailOf(child);
    try {
      await expect.poll(() => tail.events().length, { timeout: 10_000 }).toBe(10);
      expect(tail.events().map((event) => event.id)).toEqual(rawIds().slice(-10));
      const newest = T0 + 1199 * HOUR;
      const fresh = eventAt(ada.id, newest + 1000, "logout");
      await store.recordEvents([fresh]);
      await expect.poll(() => tail.events().map((event) => event.id), { timeout: 10_000 }).toContain(fresh.id);
      // Made a moment before the one printed last, committed after it: still printed, and printed once.
      const late = eventAt(ada.id, newest + 500, "session.revoke");
      const after = eventAt("user-1", newest + 2000, "logout");
      await store.recordEvents([late, after]);
      await expect.poll(() => tail.events().map((event) => event.id), { timeout: 10_000 }).toContain(after.id);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const ids = tail.events().map((event) => event.id);
      expect(ids.slice(10).sort()).toEqual([fresh.id, late.id, after.id].sort());
      expect(new Set(ids).size).toBe(ids.length);
    } finally {
      child.kill("SIGINT");
    }
    expect(await tail.closed).toBe(0);
    expect(tail.stderr()).toBe("");
  });

  it("with --user, only that user's events", async () => {
    const child = spawn(process.execPath, [BIN, ...withDb("audit", "tail", "--user", "user-5")], {
      cwd: dir,
      env: CHILD_ENV,
    });
    const tail = tailOf(child);
    try {
      await expect.poll(() => tail.events().length, { timeout: 10_000 }).toBe(10);
      expect(tail.events().map((event) => event.id)).toEqual(rawIds("user_id = ?", ["user-5"]).slice(-10));
      const theirs = eventAt("user-5", T0 + 5000 * HOUR);
      await store.recordEvents([eventAt("user-6", T0 + 5000 * HOUR), theirs]);
      await expect.poll(() => tail.events().length, { timeout: 10_000 }).toBe(11);
      expect(tail.events()[10]?.id).toBe(theirs.id);
    } finally {
      child.kill("SIGINT");
    }
    expect(await tail.closed).toBe(0);
  });
});

describe("the CLI's account commands", () => {
  it("record their events with the CLI as the actor: user.signup, role.change, admin.sessions.revoke (and a reset of no factors, none)", async () => {
    const email = "grace@example.com";
    expect((await gatehouse(withDb("users", "create", "--email", email, "--password", PASSWORD))).code).toBe(0);
    expect((await gatehouse(withDb("users", "set-role", "--email", email, "--role", "admin"))).code).toBe(0);
    expect((await gatehouse(withDb("users", "mfa-reset", "--email", email))).code).toBe(0);
    expect((await gatehouse(withDb("sessions", "revoke", "--email", email))).code).toBe(0);
    const run = await gatehouse(withDb("audit", "export", "--user", email));
    expect(run.code, run.stderr).toBe(0);
    const events = lines(run.stdout);
    expect(events.map((event) => event.type).sort()).toEqual(
      ["admin.sessions.revoke", "role.change", "user.signup"].sort(),
    );
    for (const event of events) {
      expect(event).toMatchObject({ actor: { type: "cli", id: null }, userEmail: email, ip: null, userAgent: null });
    }
    expect(events.find((event) => event.type === "role.change")?.detail).toEqual({ from: "user", to: "admin" });
    expect(run.stdout).not.toContain(PASSWORD);
    // The same role again is no change, and no event.
    expect((await gatehouse(withDb("users", "set-role", "--email", email, "--role", "admin"))).code).toBe(0);
    expect(lines((await gatehouse(withDb("audit", "export", "--user", email))).stdout)).toHaveLength(3);
  });
});

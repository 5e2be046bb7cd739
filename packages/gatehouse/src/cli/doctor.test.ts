import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { createSqliteDatabase, type TempSqliteDatabase } from "../../test/support/temp-sqlite.js";
import { createSqliteStore } from "../stores/sqlite.js";
import { checkEnvironment, checkOutbox, checkStore } from "./doctor.js";

const GOOD_ENV = {
  NODE_ENV: "production",
  GATEHOUSE_SECRET: "s".repeat(43),
  GATEHOUSE_URL: "https://app.example.com",
  SMTP_URL: "smtps://app:secret@smtp.example.com:465",
} as const;

/** An environment as the tests write it. Next's types make NODE_ENV required on ProcessEnv; the doctor must cope without it. */
type Env = Record<string, string | undefined>;

function processEnv(env: Env): NodeJS.ProcessEnv {
  return env as NodeJS.ProcessEnv;
}

function failing(env: Env): string[] {
  return checkEnvironment(processEnv(env))
    .filter((finding) => !finding.ok)
    .map((finding) => finding.check);
}

describe("gatehouse doctor: the environment", () => {
  it("passes a production configuration with a long secret and an HTTPS origin", () => {
    expect(failing(GOOD_ENV)).toEqual([]);
  });

  it.each([
    ["a missing secret", { GATEHOUSE_SECRET: undefined }, /GATEHOUSE_SECRET is not set/],
    ["a 31-character secret", { GATEHOUSE_SECRET: "s".repeat(31) }, /only 31 characters/],
    ["a missing origin", { GATEHOUSE_URL: undefined }, /GATEHOUSE_URL is not set/],
    ["an origin that is not a URL", { GATEHOUSE_URL: "app.example.com" }, /is not a URL/],
    ["a plain-HTTP public origin", { GATEHOUSE_URL: "http://app.example.com" }, /is not HTTPS/],
    ["cookies without Secure", { NODE_ENV: "development" }, /cookies are not Secure/],
    ["an unknown strategy", { GATEHOUSE_SESSION_STRATEGY: "jwt" }, /GATEHOUSE_SESSION_STRATEGY/],
    [
      "an HTTP trusted origin in production",
      { GATEHOUSE_TRUSTED_ORIGINS: "http://other.example" },
      /GATEHOUSE_TRUSTED_ORIGINS/,
    ],
    ["a proxy count that is not a number", { GATEHOUSE_TRUSTED_PROXIES: "yes" }, /GATEHOUSE_TRUSTED_PROXIES/],
    ["no mail server in production", { SMTP_URL: undefined }, /SMTP_URL is not set/],
    ["a mail URL that is not SMTP", { SMTP_URL: "https://mail.example.com" }, /SMTP_URL is not an smtp/],
  ])("flags %s, and says how to fix it", (_name, change, message) => {
    const findings = checkEnvironment(processEnv({ ...GOOD_ENV, ...change }));
    const problems = findings.filter((finding) => !finding.ok);
    expect(problems.map((p) => p.check).join("\n")).toMatch(message);
    for (const problem of problems) expect(problem.fix).toBeTruthy();
  });

  it("says which env file set the secret and the origin, and names the .env.local to fix", () => {
    const checks = (env: Env) =>
      checkEnvironment(processEnv(env), {
        origins: { GATEHOUSE_SECRET: "apps/web/.env.local" },
        envLocal: "apps/web/.env.local",
      });
    const found = checks(GOOD_ENV).map((finding) => finding.check);
    expect(found).toContain("GATEHOUSE_SECRET is set (43 characters, from apps/web/.env.local)");
    expect(found).toContain("GATEHOUSE_URL is https://app.example.com (from the environment)");
    const missing = checks({ ...GOOD_ENV, GATEHOUSE_SECRET: undefined }).find((f) => !f.ok);
    expect(missing?.fix).toContain("in apps/web/.env.local: npx gatehouse init writes one there");
  });

  it("accepts plain HTTP on localhost for local trials", () => {
    expect(failing({ ...GOOD_ENV, GATEHOUSE_URL: "http://localhost:3000" })).toEqual([]);
  });

  it("accepts no mail server in development, where emails go to the dev outbox", () => {
    const findings = checkEnvironment(processEnv({ ...GOOD_ENV, NODE_ENV: "development", SMTP_URL: undefined }));
    expect(findings.find((f) => f.check.includes("dev outbox"))?.ok).toBe(true);
  });
});

describe("gatehouse doctor: the store", () => {
  let database: TempSqliteDatabase | undefined;
  afterEach(async () => {
    await database?.drop();
  });

  it("reports an unmigrated database and, after migrating, a current one", async () => {
    database = createSqliteDatabase();
    const unmigrated = createSqliteStore({ url: database.url, autoMigrate: false });
    const before = await checkStore(
      { store: unmigrated, migrate: unmigrated.migrate, close: unmigrated.close },
      database.url,
    );
    expect(before.ok).toBe(false);
    expect(before.fix).toContain("gatehouse migrate");
    await unmigrated.migrate();
    expect(
      (await checkStore({ store: unmigrated, migrate: unmigrated.migrate, close: unmigrated.close }, database.url)).ok,
    ).toBe(true);
    await unmigrated.close();
  });

  it("exits 1 with what to fix, and 0 once everything is in order (the real CLI)", async () => {
    database = createSqliteDatabase();
    const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "gatehouse.js");
    // From an empty folder: the repository's gatehouse.config.json names the example app, whose .env files
    // (a developer's .env.local, say) must not decide this test.
    const cwd = mkdtempSync(path.join(os.tmpdir(), "gatehouse-doctor-"));
    onTestFinished(() => rmSync(cwd, { recursive: true, force: true }));
    const run = (env: Env) =>
      spawnSync(process.execPath, [bin, "doctor"], {
        cwd,
        env: processEnv({ PATH: process.env.PATH, DATABASE_URL: database?.url, ...env }),
        encoding: "utf8",
      });
    const bad = run({});
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/FIX +GATEHOUSE_SECRET is not set\n +→ /);
    spawnSync(process.execPath, [bin, "migrate"], {
      cwd,
      env: processEnv({ PATH: process.env.PATH, DATABASE_URL: database.url }),
    });
    const good = run(GOOD_ENV);
    expect(good.stdout).not.toContain("FIX");
    expect(good.status).toBe(0);
  });
});

describe("gatehouse doctor: the outbox", () => {
  it("passes with no failed mail, and flags mail that failed for good with the last answer and how to retry", async () => {
    const store = createSqliteStore({ url: ":memory:" });
    onTestFinished(() => store.close());
    const mail = { to: "ada@example.com", subject: "Reset your password", sealedBody: "g1.x", createdAt: new Date(0) };
    await store.enqueueMail([
      { ...mail, id: "m1" },
      { ...mail, id: "m2" },
    ]);
    expect(await checkOutbox(store)).toEqual({
      ok: true,
      check: "no failed email (2 waiting to be sent, 0 sent this week)",
    });

    for (const id of ["m1", "m2"]) {
      const [claimed] = await store.claimMail(new Date(1000), 1, 60_000);
      expect(claimed?.id).toBe(id);
      await store.settleMail(id, 1, { status: "failed", error: `550 mailbox ${id} unavailable` });
    }
    const finding = await checkOutbox(store);
    expect(finding.ok).toBe(false);
    expect(finding.check).toMatch(/^2 emails failed for good \(the last: 550 mailbox m\d unavailable\)$/);
    expect(finding.fix).toMatch(/retry/);
  });
});

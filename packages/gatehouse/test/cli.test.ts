import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliRun, requireBuiltCli, runCli, tempFolder } from "./support/cli.js";
import { PASSWORD } from "./support/credentials.js";
import { createPostgresDatabase, MYSQL_URL, requireService } from "./support/services.js";
import { querySqliteFile } from "./support/temp-sqlite.js";

let dir: string;
let dbFile: string;

/** Runs the real CLI in a child process, from an empty folder, with no DATABASE_URL. */
function gatehouse(args: string[], stdin?: string): Promise<CliRun> {
  return runCli(args, { cwd: dir, ...(stdin !== undefined && { stdin }) });
}

function withDb(...args: string[]): string[] {
  return [...args, "--database-url", `file:${dbFile}`];
}

function rawUsers(): Array<Record<string, unknown>> {
  const query = "SELECT * FROM gatehouse_users ORDER BY created_at, id";
  return querySqliteFile(dbFile, (db) => db.prepare(query).all() as Array<Record<string, unknown>>);
}

beforeAll(() => {
  requireBuiltCli();
  dir = tempFolder();
  dbFile = path.join(dir, "cli.db");
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("gatehouse CLI", () => {
  it("migrate creates the schema and exits 0", async () => {
    const run = await gatehouse(withDb("migrate"));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("Database is up to date");
    const query = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name";
    const tables = querySqliteFile(dbFile, (db) => db.prepare(query).all() as Array<{ name: string }>);
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(["gatehouse_users", "gatehouse_sessions"]));
    expect((await gatehouse(withDb("migrate"))).code).toBe(0);
  });

  it("users create makes a user with an OWASP argon2id hash and exits 0", async () => {
    const run = await gatehouse(
      withDb("users", "create", "--email", "  Ada@Example.com ", "--password", PASSWORD, "--name", "Ada"),
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Created user ada@example\.com \([A-Za-z0-9_-]+\)\n$/);
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
    const [user] = rawUsers();
    expect(user).toMatchObject({ email: "ada@example.com", name: "Ada", role: "user" });
    expect(String(user?.password_hash).startsWith("$argon2id$v=19$m=19456,t=2,p=1$")).toBe(true);
  });

  it("users create --role admin makes an admin", async () => {
    const run = await gatehouse(
      withDb("users", "create", "--email", "root@example.com", "--password", PASSWORD, "--role", "admin"),
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("Created admin root@example.com");
  });

  it("users create --verified marks the address verified; without it, it stays unverified", async () => {
    const run = await gatehouse(
      withDb("users", "create", "--email", "verified@example.com", "--password", PASSWORD, "--verified"),
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("email verified");
    const users = rawUsers();
    expect(Number(users.find((u) => u.email === "verified@example.com")?.email_verified_at)).toBeGreaterThan(0);
    expect(users.find((u) => u.email === "ada@example.com")?.email_verified_at).toBeNull();
  });

  it("users create --password-stdin reads the password from stdin", async () => {
    const run = await gatehouse(
      withDb("users", "create", "--email", "stdin@example.com", "--password-stdin"),
      `${PASSWORD}\n`,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(rawUsers().some((u) => u.email === "stdin@example.com")).toBe(true);
  });

  it("users create with a registered email exits 1 with a message, whatever its case", async () => {
    const run = await gatehouse(withDb("users", "create", "--email", "ADA@example.com", "--password", PASSWORD));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/already exists/);
    expect(run.stderr).not.toContain(PASSWORD);
  });

  it("users create with a short password exits 1 and names the field", async () => {
    const run = await gatehouse(withDb("users", "create", "--email", "short@example.com", "--password", "short"));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/--password: .*at least 8/);
    expect(rawUsers().some((u) => u.email === "short@example.com")).toBe(false);
  });

  it("users create with an invalid email or an unknown role exits 1", async () => {
    expect((await gatehouse(withDb("users", "create", "--email", "a,b@x.com", "--password", PASSWORD))).code).toBe(1);
    const role = await gatehouse(
      withDb("users", "create", "--email", "role@example.com", "--password", PASSWORD, "--role", "superuser"),
    );
    expect(role.code).toBe(1);
    expect(role.stderr).toMatch(/--role: Unknown role/);
  });

  it("users set-role changes the role and exits 0", async () => {
    const run = await gatehouse(withDb("users", "set-role", "--email", "Ada@example.com", "--role", "admin"));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe("ada@example.com is now admin\n");
    expect(rawUsers().find((u) => u.email === "ada@example.com")?.role).toBe("admin");
  });

  it("users set-role for an unknown email exits 1", async () => {
    const run = await gatehouse(withDb("users", "set-role", "--email", "nobody@example.com", "--role", "admin"));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("No user with email nobody@example.com");
  });

  it("users list --json prints the users without secrets", async () => {
    const run = await gatehouse(withDb("users", "list", "--json"));
    expect(run.code, run.stderr).toBe(0);
    const users = JSON.parse(run.stdout) as Array<Record<string, unknown>>;
    expect(users.map((u) => u.email)).toEqual([
      "ada@example.com",
      "root@example.com",
      "verified@example.com",
      "stdin@example.com",
    ]);
    for (const user of users)
      expect(Object.keys(user).sort()).toEqual(["email", "emailVerified", "id", "name", "role"]);
    expect(users[0]).toMatchObject({ name: "Ada", role: "admin", emailVerified: false });
    expect(users[2]).toMatchObject({ email: "verified@example.com", emailVerified: true });
    expect(run.stdout).not.toContain("argon2");
  });

  it("users list prints one line per user", async () => {
    const run = await gatehouse(withDb("users", "list"));
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split("\n")).toHaveLength(4);
  });

  it("exits 2 with the usage for an unknown command, subcommand or option", async () => {
    for (const args of [["frobnicate"], ["users", "delete"], ["users"], ["users", "list", "--verbose"]]) {
      const run = await gatehouse(withDb(...args));
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr).toContain("Usage: gatehouse");
    }
  });

  it("exits 2 for a database URL of an unsupported kind, without printing it whole", async () => {
    const run = await gatehouse(["migrate", "--database-url", "mongodb://admin:hunter2@db.example/app"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Unsupported DATABASE_URL scheme "mongodb:"');
    expect(run.stderr).not.toContain("hunter2");
    // A password pasted into DATABASE_URL is not a URL: none of it is repeated.
    const pasted = await gatehouse(["migrate", "--database-url", "hunter2"]);
    expect(pasted.code).toBe(2);
    expect(pasted.stderr).toContain("DATABASE_URL is not a URL");
    expect(pasted.stderr).not.toContain("hunter2");
  });

  it("exits 2 when a required option is missing", async () => {
    const run = await gatehouse(withDb("users", "create", "--password", PASSWORD));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Missing --email");
  });

  it("exits 2 and prints the usage without a command; --help exits 0", async () => {
    const bare = await gatehouse([]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toContain("Usage: gatehouse");
    const help = await gatehouse(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: gatehouse");
  });

  it("secret prints a new random base64url secret of at least 43 characters", async () => {
    const first = await gatehouse(["secret"]);
    const second = await gatehouse(["secret"]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^[A-Za-z0-9_-]{43,}\n$/);
    expect(second.stdout).not.toBe(first.stdout);
  });
});

const postgresUp = await requireService("postgres");
const mysqlUp = await requireService("mysql");

/** Parts of the passwords below: none may appear in anything the CLI prints. */
const SECRETS = ["s3cr", "t-one", "hunter2-two", "keypass-three"];

function expectNoSecret(run: CliRun): void {
  for (const secret of SECRETS) expect(run.stdout + run.stderr, secret).not.toContain(secret);
}

describe.skipIf(!postgresUp)("gatehouse CLI on PostgreSQL: the database URL's passwords are never printed", () => {
  let database: { url: string; drop(): Promise<void> };
  beforeAll(async () => {
    database = await createPostgresDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  // The test server trusts local connections, so any password is accepted and the migration runs.
  it("migrate with a password containing @ shows the URL with *** for all of it", async () => {
    const url = new URL(database.url);
    const withPassword = `postgres://${url.username}:s3cr@t-one@${url.host}${url.pathname}`;
    const run = await gatehouse(["migrate", "--database-url", withPassword]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`Database is up to date: postgres://${url.username}:***@${url.host}${url.pathname}\n`);
    expectNoSecret(run);
  });

  it("migrate and doctor with ?password= and ?sslpassword= show *** for each", async () => {
    const url = new URL(database.url);
    url.search = "?password=hunter2-two&sslpassword=keypass-three";
    const run = await gatehouse(["migrate", "--database-url", url.href]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("?password=***&sslpassword=***");
    expectNoSecret(run);
    const doctor = await gatehouse(["doctor", "--database-url", url.href]);
    expect(doctor.stdout).toContain("store reachable and migrations current");
    expectNoSecret(doctor);
  });

  it("migrate and doctor that cannot connect say so without the password", async () => {
    const url = new URL(database.url);
    const unreachable = `postgres://${url.username}:s3cr@t-one@127.0.0.1:1${url.pathname}?password=hunter2-two`;
    const run = await gatehouse(["migrate", "--database-url", unreachable]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^gatehouse: /);
    expectNoSecret(run);
    const doctor = await gatehouse(["doctor", "--database-url", unreachable]);
    expect(doctor.stdout).toContain(`store unreachable (postgres://${url.username}:***@127.0.0.1:1`);
    expectNoSecret(doctor);
  });
});

describe.skipIf(!mysqlUp)("gatehouse CLI on MariaDB: a refused password is not printed", () => {
  it("migrate with a wrong password containing @ exits 1 and prints neither half of it", async () => {
    const url = new URL(MYSQL_URL);
    const run = await gatehouse([
      "migrate",
      "--database-url",
      `mysql://${url.username}:s3cr@t-one@${url.host}${url.pathname}`,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Access denied/);
    expectNoSecret(run);
  });
});

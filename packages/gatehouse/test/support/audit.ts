/**
 * What the audit-log tests share: a test server whose Gatehouse takes any option (the audit sink, retention,
 * trusted proxies), the backends they run on (a SQLite file, a PostgreSQL database) with raw reads of the
 * audit table through connections of the test's own, and a signed-in session planted as an administrator's
 * impersonation.
 */
import { createHash, randomBytes } from "node:crypto";
import pg from "pg";
import { expect } from "vitest";
import { createGatehouse, type Gatehouse, type GatehouseOptions } from "../../src/core/gatehouse.js";
import { gatehouseApiHandler } from "../../src/next/api.js";
import { createPostgresStore } from "../../src/stores/postgres.js";
import { createSqliteStore } from "../../src/stores/sqlite.js";
import type { Store } from "../../src/stores/types.js";
import { CHEAP_ARGON2, TEST_SECRET } from "./credentials.js";
import { type LocalServer, listenOnLocalhost, SUITE_RATE_LIMITS } from "./http-server.js";
import { createPostgresDatabase, requireService } from "./services.js";
import { createSqliteDatabase, querySqliteFile } from "./temp-sqlite.js";

export type Row = Record<string, unknown>;

/** A store on a real backend, and raw SQL on it through a connection of the test's own. */
export interface AuditBackend {
  name: "SQLite" | "PostgreSQL";
  store: Store;
  /** Rows of a query, read raw (parameters as `?` for SQLite, `$1` for PostgreSQL). */
  rows(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Runs DDL (a trigger that injects a failure, say). */
  exec(sql: string): Promise<void>;
  /** Every row of the audit table, all columns, oldest first. */
  events(): Promise<Row[]>;
  close(): Promise<void>;
}

export async function openSqliteBackend(): Promise<AuditBackend> {
  const database = createSqliteDatabase();
  const store = createSqliteStore({ url: database.url });
  await store.migrate();
  const rows = async (sql: string, params: unknown[] = []) =>
    querySqliteFile(database.file, (db) => db.prepare(sql).all(...params) as Row[]);
  return {
    name: "SQLite",
    store,
    rows,
    async exec(sql) {
      querySqliteFile(database.file, (db) => db.exec(sql));
    },
    events: () => rows("SELECT * FROM gatehouse_audit ORDER BY at, id"),
    async close() {
      await store.close();
      await database.drop();
    },
  };
}

export async function openPostgresBackend(): Promise<AuditBackend> {
  const database = await createPostgresDatabase();
  const store = createPostgresStore({ url: database.url });
  await store.migrate();
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  const rows = async (sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as Row[];
  return {
    name: "PostgreSQL",
    store,
    rows,
    async exec(sql) {
      await client.query(sql);
    },
    events: () => rows("SELECT * FROM gatehouse_audit ORDER BY at, id"),
    async close() {
      await client.end();
      await store.close();
      await database.drop();
    },
  };
}

/** Installs the failure: an insert into the audit table of a type listed in `audit_fail` raises an error. */
export async function installFailureTrigger(backend: AuditBackend): Promise<void> {
  if (backend.name === "SQLite") {
    await backend.exec(`
      CREATE TABLE audit_fail (type TEXT PRIMARY KEY);
      CREATE TRIGGER audit_fail_insert BEFORE INSERT ON gatehouse_audit
      WHEN NEW.type IN (SELECT type FROM audit_fail)
      BEGIN SELECT RAISE(ABORT, 'injected audit failure'); END;`);
    return;
  }
  await backend.exec(`
    CREATE TABLE audit_fail (type TEXT PRIMARY KEY);
    CREATE FUNCTION audit_fail_insert() RETURNS trigger AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM audit_fail WHERE type = NEW.type) THEN
        RAISE EXCEPTION 'injected audit failure';
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql;
    CREATE TRIGGER audit_fail_insert BEFORE INSERT ON gatehouse_audit
    FOR EACH ROW EXECUTE FUNCTION audit_fail_insert();`);
}

/** SQLite always; PostgreSQL when its server is reachable (an error under CI=true when it is not). */
export async function auditBackends(): Promise<Array<{ name: string; open(): Promise<AuditBackend> }>> {
  const postgres = await requireService("postgres");
  return [
    { name: "SQLite", open: openSqliteBackend },
    ...(postgres ? [{ name: "PostgreSQL", open: openPostgresBackend }] : []),
  ];
}

/** The address and user agent every request of an audit test claims, to be found again in its events. */
export const CLIENT_IP = "198.51.100.23";
export const USER_AGENT = "AuditTest/1.0 (+https://example.com/audit)";
export const CLIENT_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "X-Forwarded-For": CLIENT_IP,
  "User-Agent": USER_AGENT,
});

export interface AuditServer extends LocalServer {
  gatehouse: Gatehouse;
  store: Store;
  setClock(ms: number): void;
  startedAt: number;
}

/**
 * /api/auth/* on a Gatehouse of `store`, one trusted proxy (so {@link CLIENT_IP} is the client's address), the
 * suite's rate limits and a frozen clock, with `options` on top (`onEvent`, `auditRetentionDays`, …).
 */
export async function startAuditServer(
  store: Store,
  options: Partial<GatehouseOptions> & Pick<GatehouseOptions, "strategy"> = { strategy: "database" },
): Promise<AuditServer> {
  const startedAt = Math.floor(Date.now() / 1000) * 1000;
  let clock = startedAt;
  let gatehouse: Gatehouse | undefined;
  const server = await listenOnLocalhost((url) => {
    gatehouse = createGatehouse({
      store,
      url,
      secret: TEST_SECRET,
      secureCookies: false,
      argon2: CHEAP_ARGON2,
      now: () => clock,
      rateLimits: SUITE_RATE_LIMITS,
      trustedProxies: 1,
      ...options,
    });
    const handler = gatehouseApiHandler(gatehouse);
    return (req, res) => {
      handler(req, res).catch((error: unknown) => {
        res.statusCode = 599;
        res.end(String(error));
      });
    };
  });
  return {
    ...server,
    gatehouse: gatehouse as Gatehouse,
    store,
    startedAt,
    setClock: (ms) => {
      clock = ms;
    },
  };
}

/**
 * A database session of `userId` marked as `adminId`'s impersonation, written straight to the store (the
 * admin console makes these; here only the mark matters). `adminId` is made an admin first, as the console
 * requires: an impersonation whose administrator is not one (any more) ends at its next check. Resolves to its
 * cookie value (`id.secret`).
 */
export async function plantImpersonation(
  store: Store,
  user: { id: string; sessionVersion: number; revocationEpoch: number },
  adminId: string,
  now: number,
): Promise<string> {
  const admin = await store.updateUser(adminId, { role: "admin" });
  const id = randomBytes(12).toString("base64url");
  const secret = randomBytes(24).toString("base64url");
  await store.createSession({
    id,
    userId: user.id,
    secretHash: createHash("sha256").update(secret).digest("hex"),
    userVersion: user.sessionVersion,
    revocationEpoch: user.revocationEpoch,
    createdAt: new Date(now),
    expiresAt: new Date(now + 20 * 60_000),
    lastSeenAt: new Date(now),
    userAgent: null,
    ip: null,
    impersonatedBy: adminId,
    impersonatorEpoch: admin?.revocationEpoch ?? null,
  });
  return `${id}.${secret}`;
}

/** What an event row should say; `detail` is matched as a subset. */
export interface ExpectedEvent {
  type: string;
  outcome?: "success" | "failure";
  userId: string | null;
  userEmail?: string | null;
  actor?: { type: string; id: string | null };
  detail?: Record<string, unknown>;
  /** Default {@link CLIENT_IP} and {@link USER_AGENT}. */
  ip?: string | null;
  userAgent?: string | null;
}

/** Checks one raw event row: its type, outcome, user, actor (default the user), client and detail. */
export function expectEventRow(row: Row | undefined, expected: ExpectedEvent): void {
  expect(row, `a ${expected.type} event`).toBeDefined();
  const event = row as Row;
  expect(event.type).toBe(expected.type);
  expect(event.outcome).toBe(expected.outcome ?? "success");
  expect(event.user_id).toBe(expected.userId);
  if (expected.userEmail !== undefined) expect(event.user_email).toBe(expected.userEmail);
  const actor = expected.actor ?? { type: "user", id: expected.userId };
  expect({ type: event.actor_type, id: event.actor_id }).toEqual(actor);
  expect(event.ip).toBe(expected.ip === undefined ? CLIENT_IP : expected.ip);
  expect(event.user_agent).toBe(expected.userAgent === undefined ? USER_AGENT : expected.userAgent);
  expect(Number(event.at)).toBeGreaterThan(0);
  expect(event.id).toMatch(/^[A-Za-z0-9_-]{16,64}$/);
  const detail = JSON.parse(String(event.detail));
  if (expected.detail) expect(detail).toMatchObject(expected.detail);
}

/** Fails the test when any row (all its columns, as text) holds any of `secrets`. */
export function expectNoSecrets(rows: readonly Row[], secrets: Iterable<string>): void {
  const texts = rows.map((row) => JSON.stringify(row));
  for (const secret of secrets) {
    if (secret.length < 6) throw new Error(`"${secret}" is too short to look for`);
    const variants = new Set([secret, encodeURIComponent(secret), decodeURIComponent(secret)]);
    for (const variant of variants) {
      const holder = texts.find((text) => text.includes(variant));
      expect(holder, `an event row holds a secret (${variant.slice(0, 4)}…)`).toBeUndefined();
    }
  }
}

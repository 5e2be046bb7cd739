/**
 * What the admin console's tests share: accounts made through the core (an admin, a user), requests to the
 * admin API as the console's script sends them, and the audit log and users read raw from the database.
 */
import mysql from "mysql2/promise";
import pg from "pg";
import { expect } from "vitest";
import { createMysqlStore } from "../../src/stores/mysql.js";
import { createPostgresStore } from "../../src/stores/postgres.js";
import type { Store } from "../../src/stores/types.js";
import { PASSWORD } from "./credentials.js";
import { apiRequest, sessionCookieOf, type TestServer } from "./http-server.js";
import { createMysqlDatabase, createPostgresDatabase, requireService } from "./services.js";
import { openTempSqliteStore, querySqliteFile } from "./temp-sqlite.js";

/** A signed-in account: its id, address and session cookie. */
export interface Account {
  id: string;
  email: string;
  cookie: string;
}

/** An account of `role`, made with `users.create` (which mails nothing), then signed in through the API. */
export async function accountOf(app: TestServer, email: string, role = "user"): Promise<Account> {
  const { id } = await app.gatehouse.users.create({ email, password: PASSWORD, role });
  return { id, email, cookie: await logIn(app, email) };
}

/** A log-in through the API that must succeed: its session cookie. */
export async function logIn(app: TestServer, email: string, password = PASSWORD): Promise<string> {
  const response = await apiRequest(app, "/api/auth/login", { json: { email, password } });
  expect(response.status, await response.clone().text()).toBe(200);
  return sessionCookieOf(response) as string;
}

/** A request to the admin API (`route` below `/api/admin`), JSON in and out. */
export function adminRequest(
  app: TestServer,
  method: string,
  route: string,
  init: { cookie?: string; json?: unknown; origin?: string } = {},
): Promise<Response> {
  return apiRequest(app, `/api/admin${route}`, {
    method,
    ...(init.cookie !== undefined && { cookie: init.cookie }),
    ...(init.json !== undefined && { json: init.json }),
    ...(init.origin !== undefined && { origin: init.origin }),
  });
}

/** A request whose answer must be 200: its JSON body. */
export async function ok<T = Record<string, unknown>>(response: Response | Promise<Response>): Promise<T> {
  const answer = await response;
  const text = await answer.text();
  expect(answer.status, text).toBe(200);
  return JSON.parse(text) as T;
}

/** An audit event as its row holds it, `detail` parsed. */
export type RawEvent = Record<string, unknown> & { type: string; detail: Record<string, unknown> };

/** The audit log of a SQLite file, oldest first, read through a connection of its own. */
export function rawEvents(file: string, type?: string): RawEvent[] {
  const rows = querySqliteFile(file, (db) =>
    type === undefined
      ? db.prepare("SELECT * FROM gatehouse_audit ORDER BY at, id").all()
      : db.prepare("SELECT * FROM gatehouse_audit WHERE type = ? ORDER BY at, id").all(type),
  ) as Array<Record<string, unknown>>;
  return rows.map((row) => ({ ...row, detail: JSON.parse(String(row.detail)) }) as RawEvent);
}

/** The user row with this id, read raw, or `undefined`. */
export function rawUser(file: string, id: string): Record<string, unknown> | undefined {
  return querySqliteFile(
    file,
    (db) => db.prepare("SELECT * FROM gatehouse_users WHERE id = ?").get(id) as Record<string, unknown> | undefined,
  );
}

/**
 * The store, whose calls of one method can be held at a barrier: `arm(method, count)` holds the next `count`
 * calls of `method` until all of them have been made, then lets them go together, so that two requests reach
 * the same write at the same moment and the database alone decides between them.
 */
export function barrierStore(store: Store): { store: Store; arm(method: keyof Store, count: number): Promise<void> } {
  let armed: { method: keyof Store; count: number; arrived: number; open(): void; gate: Promise<void> } | null = null;
  const wrapped = new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        const barrier = armed;
        if (barrier && barrier.method === name && barrier.arrived < barrier.count) {
          barrier.arrived += 1;
          if (barrier.arrived === barrier.count) {
            armed = null;
            barrier.open();
          }
          await barrier.gate;
        }
        return value.apply(target, args);
      };
    },
  });
  return {
    store: wrapped as Store,
    arm(method, count) {
      let open!: () => void;
      const gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      armed = { method, count, arrived: 0, open, gate };
      return gate;
    },
  };
}

const postgresAvailable = await requireService("postgres");
const mysqlAvailable = await requireService("mysql");

/**
 * The databases of the last-admin tests (SQLite, and PostgreSQL and MariaDB where they run), each with a raw
 * read of its admins around the store.
 */
export interface AdminBackend {
  name: string;
  open(): Promise<{ store: Store; admins(): Promise<Array<{ id: string; banned: boolean }>>; close(): Promise<void> }>;
}

export const LAST_ADMIN_BACKENDS: AdminBackend[] = [
  {
    name: "SQLite",
    async open() {
      const sqlite = openTempSqliteStore();
      await sqlite.store.migrate();
      return {
        store: sqlite.store,
        async admins() {
          const rows = querySqliteFile(sqlite.dbFile, (db) =>
            db.prepare("SELECT id, banned_at FROM gatehouse_users WHERE role = 'admin' ORDER BY id").all(),
          ) as Array<{ id: string; banned_at: number | null }>;
          return rows.map((row) => ({ id: row.id, banned: row.banned_at !== null }));
        },
        close: () => sqlite.close(),
      };
    },
  },
  ...(postgresAvailable
    ? [
        {
          name: "PostgreSQL",
          async open() {
            const database = await createPostgresDatabase();
            const store = createPostgresStore({ url: database.url });
            await store.migrate();
            const client = new pg.Client({ connectionString: database.url });
            await client.connect();
            return {
              store,
              async admins() {
                const result = await client.query(
                  "SELECT id, banned_at FROM gatehouse_users WHERE role = 'admin' ORDER BY id",
                );
                return result.rows.map((row) => ({ id: String(row.id), banned: row.banned_at !== null }));
              },
              async close() {
                await client.end();
                await store.close();
                await database.drop();
              },
            };
          },
        },
      ]
    : []),
  ...(mysqlAvailable
    ? [
        {
          name: "MariaDB",
          async open() {
            const database = await createMysqlDatabase();
            const store = createMysqlStore({ url: database.url });
            await store.migrate();
            const client = await mysql.createConnection(database.url);
            return {
              store,
              async admins() {
                const [rows] = await client.query(
                  "SELECT id, banned_at FROM gatehouse_users WHERE role = 'admin' ORDER BY id",
                );
                return (rows as Array<{ id: string; banned_at: unknown }>).map((row) => ({
                  id: String(row.id),
                  banned: row.banned_at !== null,
                }));
              },
              async close() {
                await client.end();
                await store.close();
                await database.drop();
              },
            };
          },
        },
      ]
    : []),
];

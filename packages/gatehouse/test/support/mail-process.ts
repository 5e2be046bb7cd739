/**
 * Gatehouse apps in processes of their own (mail-child.ts), for the tests of mail that survives a crash, and a
 * mail server that accepts connections and never answers (a process sending to it holds its message).
 */
import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import type { MailDeliveryOptions } from "../../src/core/mail-queue.js";
import { querySqliteFile } from "./temp-sqlite.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The app's origin in every child: the same links and the same CSRF origin, whichever process answers. */
export const CHILD_APP_URL = "https://app.example";

/** Short leases and quick polls, so a dead process's message is taken over within two seconds. */
export const CHILD_DELIVERY: MailDeliveryOptions = { leaseMs: 1500, pollMs: 100, retryDelayMs: 200 };

export interface MailChild {
  /** `http://127.0.0.1:<port>`, where it answers the auth routes under /api/auth. */
  url: string;
  process: ChildProcess;
  /** What it wrote to stderr (its log). */
  stderr(): string;
  /** SIGKILL: the process ends at once, with whatever it held. Resolves once it is gone. */
  kill(): Promise<void>;
  /** SIGTERM: it closes its sender and store, and exits. */
  stop(): Promise<void>;
}

/**
 * Runs a TypeScript file of this folder in a Node process of its own, with an environment of `PATH` and `env`
 * only (no NODE_ENV, no variables of the test's process).
 */
export function spawnTypeScript(file: string, env: Record<string, string>): ChildProcess {
  // Next's types make NODE_ENV required on ProcessEnv; leaving it out is the point here.
  const variables: Record<string, string | undefined> = { PATH: process.env.PATH, ...env };
  return spawn(process.execPath, ["--import", path.join(HERE, "mail-ts-loader.mjs"), path.join(HERE, file)], {
    env: variables as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Starts mail-child.ts on `database`, mailing through `smtpUrl`, and waits until it listens. */
export async function startMailChild(options: {
  database: string;
  smtpUrl: string;
  stallClaims?: boolean;
}): Promise<MailChild> {
  const child = spawnTypeScript("mail-child.ts", {
    GATEHOUSE_TEST_DATABASE: options.database,
    SMTP_URL: options.smtpUrl,
    GATEHOUSE_TEST_STALL_CLAIMS: options.stallClaims ? "1" : "0",
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let stdout = "";
    const timer = setTimeout(() => reject(new Error(`the child did not start within 30 s: ${stderr}`)), 30_000);
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      const ready = /ready (\d+)/.exec(stdout);
      if (!ready) return;
      clearTimeout(timer);
      resolve(Number(ready[1]));
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the child exited (${code}) before listening: ${stderr}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    process: child,
    stderr: () => stderr,
    async kill() {
      child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** A request to a child's auth routes, from the app's origin. */
export function childRequest(child: MailChild, route: string, json: unknown): Promise<Response> {
  return fetch(`${child.url}/api/auth/${route}`, {
    method: "POST",
    headers: { Origin: CHILD_APP_URL, "Content-Type": "application/json" },
    body: JSON.stringify(json),
  });
}

/** A mail server that takes connections and never says a word: whoever sends to it waits. */
export interface SilentSmtpServer {
  url: string;
  /** Resolves once a client has connected. */
  connected: Promise<void>;
  close(): Promise<void>;
}

export async function startSilentSmtpServer(): Promise<SilentSmtpServer> {
  const sockets = new Set<net.Socket>();
  let connect: () => void = () => undefined;
  const connected = new Promise<void>((resolve) => {
    connect = resolve;
  });
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    connect();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    connected,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A row of `gatehouse_mail`, read raw; numbers are numbers whatever the driver returns. */
export interface RawMail {
  id: string;
  recipient: string;
  subject: string;
  status: string;
  attempts: number;
  leased: boolean;
  /** The length of the sealed body (0 once erased). */
  bodyLength: number;
  lastError: string | null;
}

/** Every row of the outbox of `database` (`file:` SQLite or `postgres://`), oldest first, through a connection of its own. */
export async function rawMail(database: string): Promise<RawMail[]> {
  const sql =
    "SELECT id, recipient, subject, status, attempts, lease_until, sealed_body, last_error FROM gatehouse_mail ORDER BY created_at, id";
  let rows: Array<Record<string, unknown>>;
  if (database.startsWith("file:")) {
    rows = querySqliteFile(
      database.slice("file:".length),
      (db) => db.prepare(sql).all() as Array<Record<string, unknown>>,
    );
  } else {
    const client = new pg.Client({ connectionString: database });
    await client.connect();
    try {
      rows = (await client.query(sql)).rows;
    } finally {
      await client.end();
    }
  }
  return rows.map((row) => ({
    id: String(row.id),
    recipient: String(row.recipient),
    subject: String(row.subject),
    status: String(row.status),
    attempts: Number(row.attempts),
    leased: row.lease_until !== null,
    bodyLength: String(row.sealed_body).length,
    lastError: row.last_error === null ? null : String(row.last_error),
  }));
}

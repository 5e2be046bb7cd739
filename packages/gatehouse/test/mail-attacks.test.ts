/**
 * Attacks on the durable outbox (issue 16's "mail that survives a crash"), on real stores (SQLite files,
 * PostgreSQL) and real SMTP servers: account enumeration through the reset and email-change requests, lost and
 * duplicated mail (a crash between two writes, two senders, a send slower than its lease), tokens at rest (rows,
 * the file's bytes, `last_error`, the log), mailers that throw, hang or reject with garbage, header injection,
 * tampered and oversized bodies, floods, the development outbox in production, and the sender's options,
 * `close()` and `retryMail`. Each test names what it attacks; an `it.fails` names a bug still open.
 */
import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import pg from "pg";
import { SMTPServer } from "smtp-server";
import { afterAll, afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import type { Auth } from "../src/core/dto.js";
import { createGatehouse, type Gatehouse } from "../src/core/gatehouse.js";
import { createMailQueue, type MailDeliveryOptions } from "../src/core/mail-queue.js";
import { ConfigurationError } from "../src/errors.js";
import type { Mailer, MailMessage } from "../src/mail/mailer.js";
import { createOutboxMailer } from "../src/mail/outbox.js";
import { createSmtpMailer } from "../src/mail/smtp.js";
import { createPostgresStore } from "../src/stores/postgres.js";
import { createSqliteStore } from "../src/stores/sqlite.js";
import type { MailRecord, Store } from "../src/stores/types.js";
import { CHEAP_ARGON2, PASSWORD, TEST_SECRET } from "./support/credentials.js";
import {
  apiRequest,
  SUITE_RATE_LIMITS,
  sessionCookieOf,
  startServer,
  type TestServer,
  uniqueEmails,
} from "./support/http-server.js";
import { rawMail } from "./support/mail-process.js";
import {
  closedPort,
  nthMailTo,
  rawAllRowsText,
  rawDatabaseBytes,
  smtpMailerFor,
  switchableMailer,
  TEST_FROM,
  tokenFromLink,
} from "./support/raw-email.js";
import { createPostgresDatabase, requireService } from "./support/services.js";
import { startSmtpServer } from "./support/smtp.js";
import { createSqliteDatabase, querySqliteFile } from "./support/temp-sqlite.js";

const postgres = await requireService("postgres");
const smtp = await startSmtpServer();
afterAll(() => smtp.close());

const APP_URL = "https://app.example";
const NEW_PASSWORD = "a brand new passphrase";
/** Quick retries and polls: a test's mail moves in milliseconds. */
const QUICK: MailDeliveryOptions = { retryDelayMs: 20, maxRetryDelayMs: 40, pollMs: 10, leaseMs: 2000 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] as number;
};

/** A message as a recording SMTP server saw it: who the envelope went to, and what it said. */
interface Delivery {
  rcptTo: string[];
  subject: string;
  text: string;
  /** Every header line, unfolded, as the server received it. */
  headers: string;
}

interface RecordingSmtp {
  url: string;
  deliveries: Delivery[];
  close(): Promise<void>;
}

/**
 * A real SMTP server that records envelopes (the addresses a message really went to, Bcc included) and can be
 * slow (`delayMs` before it accepts a message) or refuse a message with a reply of its choosing (`reject`, given
 * the parsed text: a spam filter that quotes the link it blocked).
 */
async function startRecordingSmtp(
  options: { delayMs?: number; reject?: (text: string) => string | null } = {},
): Promise<RecordingSmtp> {
  const deliveries: Delivery[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then(async (parsed) => {
          const text = parsed.text ?? "";
          const refusal = options.reject?.(text) ?? null;
          if (options.delayMs) await sleep(options.delayMs);
          if (refusal !== null) {
            callback(Object.assign(new Error(refusal), { responseCode: 550 }));
            return;
          }
          deliveries.push({
            rcptTo: session.envelope.rcptTo.map((rcpt) => rcpt.address),
            subject: parsed.subject ?? "",
            text,
            headers: parsed.headerLines.map((line) => line.line).join("\n"),
          });
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    deliveries,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Every `gatehouse_tokens` row of a purpose, on SQLite or PostgreSQL, through a connection of the test's own. */
async function rawTokenCount(database: string, userId: string, purpose: string): Promise<number> {
  const sql = "SELECT count(*) AS n FROM gatehouse_tokens WHERE user_id = $1 AND purpose = $2";
  if (database.startsWith("file:")) {
    return querySqliteFile(database.slice("file:".length), (db) => {
      const row = db.prepare(sql.replace("$1", "?").replace("$2", "?")).get(userId, purpose) as { n: number };
      return Number(row.n);
    });
  }
  const client = new pg.Client({ connectionString: database });
  await client.connect();
  try {
    return Number((await client.query(sql, [userId, purpose])).rows[0].n);
  } finally {
    await client.end();
  }
}

/** Runs one statement on a SQLite file or a PostgreSQL database (`$1`… placeholders), outside any store. */
async function rawExec(database: string, sql: string, values: unknown[] = []): Promise<void> {
  if (database.startsWith("file:")) {
    querySqliteFile(database.slice("file:".length), (db) => db.prepare(sql.replace(/\$\d+/g, "?")).run(...values));
    return;
  }
  const client = new pg.Client({ connectionString: database });
  await client.connect();
  try {
    await client.query(sql, values);
  } finally {
    await client.end();
  }
}

/** The sealed body of a row, read raw. */
async function rawSealedBody(database: string, id: string): Promise<string> {
  if (database.startsWith("file:")) {
    return querySqliteFile(database.slice("file:".length), (db) => {
      const row = db.prepare("SELECT sealed_body FROM gatehouse_mail WHERE id = ?").get(id) as { sealed_body: string };
      return row.sealed_body;
    });
  }
  const client = new pg.Client({ connectionString: database });
  await client.connect();
  try {
    return (await client.query("SELECT sealed_body FROM gatehouse_mail WHERE id = $1", [id])).rows[0].sealed_body;
  } finally {
    await client.end();
  }
}

interface Backend {
  name: string;
  /** `file:…` or `postgres://…`: what the raw helpers take. */
  database: string;
  /** A new store (its own connection or pool) on the database. */
  open(): Store;
  drop(): Promise<void>;
}

const backends: Array<{ name: string; enabled: boolean; setup(): Promise<Backend> }> = [
  {
    name: "SQLite file",
    enabled: true,
    async setup() {
      const db = createSqliteDatabase();
      return { name: "sqlite", database: db.url, open: () => createSqliteStore({ url: db.url }), drop: db.drop };
    },
  },
  {
    name: "PostgreSQL",
    enabled: postgres,
    async setup() {
      const db = await createPostgresDatabase();
      return { name: "postgres", database: db.url, open: () => createPostgresStore({ url: db.url }), drop: db.drop };
    },
  },
];

/**
 * A fresh database for each test (`backend()` reads it), and Gatehouses on it, each with a store of its own (a
 * process of its own), closed after the test.
 */
function useInstances(setup: () => Promise<Backend>) {
  let current: Backend | undefined;
  const opened: Array<{ gatehouse: Gatehouse; store: Store }> = [];
  beforeEach(async () => {
    current = await setup();
  });
  afterEach(async () => {
    for (const { gatehouse } of opened) await gatehouse.close();
    for (const { store } of opened.splice(0)) await store.close();
    await current?.drop();
  });
  const backend = () => current as Backend;
  async function instance(
    mailer: Mailer | null | ((store: Store) => Mailer),
    options: { delivery?: MailDeliveryOptions; store?: (store: Store) => Store; appName?: string } = {},
  ): Promise<{ gatehouse: Gatehouse; store: Store }> {
    const store = backend().open();
    await store.migrate();
    const used = options.store ? options.store(store) : store;
    const gatehouse = createGatehouse({
      store: used,
      url: APP_URL,
      secret: TEST_SECRET,
      argon2: CHEAP_ARGON2,
      ...(mailer && { mailer: typeof mailer === "function" ? mailer(used) : mailer }),
      mailDelivery: { ...QUICK, ...options.delivery },
      rateLimits: { passwordResetPerIp: false, passwordResetPerEmail: false, verificationEmailPerUser: false },
      ...(options.appName !== undefined && { appName: options.appName }),
    });
    opened.push({ gatehouse, store });
    return { gatehouse, store: used };
  }
  return { backend, instance };
}

/** An `Auth` for `userId`, as a request signed in as them would carry. */
async function authOf(gatehouse: Gatehouse, userId: string): Promise<Auth> {
  const started = await gatehouse.startSession(userId);
  const found = await gatehouse.authenticate(started?.setCookie.split(";", 1)[0], { canSetCookie: false });
  if (!found.user) throw new Error("the session does not authenticate");
  return { user: found.user, session: found.session };
}

/** A response's headers but its date. */
function headersOf(response: Response): Record<string, string> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (name !== "date") headers[name] = value;
  });
  return headers;
}

let consoleError: MockInstance | undefined;
/** Failed attempts go to the log: keep the output clean, and let the test read them. */
function quietLog(): MockInstance {
  consoleError ??= vi.spyOn(console, "error").mockImplementation(() => undefined);
  return consoleError;
}
afterEach(() => {
  consoleError?.mockRestore();
  consoleError = undefined;
});
const logged = () => (consoleError?.mock.calls ?? []).map((call) => call.map(String).join(" ")).join("\n");

describe("enumeration through the reset and email-change requests (HTTP, SQLite file)", () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
  });
  /** A server mailing the shared SMTP server, without reset limits (each test makes many requests). */
  async function server(): Promise<TestServer> {
    const started = await startServer("database", {
      email: { mailer: smtpMailerFor(smtp) },
      rateLimits: { ...SUITE_RATE_LIMITS, passwordResetPerIp: false, passwordResetPerEmail: false },
    });
    servers.push(started);
    return started;
  }
  const uniqueEmail = uniqueEmails("enum", "attack");
  const reset = (app: TestServer, email: string) =>
    apiRequest(app, "/api/auth/password-reset/request", { json: { email } });

  it("a registered and an unknown address: same status, body and headers, and the same rows before the answer", async () => {
    const app = await server();
    // Its sender stopped: what the request itself wrote stays as it wrote it.
    await app.gatehouse.close();
    const registered = uniqueEmail();
    const unknown = uniqueEmail();
    expect(registered.length).toBe(unknown.length);
    await app.gatehouse.users.create({ email: registered, password: PASSWORD });

    const answers = [];
    for (const email of [registered, unknown]) {
      const response = await reset(app, email);
      const headers = headersOf(response);
      answers.push({ status: response.status, headers, body: await response.text() });
    }
    expect(answers[0]).toEqual(answers[1]);
    const rows = await rawMail(`file:${app.dbFile}`);
    expect(rows.map(({ id: _, recipient: __, ...row }) => row)).toEqual([
      {
        subject: "[job] password_reset",
        status: "pending",
        attempts: 0,
        leased: false,
        bodyLength: rows[0]?.bodyLength,
        lastError: null,
      },
      {
        subject: "[job] password_reset",
        status: "pending",
        attempts: 0,
        leased: false,
        bodyLength: rows[0]?.bodyLength,
        lastError: null,
      },
    ]);
    expect(rows.map((row) => row.recipient)).toEqual([registered, unknown]);
    // No token exists yet for anyone: it is made by the sender, after the answer.
    expect(querySqliteFile(app.dbFile, (db) => db.prepare("SELECT count(*) AS n FROM gatehouse_tokens").get())).toEqual(
      {
        n: 0,
      },
    );
  });

  it("an email change to a taken and to a free address: the same answer, the same rows, the same warning to the current address", async () => {
    const app = await server();
    const taken = uniqueEmail();
    const free = uniqueEmail();
    await app.gatehouse.users.create({ email: taken, password: PASSWORD });
    const mover = uniqueEmail();
    await app.gatehouse.users.create({ email: mover, password: PASSWORD });
    const login = await apiRequest(app, "/api/auth/login", { json: { email: mover, password: PASSWORD } });
    const cookie = sessionCookieOf(login) as string;

    const answers = [];
    for (const email of [taken, free]) {
      const response = await apiRequest(app, "/api/auth/email-change", { json: { email, password: PASSWORD }, cookie });
      const headers = headersOf(response);
      const body = await response.text();
      answers.push({ status: response.status, headers, body: body.replace(email, "<new>") });
    }
    expect(answers[0]).toEqual(answers[1]);
    await nthMailTo(smtp, mover, 2);
    const warnings = smtp
      .to(mover)
      .map((mail) => ({ subject: mail.subject, text: mail.text.replace(/\S+@example\.com/g, "<addr>") }));
    expect(warnings[0]).toEqual(warnings[1]);
  });

  it("timing (checklist 8): neither the request nor the request right after it (the sender's work runs between them) separates the two by 10 ms", async () => {
    const app = await server();
    const registered = uniqueEmail();
    await app.gatehouse.users.create({ email: registered, password: PASSWORD });
    const probe = uniqueEmail();
    const timed = async (email: string) => {
      const started = performance.now();
      const response = await reset(app, email);
      await response.arrayBuffer();
      expect(response.status).toBe(202);
      return performance.now() - started;
    };
    for (let i = 0; i < 20; i++) await timed(i % 2 ? registered : probe);
    const samples = {
      registered: { first: [] as number[], next: [] as number[] },
      unknown: { first: [] as number[], next: [] as number[] },
    };
    for (let i = 0; i < 200; i++) {
      for (const kind of i % 2 ? (["registered", "unknown"] as const) : (["unknown", "registered"] as const)) {
        // The attacker's pair: the address being probed, then at once a request of their own, which waits for
        // whatever the sender does with the first (a lookup only, or a token, a mail and an SMTP connection).
        samples[kind].first.push(await timed(kind === "registered" ? registered : uniqueEmail()));
        samples[kind].next.push(await timed(probe));
      }
    }
    const report = JSON.stringify(
      Object.fromEntries(
        Object.entries(samples).map(([kind, s]) => [
          kind,
          { first: median(s.first).toFixed(2), next: median(s.next).toFixed(2) },
        ]),
      ),
    );
    expect(Math.abs(median(samples.registered.first) - median(samples.unknown.first)), report).toBeLessThan(10);
    expect(Math.abs(median(samples.registered.next) - median(samples.unknown.next)), report).toBeLessThan(10);
    // Every registered request was mailed (so the sender really did its work between the pairs).
    await vi.waitFor(() => expect(smtp.to(registered).length).toBeGreaterThanOrEqual(200), { timeout: 30_000 });
  }, 120_000);

  it("a flood of reset requests from one address (rotating through its /64 too) writes at most the per-IP budget of rows", async () => {
    const app = await startServer("database", {
      email: { mailer: smtpMailerFor(smtp) },
      rateLimits: { ...SUITE_RATE_LIMITS },
      trustedProxies: 1,
    });
    servers.push(app);
    await app.gatehouse.close();
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const response = await apiRequest(app, "/api/auth/password-reset/request", {
        json: { email: uniqueEmail() },
        headers: { "X-Forwarded-For": `2001:db8:1:2:${i.toString(16)}::1` },
      });
      statuses.push(response.status);
    }
    expect(statuses.filter((status) => status === 202)).toHaveLength(20);
    expect(statuses.slice(20)).toEqual(Array(10).fill(429));
    // And one address, from many networks: its own budget of 5.
    const victim = uniqueEmail();
    const perEmail: number[] = [];
    for (let i = 0; i < 8; i++) {
      const response = await apiRequest(app, "/api/auth/password-reset/request", {
        json: { email: victim },
        headers: { "X-Forwarded-For": `198.51.100.${i + 1}` },
      });
      perEmail.push(response.status);
    }
    expect(perEmail).toEqual([202, 202, 202, 202, 202, 429, 429, 429]);
    expect(await rawMail(`file:${app.dbFile}`)).toHaveLength(25);
  });

  it("CR/LF in an address is refused (400) before anything is written, on reset and on email change", async () => {
    const app = await server();
    await app.store.migrate();
    await app.gatehouse.close();
    const mover = uniqueEmail();
    await app.gatehouse.users.create({ email: mover, password: PASSWORD });
    const login = await apiRequest(app, "/api/auth/login", { json: { email: mover, password: PASSWORD } });
    const cookie = sessionCookieOf(login) as string;
    for (const email of [
      "a@example.com\r\nBcc: evil@example.com",
      "a@example.com\nBcc: evil@example.com",
      "a\r\n@example.com",
    ]) {
      expect((await reset(app, email)).status, JSON.stringify(email)).toBe(400);
      const change = await apiRequest(app, "/api/auth/email-change", { json: { email, password: PASSWORD }, cookie });
      expect(change.status, JSON.stringify(email)).toBe(400);
    }
    expect(await rawMail(`file:${app.dbFile}`)).toEqual([]);
  });
});

describe.each(backends.filter((b) => b.enabled))("the outbox under attack ($name)", ({ setup }) => {
  const { backend: current, instance } = useInstances(setup);
  const db = () => current().database;
  const uniqueEmail = uniqueEmails("attack", `${Math.random().toString(36).slice(2, 6)}`);

  async function account(gatehouse: Gatehouse): Promise<{ id: string; email: string }> {
    const email = uniqueEmail();
    const { id } = await gatehouse.users.create({ email, password: PASSWORD });
    return { id, email };
  }

  it("a crash after the token and its mail are written but before the job settles: the job runs again, and only the newest link works", async () => {
    quietLog();
    const jobs = new Set<string>();
    let died = false;
    // The process "dies" at the job's settling the first time: what it wrote stays, the job stays leased.
    const dying = (store: Store): Store => ({
      ...store,
      claimMail: async (...args) => {
        const claimed = await store.claimMail(...args);
        for (const record of claimed) if (record.subject.startsWith("[job]")) jobs.add(record.id);
        return claimed;
      },
      settleMail: async (id, attempts, outcome) => {
        if (jobs.has(id) && !died) {
          died = true;
          throw new Error("the process died here");
        }
        return store.settleMail(id, attempts, outcome);
      },
    });
    const { gatehouse } = await instance(smtpMailerFor(smtp), { store: dying, delivery: { leaseMs: 300 } });
    const user = await account(gatehouse);
    await gatehouse.requestPasswordReset({ email: user.email });

    const first = tokenFromLink(await nthMailTo(smtp, user.email, 1), APP_URL, "/reset-password");
    const second = tokenFromLink(await nthMailTo(smtp, user.email, 2), APP_URL, "/reset-password");
    expect(second).not.toBe(first);
    await vi.waitFor(async () => expect((await rawMail(db())).every((row) => row.status === "sent")).toBe(true));
    expect(await rawTokenCount(db(), user.id, "reset_password")).toBe(1);
    await expect(gatehouse.confirmPasswordReset({ token: first, password: NEW_PASSWORD })).rejects.toMatchObject({
      code: "invalid_token",
    });
    await gatehouse.confirmPasswordReset({ token: second, password: NEW_PASSWORD });
    await sleep(500);
    // Two reset mails (the first one's link void), then the notice: none lost, none more.
    expect(smtp.to(user.email).map((mail) => mail.subject)).toEqual([
      expect.stringMatching(/^Reset your/),
      expect.stringMatching(/^Reset your/),
      expect.stringMatching(/password was changed/),
    ]);
  });

  it("two senders on one database: 20 resets, each mailed once", async () => {
    const writer = await instance(smtpMailerFor(smtp));
    await instance(smtpMailerFor(smtp));
    const emails: string[] = [];
    for (let i = 0; i < 20; i++) emails.push((await account(writer.gatehouse)).email);
    await Promise.all(emails.map((email) => writer.gatehouse.requestPasswordReset({ email })));
    for (const email of emails) await nthMailTo(smtp, email, 1);
    await sleep(300);
    for (const email of emails) expect(smtp.to(email), email).toHaveLength(1);
  });

  // Was a bug: the lease ran out while the first attempt still waited on the mail server, and the second sender
  // sent the message too. Now an attempt is given up before its lease ends, and the message marked failed
  // (it may still arrive), for an admin to retry: delivered once, never again by itself.
  it("a send slower than the lease, with a second sender on the database: the message arrives once, and is failed, not retried", async () => {
    quietLog();
    const slow = await startRecordingSmtp({ delayMs: 1200 });
    try {
      const mailer = () => createSmtpMailer({ url: slow.url, from: TEST_FROM, timeoutMs: 10_000 });
      const writer = await instance(mailer(), { delivery: { leaseMs: 400 } });
      await instance(mailer(), { delivery: { leaseMs: 400 } });
      const user = await account(writer.gatehouse);
      await writer.gatehouse.requestPasswordReset({ email: user.email });
      await vi.waitFor(() => expect(slow.deliveries.length).toBeGreaterThanOrEqual(1), { timeout: 10_000 });
      await sleep(3000);
      expect(slow.deliveries.map((d) => d.rcptTo)).toEqual([[user.email]]);
      const row = (await rawMail(db())).find((r) => r.subject.startsWith("Reset"));
      expect(row).toMatchObject({ status: "failed", attempts: 1, leased: false });
      expect(row?.lastError).toMatch(/no answer within leaseMs/);
    } finally {
      await slow.close();
    }
  });

  it("a mailer that hangs forever on one message: the rest of the mail still goes out, and close() returns", async () => {
    quietLog();
    const smtpMailer = smtpMailerFor(smtp);
    const stuck = uniqueEmail();
    // Released when the test ends (so a sender still waiting on it lets go), settled by nothing before.
    const hanging: Array<() => void> = [];
    const mailer: Mailer = {
      send: (message) =>
        message.to === stuck
          ? new Promise<void>((_, reject) => hanging.push(() => reject(new Error("released by the test"))))
          : smtpMailer.send(message),
    };
    try {
      const { gatehouse } = await instance(mailer, { delivery: { leaseMs: 300 } });
      await gatehouse.users.create({ email: stuck, password: PASSWORD });
      const other = await account(gatehouse);
      await gatehouse.requestPasswordReset({ email: stuck });
      await vi.waitFor(() => expect(hanging.length).toBe(1));
      await gatehouse.requestPasswordReset({ email: other.email });
      await nthMailTo(smtp, other.email, 1);
      const held = (await rawMail(db())).find((row) => row.recipient === stuck && row.subject.startsWith("Reset"));
      expect(held).toMatchObject({ status: "failed", attempts: 1 });
      expect(held?.lastError).toMatch(/no answer within leaseMs/);
      const closed = await Promise.race([gatehouse.close().then(() => "closed"), sleep(2000).then(() => "waiting")]);
      expect(closed).toBe("closed");
    } finally {
      for (const release of hanging) release();
    }
  });

  it("a mailer that throws synchronously, or resolves to garbage: retried like any failure, then sent once", async () => {
    quietLog();
    let calls = 0;
    const smtpMailer = smtpMailerFor(smtp);
    const mailer = {
      send(message: MailMessage) {
        calls += 1;
        if (calls === 1) throw new TypeError("not even a promise");
        return smtpMailer.send(message).then(() => ({ garbage: true }) as unknown as undefined);
      },
    };
    const { gatehouse } = await instance(mailer);
    const user = await account(gatehouse);
    await gatehouse.requestPasswordReset({ email: user.email });
    await nthMailTo(smtp, user.email, 1);
    await vi.waitFor(async () =>
      expect((await rawMail(db())).filter((row) => row.subject.startsWith("Reset"))).toEqual([
        expect.objectContaining({ status: "sent", attempts: 2, lastError: null }),
      ]),
    );
    expect(logged()).toMatch(/not even a promise/);
  });

  it("a mailer that rejects with something that is not an Error (no toString, a message that is not text): retried, the process unharmed", async () => {
    quietLog();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const weird = Object.assign(new Error(), { message: { not: "text" } as unknown as string });
      const rejections: unknown[] = [Object.create(null), weird, undefined];
      const smtpMailer = smtpMailerFor(smtp);
      const mailer: Mailer = {
        send: (message) => (rejections.length > 0 ? Promise.reject(rejections.shift()) : smtpMailer.send(message)),
      };
      const { gatehouse } = await instance(mailer);
      const user = await account(gatehouse);
      await gatehouse.requestPasswordReset({ email: user.email });
      await nthMailTo(smtp, user.email, 1);
      await vi.waitFor(async () =>
        expect((await rawMail(db())).find((row) => row.subject.startsWith("Reset"))).toMatchObject({
          status: "sent",
          attempts: 4,
        }),
      );
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("CR/LF in the app name (a subject header) injects no recipient and no header", async () => {
    const recording = await startRecordingSmtp();
    try {
      const { gatehouse } = await instance(createSmtpMailer({ url: recording.url, from: TEST_FROM }), {
        appName: "Acme\r\nBcc: evil@example.com\r\nX-Injected: yes",
      });
      const user = await account(gatehouse);
      await gatehouse.requestPasswordReset({ email: user.email });
      await vi.waitFor(() => expect(recording.deliveries).toHaveLength(1));
      const [delivery] = recording.deliveries;
      expect(delivery?.rcptTo).toEqual([user.email]);
      expect(delivery?.headers).not.toMatch(/^(bcc|x-injected):/im);
    } finally {
      await recording.close();
    }
  });

  it("a 300 KB body is sealed in pieces of at most 4096 characters and delivered whole", async () => {
    const mailer = smtpMailerFor(smtp);
    const { gatehouse, store } = await instance(null);
    const to = uniqueEmail();
    const text = `${"Zoë 👋 ünïcødé — ".repeat(20_000)}end`;
    // The core's own queue, through the gatehouse's store: createGatehouse without a mailer has none running.
    const queue = createMailQueue({
      store,
      mainStore: store,
      secrets: [TEST_SECRET],
      mailer,
      now: Date.now,
      options: { mailDelivery: QUICK },
    });
    try {
      const queued = await queue.seal({ to, subject: "Big", text, html: `<p>${text}</p>` });
      for (const piece of queued.sealedBody.split(" ")) expect(piece.length).toBeLessThanOrEqual(4096);
      await queue.enqueue([queued]);
      const mail = await nthMailTo(smtp, to, 1);
      expect(mail.text.trimEnd()).toBe(text);
    } finally {
      await queue.api.close();
      await gatehouse.close();
    }
  });

  it("a tampered body (truncated, pieces reordered, a piece of another message, a byte flipped) or a row moved to another address: failed, never sent", async () => {
    quietLog();
    const recording = await startRecordingSmtp();
    try {
      const { gatehouse, store } = await instance(null);
      const make = (mailer: Mailer | null) =>
        createMailQueue({
          store,
          mainStore: store,
          secrets: [TEST_SECRET],
          mailer,
          now: Date.now,
          options: { mailDelivery: QUICK },
        });
      const writer = make(null);
      const long = (to: string) => ({ to, subject: "Yours", text: "x".repeat(6000), html: "<p>y</p>" });
      const victim = uniqueEmail();
      const attacker = uniqueEmail();
      const rows = await Promise.all(Array.from({ length: 6 }, () => writer.seal(long(victim))));
      const other = await writer.seal(long(attacker));
      await store.enqueueMail([...rows, other]);
      const [truncated, reordered, spliced, flipped, moved, resubjected] = rows as [
        MailRecord,
        MailRecord,
        MailRecord,
        MailRecord,
        MailRecord,
        MailRecord,
      ];
      const pieces = (id: string) => rawSealedBody(db(), id).then((body) => body.split(" "));
      const set = (id: string, body: string[]) =>
        rawExec(db(), "UPDATE gatehouse_mail SET sealed_body = $1 WHERE id = $2", [body.join(" "), id]);
      await set(truncated.id, (await pieces(truncated.id)).slice(0, -1));
      await set(reordered.id, (await pieces(reordered.id)).reverse());
      const [own1, , own3] = await pieces(spliced.id);
      await set(spliced.id, [own1 as string, (await pieces(other.id))[1] as string, own3 as string]);
      const flip = await pieces(flipped.id);
      flip[1] = `${(flip[1] as string).slice(0, 40)}${(flip[1] as string)[40] === "A" ? "B" : "A"}${(flip[1] as string).slice(41)}`;
      await set(flipped.id, flip);
      await rawExec(db(), "UPDATE gatehouse_mail SET recipient = $1 WHERE id = $2", [attacker, moved.id]);
      await rawExec(db(), "UPDATE gatehouse_mail SET subject = $1 WHERE id = $2", ["Other", resubjected.id]);
      await rawExec(db(), "DELETE FROM gatehouse_mail WHERE id = $1", [other.id]);

      const sender = make(createSmtpMailer({ url: recording.url, from: TEST_FROM }));
      try {
        await vi.waitFor(async () => {
          const found = await rawMail(db());
          expect(found.map((row) => row.status)).toEqual(Array(6).fill("failed"));
        });
        expect(recording.deliveries).toEqual([]);
      } finally {
        await sender.api.close();
        await writer.api.close();
        await gatehouse.close();
      }
    } finally {
      await recording.close();
    }
  });

  it("a verification code is in no row: not in the subject column an admin lists, before delivery or after", async () => {
    const mailer = switchableMailer(
      createSmtpMailer({ url: `smtp://127.0.0.1:${await closedPort()}`, from: TEST_FROM }),
    );
    quietLog();
    const store = current().open();
    await store.migrate();
    const gatehouse = createGatehouse({
      store,
      url: APP_URL,
      secret: TEST_SECRET,
      argon2: CHEAP_ARGON2,
      mailer,
      mailDelivery: QUICK,
      emailVerification: { method: "code" },
    });
    try {
      const email = uniqueEmail();
      await gatehouse.signUp({ email, password: PASSWORD });
      const pending = await vi.waitFor(async () => {
        const found = (await gatehouse.listMail({ status: "pending" })).messages.filter((m) => m.to === email);
        expect(found).toHaveLength(1);
        expect(found[0]?.attempts).toBeGreaterThanOrEqual(1);
        return found;
      });
      mailer.target = smtpMailerFor(smtp);
      const received = await nthMailTo(smtp, email, 1);
      const code = /\b(\d{8})\b/.exec(received.subject)?.[1] as string;
      expect(code).toMatch(/^\d{8}$/);
      expect(JSON.stringify(pending)).not.toContain(code);
      const listed = await gatehouse.listMail();
      expect(JSON.stringify(listed)).not.toContain(code);
      const raw = await rawMail(db());
      expect(JSON.stringify(raw)).not.toContain(code);
      if (db().startsWith("file:")) {
        const file = db().slice("file:".length);
        expect(rawAllRowsText(file)).not.toContain(code);
      }
    } finally {
      await gatehouse.close();
      await store.close();
    }
  });

  it("a mail server that quotes the link it refused: the token is in no last_error and no log line, and the link still arrives", async () => {
    quietLog();
    const quoted: string[] = [];
    let refusals = 2;
    const filtering = await startRecordingSmtp({
      reject(text) {
        const url = /https:\/\/\S+token=[\w-]+/.exec(text)?.[0];
        if (!url || refusals === 0) return null;
        refusals -= 1;
        quoted.push(url);
        return `5.7.1 Message rejected: URL blocked: ${url} (code 12345678)`;
      },
    });
    try {
      const { gatehouse } = await instance(createSmtpMailer({ url: filtering.url, from: TEST_FROM }));
      const user = await account(gatehouse);
      await gatehouse.requestPasswordReset({ email: user.email });
      const errors: string[] = [];
      await vi.waitFor(async () => {
        const row = (await rawMail(db())).find((r) => r.subject.startsWith("Reset"));
        if (row?.lastError) errors.push(row.lastError);
        expect(filtering.deliveries).toHaveLength(1);
      });
      const token = /token=([\w-]{32})/.exec(filtering.deliveries[0]?.text ?? "")?.[1] as string;
      expect(token).toMatch(/^[\w-]{32}$/);
      expect(quoted.length).toBe(2);
      expect(errors.join("\n")).toMatch(/URL blocked/);
      expect(errors.join("\n")).not.toContain(token);
      expect(errors.join("\n")).not.toContain("12345678");
      expect(logged()).toMatch(/URL blocked/);
      expect(logged()).not.toContain(token);
      if (db().startsWith("file:")) expect(rawDatabaseBytes(db().slice("file:".length))).not.toContain(token);
    } finally {
      await filtering.close();
    }
  });

  it("a message with 10 000 attempts behind it waits no longer than maxRetryDelayMs", async () => {
    quietLog();
    const { gatehouse, store } = await instance(null);
    const writer = createMailQueue({
      store,
      mainStore: store,
      secrets: [TEST_SECRET],
      mailer: null,
      now: Date.now,
      options: {},
    });
    const queued = await writer.seal({ to: uniqueEmail(), subject: "Hi", text: "t", html: "h" });
    await store.enqueueMail([queued]);
    await rawExec(db(), "UPDATE gatehouse_mail SET attempts = 10000 WHERE id = $1", [queued.id]);
    const failing: Mailer = { send: () => Promise.reject(new Error("421 try later")) };
    const sender = createMailQueue({
      store,
      mainStore: store,
      secrets: [TEST_SECRET],
      mailer: failing,
      now: Date.now,
      options: { mailDelivery: { maxAttempts: 1_000_000, retryDelayMs: 1000, maxRetryDelayMs: 60_000, pollMs: 10 } },
    });
    try {
      const started = Date.now();
      const row = await vi.waitFor(async () => {
        const [found] = await store.listMail({ limit: 1 });
        expect(found?.attempts).toBe(10_001);
        expect(found?.lastError).toMatch(/421/);
        return found as MailRecord;
      });
      const wait = row.nextAttemptAt.getTime() - started;
      expect(wait).toBeGreaterThanOrEqual(30_000 - 1000);
      expect(wait).toBeLessThanOrEqual(60_000 + 1000);
    } finally {
      await sender.api.close();
      await writer.api.close();
      await gatehouse.close();
    }
  });

  it("retryMail of a message that is not failed (pending, held by a sender, sent, unknown, odd ids) changes nothing; of a failed one raced, once", async () => {
    quietLog();
    const { gatehouse, store } = await instance(null);
    const writer = createMailQueue({
      store,
      mainStore: store,
      secrets: [TEST_SECRET],
      mailer: null,
      now: Date.now,
      options: {},
    });
    try {
      const seal = () => writer.seal({ to: uniqueEmail(), subject: "Hi", text: "t", html: "h" });
      const [pending, held, sent, failed] = await Promise.all([seal(), seal(), seal(), seal()]);
      await store.enqueueMail([pending, held, sent, failed].filter((m) => m !== undefined));
      const ids = {
        pending: pending?.id as string,
        held: held?.id as string,
        sent: sent?.id as string,
        failed: failed?.id as string,
      };
      await rawExec(db(), "UPDATE gatehouse_mail SET attempts = 1, lease_until = $1 WHERE id = $2", [
        Date.now() + 60_000,
        ids.held,
      ]);
      await rawExec(
        db(),
        "UPDATE gatehouse_mail SET status = 'sent', attempts = 1, sent_at = $1, sealed_body = '' WHERE id = $2",
        [Date.now(), ids.sent],
      );
      await rawExec(
        db(),
        "UPDATE gatehouse_mail SET status = 'failed', attempts = 12, last_error = 'gone' WHERE id = $1",
        [ids.failed],
      );
      const before = await rawMail(db());
      for (const id of [
        ids.pending,
        ids.held,
        ids.sent,
        "no-such-id",
        "",
        "x".repeat(65),
        "' OR 1=1 --",
        42 as unknown as string,
        null as unknown as string,
      ]) {
        expect(await gatehouse.retryMail(id), String(id)).toBe(false);
      }
      expect(await rawMail(db())).toEqual(before);
      const raced = await Promise.all(Array.from({ length: 8 }, () => gatehouse.retryMail(ids.failed)));
      expect(raced.filter(Boolean)).toHaveLength(1);
      const after = (await rawMail(db())).find((row) => row.id === ids.failed);
      // The attempts count stays: a claim's compare-and-set relies on it never going back.
      expect(after).toMatchObject({ status: "pending", attempts: 12, lastError: "gone" });
    } finally {
      await writer.api.close();
    }
  });

  it("close(): an attempt in hand is settled before it returns, and nothing is attempted after", async () => {
    let release: () => void = () => undefined;
    const smtpMailer = smtpMailerFor(smtp);
    let started = 0;
    const mailer: Mailer = {
      async send(message) {
        started += 1;
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        await smtpMailer.send(message);
      },
    };
    const { gatehouse } = await instance(mailer);
    const user = await account(gatehouse);
    await gatehouse.requestPasswordReset({ email: user.email });
    await vi.waitFor(() => expect(started).toBe(1));
    const closing = gatehouse.close();
    await sleep(50);
    release();
    await closing;
    const row = (await rawMail(db())).find((r) => r.subject.startsWith("Reset"));
    expect(row).toMatchObject({ status: "sent", leased: false });
    await gatehouse.requestPasswordReset({ email: user.email });
    await sleep(200);
    expect(started).toBe(1);
    expect((await rawMail(db())).filter((r) => r.status === "pending")).toHaveLength(1);
  });

  // Two replacing createToken calls for one user once both committed on PostgreSQL (read committed: each deleted
  // what the other had not committed yet): "a newer request voids the older token" (checklist 33). The user's
  // row now serialises them.
  it("two links of one purpose issued at once for one user: only one stays valid", async () => {
    const { gatehouse } = await instance(smtpMailerFor(smtp));
    const user = await account(gatehouse);
    const auth = await authOf(gatehouse, user.id);
    let doubled = 0;
    for (let round = 0; round < 10; round++) {
      await Promise.all([gatehouse.requestEmailVerification(auth), gatehouse.requestEmailVerification(auth)]);
      if ((await rawTokenCount(db(), user.id, "verify_email")) > 1) doubled += 1;
    }
    expect(doubled, `rounds with two valid links, of 10`).toBe(0);
  });
});

describe("the development outbox and the sender's options", () => {
  it("the development outbox mailer under NODE_ENV=production says so, loudly, once", async () => {
    const store = createSqliteStore({ url: ":memory:" });
    const previous = process.env.NODE_ENV;
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    (process.env as Record<string, string | undefined>).NODE_ENV = "production";
    let gatehouse: Gatehouse | undefined;
    try {
      gatehouse = createGatehouse({ store, url: APP_URL, secret: TEST_SECRET, mailer: createOutboxMailer(store) });
      expect(warn.mock.calls.map((call) => String(call[0]))).toEqual([
        expect.stringMatching(/createOutboxMailer.*production/),
      ]);
    } finally {
      (process.env as Record<string, string | undefined>).NODE_ENV = previous;
      warn.mockRestore();
      await gatehouse?.close();
      await store.close();
    }
  });

  it("with an SMTP mailer, outboxMessages shows no body, even of mail still waiting or failed", async () => {
    quietLog();
    const store = createSqliteStore({ url: ":memory:" });
    await store.migrate();
    const gatehouse = createGatehouse({
      store,
      url: APP_URL,
      secret: TEST_SECRET,
      argon2: CHEAP_ARGON2,
      mailer: createSmtpMailer({ url: `smtp://127.0.0.1:${await closedPort()}`, from: TEST_FROM }),
      mailDelivery: { ...QUICK, maxAttempts: 2 },
    });
    try {
      const email = "outbox-prod@example.com";
      await gatehouse.users.create({ email, password: PASSWORD });
      await gatehouse.requestPasswordReset({ email });
      await vi.waitFor(async () => expect((await gatehouse.listMail({ status: "failed" })).messages).toHaveLength(1));
      expect(await gatehouse.outboxMessages(500)).toEqual([]);
    } finally {
      await gatehouse.close();
      await store.close();
    }
  });

  it("refuses delivery options past what a timer can wait (2^31 − 1 ms): a longer pollMs would poll every millisecond", () => {
    const store = createSqliteStore({ url: ":memory:" });
    try {
      for (const mailDelivery of [
        { pollMs: 2 ** 31 },
        { leaseMs: 2 ** 31 },
        { retryDelayMs: 2 ** 31, maxRetryDelayMs: 2 ** 32 },
        { maxRetryDelayMs: Number.MAX_SAFE_INTEGER },
      ]) {
        expect(
          () =>
            createGatehouse({ store, url: APP_URL, secret: TEST_SECRET, mailer: smtpMailerFor(smtp), mailDelivery }),
          JSON.stringify(mailDelivery),
        ).toThrow(ConfigurationError);
      }
    } finally {
      void store.close();
    }
  });
});

/**
 * The durable outbox with a real SMTP server and a real SQLite file: a mail server that is down delays mail and
 * loses none; a message that keeps failing ends failed, where admins and `gatehouse doctor` see it; a slow
 * mail server holds no request; mail goes out as soon as it is written; bodies are sealed at rest; and the
 * sender never keeps a process alive. Delivery options are in milliseconds here, so retries take moments.
 */
import { afterAll, afterEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { checkOutbox } from "../src/cli/doctor.js";
import { createGatehouse, type Gatehouse } from "../src/core/gatehouse.js";
import type { MailDeliveryOptions } from "../src/core/mail-queue.js";
import type { Mailer } from "../src/mail/mailer.js";
import { createOutboxMailer } from "../src/mail/outbox.js";
import { createSmtpMailer } from "../src/mail/smtp.js";
import type { Store } from "../src/stores/types.js";
import { CHEAP_ARGON2, PASSWORD, TEST_SECRET } from "./support/credentials.js";
import { uniqueEmails } from "./support/http-server.js";
import { rawMail, spawnTypeScript, startSilentSmtpServer } from "./support/mail-process.js";
import {
  closedPort,
  nthMailTo,
  rawDatabaseBytes,
  smtpMailerFor,
  switchableMailer,
  TEST_FROM,
  tokenFromLink,
} from "./support/raw-email.js";
import { startSmtpServer } from "./support/smtp.js";
import { openTempSqliteStore, type TempSqliteStore } from "./support/temp-sqlite.js";

const APP_URL = "https://app.example";
const NEW_PASSWORD = "a brand new passphrase";

const smtp = await startSmtpServer();
afterAll(() => smtp.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface App {
  gatehouse: Gatehouse;
  store: Store;
  database: string;
  dbFile: string;
}

describe("the durable outbox", () => {
  const opened: Array<{ gatehouse: Gatehouse; sqlite: TempSqliteStore }> = [];
  const uniqueEmail = uniqueEmails("outbox", "sqlite");
  let consoleError: MockInstance | undefined;

  afterEach(async () => {
    for (const { gatehouse, sqlite } of opened.splice(0)) {
      await gatehouse.close();
      await sqlite.close();
    }
    consoleError?.mockRestore();
    consoleError = undefined;
  });

  /** A Gatehouse on a SQLite file of its own, on the real clock, with `mailer`. */
  function app(mailer: Mailer | ((store: Store) => Mailer), mailDelivery: MailDeliveryOptions = {}): App {
    const sqlite = openTempSqliteStore();
    const gatehouse = createGatehouse({
      store: sqlite.store,
      url: APP_URL,
      secret: TEST_SECRET,
      argon2: CHEAP_ARGON2,
      mailer: typeof mailer === "function" ? mailer(sqlite.store) : mailer,
      mailDelivery,
    });
    opened.push({ gatehouse, sqlite });
    return { gatehouse, store: sqlite.store, database: `file:${sqlite.dbFile}`, dbFile: sqlite.dbFile };
  }

  async function user(on: App): Promise<string> {
    const email = uniqueEmail();
    await on.gatehouse.users.create({ email, password: PASSWORD });
    return email;
  }

  /** Failed attempts go to the log: keep the output clean, and let the test read them. */
  function quietLog(): MockInstance {
    consoleError = vi.spyOn(console, "error").mockImplementation(() => undefined);
    return consoleError;
  }

  it("SMTP down past two retries, then back on the same port: every mail arrives, once", async () => {
    quietLog();
    const first = await startSmtpServer();
    const port = Number(new URL(first.url).port);
    const on = app(createSmtpMailer({ url: first.url, from: TEST_FROM }), {
      retryDelayMs: 50,
      maxRetryDelayMs: 200,
      maxAttempts: 1000,
      pollMs: 20,
    });
    const emails = [await user(on), await user(on), await user(on)];
    await first.close();

    for (const email of [...emails, uniqueEmail()]) await on.gatehouse.requestPasswordReset({ email });
    // Each reset mail tried three times at least (two retries), and still waiting.
    await vi.waitFor(
      async () => {
        const mails = (await rawMail(on.database)).filter((row) => row.subject.startsWith("Reset"));
        expect(mails).toHaveLength(3);
        for (const mail of mails) {
          expect(mail.attempts).toBeGreaterThanOrEqual(3);
          expect(mail.status).toBe("pending");
          expect(mail.lastError).toMatch(/ECONNREFUSED/);
        }
      },
      { timeout: 10_000, interval: 20 },
    );

    const back = await startSmtpServer({ port });
    try {
      for (const email of emails) await nthMailTo(back, email, 1);
      await sleep(300);
      expect(back.received.map((mail) => mail.to).sort()).toEqual([...emails].sort());
      expect((await rawMail(on.database)).map((row) => row.status)).toEqual([
        "sent",
        "sent",
        "sent",
        "sent",
        "sent",
        "sent",
        "sent",
      ]);
      // And the links work.
      const token = tokenFromLink(await nthMailTo(back, emails[0] as string, 1), APP_URL, "/reset-password");
      await on.gatehouse.confirmPasswordReset({ token, password: NEW_PASSWORD });
    } finally {
      await back.close();
    }
  });

  it("a message that keeps failing ends failed after maxAttempts: listed for admins, flagged by doctor, and sent once retried", async () => {
    const log = quietLog();
    const mailer = switchableMailer(
      createSmtpMailer({ url: `smtp://127.0.0.1:${await closedPort()}`, from: TEST_FROM }),
    );
    const on = app(mailer, { maxAttempts: 3, retryDelayMs: 20, maxRetryDelayMs: 40, pollMs: 10 });
    const email = await user(on);
    await on.gatehouse.requestPasswordReset({ email });

    const failed = await vi.waitFor(
      async () => {
        const list = await on.gatehouse.listMail({ status: "failed" });
        expect(list.messages).toHaveLength(1);
        return list;
      },
      { timeout: 10_000, interval: 20 },
    );
    const [message] = failed.messages;
    expect(message).toMatchObject({ to: email, subject: expect.stringMatching(/^Reset your/), status: "failed" });
    expect(message).toMatchObject({ attempts: 3, sentAt: null, lastError: expect.stringMatching(/ECONNREFUSED/) });
    expect(failed.counts).toEqual({ pending: 0, sent: 1, failed: 1 });
    expect(log.mock.calls.map(([line]) => String(line))).toContainEqual(
      expect.stringMatching(/^gatehouse: mail \S+ failed for good after 3 attempts/),
    );
    const finding = await checkOutbox(on.store);
    expect(finding).toMatchObject({
      ok: false,
      check: expect.stringMatching(/^1 email failed for good .*ECONNREFUSED/),
    });
    expect(finding.fix).toMatch(/retry/);

    mailer.target = smtpMailerFor(smtp);
    expect(await on.gatehouse.retryMail(message?.id as string)).toBe(true);
    const token = tokenFromLink(await nthMailTo(smtp, email, 1), APP_URL, "/reset-password");
    await on.gatehouse.confirmPasswordReset({ token, password: NEW_PASSWORD });
    await vi.waitFor(async () => expect((await on.gatehouse.listMail()).counts.failed).toBe(0));
    expect(await on.gatehouse.retryMail(message?.id as string)).toBe(false);
    expect(await checkOutbox(on.store)).toMatchObject({ ok: true });
    await nthMailTo(smtp, email, 2);
    expect(smtp.to(email).map((mail) => mail.subject)).toEqual([
      expect.stringMatching(/^Reset your/),
      expect.stringMatching(/password was changed/),
    ]);
  });

  it("a mail server that never answers holds no request: the answer comes while the sender waits on it", async () => {
    quietLog();
    const silent = await startSilentSmtpServer();
    const on = app(createSmtpMailer({ url: silent.url, from: TEST_FROM, timeoutMs: 10_000 }));
    const email = await user(on);
    await on.gatehouse.requestPasswordReset({ email });
    await silent.connected;

    // The sender is stuck in its attempt; requests are not.
    for (const request of [
      () => on.gatehouse.requestPasswordReset({ email }),
      () => on.gatehouse.requestPasswordReset({ email: uniqueEmail() }),
      () => on.gatehouse.signUp({ email: uniqueEmail(), password: PASSWORD }),
    ]) {
      const started = performance.now();
      await request();
      expect(performance.now() - started).toBeLessThan(2000);
    }
    await silent.close();
  });

  it("mail goes out as soon as it is written, not at the next poll", async () => {
    const on = app(smtpMailerFor(smtp), { pollMs: 60_000 });
    const email = await user(on);
    await sleep(50);
    const started = performance.now();
    await on.gatehouse.requestPasswordReset({ email });
    await nthMailTo(smtp, email, 1);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it("bodies are sealed at rest: with the development outbox the link is in no row and nowhere in the file, yet outboxMessages reads it", async () => {
    const on = app((store) => createOutboxMailer(store));
    const email = await user(on);
    const unknown = uniqueEmail();
    await on.gatehouse.requestPasswordReset({ email });
    await on.gatehouse.requestPasswordReset({ email: unknown });
    const [message] = await vi.waitFor(async () => {
      const messages = await on.gatehouse.outboxMessages(10);
      expect(messages).toHaveLength(1);
      return messages;
    });
    expect(message).toMatchObject({ to: email, subject: expect.stringMatching(/^Reset your/) });
    const link = /https:\/\/app\.example\/reset-password\?token=([\w-]{32})/.exec(message?.text ?? "");
    const token = link?.[1] as string;
    expect(token).toMatch(/^[\w-]{32}$/);
    const rows = await rawMail(on.database);
    // Two requests written alike, whether the address has an account or not; one of them led to mail.
    const seen = rows.map((row) => [row.recipient, row.subject, row.status, row.bodyLength > 0]);
    expect(seen.sort((a, b) => String(a).localeCompare(String(b)))).toEqual(
      [
        [email, "[job] password_reset", "sent", false],
        [email, message?.subject, "sent", true],
        [unknown, "[job] password_reset", "sent", false],
      ].sort((a, b) => String(a).localeCompare(String(b))),
    );
    const bytes = rawDatabaseBytes(on.dbFile);
    for (const secret of [token, "reset-password?token", "Choose a new password"]) expect(bytes).not.toContain(secret);
    await on.gatehouse.confirmPasswordReset({ token, password: NEW_PASSWORD });
  });

  it("the sender never keeps a process alive: a process that is done exits, its retry left to the next one", async () => {
    const child = spawnTypeScript("mail-idle-child.ts", { SMTP_URL: `smtp://127.0.0.1:${await closedPort()}` });
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`the process did not exit by itself: ${stderr}`));
      }, 30_000);
      child.once("exit", (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/gatehouse: mail \S+ failed \(attempt 1 of 12\)/);
  });
});

/**
 * What the email-flow tests need beyond the shared helpers: raw reads of the token and mail tables (through
 * a connection of the test's own, never through the store), and reading links, tokens and codes out of the
 * messages the test SMTP server received.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import { expect } from "vitest";
import type { Mailer } from "../../src/mail/mailer.js";
import { createSmtpMailer } from "../../src/mail/smtp.js";
import type { ReceivedMail, TestSmtpServer } from "./smtp.js";
import { querySqliteFile, type RawSqliteTables, rawSqliteTables } from "./temp-sqlite.js";

/** The sender every test mailer uses. */
export const TEST_FROM = "Test <no-reply@example.com>";

/** What a link token looks like: 32 base64url characters, i.e. 192 bits. */
export const LINK_TOKEN = /^[A-Za-z0-9_-]{32}$/;

/** A mailer that delivers to the test SMTP server. */
export function smtpMailerFor(smtp: { url: string }): Mailer {
  return createSmtpMailer({ url: smtp.url, from: TEST_FROM });
}

/** A loopback port that nothing listens on (it was free a moment ago, and is closed again). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A mailer whose target can be switched while the server runs, e.g. to a dead SMTP server and back. */
export interface SwitchableMailer extends Mailer {
  target: Mailer;
}

export function switchableMailer(target: Mailer): SwitchableMailer {
  const mailer: SwitchableMailer = {
    target,
    send: (message) => mailer.target.send(message),
  };
  return mailer;
}

/** The `gatehouse_tokens` rows, sorted, read raw. */
export function rawTokenRows(file: string): Array<Record<string, unknown>> {
  return querySqliteFile(
    file,
    (db) => db.prepare("SELECT * FROM gatehouse_tokens ORDER BY token_hash").all() as Array<Record<string, unknown>>,
  );
}

/** The user's token rows (of one purpose, when given), read raw. */
export function rawTokensOf(file: string, userId: string, purpose?: string): Array<Record<string, unknown>> {
  return rawTokenRows(file).filter(
    (row) => row.user_id === userId && (purpose === undefined || row.purpose === purpose),
  );
}

/**
 * Everything Gatehouse keeps in a SQLite file, the email tables included: compare two to show nothing changed.
 * Of the durable outbox, which messages it holds: their delivery (status, attempts, lease, body erased once
 * sent) moves on by itself after the request that queued them, so it is left out.
 */
export interface RawEmailTables extends RawSqliteTables {
  tokens: Array<Record<string, unknown>>;
  mail: Array<Record<string, unknown>>;
}

export function rawEmailTables(file: string): RawEmailTables {
  return {
    ...rawSqliteTables(file),
    tokens: rawTokenRows(file),
    mail: querySqliteFile(
      file,
      (db) =>
        db.prepare("SELECT id, recipient, subject, created_at FROM gatehouse_mail ORDER BY id").all() as Array<
          Record<string, unknown>
        >,
    ),
  };
}

/** Every row of every table in the file, as one string: a secret that appears in none of them is not stored. */
export function rawAllRowsText(file: string): string {
  return querySqliteFile(file, (db) => {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>;
    return JSON.stringify(tables.map(({ name }) => db.prepare(`SELECT * FROM "${name.replace(/"/g, '""')}"`).all()));
  });
}

/** The bytes of the database file and its write-ahead log, as Latin-1 text (so any ASCII secret can be searched). */
export function rawDatabaseBytes(file: string): string {
  return [file, `${file}-wal`]
    .filter((path) => fs.existsSync(path))
    .map((path) => fs.readFileSync(path).toString("latin1"))
    .join("");
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Waits for the `n`th message (1-based) sent to `address`, and returns it. */
export async function nthMailTo(smtp: TestSmtpServer, address: string, n: number): Promise<ReceivedMail> {
  await smtp.waitFor(() => smtp.to(address).length >= n);
  return smtp.to(address)[n - 1] as ReceivedMail;
}

/**
 * Proves that nothing more reaches `address` once the mail server has seen everything sent before: it mails
 * `sentinel` after the fact (through `sendSentinel`), waits for that message, and then checks the count. The
 * mails of one Gatehouse go out in order, so a message still to come for `address` would arrive first.
 */
export async function expectNoFurtherMail(
  smtp: TestSmtpServer,
  address: string,
  count: number,
  sendSentinel: () => Promise<{ address: string; n: number }>,
): Promise<void> {
  const sentinel = await sendSentinel();
  await nthMailTo(smtp, sentinel.address, sentinel.n);
  // And a moment longer, for anything that raced the sentinel.
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(smtp.to(address).map((mail) => mail.subject)).toHaveLength(count);
}

/** The only link in a message. */
export function onlyLink(mail: ReceivedMail): URL {
  expect(mail.links, mail.subject).toHaveLength(1);
  return new URL(mail.links[0] as string);
}

/**
 * The link of a message, checked to be `<origin><path>?token=<32 base64url chars>` and nothing else, in the
 * text and the HTML alike. Returns the token.
 */
export function tokenFromLink(mail: ReceivedMail, origin: string, path: string): string {
  const url = onlyLink(mail);
  expect(url.origin).toBe(origin);
  expect(url.pathname).toBe(path);
  expect([...url.searchParams.keys()]).toEqual(["token"]);
  expect(url.username + url.password + url.hash).toBe("");
  const token = url.searchParams.get("token") as string;
  expect(token).toMatch(LINK_TOKEN);
  // The HTML part carries the same link (HTML-escaped `&` aside, there is nothing to escape in it).
  expect(mail.html).toContain(`href="${url.href}"`);
  return token;
}

/** The 8-digit code of a verification-code message. */
export function codeFrom(mail: ReceivedMail): string {
  expect(mail.links).toEqual([]);
  const code = /\b(\d{8})\b/.exec(mail.subject)?.[1];
  expect(code, mail.subject).toMatch(/^\d{8}$/);
  expect(mail.text).toContain(code as string);
  return code as string;
}

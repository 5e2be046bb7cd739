/**
 * A Gatehouse app in a process of its own, for the crash tests (run by `startMailChild` in mail-process.ts):
 * the auth routes on a free loopback port, on the database `GATEHOUSE_TEST_DATABASE` names (`file:` for
 * SQLite, `postgres://` for PostgreSQL), mailing through `SMTP_URL`. It prints `ready <port>` once it listens,
 * and closes everything and exits on SIGTERM; the tests also SIGKILL it, which nothing can catch.
 *
 * With `GATEHOUSE_TEST_STALL_CLAIMS=1`, the sender's claims never return: the process answers but never gets
 * to send, as one killed right after its answer.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createGatehouse } from "../../src/core/gatehouse.js";
import { createSmtpMailer } from "../../src/mail/smtp.js";
import { gatehouseApiHandler } from "../../src/next/api.js";
import { createPostgresStore } from "../../src/stores/postgres.js";
import { createSqliteStore } from "../../src/stores/sqlite.js";
import type { Store } from "../../src/stores/types.js";
import { CHEAP_ARGON2, TEST_SECRET } from "./credentials.js";
import { CHILD_APP_URL, CHILD_DELIVERY } from "./mail-process.js";

const database = process.env.GATEHOUSE_TEST_DATABASE ?? "";
const store = database.startsWith("file:")
  ? createSqliteStore({ url: database })
  : createPostgresStore({ url: database });

const stalled: Store =
  process.env.GATEHOUSE_TEST_STALL_CLAIMS === "1"
    ? { ...store, claimMail: () => new Promise<never>(() => undefined) }
    : store;

const gatehouse = createGatehouse({
  store: stalled,
  url: CHILD_APP_URL,
  secret: TEST_SECRET,
  strategy: "database",
  argon2: CHEAP_ARGON2,
  mailer: createSmtpMailer({ url: process.env.SMTP_URL ?? "", from: "Test <no-reply@example.com>", timeoutMs: 60_000 }),
  mailDelivery: CHILD_DELIVERY,
});

const handler = gatehouseApiHandler(gatehouse);
const server = http.createServer((req, res) => {
  handler(req, res).catch((error: unknown) => {
    res.statusCode = 599;
    res.end(String(error));
  });
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`ready ${(server.address() as AddressInfo).port}\n`);
});

process.once("SIGTERM", () => {
  server.closeAllConnections();
  server.close();
  void gatehouse
    .close()
    .then(() => store.close())
    .then(() => process.exit(0));
});

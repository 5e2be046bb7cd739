/**
 * Mail that survives a crash: a Gatehouse app in a process of its own answers a password-reset request and is
 * killed with SIGKILL (nothing it could catch), before it could send the mail; a new process on the same
 * database sends it. Real processes, a real SQLite file and a real PostgreSQL database, a real SMTP server,
 * and the link the mail carries works.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGatehouse, type Gatehouse } from "../src/core/gatehouse.js";
import { createPostgresStore } from "../src/stores/postgres.js";
import { createSqliteStore } from "../src/stores/sqlite.js";
import type { Store } from "../src/stores/types.js";
import { CHEAP_ARGON2, PASSWORD, TEST_SECRET } from "./support/credentials.js";
import { uniqueEmails } from "./support/http-server.js";
import {
  CHILD_APP_URL,
  CHILD_DELIVERY,
  childRequest,
  type MailChild,
  rawMail,
  startMailChild,
  startSilentSmtpServer,
} from "./support/mail-process.js";
import { nthMailTo, tokenFromLink } from "./support/raw-email.js";
import { createPostgresDatabase, requireService } from "./support/services.js";
import { startSmtpServer } from "./support/smtp.js";
import { createSqliteDatabase } from "./support/temp-sqlite.js";

const smtp = await startSmtpServer();
afterAll(() => smtp.close());
const postgres = await requireService("postgres");

const NEW_PASSWORD = "a brand new passphrase";

/** Long enough for a dead process's lease to run out and a few polls after it: a duplicate would show by then. */
const SETTLE_MS = (CHILD_DELIVERY.leaseMs ?? 0) + 5 * (CHILD_DELIVERY.pollMs ?? 0);

interface Backend {
  name: string;
  /** What the children take as GATEHOUSE_TEST_DATABASE. */
  database: string;
  open(): Store;
  drop(): Promise<void>;
}

const backends: Array<{ name: string; enabled: boolean; setup: () => Promise<Backend> }> = [
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(backends.filter((b) => b.enabled))(
  "a process killed right after it answers ($name)",
  ({ name, setup }) => {
    let backend: Backend;
    let store: Store;
    /** The test's own Gatehouse on the database, without a mailer: it makes the accounts, and sends nothing. */
    let own: Gatehouse;
    const children: MailChild[] = [];
    const uniqueEmail = uniqueEmails("crash", name.replace(/\W/g, "").toLowerCase());

    beforeAll(async () => {
      backend = await setup();
      store = backend.open();
      await store.migrate();
      own = createGatehouse({ store, url: CHILD_APP_URL, secret: TEST_SECRET, argon2: CHEAP_ARGON2 });
    });
    afterAll(async () => {
      for (const child of children) if (child.process.exitCode === null) await child.kill();
      await own?.close();
      await store?.close();
      await backend?.drop();
    });

    async function child(options: { smtpUrl?: string; stallClaims?: boolean } = {}): Promise<MailChild> {
      const started = await startMailChild({
        database: backend.database,
        smtpUrl: options.smtpUrl ?? smtp.url,
        ...(options.stallClaims && { stallClaims: true }),
      });
      children.push(started);
      return started;
    }

    /** A new process on the same database sends the reset mail, once; its link resets the password there. */
    async function expectMailedOnceByAnotherProcess(email: string): Promise<void> {
      const next = await child();
      const token = tokenFromLink(await nthMailTo(smtp, email, 1), CHILD_APP_URL, "/reset-password");
      expect((await childRequest(next, "password-reset/confirm", { token, password: NEW_PASSWORD })).status).toBe(200);
      expect((await childRequest(next, "login", { email, password: NEW_PASSWORD })).status).toBe(200);
      expect((await nthMailTo(smtp, email, 2)).subject).toMatch(/password was changed/i);
      await sleep(SETTLE_MS);
      expect(smtp.to(email).map((mail) => mail.subject)).toEqual([
        expect.stringMatching(/^Reset your/),
        expect.stringMatching(/password was changed/),
      ]);
      const rows = await rawMail(backend.database);
      expect(rows.filter((row) => row.status !== "sent")).toEqual([]);
      // Delivered, the bodies (the link's token among them) are erased.
      expect(rows.map((row) => row.bodyLength)).toEqual(rows.map(() => 0));
      await next.stop();
    }

    it("killed before its sender claimed anything: the request was written before the answer, and the next process mails it", async () => {
      const email = uniqueEmail();
      await own.users.create({ email, password: PASSWORD });
      const first = await child({ stallClaims: true });

      const answer = await childRequest(first, "password-reset/request", { email });
      expect(answer.status).toBe(202);
      await first.kill();

      expect(smtp.to(email)).toEqual([]);
      // All there is of it: the request, sealed (the address is in no other column), waiting.
      expect((await rawMail(backend.database)).filter((row) => row.status !== "sent")).toEqual([
        expect.objectContaining({ recipient: email, subject: "[job] password_reset", status: "pending", attempts: 0 }),
      ]);
      await expectMailedOnceByAnotherProcess(email);
    });

    it("killed while its mail server kept it waiting: the message it held is sent by the next process once the lease ends", async () => {
      const email = uniqueEmail();
      await own.users.create({ email, password: PASSWORD });
      const silent = await startSilentSmtpServer();
      const first = await child({ smtpUrl: silent.url });

      const answer = await childRequest(first, "password-reset/request", { email });
      expect(answer.status).toBe(202);
      await silent.connected;
      await first.kill();
      await silent.close();

      const waiting = (await rawMail(backend.database)).filter((row) => row.status !== "sent");
      expect(waiting).toEqual([
        expect.objectContaining({ recipient: email, subject: expect.stringMatching(/^Reset your/), attempts: 1 }),
      ]);
      expect(waiting[0]?.leased).toBe(true);
      await expectMailedOnceByAnotherProcess(email);
    });
  },
);

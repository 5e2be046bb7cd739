/**
 * Several senders on one PostgreSQL database, as several app processes run them: each with its own store
 * (its own connection pool), all polling the same outbox while mail piles up. Every message goes to one of
 * them: each arrives once at the real SMTP server, and each row was claimed once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGatehouse, type Gatehouse } from "../src/core/gatehouse.js";
import type { Mailer } from "../src/mail/mailer.js";
import { createPostgresStore } from "../src/stores/postgres.js";
import type { Store } from "../src/stores/types.js";
import { CHEAP_ARGON2, PASSWORD, TEST_SECRET } from "./support/credentials.js";
import { uniqueEmails } from "./support/http-server.js";
import { rawMail } from "./support/mail-process.js";
import { nthMailTo, smtpMailerFor } from "./support/raw-email.js";
import { createPostgresDatabase, requireService } from "./support/services.js";
import { startSmtpServer } from "./support/smtp.js";

const postgres = await requireService("postgres");
const APP_URL = "https://app.example";
const SENDERS = 4;
const RESETS = 30;

describe.skipIf(!postgres)("several senders on one PostgreSQL database", () => {
  let database: { url: string; drop(): Promise<void> };
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  const stores: Store[] = [];
  const gatehouses: Gatehouse[] = [];

  beforeAll(async () => {
    smtp = await startSmtpServer();
    database = await createPostgresDatabase();
  });
  afterAll(async () => {
    for (const gatehouse of gatehouses) await gatehouse.close();
    for (const store of stores) await store.close();
    await database?.drop();
    await smtp?.close();
  });

  function gatehouseOn(mailer: Mailer): Gatehouse {
    const store = createPostgresStore({ url: database.url });
    stores.push(store);
    const gatehouse = createGatehouse({
      store,
      url: APP_URL,
      secret: TEST_SECRET,
      argon2: CHEAP_ARGON2,
      mailer,
      rateLimits: { passwordResetPerIp: false },
      mailDelivery: { pollMs: 10 },
    });
    gatehouses.push(gatehouse);
    return gatehouse;
  }

  it("deliver each message once, between them", async () => {
    // Writes only: its own sender is stopped, so the others find the mail by polling, all at once.
    const writer = gatehouseOn(smtpMailerFor(smtp));
    await writer.close();
    await stores[0]?.migrate();
    const delivered = Array.from({ length: SENDERS }, () => 0);
    for (let i = 0; i < SENDERS; i++) {
      const smtpMailer = smtpMailerFor(smtp);
      gatehouseOn({
        async send(message) {
          await smtpMailer.send(message);
          delivered[i] = (delivered[i] ?? 0) + 1;
        },
      });
    }

    const uniqueEmail = uniqueEmails("sender", "postgres");
    const emails = Array.from({ length: RESETS }, () => uniqueEmail());
    for (const email of emails) await writer.users.create({ email, password: PASSWORD });
    await Promise.all(emails.map((email) => writer.requestPasswordReset({ email })));

    for (const email of emails) await nthMailTo(smtp, email, 1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const email of emails) expect(smtp.to(email), email).toHaveLength(1);
    expect(smtp.received).toHaveLength(RESETS);
    expect(delivered.reduce((a, b) => a + b)).toBe(RESETS);
    expect(delivered.filter((count) => count > 0).length, `deliveries by sender: ${delivered}`).toBeGreaterThan(1);
    // Jobs and mail alike: claimed once each, by one sender.
    const rows = await rawMail(database.url);
    expect(rows).toHaveLength(2 * RESETS);
    for (const row of rows) expect(row, row.subject).toMatchObject({ status: "sent", attempts: 1, bodyLength: 0 });
  });
});

/**
 * A process that uses Gatehouse with a mailer and is then done, without closing anything: its mail server
 * refuses connections, so a retry is scheduled when it finishes. mail-outbox.test.ts checks that it exits by
 * itself (the sender's timers are unref'd). `SMTP_URL` names the mail server.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createGatehouse } from "../../src/core/gatehouse.js";
import { createSmtpMailer } from "../../src/mail/smtp.js";
import { createSqliteStore } from "../../src/stores/sqlite.js";
import { CHEAP_ARGON2, PASSWORD, TEST_SECRET } from "./credentials.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-idle-"));
const store = createSqliteStore({ url: `file:${path.join(dir, "gatehouse.db")}` });
const gatehouse = createGatehouse({
  store,
  url: "https://app.example",
  secret: TEST_SECRET,
  argon2: CHEAP_ARGON2,
  mailer: createSmtpMailer({ url: process.env.SMTP_URL ?? "", from: "Test <no-reply@example.com>" }),
});
await gatehouse.users.create({ email: "idle@example.com", password: PASSWORD });
await gatehouse.requestPasswordReset({ email: "idle@example.com" });
// Done once the first attempt failed and its retry is scheduled (a minute or so away, by default).
for (;;) {
  const { messages } = await gatehouse.listMail({ status: "pending" });
  if (messages.some((message) => message.lastError !== null)) break;
  await new Promise((resolve) => setTimeout(resolve, 20));
}
fs.rmSync(dir, { recursive: true, force: true });

import { randomToken } from "../crypto/random.js";
import type { OutboxStore } from "../stores/types.js";
import type { Mailer } from "./mailer.js";

/**
 * A development mailer: messages are kept in the store's outbox (see `store.listOutboxMessages`) instead
 * of being sent. Never use it in production: whoever can read the outbox can reset any password.
 *
 * @example
 * ```ts
 * const mailer = process.env.SMTP_URL ? createSmtpMailer({ url: process.env.SMTP_URL, from }) : createOutboxMailer(store);
 * ```
 */
export function createOutboxMailer(store: OutboxStore, options: { now?: () => number } = {}): Mailer {
  const now = options.now ?? Date.now;
  return {
    async send(message) {
      await store.addOutboxMessage({ ...message, id: randomToken(12), createdAt: new Date(now()) });
    },
  };
}

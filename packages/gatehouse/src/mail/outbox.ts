import type { MailStore } from "../stores/types.js";
import type { Mailer } from "./mailer.js";

/**
 * A development mailer: messages are kept, readable, in the store's durable outbox (the table every email goes
 * through) instead of being sent; `gatehouse.outboxMessages(limit)` lists them for a dev outbox page. Give it
 * the store `createGatehouse` uses. Never use it in production: whoever can read the outbox can reset any
 * password.
 *
 * @example
 * ```ts
 * const mailer = process.env.SMTP_URL ? createSmtpMailer({ url: process.env.SMTP_URL, from }) : createOutboxMailer(store);
 * const gatehouse = createGatehouse({ store, mailer, url, secret });
 * ```
 */
export function createOutboxMailer(store: MailStore): Mailer {
  return {
    outbox: store,
    // Delivered by being kept: the sender marks the message sent and leaves its body in place.
    async send() {},
  };
}

import type { MailStore } from "../stores/types.js";

/** One email: plain text plus a simple HTML alternative. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * Delivers Gatehouse's emails. Gatehouse never calls it while answering a request: messages are written to
 * the durable outbox in the store, and a sender hands them to `send`, trying again later (with backoff) when
 * it rejects. `send` resolves once the message is handed over (to the SMTP server, …) and rejects when it
 * could not be.
 */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
  /**
   * Set by `createOutboxMailer`: messages are not sent anywhere but kept, readable, in this store's outbox,
   * for a development outbox page (`gatehouse.outboxMessages`).
   */
  readonly outbox?: MailStore;
}

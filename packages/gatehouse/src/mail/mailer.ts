/** One email: plain text plus a simple HTML alternative. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * Delivers Gatehouse's emails. `send` resolves once the message is handed over (to the SMTP server, the
 * outbox, …) and rejects when it could not be.
 */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

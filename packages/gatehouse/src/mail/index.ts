/**
 * Mail delivery for Gatehouse's email flows: an SMTP mailer for production and an outbox for development.
 *
 * @packageDocumentation
 */
export type { Mailer, MailMessage } from "./mailer.js";
export { createOutboxMailer } from "./outbox.js";
export { createSmtpMailer, type SmtpMailerOptions } from "./smtp.js";

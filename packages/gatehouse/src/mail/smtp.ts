import type { Transporter } from "nodemailer";
import { ConfigurationError } from "../errors.js";
import type { Mailer } from "./mailer.js";

/** Options for {@link createSmtpMailer}. */
export interface SmtpMailerOptions {
  /**
   * `smtp://user:pass@host:587` (STARTTLS when the server offers it) or `smtps://…:465` (TLS from the start),
   * as in `SMTP_URL`. Query parameters are nodemailer's options, e.g. `?requireTLS=true`.
   */
  url: string;
  /** The sender, e.g. `"Acme" <no-reply@acme.example>`. */
  from: string;
  /** Give up on a connection or a reply after this long, in ms. Default 10000. */
  timeoutMs?: number;
}

/**
 * Sends mail over SMTP with nodemailer, one connection per message (nothing stays open between emails).
 * nodemailer is an optional peer dependency (`npm install nodemailer`), loaded on the first message: an app
 * without mail, and the proxy, never load it.
 *
 * @example
 * ```ts
 * import { createSmtpMailer } from "gatehouse-auth/mail";
 * const mailer = createSmtpMailer({ url: process.env.SMTP_URL!, from: "Acme <no-reply@acme.example>" });
 * ```
 */
export function createSmtpMailer(options: SmtpMailerOptions): Mailer {
  if (!/^smtps?:\/\//.test(options.url) || !URL.canParse(options.url)) {
    throw new ConfigurationError("SMTP_URL must look like smtp://user:password@host:587 or smtps://host:465.");
  }
  if (!options.from) throw new ConfigurationError("createSmtpMailer needs a from address.");
  const timeout = options.timeoutMs ?? 10_000;
  let transport: Promise<Transporter> | undefined;
  const load = async (): Promise<Transporter> => {
    let nodemailer: typeof import("nodemailer");
    try {
      nodemailer = await import("nodemailer");
    } catch (error) {
      throw new ConfigurationError(
        `createSmtpMailer needs nodemailer: run npm install nodemailer (${error instanceof Error ? error.message : error}).`,
      );
    }
    const { createTransport } = nodemailer.default ?? nodemailer;
    return createTransport(
      { url: options.url, connectionTimeout: timeout, greetingTimeout: timeout, socketTimeout: timeout },
      { from: options.from },
    );
  };
  return {
    async send(message) {
      transport ??= load().catch((error: unknown) => {
        transport = undefined;
        throw error;
      });
      await (await transport).sendMail({
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
      });
    },
  };
}

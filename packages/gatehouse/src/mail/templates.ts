import type { MailMessage } from "./mailer.js";

/** What every template needs: the app's name, shown in subjects and greetings. */
export interface TemplateContext {
  appName: string;
}

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);
}

/** Paragraphs of plain text, and the same as simple HTML with an optional button-like link. */
function compose(
  to: string,
  subject: string,
  paragraphs: string[],
  action?: { label: string; url: string },
): MailMessage {
  const text = [
    ...paragraphs.slice(0, 1),
    ...(action ? [`${action.label}: ${action.url}`] : []),
    ...paragraphs.slice(1),
  ].join("\n\n");
  const body = paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`);
  if (action) {
    body.splice(
      1,
      0,
      `<p><a href="${escapeHtml(action.url)}" style="display:inline-block;padding:10px 16px;background:#1d4ed8;color:#ffffff;border-radius:6px;text-decoration:none">${escapeHtml(action.label)}</a></p>`,
      `<p style="font-size:13px;color:#555555">Or paste this address into your browser: ${escapeHtml(action.url)}</p>`,
    );
  }
  const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;line-height:1.5;color:#111111">${body.join("")}</body></html>`;
  return { to, subject, text: `${text}\n`, html };
}

function hours(seconds: number): string {
  if (seconds % 3600 === 0) return seconds === 3600 ? "1 hour" : `${seconds / 3600} hours`;
  return `${Math.round(seconds / 60)} minutes`;
}

/** The emails Gatehouse sends. Links arrive fully built from the configured origin. */
export const templates = {
  verifyEmailLink: (c: TemplateContext, to: string, url: string, lifetimeSeconds: number) =>
    compose(
      to,
      `Verify your email for ${c.appName}`,
      [
        `Confirm that ${to} is your email address for ${c.appName}.`,
        `The link works once, for ${hours(lifetimeSeconds)}. If you did not sign up, ignore this email.`,
      ],
      { label: "Verify my email", url },
    ),

  verifyEmailCode: (c: TemplateContext, to: string, code: string, lifetimeSeconds: number) =>
    compose(to, `${code} is your ${c.appName} verification code`, [
      `Your verification code for ${c.appName} is ${code}.`,
      `Enter it on the verification page. It works once, for ${hours(lifetimeSeconds)}. If you did not sign up, ignore this email.`,
    ]),

  resetPassword: (c: TemplateContext, to: string, url: string, lifetimeSeconds: number) =>
    compose(
      to,
      `Reset your ${c.appName} password`,
      [
        `Someone asked to reset the password of the ${c.appName} account for ${to}.`,
        `The link works once, for ${hours(lifetimeSeconds)}. If it was not you, ignore this email: your password stays as it is.`,
      ],
      { label: "Choose a new password", url },
    ),

  passwordChanged: (c: TemplateContext, to: string) =>
    compose(to, `Your ${c.appName} password was changed`, [
      `The password of your ${c.appName} account was just reset, and every session was signed out.`,
      "If this was not you, reset your password again now and check your email account's security.",
    ]),

  confirmEmailChange: (c: TemplateContext, to: string, url: string, lifetimeSeconds: number) =>
    compose(
      to,
      `Confirm your new email for ${c.appName}`,
      [
        `Confirm that ${to} should become the email address of your ${c.appName} account.`,
        `The link works once, for ${hours(lifetimeSeconds)}. Until then your account keeps its current address. If you did not ask for this, ignore this email.`,
      ],
      { label: "Confirm my new email", url },
    ),

  emailChangeRequested: (c: TemplateContext, to: string, newEmail: string) =>
    compose(to, `Your ${c.appName} email address is about to change`, [
      `Someone signed in to your ${c.appName} account asked to change its email address from ${to} to ${newEmail}. It changes once the link sent to the new address is opened.`,
      "If this was not you, reset your password now: that cancels the change and signs everyone out.",
    ]),

  emailChanged: (c: TemplateContext, to: string, newEmail: string) =>
    compose(to, `Your ${c.appName} email address was changed`, [
      `The email address of your ${c.appName} account was changed from ${to} to ${newEmail}.`,
      "If this was not you, contact support right away.",
    ]),

  emailInUse: (c: TemplateContext, to: string) =>
    compose(to, `About your ${c.appName} account`, [
      `Someone asked to move another ${c.appName} account to ${to}, but this address already has an account.`,
      "Nothing was changed. If this was you, sign in with this address instead.",
    ]),

  securityNotice: (c: TemplateContext, to: string, change: string) =>
    compose(to, `Security change on your ${c.appName} account`, [
      `${change} on your ${c.appName} account (${to}).`,
      "If this was you, there is nothing to do. If it was not, reset your password now and check your sign-in methods.",
    ]),
};

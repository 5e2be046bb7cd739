/**
 * The email flows in the built example app, with a real SMTP server (SMTP_URL) and a real Chromium: the
 * forgot-password flow end to end, a verification link that survives a mail scanner's GETs, and the dev
 * outbox, which exists only in development on a loopback origin.
 */
import { mkdirSync } from "node:fs";
import { get as httpGet } from "node:http";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSmtpServer, type TestSmtpServer } from "../../../packages/gatehouse/test/support/smtp";
import { appDir, type RunningApp, startApp } from "./support/app";
import { launchChromium } from "./support/browser";
import { createClient, PASSWORD, uniqueEmail } from "./support/http";
import { signUp } from "./support/pages";

const shots = join(appDir, "..", "..", "test-results", "screenshots");
const NEW_PASSWORD = "a fresh and long passphrase";

describe("email flows in the example app, over SMTP, in Chromium", () => {
  let smtp: TestSmtpServer;
  let app: RunningApp;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    smtp = await startSmtpServer();
    [app, browser] = await Promise.all([
      startApp({ env: { SMTP_URL: smtp.url, MAIL_FROM: "Example <no-reply@example.com>" } }),
      launchChromium(),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await smtp?.close();
  });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    return context.newPage();
  }

  const linkIn = async (to: string, subject: RegExp) => {
    const mail = await smtp.waitFor((m) => m.to === to && subject.test(m.subject));
    const link = mail.links.find((l) => l.startsWith(app.url));
    expect(link, mail.text).toBeDefined();
    return new URL(link as string);
  };

  it("forgot password: request, email, reset page (no-referrer), new password, every old session ended, log in", async () => {
    const email = uniqueEmail("forgot");
    const other = createClient(app.url);
    expect((await other.request("/api/auth/signup", { json: { email, password: PASSWORD } })).status).toBe(201);

    const page = await newPage();
    await page.goto(`${app.url}/login`);
    await page.getByRole("link", { name: "Forgot your password?" }).click();
    await page.waitForURL((url) => url.pathname === "/forgot-password");
    await page.getByLabel("Email").fill(email);
    await page.getByRole("button", { name: "Send reset link" }).click();
    await page.getByText("Check your inbox").waitFor();
    // Mail really goes out over SMTP here: no hint points at a dev outbox that does not exist.
    await expect(page.getByRole("link", { name: "dev outbox" }).count()).resolves.toBe(0);
    await page.screenshot({ path: join(shots, "forgot-password-sent.png"), fullPage: true });

    const link = await linkIn(email, /reset/i);
    expect(link.pathname).toBe("/reset-password");
    const response = await page.goto(link.href);
    expect(response?.status()).toBe(200);
    expect(response?.headers()["referrer-policy"]).toBe("no-referrer");

    // A password the policy refuses is explained next to the field, and does not use the link up.
    await page.getByLabel("New password").fill("password");
    await page.getByRole("button", { name: "Set new password" }).click();
    await page.getByText("Check the highlighted fields.").waitFor();
    expect(await page.getByLabel("New password").getAttribute("aria-invalid")).toBe("true");

    await page.getByLabel("New password").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Set new password" }).click();
    await page.getByText("Your password has been changed").waitFor();
    await page.screenshot({ path: join(shots, "reset-password-done.png"), fullPage: true });
    await smtp.waitFor((m) => m.to === email && /password was changed/i.test(m.subject));

    // The session that existed before the reset is over, and the old password no longer works.
    expect((await other.request("/api/me")).status).toBe(401);
    const oldLogin = await createClient(app.url).request("/api/auth/login", { json: { email, password: PASSWORD } });
    expect(oldLogin.status).toBe(401);

    await page.getByRole("link", { name: "Log in" }).first().click();
    await page.waitForURL((url) => url.pathname === "/login");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL((url) => url.pathname === "/dashboard");

    // The link was used once: opening it again shows why it cannot be used, with a way to get a new one.
    await page.goto(link.href);
    await page.getByLabel("New password").fill("yet another long passphrase");
    await page.getByRole("button", { name: "Set new password" }).click();
    await page.getByText("This link cannot be used").waitFor();
    await expect(page.getByRole("link", { name: "Ask for a new link" }).isVisible()).resolves.toBe(true);
    await page.context().close();
  });

  it("verification: GETs of the link (a mail scanner) change nothing; the confirm button verifies and the banner goes", async () => {
    const page = await newPage();
    const email = uniqueEmail("verify");
    await signUp(page, app.url, email);
    await expect(page.getByRole("heading", { name: "Verify your email address" }).isVisible()).resolves.toBe(true);

    const link = await linkIn(email, /verify/i);
    expect(link.origin).toBe(app.url);
    expect(link.pathname).toBe("/verify-email");
    for (let i = 0; i < 3; i++) expect((await fetch(link)).status).toBe(200);

    await page.goto(link.href);
    await page.getByRole("button", { name: "Verify my email" }).click();
    await page.getByText(`${email} is verified`).waitFor();
    await page.screenshot({ path: join(shots, "email-verified.png"), fullPage: true });
    await page.goto(`${app.url}/dashboard`);
    await expect(page.getByRole("heading", { name: "Verify your email address" }).count()).resolves.toBe(0);
    await page.goto(`${app.url}/settings`);
    await expect(page.getByText("Verified", { exact: true }).isVisible()).resolves.toBe(true);
    await page.context().close();
  });

  it("email change from the settings page: pending until the new address confirms, then the old one is told", async () => {
    const page = await newPage();
    const email = uniqueEmail("move");
    const next = uniqueEmail("moved");
    await signUp(page, app.url, email);

    await page.goto(`${app.url}/settings`);
    await page.getByLabel("New email").fill(next);
    await page.getByLabel("Confirm with your password").fill(PASSWORD);
    const sent = page.waitForRequest((request) => new URL(request.url()).pathname === "/api/auth/email-change");
    await page.getByRole("button", { name: "Send confirmation link" }).click();
    // The password goes with every change, even right after logging in: a recent log-in alone is not enough.
    expect((await sent).postDataJSON()).toEqual({ email: next, password: PASSWORD });
    await page.getByText(`Confirm ${next} to finish`).waitFor();
    await page.screenshot({ path: join(shots, "email-change-pending.png"), fullPage: true });
    const before = await (await page.request.get(`${app.url}/api/me`)).json();
    expect(before.user.email).toBe(email);

    const link = await linkIn(next, /new email/i);
    await page.goto(link.href);
    await page.getByRole("button", { name: "Verify my email" }).click();
    await page.getByText(`${next} is verified`).waitFor();
    const after = await (await page.request.get(`${app.url}/api/me`)).json();
    expect(after.user).toMatchObject({ email: next, emailVerified: true });
    await smtp.waitFor((m) => m.to === email && /was changed/i.test(m.subject));
    await page.context().close();
  });
});

/** The status of a GET of `path` sent to `baseUrl` with the given Host header, which fetch does not let us set. */
function statusWithHost(baseUrl: string, path: string, host: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const request = httpGet(new URL(path, baseUrl), { headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.on("error", reject);
  });
}

describe("the dev outbox", () => {
  it("exists in development on a loopback origin without SMTP_URL, and shows the emails to this machine under the app's own host", async () => {
    const app = await startApp({ env: { GATEHOUSE_DEV_OUTBOX: "1" } });
    try {
      const email = uniqueEmail("outbox");
      const client = createClient(app.url);
      expect((await client.request("/api/auth/signup", { json: { email, password: PASSWORD } })).status).toBe(201);
      expect((await client.request("/api/auth/password-reset/request", { json: { email } })).status).toBe(202);
      let page = "";
      for (let i = 0; i < 50 && !page.includes("Reset your"); i++) {
        const response = await fetch(`${app.url}/dev/outbox`);
        expect(response.status).toBe(200);
        page = await response.text();
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(page).toContain("Verify your email");
      expect(page).toContain("Reset your");
      expect(page).toContain(`${app.url}/reset-password?token=`);
      // Relayed by a proxy, the request is not from this machine's user: the page does not exist for it.
      for (const header of ["x-forwarded-for", "forwarded", "x-real-ip"]) {
        expect(
          (
            await fetch(`${app.url}/dev/outbox`, {
              headers: { [header]: header === "forwarded" ? "for=203.0.113.9" : "203.0.113.9" },
            })
          ).status,
        ).toBe(404);
      }
      // Under another name that resolves to this machine (DNS rebinding), another site would read it as its own.
      const { host, port } = new URL(app.url);
      expect(await statusWithHost(app.url, "/dev/outbox", host)).toBe(200);
      for (const forged of [`rebound.example:${port}`, `localhost:${port}`, "127.0.0.1"]) {
        expect(await statusWithHost(app.url, "/dev/outbox", forged), forged).toBe(404);
      }
    } finally {
      await app.stop();
    }
  });

  it("does not exist in production, nor on a public origin; mail then answers 503 mail_unavailable", async () => {
    const production = await startApp();
    const publicOrigin = await startApp({
      env: { GATEHOUSE_DEV_OUTBOX: "1", GATEHOUSE_URL: "https://app.example.com" },
    });
    try {
      expect((await fetch(`${production.url}/dev/outbox`)).status).toBe(404);
      expect((await fetch(`${publicOrigin.url}/dev/outbox`)).status).toBe(404);
      const response = await createClient(production.url).request("/api/auth/password-reset/request", {
        json: { email: uniqueEmail("nomail") },
      });
      expect(response.status).toBe(503);
      expect((await response.json()).error.code).toBe("mail_unavailable");
    } finally {
      await Promise.all([production.stop(), publicOrigin.stop()]);
    }
  });
});

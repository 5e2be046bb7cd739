import type { Page } from "playwright-core";
import { PASSWORD, uniqueEmail } from "./http";

/** The two widths the browser tests and the README's screenshots use: a laptop and a phone. */
export const DESKTOP = { width: 1280, height: 800 };
export const MOBILE = { width: 390, height: 844 };
export type Viewport = typeof DESKTOP;

/** Signs up through the form (with a display name when given) and waits for the first dashboard. */
export async function signUp(
  page: Page,
  appUrl: string,
  email: string,
  options: { name?: string; password?: string } = {},
): Promise<void> {
  await page.goto(`${appUrl}/signup`);
  if (options.name !== undefined) await page.getByLabel("Name").fill(options.name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(options.password ?? PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL((url) => url.pathname === "/dashboard");
}

/** Logs in through the form and waits for the dashboard. */
export async function logIn(page: Page, appUrl: string, email: string, password = PASSWORD): Promise<void> {
  await page.goto(`${appUrl}/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL((url) => url.pathname === "/dashboard");
}

/** Asks for a password-reset email through the form and waits for "Check your inbox". */
export async function requestReset(page: Page, appUrl: string, email: string): Promise<void> {
  await page.goto(`${appUrl}/forgot-password`);
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Send reset link" }).click();
  await page.getByText("Check your inbox").waitFor();
}

/**
 * Signed in: to Settings and then Profile by the header's links (client-side navigations, whose chunks and
 * data script fetches), with an email change on Settings that is refused in place, which only a running
 * script can answer there (a plain form post would leave the page).
 */
export async function visitSettingsAndProfile(page: Page): Promise<void> {
  const nav = page.getByRole("navigation", { name: "Main" });
  await nav.getByRole("link", { name: "Settings" }).click();
  await page.getByRole("heading", { level: 1, name: "Settings" }).waitFor();
  await page.getByLabel("New email").fill(uniqueEmail("csp-new"));
  await page.getByLabel("Confirm with your password").fill("not the password");
  await page.getByRole("button", { name: "Send confirmation link" }).click();
  await page.getByText("Your email was not changed").waitFor();
  await nav.getByRole("link", { name: "Profile" }).click();
  await page.getByRole("heading", { level: 1, name: "Profile" }).waitFor();
}

/**
 * The newest link to `path` in an email to `to`, as the dev outbox lists it. Mail is sent in the background,
 * so the outbox is read again until it arrives (for up to 5 s).
 */
export async function outboxLink(appUrl: string, to: string, path: string): Promise<string> {
  const link = new RegExp(`href="(${appUrl}${path}\\?token=[^"]+)"`);
  for (let i = 0; i < 50; i++) {
    const html = await (await fetch(`${appUrl}/dev/outbox`)).text();
    // Newest first: the first message to `to` with such a link.
    const match = html
      .split("<li")
      .filter((message) => message.includes(to))
      .map((message) => message.match(link))
      .find(Boolean);
    if (match) return match[1]!.replaceAll("&amp;", "&");
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`No email to ${to} with a link to ${path} arrived in the dev outbox.`);
}

/** How many CSS pixels the page scrolls sideways: 0 when it fits its viewport. */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

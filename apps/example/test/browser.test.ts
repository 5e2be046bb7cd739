import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appDir, type RunningApp, startApp } from "./support/app";
import { launchChromium, newCspWatchedPage } from "./support/browser";
import { PASSWORD, uniqueEmail } from "./support/http";
import { signUp, visitSettingsAndProfile } from "./support/pages";

const shots = join(appDir, "..", "..", "test-results", "screenshots");

describe.each(["database", "stateless"] as const)("the example app in Chromium (%s sessions)", (strategy) => {
  let app: RunningApp;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    [app, browser] = await Promise.all([startApp({ strategy }), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    return context.newPage();
  }

  it("signs up, lands on the dashboard, logs out, and logs back in", async () => {
    const page = await newPage();
    const email = uniqueEmail("browser");
    await signUp(page, app.url, email);
    await expect(page.getByRole("heading", { level: 1, name: "Dashboard" }).isVisible()).resolves.toBe(true);
    await expect(page.getByText(email).first().isVisible()).resolves.toBe(true);
    await page.screenshot({ path: join(shots, `${strategy}-dashboard.png`), fullPage: true });

    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL((url) => url.pathname === "/login");
    await page.goto(`${app.url}/dashboard`);
    await page.waitForURL((url) => url.pathname === "/login");

    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL((url) => url.pathname === "/dashboard");
    await page.context().close();
  });

  it("shows an error for a wrong password and stays on the login page", async () => {
    const page = await newPage();
    const email = uniqueEmail("wrong");
    await signUp(page, app.url, email);
    await page.context().clearCookies();
    await page.goto(`${app.url}/login`);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Log in" }).click();
    const alert = page.getByRole("main").getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toContain("The email or password is incorrect.");
    expect(new URL(page.url()).pathname).toBe("/login");
    await page.screenshot({ path: join(shots, `${strategy}-login-error.png`), fullPage: true });
    await page.context().close();
  });

  it("sends a signed-out visitor to the login page and back to where they were going", async () => {
    const page = await newPage();
    const email = uniqueEmail("next");
    await signUp(page, app.url, email);
    await page.context().clearCookies();
    await page.goto(`${app.url}/profile`);
    await page.waitForURL((url) => url.pathname === "/login");
    expect(new URL(page.url()).searchParams.get("next")).toBe("/profile");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL((url) => url.pathname === "/profile");
    await expect(page.getByRole("heading", { level: 1, name: "Profile" }).isVisible()).resolves.toBe(true);
    await page.context().close();
  });

  it("shows a user a 403 on the admin page, and an admin the user list", async () => {
    const page = await newPage();
    await signUp(page, app.url, uniqueEmail("plain"));
    const response = await page.goto(`${app.url}/admin`);
    expect(response?.status()).toBe(403);
    await expect(page.getByRole("heading", { level: 1, name: "Admins only" }).isVisible()).resolves.toBe(true);
    await page.screenshot({ path: join(shots, `${strategy}-admin-403.png`), fullPage: true });
    await page.context().close();

    const adminEmail = uniqueEmail("admin");
    expect(app.cli(["users", "create", "--email", adminEmail, "--password", PASSWORD, "--role", "admin"]).status).toBe(
      0,
    );
    const adminPage = await newPage();
    await adminPage.goto(`${app.url}/login`);
    await adminPage.getByLabel("Email").fill(adminEmail);
    await adminPage.getByLabel("Password").fill(PASSWORD);
    await adminPage.getByRole("button", { name: "Log in" }).click();
    await adminPage.waitForURL((url) => url.pathname === "/dashboard");
    const adminResponse = await adminPage.goto(`${app.url}/admin`);
    expect(adminResponse?.status()).toBe(200);
    await expect(adminPage.getByRole("heading", { level: 1, name: "Users" }).isVisible()).resolves.toBe(true);
    // The list comes from the admin API once the page is there.
    await adminPage.getByRole("cell", { name: adminEmail }).waitFor();
    await adminPage.screenshot({ path: join(shots, `${strategy}-admin-users.png`), fullPage: true });
    await adminPage.context().close();
  });

  it("changes the password and then deletes the account from the settings page", async () => {
    const page = await newPage();
    const email = uniqueEmail("settings");
    await signUp(page, app.url, email);
    await page.goto(`${app.url}/settings`);
    const newPassword = "a different long passphrase";
    await page.getByLabel("Current password").fill("not the password");
    await page.getByLabel("New password").fill(newPassword);
    await page.getByRole("button", { name: "Change password" }).click();
    await expect(page.getByText("The password is incorrect.").first().waitFor()).resolves.toBeUndefined();
    await page.getByLabel("Current password").fill(PASSWORD);
    await page.getByLabel("New password").fill(newPassword);
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByText("Your password has been changed").waitFor();
    await page.screenshot({ path: join(shots, `${strategy}-password-changed.png`), fullPage: true });

    await page.getByLabel("Your password", { exact: true }).fill(newPassword);
    await page.getByRole("button", { name: "Delete account" }).click();
    await page.waitForURL(`${app.url}/`);
    const login = await fetch(`${app.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: app.url },
      body: JSON.stringify({ email, password: newPassword }),
    });
    expect(login.status).toBe(401);
    await page.context().close();
  });

  it("works without JavaScript: the forms post and the server redirects", async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const email = uniqueEmail("nojs");
    await signUp(page, app.url, email);
    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL((url) => url.pathname === "/login");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("wrong password here");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL((url) => url.searchParams.get("error") === "invalid_credentials");
    expect(await page.getByRole("main").getByRole("alert").textContent()).toContain(
      "The email or password is incorrect.",
    );
    await context.close();
  });
});

describe("the Content-Security-Policy in Chromium", () => {
  let app: RunningApp;
  let browser: Browser;

  beforeAll(async () => {
    [app, browser] = await Promise.all([startApp(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  /** A page that records every CSP violation. */
  async function watchedPage(): Promise<{ page: Page; violations: string[] }> {
    const violations: string[] = [];
    return { page: await newCspWatchedPage(await browser.newContext(), violations), violations };
  }

  it("refuses nothing the app itself loads or runs, on every page, while the pages work", async () => {
    const { page, violations } = await watchedPage();
    const email = uniqueEmail("csp");
    await page.goto(`${app.url}/`);
    await signUp(page, app.url, email);
    await page.getByRole("heading", { level: 1, name: "Dashboard" }).waitFor();
    // Sign-up works without script too; a refused script shows here, before the steps that need one.
    expect(violations).toEqual([]);

    await visitSettingsAndProfile(page);
    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL((url) => url.pathname === "/login");

    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("main").getByRole("alert").waitFor();
    // The script sent the form as JSON and showed the error in place; without it the server would have
    // redirected to /login?error=invalid_credentials. (Log-out left `?signedOut=1`, which stays.)
    expect(new URL(page.url()).searchParams.has("error")).toBe(false);
    expect(new URL(page.url()).search).toBe("?signedOut=1");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL((url) => url.pathname === "/dashboard");

    // A page loaded afresh, and the error page, whose HTML was written at build time.
    for (const path of ["/forgot-password", "/no-such-page"]) {
      await page.goto(`${app.url}${path}`);
      await page.waitForLoadState("networkidle");
    }
    expect(violations).toEqual([]);

    // The watcher does see a refusal: an inline script, which the policy forbids.
    await page.evaluate(() => {
      const script = document.createElement("script");
      script.textContent = "window.injected = true";
      document.body.append(script);
    });
    await expect.poll(() => violations.length).toBeGreaterThan(0);
    expect(await page.evaluate(() => (window as unknown as { injected?: boolean }).injected)).toBeUndefined();
    await page.context().close();
  });
});

/**
 * Two-factor authentication and passkeys in Chromium, end to end: set up in settings, then used to log in.
 * The app runs at http://localhost (a passkey's relying party must be a domain); passkeys come from
 * Chromium's virtual authenticator and codes from Debian's oathtool.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { appDir, type RunningApp, startApp } from "./support/app";
import { launchChromium } from "./support/browser";
import { PASSWORD, uniqueEmail } from "./support/http";
import { DESKTOP, horizontalOverflow, MOBILE, signUp, type Viewport } from "./support/pages";
import {
  addPasskey,
  addVirtualAuthenticator,
  logInToSecondStep,
  setUpTotp,
  totpCodes,
  wrongCode,
} from "./support/second-factors";

const shots = join(appDir, "..", "..", "test-results", "screenshots");

describe("two-factor authentication and passkeys in Chromium", () => {
  let app: RunningApp;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    [app, browser] = await Promise.all([startApp({ host: "localhost" }), launchChromium()]);
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  async function newPage(options: { viewport?: Viewport; javaScriptEnabled?: boolean } = {}): Promise<Page> {
    const context = await browser.newContext({ viewport: options.viewport ?? DESKTOP, ...options });
    contexts.push(context);
    return context.newPage();
  }

  /** A signed-in new account on `page`. */
  async function newAccount(page: Page, prefix: string): Promise<string> {
    const email = uniqueEmail(prefix);
    await signUp(page, app.url, email);
    return email;
  }

  async function logOut(page: Page): Promise<void> {
    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL((url) => url.pathname === "/login");
  }

  it("registers a passkey in settings, then logs in with it from the email field's autofill and from the button", async () => {
    const page = await newPage();
    const authenticator = await addVirtualAuthenticator(page);
    await newAccount(page, "passkey");
    await addPasskey(page, app.url, "Work laptop");
    const card = page.getByRole("region", { name: "Passkeys" });
    const item = card.getByRole("listitem").filter({ hasText: "Work laptop" });
    await expect(item.textContent()).resolves.toContain("never used");
    // A discoverable credential, for this site's name: it can log in without an email being typed.
    const [credential, ...others] = await authenticator.credentials();
    expect(others).toEqual([]);
    expect(credential).toMatchObject({ isResidentCredential: true, rpId: "localhost" });

    // The log-in page offers the passkey in the email field's autofill, which the authenticator answers.
    await logOut(page);
    await page.waitForURL((url) => url.pathname === "/dashboard");
    const afterAutofill = (await authenticator.credentials())[0]!.signCount;
    expect(afterAutofill).toBeGreaterThan(credential!.signCount);

    // In a browser without passkey autofill, the button asks in the browser's own dialog. (Where autofill is
    // offered, the virtual authenticator answers it at once, racing the click.)
    await page.addInitScript(() => {
      PublicKeyCredential.isConditionalMediationAvailable = async () => false;
    });
    await logOut(page);
    const button = page.getByRole("button", { name: "Use a passkey" });
    await button.waitFor();
    await button.click();
    await page.waitForURL((url) => url.pathname === "/dashboard");
    expect((await authenticator.credentials())[0]!.signCount).toBeGreaterThan(afterAutofill);

    await page.goto(`${app.url}/settings`);
    await expect(item.textContent()).resolves.toMatch(/last used \d/);
  });

  it("sets up an authenticator app in settings, then asks for its code after the password", async () => {
    const page = await newPage();
    const email = await newAccount(page, "totp");
    await page.goto(`${app.url}/settings`);
    const card = page.getByRole("region", { name: "Two-factor authentication" });
    await card.getByRole("button", { name: "Set up two-factor authentication" }).click();
    await card.getByLabel("Password").fill("not the password");
    await card.getByRole("button", { name: "Continue" }).click();
    await expect(card.getByText("The password is incorrect.").first().waitFor()).resolves.toBeUndefined();
    await card.getByLabel("Password").fill(PASSWORD);
    await card.getByRole("button", { name: "Continue" }).click();

    // The QR code is the server's SVG as an image: it loads under the page's CSP and is drawn.
    const heading = card.getByRole("heading", { name: "Set up your authenticator app" });
    await heading.waitFor();
    await expect(heading.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    const qr = card.getByRole("img", { name: "QR code with the key below" });
    await expect(qr.getAttribute("src")).resolves.toMatch(/^data:image\/svg\+xml;charset=utf-8,%3Csvg/);
    await expect(qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).resolves.toBe(true);
    const secret = ((await card.locator(".totp-secret").textContent()) ?? "").replaceAll(" ", "");
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    await page.screenshot({ path: join(shots, "two-factor-setup.png"), fullPage: true });

    await card.getByLabel("Code from the app").fill(wrongCode(secret));
    await card.getByRole("button", { name: "Turn on" }).click();
    await card.getByRole("alert").filter({ hasText: "Two-factor authentication is still off" }).waitFor();
    await card.getByLabel("Code from the app").fill(totpCodes(secret).current);
    await card.getByRole("button", { name: "Turn on" }).click();
    await card.getByRole("status").filter({ hasText: "Two-factor authentication is on" }).waitFor();
    const codes = (
      await card.getByRole("list", { name: "Recovery codes" }).getByRole("listitem").allTextContents()
    ).map((code) => code.trim());
    expect(codes).toHaveLength(10);
    for (const code of codes) expect(code).toMatch(/^[a-z0-9]{5}-[a-z0-9]{5}$/);
    await page.screenshot({ path: join(shots, "two-factor-recovery-codes.png"), fullPage: true });

    // The download is a text file with every code.
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      card.getByRole("link", { name: "Download (.txt)" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe("gatehouse-recovery-codes.txt");
    const file = readFileSync((await download.path())!, "utf8");
    for (const code of codes) expect(file).toContain(code);
    expect(file).toContain(email);

    await card.getByRole("button", { name: "I have saved them" }).click();
    await card.getByText("10 recovery codes left.").waitFor();

    await logOut(page);
    await logInToSecondStep(page, app.url, email);
    // No passkey on this account: the page offers the app and the recovery codes only.
    expect(new URL(page.url()).searchParams.get("methods")).toBe("totp,recovery_code");
    await expect(page.getByRole("button", { name: "Use a passkey" }).count()).resolves.toBe(0);
    const field = page.getByLabel("Authentication code");
    await expect(field.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    await expect(field.getAttribute("inputmode")).resolves.toBe("numeric");
    await expect(field.getAttribute("autocomplete")).resolves.toBe("one-time-code");

    await field.fill(wrongCode(secret));
    await page.getByRole("button", { name: "Verify" }).click();
    const alert = page.getByRole("main").getByRole("alert");
    await alert.waitFor();
    await expect(alert.textContent()).resolves.toContain("That code was not accepted.");
    await expect(field.inputValue()).resolves.toBe("");
    await expect(alert.evaluate((el) => el === document.activeElement)).resolves.toBe(true);

    // The setup used this step's code: the log-in takes the next one.
    await field.fill(totpCodes(secret).next);
    await page.getByRole("button", { name: "Verify" }).click();
    await page.waitForURL((url) => url.pathname === "/dashboard");
  });

  it("finishes a password log-in with a passkey as the second step", async () => {
    const page = await newPage();
    const authenticator = await addVirtualAuthenticator(page);
    const email = await newAccount(page, "passkey-second");
    await addPasskey(page, app.url, "Phone");
    await setUpTotp(page, app.url);
    // The password, not the autofill's passkey, logs in here.
    await authenticator.setAutomaticPresenceSimulation(false);
    await logOut(page);

    await logInToSecondStep(page, app.url, email);
    expect(new URL(page.url()).searchParams.get("methods")).toBe("totp,recovery_code,passkey");
    await authenticator.setAutomaticPresenceSimulation(true);
    await page.getByRole("button", { name: "Use a passkey" }).click();
    await page.waitForURL((url) => url.pathname === "/dashboard");
  });

  it("logs in with a recovery code once; the same code is refused the next time", async () => {
    const page = await newPage();
    const email = await newAccount(page, "recovery");
    const { recoveryCodes } = await setUpTotp(page, app.url);
    await logOut(page);

    await logInToSecondStep(page, app.url, email);
    await page.getByRole("link", { name: "Use a recovery code" }).click();
    const field = page.getByLabel("Recovery code");
    await field.waitFor();
    await expect(field.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    await field.fill(recoveryCodes[0]!);
    await page.getByRole("button", { name: "Verify" }).click();
    await page.waitForURL((url) => url.pathname === "/dashboard");

    await page.goto(`${app.url}/settings`);
    await page.getByRole("region", { name: "Two-factor authentication" }).getByText("9 recovery codes left.").waitFor();

    await logOut(page);
    await logInToSecondStep(page, app.url, email);
    await page.getByRole("link", { name: "Use a recovery code" }).click();
    await page.getByLabel("Recovery code").fill(recoveryCodes[0]!);
    await page.getByRole("button", { name: "Verify" }).click();
    await expect(page.getByRole("main").getByRole("alert").textContent()).resolves.toContain(
      "That code was not accepted.",
    );
    // Switching back to the app's code starts afresh.
    await page.getByRole("link", { name: "Use your authenticator app" }).click();
    await page.getByLabel("Authentication code").waitFor();
    await expect(page.getByRole("main").getByRole("alert").count()).resolves.toBe(0);
  });

  it("renames a passkey, and removes it with the password: it then no longer logs in", async () => {
    const page = await newPage();
    const authenticator = await addVirtualAuthenticator(page);
    await newAccount(page, "remove");
    await addPasskey(page, app.url, "Old laptop");
    const card = page.getByRole("region", { name: "Passkeys" });

    // The server excludes the passkeys the account has: this device cannot make a second one.
    await card.getByRole("button", { name: "Add a passkey" }).click();
    await card.getByLabel("Password").fill(PASSWORD);
    await card.getByRole("button", { name: "Create passkey" }).click();
    await expect(card.getByRole("alert").textContent()).resolves.toContain(
      "This device already has a passkey for your account.",
    );
    expect(await authenticator.credentials()).toHaveLength(1);
    await card.getByRole("button", { name: "Cancel" }).click();

    await card.getByRole("button", { name: "Rename Old laptop" }).click();
    await card.getByLabel("New name").fill("Home laptop");
    await card.getByRole("button", { name: "Save name" }).click();
    await card.getByRole("status").filter({ hasText: "The passkey is now called “Home laptop”." }).waitFor();
    await page.reload();
    await card.getByText("Home laptop").waitFor();

    await card.getByRole("button", { name: "Remove Home laptop" }).click();
    await card.getByLabel("Password").fill("not the password");
    await card.getByRole("button", { name: "Remove passkey" }).click();
    await card.getByText("The password is incorrect.").first().waitFor();
    await card.getByLabel("Password").fill(PASSWORD);
    await card.getByRole("button", { name: "Remove passkey" }).click();
    await card.getByRole("status").filter({ hasText: "“Home laptop” was removed." }).waitFor();
    await card.getByText("You have no passkeys yet.").waitFor();
    await expect(
      card.getByRole("heading", { name: "Passkeys" }).evaluate((el) => el === document.activeElement),
    ).resolves.toBe(true);

    // The device still holds it, but the site no longer knows it.
    expect(await authenticator.credentials()).toHaveLength(1);
    await authenticator.setAutomaticPresenceSimulation(false);
    await logOut(page);
    const button = page.getByRole("button", { name: "Use a passkey" });
    await button.waitFor();
    await authenticator.setAutomaticPresenceSimulation(true);
    await button.click();
    const alert = page.getByRole("main").getByRole("alert");
    await alert.waitFor();
    await expect(alert.textContent()).resolves.toContain("This passkey was not accepted.");
    expect(new URL(page.url()).pathname).toBe("/login");
  });

  it("works without JavaScript: the log-in and code forms post, and the server redirects", async () => {
    const setup = await newPage();
    const email = await newAccount(setup, "nojs-totp");
    const { secret } = await setUpTotp(setup, app.url);

    const page = await newPage({ javaScriptEnabled: false });
    await page.goto(`${app.url}/login?next=%2Fprofile`);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in", exact: true }).click();
    await page.waitForURL((url) => url.pathname === "/login/verify");
    expect(new URL(page.url()).searchParams.get("next")).toBe("/profile");
    // A passkey needs script: it is not offered.
    await expect(page.getByRole("button", { name: "Use a passkey" }).count()).resolves.toBe(0);

    await page.getByLabel("Authentication code").fill(wrongCode(secret));
    await page.getByRole("button", { name: "Verify" }).click();
    await page.waitForURL((url) => url.searchParams.get("error") === "invalid_code");
    await expect(page.getByRole("main").getByRole("alert").textContent()).resolves.toContain(
      "That code was not accepted.",
    );
    await page.getByLabel("Authentication code").fill(totpCodes(secret).next);
    await page.getByRole("button", { name: "Verify" }).click();
    await page.waitForURL((url) => url.pathname === "/profile");
  });

  it("sends a second step without a pending log-in back to the log-in page, saying why", async () => {
    for (const javaScriptEnabled of [true, false]) {
      const page = await newPage({ javaScriptEnabled });
      await page.goto(`${app.url}/login/verify?next=%2Fprofile`);
      await page.getByLabel("Authentication code").fill("123456");
      await page.getByRole("button", { name: "Verify" }).click();
      await page.waitForURL((url) => url.pathname === "/login");
      const url = new URL(page.url());
      expect(url.searchParams.get("error"), `JavaScript ${javaScriptEnabled}`).toBe("mfa_pending_expired");
      expect(url.searchParams.get("next"), `JavaScript ${javaScriptEnabled}`).toBe("/profile");
      await expect(page.getByRole("main").getByRole("alert").textContent()).resolves.toContain(
        "Logging in took too long. Enter your email and password again.",
      );
    }
  });

  it("fits the new page and cards at 1280 and 390 px, in every state, without sideways scroll", async () => {
    const overflowing: string[] = [];
    for (const viewport of [DESKTOP, MOBILE]) {
      const page = await newPage({ viewport });
      const authenticator = await addVirtualAuthenticator(page);
      const check = async (state: string) => {
        await page.waitForLoadState("networkidle");
        const overflow = await horizontalOverflow(page);
        if (overflow > 0) overflowing.push(`${state} at ${viewport.width}px: ${overflow}px too wide`);
      };
      const email = await newAccount(page, "layout");
      // The longest name the server takes, without a space to break at.
      await addPasskey(page, app.url, "x".repeat(100));
      await check("settings with a passkey");

      const card = page.getByRole("region", { name: "Two-factor authentication" });
      await card.getByRole("button", { name: "Set up two-factor authentication" }).click();
      await check("the password step of the setup");
      await card.getByLabel("Password").fill(PASSWORD);
      await card.getByRole("button", { name: "Continue" }).click();
      const secret = ((await card.locator(".totp-secret").textContent()) ?? "").replaceAll(" ", "");
      await check("the QR code");
      await card.getByLabel("Code from the app").fill(totpCodes(secret).current);
      await card.getByRole("button", { name: "Turn on" }).click();
      await card.getByRole("list", { name: "Recovery codes" }).waitFor();
      await check("the recovery codes");
      await card.getByRole("button", { name: "I have saved them" }).click();
      await card.getByRole("button", { name: "Turn off" }).click();
      await check("two-factor on, turning it off");

      await authenticator.setAutomaticPresenceSimulation(false);
      await logOut(page);
      await check("the log-in page with its passkey button");
      await logInToSecondStep(page, app.url, email);
      await check("the second step");
      await page.screenshot({ path: join(shots, `login-verify-${viewport.width}.png`), fullPage: true });
      await page.getByRole("link", { name: "Use a recovery code" }).click();
      await page.getByLabel("Recovery code").waitFor();
      await check("the second step with a recovery code");
    }
    expect(overflowing).toEqual([]);
  });
});

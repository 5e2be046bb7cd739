/**
 * Logging in with an OpenID Provider in Chromium, end to end, against a real one: oidc-provider 9 on
 * loopback with its devInteractions login and consent pages. The app runs at http://localhost and the
 * provider at http://127.0.0.1, so the callback is a cross-site navigation, as with a real provider. The
 * main story (sign-up, log-in again, `next`, connecting from settings and disconnecting) runs with both
 * session strategies; the refusals and the layout with database sessions.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startOidcProvider, type TestOidcProvider } from "../../../packages/gatehouse/test/support/oidc-provider";
import { type RunningApp, startApp } from "./support/app";
import { launchChromium } from "./support/browser";
import { PASSWORD, uniqueEmail } from "./support/http";
import { DESKTOP, horizontalOverflow, logIn, MOBILE, signUp, type Viewport } from "./support/pages";

/** The button's label, from GATEHOUSE_OIDC_NAME. */
const NAME = "Acme SSO";
const CONTINUE = `Continue with ${NAME}`;

/** The signed-in user, as the session API describes it. */
interface SessionUser {
  id: string;
  email: string;
  name: string | null;
}

let logins = 0;
/** A new login name at the provider (its `sub`), with the claims given. */
function providerAccount(
  idp: TestOidcProvider,
  claims: { email: string; emailVerified?: boolean; name?: string },
): string {
  logins += 1;
  const login = `user-${process.pid}-${logins}`;
  idp.setAccount(login, { emailVerified: true, ...claims });
  return login;
}

/** The app with the provider configured, the provider knowing the app's callback, and one browser. */
function setUp(strategy: "database" | "stateless") {
  const env = {} as { app: RunningApp; idp: TestOidcProvider; browser: Browser };
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    // No redirect URI yet: the app's port is known once it listens.
    const [idp, browser] = await Promise.all([startOidcProvider({ redirectUris: [] }), launchChromium()]);
    env.idp = idp;
    env.browser = browser;
    env.app = await startApp({
      strategy,
      host: "localhost",
      env: {
        GATEHOUSE_OIDC_ISSUER: idp.issuer,
        GATEHOUSE_OIDC_CLIENT_ID: idp.clientId,
        GATEHOUSE_OIDC_CLIENT_SECRET: idp.clientSecret,
        GATEHOUSE_OIDC_NAME: NAME,
      },
    });
    idp.addRedirectUri(`${env.app.url}/api/auth/oauth/oidc/callback`);
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
  });
  afterAll(async () => {
    await env.browser?.close();
    await env.app?.stop();
    await env.idp?.close();
  });

  async function newPage(options: { viewport?: Viewport; javaScriptEnabled?: boolean } = {}): Promise<Page> {
    const context = await env.browser.newContext({ viewport: options.viewport ?? DESKTOP, ...options });
    contexts.push(context);
    return context.newPage();
  }

  /**
   * After a click that leaves for the provider: logs in there as `login` (or cancels) and consents, as
   * often as the provider asks (it remembers its session and the consent, and then asks nothing), until the
   * browser is back at the app, somewhere else than `from`.
   */
  async function atProvider(page: Page, from: string, login: string, options: { deny?: boolean } = {}): Promise<URL> {
    const appOrigin = new URL(env.app.url).origin;
    const idpOrigin = new URL(env.idp.issuer).origin;
    let before = from;
    for (let step = 0; step < 6; step++) {
      // The address as the page arrived at it: the settings page then drops its `?linked=` at once.
      let arrived: URL | undefined;
      await page.waitForURL((url) => {
        if (arrived === undefined && url.href !== before && (url.origin === appOrigin || url.origin === idpOrigin)) {
          arrived = new URL(url.href);
        }
        return arrived !== undefined;
      });
      const url = arrived as URL;
      if (url.origin === appOrigin) return url;
      before = url.href;
      if (options.deny) {
        await page.locator('a[href$="/abort"]').click();
      } else if ((await page.locator('input[name="login"]').count()) > 0) {
        await page.locator('input[name="login"]').fill(login);
        await page.locator('input[name="password"]').fill("any password");
        await page.locator('button[type="submit"]').click();
      } else {
        await page.locator('button[type="submit"]').click();
      }
    }
    throw new Error(`Still at the provider after six pages: ${page.url()}`);
  }

  /** Clicks "Continue with …" on the current page and goes through the provider. */
  async function continueWith(page: Page, login: string, options: { deny?: boolean } = {}): Promise<URL> {
    const from = page.url();
    await page.getByRole("link", { name: CONTINUE }).click();
    return atProvider(page, from, login, options);
  }

  /** Who the browser's cookies sign in (asked with the page's cookie jar, so also without JavaScript). */
  async function sessionUser(page: Page): Promise<SessionUser | null> {
    const response = await page.context().request.get(`${env.app.url}/api/auth/session`);
    return ((await response.json()) as { user: SessionUser | null }).user;
  }

  async function logOut(page: Page): Promise<void> {
    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL((url) => url.pathname === "/login");
  }

  /** Connects the provider from settings with the password, as `login` at the provider. */
  async function connect(page: Page, login: string): Promise<URL> {
    await page.goto(`${env.app.url}/settings`);
    const card = page.getByRole("region", { name: "Connected accounts" });
    await card.getByRole("button", { name: `Connect ${NAME}` }).click();
    await card.getByLabel("Password").fill(PASSWORD);
    const from = page.url();
    await card.getByRole("button", { name: `Continue to ${NAME}` }).click();
    return atProvider(page, from, login);
  }

  return { env, newPage, atProvider, continueWith, sessionUser, logOut, connect };
}

describe.each(["database", "stateless"] as const)("logging in with an OpenID Provider (%s sessions)", (strategy) => {
  const t = setUp(strategy);

  it("signs up with “Continue with …”, logs out, and logs in again the same way, to the page asked for", async () => {
    const { app, idp } = t.env;
    const email = uniqueEmail("oidc-signup");
    const login = providerAccount(idp, { email, name: "Ada Lovelace" });
    const page = await t.newPage();

    const listed = await page.context().request.get(`${app.url}/api/auth/providers`);
    await expect(listed.json()).resolves.toEqual({ providers: [{ id: "oidc", name: NAME }] });
    await page.goto(`${app.url}/signup`);
    // A plain link: it works without JavaScript, and carries where to land.
    await expect(page.getByRole("link", { name: CONTINUE }).getAttribute("href")).resolves.toBe(
      "/api/auth/oauth/oidc?next=%2Fdashboard",
    );
    const landed = await t.continueWith(page, login);
    expect(landed.pathname).toBe("/dashboard");
    const user = await t.sessionUser(page);
    expect(user).toMatchObject({ email, name: "Ada Lovelace" });

    await t.logOut(page);
    await expect(t.sessionUser(page)).resolves.toBeNull();
    expect((await t.continueWith(page, login)).pathname).toBe("/dashboard");
    await expect(t.sessionUser(page)).resolves.toMatchObject({ id: user?.id, email });

    // `next` survives the round trip through the provider.
    await t.logOut(page);
    await page.goto(`${app.url}/login?next=${encodeURIComponent("/profile")}`);
    expect((await t.continueWith(page, login)).pathname).toBe("/profile");
    await expect(t.sessionUser(page)).resolves.toMatchObject({ id: user?.id });
  });

  it("logs in without JavaScript: the button is a plain link, the provider's pages are plain forms", async () => {
    const { app, idp } = t.env;
    const email = uniqueEmail("oidc-nojs");
    const login = providerAccount(idp, { email });
    const page = await t.newPage({ javaScriptEnabled: false });
    await page.goto(`${app.url}/login`);
    expect((await t.continueWith(page, login)).pathname).toBe("/dashboard");
    await expect(t.sessionUser(page)).resolves.toMatchObject({ email });
  });

  it("refuses a provider account whose email has a password account, then connects it from settings and disconnects it", async () => {
    const { app, idp } = t.env;
    const email = uniqueEmail("oidc-link");
    const login = providerAccount(idp, { email, name: "Bob" });
    const page = await t.newPage();
    await signUp(page, app.url, email);
    const owner = await t.sessionUser(page);
    await t.logOut(page);

    // Never linked silently: the log-in page says what to do instead.
    const refused = await t.continueWith(page, login);
    expect(refused.pathname + refused.search).toBe("/login?error=account_exists");
    const alert = page.getByRole("main").getByRole("alert");
    await expect(alert.textContent()).resolves.toContain(
      "An account with this email already exists. Log in with your password, then connect this provider in Settings.",
    );
    await expect(alert.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    await expect(t.sessionUser(page)).resolves.toBeNull();

    await logIn(page, app.url, email);
    await page.goto(`${app.url}/settings`);
    const card = page.getByRole("region", { name: "Connected accounts" });
    const row = card.getByRole("listitem").filter({ hasText: NAME });
    await expect(row.textContent()).resolves.toContain("Not connected");

    // Fresh authentication: the password, checked before the browser leaves for the provider.
    await card.getByRole("button", { name: `Connect ${NAME}` }).click();
    const password = card.getByLabel("Password");
    await expect(password.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    await password.fill("not the password");
    await card.getByRole("button", { name: `Continue to ${NAME}` }).click();
    await card.getByText("The password is incorrect.").first().waitFor();
    expect(new URL(page.url()).pathname).toBe("/settings");
    await card.getByLabel("Password").fill(PASSWORD);
    const from = page.url();
    await card.getByRole("button", { name: `Continue to ${NAME}` }).click();
    const back = await t.atProvider(page, from, login);
    expect(back.pathname + back.search).toBe("/settings?linked=oidc");

    const notice = card.getByRole("status").filter({ hasText: `${NAME} is connected` });
    await notice.waitFor();
    await expect(notice.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    await expect(row.textContent()).resolves.toMatch(new RegExp(`${email.replaceAll(".", "\\.")} · connected \\d`));
    const identities = await page.context().request.get(`${app.url}/api/auth/identities`);
    await expect(identities.json()).resolves.toEqual({
      identities: [{ provider: "oidc", email, createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) }],
      hasPassword: true,
    });
    // The message is for this visit: the address loses it, so a reload does not repeat it.
    await page.waitForURL((url) => url.search === "");
    await page.reload();
    await card.getByRole("button", { name: `Disconnect ${NAME}` }).waitFor();
    await expect(card.getByText(`${NAME} is connected`).count()).resolves.toBe(0);

    // The connected account now logs in to the same user.
    await t.logOut(page);
    expect((await t.continueWith(page, login)).pathname).toBe("/dashboard");
    await expect(t.sessionUser(page)).resolves.toMatchObject({ id: owner?.id, email });

    // Disconnecting asks for the password too; then the account at the provider no longer logs in.
    await page.goto(`${app.url}/settings`);
    await card.getByRole("button", { name: `Disconnect ${NAME}` }).click();
    await card.getByLabel("Password").fill(PASSWORD);
    await card.getByRole("button", { name: `Disconnect ${NAME}` }).click();
    await card
      .getByRole("status")
      .filter({ hasText: `${NAME} was disconnected. It can no longer log in.` })
      .waitFor();
    await expect(row.textContent()).resolves.toContain("Not connected");
    await expect(
      card.getByRole("heading", { name: "Connected accounts" }).evaluate((el) => el === document.activeElement),
    ).resolves.toBe(true);
    await page.reload();
    await expect(row.textContent()).resolves.toContain("Not connected");

    await t.logOut(page);
    const again = await t.continueWith(page, login);
    expect(again.pathname + again.search).toBe("/login?error=account_exists");
  });
});

describe("logging in with an OpenID Provider: refusals and layout", () => {
  const t = setUp("database");

  /** A new account made by the provider, signed in on a page of its own. */
  async function providerOnlyUser(viewport: Viewport = DESKTOP): Promise<{ page: Page; email: string; login: string }> {
    const email = uniqueEmail("oidc-only");
    const login = providerAccount(t.env.idp, { email });
    const page = await t.newPage({ viewport });
    await page.goto(`${t.env.app.url}/login`);
    expect((await t.continueWith(page, login)).pathname).toBe("/dashboard");
    return { page, email, login };
  }

  it("does not let an account without a password disconnect its only way to log in", async () => {
    const { page, email } = await providerOnlyUser();
    await page.goto(`${t.env.app.url}/settings`);
    await page.getByRole("main").getByText("Your account has no password yet.").waitFor();
    const card = page.getByRole("region", { name: "Connected accounts" });
    const row = card.getByRole("listitem").filter({ hasText: NAME });
    await expect(row.textContent()).resolves.toContain(email);

    await card.getByRole("button", { name: `Disconnect ${NAME}` }).click();
    // Nothing to type: its recent log-in confirms it.
    await expect(card.getByLabel("Password").count()).resolves.toBe(0);
    await card.getByRole("button", { name: `Disconnect ${NAME}` }).click();
    const alert = card.getByRole("alert");
    await alert.waitFor();
    await expect(alert.textContent()).resolves.toContain(`${NAME} is still connected`);
    await expect(alert.textContent()).resolves.toContain("This is your only way to log in.");
    await expect(alert.getByRole("link", { name: "Set a password" }).getAttribute("href")).resolves.toBe(
      "/forgot-password",
    );
    await page.reload();
    await expect(row.textContent()).resolves.toContain(email);
  });

  it("refuses to connect a provider account that belongs to another user", async () => {
    const { login: taken } = await providerOnlyUser();
    const page = await t.newPage();
    await signUp(page, t.env.app.url, uniqueEmail("oidc-other"));
    const back = await t.connect(page, taken);
    expect(back.pathname + back.search).toBe("/settings?error=identity_in_use");
    const card = page.getByRole("region", { name: "Connected accounts" });
    const alert = card.getByRole("alert");
    await alert.waitFor();
    await expect(alert.textContent()).resolves.toContain("No account was connected");
    await expect(alert.textContent()).resolves.toContain("already connected to another account here");
    await expect(card.getByRole("listitem").filter({ hasText: NAME }).textContent()).resolves.toContain(
      "Not connected",
    );
  });

  it("says so when the person cancels at the provider, and signs nobody in", async () => {
    const email = uniqueEmail("oidc-deny");
    const login = providerAccount(t.env.idp, { email });
    const page = await t.newPage();
    await page.goto(`${t.env.app.url}/login`);
    const back = await t.continueWith(page, login, { deny: true });
    expect(back.pathname + back.search).toBe("/login?error=oauth_denied");
    await expect(page.getByRole("main").getByRole("alert").textContent()).resolves.toContain(
      "Access was not granted at the provider",
    );
    await expect(t.sessionUser(page)).resolves.toBeNull();
  });

  it.each([
    ["oauth_failed", "Logging in with that provider did not work."],
    ["oauth_denied", "Access was not granted at the provider"],
    ["account_exists", "An account with this email already exists."],
    ["email_unverified", "Verify your email address first"],
    ["rate_limited", "Too many attempts."],
  ])("shows the callback's %s on the log-in page as an alert", async (code, text) => {
    const page = await t.newPage({ viewport: MOBILE });
    await page.goto(`${t.env.app.url}/login?error=${code}`);
    const alert = page.getByRole("main").getByRole("alert");
    await expect(alert.textContent()).resolves.toContain("Could not log in");
    await expect(alert.textContent()).resolves.toContain(text);
    // The buttons stay, to try again.
    await page.getByRole("link", { name: CONTINUE }).waitFor();
  });

  it("has no sideways scroll at 1280 and 390 px on the log-in, sign-up and settings pages", async () => {
    const overflowing: string[] = [];
    for (const viewport of [DESKTOP, MOBILE]) {
      const visitor = await t.newPage({ viewport });
      for (const path of ["/login", "/login?error=account_exists", "/signup"]) {
        await visitor.goto(`${t.env.app.url}${path}`);
        await visitor.getByRole("link", { name: CONTINUE }).waitFor();
        const overflow = await horizontalOverflow(visitor);
        if (overflow > 0) overflowing.push(`${path} at ${viewport.width}: ${overflow}px too wide`);
      }

      // Settings of an account made by the provider (connected, no password) and of a password account
      // with the provider connected, its form open.
      const { page: providerOnly } = await providerOnlyUser(viewport);
      await providerOnly.goto(`${t.env.app.url}/settings`);
      await providerOnly.getByRole("region", { name: "Connected accounts" }).waitFor();
      const overflow = await horizontalOverflow(providerOnly);
      if (overflow > 0) overflowing.push(`/settings (no password) at ${viewport.width}: ${overflow}px too wide`);

      const page = await t.newPage({ viewport });
      await signUp(page, t.env.app.url, uniqueEmail("oidc-layout"));
      await page.goto(`${t.env.app.url}/settings`);
      const card = page.getByRole("region", { name: "Connected accounts" });
      await card.getByRole("button", { name: `Connect ${NAME}` }).click();
      await card.getByLabel("Password").waitFor();
      const open = await horizontalOverflow(page);
      if (open > 0) overflowing.push(`/settings (connecting) at ${viewport.width}: ${open}px too wide`);
    }
    expect(overflowing).toEqual([]);
  });
});

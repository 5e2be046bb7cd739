/**
 * What a new user saw go wrong, pinned in Chromium at a desktop (1280×800) and a phone (390×844) width:
 * layout (no sideways scroll, no cards touching, the admin list), and the states around signing in and out,
 * resetting a password and "check your inbox". One app (with the dev outbox on) and one browser for all.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApp, startApp } from "./support/app";
import { launchChromium } from "./support/browser";
import { createClient, PASSWORD, uniqueEmail } from "./support/http";
import {
  DESKTOP,
  horizontalOverflow,
  logIn,
  MOBILE,
  outboxLink,
  requestReset,
  signUp,
  type Viewport,
} from "./support/pages";

const VIEWPORTS = [DESKTOP, MOBILE];
/** The least room between two cards, in CSS pixels; the layout's gaps are 16 and 24. */
const MIN_GAP = 12;

type StorageState = Awaited<ReturnType<BrowserContext["storageState"]>>;

describe("the example app's layout and states in Chromium", () => {
  let app: RunningApp;
  let browser: Browser;
  const member = uniqueEmail("member");
  const admin = uniqueEmail("admin");
  /** Signed-in cookies, so each page under test needs no log-in of its own. */
  let memberState: StorageState;
  let adminState: StorageState;

  beforeAll(async () => {
    [app, browser] = await Promise.all([startApp({ env: { GATEHOUSE_DEV_OUTBOX: "1" } }), launchChromium()]);
    expect(app.cli(["users", "create", "--email", admin, "--password", PASSWORD, "--role", "admin"]).status).toBe(0);
    // Signed up through the API: unverified, so the dashboard shows its verify-email card. A second session
    // (this client) makes the session lists longer than one row.
    const other = createClient(app.url);
    expect((await other.request("/api/auth/signup", { json: { email: member, password: PASSWORD } })).status).toBe(201);
    memberState = await signedInState(member);
    adminState = await signedInState(admin);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  async function newPage(
    viewport: Viewport,
    options: { storageState?: StorageState; javaScriptEnabled?: boolean } = {},
  ): Promise<Page> {
    const context = await browser.newContext({ viewport, ...options });
    return context.newPage();
  }

  async function signedInState(email: string): Promise<StorageState> {
    const page = await newPage(DESKTOP);
    await logIn(page, app.url, email);
    const state = await page.context().storageState();
    await page.context().close();
    return state;
  }

  const lead = (page: Page) => page.getByRole("main").locator(".lead");

  it("has no horizontal scroll on any page at 390 px: signed out, as a member, as an admin", async () => {
    const pages: Array<{ as: string; state?: StorageState; paths: string[] }> = [
      {
        as: "visitor",
        paths: [
          "/",
          "/login",
          "/login?signedOut=1",
          "/login/verify",
          "/login/verify?use=recovery&error=invalid_code",
          "/signup",
          "/forgot-password",
          "/reset-password?token=not-a-real-token",
          "/verify-email",
          "/verify-email?token=not-a-real-token",
          "/dev/outbox",
        ],
      },
      { as: "member", state: memberState, paths: ["/dashboard", "/profile", "/settings", "/admin"] },
      { as: "admin", state: adminState, paths: ["/dashboard", "/profile", "/settings", "/admin", "/dev/outbox"] },
    ];
    const overflowing: string[] = [];
    for (const { as, state, paths } of pages) {
      const page = await newPage(MOBILE, state ? { storageState: state } : {});
      for (const path of paths) {
        const response = await page.goto(`${app.url}${path}`);
        expect(new URL(page.url()).pathname, `${as} ${path}`).toBe(new URL(path, app.url).pathname);
        expect(response?.status(), `${as} ${path}`).toBe(as === "member" && path === "/admin" ? 403 : 200);
        const overflow = await horizontalOverflow(page);
        if (overflow > 0) overflowing.push(`${path} as ${as}: ${overflow}px too wide`);
      }
      await page.context().close();
    }
    expect(overflowing).toEqual([]);
  });

  it(`keeps at least ${MIN_GAP} px between cards (and the blocks around them) on the dashboard, profile and settings`, async () => {
    const touching: string[] = [];
    for (const viewport of VIEWPORTS) {
      const page = await newPage(viewport, { storageState: memberState });
      for (const path of ["/dashboard", "/profile", "/settings"]) {
        await page.goto(`${app.url}${path}`);
        const found = await page.evaluate((minGap) => {
          // Cards, and every block the page is laid out from, compared with all but their own ancestors.
          const selector = "main .card, main .stat, main > *, main .stack > *, main .page-grid > *";
          const blocks = [...new Set(document.querySelectorAll<HTMLElement>(selector))].filter(
            (el) => el.getClientRects().length > 0,
          );
          const label = (el: HTMLElement) =>
            `${el.tagName.toLowerCase()}.${el.className.replaceAll(" ", ".")} "${el.textContent?.trim().slice(0, 30)}"`;
          const problems: string[] = [];
          blocks.forEach((a, i) => {
            for (const b of blocks.slice(i + 1)) {
              if (a.contains(b) || b.contains(a)) continue;
              const r = a.getBoundingClientRect();
              const s = b.getBoundingClientRect();
              const gap = Math.max(s.left - r.right, r.left - s.right, s.top - r.bottom, r.top - s.bottom);
              if (gap < minGap) problems.push(`${label(a)} and ${label(b)}: ${Math.round(gap)}px`);
            }
          });
          return { problems, cards: blocks.filter((el) => el.matches(".card")).length };
        }, MIN_GAP);
        // The pages do have cards to compare: the dashboard's verify card, the profile's two, the settings' three.
        expect(found.cards, path).toBeGreaterThanOrEqual(2);
        touching.push(...found.problems.map((p) => `${path} at ${viewport.width}px: ${p}`));
      }
      await page.context().close();
    }
    expect(touching).toEqual([]);
  });

  it("puts the dashboard and settings side by side in two columns at 1280 px, in one column at 390 px", async () => {
    for (const [viewport, columns] of [
      [DESKTOP, 2],
      [MOBILE, 1],
    ] as const) {
      const page = await newPage(viewport, { storageState: memberState });
      for (const path of ["/dashboard", "/settings"]) {
        await page.goto(`${app.url}${path}`);
        const lefts = await page
          .locator("main .page-grid > *")
          .evaluateAll((els) => [...new Set(els.map((el) => Math.round(el.getBoundingClientRect().left)))]);
        expect(lefts.length, `${path} at ${viewport.width}px`).toBe(columns);
      }
      // A wide screen is used: the content is wider than the old 640 px column.
      const width = await page.locator("main .page-grid").evaluate((el) => el.getBoundingClientRect().width);
      expect(width).toBeGreaterThan(viewport === DESKTOP ? 1000 : 300);
      await page.context().close();
    }
  });

  it("after a failed log-in, keeps the email, empties the password and moves focus to the error", async () => {
    const page = await newPage(DESKTOP);
    await page.goto(`${app.url}/login`);
    await page.getByLabel("Email").fill(member);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Log in" }).click();
    const alert = page.getByRole("main").getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toContain("The email or password is incorrect.");
    await expect(page.getByLabel("Password").inputValue()).resolves.toBe("");
    await expect(page.getByLabel("Email").inputValue()).resolves.toBe(member);
    await expect(alert.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    await page.context().close();
  });

  it("says 'You have been signed out' on the log-in page after log-out, with and without JavaScript", async () => {
    const email = uniqueEmail("leaver");
    expect(
      (await createClient(app.url).request("/api/auth/signup", { json: { email, password: PASSWORD } })).status,
    ).toBe(201);
    for (const javaScriptEnabled of [true, false]) {
      const page = await newPage(DESKTOP, { javaScriptEnabled });
      await page.goto(`${app.url}/login`);
      await expect(page.getByText("You have been signed out").count()).resolves.toBe(0);
      await logIn(page, app.url, email);
      await page.getByRole("button", { name: "Log out" }).click();
      await page.waitForURL((url) => url.pathname === "/login");
      const notice = page.getByRole("main").getByRole("status");
      await expect(notice.textContent(), `JavaScript ${javaScriptEnabled}`).resolves.toContain(
        "You have been signed out",
      );
      // Really signed out: the dashboard sends the visitor back to log in.
      await page.goto(`${app.url}/dashboard`);
      await page.waitForURL((url) => url.pathname === "/login");
      await page.context().close();
    }
  });

  it("greets a new account on its first dashboard (with or without JavaScript), and says 'Welcome back' later", async () => {
    for (const javaScriptEnabled of [true, false]) {
      const page = await newPage(DESKTOP, { javaScriptEnabled });
      const email = uniqueEmail("newcomer");
      await signUp(page, app.url, email);
      const greeting = await lead(page).textContent();
      expect(greeting, `JavaScript ${javaScriptEnabled}`).toContain(`Welcome to Gatehouse, ${email}`);
      expect(greeting).not.toContain("Welcome back");

      await page.getByRole("button", { name: "Log out" }).click();
      await page.waitForURL((url) => url.pathname === "/login");
      await logIn(page, app.url, email);
      await expect(lead(page).textContent()).resolves.toBe(`Welcome back, ${email}.`);
      await page.context().close();
    }
  });

  it("points 'Check your inbox' at the dev outbox, whose links keep their underscores visible", async () => {
    const page = await newPage(MOBILE);
    await page.goto(`${app.url}/forgot-password`);
    await page.getByLabel("Email").fill(member);
    await page.getByRole("button", { name: "Send reset link" }).click();
    const notice = page.getByRole("status").filter({ hasText: "Check your inbox" });
    await notice.waitFor();
    const hint = notice.getByRole("link", { name: "dev outbox" });
    await expect(hint.getAttribute("href")).resolves.toBe("/dev/outbox");
    await hint.click();
    await page.waitForURL((url) => url.pathname === "/dev/outbox");
    await page.getByRole("heading", { level: 1, name: "Dev outbox" }).waitFor();
    await page.getByText(`To ${member}`).first().waitFor();

    // The underline sits below the descender line and is never broken around glyphs, so "_" stays visible.
    const link = page.locator(".outbox pre a").first();
    const style = await link.evaluate((el) => {
      const css = getComputedStyle(el);
      return { skipInk: css.textDecorationSkipInk, offset: css.textUnderlineOffset, fontSize: css.fontSize };
    });
    expect(style.skipInk).toBe("none");
    expect(Number.parseFloat(style.offset)).toBeGreaterThanOrEqual(0.3 * Number.parseFloat(style.fontSize));

    // The dashboard's "verify your email" says where the email went, too.
    const dashboard = await newPage(DESKTOP, { storageState: memberState });
    await dashboard.goto(`${app.url}/dashboard`);
    const verify = dashboard.getByRole("region", { name: "Verify your email address" });
    await expect(verify.getByRole("link", { name: "dev outbox" }).isVisible()).resolves.toBe(true);
    await Promise.all([page.context().close(), dashboard.context().close()]);
  });

  it("titles the reset page for its success once the new password is set", async () => {
    const email = uniqueEmail("resetter");
    expect(
      (await createClient(app.url).request("/api/auth/signup", { json: { email, password: PASSWORD } })).status,
    ).toBe(201);
    const page = await newPage(MOBILE);
    await requestReset(page, app.url, email);
    await page.goto(await outboxLink(app.url, email, "/reset-password"));
    await expect(page.getByRole("heading", { level: 1 }).textContent()).resolves.toBe("Choose a new password");
    await page.getByLabel("New password").fill("a brand new long passphrase");
    await page.getByRole("button", { name: "Set new password" }).click();
    await page.getByRole("heading", { level: 1, name: "Your password has been changed" }).waitFor();
    await expect(page.getByRole("heading", { name: "Choose a new password" }).count()).resolves.toBe(0);
    await expect(page.title()).resolves.toContain("Your password has been changed");
    await page.context().close();
  });

  it("lists users as cards with every detail in view at 390 px, and as a table at 1280 px", async () => {
    const phone = await newPage(MOBILE, { storageState: adminState });
    await phone.goto(`${app.url}/admin`);
    const card = phone.getByRole("main").getByRole("listitem").filter({ hasText: admin });
    // The list comes from the admin API once the page is there.
    await card.waitFor();
    // Both are in the page; CSS shows one. Counting first makes "hidden" mean hidden, not missing.
    await expect(phone.locator("table").count()).resolves.toBe(1);
    await expect(phone.getByRole("table").isVisible()).resolves.toBe(false);
    for (const label of ["Role", "Status", "Joined"]) {
      const box = await card.getByText(label, { exact: true }).boundingBox();
      expect(box, label).not.toBeNull();
      expect(box!.x, label).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width, label).toBeLessThanOrEqual(MOBILE.width);
    }
    const role = await card.locator("dd .badge").first().boundingBox();
    expect(role!.x + role!.width).toBeLessThanOrEqual(MOBILE.width);
    await phone.context().close();

    const desktop = await newPage(DESKTOP, { storageState: adminState });
    await desktop.goto(`${app.url}/admin`);
    await desktop.getByRole("cell", { name: admin }).waitFor();
    await expect(desktop.getByRole("columnheader", { name: "Role" }).isVisible()).resolves.toBe(true);
    await expect(desktop.locator(".user-cards").count()).resolves.toBe(1);
    await expect(desktop.locator(".user-cards").isVisible()).resolves.toBe(false);
    await desktop.context().close();
  });

  it("shows the 403 page's status code above its heading, not the heading again", async () => {
    const page = await newPage(MOBILE, { storageState: memberState });
    expect((await page.goto(`${app.url}/admin`))?.status()).toBe(403);
    const heading = await page.getByRole("heading", { level: 1 }).textContent();
    expect(heading).toBe("Admins only");
    const eyebrow = await page.locator("main .eyebrow").textContent();
    expect(eyebrow).toContain("403");
    expect(eyebrow).not.toContain(heading);
    await page.context().close();
  });
});

/**
 * The admin console in Chromium, as both example apps serve it (the same shared views over each router):
 * search, ban (the banned user's open browser is signed out at its next request), unban, role change, "view
 * as user" and its banner, the last-admin rule, the audit log and the mail outbox, and a user's own "Recent
 * security activity" in settings. Each width (1280 and 390 px) gets its own app on a fresh database, so its
 * admin is the only one there: the last-admin rule is that admin's own.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appDir, type ExampleApp, type RunningApp, startApp } from "./app";
import { launchChromium } from "./browser";
import { createClient, PASSWORD, uniqueEmail } from "./http";
import { DESKTOP, horizontalOverflow, logIn, MOBILE, type Viewport } from "./pages";

const shots = join(appDir, "..", "..", "test-results", "screenshots");

/** A user made through the API, with the id the admin's pages are addressed by. */
interface Person {
  id: string;
  email: string;
  name: string;
}

/** Signs someone up over HTTP (faster than the form), without keeping the session. */
async function createPerson(appUrl: string, email: string, name: string): Promise<Person> {
  const response = await createClient(appUrl).request("/api/auth/signup", {
    json: { email, password: PASSWORD, name },
  });
  expect(response.status, await response.clone().text()).toBe(201);
  const { user } = (await response.json()) as { user: { id: string } };
  return { id: user.id, email, name };
}

/** The dialog an action button opened, by the start of its heading. */
function dialogOf(page: Page, title: RegExp): Locator {
  return page.getByRole("dialog", { name: title });
}

/** Types the admin's password in the open dialog and presses its submit button. */
async function confirmWith(dialog: Locator, submit: string, password = PASSWORD): Promise<void> {
  await dialog.getByLabel("Your password").fill(password);
  await dialog.getByRole("button", { name: submit, exact: true }).click();
}

/** The action's success notice, in the page's live region. */
function notice(page: Page, title: string): Locator {
  return page.getByRole("status").filter({ hasText: title });
}

/**
 * The whole console at one width in one app. `label` names the width in test titles and screenshot files.
 */
export function adminConsoleSuite(appName: ExampleApp): void {
  describe.each([
    ["desktop", DESKTOP],
    ["mobile", MOBILE],
  ] as const)(`the admin console of the ${appName} app at %s width`, (label, viewport: Viewport) => {
    let app: RunningApp;
    let browser: Browser;
    const adminEmail = uniqueEmail(`admin-${label}`);
    let member: Person;
    /** The admin's signed-in browser, shared by the tests in order. */
    let adminContext: BrowserContext;
    let admin: Page;

    const shot = (page: Page, name: string) =>
      page.screenshot({ path: join(shots, `${appName}-${label}-${name}.png`), fullPage: true });

    async function newContext(): Promise<BrowserContext> {
      return browser.newContext({ viewport });
    }

    /** Opens a user's page from the search, as an admin would. */
    async function openUser(page: Page, person: Person): Promise<void> {
      await page.goto(`${app.url}/admin?${new URLSearchParams({ query: person.email })}`);
      await page.getByRole("link", { name: person.email }).click();
      await page.waitForURL((url) => url.pathname === `/admin/users/${person.id}`);
      await page.getByRole("heading", { level: 1, name: person.email }).waitFor();
    }

    beforeAll(async () => {
      mkdirSync(shots, { recursive: true });
      [app, browser] = await Promise.all([
        startApp({ app: appName, env: { GATEHOUSE_DEV_OUTBOX: "1" } }),
        launchChromium(),
      ]);
      const created = app.cli(["users", "create", "--email", adminEmail, "--password", PASSWORD, "--role", "admin"]);
      expect(created.status, created.stderr).toBe(0);
      member = await createPerson(app.url, uniqueEmail(`member-${label}`), "Ada Lovelace");
      adminContext = await newContext();
      admin = await adminContext.newPage();
      await logIn(admin, app.url, adminEmail);
    });
    afterAll(async () => {
      await browser?.close();
      await app?.stop();
    });

    it("keeps the last admin: demoting or banning themselves is refused and says why, and a wrong password is a field error", async () => {
      await admin.goto(`${app.url}/admin`);
      await admin.getByRole("link", { name: adminEmail }).click();
      await admin.getByRole("heading", { level: 1, name: adminEmail }).waitFor();
      await expect(admin.getByText("This is you").isVisible()).resolves.toBe(true);

      await admin.getByRole("button", { name: "Change role" }).click();
      let dialog = dialogOf(admin, /^Change the role of /);
      await dialog.getByLabel("New role").selectOption("user");
      await confirmWith(dialog, "Change role", "not my password");
      const field = dialog.getByLabel("Your password");
      await dialog.getByText("The password is incorrect.").waitFor();
      await expect(field.getAttribute("aria-invalid")).resolves.toBe("true");

      await confirmWith(dialog, "Change role");
      const refused = dialog.getByRole("alert");
      await refused.getByText(/last administrator/i).waitFor();
      expect(await refused.textContent()).toContain("The role was not changed");
      await shot(admin, "last-admin");
      await dialog.getByRole("button", { name: "Cancel" }).click();
      await dialog.waitFor({ state: "detached" });

      await admin.getByRole("button", { name: "Ban user" }).click();
      dialog = dialogOf(admin, /^Ban /);
      await confirmWith(dialog, "Ban user");
      await dialog
        .getByRole("alert")
        .getByText(/cannot ban your own account/i)
        .waitFor();
      expect(await dialog.getByRole("alert").textContent()).toContain("The user was not banned");
      await admin.keyboard.press("Escape");
      await dialog.waitFor({ state: "detached" });

      // Still an admin, still in: the page reads the same account.
      await admin.reload();
      await admin.getByRole("heading", { level: 1, name: adminEmail }).waitFor();
      await expect(admin.getByRole("main").getByText("admin", { exact: true }).first().isVisible()).resolves.toBe(true);
    });

    it("searches users by email or name, a page at a time", async () => {
      const tag = `page-${label}-${Date.now()}`;
      // 21 matches: one more than a page.
      await Promise.all(
        Array.from({ length: 21 }, (_, i) =>
          createPerson(app.url, `${tag}-${String(i).padStart(2, "0")}@example.com`, `Paged Person ${i}`),
        ),
      );
      const zelda = await createPerson(app.url, uniqueEmail(`z-${label}`), `Zelda Quill ${label}`);

      await admin.goto(`${app.url}/admin`);
      const search = admin.getByRole("searchbox", { name: "Search users" });
      await search.fill(tag);
      await search.press("Enter");
      await admin.waitForURL((url) => url.searchParams.get("query") === tag);
      await admin.getByRole("heading", { name: `Users matching “${tag}”` }).waitFor();
      await admin.getByText("20 users on this page").waitFor();
      await expect(admin.getByRole("link", { name: `${tag}-00@example.com` }).isVisible()).resolves.toBe(true);
      await shot(admin, "search");

      await admin.getByRole("button", { name: "Next page" }).click();
      await admin.getByText("1 user on this page").waitFor();
      await expect(admin.getByRole("link", { name: `${tag}-20@example.com` }).isVisible()).resolves.toBe(true);
      await expect(admin.getByRole("button", { name: "Next page" }).isDisabled()).resolves.toBe(true);
      // Focus went to the list's heading, not back to the page's start.
      await expect(admin.evaluate(() => document.activeElement?.id)).resolves.toBe("users-heading");
      await admin.getByRole("button", { name: "Previous page" }).click();
      await admin.getByText("20 users on this page").waitFor();

      await search.fill(`zelda quill ${label}`);
      await search.press("Enter");
      await admin.waitForURL((url) => url.searchParams.get("query") === `zelda quill ${label}`);
      await admin.getByText("1 user on this page").waitFor();
      await expect(admin.getByRole("link", { name: zelda.email }).isVisible()).resolves.toBe(true);

      await search.fill("nobody-has-this-in-their-address");
      await search.press("Enter");
      await admin.getByText("No user’s email or name contains").waitFor();
      expect(await horizontalOverflow(admin)).toBe(0);
    });

    it("bans a user: their open browser is signed out at its next request and log-in says why; unbanning lets them back", async () => {
      const person = await createPerson(app.url, uniqueEmail(`ban-${label}`), "Banned Person");
      const theirs = await newContext();
      const their = await theirs.newPage();
      await logIn(their, app.url, person.email);

      await openUser(admin, person);
      await admin.getByRole("button", { name: "Ban user" }).click();
      const dialog = dialogOf(admin, /^Ban /);
      await dialog.getByLabel("Reason (optional)").fill("Spam in the support chat");
      await shot(admin, "ban-dialog");
      await confirmWith(dialog, "Ban user");
      await notice(admin, "User banned").waitFor();
      await dialog.waitFor({ state: "detached" });
      await admin.getByRole("heading", { name: "Banned", exact: true }).waitFor();
      await admin.getByRole("region", { name: "Banned" }).getByText("Reason: Spam in the support chat").waitFor();
      await admin.getByText("Not signed in anywhere.").waitFor();
      await shot(admin, "banned");

      // Their next request finds no session.
      await their.goto(`${app.url}/settings`);
      await their.waitForURL((url) => url.pathname === "/login");
      await their.getByLabel("Email").fill(person.email);
      await their.getByLabel("Password").fill(PASSWORD);
      await their.getByRole("button", { name: "Log in" }).click();
      const alert = their.getByRole("main").getByRole("alert");
      await alert.waitFor();
      expect(await alert.textContent()).toMatch(/suspended/i);

      await admin.getByRole("button", { name: "Lift ban" }).click();
      await confirmWith(dialogOf(admin, /^Lift the ban on /), "Lift ban");
      await notice(admin, "Ban lifted").waitFor();
      await expect(admin.getByRole("heading", { name: "Banned", exact: true }).count()).resolves.toBe(0);

      await logIn(their, app.url, person.email);
      await theirs.close();
    });

    it("changes a role: the user gets the console at their next request, and loses it again", async () => {
      const theirs = await newContext();
      const their = await theirs.newPage();
      await logIn(their, app.url, member.email);
      expect((await their.goto(`${app.url}/admin`))?.status()).toBe(403);

      await openUser(admin, member);
      await admin.getByRole("button", { name: "Change role" }).click();
      let dialog = dialogOf(admin, /^Change the role of /);
      await dialog.getByLabel("New role").selectOption("admin");
      await confirmWith(dialog, "Change role");
      await notice(admin, "Role changed").waitFor();
      await admin.getByText(`${member.email} is now admin.`).waitFor();
      expect((await their.goto(`${app.url}/admin`))?.status()).toBe(200);
      await their.getByRole("heading", { level: 1, name: "Users" }).waitFor();

      await admin.getByRole("button", { name: "Change role" }).click();
      dialog = dialogOf(admin, /^Change the role of /);
      await dialog.getByLabel("New role").selectOption("user");
      await confirmWith(dialog, "Change role");
      await admin.getByText(`${member.email} is now user.`).waitFor();
      expect((await their.goto(`${app.url}/admin`))?.status()).toBe(403);
      await theirs.close();
    });

    it("views the app as a user with a banner on every page, blocks a password change, and stops back on their page", async () => {
      await openUser(admin, member);
      await admin.getByRole("button", { name: "View as user" }).click();
      await confirmWith(dialogOf(admin, /^View the app as /), "View as user");
      await admin.waitForURL((url) => url.pathname === "/dashboard");
      const banner = admin.getByRole("region", { name: "Viewing as another user" });
      await banner.getByText(`Viewing as ${member.email}`).waitFor();
      expect(await banner.textContent()).toContain(adminEmail);
      await shot(admin, "impersonating");
      expect(await horizontalOverflow(admin)).toBe(0);

      await admin.goto(`${app.url}/settings`);
      await banner.getByText(`Viewing as ${member.email}`).waitFor();
      await admin.getByLabel("Current password").fill(PASSWORD);
      await admin.getByLabel("New password").fill("an impersonator's new passphrase");
      await admin.getByRole("button", { name: "Change password" }).click();
      await admin.getByText("not allowed while you are viewing the app as another user").waitFor();
      // Not an admin while viewing as one who is not.
      expect((await admin.goto(`${app.url}/admin`))?.status()).toBe(403);
      await banner.getByText(`Viewing as ${member.email}`).waitFor();

      await banner.getByRole("button", { name: "Stop viewing as this user" }).click();
      await admin.waitForURL((url) => url.pathname === `/admin/users/${member.id}`);
      await admin.getByRole("heading", { level: 1, name: member.email }).waitFor();
      await expect(banner.count()).resolves.toBe(0);
      const session = (await (await admin.request.get(`${app.url}/api/auth/session`)).json()) as {
        user: { email: string };
        impersonatedBy: unknown;
      };
      expect(session.user.email).toBe(adminEmail);
      expect(session.impersonatedBy).toBeNull();
      // The member's password is what it was.
      const login = await createClient(app.url).request("/api/auth/login", {
        json: { email: member.email, password: PASSWORD },
      });
      expect(login.status).toBe(200);
    });

    it("lists the audit log by type and by user, with the admin's actions in it", async () => {
      await admin.goto(`${app.url}/admin/audit?${new URLSearchParams({ userId: member.id })}`);
      await admin.getByRole("heading", { name: `Events of ${member.email}` }).waitFor();
      const events = admin.getByRole("main").getByRole("listitem");
      await events.filter({ hasText: "An administrator started viewing as this account" }).first().waitFor();
      await events.filter({ hasText: "An administrator stopped viewing as this account" }).first().waitFor();
      await events.filter({ hasText: "Role changed" }).first().waitFor();
      await shot(admin, "audit");

      await admin.getByLabel("Event type").selectOption("user.ban");
      await admin.getByRole("button", { name: "Filter" }).click();
      await admin.waitForURL((url) => url.searchParams.get("type") === "user.ban");
      await admin.getByRole("heading", { name: /: Account suspended$/ }).waitFor();
      await admin.getByText("No event matches these filters.").waitFor();

      await admin.getByLabel("User ID").fill("");
      await admin.getByRole("button", { name: "Filter" }).click();
      await admin.waitForURL((url) => url.searchParams.get("type") === "user.ban" && !url.searchParams.get("userId"));
      const ban = events.filter({ hasText: "Account suspended" }).first();
      await ban.waitFor();
      expect(await ban.textContent()).toContain("by an administrator");
      expect(await horizontalOverflow(admin)).toBe(0);
    });

    it("sends a password reset from the user's page, and shows the mail in the outbox", async () => {
      await openUser(admin, member);
      await admin.getByRole("button", { name: "Send password reset" }).click();
      await confirmWith(dialogOf(admin, /^Send .* a password-reset link\?$/), "Send link");
      await notice(admin, "Link sent").waitFor();

      await admin.goto(`${app.url}/admin/mail?status=`);
      const message = admin
        .getByRole("listitem")
        .filter({ hasText: `To ${member.email}` })
        .first();
      await message.waitFor();
      await expect(admin.getByRole("link", { name: /^Failed \(\d+\)$/ }).isVisible()).resolves.toBe(true);
      await admin.getByRole("link", { name: /^Failed/ }).click();
      await admin.waitForURL((url) => url.searchParams.get("status") === "failed");
      await admin.getByText("No message has failed.").waitFor();
      await shot(admin, "mail");
      expect(await horizontalOverflow(admin)).toBe(0);
    });

    it("reaches every action by keyboard, each with a label, and its dialog keeps focus until Escape", async () => {
      await openUser(admin, member);
      const actions = [
        "Change role",
        "Ban user",
        "Sign out everywhere",
        "Send password reset",
        "Reset second factors",
        "View as user",
        "Delete user",
      ];
      // Tab through the page from its start: every action comes up, named as it is shown.
      await admin.locator("body").focus();
      const reached = new Set<string>();
      for (let i = 0; i < 80 && reached.size < actions.length; i++) {
        await admin.keyboard.press("Tab");
        const name = await admin.evaluate(() => document.activeElement?.textContent?.trim() ?? "");
        if (actions.includes(name)) reached.add(name);
      }
      expect([...reached].sort()).toEqual([...actions].sort());

      const ban = admin.getByRole("button", { name: "Ban user" });
      await ban.focus();
      await admin.keyboard.press("Enter");
      const dialog = dialogOf(admin, /^Ban /);
      await dialog.waitFor();
      // Focus starts in the dialog, on its first field, which is labelled.
      await expect(admin.evaluate(() => document.activeElement?.id)).resolves.toBe("field-reason");
      // Tab and Shift+Tab go round its four controls, never out to the page behind it.
      const focusedId = () =>
        admin.evaluate(() =>
          document.activeElement?.closest("dialog") ? document.activeElement.id || "button" : "out",
        );
      const seen: string[] = [];
      for (let i = 0; i < 4; i++) {
        await admin.keyboard.press("Tab");
        seen.push(await focusedId());
      }
      expect(seen).toEqual(["field-adminPassword", "button", "button", "field-reason"]);
      await admin.keyboard.press("Shift+Tab");
      await expect(focusedId()).resolves.toBe("button");
      await admin.keyboard.press("Escape");
      await dialog.waitFor({ state: "detached" });
      await expect(ban.evaluate((element) => element === document.activeElement)).resolves.toBe(true);
      expect(await horizontalOverflow(admin)).toBe(0);
      await shot(admin, "user");
    });

    it("has no sideways scroll on the console's pages, answers a member 403 and sends a visitor to log in", async () => {
      for (const path of ["/admin", `/admin/users/${member.id}`, "/admin/audit", "/admin/mail", "/settings"]) {
        const response = await admin.goto(`${app.url}${path}`);
        expect(response?.status(), path).toBe(200);
        // The lists arrive from the admin API after the page: measured once they are in.
        await admin.waitForLoadState("networkidle");
        expect(await horizontalOverflow(admin), path).toBe(0);
      }

      const theirs = await newContext();
      const their = await theirs.newPage();
      await logIn(their, app.url, member.email);
      for (const path of ["/admin", `/admin/users/${member.id}`, "/admin/audit", "/admin/mail"]) {
        expect((await their.goto(`${app.url}${path}`))?.status(), path).toBe(403);
        await their.getByRole("heading", { level: 1, name: "Admins only" }).waitFor();
      }
      await theirs.clearCookies();
      await their.goto(`${app.url}/admin/audit`);
      await their.waitForURL((url) => url.pathname === "/login" && url.searchParams.get("next") === "/admin/audit");
      await theirs.close();
    });

    it("shows a user their own recent security activity in settings, a page at a time", async () => {
      const person = await createPerson(app.url, uniqueEmail(`activity-${label}`), "Active Person");
      const theirs = await newContext();
      const their = await theirs.newPage();
      // Eleven log-ins and a password change: more than the first page of ten.
      for (let i = 0; i < 10; i++) {
        const login = await createClient(app.url).request("/api/auth/login", {
          json: { email: person.email, password: PASSWORD },
        });
        expect(login.status).toBe(200);
      }
      await logIn(their, app.url, person.email);
      await their.goto(`${app.url}/settings`);
      await their.getByLabel("Current password").fill(PASSWORD);
      await their.getByLabel("New password").fill("a changed long passphrase");
      await their.getByRole("button", { name: "Change password" }).click();
      await their.getByText("Your password has been changed").waitFor();

      await their.reload();
      const activity = their.getByRole("region", { name: "Recent security activity" });
      const events = activity.getByRole("listitem");
      await events.first().waitFor();
      expect(await events.first().textContent()).toContain("Password changed");
      const signedIn = events.filter({ hasText: /^Signed in/ }).first();
      expect(await signedIn.textContent()).toMatch(/from .+ on \d{1,2} \w{3} \d{4}, \d{2}:\d{2} UTC/);
      await expect(events.count()).resolves.toBe(10);
      await activity.getByRole("button", { name: "Show older activity" }).click();
      await expect.poll(() => events.count()).toBeGreaterThan(10);
      await expect(events.filter({ hasText: "Account created" }).count()).resolves.toBe(1);
      await shot(their, "settings-activity");
      expect(await horizontalOverflow(their)).toBe(0);
      await theirs.close();
    });
  });

  describe(`a ban in the ${appName} app with stateless sessions`, () => {
    let app: RunningApp;
    let browser: Browser;

    beforeAll(async () => {
      [app, browser] = await Promise.all([startApp({ app: appName, strategy: "stateless" }), launchChromium()]);
    });
    afterAll(async () => {
      await browser?.close();
      await app?.stop();
    });

    it("signs the banned user's open browser out at its next request", async () => {
      const adminEmail = uniqueEmail("stateless-admin");
      expect(
        app.cli(["users", "create", "--email", adminEmail, "--password", PASSWORD, "--role", "admin"]).status,
      ).toBe(0);
      const person = await createPerson(app.url, uniqueEmail("stateless-banned"), "Stateless Person");
      const [adminContext, theirs] = await Promise.all([
        browser.newContext({ viewport: DESKTOP }),
        browser.newContext({ viewport: DESKTOP }),
      ]);
      const [admin, their] = await Promise.all([adminContext.newPage(), theirs.newPage()]);
      await Promise.all([logIn(admin, app.url, adminEmail), logIn(their, app.url, person.email)]);

      await admin.goto(`${app.url}/admin/users/${person.id}`);
      await admin.getByRole("button", { name: "Ban user" }).click();
      await confirmWith(dialogOf(admin, /^Ban /), "Ban user");
      await notice(admin, "User banned").waitFor();

      await their.goto(`${app.url}/dashboard`);
      await their.waitForURL((url) => url.pathname === "/login");
      const session = (await (await their.request.get(`${app.url}/api/auth/session`)).json()) as { user: unknown };
      expect(session.user).toBeNull();
    });
  });
}

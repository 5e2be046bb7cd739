/**
 * The README's screenshots (docs/screenshots/*.png): each one's file name, viewport and the way to the state it
 * shows. `screenshots.test.ts` takes them all on every run; `npm run screenshots` has it write them to
 * docs/screenshots.
 */
import type { Page } from "playwright-core";
import type { RunningApp } from "./app";
import { PASSWORD } from "./http";
import { DESKTOP, logIn, MOBILE, outboxLink, requestReset, signUp, type Viewport } from "./pages";

interface Person {
  email: string;
  name: string;
}

/** The running app and the people `seed` made in it. */
export interface Scene {
  url: string;
  users: Record<"admin" | "member" | "resetter" | "other", Person>;
}

export interface Screenshot {
  name: string;
  viewport: Viewport;
  /** Brings a fresh browser context's page to the state to shoot. */
  shoot(page: Page, scene: Scene): Promise<void>;
}

/** The people on the screenshots: an admin, a member and a few more, so the user list is not empty. */
export function seed(app: RunningApp): Scene {
  const people = [
    { key: "admin", email: "grace@example.com", name: "Grace Hopper", role: "admin", verified: true },
    { key: "member", email: "ada@example.com", name: "Ada Lovelace", role: "user", verified: false },
    { key: "resetter", email: "alan@example.com", name: "Alan Turing", role: "user", verified: false },
    { key: "other", email: "katherine.johnson@example.com", name: "Katherine Johnson", role: "user", verified: true },
  ] as const;
  const users = {} as Scene["users"];
  for (const { key, email, name, role, verified } of people) {
    const args = ["users", "create", "--email", email, "--password", PASSWORD, "--role", role, "--name", name];
    const result = app.cli(verified ? [...args, "--verified"] : args);
    if (result.status !== 0) throw new Error(`gatehouse ${args.join(" ")}: ${result.stderr}`);
    users[key] = { email, name };
  }
  return { url: app.url, users };
}

/** Signs a new person up: their first dashboard greets them and asks them to verify the address. */
async function newAccountDashboard(page: Page, scene: Scene, person: Person): Promise<void> {
  await signUp(page, scene.url, person.email, { name: person.name });
  await page.getByText("Welcome to Gatehouse").waitFor();
}

async function memberAt(page: Page, scene: Scene, path: string): Promise<void> {
  await logIn(page, scene.url, scene.users.member.email);
  await page.goto(`${scene.url}${path}`);
}

async function adminUsers(page: Page, scene: Scene): Promise<void> {
  await logIn(page, scene.url, scene.users.admin.email);
  await page.goto(`${scene.url}/admin`);
  // The list comes from the admin API once the page is there.
  await page.getByRole("link", { name: scene.users.other.email }).waitFor();
}

async function failedLogIn(page: Page, scene: Scene): Promise<void> {
  await page.goto(`${scene.url}/login`);
  await page.getByLabel("Email").fill(scene.users.member.email);
  await page.getByLabel("Password").fill("not my password");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("main").getByRole("alert").waitFor();
}

/** Every screenshot, in the order they are taken. */
export const SCREENSHOTS: readonly Screenshot[] = [
  {
    name: "dashboard.png",
    viewport: DESKTOP,
    shoot: (page, scene) =>
      newAccountDashboard(page, scene, { email: "margaret@example.com", name: "Margaret Hamilton" }),
  },
  {
    name: "dashboard-mobile.png",
    viewport: MOBILE,
    shoot: (page, scene) => newAccountDashboard(page, scene, { email: "radia@example.com", name: "Radia Perlman" }),
  },
  { name: "settings.png", viewport: DESKTOP, shoot: (page, scene) => memberAt(page, scene, "/settings") },
  { name: "profile.png", viewport: DESKTOP, shoot: (page, scene) => memberAt(page, scene, "/profile") },
  { name: "admin-403.png", viewport: DESKTOP, shoot: (page, scene) => memberAt(page, scene, "/admin") },
  { name: "admin.png", viewport: DESKTOP, shoot: adminUsers },
  { name: "admin-mobile.png", viewport: MOBILE, shoot: adminUsers },
  { name: "login-error.png", viewport: DESKTOP, shoot: failedLogIn },
  { name: "login-error-mobile.png", viewport: MOBILE, shoot: failedLogIn },
  {
    name: "signup-field-error.png",
    viewport: DESKTOP,
    async shoot(page, scene) {
      await page.goto(`${scene.url}/signup`);
      await page.getByLabel("Email").fill("new.person@example.com");
      await page.getByLabel("Password").fill("password");
      await page.getByRole("button", { name: "Create account" }).click();
      await page.getByText("Check the highlighted fields.").waitFor();
    },
  },
  {
    name: "forgot-password.png",
    viewport: DESKTOP,
    shoot: (page, scene) => requestReset(page, scene.url, scene.users.member.email),
  },
  {
    name: "reset-password.png",
    viewport: DESKTOP,
    async shoot(page, scene) {
      const { email } = scene.users.resetter;
      await requestReset(page, scene.url, email);
      await page.goto(await outboxLink(scene.url, email, "/reset-password"));
      await page.getByLabel("New password").fill("a brand new long passphrase");
      await page.getByRole("button", { name: "Set new password" }).click();
      await page.getByRole("heading", { level: 1, name: "Your password has been changed" }).waitFor();
    },
  },
  // Last, so the emails of the states above are in it.
  {
    name: "dev-outbox.png",
    viewport: DESKTOP,
    async shoot(page, scene) {
      await page.goto(`${scene.url}/dev/outbox`);
    },
  },
];

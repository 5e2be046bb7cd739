import { execFileSync } from "node:child_process";
import type { Page } from "playwright-core";
import { PASSWORD } from "./http";

const OATHTOOL = "/usr/bin/oathtool";

/** One credential as Chromium's virtual authenticator holds it. */
export interface VirtualCredential {
  credentialId: string;
  isResidentCredential: boolean;
  rpId?: string;
  signCount: number;
}

/** Chromium's virtual authenticator on one page. */
export interface VirtualAuthenticator {
  credentials(): Promise<VirtualCredential[]>;
  /**
   * Whether it answers by itself, as a person touching it would. It also answers the email field's
   * autofill at once (as a person picking the passkey there): turn it off before opening a log-in page
   * that should wait for the password. A request made while it is off stays unanswered.
   */
  setAutomaticPresenceSimulation(enabled: boolean): Promise<void>;
}

/**
 * Gives `page` Chromium's virtual authenticator, through the DevTools protocol: a platform authenticator
 * (like a laptop's fingerprint reader) that keeps passkeys, verifies its user and answers every ceremony by
 * itself. It lives as long as the page, across navigations.
 */
export async function addVirtualAuthenticator(page: Page): Promise<VirtualAuthenticator> {
  const session = await page.context().newCDPSession(page);
  await session.send("WebAuthn.enable");
  const { authenticatorId } = await session.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    async credentials() {
      return (await session.send("WebAuthn.getCredentials", { authenticatorId })).credentials;
    },
    async setAutomaticPresenceSimulation(enabled) {
      await session.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId, enabled });
    },
  };
}

/**
 * The authenticator app's codes for the 30-second steps before, at and after now, from Debian's oathtool.
 * A code is refused once it (or a later one) was used, and the server accepts one step either side: after
 * the setup used `current`, the next log-in in the same step needs `next`.
 */
export function totpCodes(secret: string): { previous: string; current: string; next: string } {
  const start = new Date(Date.now() - 30_000)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, " UTC");
  const output = execFileSync(OATHTOOL, ["--totp", "--base32", "--window=2", `--now=${start}`, secret], {
    encoding: "utf8",
  });
  const [previous, current, next] = output.trim().split("\n") as [string, string, string];
  return { previous, current, next };
}

/** A 6-digit code that is none of the app's codes around now: certainly wrong. */
export function wrongCode(secret: string): string {
  const valid = Object.values(totpCodes(secret));
  return ["000000", "111111", "222222", "333333"].find((code) => !valid.includes(code)) as string;
}

/**
 * Turns on two-factor authentication from the settings page of a signed-in page: the password, the key
 * shown under the QR code, a first code. Returns the key and the recovery codes, and leaves the card showing
 * "on" again.
 */
export async function setUpTotp(page: Page, appUrl: string): Promise<{ secret: string; recoveryCodes: string[] }> {
  await page.goto(`${appUrl}/settings`);
  const card = page.getByRole("region", { name: "Two-factor authentication" });
  await card.getByRole("button", { name: "Set up two-factor authentication" }).click();
  await card.getByLabel("Password").fill(PASSWORD);
  await card.getByRole("button", { name: "Continue" }).click();
  const secret = ((await card.locator(".totp-secret").textContent()) ?? "").replaceAll(" ", "");
  await card.getByLabel("Code from the app").fill(totpCodes(secret).current);
  await card.getByRole("button", { name: "Turn on" }).click();
  const list = card.getByRole("list", { name: "Recovery codes" });
  await list.waitFor();
  const recoveryCodes = (await list.getByRole("listitem").allTextContents()).map((code) => code.trim());
  await card.getByRole("button", { name: "I have saved them" }).click();
  await card.getByText(`${recoveryCodes.length} recovery codes left.`).waitFor();
  return { secret, recoveryCodes };
}

/** Adds a passkey (with the virtual authenticator of the page) from the settings page, and waits for it in the list. */
export async function addPasskey(page: Page, appUrl: string, name: string): Promise<void> {
  await page.goto(`${appUrl}/settings`);
  const card = page.getByRole("region", { name: "Passkeys" });
  await card.getByRole("button", { name: "Add a passkey" }).click();
  await card.getByLabel("Password").fill(PASSWORD);
  await card.getByLabel("Name (optional)").fill(name);
  await card.getByRole("button", { name: "Create passkey" }).click();
  await card
    .getByRole("status")
    .filter({ hasText: `“${name}” was added.` })
    .waitFor();
}

/** Logs in with the password of an account with two-factor authentication, and waits for the second step. */
export async function logInToSecondStep(page: Page, appUrl: string, email: string): Promise<void> {
  await page.goto(`${appUrl}/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  await page.waitForURL((url) => url.pathname === "/login/verify");
}

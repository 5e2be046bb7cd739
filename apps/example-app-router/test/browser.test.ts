/**
 * The App Router example in Chromium and over HTTP, in both session strategies: the forms that its Server
 * Actions run, with JavaScript and without; Server Components that never render a signed-out visitor's
 * way in; Server Actions that refuse a call from another origin; and a Content-Security-Policy with a nonce
 * that refuses nothing the app runs. One app and one browser per strategy.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { createServer } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createGatehouse } from "gatehouse-auth";
import { createSqliteStore } from "gatehouse-auth/stores/sqlite";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApp, startApp } from "../../example/test/support/app";
import { launchChromium, newCspWatchedPage } from "../../example/test/support/browser";
import { createClient, PASSWORD, uniqueEmail } from "../../example/test/support/http";
import { logIn, outboxLink, requestReset, signUp, visitSettingsAndProfile } from "../../example/test/support/pages";
import { totpCodes, wrongCode } from "../../example/test/support/second-factors";

const NEW_PASSWORD = "a fresh and long passphrase";
/** What a page loads as files (Playwright's resource types), rather than asks the API. */
const FILES = new Set(["script", "stylesheet", "image", "font", "manifest", "other"]);
/** Longer than a session lasts by default (`maxAgeSeconds`, 7 days). */
const PAST_EXPIRY_MS = 8 * 24 * 60 * 60 * 1000;

describe.each(["database", "stateless"] as const)("the App Router example (%s sessions)", (strategy) => {
  let app: RunningApp;
  let browser: Browser;
  /** CSP violations seen by any JavaScript-enabled page, and files a page asked for in vain: the last test expects none. */
  const violations: string[] = [];
  const failedLoads: string[] = [];

  beforeAll(async () => {
    [app, browser] = await Promise.all([
      startApp({ app: "app-router", strategy, env: { GATEHOUSE_DEV_OUTBOX: "1" } }),
      launchChromium(),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  /** A page that records every CSP violation in `violations`, and every file it fails to load in `failedLoads`. */
  async function newPage(options: { javaScriptEnabled?: boolean } = {}): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
    const page = await newCspWatchedPage(context, violations);
    // A page's status and the API's answers are each test's business; a missing script, style or icon is a bug.
    page.on("response", (response) => {
      if (response.status() >= 400 && FILES.has(response.request().resourceType())) {
        failedLoads.push(`${response.status()} ${response.url()}`);
      }
    });
    return page;
  }

  const alertIn = (page: Page) => page.getByRole("main").getByRole("alert");
  const path = (page: Page) => new URL(page.url()).pathname;

  async function logOut(page: Page): Promise<void> {
    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL((url) => url.pathname === "/login" && url.searchParams.get("signedOut") === "1");
    await page.getByText("You have been signed out").waitFor();
  }

  /** Whether the API knows `email` with `password`: a log-in that does not keep its session. */
  async function canLogIn(email: string, password = PASSWORD): Promise<boolean> {
    return (await createClient(app.url).request("/api/auth/login", { json: { email, password } })).status === 200;
  }

  describe.each([
    ["with JavaScript", true],
    ["without JavaScript", false],
  ] as const)("the forms %s", (_name, javaScriptEnabled) => {
    let context: BrowserContext;
    let page: Page;

    beforeAll(async () => {
      page = await newPage({ javaScriptEnabled });
      context = page.context();
    });
    afterAll(async () => {
      await context?.close();
    });

    it("signs up, logs out, refuses a wrong password keeping the email, and logs back in", async () => {
      const email = uniqueEmail(`forms-${javaScriptEnabled ? "js" : "nojs"}`);
      await signUp(page, app.url, email, { name: "Ada" });
      await page.getByRole("heading", { level: 1, name: "Dashboard" }).waitFor();
      await expect(page.getByText("Welcome to Gatehouse, Ada. Your account is ready.").isVisible()).resolves.toBe(true);

      await logOut(page);
      await page.goto(`${app.url}/dashboard`);
      expect(path(page)).toBe("/login");

      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Password").fill("not the password");
      await page.getByRole("button", { name: "Log in" }).click();
      await alertIn(page).waitFor();
      expect(await alertIn(page).textContent()).toContain("The email or password is incorrect.");
      expect(path(page)).toBe("/login");
      // Sent back filled in, without JavaScript too; the password is never sent back.
      await expect(page.getByLabel("Email").inputValue()).resolves.toBe(email);
      await expect(page.getByLabel("Password").inputValue()).resolves.toBe("");

      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Log in" }).click();
      await page.waitForURL((url) => url.pathname === "/dashboard");
      await expect(page.getByText(`Welcome back, Ada.`).isVisible()).resolves.toBe(true);
      await logOut(page);
    });

    it("refuses a sign-up with the field's message, keeping the name and email", async () => {
      const email = uniqueEmail("short");
      await page.goto(`${app.url}/signup`);
      await page.getByLabel("Name").fill("Grace");
      await page.getByLabel("Email").fill(email);
      // Long enough for the browser's own check, too common for the server's.
      await page.getByLabel("Password").fill("password123");
      await page.getByRole("button", { name: "Create account" }).click();
      await alertIn(page).waitFor();
      expect(await alertIn(page).textContent()).toContain("Check the highlighted fields.");
      await expect(page.getByText("This password is too easy to guess.").isVisible()).resolves.toBe(true);
      await expect(page.getByLabel("Name").inputValue()).resolves.toBe("Grace");
      await expect(page.getByLabel("Email").inputValue()).resolves.toBe(email);
      expect(await canLogIn(email, "password123")).toBe(false);
    });

    it("asks for a reset link and says to check the inbox, whether or not the address has an account", async () => {
      for (const email of [uniqueEmail("nobody"), await signedUpByApi()]) {
        await requestReset(page, app.url, email);
        await expect(page.getByRole("heading", { level: 1, name: "Forgot your password?" }).isVisible()).resolves.toBe(
          true,
        );
      }
    });

    it("sets a new password from the emailed link, which then works once", async () => {
      const email = await signedUpByApi();
      await requestReset(page, app.url, email);
      const link = await outboxLink(app.url, email, "/reset-password");
      const response = await page.goto(link);
      expect(response?.headers()["referrer-policy"]).toBe("same-origin");
      await page.getByLabel("New password").fill(NEW_PASSWORD);
      await page.getByRole("button", { name: "Set new password" }).click();
      await page.getByRole("heading", { level: 1, name: "Your password has been changed" }).waitFor();
      await expect(page.title()).resolves.toBe("Your password has been changed · Gatehouse");
      expect(await canLogIn(email, NEW_PASSWORD)).toBe(true);
      expect(await canLogIn(email)).toBe(false);

      await page.goto(link);
      await page.getByLabel("New password").fill(`${NEW_PASSWORD} again`);
      await page.getByRole("button", { name: "Set new password" }).click();
      await page.getByText("This link cannot be used").waitFor();
    });

    it("verifies the address from the emailed link, by the button and not by opening it", async () => {
      const email = await signedUpByApi();
      const link = await outboxLink(app.url, email, "/verify-email");
      await page.goto(link);
      expect(await emailVerified(email)).toBe(false);
      await page.getByRole("button", { name: "Verify my email" }).click();
      await page.getByText("Your email address is verified").waitFor();
      expect(await emailVerified(email)).toBe(true);
    });

    it("changes the name on the profile through a guarded Server Action", async () => {
      const email = await signedUpByApi();
      await logIn(page, app.url, email);
      await page.goto(`${app.url}/profile`);
      await page.getByLabel("Name").fill("Lovelace");
      await page.getByRole("button", { name: "Save name" }).click();
      await page.getByText("Your name has been saved.").waitFor();
      await expect(page.locator(".details").getByText("Lovelace").isVisible()).resolves.toBe(true);
      await logOut(page);
    });
  });

  async function emailVerified(email: string): Promise<boolean> {
    const response = await createClient(app.url).request("/api/auth/login", { json: { email, password: PASSWORD } });
    return ((await response.json()) as { user: { emailVerified: boolean } }).user.emailVerified;
  }

  async function signedUpByApi(): Promise<string> {
    const email = uniqueEmail("api");
    expect(
      (await createClient(app.url).request("/api/auth/signup", { json: { email, password: PASSWORD } })).status,
    ).toBe(201);
    return email;
  }

  describe("a Server Component page with requireUser()", () => {
    async function dashboardWith(cookie: string | null): Promise<{ status: number; location: URL; body: string }> {
      const response = await fetch(`${app.url}/dashboard`, {
        headers: cookie === null ? {} : { cookie },
        redirect: "manual",
      });
      return {
        status: response.status,
        location: new URL(response.headers.get("location") ?? "/", app.url),
        body: await response.text(),
      };
    }

    function expectSignedOut(answer: { status: number; location: URL; body: string }, email: string): void {
      expect([303, 307]).toContain(answer.status);
      // A dead cookie goes to the log-in page through the auth API, which clears it (the page cannot).
      const login =
        answer.location.pathname === "/api/auth/session/clear"
          ? new URL(answer.location.searchParams.get("next") ?? "", app.url)
          : answer.location;
      expect(login.pathname).toBe("/login");
      expect(login.searchParams.get("next")).toBe("/dashboard");
      expect(answer.body).not.toContain(email);
      expect(answer.body).not.toContain("@example.com");
    }

    it("sends a visitor without a cookie to /login?next=/dashboard and renders nothing of anyone", async () => {
      await signedUpByApi();
      expectSignedOut(await dashboardWith(null), "@example.com");
    });

    it("treats a forged cookie as signed out", async () => {
      const client = createClient(app.url);
      const email = uniqueEmail("forged");
      await client.request("/api/auth/signup", { json: { email, password: PASSWORD } });
      const [name, value] = (client.cookie as string).split("=") as [string, string];
      // A database token of the right shape gets past the proxy's check, which reads no store: the page's
      // own check must refuse it. A sealed cookie is refused by whichever looks first.
      const forged =
        strategy === "database"
          ? value.replace(/[A-Za-z0-9_-]/g, (c) => (c === "A" ? "B" : "A"))
          : value.slice(0, -4) + (value.endsWith("AAAA") ? "BBBB" : "AAAA");
      expectSignedOut(await dashboardWith(`${name}=${forged}`), email);
      // The real one still works.
      const real = await dashboardWith(client.cookie as string);
      expect(real.status).toBe(200);
      expect(real.body).toContain(email);
    });

    it("treats an expired session as signed out", async () => {
      const email = await signedUpByApi();
      // The same database and secret, with a clock 8 days back: the session it makes has expired by now.
      const store = createSqliteStore({ url: app.env.DATABASE_URL as string });
      const past = createGatehouse({
        store,
        secret: app.env.GATEHOUSE_SECRET as string,
        strategy,
        url: app.url,
        secureCookies: true,
        now: () => Date.now() - PAST_EXPIRY_MS,
      });
      try {
        const { setCookie } = await past.logIn({ email, password: PASSWORD });
        expectSignedOut(await dashboardWith(setCookie.split(";", 1)[0] as string), email);
      } finally {
        await store.close?.();
      }
    });
  });

  describe("a Server Action called from another origin", () => {
    /** The hidden fields React renders into a form for its Server Action, as the page's HTML has them. */
    async function actionFields(pagePath: string): Promise<Array<[string, string]>> {
      const html = await (await fetch(`${app.url}${pagePath}`)).text();
      const form = html.slice(html.indexOf("<form"), html.indexOf("</form>"));
      const fields = [...form.matchAll(/<input type="hidden" name="(\$ACTION[^"]*)"(?: value="([^"]*)")?/g)].map(
        ([, name, value]): [string, string] => [name as string, (value ?? "").replaceAll("&quot;", '"')],
      );
      expect(fields.map(([name]) => name)).toContain("$ACTION_KEY");
      return fields;
    }

    const ORIGINS: Array<[string, Record<string, string>]> = [
      ["another site", { origin: "https://evil.example" }],
      ["a sandboxed frame (Origin: null)", { origin: "null" }],
      ["no Origin at all", {}],
    ];

    async function post(pagePath: string, fields: Array<[string, string]>, headers: Record<string, string>) {
      const body = new FormData();
      for (const [name, value] of fields) body.append(name, value);
      const response = await fetch(`${app.url}${pagePath}`, { method: "POST", body, headers, redirect: "manual" });
      await response.arrayBuffer();
      return response;
    }

    it.each(ORIGINS)("logs nobody in from %s", async (_name, headers) => {
      const email = await signedUpByApi();
      const fields = await actionFields("/login");
      const response = await post(
        "/login",
        [...fields, ["email", email], ["password", PASSWORD], ["next", "/dashboard"]],
        headers,
      );
      expect([200, 403, 500]).toContain(response.status);
      expect(response.headers.get("location")).toBeNull();
      expect(response.headers.getSetCookie().filter((c) => c.includes("gatehouse.session="))).toEqual([]);
    });

    it.each(ORIGINS)("creates no account from %s", async (_name, headers) => {
      const email = uniqueEmail("csrf");
      const fields = await actionFields("/signup");
      const response = await post(
        "/signup",
        [...fields, ["email", email], ["password", PASSWORD], ["next", "/dashboard"]],
        headers,
      );
      expect(response.headers.get("location")).toBeNull();
      expect(response.headers.getSetCookie().filter((c) => c.includes("gatehouse.session="))).toEqual([]);
      expect(await canLogIn(email)).toBe(false);
    });

    it("does what it is for from the app's own origin", async () => {
      const email = uniqueEmail("same-origin");
      const response = await post(
        "/signup",
        [...(await actionFields("/signup")), ["email", email], ["password", PASSWORD], ["next", "/dashboard"]],
        { origin: app.url },
      );
      expect(response.status).toBe(303);
      expect(response.headers.getSetCookie().some((c) => c.includes("gatehouse.session="))).toBe(true);
      expect(await canLogIn(email)).toBe(true);
    });
  });

  it("logs in a user with TOTP without JavaScript: password, a wrong code refused, the right code", async () => {
    // Enrolled through the HTTP API, with a code from oathtool: the set-up uses the current step, so the
    // log-in takes the next one.
    const client = createClient(app.url);
    const email = uniqueEmail("nojs-totp");
    expect((await client.request("/api/auth/signup", { json: { email, password: PASSWORD } })).status).toBe(201);
    const setup = await client.request("/api/auth/mfa/totp/setup", { json: { password: PASSWORD } });
    expect(setup.status).toBe(200);
    const { secret } = (await setup.json()) as { secret: string };
    const confirmed = await client.request("/api/auth/mfa/totp/confirm", { json: { code: totpCodes(secret).current } });
    expect(confirmed.status).toBe(200);

    const page = await newPage({ javaScriptEnabled: false });
    await page.goto(`${app.url}/login`);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in", exact: true }).click();
    await page.waitForURL((url) => url.pathname === "/login/verify");
    await expect(page.getByRole("button", { name: "Use a passkey" }).count()).resolves.toBe(0);

    await page.getByLabel("Authentication code").fill(wrongCode(secret));
    await page.getByRole("button", { name: "Verify" }).click();
    await page.waitForURL(
      (url) => url.pathname === "/login/verify" && url.searchParams.get("error") === "invalid_code",
    );
    await expect(alertIn(page).textContent()).resolves.toContain("That code was not accepted.");

    await page.getByLabel("Authentication code").fill(totpCodes(secret).next);
    await page.getByRole("button", { name: "Verify" }).click();
    await page.waitForURL((url) => url.pathname === "/dashboard");
    await page.getByRole("heading", { level: 1, name: "Dashboard" }).waitFor();
    await expect(page.getByText(email).first().isVisible()).resolves.toBe(true);
    await page.context().close();
  });

  it("sends its Content-Security-Policy, with the nonce of its scripts, on every HTML page, 404s included", async () => {
    // A regression test: proxy.ts's matcher once skipped `favicon.ico` and anything starting `_next/static` or
    // `_next/image`, so the not-found page at those paths (/favicon.ico, /favicon.icox, /_next/staticx) went
    // out with no Content-Security-Policy at all, its inline scripts unrestricted. apps/example sends one.
    for (const pagePath of [
      "/favicon.ico",
      "/favicon.icox",
      "/favicon.ico/x",
      "/_next/staticx",
      "/_next/imagex",
      "/nope",
    ]) {
      const response = await fetch(`${app.url}${pagePath}`);
      const body = await response.text();
      expect(response.headers.get("content-type"), pagePath).toContain("text/html");
      const nonce = /'nonce-([^']+)'/.exec(response.headers.get("content-security-policy") ?? "")?.[1];
      expect(nonce, `${pagePath} has a CSP with a nonce`).toBeTruthy();
      const scripts = [...body.matchAll(/<script\b[^>]*>/g)].map(([tag]) => tag);
      expect(scripts.length).toBeGreaterThan(0);
      for (const tag of scripts) expect(tag, pagePath).toContain(`nonce="${nonce}"`);
    }
  });

  it("sent a Content-Security-Policy with a fresh nonce that refused nothing the pages ran or loaded", async () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const policy = (await fetch(`${app.url}/login`)).headers.get("content-security-policy") ?? "";
      nonces.add(/'nonce-([^']+)'/.exec(policy)?.[1] ?? "");
    }
    expect(nonces.size).toBe(2);
    expect(nonces.has("")).toBe(false);

    // Client-side navigations and a page loaded afresh, besides the forms above.
    const page = await newPage();
    await signUp(page, app.url, uniqueEmail("csp"));
    await visitSettingsAndProfile(page);
    for (const pagePath of ["/forgot-password", "/no-such-page"]) {
      await page.goto(`${app.url}${pagePath}`);
      await page.waitForLoadState("networkidle");
    }
    expect(violations).toEqual([]);
    expect(failedLoads).toEqual([]);

    // The watcher does see a refusal: an inline event handler, which no nonce can allow ('strict-dynamic'
    // lets the app's own scripts add scripts, so an injected <script> element would prove nothing).
    await page.evaluate(() => {
      const button = document.createElement("button");
      button.setAttribute("onclick", "window.injected = true");
      document.body.append(button);
      button.click();
    });
    await expect.poll(() => violations.length).toBeGreaterThan(0);
    expect(await page.evaluate(() => (window as unknown as { injected?: boolean }).injected)).toBeUndefined();
    await page.context().close();
  });
});

/** This machine's first non-loopback IPv4 address, if it has one. */
function externalAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((entry) => entry && entry.family === "IPv4" && !entry.internal)?.address;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** A GET with exactly these headers (fetch will not send a Host of the caller's choosing). */
function rawGet(address: string, port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolveStatus, reject) => {
    const req = httpRequest({ host: address, port, path, headers }, (res) => {
      res.resume();
      res.on("end", () => resolveStatus(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

// In the App Router the outbox check has no socket address, and Next keeps a client's own X-Forwarded-For:
// a server listening beyond loopback must not show the outbox (and its reset links) to anyone on the network
// who sends `Host: <GATEHOUSE_URL's host>` and `X-Forwarded-For: 127.0.0.1`.
describe.skipIf(externalAddress() === undefined)(
  "the App Router example's dev outbox, listening on every interface",
  () => {
    let child: ReturnType<typeof spawn>;
    let port: number;
    let output = "";
    let dir = "";
    const address = externalAddress() as string;

    beforeAll(async () => {
      port = await freePort();
      dir = mkdtempSync(join(tmpdir(), "gatehouse-outbox-"));
      const env = {
        ...process.env,
        NODE_ENV: "production",
        PORT: String(port),
        GATEHOUSE_URL: `http://127.0.0.1:${port}`,
        DATABASE_URL: `file:${join(dir, "app.db")}`,
        GATEHOUSE_SECRET: randomBytes(32).toString("base64url"),
        GATEHOUSE_DEV_OUTBOX: "1",
        NEXT_TELEMETRY_DISABLED: "1",
      };
      const cwd = resolve(import.meta.dirname, "..");
      const nextBin = join(cwd, "..", "..", "node_modules", "next", "dist", "bin", "next");
      child = spawn(process.execPath, [nextBin, "start", "-p", String(port), "-H", "0.0.0.0"], { cwd, env });
      child.stdout?.on("data", (chunk) => (output += chunk));
      child.stderr?.on("data", (chunk) => (output += chunk));
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        try {
          if ((await fetch(`http://127.0.0.1:${port}/api/health`)).ok) return;
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`next start did not become healthy:\n${output}`);
    });
    afterAll(async () => {
      if (child && child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    // No request can prove it comes from this machine here, so the outbox is closed to all, this machine
    // included; on loopback alone (GATEHOUSE_LOOPBACK_ONLY=1, as npm start and the tests above run it) it opens.
    it("is closed to everyone, whatever X-Forwarded-For they send", async () => {
      const host = `127.0.0.1:${port}`;
      expect(await rawGet("127.0.0.1", port, "/dev/outbox", { host })).toBe(404);
      expect(await rawGet(address, port, "/dev/outbox", { host })).toBe(404);
      for (const forwardedFor of ["127.0.0.1", "::1", "::ffff:127.0.0.1"]) {
        expect(
          await rawGet(address, port, "/dev/outbox", { host, "x-forwarded-for": forwardedFor }),
          forwardedFor,
        ).toBe(404);
      }
    });
  },
);

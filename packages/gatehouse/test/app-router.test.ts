/**
 * `gatehouse-auth/next/app` in a real App Router app: the fixture (test/fixtures/app-router-app) is built
 * with `next build` and served by `next start` on its own port, SQLite file and secret, then driven over HTTP.
 * Its `middleware.ts` runs `gatehouseProxy` on the Edge runtime in front of every page but /admin, so the
 * pages' own checks are driven with cookies that pass the optimistic check (a revoked or forged session).
 * It uses the library's build (dist): `npm test` builds it first; run `npm run build` when calling vitest directly.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSWORD } from "./support/credentials.js";

const packageDir = resolve(import.meta.dirname, "..");
const fixtureDir = join(packageDir, "test", "fixtures", "app-router-app");
const nextBin = join(packageDir, "..", "..", "node_modules", "next", "dist", "bin", "next");

let url = "";
let dataDir = "";
let dbFile = "";
let server: ChildProcess | undefined;
let output = "";
let buildOutput = "";

function run(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [nextBin, ...args], {
    cwd: fixtureDir,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (chunk) => (output += chunk));
  child.stderr?.on("data", (chunk) => (output += chunk));
  return child;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolvePort(port));
    });
  });
}

beforeAll(async () => {
  if (!existsSync(join(packageDir, "dist", "next", "app.js"))) {
    throw new Error("gatehouse-auth is not built. Run `npm run build` (npm test does it) before this test.");
  }
  const env: NodeJS.ProcessEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };
  const build = run(["build"], { ...env, NODE_ENV: "production" });
  const code = await new Promise<number | null>((done) => build.once("exit", done));
  if (code !== 0) throw new Error(`next build of the fixture failed (${code}):\n${output}`);
  buildOutput = output;

  dataDir = mkdtempSync(join(tmpdir(), "gatehouse-app-router-"));
  dbFile = join(dataDir, "app.db");
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  server = run(["start", "-p", String(port), "-H", "127.0.0.1"], {
    ...env,
    NODE_ENV: "production",
    GATEHOUSE_URL: url,
    DATABASE_URL: `file:${dbFile}`,
    GATEHOUSE_SECRET: randomBytes(32).toString("base64url"),
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`next start exited with ${server.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`next start did not answer within 60 s:\n${output}`);
    const ready = await fetch(url).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    await new Promise((r) => setTimeout(r, 200));
  }
}, 600_000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server?.once("exit", r));
    server.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (server.exitCode === null) server.kill("SIGKILL");
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

interface Init {
  method?: string;
  cookie?: string;
  json?: unknown;
  origin?: string | null;
}

/** A request to the app, never following redirects; writes come from the app's origin unless told. */
function request(path: string, init: Init = {}): Promise<Response> {
  const method = init.method ?? (init.json === undefined ? "GET" : "POST");
  const headers = new Headers();
  if (init.cookie) headers.set("cookie", init.cookie);
  if (method !== "GET" && init.origin !== null) headers.set("origin", init.origin ?? url);
  if (init.json !== undefined) headers.set("content-type", "application/json");
  return fetch(`${url}${path}`, {
    method,
    headers,
    redirect: "manual",
    ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
  });
}

/**
 * Which code answered: gatehouseProxy's redirect in the middleware carries `Cache-Control: no-store` alone and
 * no page, where a page's `redirect()` comes with Next's `private, no-cache, no-store, …` and an HTML body.
 */
function answeredBy(response: Response): "middleware" | "page" {
  return response.headers.get("cache-control") === "no-store" && !response.headers.get("content-type")
    ? "middleware"
    : "page";
}

/** The absolute URL a redirect points to (Next shortens same-origin ones to a path). */
function locationOf(response: Response): string {
  return new URL(response.headers.get("location") ?? "", url).href;
}

function cookieOf(response: Response): string {
  const setCookie = response.headers.getSetCookie().find((value) => value.startsWith("__Host-gatehouse.session="));
  if (!setCookie) throw new Error(`no session cookie in ${response.status} ${response.url}`);
  return setCookie.split(";")[0]!;
}

let emails = 0;
async function signUp(): Promise<{ email: string; cookie: string }> {
  const email = `app-router-${++emails}-${Date.now()}@example.com`;
  const response = await request("/api/auth/signup", { json: { email, password: PASSWORD } });
  expect(response.status, output).toBe(201);
  return { email, cookie: cookieOf(response) };
}

/** Raw writes to the app's database, through a connection of the test's own. */
function writeDb(sql: string, ...params: unknown[]): void {
  const db = new Database(dbFile);
  try {
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}

describe("the auth API as a catch-all Route Handler", () => {
  it("signs up with 201, {user} and a hardened session cookie", async () => {
    const email = `signup-${Date.now()}@example.com`;
    const response = await request("/api/auth/signup", { json: { email, password: PASSWORD, name: "Ada" } });
    expect(response.status).toBe(201);
    const body = await response.json();
    expect(Object.keys(body)).toEqual(["user"]);
    expect(body.user).toMatchObject({ email, name: "Ada", role: "user", emailVerified: false });
    const setCookies = response.headers.getSetCookie();
    expect(setCookies).toHaveLength(1);
    // `next start` runs in production: the cookie is Secure and __Host- prefixed.
    expect(setCookies[0]).toMatch(/^__Host-gatehouse\.session=[^;]+;.*HttpOnly; Secure/i);
    expect(setCookies[0]).toMatch(/SameSite=Lax/i);
    expect(response.headers.get("cache-control")).toContain("no-store");
  });

  it("logs in with 200, reads the session, logs out with 200 {ok:true} and Max-Age=0", async () => {
    const { email } = await signUp();
    const loggedIn = await request("/api/auth/login", { json: { email, password: PASSWORD } });
    expect(loggedIn.status).toBe(200);
    expect((await loggedIn.json()).user.email).toBe(email);
    const cookie = cookieOf(loggedIn);

    const session = await request("/api/auth/session", { cookie });
    expect(session.status).toBe(200);
    const body = await session.json();
    expect(Object.keys(body).sort()).toEqual(["impersonatedBy", "session", "user"]);
    expect(body.user.email).toBe(email);

    const loggedOut = await request("/api/auth/logout", { method: "POST", cookie, json: {} });
    expect(loggedOut.status).toBe(200);
    expect(await loggedOut.json()).toEqual({ ok: true });
    expect(loggedOut.headers.getSetCookie()[0]).toMatch(/^__Host-gatehouse\.session=;.*Max-Age=0/);
    expect(await (await request("/api/auth/session", { cookie })).json()).toEqual({ user: null });
  });

  it("answers 401 invalid_credentials to a wrong password, 404 to an unknown route, 405 to a wrong method", async () => {
    const { email } = await signUp();
    const wrong = await request("/api/auth/login", { json: { email, password: "not the password" } });
    expect(wrong.status).toBe(401);
    expect((await wrong.json()).error.code).toBe("invalid_credentials");
    expect((await request("/api/auth/nope")).status).toBe(404);
    const method = await request("/api/auth/login");
    expect(method.status).toBe(405);
    expect(method.headers.get("allow")).toBe("POST");
  });

  it("logs in with an HTML form post: 303 to next and a session cookie", async () => {
    const { email } = await signUp();
    const response = await fetch(`${url}/api/auth/login`, {
      method: "POST",
      headers: { origin: url, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ email, password: PASSWORD, next: "/dashboard" }),
      redirect: "manual",
    });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/dashboard");
    const dashboard = await request("/dashboard", { cookie: cookieOf(response) });
    expect(await dashboard.text()).toContain(email);
  });

  it("answers 403 csrf to a cross-origin log-in", async () => {
    const { email } = await signUp();
    const response = await request("/api/auth/login", {
      json: { email, password: PASSWORD },
      origin: "https://evil.example",
    });
    expect(response.status).toBe(403);
    expect((await response.json()).error.code).toBe("csrf");
    expect(response.headers.getSetCookie()).toEqual([]);
  });
});

describe("middleware.ts: gatehouseProxy on the Edge runtime", () => {
  it("is built for the Edge runtime, with no Node-only module reached", () => {
    const manifest = JSON.parse(readFileSync(join(fixtureDir, ".next", "server", "middleware-manifest.json"), "utf8"));
    const middleware = manifest.middleware["/"];
    expect(middleware?.name).toBe("middleware");
    expect(middleware.files.length).toBeGreaterThan(0);
    for (const file of middleware.files) expect(file).toMatch(/^server\/edge\//);
    expect(middleware.matchers.map((matcher: { originalSource: string }) => matcher.originalSource)).toEqual([
      "/((?!api/|admin|_next/static|_next/image|favicon.ico).*)",
    ]);
    // A Node.js middleware (proxy.ts, or `runtime: "nodejs"`) would be listed here instead.
    const functions = JSON.parse(
      readFileSync(join(fixtureDir, ".next", "server", "functions-config-manifest.json"), "utf8"),
    );
    expect(functions.functions["/_middleware"]).toBeUndefined();
    expect(buildOutput).not.toMatch(/Edge Runtime/i);
  });

  it("redirects a signed-out GET of a protected path to /login with next, and renders no page", async () => {
    for (const [path, next] of [
      ["/dashboard", "/dashboard"],
      ["/dashboard/reports?tab=2", "/dashboard/reports?tab=2"],
    ] as const) {
      const response = await request(path);
      expect(response.status).toBe(307);
      expect(answeredBy(response)).toBe("middleware");
      expect(locationOf(response)).toBe(`${url}/login?${new URLSearchParams({ next })}`);
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(await response.text()).not.toContain("<html");
    }
  });

  it("lets a signed-in visitor through to the page", async () => {
    const { email, cookie } = await signUp();
    const response = await request("/dashboard", { cookie });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain(email);
  });

  it("treats a malformed cookie as signed out, and clears it", async () => {
    const response = await request("/dashboard", { cookie: "__Host-gatehouse.session=forged" });
    expect(response.status).toBe(307);
    expect(answeredBy(response)).toBe("middleware");
    expect(locationOf(response)).toBe(`${url}/login?next=%2Fdashboard`);
    expect(response.headers.getSetCookie()).toEqual([expect.stringMatching(/^__Host-gatehouse\.session=;.*Max-Age=0/)]);
  });

  it("sends a signed-in visitor away from /login to /dashboard, or to a safe next", async () => {
    const { cookie } = await signUp();
    for (const [path, target] of [
      ["/login", "/dashboard"],
      ["/login?next=%2Fadmin", "/admin"],
      ["/login?next=https%3A%2F%2Fevil.example%2F", "/dashboard"],
    ] as const) {
      const response = await request(path, { cookie });
      expect(response.status, path).toBe(307);
      expect(answeredBy(response)).toBe("middleware");
      expect(locationOf(response), path).toBe(`${url}${target}`);
    }
    const signedOut = await request("/login");
    expect(signedOut.status).toBe(200);
    expect(await signedOut.text()).toContain("Log in");
  });
});

describe("a Server Component page with requireUser(), behind the middleware", () => {
  it("sends a visitor whose session was revoked to /login?next=%2Fdashboard, clearing the dead cookie on the way, and renders no user data", async () => {
    const { cookie } = await signUp();
    expect((await request("/api/auth/logout", { method: "POST", cookie, json: {} })).status).toBe(200);
    // The cookie still has the shape of a session token: the middleware lets it through, the store refuses it.
    const response = await request("/dashboard", { cookie });
    expect([303, 307]).toContain(response.status);
    expect(answeredBy(response)).toBe("page");
    const location = new URL(response.headers.get("location") ?? "", url);
    expect(location.pathname).toBe("/api/auth/session/clear");
    expect(location.searchParams.get("next")).toBe("/login?next=%2Fdashboard");
    const text = await response.text();
    expect(text).not.toContain("@example.com");
    expect(text).not.toContain('id="email"');
    // The auth API clears the cookie the page could not, so the middleware stops treating the visitor as
    // signed in and the log-in page renders instead of sending them back (a redirect loop).
    const cleared = await request(location.pathname + location.search, { cookie });
    expect(cleared.status).toBe(302);
    expect(cleared.headers.get("location")).toBe("/login?next=%2Fdashboard");
    expect(cleared.headers.get("set-cookie")).toMatch(/Max-Age=0/);
    const login = await request("/login?next=%2Fdashboard");
    expect(login.status).toBe(200);
  });

  it("never clears a live session through session/clear, so a link to it signs nobody out", async () => {
    const { cookie } = await signUp();
    const response = await request("/api/auth/session/clear?next=%2Fdashboard", { cookie });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("/dashboard");
    expect(response.headers.get("set-cookie") ?? "").not.toMatch(/Max-Age=0/);
    expect((await request("/dashboard", { cookie })).status).toBe(200);
    const offSite = await request("/api/auth/session/clear?next=https%3A%2F%2Fevil.example%2F", { cookie });
    expect(offSite.headers.get("location")).toBe("/login");
  });

  it("renders the signed-in user's email", async () => {
    const { email, cookie } = await signUp();
    const response = await request("/dashboard", { cookie });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain(email);
  });

  it("treats a forged cookie of the right shape as signed out", async () => {
    const { cookie } = await signUp();
    const [name, value] = cookie.split("=") as [string, string];
    const madeUp = `${randomBytes(12).toString("base64url")}.${randomBytes(24).toString("base64url")}`;
    for (const forged of [`${name}=${value.slice(0, -2)}xx`, `${name}=${madeUp}`]) {
      const response = await request("/dashboard", { cookie: forged });
      expect([303, 307]).toContain(response.status);
      expect(answeredBy(response)).toBe("page");
      expect(await response.text()).not.toContain("@example.com");
    }
  });

  it("treats an expired session as signed out", async () => {
    const { email, cookie } = await signUp();
    expect((await request("/dashboard", { cookie })).status).toBe(200);
    writeDb(
      "UPDATE gatehouse_sessions SET expires_at = 1, created_at = 1, last_seen_at = 1 WHERE user_id = (SELECT id FROM gatehouse_users WHERE email = ?)",
      email,
    );
    const response = await request("/dashboard", { cookie });
    expect([303, 307]).toContain(response.status);
    expect(answeredBy(response)).toBe("page");
    expect(await response.text()).not.toContain(email);
  });
});

// /admin is outside the middleware's matcher: requirePermission() meets signed-out visitors alone.
describe("a Server Component page with requirePermission()", () => {
  it("sends a plain user to the forbidden path, without the admin data", async () => {
    const other = await signUp();
    const { cookie } = await signUp();
    const response = await request("/admin", { cookie });
    expect([303, 307]).toContain(response.status);
    expect(response.headers.get("location")).toMatch(/\/403$/);
    expect(await response.text()).not.toContain(other.email);
  });

  it("redirects a signed-out visitor to /login?next=%2Fadmin", async () => {
    const response = await request("/admin");
    expect(answeredBy(response)).toBe("page");
    expect(response.headers.get("location")).toMatch(/\/login\?next=%2Fadmin$/);
  });

  it("renders for a user whose role grants the permission", async () => {
    const { email } = await signUp();
    writeDb("UPDATE gatehouse_users SET role = 'admin' WHERE email = ?", email);
    const loggedIn = await request("/api/auth/login", { json: { email, password: PASSWORD } });
    const response = await request("/admin", { cookie: cookieOf(loggedIn) });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain(email);
  });
});

describe("Route Handlers with withRouteAuth", () => {
  it("/api/me answers 401 unauthenticated JSON signed out, 200 with the user signed in", async () => {
    const signedOut = await request("/api/me");
    expect(signedOut.status).toBe(401);
    expect(await signedOut.json()).toEqual({ error: { code: "unauthenticated", message: expect.any(String) } });

    const { email, cookie } = await signUp();
    const signedIn = await request("/api/me", { cookie });
    expect(signedIn.status).toBe(200);
    expect((await signedIn.json()).user.email).toBe(email);
    expect(signedIn.headers.get("cache-control")).toBe("private, no-store");
  });

  it("answers 403 csrf to a cross-origin or Origin-less POST, and 200 to a same-origin one", async () => {
    const { cookie } = await signUp();
    for (const origin of ["https://evil.example", null]) {
      const response = await request("/api/me", { cookie, json: { name: "x" }, origin });
      expect(response.status).toBe(403);
      expect((await response.json()).error.code).toBe("csrf");
    }
    const same = await request("/api/me", { cookie, json: { name: "x" } });
    expect(same.status).toBe(200);
    expect((await same.json()).name).toBe("x");
  });

  it("/api/admin answers 403 forbidden to a plain user and 401 signed out", async () => {
    const { cookie } = await signUp();
    const forbidden = await request("/api/admin", { cookie });
    expect(forbidden.status).toBe(403);
    expect((await forbidden.json()).error.code).toBe("forbidden");
    expect((await request("/api/admin")).status).toBe(401);
  });
});

/** What Next renders into a Server Action form for a browser without JavaScript: its hidden fields. */
async function actionForm(path: string, cookie?: string): Promise<FormData> {
  const html = await (await request(path, cookie ? { cookie } : {})).text();
  const form = /<form[^>]*>(.*?)<\/form>/s.exec(html)?.[1];
  if (!form) throw new Error(`no form on ${path}:\n${html.slice(0, 2000)}`);
  const fromHtml = (text: string) =>
    text
      .replace(/&quot;/g, '"')
      .replace(/&#x27;/g, "'")
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&amp;/g, "&");
  const data = new FormData();
  let action = false;
  for (const [, name, value] of form.matchAll(/<input type="hidden" name="([^"]+)"(?: value="([^"]*)")?\/>/g)) {
    data.append(fromHtml(name!), fromHtml(value ?? ""));
    action ||= name!.startsWith("$ACTION");
  }
  if (!action) throw new Error(`no Server Action on ${path}`);
  return data;
}

/** Submits a Server Action form as a browser without JavaScript does: multipart, from `origin` (or none). */
function submit(
  path: string,
  data: FormData,
  init: { origin?: string | null; cookie?: string } = {},
): Promise<Response> {
  const headers = new Headers();
  if (init.origin !== null) headers.set("origin", init.origin ?? url);
  if (init.cookie) headers.set("cookie", init.cookie);
  return fetch(`${url}${path}`, { method: "POST", headers, body: data, redirect: "manual" });
}

function sessionSetCookies(response: Response): string[] {
  return response.headers.getSetCookie().filter((value) => value.startsWith("__Host-gatehouse.session="));
}

describe("Server Actions: forms that work without JavaScript", () => {
  it("logs in: 303 to next with the session and device cookies, and the dashboard renders", async () => {
    const { email } = await signUp();
    const data = await actionForm("/login?next=%2Fdashboard%3Ftab%3D1");
    data.set("email", email);
    data.set("password", PASSWORD);
    const response = await submit("/login", data);
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/dashboard?tab=1");
    const cookies = response.headers.getSetCookie();
    expect(cookies.some((value) => value.startsWith("__Host-gatehouse.device="))).toBe(true);
    const [session] = sessionSetCookies(response);
    expect(session).toMatch(/; HttpOnly/i);
    expect(session).toMatch(/; Secure/i);
    expect(session).toMatch(/; SameSite=lax/i);
    expect(session).toMatch(/; Path=\//);
    const dashboard = await request("/dashboard", { cookie: session!.split(";")[0]! });
    expect(dashboard.status).toBe(200);
    expect(await dashboard.text()).toContain(email);
  });

  it("answers a wrong password on the page itself: the message, the email kept, no session", async () => {
    const { email } = await signUp();
    const data = await actionForm("/login");
    data.set("email", email);
    data.set("password", "not the password at all");
    const response = await submit("/login", data);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toMatch(/role="alert">[^<]*(email or password|Email or password)/);
    expect(html).toContain(`value="${email}"`);
    expect(html).not.toContain("not the password at all");
    expect(sessionSetCookies(response)).toEqual([]);
  });

  it.each([
    ["another origin that Next's serverActions.allowedOrigins lets through", "https://evil.example"],
    ["no Origin, which Next lets through", null],
  ])("refuses a log-in from %s: no session, nothing changed", async (_case, origin) => {
    const { email } = await signUp();
    const data = await actionForm("/login");
    data.set("email", email);
    data.set("password", PASSWORD);
    const response = await submit("/login", data, { origin });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("This request did not come from this site.");
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("logs out from the dashboard's form: 303 to /login, the cookie cleared and the session ended", async () => {
    const { cookie } = await signUp();
    const response = await submit("/dashboard", await actionForm("/dashboard", cookie), { cookie });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/login");
    expect(sessionSetCookies(response)[0]).toMatch(/Max-Age=0/i);
    expect((await request("/api/me", { cookie })).status).toBe(401);
  });

  it("keeps the session of a log-out from another origin", async () => {
    const { cookie } = await signUp();
    const response = await submit("/dashboard", await actionForm("/dashboard", cookie), {
      cookie,
      origin: "https://evil.example",
    });
    expect(sessionSetCookies(response)).toEqual([]);
    expect((await request("/api/me", { cookie })).status).toBe(200);
  });

  it("runs a guardAction only for a signed-in user from this origin", async () => {
    const { cookie } = await signUp();
    const rename = async (name: string, init: { origin?: string | null; cookie?: string }) => {
      const data = await actionForm("/profile", cookie);
      data.set("name", name);
      return (await submit("/profile", data, init)).text();
    };
    expect(await rename("Mallory", { cookie, origin: "https://evil.example" })).toContain('role="alert">csrf<');
    expect(await rename("Mallory", { cookie, origin: null })).toContain('role="alert">csrf<');
    // Signed out, the page itself then sends the visitor to log in; the action did nothing either way.
    expect(await rename("Mallory", {})).not.toContain("Saved.");
    expect((await (await request("/api/me", { cookie })).json()).user.name).toBeNull();
    expect(await rename("Ada", { cookie })).toContain('role="status">Saved.<');
    expect((await (await request("/api/me", { cookie })).json()).user.name).toBe("Ada");
  });
});

describe("renewing a sliding session", () => {
  it("is left to a Route Handler: a Server Component page neither sends a cookie nor uses the renewal up", async () => {
    const { email, cookie } = await signUp();
    // Past half of its seven days: the next check that can send a cookie renews it.
    const dueAt = Date.now() + 2 * 24 * 3600 * 1000;
    writeDb(
      "UPDATE gatehouse_sessions SET expires_at = ? WHERE user_id = (SELECT id FROM gatehouse_users WHERE email = ?)",
      dueAt,
      email,
    );
    const page = await request("/dashboard", { cookie });
    expect(page.status).toBe(200);
    expect(sessionSetCookies(page)).toEqual([]);
    const api = await request("/api/me", { cookie });
    expect(api.status).toBe(200);
    const [renewed] = sessionSetCookies(api);
    expect(renewed).toBeDefined();
    expect(Number(/Max-Age=(\d+)/i.exec(renewed!)?.[1])).toBeGreaterThan(6 * 24 * 3600);
  });
});

describe("readJsonBody in a Route Handler", () => {
  it("answers bad bodies with 4xx JSON, never a 500, and reads a good one", async () => {
    const { cookie } = await signUp();
    const post = (body: string, type: string) =>
      fetch(`${url}/api/me`, {
        method: "POST",
        headers: { cookie, origin: url, "content-type": type },
        body,
        redirect: "manual",
      });
    for (const [body, type, status, code] of [
      ["{", "application/json", 400, "invalid_json"],
      ['{"name": "x"}', "text/plain", 415, "unsupported_media_type"],
      [JSON.stringify({ name: "x".repeat(20_000) }), "application/json", 413, "payload_too_large"],
    ] as const) {
      const response = await post(body, type);
      expect(response.status, code).toBe(status);
      expect((await response.json()).error.code).toBe(code);
    }
    const good = await post('{"name": "Ada"}', "application/json");
    expect(good.status).toBe(200);
    expect((await good.json()).name).toBe("Ada");
  });
});

/**
 * `npx gatehouse check-routes`, run as a user runs it (the built CLI in a child process): on the example app,
 * whose every route must come out as it really is, and on the fixtures of deliberately unguarded routes.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import type { RouteReport } from "../src/cli/check-routes.js";
import { type CliRun, requireBuiltCli, runCli } from "./support/cli.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const EXAMPLE = path.join(ROOT, "apps", "example");
const FIXTURES = path.join(ROOT, "packages", "gatehouse", "test", "fixtures", "check-routes");
const PROTECTED = "/dashboard,/profile,/settings,/admin";

function checkRoutes(args: string[], cwd = ROOT, env?: Record<string, string>): Promise<CliRun> {
  return runCli(["check-routes", ...args], { cwd, ...(env && { env }) });
}

function report(run: CliRun): RouteReport {
  return JSON.parse(run.stdout) as RouteReport;
}

/** The example's pages and API routes, from its files: `pages/login/verify.tsx` → `/login/verify`. */
function exampleRoutes(dir = path.join(EXAMPLE, "pages"), prefix = ""): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) return exampleRoutes(path.join(dir, entry.name), `${prefix}/${entry.name}`);
    const name = entry.name.replace(/\.tsx?$/, "");
    if (["_app", "_document", "_error"].includes(name)) return [];
    return [name === "index" ? prefix || "/" : `${prefix}/${name}`];
  });
}

beforeAll(() => {
  requireBuiltCli();
});

describe("gatehouse check-routes on apps/example", () => {
  it("lists every page and API route, each guarded or public as it is, and exits 0", async () => {
    const run = await checkRoutes(["apps/example", "--protected", PROTECTED, "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const { routes, protected: prefixes, unguarded } = report(run);
    expect(prefixes).toEqual(["/dashboard", "/profile", "/settings", "/admin"]);
    expect(unguarded).toBe(0);
    expect(routes.map((route) => route.route).sort()).toEqual(exampleRoutes().sort());
    const statuses = Object.fromEntries(routes.map((route) => [route.route, `${route.status} ${route.guard ?? ""}`]));
    expect(statuses).toEqual({
      "/": "public ",
      "/404": "public ",
      "/500": "public ",
      "/admin": "guarded withPageAuth",
      "/admin/audit": "guarded withPageAuth",
      "/admin/mail": "guarded withPageAuth",
      "/admin/users/[id]": "guarded withPageAuth",
      "/api/admin/[...gatehouse]": "guarded gatehouseAdminHandler",
      "/api/auth/[...gatehouse]": "guarded gatehouseApiHandler",
      "/api/health": "public ",
      "/api/me": "guarded withApiAuth",
      "/dashboard": "guarded withPageAuth",
      "/dev/outbox": "public ",
      "/forgot-password": "public ",
      // Signed-out pages that verify the session and send a signed-in visitor on.
      "/login": "guarded verifySession + branch",
      "/login/verify": "guarded verifySession + branch",
      "/profile": "guarded withPageAuth",
      "/reset-password": "public ",
      "/settings": "guarded withPageAuth",
      "/signup": "guarded verifySession + branch",
      "/verify-email": "public ",
    });
    expect(routes.find((route) => route.route === "/api/auth/[...gatehouse]")?.kind).toBe("auth api");
  });

  it("guards every page, Route Handler and Server Action of apps/example-app-router, and exits 0", async () => {
    const run = await checkRoutes(["apps/example-app-router", "--protected", PROTECTED, "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const { routes, unguarded } = report(run);
    expect(unguarded).toBe(0);
    const status = (route: string, kind: string) => [
      ...new Set(routes.filter((r) => r.route === route && r.kind === kind).map((r) => `${r.status} ${r.guard ?? ""}`)),
    ];
    // The same pages as the Pages Router app, each with the check the Pages Router app has.
    for (const page of ["/dashboard", "/profile", "/settings"])
      expect(status(page, "app page"), page).toEqual(["guarded requireUser"]);
    for (const page of ["/admin", "/admin/audit", "/admin/mail", "/admin/users/[id]"])
      expect(status(page, "app page"), page).toEqual(["guarded requireRole"]);
    for (const page of ["/login", "/login/verify", "/signup"]) {
      expect(status(page, "app page"), page).toEqual(["guarded getSession + branch"]);
    }
    for (const page of ["/", "/forgot-password", "/reset-password", "/verify-email", "/dev/outbox"]) {
      expect(status(page, "app page"), page).toEqual(["public "]);
    }
    expect(status("/api/auth/[...gatehouse]", "auth api")).toEqual(["guarded handlers"]);
    expect(status("/api/me", "route handler")).toEqual(["guarded withRouteAuth"]);
    expect(status("/api/admin/[...gatehouse]", "auth api")).toEqual(["guarded adminHandlers"]);
    // The profile's own action needs a session; the auth actions (log-in, sign-up, …) are for anyone.
    const serverActions = routes.filter((r) => r.kind === "server action");
    expect(serverActions.map((r) => `${r.route} ${r.status} ${r.guard ?? ""}`).sort()).toEqual([
      "/ public ",
      "/forgot-password public ",
      "/login public ",
      "/profile guarded guardAction",
      "/reset-password public ",
      "/signup public ",
      "/verify-email public ",
    ]);
  });

  it("runs on the app that gatehouse.config.json names, with the prefixes of its proxy.ts, and reads no env file", async () => {
    const run = await checkRoutes([]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^ROUTE +KIND +METHOD +STATUS +FILE\n/);
    expect(run.stdout).toMatch(/\/dashboard +page +- +guarded: withPageAuth +pages\/dashboard\.tsx:\d+\n/);
    expect(run.stdout.trimEnd().split("\n").at(-1)).toBe(
      "21 routes, 13 guarded, 8 public; protected: /dashboard, /profile, /settings, /admin (from proxy.ts); every protected route has a secure check.",
    );
    expect(run.stderr).toBe("");
  });

  it("loads the parser for check-routes only", async () => {
    const env = { NODE_DEBUG: "module" };
    expect((await runCli(["secret"], { cwd: ROOT, env })).stderr).not.toContain("@babel/parser");
    expect((await checkRoutes([], ROOT, env)).stderr).toContain("@babel/parser");
  });
});

describe("gatehouse check-routes on the fixtures", () => {
  for (const [fixture, unguarded] of [
    ["pages-router", 4],
    ["app-router", 8],
  ] as const) {
    it(`exits 1 on the ${fixture} fixture and names its ${unguarded} unguarded routes`, async () => {
      const json = await checkRoutes([path.join(FIXTURES, fixture), "--json"]);
      expect(json.code, json.stderr).toBe(1);
      expect(report(json).unguarded).toBe(unguarded);
      const human = await checkRoutes([fixture], FIXTURES);
      expect(human.code).toBe(1);
      expect(human.stdout).toContain("PROXY ONLY");
      expect(human.stdout).toContain(`${unguarded} under a protected prefix without a secure check`);
    });
  }

  it("exits 0 on a fixture when --protected names only guarded routes", async () => {
    const run = await checkRoutes(
      ["app-router", "--protected", "/dashboard/[teamId], /admin/users", "--json"],
      FIXTURES,
    );
    expect(run.code, run.stdout).toBe(0);
    expect(report(run).protected).toEqual(["/dashboard/[teamId]", "/admin/users"]);
  });
});

describe("gatehouse check-routes on a wrong command line", () => {
  it("exits 2 for a prefix without /, an empty --protected, two folders, or --protected on another command", async () => {
    for (const args of [
      ["check-routes", "--protected", "dashboard"],
      ["check-routes", "--protected", " , "],
      ["check-routes", "apps/example", "apps/example"],
      ["check-routes", "--protected"],
      ["migrate", "--protected", "/admin"],
    ]) {
      const run = await runCli(args, { cwd: ROOT });
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr).toContain("Usage: gatehouse");
    }
  });

  it("exits 1 for a folder that does not exist or is not a Next.js app", async () => {
    const missing = await checkRoutes(["no/such/app"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no/such/app does not exist");
    const notAnApp = await checkRoutes(["packages"]);
    expect(notAnApp.code).toBe(1);
    expect(notAnApp.stderr).toContain("has no pages/ or app/ folder");
  });
});

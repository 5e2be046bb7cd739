import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { auditExitCode, checkRoutes, formatRouteAudit, type RouteAudit } from "./check-routes.js";

const FIXTURES = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "test",
  "fixtures",
  "check-routes",
);
const PAGES_APP = path.join(FIXTURES, "pages-router");
const APP_ROUTER_APP = path.join(FIXTURES, "app-router");

/** Each route as one line: `route kind [method] [action]: status [by guard]`. */
function table(audit: RouteAudit): string[] {
  return audit.report.routes.map((route) => {
    const what = [route.route, route.kind, route.method, audit.actionNames.get(route)].filter(Boolean).join(" ");
    return `${what}: ${route.status}${route.guard ? ` by ${route.guard}` : ""}`;
  });
}

/** `file:line` of the routes that make the command fail. */
function flagged(audit: RouteAudit): string[] {
  const { routes, protected: prefixes } = audit.report;
  const under = (route: string) => prefixes.some((prefix) => route === prefix || route.startsWith(`${prefix}/`));
  return routes.filter((route) => route.status !== "guarded" && under(route.route)).map((r) => `${r.file}:${r.line}`);
}

/** `file:line` of the code below each `// UNGUARDED` comment of a fixture: the routes written to be flagged. */
function markedUnguarded(dir: string): string[] {
  const marked: string[] = [];
  const visit = (folder: string): void => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const file = path.join(folder, entry.name);
      if (entry.isDirectory()) visit(file);
      else
        fs.readFileSync(file, "utf8")
          .split("\n")
          .forEach((line, index) => {
            if (line.trim().startsWith("// UNGUARDED")) marked.push(`${path.relative(dir, file)}:${index + 2}`);
          });
    }
  };
  visit(dir);
  return marked;
}

const temps: string[] = [];

/** A Next.js app in a temporary folder: path → text. */
function app(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-routes-"));
  temps.push(dir);
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

afterEach(() => {
  for (const dir of temps.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe("checkRoutes on the Pages Router fixture", () => {
  const audit = checkRoutes(PAGES_APP);

  it("lists every page and API route with its guard, and leaves out _app, _document and _error", () => {
    expect(table(audit)).toEqual([
      "/ page: public",
      "/about page: public",
      "/account/[id] page: unguarded",
      "/account/profile page: guarded by verifySession + branch",
      "/account/settings page: guarded by verifySession + branch",
      "/admin page: guarded by requireSignedIn → verifySession + branch",
      "/admin/audit page: guarded by loadAdmin → verifySession + branch",
      "/api/account/audit api route: guarded by verifySession + branch",
      "/api/account/data api route: guarded by withApiAuth",
      "/api/account/delete api route: unguarded",
      "/api/account/export api route: unguarded",
      "/api/auth/[...gatehouse] auth api: guarded by gatehouseApiHandler",
      "/api/health api route: public",
      "/dashboard page: guarded by withPageAuth",
      "/dashboard/reports page: proxy-only",
    ]);
  });

  it("flags every route written to be unguarded and none of the guarded ones, and exits 1", () => {
    expect(flagged(audit).sort()).toEqual(markedUnguarded(PAGES_APP).sort());
    expect(audit.report.unguarded).toBe(4);
    expect(auditExitCode(audit.report)).toBe(1);
  });

  it("takes the protected prefixes from middleware.ts when neither --protected nor a config names them", () => {
    expect(audit.report.protected).toEqual(["/dashboard", "/account", "/admin", "/api/account"]);
    expect(audit.protectedFrom).toBe("middleware.ts");
  });
});

describe("checkRoutes on the App Router fixture", () => {
  const audit = checkRoutes(APP_ROUTER_APP);

  it("lists pages, one line per Route Handler method, and every Server Action, exported or inline", () => {
    expect(table(audit)).toEqual([
      "/ app page: public",
      "/ server action subscribe: public",
      "/about app page: public",
      "/admin app page: layout-only",
      "/admin/users app page: guarded by requirePermission",
      "/api/auth/[...gatehouse] auth api GET: guarded by gatehouseApiHandler",
      "/api/auth/[...gatehouse] auth api POST: guarded by gatehouseApiHandler",
      "/api/health route handler GET: public",
      "/api/private/auth/[...gatehouse] auth api GET: guarded by handlers",
      "/api/private/auth/[...gatehouse] auth api POST: guarded by handlers",
      "/api/private/auth/[...gatehouse] auth api DELETE: guarded by handlers",
      "/api/private/auth/[...gatehouse] auth api PATCH: guarded by handlers",
      "/api/private/items route handler GET: guarded by withRouteAuth",
      "/api/private/items route handler POST: unguarded",
      "/api/private/report route handler GET: unguarded",
      "/api/private/stats route handler GET: guarded by getSession + branch",
      "/api/private/stats route handler PUT: guarded by withRouteAuth",
      "/api/private/stats route handler DELETE: guarded by withRouteAuth",
      "/dashboard app page: guarded by requireUser",
      "/dashboard/[teamId] app page: guarded by getSession + branch",
      "/dashboard/billing app page: proxy-only",
      "/settings app page: guarded by verifyUser → getSession + branch",
      "/settings server action updateName: guarded by requireUser",
      "/settings server action archive: guarded by guardAction",
      "/settings server action restore: guarded by withActionAuth",
      "/settings server action deletePost: unguarded",
      "/settings server action rename: guarded by requireUser",
      "/settings server action wipe: unguarded",
      "/settings server action deleteAccount: unguarded",
      "/settings/danger app page: unguarded",
      "/settings/profile app page: guarded by verifyUser → getSession + branch",
    ]);
  });

  it("flags every route written to be unguarded and none of the guarded ones, and exits 1", () => {
    expect(flagged(audit).sort()).toEqual(markedUnguarded(APP_ROUTER_APP).sort());
    expect(audit.report.unguarded).toBe(8);
    expect(auditExitCode(audit.report)).toBe(1);
  });

  it("drops route groups, and ignores _private folders and @slots", () => {
    const files = audit.report.routes.map((route) => route.file);
    expect(files).toContain("src/app/(marketing)/about/page.tsx");
    expect(files.some((file) => file.includes("_drafts") || file.includes("@modal"))).toBe(false);
  });

  it("gives a Server Action outside app/ the route of the page that imports it, not of its module's other users", () => {
    const actions = audit.report.routes.filter((route) => route.file === "src/lib/actions.ts");
    expect(actions.map((route) => [audit.actionNames.get(route), route.route])).toEqual([
      ["subscribe", "/"],
      ["deleteAccount", "/settings"],
    ]);
  });

  it("takes protectedRoutes from gatehouse.config.json over the prefixes of proxy.ts", () => {
    expect(audit.report.protected).toEqual(["/dashboard", "/settings", "/admin", "/api/private"]);
    expect(audit.protectedFrom).toBe("gatehouse.config.json");
    expect(audit.proxyFile).toBe("src/proxy.ts");
  });

  it("marks proxy-only only where the proxy's matcher and prefixes reach: not /settings, not /api", () => {
    const status = (route: string, method?: string) =>
      audit.report.routes.find((r) => r.route === route && r.method === method)?.status;
    expect(status("/dashboard/billing")).toBe("proxy-only");
    expect(status("/settings/danger")).toBe("unguarded");
    expect(status("/api/private/items", "POST")).toBe("unguarded");
  });

  it("lets --protected win, and exits 0 when every route under it is guarded", () => {
    const only = checkRoutes(APP_ROUTER_APP, { protected: ["/dashboard/[teamId]", "/admin/users/"] });
    expect(only.report.protected).toEqual(["/dashboard/[teamId]", "/admin/users"]);
    expect(only.protectedFrom).toBe("--protected");
    expect(only.report.unguarded).toBe(0);
    expect(auditExitCode(only.report)).toBe(0);
    // Still shown for what they are, though no prefix holds them.
    expect(only.report.routes.find((route) => route.route === "/dashboard/billing")?.status).toBe("proxy-only");
  });
});

describe("formatRouteAudit", () => {
  it("prints an aligned table and a one-line summary, with the failing statuses in capitals", () => {
    const lines = formatRouteAudit(checkRoutes(PAGES_APP)).trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ROUTE +KIND +METHOD +STATUS +FILE$/);
    const fileColumn = lines[0]?.indexOf("FILE");
    for (const line of lines.slice(1, -2)) expect(line.indexOf("pages/"), line).toBe(fileColumn);
    expect(lines).toContainEqual(
      expect.stringMatching(/^\/dashboard\/reports +page +- +PROXY ONLY +pages\/dashboard\/reports\.tsx:2$/),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^\/about +page +- +public +pages\/about\.tsx:5$/));
    expect(lines.at(-1)).toBe(
      "15 routes, 8 guarded, 3 public, 3 unguarded, 1 proxy only; protected: /dashboard, /account, /admin, /api/account (from middleware.ts); 4 under a protected prefix without a secure check (a proxy's check alone is not one: CVE-2025-29927).",
    );
  });
});

describe("what counts as a secure check", () => {
  /** The guard of `app/x/page.tsx` written as `page`, in an app with `lib/`, under `--protected /x`. */
  function pageGuard(page: string, lib: Record<string, string> = {}): string | null {
    const dir = app({ "app/x/page.tsx": page, ...lib });
    return checkRoutes(dir, { protected: ["/x"], config: null }).report.routes[0]?.guard ?? null;
  }
  const imports = `import { getSession, requireUser, verifySession } from "gatehouse-auth/next";\nimport { redirect } from "next/navigation";\n`;

  it("a require call in the body", () => {
    expect(pageGuard(`${imports}export default async function P() { await requireUser(); return null; }`)).toBe(
      "requireUser",
    );
  });

  it("an awaited session result that an if, a ternary, a logical test, ?. or ! then reads", () => {
    const bodies = [
      "const s = await getSession(); if (!s) redirect('/login'); return null;",
      "const s = await getSession(); return s ? null : redirect('/login');",
      "const s = await getSession(); return s && null;",
      "const s = await getSession(); return s?.user.name;",
      "const s = await getSession(); return s!.user.name;",
      "const { user } = await verifySession(); if (!user) redirect('/login'); return null;",
      "let s; s = await getSession(); if (s === null) redirect('/login'); return null;",
      "if (!(await getSession())) redirect('/login'); return null;",
      "return (await getSession())?.user.name;",
    ];
    for (const body of bodies)
      expect(pageGuard(`${imports}export default async function P() { ${body} }`), body).toMatch(/Session \+ branch$/);
  });

  it("not a session call whose result is ignored, not awaited, or only passed on", () => {
    const bodies = [
      "await getSession(); return null;",
      "const s = getSession(); if (!s) redirect('/login'); return null;",
      "const s = await getSession(); return String(s);",
      "const s = await getSession(); return props.s ? null : 1;",
      "const check = async () => requireUser(); return null;",
    ];
    for (const body of bodies)
      expect(pageGuard(`${imports}export default async function P(props) { ${body} }`), body).toBeNull();
  });

  it("one level of the app's own helpers, in the same file or a relative module, and no deeper", () => {
    const helper = `${imports}export async function mustSignIn() { const s = await getSession(); if (!s) redirect("/login"); return s; }\n`;
    expect(pageGuard(`${helper}export default async function P() { await mustSignIn(); return null; }`)).toBe(
      "mustSignIn → getSession + branch",
    );
    expect(
      pageGuard(
        `import { mustSignIn } from "../../lib/dal";\nexport default async function P() { await mustSignIn(); return null; }`,
        {
          "lib/dal.ts": helper,
        },
      ),
    ).toBe("mustSignIn → getSession + branch");
    const twoLevels = `${helper}async function viaHelper() { return mustSignIn(); }\nexport default async function P() { await viaHelper(); return null; }`;
    expect(pageGuard(twoLevels)).toBeNull();
  });

  it("the auth API as createAppAuth's handlers: destructured, or a member of it, of an import or a namespace", () => {
    /** Each method of `app/api/auth/[...gatehouse]/route.ts`, written as `route`, as `METHOD kind: guard`. */
    const methods = (route: string, lib: string): string[] => {
      const dir = app({ "app/api/auth/[...gatehouse]/route.ts": route, "lib/auth.ts": lib });
      const { report } = checkRoutes(dir, { protected: ["/api/auth"], config: null });
      return report.routes.map((entry) => `${entry.method} ${entry.kind}: ${entry.guard}`);
    };
    const createAuth = `import { createAppAuth } from "gatehouse-auth/next/app";\nimport { getGatehouse } from "./gatehouse";\n`;
    const destructured = `${createAuth}export const { requireUser, handlers } = createAppAuth(getGatehouse);\n`;
    const whole = `${createAuth}export const auth = createAppAuth(getGatehouse);\n`;
    const imported = `import { handlers } from "../../../../lib/auth";\n`;
    expect(methods(`${imported}export const { GET, POST, PATCH, DELETE } = handlers;`, destructured)).toEqual([
      "GET auth api: handlers",
      "POST auth api: handlers",
      "DELETE auth api: handlers",
      "PATCH auth api: handlers",
    ]);
    expect(
      methods(`${imported}export const GET = handlers.GET;\nexport const POST = handlers["POST"];`, destructured),
    ).toEqual(["GET auth api: handlers", "POST auth api: handlers"]);
    const member = `import { auth } from "../../../../lib/auth";\nexport const { GET } = auth.handlers;\nexport const POST = auth.handlers.POST;`;
    expect(methods(member, whole)).toEqual(["GET auth api: handlers", "POST auth api: handlers"]);
    const namespace = `import * as lib from "../../../../lib/auth";\nexport const { GET } = lib.auth.handlers;`;
    expect(methods(namespace, whole)).toEqual(["GET auth api: handlers"]);
  });

  it("the admin API: gatehouseAdminHandler's route, and createAppAuth's adminHandlers", () => {
    const dir = app({
      "pages/api/admin/[...gatehouse].ts": `import { gatehouseAdminHandler } from "gatehouse-auth/next";\nimport { gatehouse } from "../../../lib/gatehouse";\nexport default gatehouseAdminHandler(gatehouse);`,
      "app/api/admin/[...gatehouse]/route.ts": `import { adminHandlers } from "../../../../lib/auth";\nexport const { GET, PATCH } = adminHandlers;`,
      "lib/auth.ts": `import { createAppAuth } from "gatehouse-auth/next/app";\nexport const { adminHandlers } = createAppAuth(() => null);\n`,
    });
    const { report } = checkRoutes(dir, { protected: ["/api/admin"], config: null });
    expect(report.routes.map((route) => `${route.method ?? ""} ${route.kind}: ${route.guard}`.trim())).toEqual([
      "auth api: gatehouseAdminHandler",
      "GET auth api: adminHandlers",
      "PATCH auth api: adminHandlers",
    ]);
  });

  it("not another object's methods, nor what createAppAuth returns besides handlers", () => {
    const dir = app({
      "app/api/things/route.ts": `import { createAppAuth } from "gatehouse-auth/next/app";\nimport { routes } from "../../../lib/routes";\nexport const { GET } = routes;\nexport const POST = routes.POST;\nexport const { DELETE } = createAppAuth(() => null);`,
      "lib/routes.ts": "export const routes = { GET() {}, POST() {} };",
    });
    const { report } = checkRoutes(dir, { protected: ["/api/things"], config: null });
    expect(report.routes.map((route) => `${route.method} ${route.kind}: ${route.status}`)).toEqual([
      "GET route handler: unguarded",
      "POST route handler: unguarded",
      "DELETE route handler: unguarded",
    ]);
  });

  it("a layout's check alone is layout-only, whatever the page's folder is called", () => {
    const dir = app({
      "app/(team)/layout.tsx": `${imports}export default async function L({ children }) { await requireUser(); return children; }`,
      "app/(team)/members/page.tsx": "export default function P() { return null; }",
    });
    const { report } = checkRoutes(dir, { protected: ["/members"], config: null });
    expect(report.routes).toEqual([
      {
        route: "/members",
        kind: "app page",
        file: "app/(team)/members/page.tsx",
        line: 1,
        guard: null,
        status: "layout-only",
      },
    ]);
    expect(report.unguarded).toBe(1);
  });

  it("an inline action in a component takes the route of the page that renders it; an action nobody imports, none", () => {
    const dir = app({
      "app/team/page.tsx": `import { Invite } from "../../components/Invite";\nexport default function P() { return <Invite />; }`,
      "components/Invite.tsx": `export function Invite() {\n  async function invite() {\n    "use server";\n  }\n  return <form action={invite} />;\n}`,
      "lib/unused.ts": `"use server";\nexport async function forgotten() {}`,
    });
    const { report } = checkRoutes(dir, { protected: ["/team"], config: null });
    const actions = report.routes.filter((route) => route.kind === "server action");
    expect(actions.map((route) => [route.route, route.file, route.line, route.status])).toEqual([
      ["/team", "components/Invite.tsx", 2, "unguarded"],
      ["(not imported)", "lib/unused.ts", 2, "public"],
    ]);
  });

  it("no protected prefix anywhere: every unguarded route is public and the command exits 0", () => {
    const dir = app({ "pages/secret.tsx": "export default function P() { return null; }" });
    const audit = checkRoutes(dir, { config: null });
    expect(audit.report).toEqual({
      routes: [{ route: "/secret", kind: "page", file: "pages/secret.tsx", line: 1, guard: null, status: "public" }],
      protected: [],
      unguarded: 0,
    });
    expect(audit.protectedFrom).toBeNull();
  });

  it("refuses a folder with neither pages/ nor app/", () => {
    expect(() => checkRoutes(app({ "README.md": "" }))).toThrow(/no pages\/ or app\/ folder/);
  });
});

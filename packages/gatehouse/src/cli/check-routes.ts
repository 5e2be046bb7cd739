/**
 * `gatehouse check-routes`: every route of a Next.js app, Pages Router and App Router, and whether a secure
 * check guards it. `proxy.ts` / `middleware.ts` is an optimistic filter, not that check: CVE-2025-29927 let a
 * single request header skip middleware entirely, and every route that relied on it alone was open. A layout's
 * check does not guard its pages either: layouts do not re-render on client navigation, and a page's data can
 * be fetched without them. The code is read with a parser (`@babel/parser`), never run.
 */
import { readdirSync, statSync } from "node:fs";
import { basename, dirname, extname, join, relative, resolve, sep } from "node:path";
import type * as t from "@babel/types";
import { type CliConfig, findConfig, normalizePrefix } from "./config.js";
import { MatcherSyntaxError, matcherRegExp } from "./proxy-matcher.js";
import { GuardFinder } from "./route-guards.js";
import {
  isFunctionNode,
  isRecord,
  lineOf,
  SOURCE_EXTENSIONS,
  type SourceModule,
  SourceTree,
  type StaticValue,
  UNKNOWN,
  walk,
} from "./source-modules.js";

export type RouteKind = "page" | "api route" | "auth api" | "app page" | "route handler" | "server action";

/**
 * - `guarded`: a secure check runs in the route's own code.
 * - `public`: no check, and the route is under no protected prefix.
 * - `unguarded`: no check, under a protected prefix.
 * - `proxy-only`: only the proxy's optimistic check covers it.
 * - `layout-only`: only a layout above the page checks.
 */
export type RouteStatus = "guarded" | "public" | "unguarded" | "proxy-only" | "layout-only";

/** One route, as `check-routes --json` prints it. */
export interface RouteEntry {
  /** The path as Next.js maps it (`/posts/[id]`); for a Server Action, the route of a page that uses it. */
  route: string;
  kind: RouteKind;
  /** A Route Handler's HTTP method. */
  method?: string;
  /** Relative to the app's folder, with `/`. */
  file: string;
  line: number;
  /** The secure check found (`withPageAuth`, `requireUser`, `getSession + branch`, `helper → requireRole`). */
  guard: string | null;
  status: RouteStatus;
}

/** What `check-routes --json` prints. */
export interface RouteReport {
  routes: RouteEntry[];
  /** The protected path prefixes the routes were held to. */
  protected: string[];
  /** How many routes under a protected prefix have no secure check: the command exits 1 when this is not 0. */
  unguarded: number;
}

/** The report, and what the human output says besides it. */
export interface RouteAudit {
  report: RouteReport;
  /** Where the protected prefixes came from: `--protected`, a config file or the proxy file; `null` for none. */
  protectedFrom: string | null;
  /** The `proxy.ts` / `middleware.ts` read, relative to the app's folder. */
  proxyFile: string | null;
  /** A Server Action's function name, for the human output. */
  actionNames: Map<RouteEntry, string>;
  /** What could not be read (unparsable files, a matcher that is not a literal). */
  problems: string[];
}

export interface CheckRoutesOptions {
  /** Protected prefixes, as `--protected` gives them; they win over the config file and the proxy. */
  protected?: readonly string[];
  /** The config file whose `protectedRoutes` apply; default: the nearest one from the app's folder. */
  config?: CliConfig | null;
}

const PAGE_EXTENSIONS = [".tsx", ".ts", ".jsx", ".js"];
const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];
const PAGES_SPECIAL = new Set(["_app", "_document", "_error"]);
/** App Router files that render inside a route, and may hold inline Server Actions. */
const APP_SPECIAL_FILES = new Set(["layout", "template", "default", "loading", "error", "not-found", "global-error"]);
const SKIPPED_FOLDERS = new Set(["node_modules", "public", "dist", "build", "out", "coverage", "__tests__"]);
const KIND_ORDER: RouteKind[] = ["page", "app page", "api route", "auth api", "route handler", "server action"];
const UNUSED_ACTION = "(not imported)";

/** Whether `path` is `prefix` or below it, as the proxy reads it: `/admin` covers `/admin/x`, not `/administrator`. */
export function underPrefix(path: string, prefix: string): boolean {
  return (
    path === prefix || path.startsWith(prefix.endsWith("/") ? prefix : `${prefix}/`) || path.startsWith(`${prefix}.`)
  );
}

function toPosix(path: string): string {
  return path.split(sep).join("/");
}

/** `dir/name`, else `dir/src/name`, as Next.js looks for `pages` and `app`. */
function routerFolder(dir: string, name: string): string | null {
  for (const candidate of [join(dir, name), join(dir, "src", name)])
    if (statSync(candidate, { throwIfNoEntry: false })?.isDirectory()) return candidate;
  return null;
}

function isSourceFile(name: string): boolean {
  return SOURCE_EXTENSIONS.includes(extname(name)) && !/\.d\.[cm]?ts$/.test(name) && !/\.(test|spec)\./.test(name);
}

/** The app's own source files: everything but node_modules, build output, public/ and dot-folders. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory())
        return entry.name.startsWith(".") || SKIPPED_FOLDERS.has(entry.name) ? [] : sourceFiles(path);
      return entry.isFile() && isSourceFile(entry.name) ? [path] : [];
    });
}

/** An App Router folder's part of the URL: `""` for a route group, `null` for a folder that is not routed. */
function appSegment(folder: string): string | null {
  // _private folders, @slots and (.)intercepting routes render no route of their own.
  if (folder.startsWith("_") || folder.startsWith("@") || /^\(\.{1,3}\)/.test(folder)) return null;
  if (folder.startsWith("(") && folder.endsWith(")")) return "";
  return folder;
}

function routeOf(segments: readonly string[]): string {
  const path = segments.filter((segment) => segment !== "").join("/");
  return `/${path}`;
}

/** A concrete path of a route pattern, for the proxy's matcher: `[id]` → `x`, `[[...rest]]` dropped. */
function samplePath(route: string): string {
  const segments = route
    .split("/")
    .filter((segment) => !(segment.startsWith("[[") && segment.endsWith("]]")))
    .map((segment) => (segment.startsWith("[") && segment.endsWith("]") ? "x" : segment));
  return segments.join("/") || "/";
}

/** What the proxy's optimistic check covers. */
interface Proxy {
  file: string;
  /** The matcher's expressions; `null` when the proxy runs on every path. */
  matchers: RegExp[] | null;
  /** The prefixes it sends signed-out visitors away from; `null` when they cannot be read. */
  protectedRoutes: string[] | null;
}

function readProxy(dir: string, tree: SourceTree, problems: string[]): Proxy | null {
  const folders = [dir, join(dir, "src")];
  const file = folders
    .flatMap((folder) =>
      ["proxy", "middleware"].flatMap((name) => [".ts", ".js", ".mjs"].map((e) => join(folder, name + e))),
    )
    .find((candidate) => statSync(candidate, { throwIfNoEntry: false })?.isFile());
  const module = file ? tree.load(file) : null;
  if (!file || !module) return null;
  const shown = toPosix(relative(dir, file));
  return {
    file: shown,
    matchers: readMatchers(module, tree, shown, problems),
    protectedRoutes: readProtected(module, tree, shown, problems),
  };
}

function readMatchers(module: SourceModule, tree: SourceTree, shown: string, problems: string[]): RegExp[] | null {
  const config = tree.resolveExport(module, "config");
  const value = config ? tree.staticValue(config.module, config.node) : null;
  if (value === null) return null;
  const matcher = isRecord(value) ? value.matcher : UNKNOWN;
  if (matcher === undefined) return null;
  const items: StaticValue[] = Array.isArray(matcher) ? matcher : [matcher];
  const sources = items.map((item) => (isRecord(item) ? item.source : item));
  if (!sources.every((source): source is string => typeof source === "string")) {
    problems.push(`${shown}: config.matcher is not written as literal strings; taken as matching every path.`);
    return null;
  }
  return sources.flatMap((source) => {
    try {
      return [matcherRegExp(source)];
    } catch (error) {
      if (!(error instanceof MatcherSyntaxError)) throw error;
      problems.push(`${shown}: matcher "${source}" cannot be read (${error.message}); left out.`);
      return [];
    }
  });
}

/** `protectedRoutes` of a `gatehouseProxy({ … })` call, else a top-level `protectedRoutes` array (Next's docs). */
function readProtected(module: SourceModule, tree: SourceTree, shown: string, problems: string[]): string[] | null {
  let written: t.Node | null = null;
  walk(
    module.program,
    (node) => {
      if (written || node.type !== "CallExpression" || node.callee.type !== "Identifier") return undefined;
      if (node.callee.name !== "gatehouseProxy" || !node.arguments[0]) return undefined;
      if (isRecord(tree.staticValue(module, node.arguments[0]))) written = node.arguments[0];
      return undefined;
    },
    { intoFunctions: true },
  );
  const options = written ? tree.staticValue(module, written) : null;
  const list = isRecord(options)
    ? options.protectedRoutes
    : (() => {
        const binding = tree.resolveName(module, "protectedRoutes");
        return binding ? tree.staticValue(binding.module, binding.node) : undefined;
      })();
  if (list === undefined) return null;
  if (!Array.isArray(list)) {
    problems.push(`${shown}: protectedRoutes is not a literal array; the proxy's prefixes are unknown.`);
    return null;
  }
  const prefixes = list.filter((item): item is string => typeof item === "string" && item.startsWith("/"));
  if (prefixes.length < list.length) problems.push(`${shown}: some protectedRoutes entries are not literal paths.`);
  return prefixes.map(normalizePrefix);
}

/** A route found in the code, before the protected prefixes give it a status. */
interface Found {
  route: string;
  kind: RouteKind;
  method?: string;
  file: string;
  line: number;
  guard: string | null;
  /** For App Router pages: a layout above it checks. */
  layoutGuard?: boolean;
  /** For Server Actions: every route whose page or layout imports it. */
  usedBy?: string[];
  actionName?: string;
}

/**
 * Lists every route of the Next.js app in `dir` with the secure check that guards it, and holds them to the
 * protected prefixes: `options.protected`, else `protectedRoutes` of the config file, else what the proxy
 * protects. Throws when `dir` has neither a `pages` nor an `app` folder.
 *
 * @example
 * ```ts
 * const { report } = checkRoutes("apps/web", { protected: ["/dashboard"] });
 * process.exitCode = auditExitCode(report); // 1 when a route under /dashboard has no secure check
 * ```
 */
export function checkRoutes(dir: string, options: CheckRoutesOptions = {}): RouteAudit {
  const root = resolve(dir);
  const pagesDir = routerFolder(root, "pages");
  const appDir = routerFolder(root, "app");
  if (!pagesDir && !appDir)
    throw new Error(`${dir} has no pages/ or app/ folder (nor src/pages/, src/app/): is it a Next.js app's folder?`);
  const tree = new SourceTree(root);
  const finder = new GuardFinder(tree);
  const problems: string[] = [];
  const shown = (path: string): string => toPosix(relative(root, path));
  const found: Found[] = [];
  /** Page, layout and Route Handler files → their route: where the Server Actions they import are used. */
  const entryRoutes = new Map<string, string>();

  if (pagesDir) found.push(...pagesRoutes(pagesDir, tree, finder, shown, entryRoutes));
  if (appDir) found.push(...appRoutes(appDir, tree, finder, shown, entryRoutes));
  found.push(...serverActions(root, appDir, tree, finder, shown, entryRoutes));

  const config = options.config === undefined ? findConfig(root) : options.config;
  const proxy = readProxy(root, tree, problems);
  let prefixes: string[] = [];
  let protectedFrom: string | null = null;
  if (options.protected) [prefixes, protectedFrom] = [options.protected.map(normalizePrefix), "--protected"];
  else if (config?.protectedRoutes) [prefixes, protectedFrom] = [config.protectedRoutes, config.path];
  else if (proxy?.protectedRoutes) [prefixes, protectedFrom] = [proxy.protectedRoutes, proxy.file];
  const under = (route: string): boolean => prefixes.some((prefix) => underPrefix(route, prefix));
  const proxyCovers = (route: string): boolean =>
    proxy !== null &&
    (proxy.matchers === null || proxy.matchers.some((matcher) => matcher.test(samplePath(route)))) &&
    (proxy.protectedRoutes ?? prefixes).some((prefix) => underPrefix(route, prefix));

  const actionNames = new Map<RouteEntry, string>();
  const routes = found.map((route): RouteEntry => {
    if (route.usedBy) {
      const used = [...route.usedBy].sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
      route.route = used.find(under) ?? used[0] ?? route.route;
    }
    const status: RouteStatus = route.guard
      ? "guarded"
      : route.layoutGuard
        ? "layout-only"
        : route.route !== UNUSED_ACTION && proxyCovers(route.route)
          ? "proxy-only"
          : under(route.route)
            ? "unguarded"
            : "public";
    const entry: RouteEntry = {
      route: route.route,
      kind: route.kind,
      ...(route.method && { method: route.method }),
      file: route.file,
      line: route.line,
      guard: route.guard,
      status,
    };
    if (route.actionName) actionNames.set(entry, route.actionName);
    return entry;
  });
  routes.sort(
    (a, b) =>
      compare(a.route === UNUSED_ACTION ? "~" : a.route, b.route === UNUSED_ACTION ? "~" : b.route) ||
      KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) ||
      HTTP_METHODS.indexOf(a.method ?? "") - HTTP_METHODS.indexOf(b.method ?? "") ||
      compare(a.file, b.file) ||
      a.line - b.line,
  );
  const unguarded = routes.filter((route) => route.status !== "guarded" && under(route.route)).length;
  problems.push(...tree.problems.map(({ path, message }) => `${shown(path)}: not read (${message})`));
  return {
    report: { routes, protected: prefixes, unguarded },
    protectedFrom: protectedFrom && protectedFrom !== "--protected" ? shownFrom(root, protectedFrom) : protectedFrom,
    proxyFile: proxy?.file ?? null,
    actionNames,
    problems,
  };
}

function shownFrom(root: string, path: string): string {
  const fromRoot = toPosix(relative(root, resolve(root, path)));
  return fromRoot.startsWith("..") ? path : fromRoot;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Exit code of the command: 1 when a route under a protected prefix has no secure check, else 0. */
export function auditExitCode(report: RouteReport): 0 | 1 {
  return report.unguarded > 0 ? 1 : 0;
}

function pagesRoutes(
  pagesDir: string,
  tree: SourceTree,
  finder: GuardFinder,
  shown: (path: string) => string,
  entryRoutes: Map<string, string>,
): Found[] {
  return sourceFiles(pagesDir).flatMap((file): Found[] => {
    if (!PAGE_EXTENSIONS.includes(extname(file))) return [];
    const segments = toPosix(relative(pagesDir, file)).slice(0, -extname(file).length).split("/");
    if (segments.length === 1 && PAGES_SPECIAL.has(segments[0] as string)) return [];
    if (segments.at(-1) === "index") segments.pop();
    const route = routeOf(segments);
    entryRoutes.set(file, route);
    const module = tree.load(file);
    if (!module) return [];
    if (segments[0] === "api") {
      const handler = tree.resolveExport(module, "default");
      const guard = handler ? finder.ofValue(handler.module, handler.node) : null;
      const kind = guard?.authApi ? "auth api" : "api route";
      return [{ route, kind, file: shown(file), line: handler?.line ?? 1, guard: guard?.name ?? null }];
    }
    const props = tree.resolveExport(module, "getServerSideProps");
    const guard = props ? finder.ofValue(props.module, props.node) : null;
    const line = props?.line ?? tree.resolveExport(module, "default")?.line ?? 1;
    return [{ route, kind: "page", file: shown(file), line, guard: guard?.name ?? null }];
  });
}

function appRoutes(
  appDir: string,
  tree: SourceTree,
  finder: GuardFinder,
  shown: (path: string) => string,
  entryRoutes: Map<string, string>,
): Found[] {
  const found: Found[] = [];
  const visit = (dir: string, segments: string[], layoutGuarded: boolean): void => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => compare(a.name, b.name));
    const special = (name: string): string | undefined =>
      entries.find((entry) => entry.isFile() && PAGE_EXTENSIONS.some((extension) => entry.name === name + extension))
        ?.name;
    const route = routeOf(segments);
    const layoutFile = special("layout");
    let guarded = layoutGuarded;
    if (layoutFile) {
      const module = tree.load(join(dir, layoutFile));
      const layout = module ? tree.resolveExport(module, "default") : null;
      guarded ||= layout ? finder.ofValue(layout.module, layout.node) !== null : false;
    }
    for (const entry of entries)
      if (entry.isFile() && APP_SPECIAL_FILES.has(basename(entry.name, extname(entry.name))))
        entryRoutes.set(join(dir, entry.name), route);
    const pageFile = special("page");
    if (pageFile) {
      const file = join(dir, pageFile);
      entryRoutes.set(file, route);
      const module = tree.load(file);
      const page = module ? tree.resolveExport(module, "default") : null;
      const guard = page ? finder.ofValue(page.module, page.node) : null;
      found.push({
        route,
        kind: "app page",
        file: shown(file),
        line: page?.line ?? 1,
        guard: guard?.name ?? null,
        layoutGuard: guarded,
      });
    }
    const handlerFile = special("route");
    if (handlerFile) {
      const file = join(dir, handlerFile);
      entryRoutes.set(file, route);
      const module = tree.load(file);
      for (const method of module ? HTTP_METHODS : []) {
        const handler = tree.resolveExport(module as SourceModule, method);
        if (!handler) continue;
        const guard = finder.ofValue(handler.module, handler.node);
        const kind = guard?.authApi ? "auth api" : "route handler";
        found.push({ route, kind, method, file: shown(file), line: handler.line, guard: guard?.name ?? null });
      }
    }
    for (const entry of entries) {
      if (!entry.isDirectory() || entry.name.startsWith(".") || entry.name === "node_modules") continue;
      const segment = appSegment(entry.name);
      if (segment !== null) visit(join(dir, entry.name), [...segments, segment], guarded);
    }
  };
  visit(appDir, [], false);
  return found;
}

/** The route an App Router file's folder has (`app/(shop)/cart/actions.ts` → `/cart`), or `null` outside app/. */
function folderRoute(appDir: string | null, file: string): string | null {
  if (!appDir) return null;
  const path = toPosix(relative(appDir, dirname(file)));
  if (path.startsWith("..")) return null;
  return routeOf(path === "" ? [] : path.split("/").map((folder) => appSegment(folder) ?? ""));
}

/**
 * Server Actions: every export of a module that opens with `"use server"`, and every function with its own
 * `"use server"` directive. Each is a public POST endpoint whoever imports it: it needs its own check.
 */
function serverActions(
  root: string,
  appDir: string | null,
  tree: SourceTree,
  finder: GuardFinder,
  shown: (path: string) => string,
  entryRoutes: Map<string, string>,
): Found[] {
  const modules = sourceFiles(root)
    .map((file) => tree.load(file))
    .filter((module): module is SourceModule => module !== null);
  /** Module → the modules that import it, with the names each takes. */
  const importers = new Map<string, Array<{ path: string; names: Set<string> }>>();
  for (const module of modules)
    for (const [imported, names] of module.imports)
      importers.set(imported, [...(importers.get(imported) ?? []), { path: module.path, names }]);
  /**
   * The routes whose page, layout or Route Handler reaches an action: `file` itself for an inline action, the
   * modules that import `name` from it for an exported one, then every module that imports those, and so on.
   */
  const usedBy = (file: string, name: string | null): string[] => {
    const start =
      name === null
        ? [file]
        : (importers.get(file) ?? []).filter(({ names }) => names.has(name) || names.has("*")).map(({ path }) => path);
    const seen = new Set(start);
    const queue = [...start];
    for (let next = queue.shift(); next !== undefined; next = queue.shift())
      for (const { path } of importers.get(next) ?? [])
        if (!seen.has(path)) {
          seen.add(path);
          queue.push(path);
        }
    return [...new Set([...seen].flatMap((path) => (entryRoutes.has(path) ? [entryRoutes.get(path) as string] : [])))];
  };
  const found: Found[] = [];
  for (const module of modules) {
    const action = (name: string, exported: boolean, line: number, guard: string | null): Found => ({
      route: folderRoute(appDir, module.path) ?? UNUSED_ACTION,
      kind: "server action",
      file: shown(module.path),
      line,
      guard,
      usedBy: usedBy(module.path, exported ? name : null),
      actionName: name,
    });
    if (module.directives.includes("use server")) {
      for (const [name, entry] of module.exports) {
        const value = tree.resolveExport(module, name);
        if (!value || !isActionValue(value.node)) continue;
        found.push(action(name, true, entry.line, finder.ofValue(value.module, value.node)?.name ?? null));
      }
      continue;
    }
    if (module.directives.includes("use client")) continue;
    walk(
      module.program,
      (node, parent) => {
        if (!isFunctionNode(node) || node.body.type !== "BlockStatement") return undefined;
        if (!node.body.directives.some((directive) => directive.value.value === "use server")) return undefined;
        const name = functionName(node, parent);
        found.push(action(name, false, lineOf(node), finder.ofFunction(module, node)?.name ?? null));
        return undefined;
      },
      { intoFunctions: true },
    );
  }
  return found;
}

/** Whether a `"use server"` module's export can be an action: a function, or a call that makes one. */
function isActionValue(node: t.Node): boolean {
  return isFunctionNode(node) || node.type === "CallExpression" || node.type === "AwaitExpression";
}

function functionName(fn: t.Function, parent: t.Node | null): string {
  if ((fn.type === "FunctionDeclaration" || fn.type === "FunctionExpression") && fn.id) return fn.id.name;
  if (parent?.type === "VariableDeclarator" && parent.id.type === "Identifier") return parent.id.name;
  if ((fn.type === "ObjectMethod" || fn.type === "ClassMethod") && fn.key.type === "Identifier") return fn.key.name;
  if (parent?.type === "ObjectProperty" && parent.key.type === "Identifier") return parent.key.name;
  return "(inline)";
}

const FLAG: Record<RouteStatus, string> = {
  guarded: "guarded",
  public: "public",
  unguarded: "unguarded",
  "proxy-only": "proxy only",
  "layout-only": "layout only",
};

/**
 * The human output: an aligned table (route, kind, method, status, file) and a one-line summary. Statuses that
 * make the command fail are in capitals.
 */
export function formatRouteAudit(audit: RouteAudit): string {
  const { report } = audit;
  const under = (route: string): boolean => report.protected.some((prefix) => underPrefix(route, prefix));
  const rows = report.routes.map((route) => {
    const flagged = route.status !== "guarded" && under(route.route);
    const status =
      route.status === "guarded"
        ? `guarded: ${route.guard}`
        : flagged
          ? FLAG[route.status].toUpperCase()
          : FLAG[route.status];
    const name = audit.actionNames.get(route);
    return [
      route.route,
      route.kind,
      route.method ?? "-",
      status,
      `${route.file}:${route.line}${name ? ` ${name}` : ""}`,
    ];
  });
  const header = ["ROUTE", "KIND", "METHOD", "STATUS", "FILE"];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] as string).length)),
  );
  const lines = [header, ...rows].map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] as number)))
      .join("  ")
      .trimEnd(),
  );
  const count = (status: RouteStatus): number => report.routes.filter((route) => route.status === status).length;
  const prefixes =
    report.protected.length === 0
      ? "no protected prefixes (give --protected, or protectedRoutes in gatehouse.config.json)"
      : `protected: ${report.protected.join(", ")} (from ${audit.protectedFrom})`;
  const parts = [
    `${report.routes.length} routes`,
    `${count("guarded")} guarded`,
    `${count("public")} public`,
    ...(["unguarded", "proxy-only", "layout-only"] as const).flatMap((status) =>
      count(status) > 0 ? [`${count(status)} ${FLAG[status]}`] : [],
    ),
  ];
  const verdict =
    report.unguarded === 0
      ? "every protected route has a secure check"
      : `${report.unguarded} under a protected prefix without a secure check (a proxy's check alone is not one: CVE-2025-29927)`;
  return `${lines.join("\n")}\n\n${parts.join(", ")}; ${prefixes}; ${verdict}.\n`;
}

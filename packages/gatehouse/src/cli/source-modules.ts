/**
 * The source files of a Next.js app as Babel ASTs (`@babel/parser`, TypeScript and JSX): each module's
 * top-level bindings, imports and exports, resolved between the app's own files (relative paths and the
 * `paths` aliases of its tsconfig.json / jsconfig.json), and the few static values a route audit reads
 * (`config.matcher`, `protectedRoutes`). Nothing here runs the app's code.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, extname, join, resolve } from "node:path";
import { type ParserPlugin, parse, parseExpression } from "@babel/parser";
import type * as t from "@babel/types";

/** The extensions of the app's own modules, in the order a bundler tries them. */
export const SOURCE_EXTENSIONS = [".tsx", ".ts", ".jsx", ".js", ".mjs", ".mts", ".cjs", ".cts"];

/** A top-level name of a module: a value written there, or an import (`from: null` for a package). */
export type Binding =
  | { kind: "value"; node: t.Node; line: number }
  | { kind: "import"; from: string | null; imported: string; line: number };

/** An export: a local name, a value (`export default …`), or a re-export (`export { x } from "./y"`). */
export type ExportEntry =
  | { kind: "local"; local: string; line: number }
  | { kind: "value"; node: t.Node; line: number }
  | { kind: "from"; from: string | null; imported: string; line: number };

/** One parsed source file. */
export interface SourceModule {
  path: string;
  program: t.Program;
  /** The directives that open the file, such as `"use server"` and `"use client"`. */
  directives: string[];
  bindings: Map<string, Binding>;
  exports: Map<string, ExportEntry>;
  /** `export * from "…"` of the app's own modules, resolved. */
  starExports: string[];
  /** Every module of the app this one imports or re-exports from, resolved → the names it takes (`*`: all). */
  imports: Map<string, Set<string>>;
}

/** A value found by following names: the module it is written in and its node. */
export interface Resolved {
  module: SourceModule;
  node: t.Node;
  line: number;
}

/** A value that is not written literally in the code (a call, a variable from elsewhere). */
export const UNKNOWN: unique symbol = Symbol("unknown");
export type StaticValue =
  | string
  | number
  | boolean
  | null
  | StaticValue[]
  | { [key: string]: StaticValue }
  | typeof UNKNOWN;

/** Whether a static value is an object literal. */
export function isRecord(value: StaticValue | undefined): value is { [key: string]: StaticValue } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const MAX_HOPS = 8;
const FUNCTION_TYPES = new Set([
  "FunctionDeclaration",
  "FunctionExpression",
  "ArrowFunctionExpression",
  "ObjectMethod",
  "ClassMethod",
  "ClassPrivateMethod",
]);
const TS_WRAPPERS = new Set([
  "TSAsExpression",
  "TSSatisfiesExpression",
  "TSNonNullExpression",
  "TSTypeAssertion",
  "TSInstantiationExpression",
  "ParenthesizedExpression",
]);
const NOT_CHILDREN = new Set([
  "loc",
  "start",
  "end",
  "extra",
  "range",
  "leadingComments",
  "trailingComments",
  "innerComments",
]);

export function isFunctionNode(node: t.Node): node is t.Function {
  return FUNCTION_TYPES.has(node.type);
}

/** `node` without the TypeScript and parenthesis layers around it (`x as T`, `x!`, `x satisfies T`, `(x)`). */
export function unwrap(node: t.Node): t.Node {
  let current = node;
  while (TS_WRAPPERS.has(current.type)) current = (current as t.TSAsExpression).expression;
  return current;
}

function isNode(value: unknown): value is t.Node {
  return typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string";
}

/** What {@link walk} calls for each node: `"skip"` leaves its children out. */
export type Visitor = (node: t.Node, parent: t.Node | null, key: string | null) => "skip" | undefined;

/**
 * Visits `root` and the nodes below it, depth first in source order. Functions below `root` are entered only
 * with `intoFunctions`: a callback's body is not the body of the function that defines it.
 */
export function walk(root: t.Node, visit: Visitor, options: { intoFunctions: boolean }): void {
  const visitNode = (node: t.Node, parent: t.Node | null, key: string | null): void => {
    if (parent && !options.intoFunctions && isFunctionNode(node)) return;
    if (visit(node, parent, key) === "skip") return;
    for (const [childKey, value] of Object.entries(node)) {
      if (NOT_CHILDREN.has(childKey)) continue;
      if (Array.isArray(value)) {
        for (const item of value) if (isNode(item)) visitNode(item, node, childKey);
      } else if (isNode(value)) visitNode(value, node, childKey);
    }
  };
  visitNode(root, null, null);
}

/** The names a declaration binds: `x`, and those of `{ a, b: [c] }`. */
export function boundNames(pattern: t.Node): string[] {
  switch (pattern.type) {
    case "Identifier":
      return [pattern.name];
    case "ObjectPattern":
      return pattern.properties.flatMap((property) =>
        property.type === "RestElement" ? boundNames(property.argument) : boundNames(property.value),
      );
    case "ArrayPattern":
      return pattern.elements.flatMap((element) => (element ? boundNames(element) : []));
    case "AssignmentPattern":
      return boundNames(pattern.left);
    case "RestElement":
      return boundNames(pattern.argument);
    default:
      return [];
  }
}

/** The name a call is made by: `f` for `f()`, `m` for `a.b.m()` and `a?.m()`; `null` otherwise. */
export function calleeName(callee: t.Node): string | null {
  const node = unwrap(callee);
  if (node.type === "Identifier") return node.name;
  if (node.type === "MemberExpression" || node.type === "OptionalMemberExpression") {
    if (!node.computed && node.property.type === "Identifier") return node.property.name;
    if (node.property.type === "StringLiteral") return node.property.value;
  }
  return null;
}

export function lineOf(node: t.Node): number {
  return node.loc?.start.line ?? 1;
}

function keyName(key: t.Node): string | null {
  if (key.type === "Identifier") return key.name;
  if (key.type === "StringLiteral") return key.value;
  return null;
}

function pluginsFor(path: string): ParserPlugin[] {
  const extension = extname(path);
  if (extension === ".ts" || extension === ".mts" || extension === ".cts") return ["typescript"];
  if (extension === ".tsx") return ["typescript", "jsx"];
  return ["jsx"];
}

/** The JSON-with-comments of a tsconfig.json, read as a JavaScript expression (comments, trailing commas). */
function readJsonc(path: string): StaticValue {
  try {
    return literal(parseExpression(`(${readFileSync(path, "utf8")})`));
  } catch {
    return UNKNOWN;
  }
}

/** A literal written in the code: strings, numbers, arrays and objects of them; {@link UNKNOWN} otherwise. */
function literal(node: t.Node, resolveName?: (name: string) => StaticValue): StaticValue {
  const value = unwrap(node);
  switch (value.type) {
    case "StringLiteral":
    case "NumericLiteral":
    case "BooleanLiteral":
      return value.value;
    case "NullLiteral":
      return null;
    case "TemplateLiteral":
      return value.expressions.length === 0 ? value.quasis.map((quasi) => quasi.value.cooked ?? "").join("") : UNKNOWN;
    case "ArrayExpression":
      return value.elements.flatMap((element): StaticValue[] => {
        if (!element) return [];
        if (element.type === "SpreadElement") {
          const spread = literal(element.argument, resolveName);
          return Array.isArray(spread) ? spread : [UNKNOWN];
        }
        return [literal(element, resolveName)];
      });
    case "ObjectExpression": {
      const object: { [key: string]: StaticValue } = {};
      for (const property of value.properties) {
        if (property.type !== "ObjectProperty" || property.computed) continue;
        const key = keyName(property.key);
        if (key !== null) object[key] = literal(property.value, resolveName);
      }
      return object;
    }
    case "Identifier":
      return resolveName ? resolveName(value.name) : UNKNOWN;
    default:
      return UNKNOWN;
  }
}

interface PathAlias {
  /** The part before `*` (or the whole key when it has none). */
  prefix: string;
  suffix: string;
  wildcard: boolean;
  targets: string[];
}

/**
 * The app's modules, parsed once each. `root` is the app's folder: its tsconfig.json (or jsconfig.json)
 * `compilerOptions.paths` and `baseUrl` resolve aliases such as `@/lib/dal`.
 */
export class SourceTree {
  readonly root: string;
  /** Files that could not be read or parsed, with the reason. */
  readonly problems: Array<{ path: string; message: string }> = [];
  private readonly modules = new Map<string, SourceModule | null>();
  private readonly aliases: PathAlias[] = [];
  private readonly baseUrl: string | null = null;

  constructor(root: string) {
    this.root = resolve(root);
    const config = ["tsconfig.json", "jsconfig.json"].map((name) => join(this.root, name)).find((p) => existsSync(p));
    const options = config ? readJsonc(config) : UNKNOWN;
    const compilerOptions = isRecord(options) ? options.compilerOptions : UNKNOWN;
    if (!isRecord(compilerOptions)) return;
    const baseUrl = compilerOptions.baseUrl;
    if (typeof baseUrl === "string") this.baseUrl = resolve(this.root, baseUrl);
    const paths = compilerOptions.paths;
    if (!isRecord(paths)) return;
    for (const [key, targets] of Object.entries(paths)) {
      if (!Array.isArray(targets)) continue;
      const star = key.indexOf("*");
      this.aliases.push({
        prefix: star === -1 ? key : key.slice(0, star),
        suffix: star === -1 ? "" : key.slice(star + 1),
        wildcard: star !== -1,
        targets: targets.filter((target): target is string => typeof target === "string"),
      });
    }
  }

  /** The module at `path` (absolute), parsed; `null` when it cannot be read or parsed. */
  load(path: string): SourceModule | null {
    if (this.modules.has(path)) return this.modules.get(path) ?? null;
    this.modules.set(path, null);
    let program: t.Program;
    try {
      const file = parse(readFileSync(path, "utf8"), {
        sourceType: "module",
        plugins: pluginsFor(path),
        errorRecovery: true,
      });
      program = file.program;
    } catch (error) {
      this.problems.push({ path, message: error instanceof Error ? error.message : String(error) });
      return null;
    }
    const module = this.describe(path, program);
    this.modules.set(path, module);
    return module;
  }

  /** The app's own file that `specifier` names from `from`, or `null` for a package or a missing file. */
  resolveImport(from: string, specifier: string): string | null {
    if (specifier.startsWith(".") || specifier.startsWith("/"))
      return this.resolveFile(resolve(dirname(from), specifier));
    for (const alias of this.aliases) {
      const matches = alias.wildcard
        ? specifier.startsWith(alias.prefix) && specifier.endsWith(alias.suffix)
        : specifier === alias.prefix;
      if (!matches) continue;
      const rest = alias.wildcard ? specifier.slice(alias.prefix.length, specifier.length - alias.suffix.length) : "";
      for (const target of alias.targets) {
        const found = this.resolveFile(resolve(this.baseUrl ?? this.root, target.replace("*", rest)));
        if (found) return found;
      }
    }
    return this.baseUrl ? this.resolveFile(resolve(this.baseUrl, specifier)) : null;
  }

  /** The value `name` has in `module`, through imports of the app's own modules; `null` when not found. */
  resolveName(module: SourceModule, name: string, hops = 0): Resolved | null {
    const binding = module.bindings.get(name);
    if (!binding || hops > MAX_HOPS) return null;
    if (binding.kind === "value") return { module, node: binding.node, line: binding.line };
    const target = binding.from ? this.load(binding.from) : null;
    if (!target || binding.imported === "*") return null;
    return this.resolveExport(target, binding.imported, hops + 1);
  }

  /** The value `module` exports as `name` (`"default"` for the default export), through re-exports. */
  resolveExport(module: SourceModule, name: string, hops = 0): Resolved | null {
    if (hops > MAX_HOPS) return null;
    const entry = module.exports.get(name);
    if (entry?.kind === "local") return this.resolveName(module, entry.local, hops + 1);
    if (entry?.kind === "value") return { module, node: entry.node, line: entry.line };
    if (entry?.kind === "from") {
      const target = entry.from ? this.load(entry.from) : null;
      return target ? this.resolveExport(target, entry.imported, hops + 1) : null;
    }
    for (const star of module.starExports) {
      const target = this.load(star);
      const found = target && name !== "default" ? this.resolveExport(target, name, hops + 1) : null;
      if (found) return found;
    }
    return null;
  }

  /** The module a namespace import names (`dal` in `import * as dal from "./dal"`), or `null`. */
  namespaceModule(module: SourceModule, name: string): SourceModule | null {
    const binding = module.bindings.get(name);
    return binding?.kind === "import" && binding.imported === "*" && binding.from ? this.load(binding.from) : null;
  }

  /** The literal value of `node`, following names to the constants they are bound to. */
  staticValue(module: SourceModule, node: t.Node, hops = 0): StaticValue {
    return literal(node, (name) => {
      const found = hops < MAX_HOPS ? this.resolveName(module, name) : null;
      return found ? this.staticValue(found.module, found.node, hops + 1) : UNKNOWN;
    });
  }

  private resolveFile(base: string): string | null {
    const candidates = [base, ...SOURCE_EXTENSIONS.map((extension) => base + extension)];
    // `./dal.js` in TypeScript's NodeNext style names ./dal.ts.
    if (/\.[cm]?js$/.test(base))
      candidates.push(...[".ts", ".tsx"].map((extension) => base.replace(/\.[cm]?js$/, extension)));
    candidates.push(...SOURCE_EXTENSIONS.map((extension) => join(base, `index${extension}`)));
    return candidates.find((candidate) => statSync(candidate, { throwIfNoEntry: false })?.isFile()) ?? null;
  }

  private describe(path: string, program: t.Program): SourceModule {
    const module: SourceModule = {
      path,
      program,
      directives: program.directives.map((directive) => directive.value.value),
      bindings: new Map(),
      exports: new Map(),
      starExports: [],
      imports: new Map(),
    };
    const from = (source: t.StringLiteral, names: string[]): string | null => {
      const resolved = this.resolveImport(path, source.value);
      if (resolved) module.imports.set(resolved, new Set([...(module.imports.get(resolved) ?? []), ...names]));
      return resolved;
    };
    const declare = (declaration: t.Node): string[] => {
      if (declaration.type === "FunctionDeclaration" || declaration.type === "ClassDeclaration") {
        if (!declaration.id) return [];
        module.bindings.set(declaration.id.name, { kind: "value", node: declaration, line: lineOf(declaration) });
        return [declaration.id.name];
      }
      if (declaration.type !== "VariableDeclaration" || declaration.declare) return [];
      return declaration.declarations.flatMap((declarator) => {
        const names = boundNames(declarator.id);
        const node = declarator.init ?? declarator;
        for (const name of names) module.bindings.set(name, { kind: "value", node, line: lineOf(declarator) });
        return names;
      });
    };
    for (const statement of program.body) {
      const line = lineOf(statement);
      switch (statement.type) {
        case "ImportDeclaration": {
          if (statement.importKind === "type" || statement.importKind === "typeof") break;
          const specifiers = statement.specifiers.flatMap((specifier) => {
            if (specifier.type === "ImportSpecifier" && specifier.importKind === "type") return [];
            const imported =
              specifier.type === "ImportDefaultSpecifier"
                ? "default"
                : specifier.type === "ImportNamespaceSpecifier"
                  ? "*"
                  : (keyName(specifier.imported) ?? "");
            return [{ local: specifier.local.name, imported }];
          });
          const source = from(
            statement.source,
            specifiers.map((specifier) => specifier.imported),
          );
          for (const { local, imported } of specifiers)
            module.bindings.set(local, { kind: "import", from: source, imported, line });
          break;
        }
        case "FunctionDeclaration":
        case "ClassDeclaration":
        case "VariableDeclaration":
          declare(statement);
          break;
        case "ExportNamedDeclaration": {
          if (statement.exportKind === "type") break;
          if (statement.declaration) {
            for (const name of declare(statement.declaration))
              module.exports.set(name, { kind: "local", local: name, line });
            break;
          }
          const reexported = statement.specifiers.map((specifier) =>
            specifier.type === "ExportSpecifier" ? specifier.local.name : "*",
          );
          const source = statement.source ? from(statement.source, reexported) : undefined;
          for (const specifier of statement.specifiers) {
            if (specifier.type !== "ExportSpecifier" || specifier.exportKind === "type") continue;
            const exported = keyName(specifier.exported) ?? "";
            module.exports.set(
              exported,
              source === undefined
                ? { kind: "local", local: specifier.local.name, line }
                : { kind: "from", from: source, imported: specifier.local.name, line },
            );
          }
          break;
        }
        case "ExportDefaultDeclaration": {
          const declaration = statement.declaration;
          if (declaration.type === "TSDeclareFunction") break;
          declare(declaration);
          module.exports.set(
            "default",
            declaration.type === "Identifier"
              ? { kind: "local", local: declaration.name, line }
              : { kind: "value", node: declaration, line },
          );
          break;
        }
        case "ExportAllDeclaration": {
          if (statement.exportKind === "type") break;
          const source = from(statement.source, ["*"]);
          if (source) module.starExports.push(source);
          break;
        }
      }
    }
    return module;
  }
}

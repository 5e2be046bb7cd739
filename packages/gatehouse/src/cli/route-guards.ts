/**
 * Whether a secure check guards a route's code, read from its AST: a Gatehouse guard called in the function
 * (`requireUser()`, `requireRole()`, `requirePermission()`), a guard wrapping it (`withPageAuth`, `withApiAuth`,
 * `withRouteAuth`, `guardAction` / `withActionAuth`), or `getSession()` / `verifySession()` whose awaited result
 * the code then branches on. One level of the app's own helpers is followed: a function of the same file or of
 * one of the app's modules counts when its body holds such a check. Calls are recognised by name, and so is
 * the auth API's `handlers` object of `createAppAuth` (`export const { GET, POST } = handlers`).
 */
import type * as t from "@babel/types";
import {
  boundNames,
  calleeName,
  isFunctionNode,
  type SourceModule,
  type SourceTree,
  unwrap,
  walk,
} from "./source-modules.js";

/** Guards that check in the function they are called in, and throw or redirect when the check fails. */
export const REQUIRE_CALLS: readonly string[] = ["requireUser", "requireRole", "requirePermission"];
/** Guards that wrap the exported handler and run the check before it. */
export const WRAPPER_CALLS: readonly string[] = [
  "withPageAuth",
  "withApiAuth",
  "withRouteAuth",
  "guardAction",
  "withActionAuth",
];
/** The auth API (and the admin API) itself: its routes check what each needs. */
export const AUTH_API_CALLS: readonly string[] = ["gatehouseApiHandler", "gatehouseAdminHandler"];
/**
 * The auth API (and the admin API) as App Router handlers: the objects `createAppAuth` returns them in, whose
 * methods a catch-all Route Handler exports (`export const { GET, POST } = handlers`,
 * `export const GET = auth.handlers.GET`, `export const { GET } = adminHandlers`).
 */
export const AUTH_API_OBJECTS: readonly string[] = ["handlers", "adminHandlers"];
/** The secure session check, which returns `null` when signed out: a guard only when its result is branched on. */
export const SESSION_CALLS: readonly string[] = ["getSession", "verifySession"];

/** The check found: the guard's name as printed (`requireUser`, `getSession + branch`, `helper → requireRole`). */
export interface Guard {
  name: string;
  /** The route is the auth API itself (`gatehouseApiHandler`, or a method of `handlers`). */
  authApi: boolean;
}

/** Helpers are followed from the route's own code (depth 0) into their bodies (depth 1), and no further. */
type Depth = 0 | 1;

/** The auth API object `node` names (`handlers`, `auth.handlers`), or `null`. */
function authApiObject(node: t.Node): string | null {
  // calleeName reads a name or a member's property name, whether or not it is called.
  const name = calleeName(node);
  return name && AUTH_API_OBJECTS.includes(name) ? name : null;
}

/**
 * The auth API object an exported value takes a handler from: `handlers` itself, which a destructuring
 * export binds each name to (`export const { GET } = handlers`), or one of its members (`handlers.GET`).
 */
function authApiHandler(node: t.Node): string | null {
  const value = unwrap(node);
  const member = value.type === "MemberExpression" || value.type === "OptionalMemberExpression";
  return authApiObject(value) ?? (member ? authApiObject(value.object) : null);
}

/** The name of the session call whose awaited result `node` is (`await getSession()`), or `null`. */
function awaitedSessionCall(node: t.Node): string | null {
  const value = unwrap(node);
  if (value.type !== "AwaitExpression") return null;
  const call = unwrap(value.argument);
  if (call.type !== "CallExpression" && call.type !== "OptionalCallExpression") return null;
  const name = calleeName(call.callee);
  return name && SESSION_CALLS.includes(name) ? name : null;
}

/** The session call awaited anywhere in `expression` (`!(await getSession())`), or `null`. */
function sessionCallIn(expression: t.Node): string | null {
  let found: string | null = null;
  walk(
    expression,
    (node) => {
      found ??= awaitedSessionCall(node);
      return found ? "skip" : undefined;
    },
    { intoFunctions: false },
  );
  return found;
}

/** The expressions a node tests: an `if`'s or a ternary's condition, the left side of `&&`, `||`, `??`. */
function testsOf(node: t.Node): t.Node[] {
  switch (node.type) {
    case "IfStatement":
    case "ConditionalExpression":
    case "WhileStatement":
    case "DoWhileStatement":
      return [node.test];
    case "LogicalExpression":
      return [node.left];
    case "SwitchStatement":
      return [node.discriminant];
    default:
      return [];
  }
}

/** Whether `node` is a use of a value that branches on it or asserts it: `x?.y`, `x?.()`, `x!`. */
function assertedValue(node: t.Node): t.Node | null {
  if ((node.type === "OptionalMemberExpression" || node.type === "OptionalCallExpression") && node.optional)
    return node.type === "OptionalMemberExpression" ? node.object : node.callee;
  if (node.type === "TSNonNullExpression") return node.expression;
  return null;
}

/** Whether `expression` reads the variable `name` (not a property or a key of that name). */
function readsName(expression: t.Node, name: string): boolean {
  let found = false;
  walk(
    expression,
    (node, parent, key) => {
      if (found) return "skip";
      if (node.type !== "Identifier" || node.name !== name) return undefined;
      const isPropertyName =
        (parent?.type === "MemberExpression" || parent?.type === "OptionalMemberExpression") &&
        key === "property" &&
        !parent.computed;
      const isKey = parent?.type === "ObjectProperty" && key === "key" && !parent.computed;
      if (!isPropertyName && !isKey) found = true;
      return undefined;
    },
    { intoFunctions: true },
  );
  return found;
}

/**
 * Finds the guards of routes in the modules of `tree`. Each finder method returns the first check found, in
 * source order, or `null`.
 */
export class GuardFinder {
  private readonly tree: SourceTree;

  constructor(tree: SourceTree) {
    this.tree = tree;
  }

  /**
   * The guard of an exported value: a function (its body is read), a call of a guard wrapper or of a helper
   * that holds one, a handler of the auth API's `handlers`, or a name bound to one of these.
   */
  ofValue(module: SourceModule, node: t.Node, depth: Depth = 0, seen: Set<t.Node> = new Set()): Guard | null {
    const value = unwrap(node);
    if (seen.has(value)) return null;
    seen.add(value);
    if (isFunctionNode(value)) return this.ofFunction(module, value, depth);
    // Before names are followed: `handlers` comes from a call (`createAppAuth(…)`) that says nothing by itself.
    const handlers = authApiHandler(value);
    if (handlers) return { name: handlers, authApi: true };
    if (value.type === "Identifier") {
      const found = this.tree.resolveName(module, value.name);
      return found ? this.ofValue(found.module, found.node, depth, seen) : null;
    }
    if (value.type === "AwaitExpression") return this.ofValue(module, value.argument, depth, seen);
    if (value.type !== "CallExpression" && value.type !== "OptionalCallExpression") return null;
    const direct = this.ofCall(module, value, depth);
    if (direct) return direct;
    // A wrapper around a guarded handler (`withLogging(withApiAuth(…))`), or a guard called twice
    // (`withPageAuth(getGatehouse)(context)`).
    for (const argument of value.arguments) {
      const inner = unwrap(argument);
      const candidate = isFunctionNode(inner) || inner.type === "CallExpression" || inner.type === "Identifier";
      const found = candidate ? this.ofValue(module, inner, depth, seen) : null;
      if (found) return found;
    }
    const callee = unwrap(value.callee);
    return callee.type === "CallExpression" ? this.ofValue(module, callee, depth, seen) : null;
  }

  /** The guard in a function's own body (not in the callbacks it defines, which may never run). */
  ofFunction(module: SourceModule, fn: t.Function, depth: Depth = 0): Guard | null {
    let found: Guard | null = null;
    /** Variable → the session call it holds the awaited result of. */
    const sessions = new Map<string, string>();
    walk(
      fn.body,
      (node) => {
        if (found) return "skip";
        if (node.type === "CallExpression" || node.type === "OptionalCallExpression") {
          found = this.ofCall(module, node, depth);
          if (found) return "skip";
        }
        if (node.type === "VariableDeclarator" && node.init) {
          const call = awaitedSessionCall(node.init);
          if (call) for (const name of boundNames(node.id)) sessions.set(name, call);
        }
        if (node.type === "AssignmentExpression" && node.operator === "=" && node.left.type === "Identifier") {
          const call = awaitedSessionCall(node.right);
          if (call) sessions.set(node.left.name, call);
        }
        // The awaited result tested or asserted where it is made: `if (!(await getSession()))`, `(await …)?.user`.
        const asserted = assertedValue(node);
        const direct =
          testsOf(node)
            .map(sessionCallIn)
            .find((call) => call !== null) ?? (asserted ? awaitedSessionCall(asserted) : null);
        if (direct) found = { name: `${direct} + branch`, authApi: false };
        return undefined;
      },
      { intoFunctions: false },
    );
    if (found || sessions.size === 0) return found;
    const names = [...sessions.keys()];
    walk(
      fn.body,
      (node) => {
        if (found) return "skip";
        let variable = testsOf(node)
          .map((test) => names.find((name) => readsName(test, name)))
          .find((name) => name !== undefined);
        const asserted = assertedValue(node);
        const target = asserted ? unwrap(asserted) : null;
        if (!variable && target?.type === "Identifier" && sessions.has(target.name)) variable = target.name;
        if (variable) found = { name: `${sessions.get(variable)} + branch`, authApi: false };
        return undefined;
      },
      { intoFunctions: true },
    );
    return found;
  }

  /** A call that is a guard itself, or (from the route's own code) a call of a helper whose body holds one. */
  private ofCall(module: SourceModule, call: t.CallExpression | t.OptionalCallExpression, depth: Depth): Guard | null {
    const name = calleeName(call.callee);
    if (name === null) return null;
    if (AUTH_API_CALLS.includes(name)) return { name, authApi: true };
    if (REQUIRE_CALLS.includes(name) || WRAPPER_CALLS.includes(name)) return { name, authApi: false };
    if (depth > 0) return null;
    const helper = this.helper(module, call.callee);
    const inner = helper ? this.ofFunction(helper.module, helper.fn, 1) : null;
    return inner ? { name: `${name} → ${inner.name}`, authApi: inner.authApi } : null;
  }

  /** The app's own function a callee names: `helper`, or `dal.helper` of `import * as dal`. */
  private helper(module: SourceModule, callee: t.Node): { module: SourceModule; fn: t.Function } | null {
    const node = unwrap(callee);
    let found = null;
    if (node.type === "Identifier") found = this.tree.resolveName(module, node.name);
    else if (node.type === "MemberExpression" && !node.computed && node.property.type === "Identifier") {
      const object = unwrap(node.object);
      const namespace = object.type === "Identifier" ? this.tree.namespaceModule(module, object.name) : null;
      found = namespace ? this.tree.resolveExport(namespace, node.property.name) : null;
    }
    if (!found) return null;
    const fn = functionOf(found.node);
    return fn ? { module: found.module, fn } : null;
  }
}

/** The function a helper is: `function f() {}`, `const f = () => {}`, or one wrapped, as `cache(async () => {})`. */
function functionOf(node: t.Node, hops = 0): t.Function | null {
  const value = unwrap(node);
  if (isFunctionNode(value)) return value;
  if ((value.type === "CallExpression" || value.type === "OptionalCallExpression") && hops < 3) {
    for (const argument of value.arguments) {
      const fn = functionOf(argument, hops + 1);
      if (fn) return fn;
    }
  }
  return null;
}

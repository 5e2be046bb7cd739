/**
 * Attacks on the App Router's Server Actions (`actions.*` and `guardAction`), against real instances on
 * in-memory SQLite, as app-actions.test.ts runs them: only `headers()` and `cookies()` are stood in for. Here
 * `cookies().set` writes through Next's own `ResponseCookies` (the class behind `cookies()` in a Server Action),
 * so the `Set-Cookie` lines checked are the ones Next would send. `redirect()` is Next's own.
 */
import { DynamicServerError } from "next/dist/client/components/hooks-server-context.js";
import type { ResponseCookies } from "next/dist/compiled/@edge-runtime/cookies/index.js";
import { notFound, redirect } from "next/navigation";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { totpCode } from "../../test/support/totp.js";
import type { Auth } from "../core/dto.js";
import type { Gatehouse, GatehouseOptions } from "../core/gatehouse.js";
import { StoreUnavailableError } from "../errors.js";
import { createOutboxMailer } from "../mail/outbox.js";
import { createSqliteStore } from "../stores/sqlite.js";
import type { Store } from "../stores/types.js";

const request = vi.hoisted(() => ({
  headers: new Headers(),
  /** The response's headers, as Next's `ResponseCookies` writes them. */
  out: new Headers(),
  jar: null as ResponseCookies | null,
  /** What each `cookies().set` call received. */
  set: [] as Array<Record<string, unknown>>,
  /** When set, `headers()` rejects with it (Next's own control flow, say). */
  headersError: null as unknown,
}));
vi.mock("next/headers", async () => {
  const { ResponseCookies } = await import("next/dist/compiled/@edge-runtime/cookies/index.js");
  return {
    headers: async () => {
      if (request.headersError) throw request.headersError;
      return request.headers;
    },
    cookies: async () => ({
      toString: () => request.headers.get("cookie") ?? "",
      set: (cookie: Record<string, unknown>) => {
        request.set.push(cookie);
        request.jar ??= new ResponseCookies(request.out);
        request.jar.set(cookie as never);
      },
    }),
  };
});

const { createGatehouse } = await import("../core/gatehouse.js");
const { createAppAuth } = await import("./app.js");
type AppAuth = ReturnType<typeof createAppAuth>;
type State = Awaited<ReturnType<AppAuth["actions"]["logIn"]>>;

const ORIGIN = "https://app.example.com";
const TRUSTED = "https://admin.example.com";
const PASSWORD = "correct horse battery";
const SECRET = "app-router-actions-attacks-secret-0123456789";
const SESSION = "__Host-gatehouse.session";
const DEVICE = "__Host-gatehouse.device";
const PENDING = "__Host-gatehouse.mfa";

/** What the proxied store does on a call: answer, or fail with the error `fault` returns for the method. */
interface Rig {
  gatehouse: Gatehouse;
  auth: AppAuth;
  store: Store;
  fault: { error: ((method: string) => unknown) | null };
}

const opened: Store[] = [];

const ROOMY = {
  signupPerIp: { max: 100_000, windowSeconds: 3600 },
  loginPerIp: { max: 100_000, windowSeconds: 900 },
  passwordResetPerIp: { max: 100_000, windowSeconds: 3600 },
  passwordResetPerEmail: { max: 100_000, windowSeconds: 3600 },
  verificationCodePerIp: { max: 100_000, windowSeconds: 3600 },
};

/** A store whose every method fails with `fault.error(method)` while that returns an error. */
function faulty(store: Store, fault: Rig["fault"]): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function" || typeof property !== "string") return value;
      return (...args: unknown[]) => {
        const error = fault.error?.(property);
        if (error) return Promise.reject(error);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

function rig(options: Partial<GatehouseOptions> = {}, pages?: Parameters<typeof createAppAuth>[1]): Rig {
  const store = createSqliteStore({ url: ":memory:" });
  opened.push(store);
  const fault: Rig["fault"] = { error: null };
  const proxied = faulty(store, fault);
  const gatehouse = createGatehouse({
    store: proxied,
    secret: SECRET,
    url: ORIGIN,
    trustedOrigins: [TRUSTED],
    argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 },
    roles: { admin: ["users:read"], user: [] },
    mailer: createOutboxMailer(proxied),
    secureCookies: true,
    ...options,
    // Every test client has the same (unknown) address: the per-IP limits are raised unless a test sets them.
    rateLimits: { ...ROOMY, ...options.rateLimits },
  } as GatehouseOptions);
  return { gatehouse, auth: createAppAuth(() => gatehouse, pages), store, fault };
}

const STRATEGIES = ["database", "stateless"] as const;
const rigs = { database: rig({ strategy: "database" }), stateless: rig({ strategy: "stateless" }) };
const main = rigs.database;

let emailCount = 0;
const uniqueEmail = () => `attack-${++emailCount}@example.com`;

function form(fields: Record<string, string | Blob | ReadonlyArray<string | Blob>>): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    for (const one of Array.isArray(value) ? value : [value]) data.append(name, one as string | Blob);
  }
  return data;
}

/** The request an action runs in: from the app's origin unless told, with a cookie and more headers if given. */
function from(origin: string | null, cookie?: string, more: Record<string, string> = {}): void {
  request.headers = new Headers();
  if (origin !== null) request.headers.set("origin", origin);
  if (cookie) request.headers.set("cookie", cookie);
  for (const [name, value] of Object.entries(more)) request.headers.set(name, value);
  request.out = new Headers();
  request.jar = null;
  request.set = [];
}

type Outcome = { redirect: string } | { state: State };

/** What an action did: where its `redirect()` sends the visitor, or the state it returned. */
async function outcome(run: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { state: (await run()) as State };
  } catch (error) {
    const digest = (error as { digest?: unknown }).digest;
    if (typeof digest !== "string" || !digest.startsWith("NEXT_REDIRECT;")) throw error;
    return { redirect: digest.split(";")[2]! };
  }
}

async function redirected(run: () => Promise<unknown>): Promise<string> {
  const result = await outcome(run);
  if (!("redirect" in result)) throw new Error(`expected a redirect, got ${JSON.stringify(result.state)}`);
  return result.redirect;
}

async function stateOf(run: () => Promise<unknown>): Promise<State> {
  const result = await outcome(run);
  if (!("state" in result)) throw new Error(`expected a state, got a redirect to ${result.redirect}`);
  return result.state;
}

/** The `Set-Cookie` lines Next writes for the action, by cookie name. */
function written(): Map<string, string> {
  return new Map(request.out.getSetCookie().map((line) => [line.slice(0, line.indexOf("=")), line]));
}

/** A `Set-Cookie` line's attributes, names lower-cased (`secure` → `""`). */
function attributesOf(line: string): Map<string, string> {
  const [, ...parts] = line.split(/;\s*/);
  return new Map(
    parts.map((part) => {
      const at = part.indexOf("=");
      return at === -1 ? [part.toLowerCase(), ""] : [part.slice(0, at).toLowerCase(), part.slice(at + 1)];
    }),
  );
}

/** The `name=value` a browser sends back for a `Set-Cookie` line. */
const cookiePair = (line: string) => line.split(";", 1)[0]!;

async function account(
  on: Rig = main,
  email = uniqueEmail(),
  role?: string,
): Promise<{ email: string; cookie: string; id: string }> {
  const signedIn = await on.gatehouse.signUp({ email, password: PASSWORD });
  if (!("setCookie" in signedIn)) throw new Error("expected a session");
  if (role) await on.gatehouse.users.setRole(email, role);
  return { email, cookie: cookiePair(signedIn.setCookie), id: signedIn.user.id };
}

async function userNamed(on: Rig, email: string) {
  return (await on.gatehouse.users.list()).find((user) => user.email === email);
}

async function sessionsOf(on: Rig, email: string) {
  const user = await userNamed(on, email);
  return user ? on.gatehouse.listSessions(user.id) : [];
}

/** The action's answer is a same-site path whatever the browser does with it: no other origin, no header break. */
function expectSameSite(to: string): void {
  expect(to.startsWith("/")).toBe(true);
  expect(to).not.toMatch(/^\/[/\\]/);
  expect(to).not.toMatch(/[\u0000-\u001f\u007f\\]/);
  expect(new URL(to, ORIGIN).origin).toBe(ORIGIN);
}

beforeEach(() => {
  from(ORIGIN);
  request.headersError = null;
  for (const each of Object.values(rigs)) each.fault.error = null;
});
afterEach(() => {
  vi.restoreAllMocks();
});
afterAll(async () => {
  for (const store of opened) await store.close();
});

/** Every form action, with a form that would succeed (or be refused only for its content) from the app. */
const everyAction: Array<
  [string, (auth: AppAuth) => (state: State, form: FormData) => Promise<State>, () => FormData]
> = [
  ["logIn", (a) => a.actions.logIn, () => form({ email: "victim@example.com", password: PASSWORD })],
  ["signUp", (a) => a.actions.signUp, () => form({ email: uniqueEmail(), password: PASSWORD, name: "Eve" })],
  ["logOut", (a) => a.actions.logOut, () => new FormData()],
  ["requestPasswordReset", (a) => a.actions.requestPasswordReset, () => form({ email: "victim@example.com" })],
  ["resetPassword", (a) => a.actions.resetPassword, () => form({ token: "x".repeat(43), password: PASSWORD })],
  ["verifyEmail", (a) => a.actions.verifyEmail, () => form({ token: "x".repeat(43) })],
];

describe("the Origin check", () => {
  const refused: Array<[string, Record<string, string> | null, string[]?]> = [
    ["a trailing slash", { origin: `${ORIGIN}/` }],
    ["upper case", { origin: ORIGIN.toUpperCase() }],
    ["another port", { origin: `${ORIGIN}:8443` }],
    ["http instead of https", { origin: "http://app.example.com" }],
    ["a look-alike suffix", { origin: "https://app.example.com.evil.example" }],
    ["a look-alike prefix", { origin: "https://evil-app.example.com" }],
    ["userinfo", { origin: "https://app.example.com@evil.example" }],
    ["a path", { origin: `${ORIGIN}/login` }],
    ["a trusted origin's look-alike", { origin: `${TRUSTED}.evil.example` }],
    ["whitespace inside", { origin: "https:// app.example.com" }],
    ["Origin null", { origin: "null" }],
    ["Origin null with Sec-Fetch-Site: same-origin", { origin: "null", "sec-fetch-site": "same-origin" }],
    ["no Origin but Sec-Fetch-Site: same-origin", { "sec-fetch-site": "same-origin" }],
    ["no Origin but a same-site Referer", { referer: `${ORIGIN}/login` }],
    ["no Origin but X-Forwarded-Host of the app", { "x-forwarded-host": "app.example.com", host: "app.example.com" }],
    ["no header at all", null],
    ["the app's and another, in one header", {}, [ORIGIN, "https://evil.example"]],
    ["another and the app's, in one header", {}, ["https://evil.example", ORIGIN]],
    ["the app's twice", {}, [ORIGIN, ORIGIN]],
  ];

  for (const [name, pick, make] of everyAction) {
    it.each(refused)(`${name} refuses %s with csrf and no cookie`, async (_case, given, origins) => {
      const { email, cookie } = await account();
      from(null, cookie, given ?? {});
      for (const origin of origins ?? []) request.headers.append("origin", origin);
      const data = make();
      const state = await stateOf(() => pick(main.auth)(null, data));
      expect(state).toMatchObject({ ok: false, error: { code: "csrf" } });
      expect(request.set).toEqual([]);
      // The session the call carried is untouched (log-out ended nothing).
      expect((await main.gatehouse.authenticate(cookie, { canSetCookie: false })).user?.email).toBe(email);
    });
  }

  it("creates nothing and sends nothing for a refused call", async () => {
    const email = uniqueEmail();
    from("https://app.example.com.evil.example");
    const before = (await main.gatehouse.listMail()).counts;
    await main.auth.actions.signUp(null, form({ email, password: PASSWORD }));
    await main.auth.actions.requestPasswordReset(null, form({ email }));
    expect(await userNamed(main, email)).toBeUndefined();
    // Not even a job was queued: the durable outbox holds as many messages as before.
    expect((await main.gatehouse.listMail()).counts).toEqual(before);
  });

  it("refuses a look-alike even with the right password, and the log-in counts nowhere", async () => {
    const { email } = await account();
    from(`${ORIGIN}.evil.example`);
    expect(await stateOf(() => main.auth.actions.logIn(null, form({ email, password: PASSWORD })))).toMatchObject({
      error: { code: "csrf" },
    });
    expect(await sessionsOf(main, email)).toHaveLength(1);
  });

  it("accepts the app's origin and a trusted origin, exactly", async () => {
    for (const origin of [ORIGIN, TRUSTED]) {
      const { email } = await account();
      from(origin);
      expect(await redirected(() => main.auth.actions.logIn(null, form({ email, password: PASSWORD })))).toBe(
        "/dashboard",
      );
    }
  });

  it("guardAction refuses every one of these too, and never runs the action", async () => {
    const action = vi.fn(async (_auth: Auth) => ({ ok: true as const }));
    const guarded = main.auth.guardAction(action);
    const { cookie } = await account();
    for (const [_case, given, origins] of refused) {
      from(null, cookie, given ?? {});
      for (const origin of origins ?? []) request.headers.append("origin", origin);
      expect(await guarded()).toMatchObject({ ok: false, error: { code: "csrf" } });
    }
    expect(action).not.toHaveBeenCalled();
  });
});

describe("what a form can carry", () => {
  it("refuses a huge password with payload_too_large, storing nothing, echoing nothing", async () => {
    const email = uniqueEmail();
    const huge = `Pw${"q".repeat(20_000)}`;
    for (const action of [main.auth.actions.signUp, main.auth.actions.logIn]) {
      const state = await stateOf(() => action(null, form({ email, password: huge })));
      expect(state).toMatchObject({ ok: false, error: { code: "payload_too_large" }, values: { email } });
      expect(JSON.stringify(state)).not.toContain("qqqqqqqq");
      expect(request.set).toEqual([]);
    }
    expect(await userNamed(main, email)).toBeUndefined();
  });

  it("refuses a huge name or email, and gives back at most a bounded copy", async () => {
    const email = `${"e".repeat(40_000)}@example.com`;
    const state = await stateOf(() =>
      main.auth.actions.signUp(null, form({ email, password: PASSWORD, name: "n".repeat(40_000) })),
    );
    expect(state).toMatchObject({ ok: false, error: { code: "payload_too_large" } });
    expect(JSON.stringify(state).length).toBeLessThan(8_000);
    expect((await main.gatehouse.users.list()).some((user) => user.email.startsWith("eeee"))).toBe(false);
  });

  it("counts multi-byte characters as bytes against the limit", async () => {
    // 6,000 characters of 3 bytes each: 18 KB of UTF-8, under 16 K characters.
    const state = await stateOf(() =>
      main.auth.actions.signUp(null, form({ email: uniqueEmail(), password: PASSWORD, name: "€".repeat(6_000) })),
    );
    expect(state).toMatchObject({ ok: false, error: { code: "payload_too_large" } });
  });

  it("ignores the action's own Content-Type and Content-Length: the route reads the JSON made from the form", async () => {
    const { email } = await account();
    // A Server Action's multipart body is larger than the route's 16 KB limit whenever it carries a file.
    from(ORIGIN, undefined, { "content-type": "multipart/form-data; boundary=x", "content-length": "500000" });
    const data = form({ email, password: PASSWORD, avatar: new Blob(["x".repeat(100_000)]) });
    expect(await redirected(() => main.auth.actions.logIn(null, data))).toBe("/dashboard");
    from(ORIGIN, undefined, { "content-type": "text/plain" });
    expect(await redirected(() => main.auth.actions.logIn(null, form({ email, password: PASSWORD })))).toBe(
      "/dashboard",
    );
  });

  it("uses the first of duplicate fields, the same one it shows back", async () => {
    const victim = await account();
    const attacker = await account();
    // The first email with the second's password: not a log-in as either.
    const state = await stateOf(() =>
      main.auth.actions.logIn(
        null,
        form({ email: [victim.email, attacker.email], password: ["wrong password 1", PASSWORD] }),
      ),
    );
    expect(state).toMatchObject({ ok: false, error: { code: "invalid_credentials" }, values: { email: victim.email } });
    expect(request.set).toEqual([]);
  });

  it.each([[["/ok", "//evil.example"]], [["//evil.example", "/ok"]], [["https://evil.example", "/ok"]]])(
    "never leaves the site for duplicate next fields %j",
    async (next) => {
      const { email } = await account();
      const to = await redirected(() => main.auth.actions.logIn(null, form({ email, password: PASSWORD, next })));
      expectSameSite(to);
    },
  );

  it("ignores prototype keys in the form, and pollutes nothing", async () => {
    const { email } = await account();
    const polluting = form({
      ["__proto__"]: '{"polluted":"yes"}',
      constructor: "x",
      prototype: "x",
      toString: "x",
      hasOwnProperty: "x",
      "__proto__[polluted]": "yes",
      "constructor[prototype][polluted]": "yes",
      email,
      password: "wrong password 123",
    });
    const state = await stateOf(() => main.auth.actions.logIn(null, polluting));
    expect(state).toEqual({
      ok: false,
      error: { code: "invalid_credentials", message: expect.any(String) },
      values: { email },
    });
    if (state && !state.ok) expect(Object.getPrototypeOf(state.values)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    polluting.set("password", PASSWORD);
    expect(await redirected(() => main.auth.actions.logIn(null, polluting))).toBe("/dashboard");
  });

  it("never reads a file as text: a password in a Blob signs in no one", async () => {
    const { email } = await account();
    const state = await stateOf(() =>
      main.auth.actions.logIn(null, form({ email, password: new File([PASSWORD], "password.txt") })),
    );
    expect(state).toMatchObject({ ok: false, error: { code: "invalid_input" } });
    expect(request.set).toEqual([]);
    const reset = await stateOf(() =>
      main.auth.actions.resetPassword(null, form({ token: new Blob(["x".repeat(43)]), password: PASSWORD })),
    );
    expect(reset).toMatchObject({ ok: false });
    expect(["invalid_input", "invalid_token"]).toContain(reset && !reset.ok && reset.error.code);
    expect(JSON.stringify(reset)).not.toContain(PASSWORD);
  });

  it("treats a next given as a file as no next", async () => {
    const { email } = await account();
    expect(
      await redirected(() =>
        main.auth.actions.logIn(null, form({ email, password: PASSWORD, next: new Blob(["//evil.example"]) })),
      ),
    ).toBe("/dashboard");
  });
});

describe("next, for log-in, sign-up and the second step", () => {
  const hostile = [
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "https:evil.example",
    "https:/evil.example",
    "https://evil.example/x",
    "HTTPS://EVIL.EXAMPLE",
    "https://app.example.com.evil.example/",
    "https://app.example.com@evil.example/",
    "//app.example.com@evil.example",
    "%2F%2Fevil.example",
    "/%2F%2Fevil.example",
    "/%5Cevil.example",
    "/%5cevil.example",
    "/%09/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/.//evil.example",
    "/..//evil.example",
    "/x/../..//evil.example",
    "/%2e%2e//evil.example",
    " //evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/ok\r\nLocation: https://evil.example",
    "/ok%0d%0aSet-Cookie:%20x=1",
    "/ok\u2028x",
    `/${"a".repeat(5000)}`,
  ];

  it.each(hostile)("logIn never leaves the site for next=%j", async (next) => {
    const { email } = await account();
    expectSameSite(await redirected(() => main.auth.actions.logIn(null, form({ email, password: PASSWORD, next }))));
  });

  it.each(hostile)("signUp never leaves the site for next=%j", async (next) => {
    expectSameSite(
      await redirected(() => main.auth.actions.signUp(null, form({ email: uniqueEmail(), password: PASSWORD, next }))),
    );
  });

  it("keeps a same-site next as it is", async () => {
    const { email } = await account();
    const next = "/settings/security?tab=2#top";
    expect(await redirected(() => main.auth.actions.logIn(null, form({ email, password: PASSWORD, next })))).toBe(next);
  });

  it("passes only a safe next on to the second step's page", async () => {
    const { email, cookie } = await account();
    const found = await main.gatehouse.authenticate(cookie, { canSetCookie: false });
    const who: Auth = { user: found.user!, session: found.session! };
    const setup = await main.gatehouse.setUpTotp(who, { password: PASSWORD });
    await main.gatehouse.confirmTotp(who, { code: totpCode(setup.secret, Date.now()) });
    for (const next of hostile) {
      from(ORIGIN);
      const to = await redirected(() => main.auth.actions.logIn(null, form({ email, password: PASSWORD, next })));
      expectSameSite(to);
      const url = new URL(to, ORIGIN);
      expect(url.pathname).toBe("/login/verify");
      const passed = url.searchParams.get("next");
      if (passed !== null) expectSameSite(passed);
      // The second step needs the pending cookie, and no session is set before it.
      expect([...written().keys()]).toEqual([PENDING]);
    }
  });
});

describe("secrets never come back in a state", () => {
  const secretPassword = "Secret-Pw-7f3a9c-horse";
  const secretToken = "TOKEN7f3a9cTOKEN7f3a9cTOKEN7f3a9cTOKEN7f3a9";
  const secretCode = "73910482";
  /** Too short for the policy: refused, whatever the token. */
  const weakPassword = "Sec7f3a";

  it("in any failure of any action", async () => {
    const codes = rig({ emailVerification: { method: "code" } });
    const { email } = await account();
    const states: State[] = [];
    const run = async (action: (state: State, data: FormData) => Promise<State>, data: FormData) => {
      states.push(await stateOf(() => action(null, data)));
    };
    const { actions } = main.auth;
    await run(actions.logIn, form({ email, password: secretPassword, next: "/x" }));
    await run(actions.logIn, form({ email: "not an email", password: secretPassword }));
    await run(actions.logIn, form({ email, password: `${secretPassword}${"z".repeat(5000)}` }));
    await run(actions.signUp, form({ email, password: secretPassword, name: "Taken" }));
    await run(actions.signUp, form({ email: uniqueEmail(), password: weakPassword }));
    await run(actions.signUp, form({ email: uniqueEmail(), password: secretPassword, name: "n".repeat(5000) }));
    await run(actions.resetPassword, form({ token: secretToken, password: secretPassword }));
    await run(actions.resetPassword, form({ token: secretToken, password: weakPassword }));
    await run(actions.verifyEmail, form({ token: secretToken }));
    const coded = await account(codes);
    await run(codes.auth.actions.verifyEmail, form({ code: secretCode, email: coded.email }));
    await run(codes.auth.actions.verifyEmail, form({ code: `${secretCode}x`, email: coded.email }));
    from("https://evil.example");
    await run(actions.logIn, form({ email, password: secretPassword }));
    await run(actions.resetPassword, form({ token: secretToken, password: secretPassword }));
    await run(codes.auth.actions.verifyEmail, form({ code: secretCode, email: coded.email }));
    expect(states).toHaveLength(14);
    for (const state of states) {
      expect(state).toMatchObject({ ok: false });
      const text = JSON.stringify(state);
      for (const secret of [secretPassword, secretToken, secretCode, weakPassword]) expect(text).not.toContain(secret);
      if (state && !state.ok) {
        for (const key of Object.keys(state.values)) expect(["email", "name", "next"]).toContain(key);
      }
    }
  });

  it("not even when the store fails or the route throws", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    for (const error of [new StoreUnavailableError(), new Error(`connect failed for ${secretPassword}`)]) {
      main.fault.error = () => error;
      const state = await stateOf(() =>
        main.auth.actions.logIn(null, form({ email: uniqueEmail(), password: secretPassword })),
      );
      expect(state).toMatchObject({ ok: false });
      expect(JSON.stringify(state)).not.toContain(secretPassword);
    }
  });

  it("with a valid reset token and a weak new password", async () => {
    const { email } = await account();
    expect(await main.auth.actions.requestPasswordReset(null, form({ email }))).toMatchObject({ ok: true });
    const token = await resetTokenFor(main, email);
    const weak = weakPassword;
    const state = await stateOf(() => main.auth.actions.resetPassword(null, form({ token, password: weak })));
    expect(state).toMatchObject({ ok: false, error: { code: "invalid_input", fields: { password: {} } } });
    const text = JSON.stringify(state);
    expect(text).not.toContain(token);
    expect(text).not.toContain(weak);
    // A right one then works, and ends the old session: no session cookie is handed out by a reset.
    from(ORIGIN);
    expect(await main.auth.actions.resetPassword(null, form({ token, password: "a brand new passphrase" }))).toEqual({
      ok: true,
    });
    expect(written().has(SESSION)).toBe(false);
    expect(await sessionsOf(main, email)).toEqual([]);
  });
});

/** The token of the newest reset link sent to `email` (the email goes out after the answer). */
async function resetTokenFor(on: Rig, email: string): Promise<string> {
  for (let tries = 0; tries < 100; tries++) {
    // Newest first; a sign-up's verification link is not the one.
    const token = (await on.gatehouse.outboxMessages(500))
      .filter((each) => each.to === email)
      .map((each) => each.text.match(/\/reset-password\?token=([A-Za-z0-9_-]+)/)?.[1])
      .find(Boolean);
    if (token) return token;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no reset email for ${email}`);
}

describe.each(STRATEGIES)("cookies through cookies().set (%s sessions)", (strategy) => {
  const on = rigs[strategy];

  /** The attributes every Gatehouse cookie must keep, whatever Next adds (Expires from Max-Age). */
  function expectHardened(line: string | undefined, maxAge: (seconds: number) => boolean): Map<string, string> {
    expect(line).toBeDefined();
    const attributes = attributesOf(line!);
    expect(attributes.has("httponly")).toBe(true);
    expect(attributes.has("secure")).toBe(true);
    expect(attributes.get("samesite")?.toLowerCase()).toBe("lax");
    expect(attributes.get("path")).toBe("/");
    expect(attributes.has("domain")).toBe(false);
    expect(maxAge(Number(attributes.get("max-age")))).toBe(true);
    return attributes;
  }

  /** The same log-in through the auth API's Route Handler, for the route's own Set-Cookie lines. */
  async function routeLogIn(email: string): Promise<Map<string, string>> {
    const response = await on.auth.handlers.POST(
      new Request(`${ORIGIN}/api/auth/login`, {
        method: "POST",
        headers: { origin: ORIGIN, "content-type": "application/json" },
        body: JSON.stringify({ email, password: PASSWORD }),
      }),
    );
    expect(response.status).toBe(200);
    return new Map(response.headers.getSetCookie().map((line) => [line.slice(0, line.indexOf("=")), line]));
  }

  it("log-in's session and device cookies are written with the route's attributes, and work", async () => {
    const { email } = await account(on);
    from(ORIGIN);
    await redirected(() => on.auth.actions.logIn(null, form({ email, password: PASSWORD })));
    const lines = written();
    expect([...lines.keys()]).toEqual([SESSION, DEVICE]);
    const session = expectHardened(lines.get(SESSION), (s) => s > 6 * 24 * 3600 && s <= 7 * 24 * 3600);
    const device = expectHardened(lines.get(DEVICE), (s) => s > 24 * 3600);
    const route = await routeLogIn(email);
    for (const [name, attributes] of [
      [SESSION, session],
      [DEVICE, device],
    ] as const) {
      const theirs = attributesOf(route.get(name)!);
      const ours = new Map(attributes);
      // The two log-ins are a moment apart: Max-Age may differ by a second, Expires (Next adds it) more.
      expect(Math.abs(Number(ours.get("max-age")) - Number(theirs.get("max-age")))).toBeLessThanOrEqual(2);
      for (const varying of ["expires", "max-age"]) {
        theirs.delete(varying);
        ours.delete(varying);
      }
      expect(Object.fromEntries([...ours].map(([k, v]) => [k, k === "samesite" ? v.toLowerCase() : v]))).toEqual(
        Object.fromEntries([...theirs].map(([k, v]) => [k, k === "samesite" ? v.toLowerCase() : v])),
      );
    }
    // What the browser sends back is a session the secure check knows.
    const back = await on.gatehouse.authenticate(cookiePair(lines.get(SESSION)!), { canSetCookie: false });
    expect(back.user?.email).toBe(email);
    // The device cookie's value is written as the core encoded it (nothing for Next to re-encode).
    expect(cookiePair(lines.get(DEVICE)!)).toMatch(
      new RegExp(`^${DEVICE.replace(/\./g, "\\.")}=[A-Za-z0-9._~-]{20,}$`),
    );
  });

  it("sign-up's session cookie is hardened and works", async () => {
    const email = uniqueEmail();
    await redirected(() => on.auth.actions.signUp(null, form({ email, password: PASSWORD })));
    const line = written().get(SESSION);
    expectHardened(line, (s) => s > 6 * 24 * 3600);
    expect((await on.gatehouse.authenticate(cookiePair(line!), { canSetCookie: false })).user?.email).toBe(email);
  });

  it("the pending cookie of a 2FA log-in is hardened and short-lived", async () => {
    const { email, cookie } = await account(on);
    const found = await on.gatehouse.authenticate(cookie, { canSetCookie: false });
    const who: Auth = { user: found.user!, session: found.session! };
    const setup = await on.gatehouse.setUpTotp(who, { password: PASSWORD });
    await on.gatehouse.confirmTotp(who, { code: totpCode(setup.secret, Date.now()) });
    from(ORIGIN);
    await redirected(() => on.auth.actions.logIn(null, form({ email, password: PASSWORD })));
    const lines = written();
    expect([...lines.keys()]).toEqual([PENDING]);
    expectHardened(lines.get(PENDING), (s) => s > 0 && s <= 15 * 60);
  });

  it("log-out clears the session cookie under the same name, with Max-Age=0 and the same scope", async () => {
    const { email, cookie } = await account(on);
    from(ORIGIN, cookie);
    await redirected(() => on.auth.actions.logOut(null, new FormData()));
    const lines = written();
    const line = lines.get(SESSION);
    expectHardened(line, (s) => s === 0);
    expect(cookiePair(line!)).toBe(`${SESSION}=`);
    // The session itself is over, not just the cookie.
    expect((await on.gatehouse.authenticate(cookie, { canSetCookie: false })).user).toBeNull();
    expect(await sessionsOf(on, email)).toEqual([]);
  });

  it("a failed log-in sets no session, and a rate-limited one neither", async () => {
    const limited = rig({ strategy, rateLimits: { loginPerAccount: { max: 2, windowSeconds: 900 } } });
    const { email } = await account(limited);
    for (let i = 0; i < 2; i++) {
      from(ORIGIN);
      expect(
        await stateOf(() => limited.auth.actions.logIn(null, form({ email, password: `wrong password ${i}` }))),
      ).toMatchObject({ error: { code: "invalid_credentials" } });
      expect(request.set).toEqual([]);
    }
    from(ORIGIN);
    const state = await stateOf(() => limited.auth.actions.logIn(null, form({ email, password: PASSWORD })));
    expect(state).toMatchObject({ ok: false, error: { code: "rate_limited" }, values: { email } });
    expect(request.set).toEqual([]);
    expect(await sessionsOf(limited, email)).toHaveLength(1);
  });
});

describe("the client's address", () => {
  /** The address the session record of a log-in through `run` has. */
  async function addressOfLogIn(on: Rig, run: (email: string) => Promise<unknown>): Promise<string | null> {
    const { email, id } = await account(on);
    await on.gatehouse.revokeAllSessions(id);
    await run(email);
    const sessions = await on.gatehouse.listSessions(id);
    expect(sessions).toHaveLength(1);
    return sessions[0]!.ip;
  }

  const viaAction = (on: Rig, headers: Record<string, string>) => (email: string) => {
    from(ORIGIN, undefined, headers);
    return redirected(() => on.auth.actions.logIn(null, form({ email, password: PASSWORD })));
  };
  const viaRoute = (on: Rig, headers: Record<string, string>) => (email: string) =>
    on.auth.handlers.POST(
      new Request(`${ORIGIN}/api/auth/login`, {
        method: "POST",
        headers: { origin: ORIGIN, "content-type": "application/json", ...headers },
        body: JSON.stringify({ email, password: PASSWORD }),
      }),
    );

  it("ignores X-Forwarded-For without trusted proxies, as the Route Handler does", async () => {
    const spoofed = { "x-forwarded-for": "203.0.113.7", "x-real-ip": "203.0.113.8" };
    expect(await addressOfLogIn(main, viaAction(main, spoofed))).toBeNull();
    expect(await addressOfLogIn(main, viaRoute(main, spoofed))).toBeNull();
  });

  it("believes only the entry the outermost trusted proxy wrote, as the Route Handler does", async () => {
    const proxied = rig({ trustedProxies: 1 });
    const chain = { "x-forwarded-for": "198.51.100.1, 203.0.113.9" };
    expect(await addressOfLogIn(proxied, viaAction(proxied, chain))).toBe("203.0.113.9");
    expect(await addressOfLogIn(proxied, viaRoute(proxied, chain))).toBe("203.0.113.9");
  });

  it("keys the per-IP log-in limit on that entry: a spoofed first entry evades nothing", async () => {
    const proxied = rig({
      trustedProxies: 1,
      rateLimits: {
        loginPerIp: { max: 2, windowSeconds: 900 },
        loginPerAccountAndIp: false,
        loginPerAccount: false,
        loginPerAccountDaily: false,
      },
    });
    const { email } = await account(proxied);
    // One failure through the action and one through the Route Handler: one counter.
    from(ORIGIN, undefined, { "x-forwarded-for": "1.1.1.1, 203.0.113.20" });
    await proxied.auth.actions.logIn(null, form({ email, password: "wrong password 1" }));
    await proxied.auth.handlers.POST(
      new Request(`${ORIGIN}/api/auth/login`, {
        method: "POST",
        headers: { origin: ORIGIN, "content-type": "application/json", "x-forwarded-for": "2.2.2.2, 203.0.113.20" },
        body: JSON.stringify({ email, password: "wrong password 2" }),
      }),
    );
    from(ORIGIN, undefined, { "x-forwarded-for": "3.3.3.3, 203.0.113.20" });
    expect(await stateOf(() => proxied.auth.actions.logIn(null, form({ email, password: PASSWORD })))).toMatchObject({
      error: { code: "rate_limited" },
    });
    expect(request.set).toEqual([]);
    // Another real address is not held back by it.
    from(ORIGIN, undefined, { "x-forwarded-for": "3.3.3.3, 203.0.113.21" });
    expect(await redirected(() => proxied.auth.actions.logIn(null, form({ email, password: PASSWORD })))).toBe(
      "/dashboard",
    );
  });

  it("without trusted proxies, rotating X-Forwarded-For changes no limit's outcome", async () => {
    const limits = {
      rateLimits: {
        loginPerIp: { max: 3, windowSeconds: 900 },
        loginPerAccountAndIp: false,
        loginPerAccount: false,
        loginPerAccountDaily: false,
      },
    } as const;
    const codes: string[][] = [];
    for (const rotate of [false, true]) {
      const on = rig(limits);
      const { email } = await account(on);
      const seen: string[] = [];
      for (let i = 0; i < 5; i++) {
        from(ORIGIN, undefined, rotate ? { "x-forwarded-for": `192.0.2.${i + 1}` } : {});
        const result = await outcome(() =>
          on.auth.actions.logIn(null, form({ email, password: i === 4 ? PASSWORD : `wrong password ${i}` })),
        );
        seen.push("redirect" in result ? "redirect" : (result.state as { error: { code: string } }).error.code);
      }
      codes.push(seen);
    }
    expect(codes[1]).toEqual(codes[0]);
  });

  // Without trusted proxies an App Router request has no address (`webClientIp` is null). Counted as one
  // address "unknown", every visitor would share one per-IP budget: one attacker's wrong passwords for made-up
  // addresses would lock everybody out, and 20 sign-ups an hour would stop all sign-ups.
  it("does not let one visitor use up every visitor's per-IP budget when the address is unknown", async () => {
    const on = rig({
      rateLimits: {
        loginPerIp: { max: 3, windowSeconds: 900 },
        signupPerIp: { max: 2, windowSeconds: 3600 },
        passwordResetPerIp: { max: 2, windowSeconds: 3600 },
      },
    });
    const victim = await account(on);
    const attacker = { "user-agent": "attacker", "x-forwarded-for": "192.0.2.66" };
    for (let i = 0; i < 3; i++) {
      from(ORIGIN, undefined, attacker);
      await on.auth.actions.logIn(null, form({ email: `nobody-${i}@example.com`, password: "guess 123456" }));
      from(ORIGIN, undefined, attacker);
      await outcome(() => on.auth.actions.signUp(null, form({ email: uniqueEmail(), password: PASSWORD })));
      from(ORIGIN, undefined, attacker);
      await on.auth.actions.requestPasswordReset(null, form({ email: `nobody-${i}@example.com` }));
    }
    const visitor = { "user-agent": "victim", "x-forwarded-for": "198.51.100.23" };
    from(ORIGIN, undefined, visitor);
    expect
      .soft(await outcome(() => on.auth.actions.logIn(null, form({ email: victim.email, password: PASSWORD }))))
      .toEqual({ redirect: "/dashboard" });
    from(ORIGIN, undefined, visitor);
    expect
      .soft(await outcome(() => on.auth.actions.signUp(null, form({ email: uniqueEmail(), password: PASSWORD }))))
      .toEqual({ redirect: "/dashboard" });
    from(ORIGIN, undefined, visitor);
    expect
      .soft(await on.auth.actions.requestPasswordReset(null, form({ email: victim.email })))
      .toMatchObject({ ok: true });
  });
});

describe("a store that is down, and errors nobody expected", () => {
  it.each(STRATEGIES)("gives unavailable, no cookie and no redirect, for every action (%s)", async (strategy) => {
    const on = rigs[strategy];
    const { email, cookie } = await account(on);
    const codes = rig({ strategy, emailVerification: { method: "code" } });
    const coded = await account(codes);
    await on.auth.actions.requestPasswordReset(null, form({ email }));
    const token = await resetTokenFor(on, email);
    on.fault.error = () => new StoreUnavailableError();
    codes.fault.error = () => new StoreUnavailableError();
    const cases: Array<[(state: State, data: FormData) => Promise<State>, FormData]> = [
      [on.auth.actions.logIn, form({ email, password: PASSWORD, next: "/x" })],
      [on.auth.actions.signUp, form({ email: uniqueEmail(), password: PASSWORD })],
      [on.auth.actions.logOut, new FormData()],
      [on.auth.actions.requestPasswordReset, form({ email })],
      [on.auth.actions.resetPassword, form({ token, password: "a brand new passphrase" })],
      [codes.auth.actions.verifyEmail, form({ code: "12345678", email: coded.email })],
    ];
    for (const [action, data] of cases) {
      from(ORIGIN, cookie);
      const state = await stateOf(() => action(null, data));
      expect(state).toMatchObject({ ok: false, error: { code: "unavailable" } });
      expect(request.set).toEqual([]);
    }
    on.fault.error = null;
    expect((await on.gatehouse.authenticate(cookie, { canSetCookie: false })).user?.email).toBe(email);
  });

  it.each(STRATEGIES)("hands out no session when only the session's write fails (%s)", async (strategy) => {
    const on = rigs[strategy];
    const { email, id } = await account(on);
    await on.gatehouse.revokeAllSessions(id);
    const writes = new Set(["writeBatch", "createSession"]);
    on.fault.error = (method) => (writes.has(method) ? new StoreUnavailableError() : undefined);
    const state = await stateOf(() => on.auth.actions.logIn(null, form({ email, password: PASSWORD })));
    expect(state).toMatchObject({ ok: false, error: { code: "unavailable" } });
    expect(request.set).toEqual([]);
    on.fault.error = null;
    expect(await on.gatehouse.listSessions(id)).toEqual([]);
  });

  it("gives internal_error, without the error's own words, for an unexpected error", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const detail = "postgres://admin:hunter2@db.internal/gatehouse";
    const { email } = await account();
    main.fault.error = () => new TypeError(`cannot read ${detail}`);
    for (const [action, data] of [
      [main.auth.actions.logIn, form({ email, password: PASSWORD })],
      [main.auth.actions.signUp, form({ email: uniqueEmail(), password: PASSWORD })],
      [main.auth.actions.requestPasswordReset, form({ email })],
    ] as const) {
      from(ORIGIN);
      const state = await stateOf(() => action(null, data));
      expect(state).toMatchObject({ ok: false, error: { code: "internal_error" } });
      expect(JSON.stringify(state)).not.toContain("hunter2");
      expect(JSON.stringify(state)).not.toContain("cannot read");
      expect(request.set).toEqual([]);
    }
    expect(logged).toHaveBeenCalled();
  });

  it("guardAction fails closed when the store throws, running nothing", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const action = vi.fn(async () => "ran");
    const { cookie } = await account();
    for (const error of [new StoreUnavailableError(), new Error("boom hunter2")]) {
      main.fault.error = () => error;
      from(ORIGIN, cookie);
      const state = await main.auth.guardAction(action)();
      expect(state).toMatchObject({
        ok: false,
        error: { code: error instanceof StoreUnavailableError ? "unavailable" : "internal_error" },
      });
      expect(JSON.stringify(state)).not.toContain("hunter2");
    }
    expect(action).not.toHaveBeenCalled();
  });
});

describe.each(STRATEGIES)("guardAction (%s sessions)", (strategy) => {
  const on = rigs[strategy];
  const action = vi.fn(async (who: Auth, value: string) => ({ ok: true as const, id: who.user.id, value }));
  afterEach(() => action.mockClear());

  it("runs the action exactly once, with the caller's arguments and the checked user", async () => {
    const { cookie, id } = await account(on);
    from(ORIGIN, cookie);
    expect(await on.auth.guardAction(action)("v")).toEqual({ ok: true, id, value: "v" });
    expect(action).toHaveBeenCalledTimes(1);
    expect(action.mock.calls[0]![0].user.id).toBe(id);
  });

  it("refuses a session ended elsewhere (log-out through another tab)", async () => {
    const { cookie } = await account(on);
    from(ORIGIN, cookie);
    await redirected(() => on.auth.actions.logOut(null, new FormData()));
    // The attacker (or another tab) still has the old cookie value.
    from(ORIGIN, cookie);
    expect(await on.auth.guardAction(action)("v")).toMatchObject({ ok: false, error: { code: "unauthenticated" } });
    expect(action).not.toHaveBeenCalled();
  });

  it("refuses a session ended by 'sign out everywhere' and by a password reset", async () => {
    const first = await account(on);
    await on.gatehouse.revokeAllSessions(first.id);
    from(ORIGIN, first.cookie);
    expect(await on.auth.guardAction(action)("v")).toMatchObject({ error: { code: "unauthenticated" } });

    const second = await account(on);
    from(ORIGIN);
    await on.auth.actions.requestPasswordReset(null, form({ email: second.email }));
    const token = await resetTokenFor(on, second.email);
    from(ORIGIN);
    expect(await on.auth.actions.resetPassword(null, form({ token, password: "another fine passphrase" }))).toEqual({
      ok: true,
    });
    from(ORIGIN, second.cookie);
    expect(await on.auth.guardAction(action)("v")).toMatchObject({ error: { code: "unauthenticated" } });
    expect(action).not.toHaveBeenCalled();
  });

  it("refuses an admin demoted since the session began, by permission and by role", async () => {
    const { email, cookie } = await account(on, uniqueEmail(), "admin");
    let current = cookie;
    from(ORIGIN, current);
    expect(await on.auth.guardAction(action, { permission: "users:read" })("v")).toMatchObject({ ok: true });
    current = written().has(SESSION) ? cookiePair(written().get(SESSION)!) : current;
    await on.gatehouse.users.setRole(email, "user");
    for (const options of [{ permission: "users:read" }, { role: "admin" }]) {
      from(ORIGIN, current);
      expect(await on.auth.guardAction(action, options)("v")).toMatchObject({
        ok: false,
        error: { code: "forbidden" },
      });
      // The session is rotated for its new privileges, through cookies().set, hardened as ever.
      const rotated = written().get(SESSION);
      if (rotated) {
        expect(attributesOf(rotated).has("httponly")).toBe(true);
        current = cookiePair(rotated);
      }
    }
    // The cookie from before the demotion is no way back to the old role.
    from(ORIGIN, cookie);
    expect(await on.auth.guardAction(action, { role: "admin" })("v")).toMatchObject({ ok: false });
    expect(action).toHaveBeenCalledTimes(1);
  });

  it("refuses a pending (2FA) cookie, a device cookie, or another site's cookie for the session", async () => {
    const { email, cookie } = await account(on);
    const found = await on.gatehouse.authenticate(cookie, { canSetCookie: false });
    const who: Auth = { user: found.user!, session: found.session! };
    const setup = await on.gatehouse.setUpTotp(who, { password: PASSWORD });
    await on.gatehouse.confirmTotp(who, { code: totpCode(setup.secret, Date.now()) });
    from(ORIGIN);
    await redirected(() => on.auth.actions.logIn(null, form({ email, password: PASSWORD })));
    const pending = written().get(PENDING)!;
    const value = cookiePair(pending).slice(PENDING.length + 1);
    const other = rig({ strategy, secret: "another-apps-secret-0123456789-abcdef" });
    const foreign = await account(other);
    for (const sent of [cookiePair(pending), `${SESSION}=${value}`, foreign.cookie, `${SESSION}=`, `${SESSION}=%00`]) {
      from(ORIGIN, sent);
      expect(await on.auth.guardAction(action)("v")).toMatchObject({ ok: false, error: { code: "unauthenticated" } });
    }
    expect(action).not.toHaveBeenCalled();
  });

  it("lets Next's redirect() and notFound() from the action go on to Next", async () => {
    const { cookie } = await account(on);
    from(ORIGIN, cookie);
    const redirecting = on.auth.guardAction(async () => redirect("/somewhere"));
    await expect(redirecting()).rejects.toMatchObject({
      digest: expect.stringMatching(/^NEXT_REDIRECT;[^;]*;\/somewhere;/),
    });
    from(ORIGIN, cookie);
    const missing = on.auth.guardAction(async () => notFound());
    await expect(missing()).rejects.toMatchObject({ digest: expect.stringMatching(/^NEXT_HTTP_ERROR_FALLBACK;404/) });
  });

  it("runs an action that throws once, and lets its error through rather than a second try", async () => {
    const { cookie } = await account(on);
    const failing = vi.fn(async () => {
      throw new Error("the action's own failure");
    });
    from(ORIGIN, cookie);
    await expect(on.auth.guardAction(failing)()).rejects.toThrow("the action's own failure");
    expect(failing).toHaveBeenCalledTimes(1);
  });
});

describe("guardAction and Next's own control flow", () => {
  // A guarded function called while Next prerenders a page gets `DynamicServerError` from `headers()`: it must
  // reach Next (which makes the page dynamic), not become an `internal_error` state.
  it("lets a DynamicServerError from headers() go on to Next", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const action = vi.fn(async () => "ran");
    request.headersError = new DynamicServerError("Route /x couldn't be rendered statically because it used headers");
    await expect(main.auth.guardAction(action)()).rejects.toBeInstanceOf(DynamicServerError);
    expect(action).not.toHaveBeenCalled();
  });
});

describe("each action runs its route once", () => {
  it("one log-in makes one session, one sign-up one account", async () => {
    const { email, id } = await account();
    await main.gatehouse.revokeAllSessions(id);
    await redirected(() => main.auth.actions.logIn(null, form({ email, password: PASSWORD })));
    expect(await main.gatehouse.listSessions(id)).toHaveLength(1);
    const fresh = uniqueEmail();
    await redirected(() => main.auth.actions.signUp(null, form({ email: fresh, password: PASSWORD })));
    expect((await main.gatehouse.users.list()).filter((user) => user.email === fresh)).toHaveLength(1);
    expect(await sessionsOf(main, fresh)).toHaveLength(1);
  });
});

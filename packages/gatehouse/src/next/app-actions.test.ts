/**
 * The App Router's Server Actions against a real instance on in-memory SQLite. Only `headers()` and
 * `cookies()` are stood in for (they need Next's request scope): the request's headers are a real `Headers`,
 * and every cookie an action sets is recorded as `cookies().set` receives it. `redirect()` is Next's own,
 * whose thrown digest says where it sends the visitor. The same actions run in a real app in
 * apps/example-app-router's tests.
 */
import { stringifySetCookie } from "cookie";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { totpCode } from "../../test/support/totp.js";
import type { Auth } from "../core/dto.js";
import { StoreUnavailableError } from "../errors.js";
import { createOutboxMailer } from "../mail/outbox.js";
import { createSqliteStore } from "../stores/sqlite.js";

const request = vi.hoisted(() => ({
  headers: new Headers(),
  set: [] as Array<Record<string, unknown>>,
}));
vi.mock("next/headers", () => ({
  headers: async () => request.headers,
  cookies: async () => ({
    toString: () => request.headers.get("cookie") ?? "",
    set: (cookie: Record<string, unknown>) => request.set.push(cookie),
  }),
}));

const { createGatehouse } = await import("../core/gatehouse.js");
const { createAppAuth } = await import("./app.js");

const ORIGIN = "https://app.example.com";
const PASSWORD = "correct horse battery";
const store = createSqliteStore({ url: ":memory:" });
const gatehouse = createGatehouse({
  store,
  secret: "app-router-actions-test-secret-0123456789",
  url: ORIGIN,
  argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 },
  roles: { admin: ["users:read"], user: [] },
  mailer: createOutboxMailer(store),
  // As in production: Secure and the __Host- prefix, which must survive the trip through cookies().set.
  secureCookies: true,
});
const auth = createAppAuth(() => gatehouse, { pages: { afterLogout: "/login?signedOut=1" } });
const { actions } = auth;

let emailCount = 0;
const uniqueEmail = () => `action-${++emailCount}@example.com`;

function form(fields: Record<string, string | Blob>): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.set(name, value);
  return data;
}

/** The request an action runs in: from the app's origin unless told, with a cookie if given. */
function from(origin: string | null, cookie?: string): void {
  request.headers = new Headers();
  if (origin !== null) request.headers.set("origin", origin);
  if (cookie) request.headers.set("cookie", cookie);
}

/** Where a thrown `redirect()` sends the visitor. */
async function redirected(run: () => Promise<unknown>): Promise<string> {
  const error: unknown = await run().then(
    (state) => new Error(`expected a redirect, got ${JSON.stringify(state)}`),
    (thrown: unknown) => thrown,
  );
  const digest = (error as { digest?: unknown }).digest;
  if (typeof digest !== "string" || !digest.startsWith("NEXT_REDIRECT;")) throw error;
  return digest.split(";")[2]!;
}

function setCookie(name: string): Record<string, unknown> | undefined {
  return request.set.find((cookie) => cookie.name === name);
}

async function account(email = uniqueEmail()): Promise<{ email: string; cookie: string }> {
  const signedIn = await gatehouse.signUp({ email, password: PASSWORD });
  if (!("setCookie" in signedIn)) throw new Error("expected a session");
  return { email, cookie: signedIn.setCookie.split(";")[0]! };
}

/** The account with this address, read through the admin API. */
async function userNamed(email: string) {
  return (await gatehouse.users.list()).find((user) => user.email === email);
}

afterEach(() => {
  request.set = [];
  from(ORIGIN);
});
afterAll(async () => {
  await store.close();
});

describe("logIn", () => {
  it("sets the session and device cookies exactly as the HTTP route does, then goes to next", async () => {
    const { email } = await account();
    from(ORIGIN);
    const to = await redirected(() => actions.logIn(null, form({ email, password: PASSWORD, next: "/profile?x=1" })));
    expect(to).toBe("/profile?x=1");
    const session = setCookie("__Host-gatehouse.session");
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: "lax", path: "/" });
    expect(session?.maxAge).toBeGreaterThan(6 * 24 * 3600);
    expect(request.set.map((cookie) => cookie.name)).toEqual(["__Host-gatehouse.session", "__Host-gatehouse.device"]);
    // What Next writes from these options is the route's own Set-Cookie, attribute for attribute.
    const { name, value, ...options } = session as { name: string; value: string };
    const written = stringifySetCookie(name, value, options);
    expect(await gatehouse.authenticate(written.split(";")[0]!, { canSetCookie: false })).toMatchObject({
      user: { email },
    });
  });

  it("never goes to another site, whatever next says", async () => {
    const { email } = await account();
    for (const next of ["//evil.example", "https://evil.example/x", "/\\evil.example"]) {
      from(ORIGIN);
      expect(await redirected(() => actions.logIn(null, form({ email, password: PASSWORD, next })))).toBe("/dashboard");
    }
  });

  it("answers a wrong password with the error and the email, never the password, and sets no session", async () => {
    const { email } = await account();
    const state = await actions.logIn(null, form({ email, password: "wrong password 123", next: "/settings" }));
    expect(state).toEqual({
      ok: false,
      error: { code: "invalid_credentials", message: expect.any(String) },
      values: { email, next: "/settings" },
    });
    expect(JSON.stringify(state)).not.toContain("wrong password");
    expect(setCookie("__Host-gatehouse.session")).toBeUndefined();
  });

  it("says which fields are missing or wrong, a file in a text field included", async () => {
    const state = await actions.logIn(null, form({ email: new Blob(["a@example.com"]), password: "" }));
    expect(state).toMatchObject({ ok: false, error: { code: "invalid_input", fields: { email: {} } } });
    expect(request.set).toEqual([]);
  });

  it("answers a call with something else than a form as invalid input", async () => {
    for (const given of ["notaform", { get: 1 }, null, [1, 2]]) {
      expect(await actions.logIn(null, given as never)).toMatchObject({ ok: false, error: { code: "invalid_input" } });
    }
    expect(request.set).toEqual([]);
  });

  it.each([
    ["another origin", "https://evil.example"],
    ["Origin null", "null"],
    ["no Origin", null],
  ])("refuses %s with csrf, changing nothing, even with the right password", async (_case, origin) => {
    const { email } = await account();
    from(origin);
    const state = await actions.logIn(null, form({ email, password: PASSWORD }));
    expect(state).toMatchObject({ ok: false, error: { code: "csrf" }, values: { email } });
    expect(request.set).toEqual([]);
  });

  it("goes on to the second step with the pending cookie for a 2FA account", async () => {
    const { email, cookie } = await account();
    const signedIn = await gatehouse.authenticate(cookie, { canSetCookie: false });
    const user = signedIn.user!;
    const authOf: Auth = { user, session: signedIn.session! };
    const setup = await gatehouse.setUpTotp(authOf, { password: PASSWORD });
    await gatehouse.confirmTotp(authOf, { code: totpCode(setup.secret, Date.now()) });
    from(ORIGIN);
    const to = await redirected(() => actions.logIn(null, form({ email, password: PASSWORD, next: "/settings" })));
    expect(to).toMatch(/^\/login\/verify\?next=%2Fsettings&methods=totp/);
    expect(request.set.map((c) => c.name)).toEqual(["__Host-gatehouse.mfa"]);
  });
});

describe("signUp", () => {
  it("creates the account, sets the session and goes to next", async () => {
    const email = uniqueEmail();
    expect(await redirected(() => actions.signUp(null, form({ email, password: PASSWORD, name: "Ada" })))).toBe(
      "/dashboard",
    );
    expect(setCookie("__Host-gatehouse.session")).toBeDefined();
    expect((await userNamed(email))?.name).toBe("Ada");
  });

  it("goes to the log-in page's notice when the address must be verified first", async () => {
    const strict = createGatehouse({
      store,
      secret: "app-router-actions-test-secret-0123456789",
      url: ORIGIN,
      argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 },
      mailer: createOutboxMailer(store),
      secureCookies: true,
      requireEmailVerification: true,
    });
    const to = await redirected(() =>
      createAppAuth(() => strict).actions.signUp(null, form({ email: uniqueEmail(), password: PASSWORD })),
    );
    expect(to).toBe("/login?notice=verify_email");
    expect(request.set).toEqual([]);
  });

  it("answers taken and invalid input as states, keeping the name and email", async () => {
    const { email } = await account();
    expect(await actions.signUp(null, form({ email, password: PASSWORD, name: "Bo" }))).toMatchObject({
      ok: false,
      error: { code: "email_taken" },
      values: { email, name: "Bo" },
    });
    const weak = await actions.signUp(null, form({ email: "not-an-email", password: "short" }));
    expect(weak).toMatchObject({ error: { code: "invalid_input", fields: { email: {}, password: {} } } });
  });

  it("creates nothing when called from another origin", async () => {
    const email = uniqueEmail();
    from("https://evil.example");
    expect(await actions.signUp(null, form({ email, password: PASSWORD }))).toMatchObject({ error: { code: "csrf" } });
    expect(await userNamed(email)).toBeUndefined();
  });
});

describe("logOut", () => {
  it("ends the session, clears the cookie and goes to afterLogout", async () => {
    const { cookie } = await account();
    from(ORIGIN, cookie);
    expect(await redirected(() => actions.logOut(null, new FormData()))).toBe("/login?signedOut=1");
    expect(setCookie("__Host-gatehouse.session")).toMatchObject({ value: "", maxAge: 0 });
    expect((await gatehouse.authenticate(cookie, { canSetCookie: false })).user).toBeNull();
  });

  it("keeps the session of a cross-origin call", async () => {
    const { cookie } = await account();
    from("https://evil.example", cookie);
    expect(await actions.logOut(null, new FormData())).toMatchObject({ error: { code: "csrf" } });
    expect((await gatehouse.authenticate(cookie, { canSetCookie: false })).user).not.toBeNull();
  });
});

describe("password reset and email verification", () => {
  it("answers a reset request with the same ok message whether or not the address has an account", async () => {
    const { email } = await account();
    const known = await actions.requestPasswordReset(null, form({ email }));
    const unknown = await actions.requestPasswordReset(null, form({ email: uniqueEmail() }));
    expect(known).toEqual({ ok: true, message: expect.stringContaining("If an account uses this address") });
    expect(unknown).toEqual(known);
  });

  it("refuses a bad reset token and a bad verification token as states", async () => {
    expect(await actions.resetPassword(null, form({ token: "x".repeat(43), password: PASSWORD }))).toMatchObject({
      ok: false,
      error: { code: "invalid_token" },
    });
    expect(await actions.verifyEmail(null, form({ token: "x".repeat(43) }))).toMatchObject({
      ok: false,
      error: { code: "invalid_token" },
    });
  });
});

describe("guardAction", () => {
  const rename = vi.fn(async (who: Auth, name: string) => ({ ok: true as const, name, id: who.user.id }));
  const guarded = auth.guardAction(rename);
  const adminOnly = auth.guardAction(rename, { permission: "users:read" });
  afterEach(() => rename.mockClear());

  it("runs the action with the Auth and the call's arguments for a signed-in user", async () => {
    const { cookie } = await account();
    from(ORIGIN, cookie);
    expect(await guarded("Ada")).toMatchObject({ ok: true, name: "Ada" });
    expect(rename).toHaveBeenCalledOnce();
  });

  it("does not run it signed out, with a forged cookie, cross-origin or without the permission", async () => {
    const { cookie } = await account();
    from(ORIGIN);
    expect(await guarded("x")).toMatchObject({ ok: false, error: { code: "unauthenticated" } });
    from(ORIGIN, "__Host-gatehouse.session=forged.value");
    expect(await guarded("x")).toMatchObject({ ok: false, error: { code: "unauthenticated" } });
    for (const origin of ["https://evil.example", "null", null]) {
      from(origin, cookie);
      expect(await guarded("x")).toMatchObject({ ok: false, error: { code: "csrf" } });
    }
    from(ORIGIN, cookie);
    expect(await adminOnly("x")).toMatchObject({ ok: false, error: { code: "forbidden" } });
    expect(rename).not.toHaveBeenCalled();
  });

  it("fails closed with unavailable when the store is down", async () => {
    const { cookie } = await account();
    const down = createAppAuth(() => ({
      ...gatehouse,
      authenticate: () => Promise.reject(new StoreUnavailableError()),
    }));
    from(ORIGIN, cookie);
    expect(await down.guardAction(rename)("x")).toMatchObject({ ok: false, error: { code: "unavailable" } });
    expect(rename).not.toHaveBeenCalled();
  });

  it("refuses a typo in its options when it is built", () => {
    expect(() => auth.guardAction(rename, { permisson: "users:read" } as never)).toThrow(/unknown option "permisson"/);
  });
});

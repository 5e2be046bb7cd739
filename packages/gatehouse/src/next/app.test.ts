/**
 * The App Router helpers against a real instance on in-memory SQLite. Only `cookies()` is stood in for (it
 * needs Next's request scope); `redirect()` and `forbidden()` are Next's own, whose thrown digest says where
 * they send the visitor. React `cache` outside a server render calls through, so memoisation is the
 * integration test's to show (test/app-router.test.ts).
 */
import { afterAll, afterEach, beforeAll, describe, expect, expectTypeOf, it, vi } from "vitest";
import type { Gatehouse } from "../core/gatehouse.js";
import { StoreUnavailableError } from "../errors.js";
import { createSqliteStore } from "../stores/sqlite.js";

const requestCookies = vi.hoisted(() => ({ header: "", set: vi.fn() }));
vi.mock("next/headers", () => ({
  cookies: async () => ({ toString: () => requestCookies.header, set: requestCookies.set }),
}));

const { createGatehouse } = await import("../core/gatehouse.js");
const { createAppAuth } = await import("./app.js");

const ORIGIN = "https://app.example.com";
const PASSWORD = "correct horse battery";
const store = createSqliteStore({ url: ":memory:" });
const gatehouse = createGatehouse({
  store,
  secret: "app-router-unit-test-secret-0123456789",
  url: ORIGIN,
  argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 },
  roles: { admin: ["users:read"], user: [] },
});
const auth = createAppAuth(() => gatehouse);

let userCookie = "";
let emailCount = 0;
const uniqueEmail = () => `app-${++emailCount}@example.com`;

async function signUpCookie(email = uniqueEmail()): Promise<string> {
  const signedIn = await gatehouse.signUp({ email, password: PASSWORD });
  if (!("setCookie" in signedIn)) throw new Error("expected a session");
  return signedIn.setCookie.split(";")[0]!;
}

/** Where a thrown `redirect()` sends the visitor, or the HTTP fallback a thrown `forbidden()` renders. */
async function interrupt(run: () => Promise<unknown>): Promise<string> {
  const error: unknown = await run().then(
    () => new Error("expected the guard to interrupt"),
    (thrown: unknown) => thrown,
  );
  const digest = (error as { digest?: unknown }).digest;
  if (typeof digest !== "string") throw error;
  if (digest.startsWith("NEXT_REDIRECT;")) return `redirect ${digest.split(";")[2]}`;
  return digest;
}

beforeAll(async () => {
  userCookie = await signUpCookie();
});
afterEach(() => {
  requestCookies.header = "";
  vi.unstubAllEnvs();
});
afterAll(async () => {
  await store.close();
});

describe("getSession", () => {
  it("is null without a cookie, and with a forged one", async () => {
    expect(await auth.getSession()).toBeNull();
    requestCookies.header = "gatehouse.session=forged.value";
    expect(await auth.getSession()).toBeNull();
  });

  it("finds the signed-in user from the request's cookies and never sets a cookie", async () => {
    requestCookies.header = `other=1; ${userCookie}`;
    const found = await auth.getSession();
    expect(found?.user.email).toMatch(/^app-\d+@example\.com$/);
    expect(requestCookies.set).not.toHaveBeenCalled();
  });

  it("rejects with StoreUnavailableError when the store is down, never resolving to a user", async () => {
    const down = createAppAuth(() => ({
      ...gatehouse,
      authenticate: () => Promise.reject(new StoreUnavailableError()),
    }));
    requestCookies.header = userCookie;
    await expect(down.getSession()).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});

describe("requireUser, requireRole, requirePermission", () => {
  it("redirect a signed-out visitor to the log-in page with the path given as next", async () => {
    expect(await interrupt(() => auth.requireUser("/dashboard?tab=1"))).toBe(
      "redirect /login?next=%2Fdashboard%3Ftab%3D1",
    );
    expect(await interrupt(() => auth.requireUser())).toBe("redirect /login");
    expect(await interrupt(() => auth.requirePermission("users:read", "/admin"))).toBe("redirect /login?next=%2Fadmin");
    expect(await interrupt(() => auth.requireRole("admin", "/admin"))).toBe("redirect /login?next=%2Fadmin");
  });

  it("never put another site in next", async () => {
    for (const next of ["//evil.example", "https://evil.example/", "/\\evil.example"]) {
      expect(await interrupt(() => auth.requireUser(next))).toBe("redirect /login?next=%2F");
    }
  });

  it("resolve to the Auth of a signed-in user", async () => {
    requestCookies.header = userCookie;
    expect((await auth.requireUser()).user.role).toBe("user");
  });

  it("send a signed-in user without the permission or role to the forbidden path", async () => {
    requestCookies.header = userCookie;
    expect(await interrupt(() => auth.requirePermission("users:read"))).toBe("redirect /403");
    expect(await interrupt(() => auth.requireRole("admin"))).toBe("redirect /403");
    const custom = createAppAuth(() => gatehouse, { forbiddenPath: "/no-access", loginPath: "/sign-in" });
    expect(await interrupt(() => custom.requirePermission("users:read"))).toBe("redirect /no-access");
    requestCookies.header = "";
    expect(await interrupt(() => custom.requireUser("/x"))).toBe("redirect /sign-in?next=%2Fx");
    const withQuery = createAppAuth(() => gatehouse, { loginPath: "/login?from=app" });
    expect(await interrupt(() => withQuery.requireUser("/x"))).toBe("redirect /login?from=app&next=%2Fx");
  });

  it("call forbidden() when forbiddenPath is null", async () => {
    vi.stubEnv("__NEXT_EXPERIMENTAL_AUTH_INTERRUPTS", "true");
    requestCookies.header = userCookie;
    const strict = createAppAuth(() => gatehouse, { forbiddenPath: null });
    expect(await interrupt(() => strict.requirePermission("users:read"))).toBe("NEXT_HTTP_ERROR_FALLBACK;403");
  });

  it("call unauthorized() for a signed-out visitor when loginPath is null", async () => {
    vi.stubEnv("__NEXT_EXPERIMENTAL_AUTH_INTERRUPTS", "true");
    const strict = createAppAuth(() => gatehouse, { loginPath: null });
    expect(await interrupt(() => strict.requireUser("/dashboard"))).toBe("NEXT_HTTP_ERROR_FALLBACK;401");
    requestCookies.header = userCookie;
    expect((await strict.requireUser()).user.role).toBe("user");
  });

  it("let an admin through requirePermission and requireRole", async () => {
    const email = uniqueEmail();
    await signUpCookie(email);
    await gatehouse.users.setRole(email, "admin");
    const adminCookie = (await gatehouse.logIn({ email, password: PASSWORD })) as { setCookie: string };
    requestCookies.header = adminCookie.setCookie.split(";")[0]!;
    expect((await auth.requirePermission("users:read")).user.role).toBe("admin");
    expect((await auth.requireRole("admin")).user.email).toBe(email);
  });
});

describe("withRouteAuth", () => {
  const context = { params: Promise.resolve({}) };
  const me = auth.withRouteAuth(async (_request, { user }) => Response.json({ email: user.email }));
  const request = (init: RequestInit & { cookie?: string } = {}) => {
    const headers = new Headers(init.headers);
    if (init.cookie) headers.set("cookie", init.cookie);
    return new Request(`${ORIGIN}/api/me`, { ...init, headers });
  };

  it("answers 401 unauthenticated JSON without a session", async () => {
    const response = await me(request(), context);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: { code: "unauthenticated", message: expect.any(String) } });
  });

  it("runs the handler for a signed-in user, with Cache-Control: private, no-store", async () => {
    const response = await me(request({ cookie: userCookie }), context);
    expect(response.status).toBe(200);
    expect((await response.json()).email).toMatch(/@example\.com$/);
    expect(response.headers.get("cache-control")).toBe("private, no-store");
  });

  it("answers 403 csrf to a write from another origin, or with no Origin, before the handler runs", async () => {
    const handler = vi.fn(async () => new Response("changed"));
    const write = auth.withRouteAuth(handler);
    for (const origin of ["https://evil.example", null]) {
      const headers: Record<string, string> = origin ? { origin } : {};
      const response = await write(request({ method: "POST", cookie: userCookie, headers }), context);
      expect(response.status).toBe(403);
      expect((await response.json()).error.code).toBe("csrf");
    }
    expect(handler).not.toHaveBeenCalled();
    const same = await write(request({ method: "POST", cookie: userCookie, headers: { origin: ORIGIN } }), context);
    expect(same.status).toBe(200);
  });

  it("answers 403 forbidden when the role lacks the permission", async () => {
    const admin = auth.withRouteAuth(async () => Response.json({ users: [] }), { permission: "users:read" });
    const response = await admin(request({ cookie: userCookie }), context);
    expect(response.status).toBe(403);
    expect((await response.json()).error.code).toBe("forbidden");
  });

  it("answers 503 unavailable when the store is down", async () => {
    const down = createAppAuth(() => ({
      ...gatehouse,
      authenticate: () => Promise.reject(new StoreUnavailableError()),
    })).withRouteAuth(async () => new Response("never"));
    const response = await down(request({ cookie: userCookie }), context);
    expect(response.status).toBe(503);
    expect((await response.json()).error.code).toBe("unavailable");
  });

  it("appends a renewed session cookie to the handler's answer, even an immutable one", async () => {
    const renewing = (): Gatehouse => ({
      ...gatehouse,
      authenticate: async (cookieHeader, options) => {
        const found = await gatehouse.authenticate(cookieHeader, options);
        return found.user ? { ...found, setCookie: "gatehouse.session=renewed; Path=/; HttpOnly" } : found;
      },
    });
    const routes = createAppAuth(renewing);
    const redirecting = routes.withRouteAuth(async () => Response.redirect(`${ORIGIN}/done`, 303));
    const response = await redirecting(request({ cookie: userCookie }), context);
    expect(response.status).toBe(303);
    expect(response.headers.getSetCookie()).toEqual(["gatehouse.session=renewed; Path=/; HttpOnly"]);
    expect(response.headers.get("cache-control")).toBe("private, no-store");
  });

  it("types the handler's context as Next passes it, or as the handler declares it", () => {
    auth.withRouteAuth(async (_request, auth, context) => {
      expectTypeOf(auth.user.email).toEqualTypeOf<string>();
      expectTypeOf(context.params).resolves.toEqualTypeOf<Record<string, string | string[] | undefined>>();
      return new Response();
    });
    const byId = auth.withRouteAuth(async (_request, _auth, { params }: { params: Promise<{ id: string }> }) =>
      Response.json({ id: (await params).id }),
    );
    expectTypeOf(byId).parameter(1).toEqualTypeOf<{ params: Promise<{ id: string }> }>();
  });

  it("refuses options that would guard nothing, when it is built", () => {
    expect(() => auth.withRouteAuth(async () => new Response(), { permisson: "users:read" } as never)).toThrow(
      /unknown option "permisson"/,
    );
    expect(() => auth.withRouteAuth(undefined as never)).toThrow(/handler must be a function/);
  });
});

describe("handlers", () => {
  const { GET, POST } = auth.handlers;
  const api = (path: string, init: RequestInit = {}) =>
    new Request(`${ORIGIN}/api/auth/${path}`, {
      ...init,
      headers: { origin: ORIGIN, "content-type": "application/json", ...init.headers },
    });

  it("sign up, read the session and log out with the Pages Router handler's status codes", async () => {
    const email = uniqueEmail();
    const signedUp = await POST(api("signup", { method: "POST", body: JSON.stringify({ email, password: PASSWORD }) }));
    expect(signedUp.status).toBe(201);
    expect((await signedUp.json()).user.email).toBe(email);
    const [setCookie] = signedUp.headers.getSetCookie();
    expect(setCookie).toMatch(/^gatehouse\.session=[^;]+;.*HttpOnly/i);
    const cookie = setCookie!.split(";")[0]!;

    const session = await GET(api("session", { headers: { cookie } }));
    expect(session.status).toBe(200);
    expect((await session.json()).user.email).toBe(email);

    const loggedOut = await POST(api("logout", { method: "POST", headers: { cookie } }));
    expect(loggedOut.status).toBe(200);
    expect(loggedOut.headers.getSetCookie().join()).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/i);
  });

  it("answers 404 for an unknown route, 405 with Allow for a wrong method, 413 past the body limit", async () => {
    expect((await GET(api("nope"))).status).toBe(404);
    const wrong = await GET(api("login"));
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
    const huge = JSON.stringify({ email: "a@example.com", password: "x".repeat(40_000) });
    // A streamed body with no Content-Length: the limit holds while reading.
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(huge));
        controller.close();
      },
    });
    const tooLarge = await POST(
      api("login", { method: "POST", body: stream, duplex: "half" } as RequestInit & { duplex: "half" }),
    );
    expect(tooLarge.status).toBe(413);
  });

  it("answers 403 csrf to a cross-origin log-in", async () => {
    const response = await POST(
      api("login", {
        method: "POST",
        headers: { origin: "https://evil.example" },
        body: JSON.stringify({ email: "a@example.com", password: PASSWORD }),
      }),
    );
    expect(response.status).toBe(403);
    expect((await response.json()).error.code).toBe("csrf");
  });
});

describe("adminHandlers", () => {
  const { GET, PATCH, DELETE } = auth.adminHandlers;
  const admin = (path: string, init: RequestInit = {}) =>
    new Request(`${ORIGIN}/api/admin/${path}`, {
      ...init,
      headers: { origin: ORIGIN, "content-type": "application/json", ...init.headers },
    });

  it("serves the admin API below /api/admin: 401 signed out, 403 to a user, the answer to an admin", async () => {
    expect((await GET(admin("users"))).status).toBe(401);
    const refused = await GET(admin("users", { headers: { cookie: userCookie } }));
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.code).toBe("forbidden");

    const email = uniqueEmail();
    await gatehouse.users.create({ email, password: PASSWORD, role: "admin" });
    const loggedIn = await gatehouse.logIn({ email, password: PASSWORD });
    const cookie = loggedIn.setCookie.split(";")[0]!;
    const listed = await GET(admin(`users?query=${encodeURIComponent(email)}`, { headers: { cookie } }));
    expect(listed.status).toBe(200);
    expect(listed.headers.get("cache-control")).toContain("no-store");
    expect((await listed.json()).users.map((user: { email: string }) => user.email)).toEqual([email]);

    const target = (await gatehouse.users.list()).find((user) => user.role === "user")!;
    const banned = await PATCH(
      admin(`users/${target.id}`, { method: "PATCH", headers: { cookie }, body: JSON.stringify({ banned: true }) }),
    );
    expect(banned.status).toBe(403);
    expect((await banned.json()).error.code).toBe("reauthentication_required");
    const crossSite = await DELETE(
      admin(`users/${target.id}/sessions`, {
        method: "DELETE",
        headers: { cookie, origin: "https://evil.example" },
        body: JSON.stringify({ password: PASSWORD }),
      }),
    );
    expect(crossSite.status).toBe(403);
    expect((await crossSite.json()).error.code).toBe("csrf");
    expect((await GET(admin("nothing", { headers: { cookie } }))).status).toBe(404);
  });
});

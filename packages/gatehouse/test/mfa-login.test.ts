/**
 * The log-in of an account with TOTP on, over real HTTP, for both session strategies: the password step
 * answers 403 mfa_required with a pending cookie that grants nothing, and POST mfa/verify finishes it with a
 * code from Debian's oathtool or a recovery code. Replays, clock drift, expiry, the attempt limits, malformed
 * bodies, and the HTML form flow. The server's clock is frozen and moved by the tests; codes are made for it.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { PASSWORD } from "./support/credentials.js";
import {
  apiRequest,
  expectError,
  SESSION_COOKIE,
  sessionCookieHeader,
  sessionCookieOf,
  startServer,
  uniqueEmails,
  useTestServer,
} from "./support/http-server.js";
import { nthMailTo, rawAllRowsText, smtpMailerFor } from "./support/raw-email.js";
import { startSmtpServer } from "./support/smtp.js";
import { rawSessionIdsOf, rawSqliteTables } from "./support/temp-sqlite.js";
import {
  cookieHeader,
  DEVICE_COOKIE,
  headerList,
  mfaClient,
  PENDING_COOKIE,
  rawFactorTables,
  rawMfaTables,
  STEP_MS,
  setCookieLine,
  setCookieValue,
  totpCode,
  wrongCode,
} from "./support/totp.js";

const smtp = await startSmtpServer();
afterAll(() => smtp.close());

const SECOND = 1000;
const MINUTE = 60 * SECOND;

describe.each(["database", "stateless"] as const)("log-in with a second factor over HTTP (%s sessions)", (strategy) => {
  const app = useTestServer(strategy, { email: { mailer: smtpMailerFor(smtp) } });
  const uniqueEmail = uniqueEmails("mfa-login", strategy);
  const mfa = mfaClient(app);
  const me = (cookie: string) => apiRequest(app, "/api/me", { cookie });

  afterEach(() => app.setClock(app.startedAt));

  /** Moves the server's clock to `ms` and returns it, for the codes of that time. */
  function at(ms: number): number {
    app.setClock(ms);
    return ms;
  }

  /** A user with TOTP on (its first step used at startedAt), and the clock one step later for the log-in. */
  async function totpUser() {
    app.setClock(app.startedAt);
    const user = await mfa.totpUser(uniqueEmail(), app.startedAt);
    return { ...user, now: at(app.startedAt + STEP_MS) };
  }

  /** The user's second-step counters (`mfa-account:<id>`) in the rate-limit table, read raw. */
  const accountCounters = (userId: string) =>
    rawSqliteTables(app.dbFile).rateLimits.filter((row) => row.key === `mfa-account:${userId}`);

  describe("POST /api/auth/login with TOTP on", () => {
    it("the right password answers 403 mfa_required, methods [totp, recovery_code], and one Set-Cookie: the pending cookie", async () => {
      const user = await totpUser();
      const sessionsBefore = rawSessionIdsOf(app.dbFile, user.id);
      const response = await mfa.logIn(user.email);
      expect(response.status).toBe(403);
      const body = await response.json();
      expect(body).toEqual({
        error: { code: "mfa_required", message: expect.any(String), methods: ["totp", "recovery_code"] },
      });

      const setCookies = response.headers.getSetCookie();
      expect(setCookies).toHaveLength(1);
      const line = setCookieLine(response, PENDING_COOKIE) as string;
      expect(line).toBeDefined();
      const attributes = line
        .split(/;\s*/)
        .slice(1)
        .map((attribute) => attribute.toLowerCase());
      expect(attributes.sort()).toEqual(["httponly", "max-age=300", "path=/", "samesite=lax"]);
      expect(setCookieValue(response, SESSION_COOKIE)).toBeUndefined();
      expect(setCookieValue(response, DEVICE_COOKIE)).toBeUndefined();
      expect(rawSessionIdsOf(app.dbFile, user.id)).toEqual(sessionsBefore);

      // Stored as one single-use record of 5 minutes, under a hash of the cookie's value.
      const pending = setCookieValue(response, PENDING_COOKIE) as string;
      const [challenge] = rawFactorTables(app.dbFile, user.id).challenges;
      expect(challenge).toMatchObject({
        purpose: "mfa_pending",
        created_at: user.now,
        expires_at: user.now + 5 * MINUTE,
      });
      expect(rawAllRowsText(app.dbFile)).not.toContain(pending);
    });

    it("drops recovery_code from the methods once every code is used", async () => {
      const user = await totpUser();
      for (const recoveryCode of user.recoveryCodes) await mfa.logInWith(user.email, { recoveryCode });
      const response = await mfa.logIn(user.email);
      expect(response.status).toBe(403);
      expect((await response.json()).error.methods).toEqual(["totp"]);
    });

    it("a wrong password answers 401 invalid_credentials byte for byte as for an account without TOTP, and starts nothing", async () => {
      const user = await totpUser();
      const plain = await mfa.signedInUser(uniqueEmail());
      const before = rawFactorTables(app.dbFile);
      const responses = [
        await mfa.logIn(user.email, "not the password"),
        await mfa.logIn(plain.email, "not the password"),
        await mfa.logIn(uniqueEmail(), "not the password"),
      ];
      const headers = (response: Response) => headerList(response).filter(([name]) => name !== "date");
      const [withTotp, ...others] = responses as [Response, ...Response[]];
      const text = await withTotp.clone().text();
      await expectError(withTotp, 401, "invalid_credentials");
      for (const other of others) {
        expect(other.status).toBe(401);
        expect(await other.text()).toBe(text);
        expect(headers(other)).toEqual(headers(withTotp));
      }
      expect(rawFactorTables(app.dbFile)).toEqual(before);
    });

    it("the pending cookie grants nothing: no user on GET session, 401 on /api/me, sessions and mfa, as a session cookie too", async () => {
      const user = await totpUser();
      const pending = await mfa.pendingLogIn(user.email);
      const asPending = { headers: { Cookie: cookieHeader({ [PENDING_COOKIE]: pending }) } };
      const session = await mfa.request("/api/auth/session", asPending);
      expect(session.status).toBe(200);
      expect(await session.json()).toEqual({ user: null });
      for (const route of ["/api/me", "/api/auth/sessions", "/api/auth/mfa"]) {
        await expectError(await mfa.request(route, asPending), 401, "unauthenticated");
        const asSession = await mfa.request(route, { cookie: pending });
        expect(asSession.status, route).toBe(401);
      }
      await expectError(
        await mfa.request("/api/auth/mfa/totp/setup", { json: { password: PASSWORD }, ...asPending }),
        401,
        "unauthenticated",
      );
      // And it still finishes the log-in it was made for.
      expect((await mfa.verify(pending, { code: totpCode(user.secret, user.now) })).status).toBe(200);
    });
  });

  describe("POST /api/auth/mfa/verify", () => {
    it("a code from oathtool answers 200 {user} with a working session cookie, a device cookie and the pending cookie cleared", async () => {
      const user = await totpUser();
      const pending = await mfa.pendingLogIn(user.email);
      const response = await mfa.verify(pending, { code: totpCode(user.secret, user.now) });
      expect(response.status).toBe(200);
      const body = await response.json();
      expect(Object.keys(body)).toEqual(["user"]);
      expect(body.user).toMatchObject({ id: user.id, email: user.email });

      const setCookies = response.headers.getSetCookie();
      expect(setCookies).toHaveLength(3);
      expect(setCookieLine(response, SESSION_COOKIE)).toMatch(/HttpOnly/i);
      expect(setCookieValue(response, DEVICE_COOKIE)).toBeTruthy();
      expect(setCookieValue(response, PENDING_COOKIE)).toBe("");
      expect(setCookieLine(response, PENDING_COOKIE)).toMatch(/Max-Age=0/i);
      const cookie = sessionCookieOf(response) as string;
      const signedIn = await me(cookie);
      expect(signedIn.status).toBe(200);
      expect((await signedIn.json()).user.email).toBe(user.email);
      expect(rawFactorTables(app.dbFile, user.id).challenges).toEqual([]);
    });

    it("accepts the code with spaces in it", async () => {
      const user = await totpUser();
      const code = totpCode(user.secret, user.now);
      await mfa.logInWith(user.email, { code: `${code.slice(0, 3)} ${code.slice(3)}` });
    });

    it("ends a session cookie the browser came with (no fixation)", async () => {
      const planted = await mfa.signedInUser(uniqueEmail());
      const user = await totpUser();
      const pending = await mfa.pendingLogIn(user.email);
      const response = await mfa.verify(
        pending,
        { code: totpCode(user.secret, user.now) },
        { Cookie: cookieHeader({ [PENDING_COOKIE]: pending, [SESSION_COOKIE]: planted.cookie }) },
      );
      expect(response.status).toBe(200);
      expect((await me(planted.cookie)).status).toBe(401);
      expect((await me(sessionCookieOf(response) as string)).status).toBe(200);
    });

    it("a pending log-in is used once: a second verify, even with an unused recovery code, answers 401 mfa_pending_expired", async () => {
      const user = await totpUser();
      const pending = await mfa.pendingLogIn(user.email);
      const first = await mfa.verify(pending, { code: totpCode(user.secret, user.now) });
      expect(first.status).toBe(200);
      const before = rawMfaTables(app.dbFile);
      await expectError(await mfa.verify(pending, { recoveryCode: user.recoveryCodes[0] }), 401, "mfa_pending_expired");
      expect(rawMfaTables(app.dbFile)).toEqual(before);
      expect((await mfa.status(sessionCookieOf(first) as string)).recoveryCodesLeft).toBe(10);
    });

    it("a pending log-in lasts 5 minutes: 299 s after the password it finishes, 301 s after it answers 401 mfa_pending_expired", async () => {
      const user = await totpUser();
      const early = await mfa.pendingLogIn(user.email);
      const justInTime = at(user.now + 299 * SECOND);
      expect((await mfa.verify(early, { code: totpCode(user.secret, justInTime) })).status).toBe(200);

      const late = await mfa.pendingLogIn(user.email);
      const tooLate = at(justInTime + 5 * MINUTE + SECOND);
      const before = rawMfaTables(app.dbFile);
      await expectError(await mfa.verify(late, { code: totpCode(user.secret, tooLate) }), 401, "mfa_pending_expired");
      await expectError(await mfa.verify(late, { recoveryCode: user.recoveryCodes[0] }), 401, "mfa_pending_expired");
      expect(rawMfaTables(app.dbFile)).toEqual(before);
    });

    it("without a pending cookie, or with one the server never issued, answers 401 mfa_pending_expired", async () => {
      const user = await totpUser();
      const code = totpCode(user.secret, user.now);
      const before = rawMfaTables(app.dbFile);
      await expectError(await mfa.verify(null, { code }), 401, "mfa_pending_expired");
      for (const forged of ["A".repeat(32), "not-a-handle", "", user.cookie]) {
        await expectError(await mfa.verify(forged, { code }), 401, "mfa_pending_expired");
      }
      // A session cookie is not a pending log-in either.
      await expectError(
        await mfa.request("/api/auth/mfa/verify", { json: { code }, cookie: user.cookie }),
        401,
        "mfa_pending_expired",
      );
      expect(rawMfaTables(app.dbFile)).toEqual(before);
      // The code was not used up by any of them.
      await mfa.logInWith(user.email, { code });
    });

    it("a code accepted once is refused on the next log-in (401 invalid_code), and so is one of an earlier step", async () => {
      const user = await totpUser();
      const code = totpCode(user.secret, user.now);
      await mfa.logInWith(user.email, { code });
      await expectError(await mfa.verify(await mfa.pendingLogIn(user.email), { code }), 401, "invalid_code");

      // The next step's code is used; the previous step's, still inside the window, is now too old.
      await mfa.logInWith(user.email, { code: totpCode(user.secret, user.now + STEP_MS) });
      const previous = totpCode(user.secret, user.now - STEP_MS);
      await expectError(await mfa.verify(await mfa.pendingLogIn(user.email), { code: previous }), 401, "invalid_code");
    });

    it("accepts the codes of the step before and the step after; refuses those two steps away", async () => {
      const user = await totpUser();
      const now = at(user.now + 5 * MINUTE);
      const pending = await mfa.pendingLogIn(user.email);
      for (const offset of [-2 * STEP_MS, 2 * STEP_MS]) {
        await expectError(
          await mfa.verify(pending, { code: totpCode(user.secret, now + offset) }),
          401,
          "invalid_code",
        );
      }
      expect((await mfa.verify(pending, { code: totpCode(user.secret, now - STEP_MS) })).status).toBe(200);
      await mfa.logInWith(user.email, { code: totpCode(user.secret, now + STEP_MS) });
    });

    it("5 wrong codes per pending log-in: the 6th attempt is 429 with Retry-After, then even the right code is refused; a new log-in can finish", async () => {
      const user = await totpUser();
      const pending = await mfa.pendingLogIn(user.email);
      const wrong = wrongCode(user.secret, user.now);
      for (let i = 0; i < 5; i++) await expectError(await mfa.verify(pending, { code: wrong }), 401, "invalid_code");
      const limited = await mfa.verify(pending, { code: wrong });
      const retryAfter = Number(limited.headers.get("retry-after"));
      await expectError(limited, 429, "rate_limited");
      expect(Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 5 * 60).toBe(true);
      const right = { code: totpCode(user.secret, user.now) };
      await expectError(await mfa.verify(pending, right), 429, "rate_limited");
      await expectError(await mfa.verify(pending, { recoveryCode: user.recoveryCodes[0] }), 429, "rate_limited");

      // The limit was this pending log-in's: the account has 5 left, and the right code was not used up.
      await mfa.logInWith(user.email, right);
    });

    it("10 wrong codes per account across pending log-ins: then 429 everywhere, a new password log-in does not reset it, the window's end does", async () => {
      const user = await totpUser();
      const wrong = wrongCode(user.secret, user.now);
      // 4 + 4 + 2: no single pending log-in reaches its own limit of 5.
      const pendings = [await mfa.pendingLogIn(user.email), await mfa.pendingLogIn(user.email)];
      const third = await mfa.pendingLogIn(user.email);
      for (const [pending, count] of [...pendings.map((p) => [p, 4] as const), [third, 2] as const]) {
        for (let i = 0; i < count; i++) {
          await expectError(await mfa.verify(pending, { code: wrong }), 401, "invalid_code");
        }
      }
      // Counted raw: the table, not the server's word for it.
      expect(accountCounters(user.id).map((row) => Number(row.count))).toEqual([10]);
      const right = { code: totpCode(user.secret, user.now) };
      const limited = await mfa.verify(third, right);
      const retryAfter = Number(limited.headers.get("retry-after"));
      await expectError(limited, 429, "rate_limited");
      expect(Number.isInteger(retryAfter) && retryAfter > 5 * 60 && retryAfter <= 15 * 60).toBe(true);
      await expectError(await mfa.verify(third, { recoveryCode: user.recoveryCodes[0] }), 429, "rate_limited");

      // The password is still right, and checking it again clears nothing of the second step's count.
      const fresh = await mfa.pendingLogIn(user.email);
      await expectError(await mfa.verify(fresh, right), 429, "rate_limited");
      expect((await mfa.status(user.cookie)).recoveryCodesLeft).toBe(10);

      // Once the window Retry-After named is over, the right code signs in.
      const later = at(user.now + retryAfter * SECOND);
      await mfa.logInWith(user.email, { code: totpCode(user.secret, later) });
    });

    it("malformed bodies answer 400 invalid_input and count toward no limit", async () => {
      const user = await totpUser();
      const pending = await mfa.pendingLogIn(user.email);
      const code = totpCode(user.secret, user.now);
      const bodies: unknown[] = [
        undefined,
        {},
        [],
        "123456",
        123456,
        null,
        { code, recoveryCode: user.recoveryCodes[0] },
        { code: "12345" },
        { code: "1234567" },
        { code: "abcdef" },
        { code: 123456 },
        { code: null },
        { code: [code] },
        { code: { value: code } },
        { recoveryCode: 1234567890 },
        { recoveryCode: [user.recoveryCodes[0]] },
        { recoveryCode: "short" },
        { code: "1".repeat(10_000) },
        { recoveryCode: `${user.recoveryCodes[0]}${"x".repeat(10_000)}` },
      ];
      const before = rawMfaTables(app.dbFile);
      const countersBefore = accountCounters(user.id);
      for (const body of bodies) {
        const response = await mfa.verify(pending, body);
        expect(response.status, JSON.stringify(body)?.slice(0, 60)).toBe(400);
        await expectError(response, 400, "invalid_input");
      }
      // Over the body limit: refused before it is read, and not counted either.
      await expectError(await mfa.verify(pending, { code: "1".repeat(20_000) }), 413, "payload_too_large");
      expect(rawMfaTables(app.dbFile)).toEqual(before);
      expect(accountCounters(user.id)).toEqual(countersBefore);
      // Twenty refusals later, the pending log-in and the code are as good as new.
      expect((await mfa.verify(pending, { code })).status).toBe(200);
    });
  });

  describe("recovery codes", () => {
    it("each works once, whatever its case, dash or spaces; a used one answers 401 invalid_code; the count goes down; each use is mailed", async () => {
      const user = await totpUser();
      const forms = [
        (code: string) => code,
        (code: string) => code.toUpperCase(),
        (code: string) => code.replace("-", ""),
        (code: string) => code.replace("-", "").toUpperCase(),
        (code: string) => ` ${code.replace("-", " - ")} `,
      ];
      const used: string[] = [];
      for (const [i, code] of user.recoveryCodes.slice(0, 5).entries()) {
        const form = forms[i] as (code: string) => string;
        const cookie = await mfa.logInWith(user.email, { recoveryCode: form(code) });
        used.push(code);
        expect((await mfa.status(cookie)).recoveryCodesLeft).toBe(10 - used.length);
      }
      for (const code of used) {
        for (const form of [code, code.toUpperCase().replace("-", "")]) {
          await expectError(
            await mfa.verify(await mfa.pendingLogIn(user.email), { recoveryCode: form }),
            401,
            "invalid_code",
          );
        }
      }
      expect(rawFactorTables(app.dbFile, user.id).recoveryCodes).toHaveLength(5);
      // Mail 1 said TOTP was turned on; one notice per code used follows.
      for (let n = 2; n <= 6; n++) {
        const mail = await nthMailTo(smtp, user.email, n);
        expect(mail.text).toMatch(/A recovery code was used to sign in/);
      }
    });

    it("another account's recovery code answers 401 invalid_code and is not used up", async () => {
      const user = await totpUser();
      const other = await totpUser();
      const before = rawFactorTables(app.dbFile, other.id).recoveryCodes;
      const pending = await mfa.pendingLogIn(user.email);
      await expectError(await mfa.verify(pending, { recoveryCode: other.recoveryCodes[0] }), 401, "invalid_code");
      expect(rawFactorTables(app.dbFile, other.id).recoveryCodes).toEqual(before);
      await mfa.logInWith(other.email, { recoveryCode: other.recoveryCodes[0] });
    });
  });

  describe("HTML form posts", () => {
    function postForm(route: string, fields: Record<string, string>, cookies: Record<string, string> = {}) {
      return fetch(`${app.url}${route}`, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          Origin: app.origin,
          ...(Object.keys(cookies).length > 0 && { Cookie: cookieHeader(cookies) }),
        },
        body: new URLSearchParams(fields).toString(),
        redirect: "manual",
      });
    }

    /** The pending cookie of a form log-in, which must redirect to the verify page. */
    async function formLogIn(email: string, next?: string): Promise<string> {
      const response = await postForm("/api/auth/login", { email, password: PASSWORD, ...(next && { next }) });
      expect(response.status).toBe(303);
      return setCookieValue(response, PENDING_COOKIE) as string;
    }

    it("a log-in answers 303 to /login/verify?next=%2Fsettings with the pending cookie and no session", async () => {
      const user = await totpUser();
      const response = await postForm("/api/auth/login", { email: user.email, password: PASSWORD, next: "/settings" });
      expect(response.status).toBe(303);
      expect(response.headers.get("location")).toBe("/login/verify?next=%2Fsettings");
      expect(response.headers.getSetCookie()).toHaveLength(1);
      expect(setCookieValue(response, PENDING_COOKIE)).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(setCookieLine(response, PENDING_COOKIE)).toMatch(/Max-Age=300/i);
      const without = await postForm("/api/auth/login", { email: user.email, password: PASSWORD });
      expect(without.headers.get("location")).toBe("/login/verify");
    });

    it("a verify with the right code answers 303 to next with the session cookie, and the pending cookie cleared", async () => {
      const user = await totpUser();
      const pending = await formLogIn(user.email, "/settings");
      const response = await postForm(
        "/api/auth/mfa/verify",
        { code: totpCode(user.secret, user.now), recoveryCode: "", next: "/settings" },
        { [PENDING_COOKIE]: pending },
      );
      expect(response.status).toBe(303);
      expect(response.headers.get("location")).toBe("/settings");
      expect(setCookieValue(response, PENDING_COOKIE)).toBe("");
      const cookie = sessionCookieOf(response) as string;
      const signedIn = await fetch(`${app.url}/api/me`, { headers: { Cookie: sessionCookieHeader(cookie) } });
      expect((await signedIn.json()).user.email).toBe(user.email);
    });

    it("a verify with a recovery code and an empty code field signs in, to afterLogin without next", async () => {
      const user = await totpUser();
      const pending = await formLogIn(user.email);
      const response = await postForm(
        "/api/auth/mfa/verify",
        { code: "", recoveryCode: user.recoveryCodes[0] as string },
        { [PENDING_COOKIE]: pending },
      );
      expect(response.status).toBe(303);
      expect(response.headers.get("location")).toBe("/dashboard");
      expect(sessionCookieOf(response)).toBeTruthy();
    });

    it("a wrong code answers 303 to /login/verify?error=invalid_code&next=…, and the pending log-in stays usable", async () => {
      const user = await totpUser();
      const pending = await formLogIn(user.email, "/settings");
      const response = await postForm(
        "/api/auth/mfa/verify",
        { code: wrongCode(user.secret, user.now), next: "/settings" },
        { [PENDING_COOKIE]: pending },
      );
      expect(response.status).toBe(303);
      expect(response.headers.get("location")).toBe("/login/verify?error=invalid_code&next=%2Fsettings");
      expect(response.headers.getSetCookie()).toEqual([]);
      const retried = await postForm(
        "/api/auth/mfa/verify",
        { code: totpCode(user.secret, user.now), next: "/settings" },
        { [PENDING_COOKIE]: pending },
      );
      expect(retried.headers.get("location")).toBe("/settings");
    });

    it("a malformed code answers 303 to /login/verify?error=invalid_input", async () => {
      const user = await totpUser();
      const pending = await formLogIn(user.email);
      const response = await postForm("/api/auth/mfa/verify", { code: "12345" }, { [PENDING_COOKIE]: pending });
      expect(response.status).toBe(303);
      expect(response.headers.get("location")).toBe("/login/verify?error=invalid_input");
    });

    it("without a pending log-in answers 303 to /login?error=mfa_pending_expired (with next when the form had it)", async () => {
      const user = await totpUser();
      const code = totpCode(user.secret, user.now);
      const bare = await postForm("/api/auth/mfa/verify", { code });
      expect(bare.status).toBe(303);
      expect(bare.headers.get("location")).toBe("/login?error=mfa_pending_expired");
      expect(bare.headers.getSetCookie()).toEqual([]);
      const withNext = await postForm("/api/auth/mfa/verify", { code, next: "/settings" });
      expect(withNext.headers.get("location")).toBe("/login?error=mfa_pending_expired&next=%2Fsettings");
    });

    it.each(["//evil.example", "https://evil.example", "/\\evil.example", "javascript:alert(1)"])(
      "a verify with next=%s goes to /dashboard",
      async (next) => {
        const user = await totpUser();
        const pending = await formLogIn(user.email);
        const response = await postForm(
          "/api/auth/mfa/verify",
          { code: totpCode(user.secret, user.now), next },
          { [PENDING_COOKIE]: pending },
        );
        expect(response.status).toBe(303);
        expect(response.headers.get("location")).toBe("/dashboard");
      },
    );

    it("a cross-site verify answers 403 csrf, redirects nowhere and uses up nothing", async () => {
      const user = await totpUser();
      const pending = await formLogIn(user.email);
      const code = totpCode(user.secret, user.now);
      const response = await fetch(`${app.url}/api/auth/mfa/verify`, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          Origin: "https://evil.example",
          Cookie: cookieHeader({ [PENDING_COOKIE]: pending }),
        },
        body: new URLSearchParams({ code, next: "/settings" }).toString(),
        redirect: "manual",
      });
      await expectError(response, 403, "csrf");
      expect(response.headers.get("location")).toBeNull();
      expect((await mfa.verify(pending, { code })).status).toBe(200);
    });
  });
});

describe("the pending cookie with secureCookies on", () => {
  // Accounts are made through a plain server; a second one on the same store has secureCookies on.
  const app = useTestServer("database");
  const mfa = mfaClient(app);
  const uniqueEmail = uniqueEmails("mfa-secure", "database");

  it("is __Host-gatehouse.mfa with Secure, and only that name finishes the log-in", async () => {
    const user = await mfa.totpUser(uniqueEmail(), app.startedAt);
    const secure = await startServer("database", { store: app.store, secureCookies: true });
    try {
      const now = app.startedAt + STEP_MS;
      secure.setClock(now);
      const secureMfa = mfaClient(secure);
      const response = await secureMfa.logIn(user.email);
      expect(response.status).toBe(403);
      expect(response.headers.getSetCookie()).toHaveLength(1);
      const name = `__Host-${PENDING_COOKIE}`;
      const line = setCookieLine(response, name) as string;
      expect(line).toBeDefined();
      const attributes = line
        .split(/;\s*/)
        .slice(1)
        .map((attribute) => attribute.toLowerCase());
      expect(attributes.sort()).toEqual(["httponly", "max-age=300", "path=/", "samesite=lax", "secure"]);
      const pending = setCookieValue(response, name) as string;

      const code = { code: totpCode(user.secret, now) };
      // The same value under the plain name is no pending log-in on this server.
      await expectError(await secureMfa.verify(pending, code), 401, "mfa_pending_expired");
      const verified = await secureMfa.request("/api/auth/mfa/verify", {
        json: code,
        headers: { Cookie: cookieHeader({ [name]: pending }) },
      });
      expect(verified.status).toBe(200);
      expect(setCookieValue(verified, `__Host-${SESSION_COOKIE}`)).toBeTruthy();
      expect(setCookieValue(verified, name)).toBe("");
      expect(setCookieLine(verified, name)).toMatch(/Max-Age=0.*Secure|Secure.*Max-Age=0/i);
    } finally {
      await secure.close();
    }
  });
});

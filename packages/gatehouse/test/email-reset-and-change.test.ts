/**
 * Password reset and email change over real HTTP and real SMTP, for both strategies: the messages the test
 * SMTP server receives are parsed, their links followed as the app's pages would (POST the token), and every
 * outcome is checked by reading the SQLite file raw.
 */
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { PASSWORD } from "./support/credentials.js";
import {
  type ApiRequestInit,
  apiRequest,
  expectError,
  rawRequest,
  SUITE_RATE_LIMITS,
  sessionCookieOf,
  startServer,
  type TestServer,
  uniqueEmails,
  useTestServer,
} from "./support/http-server.js";
import {
  expectNoFurtherMail,
  nthMailTo,
  rawAllRowsText,
  rawDatabaseBytes,
  rawEmailTables,
  rawTokensOf,
  sha256Hex,
  smtpMailerFor,
  tokenFromLink,
} from "./support/raw-email.js";
import { startSmtpServer } from "./support/smtp.js";
import { querySqliteFile, rawSessionIdsOf, rawUserByEmail } from "./support/temp-sqlite.js";

const smtp = await startSmtpServer();
afterAll(() => smtp.close());

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const NEW_PASSWORD = "a brand new passphrase";

/** Test helpers bound to one server. Accounts are made with `users.create`, which mails nothing, so each address's first mail is the one the test asks for. */
function helpers(app: TestServer, uniqueEmail: () => string) {
  const request = (route: string, init?: ApiRequestInit) => apiRequest(app, route, init);
  const logIn = (email: string, password = PASSWORD) => request("/api/auth/login", { json: { email, password } });

  /** An account signed in twice: `cookie` makes the requests, `other` is a second session. */
  async function signedInUser(): Promise<{ email: string; id: string; cookie: string; other: string }> {
    const email = uniqueEmail();
    const { id } = await app.gatehouse.users.create({ email, password: PASSWORD });
    const cookie = sessionCookieOf(await logIn(email)) as string;
    const other = sessionCookieOf(await logIn(email)) as string;
    expect(cookie && other).toBeTruthy();
    return { email, id, cookie, other };
  }

  return {
    request,
    logIn,
    signedInUser,
    me: (cookie: string) => request("/api/me", { cookie }),
    requestReset: (email: string) => request("/api/auth/password-reset/request", { json: { email } }),
    confirmReset: (token: string, password = NEW_PASSWORD) =>
      request("/api/auth/password-reset/confirm", { json: { token, password } }),
    verify: (token: string, cookie?: string) =>
      request("/api/auth/verify-email", { json: { token }, ...(cookie !== undefined && { cookie }) }),
    changeEmail: (cookie: string, json: unknown) => request("/api/auth/email-change", { json, cookie }),
    rawHash: (email: string) => rawUserByEmail(app.dbFile, email)?.password_hash,
  };
}

describe.each(["database", "stateless"] as const)("password reset over HTTP and SMTP (%s sessions)", (strategy) => {
  // The per-IP reset limit (20 an hour) is off here: every request of the suite comes from 127.0.0.1.
  const app = useTestServer(strategy, {
    email: { mailer: smtpMailerFor(smtp) },
    rateLimits: { ...SUITE_RATE_LIMITS, passwordResetPerIp: false },
  });
  const uniqueEmail = uniqueEmails("reset", strategy);
  const { logIn, signedInUser, me, requestReset, confirmReset, rawHash } = helpers(app, uniqueEmail);

  afterEach(() => app.setClock(app.startedAt));

  /** Asks for a reset and returns the token of the `n`th mail to the address (its link checked on the way). */
  async function resetToken(email: string, n = 1): Promise<string> {
    expect((await requestReset(email)).status).toBe(202);
    return tokenFromLink(await nthMailTo(smtp, email, n), app.origin, "/reset-password");
  }

  it("end to end: 202, a link to <url>/reset-password, then 200 {ok:true}; every session ends; notice mailed; address verified", async () => {
    const user = await signedInUser();
    const oldHash = rawHash(user.email);
    const requested = await requestReset(user.email);
    expect(requested.status).toBe(202);
    expect(await requested.json()).toEqual({ ok: true, message: expect.any(String) });
    const mail = await nthMailTo(smtp, user.email, 1);
    expect(mail.subject).toMatch(/reset/i);
    const token = tokenFromLink(mail, app.origin, "/reset-password");

    const confirmed = await confirmReset(token);
    expect(confirmed.status).toBe(200);
    expect(await confirmed.json()).toEqual({ ok: true });
    expect(confirmed.headers.getSetCookie()).toEqual([]);

    for (const cookie of [user.cookie, user.other]) expect((await me(cookie)).status).toBe(401);
    expect(rawSessionIdsOf(app.dbFile, user.id)).toEqual([]);
    expect(rawHash(user.email)).not.toBe(oldHash);
    expect(String(rawHash(user.email))).not.toContain(NEW_PASSWORD);
    expect(Number(rawUserByEmail(app.dbFile, user.email)?.email_verified_at)).toBe(app.startedAt);
    expect(rawTokensOf(app.dbFile, user.id)).toEqual([]);

    const notice = await nthMailTo(smtp, user.email, 2);
    expect(notice.subject).toMatch(/password was changed/i);
    expect(notice.links).toEqual([]);
    expect((await logIn(user.email)).status).toBe(401);
    const loggedIn = await logIn(user.email, NEW_PASSWORD);
    expect(loggedIn.status).toBe(200);
    expect((await loggedIn.json()).user.emailVerified).toBe(true);
  });

  it("stores the token only as its SHA-256, valid for 1 h: the token from the mail is in no row and nowhere in the file", async () => {
    const user = await signedInUser();
    const token = await resetToken(user.email);
    const rows = rawTokensOf(app.dbFile, user.id);
    expect(rows).toEqual([
      expect.objectContaining({ token_hash: sha256Hex(token), purpose: "reset_password", email: user.email }),
    ]);
    expect(Number(rows[0]?.expires_at) - Number(rows[0]?.created_at)).toBe(HOUR);
    expect(rawAllRowsText(app.dbFile)).not.toContain(token);
    expect(rawDatabaseBytes(app.dbFile)).not.toContain(token);
  });

  it("a used link answers 400 invalid_token and changes nothing", async () => {
    const user = await signedInUser();
    const token = await resetToken(user.email);
    expect((await confirmReset(token)).status).toBe(200);
    const before = rawEmailTables(app.dbFile);
    await expectError(await confirmReset(token, "yet another passphrase"), 400, "invalid_token");
    expect(rawEmailTables(app.dbFile)).toEqual(before);
    expect((await logIn(user.email, NEW_PASSWORD)).status).toBe(200);
  });

  it("the same link confirmed five times at once, with five passwords, works once: one 200, four 400 invalid_token", async () => {
    const user = await signedInUser();
    const token = await resetToken(user.email);
    const passwords = Array.from({ length: 5 }, (_, i) => `${NEW_PASSWORD} number ${i}`);
    const responses = await Promise.all(passwords.map((password) => confirmReset(token, password)));
    expect(responses.map((response) => response.status).sort()).toEqual([200, 400, 400, 400, 400]);
    const winner = passwords[responses.findIndex((response) => response.status === 200)] as string;
    expect((await logIn(user.email, winner)).status).toBe(200);
    for (const password of passwords.filter((p) => p !== winner))
      expect((await logIn(user.email, password)).status).toBe(401);
  });

  it("a link after 1 h + 1 s answers 400 token_expired, keeps the password and sessions, and is used up", async () => {
    const user = await signedInUser();
    const token = await resetToken(user.email);
    const hash = rawHash(user.email);
    app.setClock(app.startedAt + HOUR + SECOND);
    await expectError(await confirmReset(token), 400, "token_expired");
    expect(rawHash(user.email)).toBe(hash);
    expect(rawSessionIdsOf(app.dbFile, user.id)).toHaveLength(2);
    app.setClock(app.startedAt);
    await expectError(await confirmReset(token), 400, "invalid_token");
    expect(rawHash(user.email)).toBe(hash);
    expect((await me(user.cookie)).status).toBe(200);
  });

  it("a link one second before 1 h still works", async () => {
    const user = await signedInUser();
    const token = await resetToken(user.email);
    app.setClock(app.startedAt + HOUR - SECOND);
    expect((await confirmReset(token)).status).toBe(200);
  });

  it("a newer request voids the older link", async () => {
    const user = await signedInUser();
    const older = await resetToken(user.email, 1);
    const newer = await resetToken(user.email, 2);
    expect(newer).not.toBe(older);
    // Older links are voided once the new one is handed to the mail server, a moment after it arrives.
    await vi.waitFor(() =>
      expect(rawTokensOf(app.dbFile, user.id)).toEqual([expect.objectContaining({ token_hash: sha256Hex(newer) })]),
    );
    await expectError(await confirmReset(older), 400, "invalid_token");
    expect((await logIn(user.email)).status).toBe(200);
    expect((await confirmReset(newer)).status).toBe(200);
  });

  it("a password the policy refuses answers 400 naming password, and does not use up the link", async () => {
    const user = await signedInUser();
    const token = await resetToken(user.email);
    const before = rawEmailTables(app.dbFile);
    for (const password of ["short", "password1234", "x".repeat(257), "", 42, null]) {
      const error = await expectError(await confirmReset(token, password as string), 400, "invalid_input");
      expect(Object.keys(error.fields), String(password)).toEqual(["password"]);
    }
    expect(rawEmailTables(app.dbFile)).toEqual(before);
    expect((await confirmReset(token)).status).toBe(200);
    expect((await logIn(user.email, NEW_PASSWORD)).status).toBe(200);
  });

  it("clears the account's log-in throttling: locked out after 10 wrong passwords, the new password logs in at once", async () => {
    const user = await signedInUser();
    for (let i = 0; i < 10; i++) expect((await logIn(user.email, "not the password")).status).toBe(401);
    expect((await logIn(user.email)).status).toBe(429);
    const accountKeys = () =>
      querySqliteFile(app.dbFile, (db) =>
        db
          .prepare("SELECT key FROM gatehouse_rate_limits WHERE key LIKE ?")
          .all(`login-account:${sha256Hex(user.email)}%`),
      );
    expect(accountKeys()).not.toEqual([]);

    const token = await resetToken(user.email);
    expect((await confirmReset(token)).status).toBe(200);
    expect(accountKeys()).toEqual([]);
    expect((await logIn(user.email, NEW_PASSWORD)).status).toBe(200);
  });

  it("answers an unknown address exactly like a known one (status, body, headers but Date); only the known one gets mail", async () => {
    const user = await signedInUser();
    const unknownEmail = uniqueEmail();
    const unknown = await requestReset(unknownEmail);
    const known = await requestReset(user.email);
    expect(unknown.status).toBe(202);
    expect(known.status).toBe(unknown.status);
    expect(await known.text()).toBe(await unknown.text());
    const headers = (response: Response) => {
      const all: Array<[string, string]> = [];
      response.headers.forEach((value, name) => {
        all.push([name, value]);
      });
      return all.filter(([name]) => name !== "date");
    };
    expect(headers(known)).toEqual(headers(unknown));

    await nthMailTo(smtp, user.email, 1);
    await expectNoFurtherMail(smtp, unknownEmail, 0, async () => {
      const sentinel = await signedInUser();
      await requestReset(sentinel.email);
      return { address: sentinel.email, n: 1 };
    });
    expect(rawEmailTables(app.dbFile).tokens.filter((row) => row.email === unknownEmail)).toEqual([]);
  });

  it("5 requests an hour per address, known or not; the 6th is 429 for both, and mails nothing", async () => {
    const user = await signedInUser();
    const unknownEmail = uniqueEmail();
    for (let i = 0; i < 5; i++) {
      expect((await requestReset(user.email)).status).toBe(202);
      await nthMailTo(smtp, user.email, i + 1);
      expect((await requestReset(unknownEmail)).status).toBe(202);
    }
    const known = await requestReset(user.email);
    const unknown = await requestReset(unknownEmail);
    await expectError(known.clone(), 429, "rate_limited");
    await expectError(unknown.clone(), 429, "rate_limited");
    expect(await known.text()).toBe(await unknown.text());
    await expectNoFurtherMail(smtp, user.email, 5, async () => {
      const sentinel = await signedInUser();
      await requestReset(sentinel.email);
      return { address: sentinel.email, n: 1 };
    });
    expect(smtp.to(unknownEmail)).toEqual([]);
  });

  it("builds the link on the configured origin, whatever Host and X-Forwarded-Host the request forges", async () => {
    const user = await signedInUser();
    const response = await rawRequest(app, {
      method: "POST",
      path: "/api/auth/password-reset/request",
      headers: {
        Host: "evil.example",
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Proto": "https",
        Origin: app.origin,
        "Content-Type": "application/json",
      },
      body: JSON.stringify({ email: user.email }),
    });
    expect(response.status).toBe(202);
    const mail = await nthMailTo(smtp, user.email, 1);
    const token = tokenFromLink(mail, app.origin, "/reset-password");
    expect(mail.text + mail.html).not.toContain("evil.example");
    expect((await confirmReset(token)).status).toBe(200);
  });

  it("the per-IP limit (20 an hour) is checked too", async () => {
    // This suite turns it off; a server of its own has it on.
    const limited = await startServer(strategy, { email: { mailer: smtpMailerFor(smtp) } });
    try {
      for (let i = 0; i < 20; i++) {
        const response = await apiRequest(limited, "/api/auth/password-reset/request", {
          json: { email: uniqueEmail() },
        });
        expect(response.status, `request ${i + 1}`).toBe(202);
      }
      await expectError(
        await apiRequest(limited, "/api/auth/password-reset/request", { json: { email: uniqueEmail() } }),
        429,
        "rate_limited",
      );
    } finally {
      await limited.close();
    }
  });
});

describe("a password reset lets the owner back in past the account's limits, the daily one too", () => {
  // Small limits, and none per (account, IP), so the suite's one address can fill the account's own.
  const rateLimits = {
    ...SUITE_RATE_LIMITS,
    passwordResetPerIp: false,
    loginPerAccountAndIp: false,
    loginPerAccount: { max: 5, windowSeconds: 15 * 60 },
    loginPerAccountDaily: { max: 8, windowSeconds: 24 * 60 * 60 },
  } as const;
  const app = useTestServer("database", { email: { mailer: smtpMailerFor(smtp) }, rateLimits });
  const uniqueEmail = uniqueEmails("daily-reset", "database");
  const { logIn, requestReset, confirmReset } = helpers(app, uniqueEmail);

  afterAll(() => app.setClock(app.startedAt));

  it("5 failures fill the 15 minutes, 3 more after it the day; the right password is refused until a reset", async () => {
    const email = uniqueEmail();
    await app.gatehouse.users.create({ email, password: PASSWORD });
    for (let i = 0; i < 5; i++) await expectError(await logIn(email, "not the password"), 401, "invalid_credentials");
    await expectError(await logIn(email), 429, "rate_limited");
    app.setClock(app.startedAt + 15 * MINUTE);
    for (let i = 0; i < 3; i++) await expectError(await logIn(email, "not the password"), 401, "invalid_credentials");
    // The 15-minute window has room again; the day's does not.
    await expectError(await logIn(email), 429, "rate_limited");

    expect((await requestReset(email)).status).toBe(202);
    const token = tokenFromLink(await nthMailTo(smtp, email, 1), app.origin, "/reset-password");
    expect((await confirmReset(token)).status).toBe(200);
    expect((await logIn(email, NEW_PASSWORD)).status).toBe(200);
  });
});

describe.each(["database", "stateless"] as const)("email change over HTTP and SMTP (%s sessions)", (strategy) => {
  const app = useTestServer(strategy, { email: { mailer: smtpMailerFor(smtp) } });
  const uniqueEmail = uniqueEmails("change", strategy);
  const { request, logIn, signedInUser, me, changeEmail, verify, requestReset, confirmReset } = helpers(
    app,
    uniqueEmail,
  );

  afterEach(() => app.setClock(app.startedAt));

  /** Asks for a change to `to` and returns the token of the link mailed there. */
  async function changeToken(user: { cookie: string }, to: string): Promise<string> {
    const response = await changeEmail(user.cookie, { email: to, password: PASSWORD });
    expect(response.status).toBe(202);
    return tokenFromLink(await nthMailTo(smtp, to, smtp.to(to).length + 1), app.origin, "/verify-email");
  }

  it("end to end: 202 {pendingEmail}; nothing changes until the link to the new address is followed; then sessions rotate and the old address is told", async () => {
    const user = await signedInUser();
    const newEmail = uniqueEmail();
    const response = await changeEmail(user.cookie, { email: `  ${newEmail.toUpperCase()} `, password: PASSWORD });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ pendingEmail: newEmail });

    const mail = await nthMailTo(smtp, newEmail, 1);
    expect(mail.subject).toMatch(/confirm your new email/i);
    const token = tokenFromLink(mail, app.origin, "/verify-email");
    expect(rawTokensOf(app.dbFile, user.id)).toEqual([
      expect.objectContaining({ token_hash: sha256Hex(token), purpose: "change_email", email: newEmail }),
    ]);
    expect(rawAllRowsText(app.dbFile)).not.toContain(token);
    // Still the old address: it logs in, the new one does not; the old one has been warned, with no link.
    expect(rawUserByEmail(app.dbFile, user.email)?.id).toBe(user.id);
    expect(rawUserByEmail(app.dbFile, newEmail)).toBeUndefined();
    expect((await logIn(newEmail)).status).toBe(401);
    const warning = await nthMailTo(smtp, user.email, 1);
    expect(warning.subject).toMatch(/about to change/i);
    expect(warning.text).toContain(newEmail);
    expect(warning.links).toEqual([]);

    const verified = await verify(token, user.cookie);
    expect(verified.status).toBe(200);
    expect((await verified.json()).user).toMatchObject({ id: user.id, email: newEmail, emailVerified: true });
    const rotated = sessionCookieOf(verified);
    expect(rotated).toBeTruthy();
    expect(rotated).not.toBe(user.cookie);
    expect(rawUserByEmail(app.dbFile, user.email)).toBeUndefined();
    expect(rawUserByEmail(app.dbFile, newEmail)).toMatchObject({ id: user.id, email_verified_at: app.startedAt });

    const notice = await nthMailTo(smtp, user.email, 2);
    expect(notice.subject).toMatch(/email address was changed/i);
    expect(notice.text).toContain(newEmail);
    expect(notice.links).toEqual([]);

    expect((await me(rotated as string)).status).toBe(200);
    const other = await me(user.other);
    expect(other.status).toBe(200);
    expect((await other.json()).user.email).toBe(newEmail);
    expect(sessionCookieOf(other)).toBeTruthy();
    expect((await logIn(user.email)).status).toBe(401);
    expect((await logIn(newEmail)).status).toBe(200);
  });

  it("an address that has an account: the same 202, a notice to it with no link, no token, and nothing changes", async () => {
    const user = await signedInUser();
    const owner = await signedInUser();
    const before = rawEmailTables(app.dbFile);
    const response = await changeEmail(user.cookie, { email: owner.email, password: PASSWORD });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ pendingEmail: owner.email });
    const notice = await nthMailTo(smtp, owner.email, 1);
    expect(notice.subject).toMatch(/about your/i);
    expect(notice.text).toMatch(/already has an account/i);
    expect(notice.links).toEqual([]);
    const after = rawEmailTables(app.dbFile);
    expect(after.users).toEqual(before.users);
    expect(after.tokens).toEqual(before.tokens);
    // The requester's own address is warned exactly as for a free address, so it learns nothing either.
    expect(smtp.to(user.email).map((m) => m.subject)).toEqual([expect.stringMatching(/about to change/i)]);
  });

  it("without the password: 403 reauthentication_required even right after log-in (ASVS 7.5.1), and no mail", async () => {
    const user = await signedInUser();
    for (const clock of [app.startedAt, app.startedAt + 10 * MINUTE + SECOND]) {
      app.setClock(clock);
      const target = uniqueEmail();
      const before = rawEmailTables(app.dbFile);
      await expectError(await changeEmail(user.cookie, { email: target }), 403, "reauthentication_required");
      // The session's last-seen time may move (the clock did); the account, its links and counters do not.
      const after = rawEmailTables(app.dbFile);
      expect({ ...after, sessions: [] }).toEqual({ ...before, sessions: [] });
      expect(smtp.to(target)).toEqual([]);
      // With the password, the same request goes through, for a new session as for an old one.
      expect((await changeEmail(user.cookie, { email: target, password: PASSWORD })).status).toBe(202);
      await nthMailTo(smtp, target, 1);
    }
    app.setClock(app.startedAt);
  });

  it("a wrong password answers 400 naming password; the same address answers 400 naming email; nothing changes, no mail", async () => {
    const user = await signedInUser();
    const target = uniqueEmail();
    const before = rawEmailTables(app.dbFile);
    for (const password of ["not my password", "", 42]) {
      const error = await expectError(
        await changeEmail(user.cookie, { email: target, password }),
        400,
        "invalid_input",
      );
      expect(Object.keys(error.fields)).toEqual(["password"]);
    }
    const same = await expectError(
      await changeEmail(user.cookie, { email: user.email.toUpperCase(), password: PASSWORD }),
      400,
      "invalid_input",
    );
    expect(Object.keys(same.fields)).toEqual(["email"]);
    const after = rawEmailTables(app.dbFile);
    expect(after.users).toEqual(before.users);
    expect(after.tokens).toEqual(before.tokens);
    expect(after.sessions).toEqual(before.sessions);
    await expectNoFurtherMail(smtp, target, 0, async () => {
      const sentinel = uniqueEmail();
      await changeToken(user, sentinel);
      return { address: sentinel, n: 1 };
    });
  });

  it("a used change link answers 400 invalid_token; an expired one (24 h + 1 s) 400 token_expired; neither changes the email", async () => {
    const user = await signedInUser();
    const first = uniqueEmail();
    const token = await changeToken(user, first);
    expect((await verify(token)).status).toBe(200);
    await expectError(await verify(token), 400, "invalid_token");
    expect(rawUserByEmail(app.dbFile, first)?.id).toBe(user.id);

    const other = await signedInUser();
    const second = uniqueEmail();
    const late = await changeToken(other, second);
    app.setClock(app.startedAt + DAY + SECOND);
    await expectError(await verify(late), 400, "token_expired");
    expect(rawUserByEmail(app.dbFile, other.email)?.id).toBe(other.id);
    expect(rawUserByEmail(app.dbFile, second)).toBeUndefined();
  });

  it("a newer change request voids the older link", async () => {
    const user = await signedInUser();
    const first = uniqueEmail();
    const second = uniqueEmail();
    const older = await changeToken(user, first);
    const newer = await changeToken(user, second);
    const pendingChanges = () => rawTokensOf(app.dbFile, user.id).filter((row) => row.purpose === "change_email");
    await vi.waitFor(() =>
      expect(pendingChanges()).toEqual([expect.objectContaining({ token_hash: sha256Hex(newer) })]),
    );
    await expectError(await verify(older), 400, "invalid_token");
    expect(rawUserByEmail(app.dbFile, user.email)?.id).toBe(user.id);
    expect((await verify(newer)).status).toBe(200);
    expect(rawUserByEmail(app.dbFile, second)?.id).toBe(user.id);
  });

  it("a password reset or change voids a pending email change: whoever asked for it cannot finish it after being shut out", async () => {
    for (const endWith of ["reset", "change"] as const) {
      const user = await signedInUser();
      const pending = await changeToken(user, uniqueEmail());
      if (endWith === "reset") {
        expect((await requestReset(user.email)).status).toBe(202);
        const resetMail = await vi.waitFor(() => {
          const mail = smtp.to(user.email).find((m) => /reset/i.test(m.subject));
          expect(mail).toBeDefined();
          return mail as NonNullable<typeof mail>;
        });
        expect((await confirmReset(tokenFromLink(resetMail, app.origin, "/reset-password"))).status).toBe(200);
      } else {
        const changed = await request("/api/auth/password", {
          json: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
          cookie: user.cookie,
        });
        expect(changed.status).toBe(200);
      }
      expect(rawTokensOf(app.dbFile, user.id, "change_email")).toEqual([]);
      await expectError(await verify(pending), 400, "invalid_token");
      expect(rawUserByEmail(app.dbFile, user.email)?.id).toBe(user.id);
    }
  });

  it("if the new address gets an account before the link is followed: 409 email_taken, and the email stays", async () => {
    const user = await signedInUser();
    const target = uniqueEmail();
    const token = await changeToken(user, target);
    await app.gatehouse.users.create({ email: target, password: PASSWORD });
    const before = rawEmailTables(app.dbFile);
    await expectError(await verify(token), 409, "email_taken");
    const after = rawEmailTables(app.dbFile);
    expect(after.users).toEqual(before.users);
    expect(after.sessions).toEqual(before.sessions);
    expect(rawUserByEmail(app.dbFile, user.email)?.id).toBe(user.id);
  });

  it("after the change, reset and verification links sent to the old address are void", async () => {
    const user = await signedInUser();
    expect((await requestReset(user.email)).status).toBe(202);
    const resetLink = tokenFromLink(await nthMailTo(smtp, user.email, 1), app.origin, "/reset-password");
    expect((await request("/api/auth/verify-email/request", { method: "POST", cookie: user.cookie })).status).toBe(202);
    const verifyLink = tokenFromLink(await nthMailTo(smtp, user.email, 2), app.origin, "/verify-email");

    const target = uniqueEmail();
    expect((await verify(await changeToken(user, target))).status).toBe(200);
    await expectError(await confirmReset(resetLink), 400, "invalid_token");
    await expectError(await verify(verifyLink), 400, "invalid_token");
    expect((await logIn(target)).status).toBe(200);
    expect(rawUserByEmail(app.dbFile, target)?.id).toBe(user.id);
  });

  it("builds the link on the configured origin, whatever Host and X-Forwarded-Host the request forges", async () => {
    const user = await signedInUser();
    const target = uniqueEmail();
    const response = await rawRequest(app, {
      method: "POST",
      path: "/api/auth/email-change",
      headers: {
        Host: "evil.example",
        "X-Forwarded-Host": "evil.example",
        Origin: app.origin,
        "Content-Type": "application/json",
        Cookie: `gatehouse.session=${user.cookie}`,
      },
      body: JSON.stringify({ email: target, password: PASSWORD }),
    });
    expect(response.status).toBe(202);
    const mail = await nthMailTo(smtp, target, 1);
    tokenFromLink(mail, app.origin, "/verify-email");
    expect(mail.text + mail.html).not.toContain("evil.example");
  });
});

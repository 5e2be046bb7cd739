/**
 * Setting up, confirming, regenerating and turning off an authenticator app (TOTP) over real HTTP, for both
 * session strategies. Every code comes from Debian's oathtool, and the otpauth:// URI is read by otplib's
 * parser, so the server is checked against implementations other than its own. Notices go through a real
 * SMTP server; what is stored is read from the SQLite file raw. Also: a password reset keeps TOTP, deleting
 * the account removes it, and `gatehouse users mfa-reset` takes it off a locked-out account.
 */
import fs from "node:fs";
import { parse as parseOtpauthUri } from "@otplib/uri";
import { generate } from "otplib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { requireBuiltCli, runCli, tempFolder } from "./support/cli.js";
import { PASSWORD } from "./support/credentials.js";
import {
  apiRequest,
  expectError,
  SESSION_COOKIE,
  SUITE_RATE_LIMITS,
  sessionCookieOf,
  uniqueEmails,
  useTestServer,
} from "./support/http-server.js";
import {
  nthMailTo,
  rawAllRowsText,
  rawDatabaseBytes,
  sha256Hex,
  smtpMailerFor,
  tokenFromLink,
} from "./support/raw-email.js";
import { startSmtpServer } from "./support/smtp.js";
import { rawSessionIdsOf, rawSqliteTables } from "./support/temp-sqlite.js";
import {
  base32Bytes,
  headerList,
  mfaClient,
  PENDING_COOKIE,
  RECOVERY_CODE,
  rawFactorTables,
  rawMfaTables,
  STEP_MS,
  setCookieValue,
  totpCode,
  wrongCode,
} from "./support/totp.js";

const smtp = await startSmtpServer();
afterAll(() => smtp.close());

/** With a space, so the URI's issuer and label must be encoded to come back whole. */
const APP_NAME = "Acme Test";
const NEW_PASSWORD = "a brand new passphrase";

/** The notice a factor change mails: the app's security notice, naming the change. */
async function noticeTo(email: string, n: number, change: RegExp): Promise<void> {
  const mail = await nthMailTo(smtp, email, n);
  expect(mail.subject).toBe(`Security change on your ${APP_NAME} account`);
  expect(mail.text).toMatch(change);
  expect(mail.links).toEqual([]);
}

describe.each(["database", "stateless"] as const)("TOTP set-up and management over HTTP (%s sessions)", (strategy) => {
  const app = useTestServer(strategy, {
    email: { mailer: smtpMailerFor(smtp), appName: APP_NAME },
    rateLimits: { ...SUITE_RATE_LIMITS, passwordResetPerIp: false },
  });
  const uniqueEmail = uniqueEmails("totp", strategy);
  const mfa = mfaClient(app);
  const me = (cookie: string) => apiRequest(app, "/api/me", { cookie });

  afterEach(() => app.setClock(app.startedAt));

  describe("POST /api/auth/mfa/totp/setup", () => {
    it("without a password answers 403 reauthentication_required, with a wrong one 400 incorrect_password; no secret is stored", async () => {
      const user = await mfa.signedInUser(uniqueEmail());
      for (const body of [{}, undefined, { code: "123456" }]) {
        await expectError(await mfa.setup(user.cookie, body), 403, "reauthentication_required");
      }
      for (const password of ["not my password", PASSWORD.toUpperCase(), ""]) {
        const error = await expectError(await mfa.setup(user.cookie, { password }), 400, "invalid_input");
        expect(error.fields.password?.code).toBe("incorrect_password");
      }
      expect(rawFactorTables(app.dbFile, user.id).totp).toEqual([]);
      expect(await mfa.status(user.cookie)).toEqual({ totp: false, passkeys: 0, recoveryCodesLeft: 0 });
      // Each wrong password counted against the account's log-in limit: no side door for guessing.
      const counter = rawSqliteTables(app.dbFile).rateLimits.find(
        (row) => row.key === `login-account:${sha256Hex(user.email)}`,
      );
      expect(Number(counter?.count)).toBe(3);
    });

    it("without a session answers 401 unauthenticated", async () => {
      await expectError(
        await mfa.request("/api/auth/mfa/totp/setup", { json: { password: PASSWORD } }),
        401,
        "unauthenticated",
      );
    });

    it("answers 200 with a 160-bit base32 secret, an otpauth URI otplib reads back (issuer, email, SHA1/6/30) and an SVG QR code", async () => {
      const user = await mfa.signedInUser(uniqueEmail());
      const response = await mfa.setup(user.cookie, { password: PASSWORD });
      expect(response.status).toBe(200);
      const body = await response.json();
      expect(Object.keys(body).sort()).toEqual(["qrSvg", "secret", "uri"]);
      expect(body.secret).toMatch(/^[A-Z2-7]{32}$/);
      expect(base32Bytes(body.secret)).toHaveLength(20);
      expect(body.qrSvg.startsWith("<svg")).toBe(true);

      // Another library's parser, as an authenticator app would read the QR code.
      const parsed = parseOtpauthUri(body.uri);
      expect(parsed.type).toBe("totp");
      expect(parsed.label).toBe(`${APP_NAME}:${user.email}`);
      expect(parsed.params).toMatchObject({ secret: body.secret, issuer: APP_NAME });
      expect(parsed.params.algorithm ?? "sha1").toBe("sha1");
      expect(parsed.params.digits ?? 6).toBe(6);
      expect(parsed.params.period ?? 30).toBe(30);

      // What otplib makes of the URI's parameters is what oathtool makes of the secret, and it confirms.
      const code = await generate({
        secret: parsed.params.secret,
        algorithm: parsed.params.algorithm ?? "sha1",
        digits: parsed.params.digits ?? 6,
        period: parsed.params.period ?? 30,
        epoch: app.startedAt / 1000,
      });
      expect(code).toBe(totpCode(body.secret, app.startedAt));
      expect((await mfa.confirm(user.cookie, code)).status).toBe(200);
    });

    it("a second set-up replaces an unconfirmed one: codes of the first secret no longer confirm", async () => {
      const user = await mfa.signedInUser(uniqueEmail());
      const first = await mfa.setUp(user.cookie);
      const second = await mfa.setUp(user.cookie);
      expect(second).not.toBe(first);
      expect(rawFactorTables(app.dbFile, user.id).totp).toHaveLength(1);

      const firstCode = totpCode(first, app.startedAt);
      expect(firstCode).not.toBe(totpCode(second, app.startedAt));
      await expectError(await mfa.confirm(user.cookie, firstCode), 400, "invalid_code");
      expect((await mfa.status(user.cookie)).totp).toBe(false);
      expect((await mfa.confirm(user.cookie, totpCode(second, app.startedAt))).status).toBe(200);
    });

    it("once TOTP is on, answers 409 mfa_already_enabled and keeps the secret", async () => {
      const user = await mfa.totpUser(uniqueEmail(), app.startedAt);
      const before = rawFactorTables(app.dbFile, user.id);
      await expectError(await mfa.setup(user.cookie, { password: PASSWORD }), 409, "mfa_already_enabled");
      expect(rawFactorTables(app.dbFile, user.id)).toEqual(before);
      // The app set up first still signs in.
      app.setClock(app.startedAt + STEP_MS);
      await mfa.logInWith(user.email, { code: totpCode(user.secret, app.startedAt + STEP_MS) });
    });

    it("stores the secret sealed, and no later response ever carries it", async () => {
      const user = await mfa.signedInUser(uniqueEmail());
      const secret = await mfa.setUp(user.cookie);
      const hex = base32Bytes(secret).toString("hex");
      const [row] = rawFactorTables(app.dbFile, user.id).totp;
      expect(row).toMatchObject({ user_id: user.id, confirmed_at: null });
      for (const text of [rawAllRowsText(app.dbFile), rawDatabaseBytes(app.dbFile)]) {
        expect(text).not.toContain(secret);
        expect(text.toLowerCase()).not.toContain(secret.toLowerCase());
        expect(text).not.toContain(hex);
      }

      const responses: Response[] = [];
      const keep = (response: Response) => {
        responses.push(response.clone());
        return response;
      };
      const confirmed = keep(await mfa.confirm(user.cookie, totpCode(secret, app.startedAt)));
      const cookie = sessionCookieOf(confirmed) as string;
      keep(await mfa.request("/api/auth/mfa", { cookie }));
      keep(await mfa.request("/api/auth/session", { cookie }));
      keep(await me(cookie));
      keep(await mfa.request("/api/auth/sessions", { cookie }));
      keep(await mfa.setup(cookie, { password: PASSWORD }));
      keep(await mfa.request("/api/auth/mfa/recovery-codes", { json: { password: PASSWORD }, cookie }));
      const later = app.startedAt + STEP_MS;
      app.setClock(later);
      const loggedIn = keep(await mfa.logIn(user.email));
      const pending = setCookieValue(loggedIn, PENDING_COOKIE) as string;
      keep(await mfa.verify(pending, { code: totpCode(secret, later) }));
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 409, 200, 403, 200]);
      for (const response of responses) {
        const headers = JSON.stringify(headerList(response));
        const text = await response.text();
        for (const form of [secret, secret.toLowerCase(), hex]) {
          expect(text, response.url).not.toContain(form);
          expect(headers, response.url).not.toContain(form);
        }
      }
    });
  });

  describe("POST /api/auth/mfa/totp/confirm", () => {
    it("with a wrong code answers 400 invalid_code and turns nothing on", async () => {
      const user = await mfa.signedInUser(uniqueEmail());
      const secret = await mfa.setUp(user.cookie);
      const before = rawMfaTables(app.dbFile);
      await expectError(await mfa.confirm(user.cookie, wrongCode(secret, app.startedAt)), 400, "invalid_code");
      // Two steps away: a real code, but not one of now.
      await expectError(
        await mfa.confirm(user.cookie, totpCode(secret, app.startedAt - 2 * STEP_MS)),
        400,
        "invalid_code",
      );
      // Nothing changed but the account's second-factor counters: wrong first codes count, so that a stolen
      // session cannot guess its way through a set-up left unconfirmed.
      const { rateLimits: countersAfter, ...after } = rawMfaTables(app.dbFile);
      const { rateLimits: countersBefore, ...unchanged } = before;
      expect(after).toEqual(unchanged);
      const mfaCounter = (rows: typeof countersAfter) =>
        rows.filter((row) => row.key === `mfa-account:${user.id}`).map((row) => Number(row.count));
      expect(mfaCounter(countersBefore)).toEqual([]);
      expect(mfaCounter(countersAfter)).toEqual([2]);
      expect(await mfa.status(user.cookie)).toEqual({ totp: false, passkeys: 0, recoveryCodesLeft: 0 });
      expect((await mfa.logIn(user.email)).status).toBe(200);
    });

    it("counts wrong first codes like wrong second steps: the 11th within 15 minutes is 429, even the right code", async () => {
      const user = await mfa.signedInUser(uniqueEmail());
      const secret = await mfa.setUp(user.cookie);
      for (let i = 0; i < 10; i++) {
        await expectError(await mfa.confirm(user.cookie, wrongCode(secret, app.startedAt)), 400, "invalid_code");
      }
      await expectError(await mfa.confirm(user.cookie, totpCode(secret, app.startedAt)), 429, "rate_limited");
      expect(await mfa.status(user.cookie)).toEqual({ totp: false, passkeys: 0, recoveryCodesLeft: 0 });
    });

    it("refuses a set-up left unconfirmed for 15 minutes: 409 mfa_setup_required", async () => {
      const user = await mfa.signedInUser(uniqueEmail());
      const secret = await mfa.setUp(user.cookie);
      const later = app.startedAt + 15 * 60 * 1000;
      app.setClock(later);
      await expectError(await mfa.confirm(user.cookie, totpCode(secret, later)), 409, "mfa_setup_required");
      expect(await mfa.status(user.cookie)).toEqual({ totp: false, passkeys: 0, recoveryCodesLeft: 0 });
    });

    it("with a code that is not 6 digits answers 400 invalid_input naming code", async () => {
      const user = await mfa.signedInUser(uniqueEmail());
      await mfa.setUp(user.cookie);
      const before = rawMfaTables(app.dbFile);
      for (const code of ["12345", "1234567", "abcdef", 123456, null, ["123456"]]) {
        const response = await mfa.request("/api/auth/mfa/totp/confirm", { json: { code }, cookie: user.cookie });
        const error = await expectError(response, 400, "invalid_input");
        expect(Object.keys(error.fields), JSON.stringify(code)).toEqual(["code"]);
      }
      expect(rawMfaTables(app.dbFile)).toEqual(before);
    });

    it("without a set-up answers 409 mfa_setup_required", async () => {
      const user = await mfa.signedInUser(uniqueEmail());
      await expectError(await mfa.confirm(user.cookie, "123456"), 409, "mfa_setup_required");
      expect(rawFactorTables(app.dbFile, user.id)).toEqual({
        totp: [],
        recoveryCodes: [],
        passkeys: [],
        challenges: [],
      });
    });

    it("answers 200 with 10 distinct recovery codes, rotates this session, ends every other one, and mails a notice", async () => {
      const user = await mfa.signedInUser(uniqueEmail());
      const others = [];
      for (let i = 0; i < 2; i++) others.push(sessionCookieOf(await mfa.logIn(user.email)) as string);
      const secret = await mfa.setUp(user.cookie);

      const response = await mfa.confirm(user.cookie, totpCode(secret, app.startedAt));
      expect(response.status).toBe(200);
      const body = await response.json();
      expect(Object.keys(body)).toEqual(["recoveryCodes"]);
      const codes: string[] = body.recoveryCodes;
      expect(codes).toHaveLength(10);
      for (const code of codes) expect(code).toMatch(RECOVERY_CODE);
      expect(new Set(codes).size).toBe(10);

      const setCookies = response.headers.getSetCookie();
      expect(setCookies).toHaveLength(1);
      expect(setCookies[0]).toMatch(new RegExp(`^${SESSION_COOKIE.replace(".", "\\.")}=[^;]+;.*HttpOnly`, "i"));
      const rotated = sessionCookieOf(response) as string;
      expect(rotated).not.toBe(user.cookie);
      expect((await me(rotated)).status).toBe(200);
      for (const cookie of [user.cookie, ...others]) expect((await me(cookie)).status).toBe(401);
      if (strategy === "database") expect(rawSessionIdsOf(app.dbFile, user.id)).toHaveLength(1);

      expect(await mfa.status(rotated)).toEqual({ totp: true, passkeys: 0, recoveryCodesLeft: 10 });
      const raw = rawFactorTables(app.dbFile, user.id);
      expect(raw.totp).toEqual([expect.objectContaining({ confirmed_at: app.startedAt })]);
      // Stored as keyed hashes: none of the codes, with or without its dash, is in the file.
      expect(raw.recoveryCodes).toHaveLength(10);
      for (const row of raw.recoveryCodes) expect(row.code_hash).toMatch(/^[0-9a-f]{64}$/);
      const stored = rawAllRowsText(app.dbFile) + rawDatabaseBytes(app.dbFile);
      for (const code of codes) {
        expect(stored).not.toContain(code);
        expect(stored).not.toContain(code.replace("-", ""));
      }
      await noticeTo(user.email, 1, /Two-factor authentication was turned on/);
    });

    it("once TOTP is on, answers 409 mfa_already_enabled and makes no new codes", async () => {
      const user = await mfa.totpUser(uniqueEmail(), app.startedAt);
      const before = rawFactorTables(app.dbFile, user.id);
      await expectError(
        await mfa.confirm(user.cookie, totpCode(user.secret, app.startedAt + STEP_MS)),
        409,
        "mfa_already_enabled",
      );
      expect(rawFactorTables(app.dbFile, user.id)).toEqual(before);
      expect((await me(user.cookie)).status).toBe(200);
    });
  });

  describe("GET /api/auth/mfa", () => {
    it("answers 401 without a session, and {totp:false, passkeys:0, recoveryCodesLeft:0} before any set-up", async () => {
      await expectError(await mfa.request("/api/auth/mfa"), 401, "unauthenticated");
      const user = await mfa.signedInUser(uniqueEmail());
      expect(await mfa.status(user.cookie)).toEqual({ totp: false, passkeys: 0, recoveryCodesLeft: 0 });
      // A set-up alone does not turn it on.
      await mfa.setUp(user.cookie);
      expect(await mfa.status(user.cookie)).toEqual({ totp: false, passkeys: 0, recoveryCodesLeft: 0 });
    });
  });

  describe("POST /api/auth/mfa/recovery-codes", () => {
    const regenerate = (cookie: string, body: unknown) =>
      mfa.request("/api/auth/mfa/recovery-codes", { method: "POST", json: body, cookie });

    it("needs the password: 403 without it, 400 incorrect_password with a wrong one; the codes stay", async () => {
      const user = await mfa.totpUser(uniqueEmail(), app.startedAt);
      const before = rawFactorTables(app.dbFile, user.id);
      await expectError(await regenerate(user.cookie, {}), 403, "reauthentication_required");
      const error = await expectError(await regenerate(user.cookie, { password: "not it" }), 400, "invalid_input");
      expect(error.fields.password?.code).toBe("incorrect_password");
      expect(rawFactorTables(app.dbFile, user.id)).toEqual(before);
    });

    it("answers 10 new codes; the old ones stop working, the new ones work; a notice is mailed", async () => {
      const user = await mfa.totpUser(uniqueEmail(), app.startedAt);
      const response = await regenerate(user.cookie, { password: PASSWORD });
      expect(response.status).toBe(200);
      const { recoveryCodes } = await response.json();
      expect(recoveryCodes).toHaveLength(10);
      for (const code of recoveryCodes) expect(code).toMatch(RECOVERY_CODE);
      expect(recoveryCodes.filter((code: string) => user.recoveryCodes.includes(code))).toEqual([]);
      expect(rawFactorTables(app.dbFile, user.id).recoveryCodes).toHaveLength(10);
      await noticeTo(user.email, 2, /New recovery codes were made/);

      const pending = await mfa.pendingLogIn(user.email);
      for (const old of user.recoveryCodes.slice(0, 3)) {
        await expectError(await mfa.verify(pending, { recoveryCode: old }), 401, "invalid_code");
      }
      const cookie = await mfa.logInWith(user.email, { recoveryCode: recoveryCodes[0] });
      expect((await mfa.status(cookie)).recoveryCodesLeft).toBe(9);
    });

    it("answers 409 mfa_not_enabled while TOTP is off", async () => {
      const user = await mfa.signedInUser(uniqueEmail());
      await expectError(await regenerate(user.cookie, { password: PASSWORD }), 409, "mfa_not_enabled");
      expect(rawFactorTables(app.dbFile, user.id).recoveryCodes).toEqual([]);
    });
  });

  describe("POST /api/auth/mfa/totp/disable", () => {
    const disable = (cookie: string, body: unknown) =>
      mfa.request("/api/auth/mfa/totp/disable", { method: "POST", json: body, cookie });

    it("needs the password: 403 without it, 400 incorrect_password with a wrong one; TOTP stays on", async () => {
      const user = await mfa.totpUser(uniqueEmail(), app.startedAt);
      const before = rawFactorTables(app.dbFile, user.id);
      await expectError(await disable(user.cookie, {}), 403, "reauthentication_required");
      const error = await expectError(await disable(user.cookie, { password: "not it" }), 400, "invalid_input");
      expect(error.fields.password?.code).toBe("incorrect_password");
      expect(rawFactorTables(app.dbFile, user.id)).toEqual(before);
      expect((await mfa.status(user.cookie)).totp).toBe(true);
    });

    it("turns TOTP off and deletes the codes: a pending log-in can no longer be finished, the next log-in is one step, a notice is mailed", async () => {
      const user = await mfa.totpUser(uniqueEmail(), app.startedAt);
      // Made before the change: its answers must stop working with it.
      const pending = await mfa.pendingLogIn(user.email);
      const response = await disable(user.cookie, { password: PASSWORD });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ ok: true });
      expect(await mfa.status(user.cookie)).toEqual({ totp: false, passkeys: 0, recoveryCodesLeft: 0 });
      const raw = rawFactorTables(app.dbFile, user.id);
      expect(raw.totp).toEqual([]);
      expect(raw.recoveryCodes).toEqual([]);
      await noticeTo(user.email, 2, /Two-factor authentication was turned off/);

      app.setClock(app.startedAt + STEP_MS);
      await expectError(await mfa.verify(pending, { recoveryCode: user.recoveryCodes[0] }), 401, "invalid_code");
      await expectError(
        await mfa.verify(pending, { code: totpCode(user.secret, app.startedAt + STEP_MS) }),
        401,
        "invalid_code",
      );
      const loggedIn = await mfa.logIn(user.email);
      expect(loggedIn.status).toBe(200);
      expect(sessionCookieOf(loggedIn)).toBeTruthy();

      await expectError(await disable(user.cookie, { password: PASSWORD }), 409, "mfa_not_enabled");
    });
  });

  describe("other account changes", () => {
    it("a password reset of a verified address keeps TOTP and the codes; the new password still asks for the second step", async () => {
      const user = await mfa.totpUser(uniqueEmail(), app.startedAt);
      await app.store.updateUser(user.id, { emailVerifiedAt: new Date(app.startedAt) });
      const pendingBefore = await mfa.pendingLogIn(user.email);
      expect((await mfa.request("/api/auth/password-reset/request", { json: { email: user.email } })).status).toBe(202);
      // Mail 1 was the notice that TOTP was turned on.
      const token = tokenFromLink(await nthMailTo(smtp, user.email, 2), app.origin, "/reset-password");
      const before = rawFactorTables(app.dbFile, user.id);
      const reset = await mfa.request("/api/auth/password-reset/confirm", { json: { token, password: NEW_PASSWORD } });
      expect(reset.status).toBe(200);

      const after = rawFactorTables(app.dbFile, user.id);
      expect(after.totp).toEqual(before.totp);
      expect(after.recoveryCodes).toEqual(before.recoveryCodes);
      // A reset ends every sign-in under way, the half-finished one too.
      await expectError(
        await mfa.verify(pendingBefore, { recoveryCode: user.recoveryCodes[0] }),
        401,
        "mfa_pending_expired",
      );
      await expectError(await mfa.logIn(user.email), 401, "invalid_credentials");
      const later = app.startedAt + STEP_MS;
      app.setClock(later);
      const pending = await mfa.pendingLogIn(user.email, NEW_PASSWORD);
      const verified = await mfa.verify(pending, { code: totpCode(user.secret, later) });
      expect(verified.status).toBe(200);
      expect(await mfa.status(sessionCookieOf(verified) as string)).toEqual({
        totp: true,
        passkeys: 0,
        recoveryCodesLeft: 10,
      });
    });

    it("a password reset of an address never verified takes the account back: TOTP and the codes are gone (someone else may have set them up)", async () => {
      const user = await mfa.totpUser(uniqueEmail(), app.startedAt);
      expect((await mfa.request("/api/auth/password-reset/request", { json: { email: user.email } })).status).toBe(202);
      const token = tokenFromLink(await nthMailTo(smtp, user.email, 2), app.origin, "/reset-password");
      const reset = await mfa.request("/api/auth/password-reset/confirm", { json: { token, password: NEW_PASSWORD } });
      expect(reset.status).toBe(200);
      const after = rawFactorTables(app.dbFile, user.id);
      expect(after.totp).toEqual([]);
      expect(after.recoveryCodes).toEqual([]);
      // The owner of the mailbox signs in with the new password alone.
      const loggedIn = await mfa.logIn(user.email, NEW_PASSWORD);
      expect(loggedIn.status).toBe(200);
      expect(sessionCookieOf(loggedIn)).toBeTruthy();
    });

    it("deleting the account removes its TOTP, recovery-code and pending log-in rows", async () => {
      const user = await mfa.totpUser(uniqueEmail(), app.startedAt);
      await mfa.pendingLogIn(user.email);
      const before = rawFactorTables(app.dbFile, user.id);
      expect([before.totp.length, before.recoveryCodes.length, before.challenges.length]).toEqual([1, 10, 1]);

      const deleted = await mfa.request("/api/auth/account", {
        method: "DELETE",
        json: { password: PASSWORD },
        cookie: user.cookie,
      });
      expect(deleted.status).toBe(200);
      expect(rawFactorTables(app.dbFile, user.id)).toEqual({
        totp: [],
        recoveryCodes: [],
        passkeys: [],
        challenges: [],
      });
      await expectError(await mfa.logIn(user.email), 401, "invalid_credentials");
    });
  });
});

describe("gatehouse users mfa-reset", () => {
  const app = useTestServer("database");
  const uniqueEmail = uniqueEmails("mfa-reset", "cli");
  const mfa = mfaClient(app);
  let dir: string;

  beforeAll(() => {
    requireBuiltCli();
    dir = tempFolder();
  });
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The built CLI on the test server's own SQLite file, from an empty folder. */
  const cli = (...args: string[]) => runCli([...args, "--database-url", `file:${app.dbFile}`], { cwd: dir });

  it("removes TOTP and the recovery codes, says so, and the user then signs in with the password alone", async () => {
    const user = await mfa.totpUser(uniqueEmail(), app.startedAt);
    const pending = await mfa.pendingLogIn(user.email);

    const run = await cli("users", "mfa-reset", "--email", user.email.toUpperCase());
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(
      `Removed from ${user.email}: the authenticator app (TOTP), 10 recovery codes. They can sign in with their password alone now.\n`,
    );
    expect(rawFactorTables(app.dbFile, user.id)).toEqual({ totp: [], recoveryCodes: [], passkeys: [], challenges: [] });
    // The sign-in that was waiting for the second step is gone with the factors.
    await expectError(await mfa.verify(pending, { recoveryCode: user.recoveryCodes[0] }), 401, "mfa_pending_expired");
    const loggedIn = await mfa.logIn(user.email);
    expect(loggedIn.status).toBe(200);
    expect((await loggedIn.json()).user.email).toBe(user.email);

    const again = await cli("users", "mfa-reset", "--email", user.email);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe(`${user.email} had no second factor or passkey: nothing removed\n`);
  });

  it("an unknown email exits non-zero and removes nothing", async () => {
    const user = await mfa.totpUser(uniqueEmail(), app.startedAt);
    const before = rawMfaTables(app.dbFile);
    const run = await cli("users", "mfa-reset", "--email", uniqueEmail());
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("No user with email");
    expect(rawMfaTables(app.dbFile)).toEqual(before);
    expect((await mfa.logIn(user.email)).status).toBe(403);
  });

  it("without --email exits 2 with the usage", async () => {
    const run = await cli("users", "mfa-reset");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Missing --email");
  });
});

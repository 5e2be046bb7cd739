/**
 * The email routes against hostile and broken input, and with mail that cannot be sent: every refusal is a
 * 4xx (or 503) JSON answer, never a 500, and a raw read of the SQLite file shows that nothing changed.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { createSmtpMailer } from "../src/mail/smtp.js";
import { PASSWORD } from "./support/credentials.js";
import {
  apiRequest,
  expectError,
  sessionCookieHeader,
  sessionCookieOf,
  signUpViaApi,
  uniqueEmails,
  useTestServer,
} from "./support/http-server.js";
import {
  closedPort,
  expectNoFurtherMail,
  nthMailTo,
  rawEmailTables,
  smtpMailerFor,
  switchableMailer,
  TEST_FROM,
  tokenFromLink,
} from "./support/raw-email.js";
import { startSmtpServer } from "./support/smtp.js";
import { rawUserByEmail } from "./support/temp-sqlite.js";

const smtp = await startSmtpServer();
afterAll(() => smtp.close());

const NEW_PASSWORD = "a brand new passphrase";

/** The five routes the email flows added; `signedIn` ones need the session cookie. */
const ROUTES = [
  { path: "/api/auth/verify-email", signedIn: false },
  { path: "/api/auth/verify-email/request", signedIn: true },
  { path: "/api/auth/password-reset/request", signedIn: false },
  { path: "/api/auth/password-reset/confirm", signedIn: false },
  { path: "/api/auth/email-change", signedIn: true },
] as const;

/** A refusal: a 4xx status, a JSON error body with a code (one of `codes`, when given), and no cookie. */
async function expectRefused(response: Response, label: string, codes?: readonly string[]): Promise<string> {
  expect(response.status, label).toBeGreaterThanOrEqual(400);
  expect(response.status, label).toBeLessThan(500);
  expect(response.headers.get("content-type"), label).toMatch(/^application\/json/);
  const body = await response.json();
  expect(typeof body.error?.code, label).toBe("string");
  if (codes) expect(codes, `${label}: ${body.error.code}`).toContain(body.error.code);
  expect(response.headers.getSetCookie(), label).toEqual([]);
  return body.error.code;
}

describe.each(["database", "stateless"] as const)("bad input on the email routes (%s sessions)", (strategy) => {
  const app = useTestServer(strategy, { email: { mailer: smtpMailerFor(smtp) } });
  const uniqueEmail = uniqueEmails("badinput", strategy);

  /**
   * A signed-up user with a verification link and a reset link both pending. Bad requests carry these real
   * tokens wherever they could, so that using one up by mistake would show.
   */
  async function pendingUser() {
    const { email, cookie } = await signUpViaApi(app, uniqueEmail());
    const verifyToken = tokenFromLink(await nthMailTo(smtp, email, 1), app.origin, "/verify-email");
    expect((await apiRequest(app, "/api/auth/password-reset/request", { json: { email } })).status).toBe(202);
    const resetToken = tokenFromLink(await nthMailTo(smtp, email, 2), app.origin, "/reset-password");
    return { email, cookie, verifyToken, resetToken };
  }

  /** After the bad requests: nothing changed, nothing was mailed, and both pending links still work. */
  async function expectUntouched(
    user: Awaited<ReturnType<typeof pendingUser>>,
    before: ReturnType<typeof rawEmailTables>,
  ) {
    expect(rawEmailTables(app.dbFile)).toEqual(before);
    await expectNoFurtherMail(smtp, user.email, 2, async () => {
      const sentinel = await signUpViaApi(app, uniqueEmail());
      return { address: sentinel.email, n: 1 };
    });
    expect((await apiRequest(app, "/api/auth/verify-email", { json: { token: user.verifyToken } })).status).toBe(200);
    const reset = await apiRequest(app, "/api/auth/password-reset/confirm", {
      json: { token: user.resetToken, password: NEW_PASSWORD },
    });
    expect(reset.status).toBe(200);
  }

  function post(
    path: string,
    body: BodyInit | undefined,
    headers: Record<string, string>,
    cookie?: string,
  ): Promise<Response> {
    return fetch(`${app.url}${path}`, {
      method: "POST",
      headers: { ...headers, ...(cookie !== undefined && { Cookie: sessionCookieHeader(cookie) }) },
      body,
      redirect: "manual",
      ...(body instanceof ReadableStream && { duplex: "half" }),
    } as RequestInit);
  }

  const postJson = (path: string, text: string, cookie: string) =>
    post(path, text, { Origin: app.origin, "Content-Type": "application/json" }, cookie);

  it("wrong content types: 415 unsupported_media_type on every route", async () => {
    const user = await pendingUser();
    const before = rawEmailTables(app.dbFile);
    const body = JSON.stringify({ token: user.verifyToken, email: user.email, password: PASSWORD });
    for (const { path } of ROUTES) {
      for (const type of [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonx",
        "application/xml",
      ]) {
        await expectRefused(
          await post(path, body, { Origin: app.origin, "Content-Type": type }, user.cookie),
          `${path} ${type}`,
          ["unsupported_media_type"],
        );
      }
      await expectRefused(await post(path, body, { Origin: app.origin }, user.cookie), `${path} no type`, [
        "unsupported_media_type",
      ]);
    }
    await expectUntouched(user, before);
  });

  it("malformed JSON: 400 invalid_json on every route", async () => {
    const user = await pendingUser();
    const before = rawEmailTables(app.dbFile);
    for (const { path } of ROUTES) {
      for (const text of [
        "{",
        `{"token": "${user.verifyToken}",}`,
        `{'token':'${user.verifyToken}'}`,
        "nul",
        "\u0000",
        '{"token":"\\x41"}',
        "{}{}",
      ]) {
        await expectRefused(await postJson(path, text, user.cookie), `${path} ${JSON.stringify(text)}`, [
          "invalid_json",
        ]);
      }
    }
    await expectUntouched(user, before);
  });

  it("bodies over 16 KiB: 413 payload_too_large on every route, with a Content-Length or sent chunked", async () => {
    const user = await pendingUser();
    const before = rawEmailTables(app.dbFile);
    const huge = JSON.stringify({
      token: user.verifyToken,
      email: user.email,
      password: PASSWORD,
      pad: "x".repeat(20 * 1024),
    });
    for (const { path } of ROUTES) {
      await expectRefused(await postJson(path, huge, user.cookie), `${path} sized`, ["payload_too_large"]);
      const chunk = new TextEncoder().encode(" ".repeat(1024));
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 20) controller.enqueue(chunk);
          else controller.close();
        },
      });
      await expectRefused(
        await post(path, stream, { Origin: app.origin, "Content-Type": "application/json" }, user.cookie),
        `${path} chunked`,
        ["payload_too_large"],
      );
    }
    await expectUntouched(user, before);
  });

  it("requests from another origin, or with no origin at all: 403 csrf on every route", async () => {
    const user = await pendingUser();
    const before = rawEmailTables(app.dbFile);
    const body = JSON.stringify({ token: user.verifyToken, email: uniqueEmail(), password: PASSWORD });
    for (const { path } of ROUTES) {
      const origins: Array<Record<string, string>> = [
        { Origin: "https://evil.example" },
        { Origin: "null" },
        { "Sec-Fetch-Site": "cross-site" },
        {},
      ];
      for (const headers of origins) {
        await expectRefused(
          await post(path, body, { ...headers, "Content-Type": "application/json" }, user.cookie),
          `${path} ${JSON.stringify(headers)}`,
          ["csrf"],
        );
      }
    }
    await expectUntouched(user, before);
  });

  it("JSON that is not an object (arrays, strings, numbers, null, an empty body): 400 invalid_input", async () => {
    const user = await pendingUser();
    const before = rawEmailTables(app.dbFile);
    const wrapped = { token: user.resetToken, email: user.email, password: NEW_PASSWORD };
    // verify-email/request reads no body at all, so only the routes that take fields are asked.
    for (const { path } of ROUTES.filter((route) => route.path !== "/api/auth/verify-email/request")) {
      for (const text of [
        JSON.stringify([wrapped]),
        "[]",
        JSON.stringify(user.verifyToken),
        "42",
        "null",
        "true",
        "",
        "  ",
      ]) {
        await expectRefused(await postJson(path, text, user.cookie), `${path} ${text.slice(0, 20)}`, ["invalid_input"]);
      }
    }
    await expectUntouched(user, before);
  });

  it("body bytes that are not UTF-8: a 4xx, never a 500", async () => {
    const user = await pendingUser();
    const before = rawEmailTables(app.dbFile);
    const bytes = Buffer.concat([
      Buffer.from('{"token":"'),
      Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]),
      Buffer.from('"}'),
    ]);
    for (const { path } of ROUTES.filter((route) => route.path !== "/api/auth/verify-email/request")) {
      await expectRefused(
        await post(path, bytes, { Origin: app.origin, "Content-Type": "application/json" }, user.cookie),
        path,
      );
    }
    await expectUntouched(user, before);
  });

  /** Token values that are missing, of the wrong type, oversized, or near misses of a real token in odd Unicode. */
  function oddTokens(real: string): unknown[] {
    return [
      "",
      " ",
      42,
      null,
      true,
      [real],
      { token: real },
      `${real} `,
      ` ${real}`,
      `${real}\n`,
      `${real}\u200b`,
      `\u202e${real}`,
      `${real.slice(0, 31)}\u0000`,
      `\ud800${real.slice(1)}`,
      real.slice(0, 31),
      `${real}A`,
      real.normalize("NFKC").replace(/[A-Za-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)),
      "🔑".repeat(16),
      "A".repeat(10_000),
      "%41".repeat(32),
      "../".repeat(11).slice(0, 32),
    ];
  }

  it("POST /api/auth/verify-email: missing, wrong-typed, oversized and odd-Unicode tokens and codes answer 400", async () => {
    const user = await pendingUser();
    const before = rawEmailTables(app.dbFile);
    const send = (json: unknown) => apiRequest(app, "/api/auth/verify-email", { json, cookie: user.cookie });
    for (const body of [
      {},
      { tokens: user.verifyToken },
      { Token: user.verifyToken },
      JSON.parse(`{"__proto__":{"token":"${user.verifyToken}"}}`),
    ]) {
      await expectRefused(await send(body), JSON.stringify(body), ["invalid_input"]);
    }
    for (const token of oddTokens(user.verifyToken)) {
      await expectRefused(await send({ token }), JSON.stringify(token).slice(0, 60), ["invalid_token"]);
    }
    // The reset token is a real token, but not one for this route.
    await expectRefused(await send({ token: user.resetToken }), "reset token", ["invalid_token"]);
    for (const code of [
      "1234567",
      "123456789",
      "abcdefgh",
      "１２３４５６７８",
      12345678,
      null,
      "",
      "1".repeat(10_000),
    ]) {
      await expectRefused(await send({ code, email: user.email }), `code ${JSON.stringify(code).slice(0, 30)}`, [
        "invalid_input",
      ]);
    }
    await expectUntouched(user, before);
  });

  it("POST /api/auth/password-reset/request: missing, wrong-typed, oversized and odd-Unicode addresses answer 400 naming email", async () => {
    const user = await pendingUser();
    const before = rawEmailTables(app.dbFile);
    const [local, domain] = user.email.split("@") as [string, string];
    for (const email of [
      undefined,
      "",
      "   ",
      42,
      null,
      [user.email],
      { email: user.email },
      "not-an-email",
      `${local}@${domain.split(".")[0]}`,
      `${local}＠${domain}`,
      `${local}@${domain}\u0000`,
      `${local}\u200b@${domain}`,
      `\ud800${user.email}`,
      `${user.email}, other@example.com`,
      `"${local}"@${domain}`,
      `${"x".repeat(250)}@${domain}`,
      "x".repeat(10_000),
    ]) {
      const response = await apiRequest(app, "/api/auth/password-reset/request", {
        json: email === undefined ? {} : { email },
      });
      expect(
        await expectRefused(response.clone(), JSON.stringify(email)?.slice(0, 60) ?? "missing", ["invalid_input"]),
      ).toBe("invalid_input");
      expect(Object.keys((await response.json()).error.fields)).toEqual(["email"]);
    }
    await expectUntouched(user, before);
  });

  it("POST /api/auth/password-reset/confirm: bad tokens answer 400 invalid_token, bad passwords 400 naming password", async () => {
    const user = await pendingUser();
    const before = rawEmailTables(app.dbFile);
    const send = (json: unknown) => apiRequest(app, "/api/auth/password-reset/confirm", { json });
    await expectRefused(await send({ password: NEW_PASSWORD }), "no token", ["invalid_token"]);
    for (const token of oddTokens(user.resetToken)) {
      await expectRefused(await send({ token, password: NEW_PASSWORD }), JSON.stringify(token).slice(0, 60), [
        "invalid_token",
      ]);
    }
    await expectRefused(await send({ token: user.verifyToken, password: NEW_PASSWORD }), "verify token", [
      "invalid_token",
    ]);
    for (const password of [
      undefined,
      "",
      42,
      null,
      [NEW_PASSWORD],
      { password: NEW_PASSWORD },
      "short",
      "p".repeat(10_000),
    ]) {
      const response = await send({ token: user.resetToken, ...(password !== undefined && { password }) });
      await expectRefused(response.clone(), `password ${JSON.stringify(password)?.slice(0, 30)}`, ["invalid_input"]);
      expect(Object.keys((await response.json()).error.fields)).toEqual(["password"]);
    }
    await expectUntouched(user, before);
  });

  it("POST /api/auth/email-change: bad addresses answer 400 naming email; without a session 401", async () => {
    const user = await pendingUser();
    const before = rawEmailTables(app.dbFile);
    const send = (json: unknown, cookie: string | null = user.cookie) =>
      apiRequest(app, "/api/auth/email-change", { json, ...(cookie !== null && { cookie }) });
    const target = uniqueEmail();
    for (const email of [
      undefined,
      "",
      42,
      null,
      [target],
      "not-an-email",
      target.replace("@", "＠"),
      `${target}\u0000`,
      `\ud800${target}`,
      "x".repeat(10_000),
    ]) {
      const response = await send({ password: PASSWORD, ...(email !== undefined && { email }) });
      await expectRefused(response.clone(), JSON.stringify(email)?.slice(0, 40) ?? "missing", ["invalid_input"]);
      expect(Object.keys((await response.json()).error.fields)).toEqual(["email"]);
    }
    await expectRefused(await send({ email: target, password: PASSWORD }, null), "no session", ["unauthenticated"]);
    await expectRefused(await send({ email: target, password: PASSWORD }, "not-a-session-cookie"), "forged session", [
      "unauthenticated",
    ]);
    await expectUntouched(user, before);
    expect(smtp.to(target)).toEqual([]);
  });
});

describe("a mail server that cannot be reached", () => {
  const mailer = switchableMailer(smtpMailerFor(smtp));
  // Retries a second apart on the server's clock, which the tests move on; the sender looks every 20 ms.
  const app = useTestServer("database", {
    email: { mailer, mailDelivery: { retryDelayMs: 1000, maxRetryDelayMs: 1000, pollMs: 20 } },
  });
  const uniqueEmail = uniqueEmails("deadmail", "database");
  let consoleError: MockInstance;
  let clock = 0;

  beforeEach(async () => {
    // The failed attempts go to the log; keep the test output clean, and check they did.
    consoleError = vi.spyOn(console, "error").mockImplementation(() => undefined);
  });
  afterEach(() => {
    mailer.target = smtpMailerFor(smtp);
    consoleError.mockRestore();
  });

  async function killMail(): Promise<void> {
    mailer.target = createSmtpMailer({ url: `smtp://127.0.0.1:${await closedPort()}`, from: TEST_FROM });
  }

  /** Brings the mail server back, and the server's clock past the retries it set. */
  function reviveMail(): void {
    mailer.target = smtpMailerFor(smtp);
    clock += 60_000;
    app.setClock(app.startedAt + clock);
  }

  const failedAttempts = () =>
    consoleError.mock.calls.filter(([message]) => /^gatehouse: mail \S+ failed \(attempt/.test(String(message)));

  it("verify-email/request answers 202 as always; the new link arrives once the server is back, and only it works", async () => {
    const { email, cookie } = await signUpViaApi(app, uniqueEmail());
    const older = tokenFromLink(await nthMailTo(smtp, email, 1), app.origin, "/verify-email");
    await killMail();

    const response = await apiRequest(app, "/api/auth/verify-email/request", { method: "POST", cookie });
    expect(response.status).toBe(202);
    await vi.waitFor(() => expect(failedAttempts()).toHaveLength(1), { timeout: 10_000, interval: 20 });
    expect(smtp.to(email)).toHaveLength(1);

    reviveMail();
    const newer = tokenFromLink(await nthMailTo(smtp, email, 2), app.origin, "/verify-email");
    await expectError(
      await apiRequest(app, "/api/auth/verify-email", { json: { token: older } }),
      400,
      "invalid_token",
    );
    expect((await apiRequest(app, "/api/auth/verify-email", { json: { token: newer } })).status).toBe(200);
    expect(smtp.to(email)).toHaveLength(2);
  });

  it("sign-up, reset and email-change requests answer 201/202 as always; each failure is logged, and every mail arrives once, later", async () => {
    await killMail();
    const { email, cookie } = await signUpViaApi(app, uniqueEmail());
    expect((await apiRequest(app, "/api/auth/password-reset/request", { json: { email } })).status).toBe(202);
    const newEmail = uniqueEmail();
    const change = await apiRequest(app, "/api/auth/email-change", {
      json: { email: newEmail, password: PASSWORD },
      cookie,
    });
    expect(change.status).toBe(202);
    // The verification, the reset link, the warning to the current address and the link to the new one.
    await vi.waitFor(() => expect(failedAttempts()).toHaveLength(4), { timeout: 10_000, interval: 20 });
    expect(smtp.to(email)).toEqual([]);

    reviveMail();
    await nthMailTo(smtp, email, 3);
    await nthMailTo(smtp, newEmail, 1);
    await expectNoFurtherMail(smtp, email, 3, async () => {
      const sentinel = await signUpViaApi(app, uniqueEmail());
      return { address: sentinel.email, n: 1 };
    });
    // Retried with jitter, they come in any order.
    expect(smtp.to(email).map((mail) => mail.subject)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/verify/i),
        expect.stringMatching(/reset/i),
        expect.stringMatching(/about to change/i),
      ]),
    );
    expect(smtp.to(newEmail)).toHaveLength(1);
  });
});

describe("no mailer configured", () => {
  const app = useTestServer("database");
  const uniqueEmail = uniqueEmails("nomail", "database");

  it("reset request, verify-email/request and email-change answer 503 mail_unavailable and change nothing (raw read)", async () => {
    const response = await apiRequest(app, "/api/auth/signup", { json: { email: uniqueEmail(), password: PASSWORD } });
    expect(response.status).toBe(201);
    const cookie = sessionCookieOf(response) as string;
    const { email } = await response.json().then((body) => body.user);
    expect(rawEmailTables(app.dbFile).tokens).toEqual([]);

    const before = rawEmailTables(app.dbFile);
    for (const [route, init] of [
      ["/api/auth/password-reset/request", { json: { email } }],
      ["/api/auth/password-reset/request", { json: { email: uniqueEmail() } }],
      ["/api/auth/verify-email/request", { method: "POST", cookie }],
      ["/api/auth/email-change", { json: { email: uniqueEmail(), password: PASSWORD }, cookie }],
    ] as const) {
      const refused = await apiRequest(app, route, init);
      expect(refused.status, route).toBe(503);
      expect((await refused.json()).error.code).toBe("mail_unavailable");
    }
    expect(rawEmailTables(app.dbFile)).toEqual(before);
    expect(rawUserByEmail(app.dbFile, email)?.email_verified_at).toBeNull();
  });

  it("a malformed address is still 400 invalid_input, not 503", async () => {
    const refused = await apiRequest(app, "/api/auth/password-reset/request", { json: { email: "not-an-email" } });
    expect(refused.status).toBe(400);
    expect((await refused.json()).error.code).toBe("invalid_input");
  });
});

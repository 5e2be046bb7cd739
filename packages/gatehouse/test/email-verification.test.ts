/**
 * Email verification over real HTTP and real SMTP, for both strategies: the messages the test SMTP server
 * receives are parsed, their links followed as the verify page would (POST the token), and every outcome is
 * checked by reading the SQLite file raw. Links, codes, `requireEmailVerification`, and the limits.
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
  type TestServer,
  uniqueEmails,
  useTestServer,
} from "./support/http-server.js";
import {
  codeFrom,
  expectNoFurtherMail,
  LINK_TOKEN,
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
const HOUR = 60 * 60 * SECOND;
const DAY = 24 * HOUR;

const request = (app: TestServer, route: string, init?: ApiRequestInit) => apiRequest(app, route, init);

/** Signs up through the API and returns the new user's id and session cookie (none with requireEmailVerification). */
interface SignUpBody {
  user: { id: string; email: string; emailVerified: boolean };
  verificationRequired?: true;
}

async function signUp(
  app: TestServer,
  email: string,
): Promise<{ email: string; id: string; cookie: string | undefined; body: SignUpBody }> {
  const response = await request(app, "/api/auth/signup", { json: { email, password: PASSWORD } });
  expect(response.status).toBe(201);
  return {
    email,
    id: String(rawUserByEmail(app.dbFile, email)?.id),
    cookie: sessionCookieOf(response),
    body: await response.json(),
  };
}

/** Does what the verify page does with a link's token: POSTs it, with the session cookie if there is one. */
function verify(app: TestServer, json: unknown, cookie?: string): Promise<Response> {
  return request(app, "/api/auth/verify-email", { json, ...(cookie !== undefined && { cookie }) });
}

const verifiedAt = (app: TestServer, email: string) => rawUserByEmail(app.dbFile, email)?.email_verified_at ?? null;

describe.each(["database", "stateless"] as const)("email verification by link (%s sessions)", (strategy) => {
  const app = useTestServer(strategy, { email: { mailer: smtpMailerFor(smtp) } });
  const uniqueEmail = uniqueEmails("verify", strategy);

  afterEach(() => app.setClock(app.startedAt));

  /** A new account and the token of the link its sign-up mailed. */
  async function signedUpWithLink() {
    const user = await signUp(app, uniqueEmail());
    const mail = await nthMailTo(smtp, user.email, 1);
    return { ...user, mail, token: tokenFromLink(mail, app.origin, "/verify-email") };
  }

  it("sign-up mails <url>/verify-email?token=…; POSTing the token answers 200 with emailVerified true (raw read)", async () => {
    const user = await signedUpWithLink();
    expect(user.body.user.emailVerified).toBe(false);
    expect(user.mail.subject).toMatch(/verify your email/i);
    expect(user.mail.from).toBe("no-reply@example.com");
    expect(user.mail.text).toContain(user.email);
    expect(verifiedAt(app, user.email)).toBeNull();

    const response = await verify(app, { token: user.token });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(Object.keys(body)).toEqual(["user"]);
    expect(body.user).toMatchObject({ id: user.id, email: user.email, emailVerified: true });
    // No session came with the request, so none is started or renewed.
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(Number(verifiedAt(app, user.email))).toBe(app.startedAt);
    expect(rawTokensOf(app.dbFile, user.id)).toEqual([]);

    const me = await request(app, "/api/me", { cookie: user.cookie as string });
    expect(me.status).toBe(200);
    expect((await me.json()).user.emailVerified).toBe(true);
  });

  it("stores the token only as its SHA-256: the token from the mail is in no row and nowhere in the database file", async () => {
    const user = await signedUpWithLink();
    const rows = rawTokensOf(app.dbFile, user.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ token_hash: sha256Hex(user.token), purpose: "verify_email", email: user.email });
    expect(Number(rows[0]?.expires_at) - Number(rows[0]?.created_at)).toBe(DAY);
    expect(rawAllRowsText(app.dbFile)).not.toContain(user.token);
    expect(rawDatabaseBytes(app.dbFile)).not.toContain(user.token);
  });

  it("makes every link token 32 base64url characters (192 bits), each one different", async () => {
    const tokens = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const { token } = await signedUpWithLink();
      expect(token).toMatch(LINK_TOKEN);
      tokens.add(token);
    }
    expect(tokens.size).toBe(4);
  });

  it("with the user's session cookie: a rotated Set-Cookie; the old cookie ends, other sessions rotate at their next request", async () => {
    const user = await signedUpWithLink();
    const other = sessionCookieOf(
      await request(app, "/api/auth/login", { json: { email: user.email, password: PASSWORD } }),
    ) as string;
    const idsBefore = rawSessionIdsOf(app.dbFile, user.id);
    expect(idsBefore).toHaveLength(2);

    const response = await verify(app, { token: user.token }, user.cookie);
    expect(response.status).toBe(200);
    expect((await response.json()).user.emailVerified).toBe(true);
    const rotated = sessionCookieOf(response);
    expect(rotated).toBeTruthy();
    expect(rotated).not.toBe(user.cookie);

    const fresh = await request(app, "/api/me", { cookie: rotated as string });
    expect(fresh.status).toBe(200);
    expect((await fresh.json()).user.emailVerified).toBe(true);
    expect((await request(app, "/api/me", { cookie: user.cookie as string })).status).toBe(401);

    const otherMe = await request(app, "/api/me", { cookie: other });
    expect(otherMe.status).toBe(200);
    expect((await otherMe.json()).user.emailVerified).toBe(true);
    const otherRotated = sessionCookieOf(otherMe);
    expect(otherRotated).toBeTruthy();
    expect(otherRotated).not.toBe(other);
    // Both sessions were replaced by new records: none of the old ids is left.
    const idsAfter = rawSessionIdsOf(app.dbFile, user.id);
    expect(idsAfter).toHaveLength(2);
    expect(idsAfter.filter((id) => idsBefore.includes(id))).toEqual([]);
  });

  it("another user's session cookie is neither rotated nor verified", async () => {
    const user = await signedUpWithLink();
    const bystander = await signedUpWithLink();
    const response = await verify(app, { token: user.token }, bystander.cookie);
    expect(response.status).toBe(200);
    expect((await response.json()).user.email).toBe(user.email);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(verifiedAt(app, bystander.email)).toBeNull();
    expect((await request(app, "/api/me", { cookie: bystander.cookie as string })).status).toBe(200);
  });

  it("a used link answers 400 invalid_token and changes nothing", async () => {
    const user = await signedUpWithLink();
    expect((await verify(app, { token: user.token })).status).toBe(200);
    const before = rawEmailTables(app.dbFile);
    await expectError(await verify(app, { token: user.token }), 400, "invalid_token");
    await expectError(await verify(app, { token: user.token }, user.cookie), 400, "invalid_token");
    expect(rawEmailTables(app.dbFile)).toEqual(before);
  });

  it("the same link POSTed five times at once verifies once: one 200, four 400 invalid_token", async () => {
    const user = await signedUpWithLink();
    const responses = await Promise.all(Array.from({ length: 5 }, () => verify(app, { token: user.token })));
    expect(responses.map((response) => response.status).sort()).toEqual([200, 400, 400, 400, 400]);
    for (const response of responses.filter((r) => r.status === 400))
      expect((await response.json()).error.code).toBe("invalid_token");
    expect(verifiedAt(app, user.email)).not.toBeNull();
  });

  it("a link after 24 h + 1 s answers 400 token_expired, leaves the address unverified, and is used up", async () => {
    const user = await signedUpWithLink();
    app.setClock(app.startedAt + DAY + SECOND);
    await expectError(await verify(app, { token: user.token }), 400, "token_expired");
    expect(verifiedAt(app, user.email)).toBeNull();
    app.setClock(app.startedAt);
    await expectError(await verify(app, { token: user.token }), 400, "invalid_token");
    expect(verifiedAt(app, user.email)).toBeNull();
  });

  it("a link one second before 24 h still works", async () => {
    const user = await signedUpWithLink();
    app.setClock(app.startedAt + DAY - SECOND);
    expect((await verify(app, { token: user.token })).status).toBe(200);
    expect(Number(verifiedAt(app, user.email))).toBe(app.startedAt + DAY - SECOND);
  });

  it("POST /api/auth/verify-email/request mails a new link (202 {ok:true}) that voids the older one", async () => {
    const user = await signedUpWithLink();
    const response = await request(app, "/api/auth/verify-email/request", {
      method: "POST",
      cookie: user.cookie as string,
    });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ ok: true });
    const newer = tokenFromLink(await nthMailTo(smtp, user.email, 2), app.origin, "/verify-email");
    expect(newer).not.toBe(user.token);
    // Older links are voided once the new one is handed to the mail server, a moment after it arrives.
    await vi.waitFor(() =>
      expect(rawTokensOf(app.dbFile, user.id)).toEqual([expect.objectContaining({ token_hash: sha256Hex(newer) })]),
    );

    await expectError(await verify(app, { token: user.token }), 400, "invalid_token");
    expect(verifiedAt(app, user.email)).toBeNull();
    expect((await verify(app, { token: newer })).status).toBe(200);
    expect(verifiedAt(app, user.email)).not.toBeNull();
  });

  it("verify-email/request answers 409 already_verified once verified (no mail), and 401 without a session", async () => {
    const user = await signedUpWithLink();
    const rotated = sessionCookieOf(await verify(app, { token: user.token }, user.cookie)) as string;
    const before = rawEmailTables(app.dbFile);
    await expectError(
      await request(app, "/api/auth/verify-email/request", { method: "POST", cookie: rotated }),
      409,
      "already_verified",
    );
    await expectError(await request(app, "/api/auth/verify-email/request", { method: "POST" }), 401, "unauthenticated");
    expect(rawEmailTables(app.dbFile)).toEqual(before);
    await expectNoFurtherMail(smtp, user.email, 1, async () => {
      const sentinel = await signUp(app, uniqueEmail());
      return { address: sentinel.email, n: 1 };
    });
  });

  it("verify-email/request: 5 an hour, then 429 rate_limited with Retry-After and no mail; only the newest link works", async () => {
    const user = await signedUpWithLink();
    const tokens = [user.token];
    for (let i = 0; i < 5; i++) {
      const response = await request(app, "/api/auth/verify-email/request", {
        method: "POST",
        cookie: user.cookie as string,
      });
      expect(response.status, `request ${i + 1}`).toBe(202);
      tokens.push(tokenFromLink(await nthMailTo(smtp, user.email, i + 2), app.origin, "/verify-email"));
    }
    const refused = await request(app, "/api/auth/verify-email/request", {
      method: "POST",
      cookie: user.cookie as string,
    });
    expect(refused.status).toBe(429);
    expect((await refused.json()).error.code).toBe("rate_limited");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(refused.headers.get("retry-after"))).toBeLessThanOrEqual(3600);
    expect(smtp.to(user.email)).toHaveLength(6);

    for (const token of tokens.slice(0, -1)) await expectError(await verify(app, { token }), 400, "invalid_token");
    expect((await verify(app, { token: tokens.at(-1) })).status).toBe(200);
  });

  it("builds the link on the configured origin, whatever Host and X-Forwarded-Host the request forges", async () => {
    const email = uniqueEmail();
    const forged = {
      Host: "evil.example",
      "X-Forwarded-Host": "evil.example",
      "X-Forwarded-Proto": "https",
      Forwarded: "host=evil.example;proto=https",
      Origin: app.origin,
      "Content-Type": "application/json",
    };
    const signedUp = await rawRequest(app, {
      method: "POST",
      path: "/api/auth/signup",
      headers: forged,
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    expect(signedUp.status).toBe(201);
    const first = await nthMailTo(smtp, email, 1);
    tokenFromLink(first, app.origin, "/verify-email");
    expect(first.text + first.html).not.toContain("evil.example");

    const cookie = String(signedUp.headers["set-cookie"]?.[0]).split(";", 1)[0] as string;
    const again = await rawRequest(app, {
      method: "POST",
      path: "/api/auth/verify-email/request",
      headers: { ...forged, Cookie: cookie },
    });
    expect(again.status).toBe(202);
    const second = await nthMailTo(smtp, email, 2);
    const token = tokenFromLink(second, app.origin, "/verify-email");
    expect(second.text + second.html).not.toContain("evil.example");
    expect((await verify(app, { token })).status).toBe(200);
  });
});

describe.each(["database", "stateless"] as const)("requireEmailVerification (%s sessions)", (strategy) => {
  const app = useTestServer(strategy, { email: { mailer: smtpMailerFor(smtp), requireEmailVerification: true } });
  const uniqueEmail = uniqueEmails("require", strategy);
  const logIn = (email: string, password = PASSWORD) => request(app, "/api/auth/login", { json: { email, password } });

  it("sign-up answers 201 {user, verificationRequired:true} with no session cookie and no session row", async () => {
    const user = await signUp(app, uniqueEmail());
    expect(user.body).toEqual({
      user: expect.objectContaining({ email: user.email, emailVerified: false }),
      verificationRequired: true,
    });
    expect(user.cookie).toBeUndefined();
    expect(rawSessionIdsOf(app.dbFile, user.id)).toEqual([]);
    tokenFromLink(await nthMailTo(smtp, user.email, 1), app.origin, "/verify-email");
  });

  it("unverified: right password 403 email_unverified with a fresh link, wrong password and unknown email 401 and no mail", async () => {
    const user = await signUp(app, uniqueEmail());
    await nthMailTo(smtp, user.email, 1);

    const wrong = await logIn(user.email, "not the password at all");
    const unknownEmail = uniqueEmail();
    const unknown = await logIn(unknownEmail);
    await expectError(wrong.clone(), 401, "invalid_credentials");
    await expectError(unknown.clone(), 401, "invalid_credentials");
    expect(await wrong.text()).toBe(await unknown.text());

    await expectError(await logIn(user.email), 403, "email_unverified");
    expect(rawSessionIdsOf(app.dbFile, user.id)).toEqual([]);
    const token = tokenFromLink(await nthMailTo(smtp, user.email, 2), app.origin, "/verify-email");
    // Only the right password mailed a link: two messages in all, none for the unknown address.
    await expectNoFurtherMail(smtp, user.email, 2, async () => {
      const sentinel = await signUp(app, uniqueEmail());
      return { address: sentinel.email, n: 1 };
    });
    expect(smtp.to(unknownEmail)).toEqual([]);

    const verified = await verify(app, { token });
    expect(verified.status).toBe(200);
    expect(verified.headers.getSetCookie()).toEqual([]);
    const loggedIn = await logIn(user.email);
    expect(loggedIn.status).toBe(200);
    expect(sessionCookieOf(loggedIn)).toBeTruthy();
    expect((await loggedIn.json()).user.emailVerified).toBe(true);
  });

  it("a password reset proves the address too: the unverified account can log in after it", async () => {
    const user = await signUp(app, uniqueEmail());
    await nthMailTo(smtp, user.email, 1);
    expect((await request(app, "/api/auth/password-reset/request", { json: { email: user.email } })).status).toBe(202);
    const token = tokenFromLink(await nthMailTo(smtp, user.email, 2), app.origin, "/reset-password");
    const reset = await request(app, "/api/auth/password-reset/confirm", {
      json: { token, password: "a brand new passphrase" },
    });
    expect(reset.status).toBe(200);
    expect(reset.headers.getSetCookie()).toEqual([]);
    expect(verifiedAt(app, user.email)).not.toBeNull();
    expect((await logIn(user.email, "a brand new passphrase")).status).toBe(200);
  });
});

describe("email verification by code", () => {
  const app = useTestServer("database", {
    email: { mailer: smtpMailerFor(smtp), emailVerification: { method: "code" } },
  });
  const uniqueEmail = uniqueEmails("code", "database");

  afterEach(() => app.setClock(app.startedAt));

  async function signedUpWithCode() {
    const user = await signUp(app, uniqueEmail());
    const mail = await nthMailTo(smtp, user.email, 1);
    return { ...user, mail, code: codeFrom(mail) };
  }

  /** Eight digits that are not `code`. */
  const wrongCode = (code: string, i: number) => String((Number(code) + 1 + i) % 100_000_000).padStart(8, "0");

  it("mails an 8-digit code and no link; {code, email} answers 200 with emailVerified true; the code is stored hashed", async () => {
    const user = await signedUpWithCode();
    const rows = rawTokensOf(app.dbFile, user.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.values(rows[0] ?? {}).map(String)).not.toContain(user.code);

    const response = await verify(app, { code: user.code, email: user.email.toUpperCase() });
    expect(response.status).toBe(200);
    expect((await response.json()).user).toMatchObject({ email: user.email, emailVerified: true });
    expect(verifiedAt(app, user.email)).not.toBeNull();
    await expectError(await verify(app, { code: user.code, email: user.email }), 400, "invalid_token");
  });

  it("accepts the code with a space or a dash in it, and without email when signed in (rotating the cookie)", async () => {
    const spaced = await signedUpWithCode();
    const response = await verify(app, { code: `${spaced.code.slice(0, 4)} ${spaced.code.slice(4)}` }, spaced.cookie);
    expect(response.status).toBe(200);
    const rotated = sessionCookieOf(response);
    expect(rotated).toBeTruthy();
    expect(rotated).not.toBe(spaced.cookie);

    const dashed = await signedUpWithCode();
    expect(
      (await verify(app, { code: `${dashed.code.slice(0, 4)}-${dashed.code.slice(4)}`, email: dashed.email })).status,
    ).toBe(200);
  });

  it("a code is bound to its user: with another user's address it is 400 invalid_token, like an unknown address", async () => {
    const a = await signedUpWithCode();
    const b = await signedUpWithCode();
    const crossed = await verify(app, { code: a.code, email: b.email });
    const unknown = await verify(app, { code: a.code, email: uniqueEmail() });
    expect(crossed.status).toBe(400);
    expect(unknown.status).toBe(400);
    expect(await crossed.text()).toBe(await unknown.text());
    expect(verifiedAt(app, b.email)).toBeNull();
    expect((await verify(app, { code: a.code, email: a.email })).status).toBe(200);
    expect((await verify(app, { code: b.code, email: b.email })).status).toBe(200);
  });

  it("10 wrong codes an hour per address; then even the right one is 429 and the address stays unverified", async () => {
    const user = await signedUpWithCode();
    for (let i = 0; i < 10; i++)
      await expectError(await verify(app, { code: wrongCode(user.code, i), email: user.email }), 400, "invalid_token");
    const refused = await verify(app, { code: user.code, email: user.email });
    expect(refused.status).toBe(429);
    expect((await refused.json()).error.code).toBe("rate_limited");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(verifiedAt(app, user.email)).toBeNull();
    // The window passes, and the code (still valid, not used up by the refusals) works.
    app.setClock(app.startedAt + HOUR + SECOND);
    expect((await verify(app, { code: user.code, email: user.email })).status).toBe(200);
  });

  it("a code after 24 h + 1 s answers 400 token_expired", async () => {
    const user = await signedUpWithCode();
    app.setClock(app.startedAt + DAY + SECOND);
    await expectError(await verify(app, { code: user.code, email: user.email }), 400, "token_expired");
    expect(verifiedAt(app, user.email)).toBeNull();
  });
});

describe("codes where links are sent, and codes from one address", () => {
  const links = useTestServer("database", { email: { mailer: smtpMailerFor(smtp) } });
  const codes = useTestServer("database", {
    email: { mailer: smtpMailerFor(smtp), emailVerification: { method: "code" } },
    rateLimits: { ...SUITE_RATE_LIMITS, verificationCodePerIp: { max: 5, windowSeconds: 3600 } },
  });

  const rateLimitRows = (app: TestServer) =>
    querySqliteFile(
      app.dbFile,
      (db) => db.prepare("SELECT key FROM gatehouse_rate_limits ORDER BY key").all() as Array<{ key: string }>,
    );

  it("with links, any {code} answers 400 invalid_token and leaves no counter behind", async () => {
    await links.store.migrate();
    const before = rateLimitRows(links);
    for (let i = 0; i < 20; i++) {
      await expectError(
        await verify(links, { code: "12345678", email: `nobody${i}@example.com` }),
        400,
        "invalid_token",
      );
    }
    expect(rateLimitRows(links)).toEqual(before);
  });

  it("with codes, one address is refused after its own limit, however many addresses it tries", async () => {
    for (let i = 0; i < 5; i++) {
      await expectError(
        await verify(codes, { code: "12345678", email: `random${i}@example.com` }),
        400,
        "invalid_token",
      );
    }
    await expectError(await verify(codes, { code: "12345678", email: "random-next@example.com" }), 429, "rate_limited");
    // Refused before a counter of its own was made for the new address.
    expect(rateLimitRows(codes).filter(({ key }) => key.startsWith("verify-code:"))).toHaveLength(5);
  });
});

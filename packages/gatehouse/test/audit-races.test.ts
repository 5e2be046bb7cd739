/**
 * Under concurrent requests, on a SQLite file and on PostgreSQL, one change makes one event: of several
 * second steps with the same recovery code, one uses it (one `recovery_code.use`, one `login.success`); of
 * several log-outs with one cookie, one ends the session (one `logout`); of several removals of one passkey,
 * one removes it (one `passkey.remove`). The event is written by the call that made the change, in its
 * transaction, never by the callers that found it made.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AuditBackend,
  type AuditServer,
  auditBackends,
  CLIENT_HEADERS,
  startAuditServer,
} from "./support/audit.js";
import { PASSWORD } from "./support/credentials.js";
import {
  type ApiRequestInit,
  apiRequest,
  createBrowser,
  SESSION_COOKIE,
  sessionCookieOf,
  uniqueEmails,
} from "./support/http-server.js";
import { PENDING_COOKIE, totpCode } from "./support/totp.js";
import { createSoftwareAuthenticator } from "./support/webauthn.js";

const backends = await auditBackends();
const RACERS = 6;

describe.each(backends)("one change, one event, under concurrency ($name)", ({ name, open }) => {
  let backend: AuditBackend;
  let app: AuditServer;
  const uniqueEmail = uniqueEmails("race", name.toLowerCase());
  const p = (index: number) => (backend.name === "SQLite" ? "?" : `$${index}`);

  beforeAll(async () => {
    backend = await open();
    app = await startAuditServer(backend.store, { strategy: "database" });
  });
  afterAll(async () => {
    await app?.close();
    await backend?.close();
  });

  const request = (route: string, init: ApiRequestInit = {}) =>
    apiRequest(app, route, { ...init, headers: { ...CLIENT_HEADERS, ...init.headers } });
  const typesOf = async (userId: string) =>
    (await backend.rows(`SELECT type FROM gatehouse_audit WHERE user_id = ${p(1)}`, [userId])).map((row) => row.type);
  const count = (types: unknown[], type: string) => types.filter((each) => each === type).length;

  async function signedUp() {
    const email = uniqueEmail();
    const response = await request("/api/auth/signup", { json: { email, password: PASSWORD } });
    expect(response.status).toBe(201);
    return { id: (await response.json()).user.id as string, email, cookie: sessionCookieOf(response) as string };
  }

  it("the same recovery code in concurrent second steps: one log-in, one recovery_code.use", async () => {
    const { id, email, cookie } = await signedUp();
    const { secret } = await (
      await request("/api/auth/mfa/totp/setup", { cookie, json: { password: PASSWORD } })
    ).json();
    const confirmed = await request("/api/auth/mfa/totp/confirm", {
      cookie,
      json: { code: totpCode(secret, app.startedAt) },
    });
    const [recoveryCode] = (await confirmed.json()).recoveryCodes as [string];
    const pendings = await Promise.all(
      Array.from({ length: RACERS }, async () => {
        const response = await request("/api/auth/login", { json: { email, password: PASSWORD } });
        expect(response.status).toBe(403);
        const line = response.headers.getSetCookie().find((each) => each.startsWith(`${PENDING_COOKIE}=`)) as string;
        return (line.split(";", 1)[0] as string).slice(PENDING_COOKIE.length + 1);
      }),
    );
    const answers = await Promise.all(
      pendings.map((pending) =>
        request("/api/auth/mfa/verify", {
          json: { recoveryCode },
          headers: { Cookie: `${PENDING_COOKIE}=${pending}` },
        }),
      ),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, ...Array(RACERS - 1).fill(401)]);
    const types = await typesOf(id);
    expect(count(types, "recovery_code.use")).toBe(1);
    expect(count(types, "login.success")).toBe(1);
    expect(count(types, "login.failure")).toBe(RACERS - 1);
  });

  it("concurrent log-outs with one cookie: one logout", async () => {
    const { id, cookie } = await signedUp();
    const answers = await Promise.all(
      Array.from({ length: RACERS }, () => request("/api/auth/logout", { method: "POST", cookie })),
    );
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    expect(count(await typesOf(id), "logout")).toBe(1);
  });

  it("concurrent removals of one passkey: one passkey.remove", async () => {
    const { id, cookie } = await signedUp();
    const browser = createBrowser(app);
    browser.setCookie(SESSION_COOKIE, cookie);
    const authenticator = createSoftwareAuthenticator({ origin: new URL(app.url).origin });
    const options = await (
      await browser.request("/api/auth/passkeys/register/options", { json: { password: PASSWORD } })
    ).json();
    const registered = await browser.request("/api/auth/passkeys/register", {
      json: { response: authenticator.create(options).response },
    });
    const { passkey } = await registered.json();
    const answers = await Promise.all(
      Array.from({ length: RACERS }, () =>
        request(`/api/auth/passkeys/${passkey.id}`, { method: "DELETE", cookie, json: { password: PASSWORD } }),
      ),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, ...Array(RACERS - 1).fill(404)]);
    expect(count(await typesOf(id), "passkey.remove")).toBe(1);
  });
});

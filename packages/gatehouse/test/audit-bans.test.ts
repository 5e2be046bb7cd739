/**
 * A banned user cannot sign in by any method, on a SQLite file and on PostgreSQL: a password, a passkey, an
 * OpenID Connect provider, and the second step of a log-in begun before the ban all end in 403 `banned` (a
 * provider's callback in `?error=banned`), each recorded as `login.failure` with the reason `banned` — and only
 * once the method proved the account: a wrong password answers exactly as for anyone else. The ban here is
 * written straight to the user (as the admin console's is, less the end of the sessions it adds), so these
 * checks stand on their own.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BannedError } from "../src/errors.js";
import { oidc } from "../src/index.js";
import {
  type AuditBackend,
  type AuditServer,
  auditBackends,
  CLIENT_HEADERS,
  expectEventRow,
  type Row,
  startAuditServer,
} from "./support/audit.js";
import { PASSWORD } from "./support/credentials.js";
import { type ApiRequestInit, createBrowser, SESSION_COOKIE, uniqueEmails } from "./support/http-server.js";
import { redirectTarget } from "./support/oauth-flow.js";
import { startOidcProvider } from "./support/oidc-provider.js";
import { STEP_MS, totpCode } from "./support/totp.js";
import { createSoftwareAuthenticator } from "./support/webauthn.js";

const backends = await auditBackends();
const provider = await startOidcProvider({ redirectUris: [] });
afterAll(() => provider.close());

describe.each(backends)("a banned user cannot sign in ($name)", ({ name, open }) => {
  let backend: AuditBackend;
  let app: AuditServer;
  const uniqueEmail = uniqueEmails("banned", name.toLowerCase());
  const p = (index: number) => (backend.name === "SQLite" ? "?" : `$${index}`);

  beforeAll(async () => {
    backend = await open();
    app = await startAuditServer(backend.store, {
      strategy: "database",
      providers: [oidc({ issuer: provider.issuer, clientId: provider.clientId, clientSecret: provider.clientSecret })],
    });
    provider.addRedirectUri(`${app.url}/api/auth/oauth/oidc/callback`);
  });
  afterAll(async () => {
    await app?.close();
    await backend?.close();
  });

  function client() {
    const browser = createBrowser(app);
    return {
      request: (route: string, init: Omit<ApiRequestInit, "cookie"> = {}) =>
        browser.request(route, { ...init, headers: { ...CLIENT_HEADERS, ...init.headers } }),
      cookie: (cookieName: string) => browser.cookie(cookieName),
    };
  }

  const ban = (id: string) => backend.store.updateUser(id, { bannedAt: new Date(app.startedAt), banReason: "spam" });
  const unban = (id: string) => backend.store.updateUser(id, { bannedAt: null, banReason: null });

  async function signedUp() {
    const c = client();
    const email = uniqueEmail();
    const response = await c.request("/api/auth/signup", { json: { email, password: PASSWORD } });
    expect(response.status).toBe(201);
    return { id: (await response.json()).user.id as string, email, client: c };
  }

  const logIn = (email: string, password = PASSWORD) =>
    client().request("/api/auth/login", { json: { email, password } });

  /** A refusal as `banned`: 403, the JSON error, and no cookie but the clearing of none. */
  async function expectBanned(response: Response): Promise<void> {
    expect(response.status).toBe(403);
    expect((await response.json()).error.code).toBe("banned");
    expect(response.headers.getSetCookie().filter((line) => line.startsWith(`${SESSION_COOKIE}=`))).toEqual([]);
  }

  const bannedEvents = async (id: string): Promise<Row[]> =>
    (
      await backend.rows(`SELECT * FROM gatehouse_audit WHERE user_id = ${p(1)} AND type = 'login.failure'`, [id])
    ).filter((row) => JSON.parse(String(row.detail)).reason === "banned");

  it("with the password: 403 banned, recorded; a wrong password answers as it does for anyone; unbanned, the log-in works again", async () => {
    const { id, email } = await signedUp();
    const { email: other } = await signedUp();
    await ban(id);
    const wrong = await logIn(email, "not the password at all");
    const wrongOther = await logIn(other, "not the password at all");
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual(await wrongOther.json());
    await expectBanned(await logIn(email));
    const [event, ...more] = await bannedEvents(id);
    expect(more).toEqual([]);
    expectEventRow(event, {
      type: "login.failure",
      outcome: "failure",
      userId: id,
      detail: { reason: "banned", method: "password" },
    });
    await unban(id);
    expect((await logIn(email)).status).toBe(200);
  });

  it("with a passkey: 403 banned, recorded", async () => {
    const { id, client: mine } = await signedUp();
    const authenticator = createSoftwareAuthenticator({ origin: new URL(app.url).origin });
    const options = await (
      await mine.request("/api/auth/passkeys/register/options", { json: { password: PASSWORD } })
    ).json();
    const { response } = authenticator.create(options);
    expect((await mine.request("/api/auth/passkeys/register", { json: { response } })).status).toBe(201);
    await ban(id);
    const c = client();
    const loginOptions = await (await c.request("/api/auth/passkeys/login/options", { method: "POST" })).json();
    await expectBanned(
      await c.request("/api/auth/passkeys/login", { json: { response: authenticator.get(loginOptions) } }),
    );
    expectEventRow((await bannedEvents(id))[0], {
      type: "login.failure",
      outcome: "failure",
      userId: id,
      detail: { reason: "banned", method: "passkey" },
    });
  });

  it("with a provider: the callback ends on /login?error=banned, signed in as no one, recorded", async () => {
    const login = uniqueEmail();
    provider.setAccount(login, { email: login, emailVerified: true });
    async function signIn() {
      const c = client();
      const started = await c.request("/api/auth/oauth/oidc");
      const callback = new URL(await provider.authorize(started.headers.get("location") as string, login));
      const response = await c.request(`${callback.pathname}${callback.search}`);
      return { c, response };
    }
    const first = await signIn();
    expect(redirectTarget(first.response, app.url)).toBe("/dashboard");
    const { id } = (await (await first.c.request("/api/auth/session")).json()).user;
    await ban(id);
    const again = await signIn();
    expect(redirectTarget(again.response, app.url)).toBe("/login?error=banned");
    expect(again.c.cookie(SESSION_COOKIE)).toBeUndefined();
    expectEventRow((await bannedEvents(id))[0], {
      type: "login.failure",
      outcome: "failure",
      userId: id,
      detail: { reason: "banned", method: "oauth", provider: "oidc" },
    });
  });

  it("with TOTP on: the password step answers banned (no pending log-in); a log-in pending when the ban came is refused at its second step", async () => {
    const { id, email, client: mine } = await signedUp();
    const { secret } = await (await mine.request("/api/auth/mfa/totp/setup", { json: { password: PASSWORD } })).json();
    const confirmed = await mine.request("/api/auth/mfa/totp/confirm", {
      json: { code: totpCode(secret, app.startedAt) },
    });
    expect(confirmed.status).toBe(200);
    try {
      app.setClock(app.startedAt + STEP_MS);
      const pending = client();
      const first = await pending.request("/api/auth/login", { json: { email, password: PASSWORD } });
      expect((await first.json()).error.code).toBe("mfa_required");
      await ban(id);
      const code = totpCode(secret, app.startedAt + STEP_MS);
      await expectBanned(await pending.request("/api/auth/mfa/verify", { json: { code } }));
      await expectBanned(await logIn(email));
      const events = await bannedEvents(id);
      expect(events.map((row) => JSON.parse(String(row.detail)).method).sort()).toEqual(["password", "totp"]);
      for (const row of events) {
        expectEventRow(row, { type: "login.failure", outcome: "failure", userId: id, detail: { reason: "banned" } });
      }
      // Unbanned, the same code is still unused: the refusal spent nothing.
      await unban(id);
      const resumed = client();
      await resumed.request("/api/auth/login", { json: { email, password: PASSWORD } });
      expect((await resumed.request("/api/auth/mfa/verify", { json: { code } })).status).toBe(200);
    } finally {
      app.setClock(app.startedAt);
    }
  });

  it("startSession refuses a banned user with BannedError", async () => {
    const { id } = await signedUp();
    await ban(id);
    await expect(app.gatehouse.startSession(id)).rejects.toBeInstanceOf(BannedError);
  });
});

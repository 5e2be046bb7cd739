/**
 * An event and the change it describes commit together, on a SQLite file and on PostgreSQL: a trigger on the
 * audit table makes the insert of one type of event fail inside the change's own transaction, and then
 * neither the change nor the event is there (read raw); a change that is refused writes no event. Where the
 * sessions live in Redis, apart from the log, a log-in's and a log-out's events are written right after.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRedisStore, type RedisStore } from "../src/stores/redis.js";
import {
  type AuditBackend,
  type AuditServer,
  auditBackends,
  CLIENT_HEADERS,
  installFailureTrigger,
  openSqliteBackend,
  type Row,
  startAuditServer,
} from "./support/audit.js";
import { PASSWORD } from "./support/credentials.js";
import { type ApiRequestInit, apiRequest, sessionCookieOf, uniqueEmails } from "./support/http-server.js";
import { createRedisPrefix, REDIS_URL, requireService } from "./support/services.js";
import { totpCode } from "./support/totp.js";

const backends = await auditBackends();
const redisAvailable = await requireService("redis");

describe.each(backends)("an event and its change are one transaction ($name)", ({ name, open }) => {
  let backend: AuditBackend;
  let app: AuditServer;
  const uniqueEmail = uniqueEmails("atomic", name.toLowerCase());
  const p = (index: number) => (backend.name === "SQLite" ? "?" : `$${index}`);

  beforeAll(async () => {
    backend = await open();
    await installFailureTrigger(backend);
    app = await startAuditServer(backend.store, { strategy: "database" });
  });
  afterAll(async () => {
    await app?.close();
    await backend?.close();
  });
  afterEach(() => backend.exec("DELETE FROM audit_fail"));

  /** Makes the insert of events of `type` fail from now on (until the test ends). */
  const failEvents = (type: string) => backend.exec(`INSERT INTO audit_fail (type) VALUES ('${type}')`);

  const request = (route: string, init: ApiRequestInit = {}) =>
    apiRequest(app, route, { ...init, headers: { ...CLIENT_HEADERS, ...init.headers } });

  const eventsOf = (userId: string, type: string) =>
    backend.rows(`SELECT * FROM gatehouse_audit WHERE user_id = ${p(1)} AND type = ${p(2)}`, [userId, type]);
  const userRow = async (id: string) =>
    (await backend.rows(`SELECT * FROM gatehouse_users WHERE id = ${p(1)}`, [id]))[0] as Row | undefined;
  const sessionRows = (userId: string) =>
    backend.rows(`SELECT * FROM gatehouse_sessions WHERE user_id = ${p(1)} ORDER BY id`, [userId]);

  async function signedUp(): Promise<{ id: string; email: string; cookie: string }> {
    const email = uniqueEmail();
    const response = await request("/api/auth/signup", { json: { email, password: PASSWORD } });
    expect(response.status).toBe(201);
    return { id: (await response.json()).user.id, email, cookie: sessionCookieOf(response) as string };
  }

  async function expectUnavailable(response: Response): Promise<void> {
    expect(response.status).toBe(503);
    expect((await response.json()).error.code).toBe("unavailable");
  }

  it("a sign-up whose user.signup cannot be written creates no user", async () => {
    await failEvents("user.signup");
    const email = uniqueEmail();
    await expectUnavailable(await request("/api/auth/signup", { json: { email, password: PASSWORD } }));
    expect(await backend.rows(`SELECT id FROM gatehouse_users WHERE email = ${p(1)}`, [email])).toEqual([]);
    expect(await backend.rows(`SELECT id FROM gatehouse_audit WHERE user_email = ${p(1)}`, [email])).toEqual([]);
  });

  it("a log-in whose login.success cannot be written starts no session", async () => {
    const { id, email } = await signedUp();
    const before = await sessionRows(id);
    await failEvents("login.success");
    await expectUnavailable(await request("/api/auth/login", { json: { email, password: PASSWORD } }));
    expect(await sessionRows(id)).toEqual(before);
    expect(await eventsOf(id, "login.success")).toEqual([]);
  });

  it("a password change whose password.change cannot be written changes no password and ends no session", async () => {
    const { id, cookie } = await signedUp();
    const before = await userRow(id);
    await failEvents("password.change");
    const newPassword = "another long passphrase here";
    await expectUnavailable(
      await request("/api/auth/password", { cookie, json: { currentPassword: PASSWORD, newPassword } }),
    );
    const after = await userRow(id);
    expect(after?.password_hash).toBe(before?.password_hash);
    expect(Number(after?.revocation_epoch)).toBe(Number(before?.revocation_epoch));
    expect(await eventsOf(id, "password.change")).toEqual([]);
    // The session was not ended with it.
    expect((await (await request("/api/auth/session", { cookie })).json()).user?.id).toBe(id);
  });

  it("turning TOTP on whose mfa.enable cannot be written leaves it off", async () => {
    const { id, cookie } = await signedUp();
    const { secret } = await (
      await request("/api/auth/mfa/totp/setup", { cookie, json: { password: PASSWORD } })
    ).json();
    await failEvents("mfa.enable");
    await expectUnavailable(
      await request("/api/auth/mfa/totp/confirm", { cookie, json: { code: totpCode(secret, app.startedAt) } }),
    );
    const totp = await backend.rows(`SELECT confirmed_at FROM gatehouse_totp WHERE user_id = ${p(1)}`, [id]);
    expect(totp.map((row) => row.confirmed_at)).toEqual([null]);
    expect(await backend.rows(`SELECT * FROM gatehouse_recovery_codes WHERE user_id = ${p(1)}`, [id])).toEqual([]);
    expect(await eventsOf(id, "mfa.enable")).toEqual([]);
  });

  it("a log-out whose logout cannot be written ends no session; an account deletion whose user.delete cannot be written deletes nothing", async () => {
    const { id, cookie } = await signedUp();
    await failEvents("logout");
    await expectUnavailable(await request("/api/auth/logout", { method: "POST", cookie }));
    expect((await (await request("/api/auth/session", { cookie })).json()).user?.id).toBe(id);
    expect(await eventsOf(id, "logout")).toEqual([]);

    await failEvents("user.delete");
    await expectUnavailable(
      await request("/api/auth/account", { method: "DELETE", cookie, json: { password: PASSWORD } }),
    );
    expect(await userRow(id)).toBeDefined();
    expect(await sessionRows(id)).toHaveLength(1);
    expect(await eventsOf(id, "user.delete")).toEqual([]);
  });

  it("a change that is refused writes no event: an unknown session, an unknown passkey, a wrong password for a deletion", async () => {
    const { id, cookie } = await signedUp();
    expect((await request("/api/auth/sessions/AAAAAAAAAAAAAAAA", { method: "DELETE", cookie })).status).toBe(404);
    expect(
      (await request("/api/auth/passkeys/nosuchpasskey", { method: "DELETE", cookie, json: { password: PASSWORD } }))
        .status,
    ).toBe(404);
    const wrong = await request("/api/auth/account", { method: "DELETE", cookie, json: { password: "not it at all" } });
    expect(wrong.status).toBe(400);
    const events = await backend.rows(`SELECT type FROM gatehouse_audit WHERE user_id = ${p(1)} ORDER BY type`, [id]);
    expect(events.map((row) => row.type)).toEqual(["user.signup"]);
  });
});

describe.runIf(redisAvailable)("with sessions in Redis, apart from the log", () => {
  let backend: AuditBackend;
  let redis: RedisStore;
  let app: AuditServer;
  const prefix = createRedisPrefix();

  beforeAll(async () => {
    backend = await openSqliteBackend();
    redis = createRedisStore({ url: REDIS_URL, keyPrefix: prefix.prefix });
    app = await startAuditServer(backend.store, { strategy: "database", sessionStore: redis, rateLimitStore: redis });
  });
  afterAll(async () => {
    await app?.close();
    await redis?.close();
    await prefix.drop();
    await backend?.close();
  });

  it("a log-in and a log-out are recorded right after the session is written or deleted", async () => {
    const email = "redis-audit@example.com";
    const { id } = await app.gatehouse.users.create({ email, password: PASSWORD });
    const login = await apiRequest(app, "/api/auth/login", {
      json: { email, password: PASSWORD },
      headers: { ...CLIENT_HEADERS },
    });
    expect(login.status).toBe(200);
    const cookie = sessionCookieOf(login) as string;
    const logout = await apiRequest(app, "/api/auth/logout", {
      method: "POST",
      cookie,
      headers: { ...CLIENT_HEADERS },
    });
    expect(logout.status).toBe(200);
    expect((await apiRequest(app, "/api/auth/session", { cookie })).status).toBe(200);
    expect((await (await apiRequest(app, "/api/auth/session", { cookie })).json()).user).toBeNull();
    const rows = await backend.rows("SELECT type FROM gatehouse_audit WHERE user_id = ? ORDER BY type", [id]);
    expect(rows.map((row) => row.type)).toEqual(["login.success", "logout", "user.signup"]);
  });
});

/**
 * Attacks on the audit log, as an outsider and as a malicious user, on a SQLite file and on PostgreSQL (and
 * MariaDB for the store's ordering): a client that keeps trying while refused cannot write a row per attempt;
 * forged and fuzzed cursors and limits are 400s that show nobody else's events; hostile strings (huge user
 * agents, C1 controls, line and bidi separators) are stored cut to size and never reach a terminal raw through
 * `gatehouse audit`; an impersonation's view of the events is the user's; every change not covered elsewhere
 * commits with its event or not at all (a trigger fails the event's insert); a sink that fails in the worst
 * way still fails nothing; and the retention sweep deletes exactly what is past it.
 */

import { spawn } from "node:child_process";
import os from "node:os";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventLine, tailEvents } from "../src/cli/audit.js";
import { randomToken } from "../src/crypto/random.js";
import { oidc } from "../src/index.js";
import { createMysqlStore } from "../src/stores/mysql.js";
import { createPostgresStore } from "../src/stores/postgres.js";
import { createSqliteStore } from "../src/stores/sqlite.js";
import type { AuditEvent, Store } from "../src/stores/types.js";
import {
  type AuditBackend,
  type AuditServer,
  auditBackends,
  CLIENT_HEADERS,
  CLIENT_IP,
  expectNoSecrets,
  installFailureTrigger,
  openSqliteBackend,
  plantImpersonation,
  type Row,
  startAuditServer,
  USER_AGENT,
} from "./support/audit.js";
import { PASSWORD } from "./support/credentials.js";
import {
  type ApiRequestInit,
  apiRequest,
  createBrowser,
  expectError,
  SESSION_COOKIE,
  SUITE_RATE_LIMITS,
  sessionCookieHeader,
  sessionCookieOf,
  uniqueEmails,
} from "./support/http-server.js";
import { FLOW_COOKIE, redirectTarget } from "./support/oauth-flow.js";
import { startOidcProvider } from "./support/oidc-provider.js";
import { createMysqlDatabase, createPostgresDatabase, requireService } from "./support/services.js";
import { createSqliteDatabase } from "./support/temp-sqlite.js";
import { PENDING_COOKIE, STEP_MS, totpCode } from "./support/totp.js";
import { createSoftwareAuthenticator } from "./support/webauthn.js";

const backends = await auditBackends();
const mysqlAvailable = await requireService("mysql");
const provider = await startOidcProvider({ redirectUris: [] });
afterAll(() => provider.close());

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** Characters a terminal or a line-splitting reader acts on: C0 and C1 controls, DEL, line/paragraph separators, bidi controls. */
const UNSAFE_IN_A_LINE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** A passkey name a user may choose: C1 CSI sequences (clear screen, colours), NEL, a line separator, bidi overrides. */
const HOSTILE_NAME = "Key\u009b2J\u009b31mRED\u0085next\u2028line\u202egnp.exe\u2066x\u2069";

/** An event of `userId` at `at` (ms), as the core would make it. */
function eventAt(userId: string | null, at: number, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: randomToken(16),
    at: new Date(at),
    type: "login.success",
    outcome: "success",
    userId,
    userEmail: userId ? `${userId}@example.com` : null,
    actorType: userId ? "user" : "system",
    actorId: userId,
    ip: "203.0.113.9",
    userAgent: "Attack/1.0",
    detail: { method: "password" },
    ...overrides,
  };
}

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64url");
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/** The same bytes spelled another way: a bit the decoder ignores set in the last character. */
function nonCanonical(cursor: string): string {
  const last = ALPHABET.indexOf(cursor.slice(-1));
  return `${cursor.slice(0, -1)}${ALPHABET[last | 1]}`;
}
const detailOf = (row: Row) => JSON.parse(String(row.detail)) as Record<string, unknown>;

describe.each(backends)("attacks on the audit log ($name)", ({ name, open }) => {
  let backend: AuditBackend;
  let app: AuditServer;
  /** Small log-in limits: 3 per account and address, 5 per address. */
  let limited: AuditServer;
  const uniqueEmail = uniqueEmails("attack", name.toLowerCase());
  const p = (index: number) => (backend.name === "SQLite" ? "?" : `$${index}`);

  beforeAll(async () => {
    backend = await open();
    await installFailureTrigger(backend);
    app = await startAuditServer(backend.store, {
      strategy: "database",
      providers: [oidc({ issuer: provider.issuer, clientId: provider.clientId, clientSecret: provider.clientSecret })],
    });
    provider.addRedirectUri(`${app.url}/api/auth/oauth/oidc/callback`);
    limited = await startAuditServer(backend.store, {
      strategy: "database",
      rateLimits: {
        ...SUITE_RATE_LIMITS,
        loginPerAccountAndIp: { max: 3, windowSeconds: 900 },
        loginPerIp: { max: 5, windowSeconds: 900 },
      },
    });
  });
  afterAll(async () => {
    await app?.close();
    await limited?.close();
    await backend?.close();
  });

  /** Every password, code, secret, token and cookie value this file sends or receives: none may be in a row. */
  const secrets = new Set<string>([PASSWORD, `${PASSWORD} no`]);
  /** The 6-digit TOTP codes used: looked for in every column but `at` (whose digits could hold any of them). */
  const codes = new Set<string>();

  /** Puts every cookie value `response` sets on the secrets list (a database session's secret half too). */
  function collect(response: Response): Response {
    for (const line of response.headers.getSetCookie()) {
      const value = (line.split(";", 1)[0] as string).replace(/^[^=]*=/, "");
      if (value === "") continue;
      secrets.add(value);
      const secret = /^[A-Za-z0-9_-]{16}\.([A-Za-z0-9_-]{32})$/.exec(value)?.[1];
      if (secret) secrets.add(secret);
    }
    return response;
  }

  const request = async (route: string, init: ApiRequestInit = {}, server: AuditServer = app) =>
    collect(await apiRequest(server, route, { ...init, headers: { ...CLIENT_HEADERS, ...init.headers } }));

  /** A browser whose every response's cookies go on the secrets list. */
  function browserOn(server: AuditServer) {
    const browser = createBrowser(server);
    return {
      ...browser,
      request: async (route: string, init: Omit<ApiRequestInit, "cookie"> = {}) =>
        collect(await browser.request(route, { ...init, headers: { ...CLIENT_HEADERS, ...init.headers } })),
    };
  }

  const eventsOf = (userId: string, type?: string) =>
    backend.rows(
      `SELECT * FROM gatehouse_audit WHERE user_id = ${p(1)}${type ? ` AND type = ${p(2)}` : ""} ORDER BY at, id`,
      type ? [userId, type] : [userId],
    );

  async function signedUp(): Promise<{ id: string; email: string; cookie: string }> {
    const email = uniqueEmail();
    const response = await request("/api/auth/signup", { json: { email, password: PASSWORD } });
    expect(response.status).toBe(201);
    return { id: (await response.json()).user.id, email, cookie: sessionCookieOf(response) as string };
  }

  /** A browser (it keeps the passkey ceremony's cookie) signed in with `cookie`, sending {@link CLIENT_HEADERS}. */
  function signedInBrowser(cookie: string) {
    const browser = browserOn(app);
    browser.setCookie(SESSION_COOKIE, cookie);
    return browser;
  }

  async function expectUnavailable(response: Response): Promise<void> {
    expect(response.status, await response.clone().text()).toBe(503);
    expect((await response.json()).error.code).toBe("unavailable");
  }

  /** Makes the insert of events of `type` fail for the length of `run`. */
  async function failingEvents(type: string, run: () => Promise<void>): Promise<void> {
    await backend.exec(`INSERT INTO audit_fail (type) VALUES ('${type}')`);
    try {
      await run();
    } finally {
      await backend.exec("DELETE FROM audit_fail");
    }
  }

  describe("unbounded writes", () => {
    it("a client that keeps trying while refused (429) writes one rate_limited per account and address per window, not one per attempt", async () => {
      const email = uniqueEmail();
      const { id } = await limited.gatehouse.users.create({ email, password: PASSWORD });
      const from = (ip: string) => ({ "X-Forwarded-For": ip, "User-Agent": USER_AGENT });
      const attempt = (address: string, ip: string) =>
        request(
          "/api/auth/login",
          { json: { email: address, password: `${PASSWORD} no` }, headers: from(ip) },
          limited,
        );

      for (let i = 0; i < 3; i++) expect((await attempt(email, "203.0.113.50")).status).toBe(401);
      // Refused attempts cost the client nothing (no hash): each must not be a row of its own.
      for (let i = 0; i < 40; i++) expect((await attempt(email, "203.0.113.50")).status).toBe(429);
      const refusals = async () =>
        (await eventsOf(id, "login.failure")).filter((row) => detailOf(row).reason === "rate_limited");
      expect(await refusals()).toHaveLength(1);

      // Unknown accounts, a new address each time, from one client over its per-address limit.
      const ip = "203.0.113.51";
      for (let i = 0; i < 5; i++) expect((await attempt(uniqueEmail(), ip)).status).toBe(401);
      for (let i = 0; i < 40; i++) expect((await attempt(uniqueEmail(), ip)).status).toBe(429);
      const fromIp = await backend.rows(`SELECT * FROM gatehouse_audit WHERE ip = ${p(1)}`, [ip]);
      expect(fromIp.filter((row) => detailOf(row).reason === "unknown_account")).toHaveLength(5);
      expect(fromIp.filter((row) => detailOf(row).reason === "rate_limited")).toHaveLength(1);

      // A window later, a new refusal is a new event: refusals are told, only not once per attempt.
      limited.setClock(limited.startedAt + 16 * MINUTE);
      try {
        for (let i = 0; i < 3; i++) expect((await attempt(email, "203.0.113.50")).status).toBe(401);
        for (let i = 0; i < 5; i++) expect((await attempt(email, "203.0.113.50")).status).toBe(429);
        expect(await refusals()).toHaveLength(2);
      } finally {
        limited.setClock(limited.startedAt);
      }
    });
  });

  describe("unbounded writes by a signed-in user", () => {
    // Bug (fixed, core/sessions.ts): POST /api/auth/sessions/revoke-others had no limit and wrote a
    // session.revoke row on every call, even with no other session to end (the epoch still moves: a log-in in
    // flight must not survive it). A free account could write rows as fast as it sent requests, no hash in the
    // way. It is limited per user now (revokeOthersPerUser, 10 per 15 minutes); a refusal writes nothing.
    it("repeating revoke-others with nothing left to end does not write a row per request", async () => {
      const { id, cookie } = await signedUp();
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) {
        const response = await request("/api/auth/sessions/revoke-others", { method: "POST", cookie });
        statuses.push(response.status);
        if (response.status === 429) expect((await response.json()).error.code).toBe("rate_limited");
      }
      expect(statuses).toEqual([...Array(10).fill(200), ...Array(20).fill(429)]);
      expect(await eventsOf(id, "session.revoke")).toHaveLength(10);
      // The session that asked is still signed in.
      expect((await (await request("/api/auth/session", { cookie })).json()).user?.id).toBe(id);
    });
  });

  describe("GET /api/auth/events: cursors and limits", () => {
    it.each([
      ["a time with a sign", `?cursor=${b64("-1.abcdefgh")}`],
      ["a time in exponent notation", `?cursor=${b64("1e12.abcdefgh")}`],
      ["a time that is not a number", `?cursor=${b64("NaN.abcdefgh")}`],
      ["a time of 16 digits", `?cursor=${b64("9999999999999999.abcdefgh")}`],
      ["an id with a dot", `?cursor=${b64("1700000000000.abc.def")}`],
      ["an id with a quote", `?cursor=${b64("1700000000000.abc'--")}`],
      ["an id of 65 characters", `?cursor=${b64(`1700000000000.${"a".repeat(65)}`)}`],
      ["a trailing newline", `?cursor=${b64("1700000000000.abcdefgh\n")}`],
      ["a NUL in the id", `?cursor=${b64("1700000000000.abc\u0000def")}`],
      ["JSON", `?cursor=${b64('{"at":0,"id":"x","userId":"someone"}')}`],
      ["a non-canonical base64url tail", `?cursor=${nonCanonical(b64("1700000000000.abcdefgh"))}`],
      ["padding", `?cursor=${b64("1700000000000.abcdefg")}%3D`],
      ["a percent-encoded NUL", "?cursor=%00"],
      ["121 characters", `?cursor=${"A".repeat(121)}`],
    ])("a forged cursor (%s) is 400 invalid_input fields.cursor", async (_, query) => {
      const { cookie } = await signedUp();
      const error = await expectError(await request(`/api/auth/events${query}`, { cookie }), 400, "invalid_input");
      expect(Object.keys(error.fields)).toEqual(["cursor"]);
    });

    it.each([["1e2"], ["0x10"], ["+5"], [" 5"], ["NaN"], ["Infinity"], ["99999"], ["00000"], ["5,6"]])(
      "a limit of %j is 400 invalid_input fields.limit",
      async (limit) => {
        const { cookie } = await signedUp();
        const error = await expectError(
          await request(`/api/auth/events?limit=${encodeURIComponent(limit)}`, { cookie }),
          400,
          "invalid_input",
        );
        expect(Object.keys(error.fields)).toEqual(["limit"]);
      },
    );

    it("repeated and bracketed parameters take the first value or none; a well-formed cursor of another user's event shows only one's own", async () => {
      const { id, cookie } = await signedUp();
      const other = await signedUp();
      const base = app.startedAt - DAY;
      const mine = Array.from({ length: 30 }, (_, i) => eventAt(id, base + i));
      const theirs = Array.from({ length: 30 }, (_, i) => eventAt(other.id, base + i));
      await backend.store.recordEvents([...mine, ...theirs]);
      const page = async (query: string) => {
        const response = await request(`/api/auth/events${query}`, { cookie });
        expect(response.status, await response.clone().text()).toBe(200);
        return (await response.json()) as { events: Array<{ id: string }>; nextCursor: string | null };
      };
      const ids = new Set([...mine.map((event) => event.id), (await eventsOf(id, "user.signup"))[0]?.id]);

      expect((await page("?limit=5&limit=500")).events).toHaveLength(5);
      expect((await page("?limit[]=500&limit%5B%5D=500")).events).toHaveLength(20);
      // A cursor made from the other user's newest event (a time and an id anyone could guess or see): a
      // position in the caller's own events, never the other user's.
      const newestTheirs = theirs[theirs.length - 1] as AuditEvent;
      const forged = b64(`${newestTheirs.at.getTime() + 1}.${newestTheirs.id}`);
      const seen = (await page(`?limit=100&cursor=${forged}&cursor=${b64("1.a")}`)).events.map((event) => event.id);
      expect(seen.length).toBe(30);
      for (const eventId of seen) expect(ids.has(eventId)).toBe(true);
      // The far future and the epoch: every one of one's own events, and none.
      expect((await page(`?limit=100&cursor=${b64("999999999999999.zzzz")}`)).events).toHaveLength(31);
      expect((await page(`?limit=100&cursor=${b64("0.0")}`)).events).toEqual([]);
    });
  });

  describe("hostile strings", () => {
    it("a huge user agent with C1 controls, a 253-character unknown address and a passkey named with controls are stored cut to the columns and read back as they are", async () => {
      // A header value is latin1: bytes 0x80–0xff arrive as U+0080–U+00FF, C1 controls among them.
      const hugeAgent = `Evil\u009b2J${"\u00e9x".repeat(5000)}`;
      const address = `${"a".repeat(200)}@${"b".repeat(40)}.example.com`;
      expect(address).toHaveLength(253);
      const unknown = await request("/api/auth/login", {
        json: { email: address, password: PASSWORD },
        headers: { "User-Agent": hugeAgent },
      });
      expect(unknown.status).toBe(401);
      const [row] = await backend.rows(`SELECT * FROM gatehouse_audit WHERE user_email = ${p(1)}`, [address]);
      expect(row?.user_agent).toBe(hugeAgent.slice(0, 512));
      expect(detailOf(row as Row)).toMatchObject({ reason: "unknown_account" });

      const { id, cookie } = await signedUp();
      const mine = signedInBrowser(cookie);
      const authenticator = createSoftwareAuthenticator({ origin: new URL(app.url).origin });
      const options = await (
        await mine.request("/api/auth/passkeys/register/options", { json: { password: PASSWORD } })
      ).json();
      const registered = await mine.request("/api/auth/passkeys/register", {
        json: { response: authenticator.create(options).response, name: HOSTILE_NAME },
        headers: { ...CLIENT_HEADERS, "User-Agent": hugeAgent },
      });
      expect(registered.status, await registered.clone().text()).toBe(201);
      const [added] = await eventsOf(id, "passkey.add");
      expect(detailOf(added as Row).name).toBe(HOSTILE_NAME);
      const listed = await (await request("/api/auth/events?limit=100", { cookie })).json();
      const event = listed.events.find((e: { type: string }) => e.type === "passkey.add");
      expect(event.detail.name).toBe(HOSTILE_NAME);
      expect(event.userAgent).toBe(hugeAgent.slice(0, 512));
    });
  });

  describe("impersonation", () => {
    it("an impersonated session's GET /api/auth/events lists the user's events only: none of the administrator's own", async () => {
      const user = await signedUp();
      const admin = await signedUp();
      const record = await backend.store.getUserById(user.id);
      const cookie = await plantImpersonation(
        backend.store,
        record as NonNullable<typeof record>,
        admin.id,
        app.startedAt,
      );
      secrets.add(cookie).add(cookie.split(".")[1] as string);
      // The administrator acts as the user: revokes the user's own session.
      const sessionId = user.cookie.split(".", 1)[0] as string;
      expect((await request(`/api/auth/sessions/${sessionId}`, { method: "DELETE", cookie })).status).toBe(200);
      const listed = (await (await request("/api/auth/events?limit=100", { cookie })).json()) as {
        events: Array<{ id: string; type: string; actor: { type: string; id: string | null } }>;
      };
      const userIds = (await eventsOf(user.id)).map((row) => row.id).sort();
      expect(listed.events.map((event) => event.id).sort()).toEqual(userIds);
      const adminIds = new Set((await eventsOf(admin.id)).map((row) => row.id));
      expect(listed.events.some((event) => adminIds.has(event.id))).toBe(false);
      // The contract: what the administrator did names them as its actor, and nothing else of theirs shows.
      expect(listed.events.find((event) => event.type === "session.revoke")?.actor).toEqual({
        type: "admin",
        id: admin.id,
      });
    });
  });

  describe("missing events", () => {
    // Bug (fixed, core/sessions.ts): gatehouse.startSession — the documented way to sign in a user proved by
    // other means (a magic link, a custom flow) — started a session and recorded no login.success. It records
    // one now, with detail.method "external", in the session's transaction; a banned user's refusal as well.
    it("startSession (a log-in by other means) records login.success, and a banned user's login.failure", async () => {
      const { id } = await signedUp();
      const started = await app.gatehouse.startSession(id, { ip: CLIENT_IP, userAgent: USER_AGENT });
      expect(started?.setCookie).toBeTruthy();
      const [success] = await eventsOf(id, "login.success");
      expect(success).toMatchObject({ actor_type: "user", actor_id: id, ip: CLIENT_IP, user_agent: USER_AGENT });
      expect(detailOf(success as Row)).toEqual({ method: "external" });
      expect(await eventsOf(id, "login.success")).toHaveLength(1);

      await backend.store.updateUser(id, { bannedAt: new Date(app.startedAt) });
      await expect(app.gatehouse.startSession(id, { ip: CLIENT_IP })).rejects.toMatchObject({ code: "banned" });
      const failures = (await eventsOf(id, "login.failure")).map(detailOf);
      expect(failures).toEqual([{ method: "external", reason: "banned" }]);
      expect(await eventsOf(id, "login.success")).toHaveLength(1);
    });

    it("startSession whose login.success cannot be written starts no session", async () => {
      const { id } = await signedUp();
      const sessionIds = async () =>
        (await backend.rows(`SELECT id FROM gatehouse_sessions WHERE user_id = ${p(1)} ORDER BY id`, [id])).map(
          (row) => row.id,
        );
      const before = await sessionIds();
      await failingEvents("login.success", async () => {
        await expect(app.gatehouse.startSession(id, { ip: CLIENT_IP })).rejects.toMatchObject({ code: "unavailable" });
      });
      expect(await sessionIds()).toEqual(before);
    });
  });

  describe("an event and its change are one transaction", () => {
    async function withTotp(): Promise<{ id: string; email: string; cookie: string; secret: string; codes: string[] }> {
      const account = await signedUp();
      const { secret } = await (
        await request("/api/auth/mfa/totp/setup", { cookie: account.cookie, json: { password: PASSWORD } })
      ).json();
      secrets.add(secret);
      const code = totpCode(secret, app.startedAt);
      codes.add(code);
      const confirmed = await request("/api/auth/mfa/totp/confirm", { cookie: account.cookie, json: { code } });
      expect(confirmed.status).toBe(200);
      // Turning TOTP on replaced the session.
      const cookie = sessionCookieOf(confirmed) ?? account.cookie;
      const recoveryCodes = (await confirmed.json()).recoveryCodes as string[];
      for (const recoveryCode of recoveryCodes) secrets.add(recoveryCode).add(recoveryCode.replace("-", ""));
      return { ...account, cookie, secret, codes: recoveryCodes };
    }

    const countOf = async (table: string, userId: string) =>
      Number((await backend.rows(`SELECT COUNT(*) AS n FROM ${table} WHERE user_id = ${p(1)}`, [userId]))[0]?.n ?? 0);

    it("ending a session (one, or the others) whose session.revoke cannot be written ends none", async () => {
      const { id, email, cookie } = await signedUp();
      const second = await request("/api/auth/login", { json: { email, password: PASSWORD } });
      const secondId = (sessionCookieOf(second) as string).split(".", 1)[0] as string;
      await failingEvents("session.revoke", async () => {
        await expectUnavailable(await request(`/api/auth/sessions/${secondId}`, { method: "DELETE", cookie }));
        await expectUnavailable(await request("/api/auth/sessions/revoke-others", { method: "POST", cookie }));
      });
      expect(await countOf("gatehouse_sessions", id)).toBe(2);
      const other = await request("/api/auth/session", { cookie: sessionCookieOf(second) as string });
      expect((await other.json()).user?.id).toBe(id);
      expect(await eventsOf(id, "session.revoke")).toEqual([]);
    });

    it("a passkey whose passkey.add cannot be written is not registered; one whose passkey.remove cannot be written stays", async () => {
      const { id, cookie } = await signedUp();
      const mine = signedInBrowser(cookie);
      const authenticator = createSoftwareAuthenticator({ origin: new URL(app.url).origin });
      const register = async () => {
        const options = await (
          await mine.request("/api/auth/passkeys/register/options", { json: { password: PASSWORD } })
        ).json();
        return mine.request("/api/auth/passkeys/register", {
          json: { response: authenticator.create(options).response, name: "Laptop" },
        });
      };
      await failingEvents("passkey.add", async () => expectUnavailable(await register()));
      expect(await countOf("gatehouse_passkeys", id)).toBe(0);
      const registered = await register();
      expect(registered.status).toBe(201);
      const { passkey } = await registered.json();
      await failingEvents("passkey.remove", async () =>
        expectUnavailable(
          await request(`/api/auth/passkeys/${passkey.id}`, { method: "DELETE", cookie, json: { password: PASSWORD } }),
        ),
      );
      expect(await countOf("gatehouse_passkeys", id)).toBe(1);
      expect(await eventsOf(id, "passkey.add")).toHaveLength(1);
      expect(await eventsOf(id, "passkey.remove")).toEqual([]);
    });

    it("new recovery codes, TOTP off, a reset of factors, a role change: each whose event cannot be written changes nothing", async () => {
      const { id, email, cookie } = await withTotp();
      const codesBefore = await backend.rows(
        `SELECT code_hash FROM gatehouse_recovery_codes WHERE user_id = ${p(1)} ORDER BY code_hash`,
        [id],
      );
      expect(codesBefore).toHaveLength(10);
      await failingEvents("recovery_codes.regenerate", async () =>
        expectUnavailable(await request("/api/auth/mfa/recovery-codes", { cookie, json: { password: PASSWORD } })),
      );
      await failingEvents("mfa.disable", async () =>
        expectUnavailable(await request("/api/auth/mfa/totp/disable", { cookie, json: { password: PASSWORD } })),
      );
      await failingEvents("admin.factors.reset", async () => {
        await expect(app.gatehouse.users.resetSecondFactors(email)).rejects.toMatchObject({ code: "unavailable" });
      });
      await failingEvents("role.change", async () => {
        await expect(app.gatehouse.users.setRole(email, "admin")).rejects.toMatchObject({ code: "unavailable" });
      });
      expect(
        await backend.rows(
          `SELECT code_hash FROM gatehouse_recovery_codes WHERE user_id = ${p(1)} ORDER BY code_hash`,
          [id],
        ),
      ).toEqual(codesBefore);
      const totp = await backend.rows(`SELECT confirmed_at FROM gatehouse_totp WHERE user_id = ${p(1)}`, [id]);
      expect(totp).toHaveLength(1);
      expect(totp[0]?.confirmed_at).not.toBeNull();
      const [user] = await backend.rows(`SELECT role FROM gatehouse_users WHERE id = ${p(1)}`, [id]);
      expect(user?.role).toBe("user");
      const types = (await eventsOf(id)).map((row) => row.type);
      for (const type of ["recovery_codes.regenerate", "mfa.disable", "admin.factors.reset", "role.change"]) {
        expect(types).not.toContain(type);
      }
    });

    it("an administrator's retry of a failed message whose admin.mail.retry cannot be written leaves it failed", async () => {
      const email = uniqueEmail();
      const { id: adminId } = await app.gatehouse.users.create({ email, password: PASSWORD, role: "admin" });
      const login = await request("/api/auth/login", { json: { email, password: PASSWORD } });
      expect(login.status).toBe(200);
      const auth = await app.gatehouse.authenticate(sessionCookieHeader(sessionCookieOf(login) as string), {
        canSetCookie: false,
      });
      if (!auth.user) throw new Error("the admin's log-in gave no session");
      const messageId = `m${randomToken(8)}`;
      const at = new Date(app.startedAt);
      await backend.store.enqueueMail([
        { id: messageId, to: "bounced@example.com", subject: "Reset", sealedBody: "x", createdAt: at },
      ]);
      await backend.store.claimMail(new Date(app.startedAt + MINUTE), 10, 60_000);
      expect(await backend.store.settleMail(messageId, 1, { status: "failed", error: "550" })).toBe(true);
      const status = async () =>
        (await backend.rows(`SELECT status FROM gatehouse_mail WHERE id = ${p(1)}`, [messageId]))[0]?.status;
      const retries = async () =>
        await backend.rows(`SELECT * FROM gatehouse_audit WHERE actor_id = ${p(1)} AND type = ${p(2)}`, [
          adminId,
          "admin.mail.retry",
        ]);

      await failingEvents("admin.mail.retry", async () => {
        await expect(
          app.gatehouse.admin.retryMail(auth, messageId, { password: PASSWORD }, { ip: CLIENT_IP }),
        ).rejects.toMatchObject({ code: "unavailable" });
      });
      expect(await status()).toBe("failed");
      expect(await retries()).toEqual([]);

      await app.gatehouse.admin.retryMail(auth, messageId, { password: PASSWORD }, { ip: CLIENT_IP });
      expect(await status()).toBe("pending");
      expect((await retries()).map(detailOf)).toEqual([{ messageId }]);
    });

    it("a second step by recovery code whose recovery_code.use cannot be written uses no code and starts no session", async () => {
      const { id, email, codes } = await withTotp();
      const sessionsBefore = await countOf("gatehouse_sessions", id);
      const browser = browserOn(app);
      app.setClock(app.startedAt + STEP_MS);
      try {
        const pending = await browser.request("/api/auth/login", { json: { email, password: PASSWORD } });
        expect(pending.status).toBe(403);
        expect(browser.cookie(PENDING_COOKIE)).toBeTruthy();
        await failingEvents("recovery_code.use", async () =>
          expectUnavailable(await browser.request("/api/auth/mfa/verify", { json: { recoveryCode: codes[0] } })),
        );
      } finally {
        app.setClock(app.startedAt);
      }
      expect(await countOf("gatehouse_recovery_codes", id)).toBe(10);
      expect(await countOf("gatehouse_sessions", id)).toBe(sessionsBefore);
      expect(await eventsOf(id, "recovery_code.use")).toEqual([]);
    });

    it("an OAuth first sign-in whose user.signup cannot be written makes no account; a link whose oauth.link cannot be written links nothing", async () => {
      const login = uniqueEmail();
      provider.setAccount(login, { email: login, emailVerified: true });
      const browser = browserOn(app);
      const flow = async (start: () => Promise<string>) => {
        const callback = new URL(await provider.authorize(await start(), login));
        for (const param of ["code", "state"]) secrets.add(callback.searchParams.get(param) as string);
        expect(browser.cookie(FLOW_COOKIE)).toBeTruthy();
        return browser.request(`${callback.pathname}${callback.search}`);
      };
      const signIn = async () => {
        const started = await browser.request("/api/auth/oauth/oidc");
        expect(started.status).toBe(302);
        return started.headers.get("location") as string;
      };
      await failingEvents("user.signup", async () => expectUnavailable(await flow(signIn)));
      expect(await backend.rows(`SELECT id FROM gatehouse_users WHERE email = ${p(1)}`, [login])).toEqual([]);
      expect(await backend.rows(`SELECT * FROM gatehouse_identities WHERE email = ${p(1)}`, [login])).toEqual([]);

      const { id, cookie } = await signedUp();
      browser.setCookie(SESSION_COOKIE, cookie);
      const link = async () => {
        const started = await browser.request("/api/auth/oauth/oidc/link", { json: { password: PASSWORD } });
        expect(started.status).toBe(200);
        return (await started.json()).url as string;
      };
      await failingEvents("oauth.link", async () => expectUnavailable(await flow(link)));
      expect(await countOf("gatehouse_identities", id)).toBe(0);
      expect(await eventsOf(id, "oauth.link")).toEqual([]);
      // Nothing half-done: the same link goes through afterwards, recorded once.
      expect(redirectTarget(await flow(link), app.url)).toBe("/settings?linked=oidc");
      expect(await countOf("gatehouse_identities", id)).toBe(1);
      expect(await eventsOf(id, "oauth.link")).toHaveLength(1);
    });
  });

  it("no row of the log holds a password, code, secret, token or cookie value used in this file", async () => {
    const rows = await backend.events();
    expect(rows.length).toBeGreaterThan(100);
    expect(secrets.size).toBeGreaterThan(60);
    expectNoSecrets(rows, secrets);
    expect(codes.size).toBeGreaterThan(0);
    const texts = rows.map(({ at: _at, ...rest }) => JSON.stringify(rest));
    for (const code of codes) expect(texts.find((text) => text.includes(code))).toBeUndefined();
  });
});

describe.each(backends)("retention ($name)", ({ open }) => {
  it("the sweep deletes the events before the cutoff (of anyone, of no one, more at one time than a batch), keeps the one at it and every newer one", async () => {
    const backend = await open();
    const app = await startAuditServer(backend.store, { strategy: "database", auditRetentionDays: 1 });
    try {
      const cutoff = app.startedAt - DAY;
      // More events at one millisecond than any batch a sweep might delete at once.
      const tied = Array.from({ length: 6000 }, () => eventAt("u4", cutoff - 10));
      const gone = [
        eventAt("u1", cutoff - 1),
        eventAt(null, cutoff - 1, { type: "login.failure", outcome: "failure" }),
        eventAt("u2", 0),
        ...tied,
      ];
      const kept = [
        eventAt("u1", cutoff),
        eventAt("u2", cutoff + 1),
        eventAt("u3", app.startedAt + DAY),
        ...Array.from({ length: 10 }, () => eventAt("u4", cutoff)),
      ];
      await backend.store.recordEvents([...gone, ...kept]);
      await apiRequest(app, "/api/auth/login", { json: { email: "nobody@example.com", password: PASSWORD } });
      const count = async () => Number((await backend.rows("SELECT COUNT(*) AS n FROM gatehouse_audit"))[0]?.n);
      // The log-in's own failure is the one more.
      await expect.poll(count, { timeout: 10_000 }).toBe(kept.length + 1);
      const left = new Set((await backend.events()).map((row) => row.id));
      for (const event of gone) expect(left.has(event.id)).toBe(false);
      for (const event of kept) expect(left.has(event.id)).toBe(true);
    } finally {
      await app.close();
      await backend.close();
    }
  });
});

describe.runIf(backends.some((backend) => backend.name === "PostgreSQL"))(
  "retention of a backlog on PostgreSQL",
  () => {
    it("a backlog too big to delete within the store's timeout in one statement is still deleted, sweep after sweep", async () => {
      const database = await createPostgresDatabase();
      const store = createPostgresStore({ url: database.url });
      await store.migrate();
      // The same database through a store with a short timeout: what a big backlog is to the default 5 s.
      const hasty = createPostgresStore({ url: database.url, timeoutMs: 40, autoMigrate: false });
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      const count = async () => Number((await client.query("SELECT COUNT(*) AS n FROM gatehouse_audit")).rows[0]?.n);
      try {
        const now = Date.now();
        await client.query(`
        INSERT INTO gatehouse_audit
        SELECT md5(g::text), ${now - 10 * DAY} + g, 'login.failure', 'failure', NULL, 'x' || g || '@example.com',
          'system', NULL, '203.0.113.9', 'Mozilla/5.0 (X11; Linux x86_64)', '{"reason":"rate_limited"}'
        FROM generate_series(1, 300000) g`);
        // As autovacuum would have by then: the planner knows the table is big, and reads it by its index.
        await client.query("ANALYZE gatehouse_audit");
        const kept = eventAt("kept", now - DAY);
        await store.recordEvents([kept]);
        for (let sweep = 0; sweep < 40 && (await count()) > 1; sweep++) {
          await hasty.sweepExpired(now, { eventsBefore: now - 2 * DAY }).catch(() => undefined);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(await count()).toBe(1);
        const left = await client.query("SELECT id FROM gatehouse_audit");
        expect(left.rows.map((row) => row.id)).toEqual([kept.id]);
      } finally {
        await client.end();
        await hasty.close();
        await store.close();
        await database.drop();
      }
    }, 60_000);
  },
);

describe("a sink that fails in the worst way", () => {
  it("throwing or rejecting with a value that cannot even be looked at fails no request and crashes nothing", async () => {
    const backend = await openSqliteBackend();
    const escaped: unknown[] = [];
    const onEscape = (error: unknown) => escaped.push(error);
    process.on("uncaughtException", onEscape);
    process.on("unhandledRejection", onEscape);
    const hostile = () => {
      // Every look at a revoked proxy throws, `instanceof` included.
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      return proxy;
    };
    let calls = 0;
    const app = await startAuditServer(backend.store, {
      strategy: "database",
      onEvent: () => {
        calls++;
        if (calls % 2 === 1) throw hostile();
        return Promise.reject(hostile());
      },
    });
    try {
      const email = "sink-victim@example.com";
      const signUp = await apiRequest(app, "/api/auth/signup", { json: { email, password: PASSWORD } });
      expect(signUp.status).toBe(201);
      expect((await apiRequest(app, "/api/auth/login", { json: { email, password: PASSWORD } })).status).toBe(200);
      await expect.poll(() => calls).toBe(2);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(escaped).toEqual([]);
    } finally {
      process.off("uncaughtException", onEscape);
      process.off("unhandledRejection", onEscape);
      await app.close();
      await backend.close();
    }
  });
});

describe("gatehouse audit export and tail: one safe line per event", () => {
  it("escapes every control, line separator and bidi character, and the line parses back to the event", () => {
    const event = eventAt("user-1", Date.UTC(2030, 0, 1), {
      userEmail: "x@example.com",
      userAgent: "UA\u009b2J\u0085\u007f\u00e9",
      detail: { name: HOSTILE_NAME, reason: "a\u2029b\u001b[31m", emoji: "🔑" },
    });
    const line = eventLine(event);
    expect(line.endsWith("\n")).toBe(true);
    const body = line.slice(0, -1);
    expect(body).not.toMatch(UNSAFE_IN_A_LINE);
    const parsed = JSON.parse(body);
    expect(parsed.userAgent).toBe(event.userAgent);
    expect(parsed.detail).toEqual(event.detail);
  });
});

describe("the CLI (run from its sources) prints what users wrote escaped", () => {
  /** Runs `gatehouse <args>` from src/cli/main.ts in a child process: its stdout, once it exits 0. */
  function gatehouseCli(args: string[]): Promise<string> {
    const loader = fileURLToPath(new URL("./support/mail-ts-loader.mjs", import.meta.url));
    const main = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", loader, main, ...args], {
        cwd: os.tmpdir(),
        env: { PATH: process.env.PATH } as unknown as NodeJS.ProcessEnv,
      });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      child.on("error", reject);
      child.on("close", (code) => (code === 0 ? resolve(stdout) : reject(new Error(`exit ${code}: ${stderr}`))));
    });
  }

  it("users list (plain and --json) and audit export: no control, separator or bidi character from a name or a user agent", async () => {
    const database = createSqliteDatabase();
    const store = createSqliteStore({ url: database.url });
    await store.migrate();
    const app = await startAuditServer(store, { strategy: "database" });
    const agent = "Evil\u009b2J\u009b31m\u0085";
    try {
      const email = "cli-hostile@example.com";
      const signUp = await apiRequest(app, "/api/auth/signup", {
        json: { email, password: PASSWORD, name: HOSTILE_NAME },
        headers: { "User-Agent": agent },
      });
      expect(signUp.status).toBe(201);
      const db = ["--database-url", database.url];

      const list = await gatehouseCli(["users", "list", ...db]);
      // Its own tabs and newlines aside.
      expect(list.replace(/[\t\n]/g, "")).not.toMatch(UNSAFE_IN_A_LINE);
      expect(list.split("\n").filter(Boolean)).toHaveLength(1);
      expect(list.split("\t")).toHaveLength(4);

      const json = await gatehouseCli(["users", "list", "--json", ...db]);
      expect(json.replace(/\n/g, "")).not.toMatch(UNSAFE_IN_A_LINE);
      expect(JSON.parse(json)[0].name).toBe(HOSTILE_NAME);

      const exported = await gatehouseCli(["audit", "export", ...db]);
      const lines = exported.split("\n").filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(lines[0]).not.toMatch(UNSAFE_IN_A_LINE);
      expect(JSON.parse(lines[0] as string).userAgent).toBe(agent);
    } finally {
      await app.close();
      await store.close();
      await database.drop();
    }
  }, 60_000);
});

describe("gatehouse audit tail and a clock that runs fast", () => {
  it("an event stamped an hour ahead does not hide the events made meanwhile", async () => {
    const backend = await openSqliteBackend();
    const out = new PassThrough();
    let text = "";
    out.setEncoding("utf8").on("data", (chunk: string) => {
      text += chunk;
    });
    const printed = () =>
      text
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line).id as string);
    const stop = new AbortController();
    const user = "tail-user";
    const ahead = eventAt(user, Date.now() + 60 * MINUTE);
    await backend.store.recordEvents([eventAt(user, Date.now() - MINUTE), ahead]);
    const tailing = tailEvents(backend.store, { userId: user }, out, {
      initial: 10,
      intervalMs: 20,
      signal: stop.signal,
    });
    try {
      await expect.poll(printed).toHaveLength(2);
      const now = eventAt(user, Date.now());
      await backend.store.recordEvents([now]);
      await expect.poll(printed, { timeout: 3000 }).toContain(now.id);
      // A few more polls: each event once.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(printed()).toHaveLength(3);
    } finally {
      stop.abort();
      await tailing;
      await backend.close();
    }
  });
});

describe.runIf(mysqlAvailable)("the log on MariaDB", () => {
  let store: Store;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const database = await createMysqlDatabase();
    drop = database.drop;
    store = createMysqlStore({ url: database.url });
    await store.migrate();
  });
  afterAll(async () => {
    await store?.close();
    await drop?.();
  });

  it("pages events that share a time, both ways, each once; hostile strings come back as they were written", async () => {
    const at = Date.UTC(2031, 5, 1);
    const user = "mariadb-user";
    const events = Array.from({ length: 25 }, (_, i) =>
      eventAt(user, at + Math.floor(i / 10), {
        userAgent: `${"\u00ff".repeat(500)}\u009b${i}`,
        detail: { name: `${HOSTILE_NAME}🔑${i}` },
      }),
    );
    await store.recordEvents(events);
    for (const order of ["newest", "oldest"] as const) {
      const seen: AuditEvent[] = [];
      let after: { at: Date; id: string } | null = null;
      for (;;) {
        const page = await store.listEvents({ userId: user, order, after, limit: 3 });
        seen.push(...page);
        const last = page[page.length - 1];
        if (page.length < 3 || !last) break;
        after = { at: last.at, id: last.id };
      }
      expect(seen.map((event) => event.id).sort()).toEqual(events.map((event) => event.id).sort());
      expect(new Set(seen.map((event) => event.id)).size).toBe(25);
      const times = seen.map((event) => event.at.getTime());
      expect(times).toEqual([...times].sort((a, b) => (order === "newest" ? b - a : a - b)));
    }
    const [first] = await store.listEvents({ userId: user, order: "oldest", limit: 1 });
    const written = events.find((event) => event.id === first?.id) as AuditEvent;
    expect(first).toEqual(written);
  });

  it("retention deletes a batch and more at one time, by the sweep and by deleteEventsBefore, and counts them", async () => {
    const cutoff = Date.UTC(2031, 0, 1);
    const user = "mariadb-retention";
    const older = Array.from({ length: 20 }, (_, i) => eventAt(user, cutoff - 1000 + i));
    const tied = Array.from({ length: 5100 }, () => eventAt(user, cutoff - 10));
    const kept = Array.from({ length: 5 }, () => eventAt(user, cutoff));
    await store.recordEvents([...older, ...tied, ...kept]);
    await store.sweepExpired(cutoff, { eventsBefore: cutoff });
    const left = await store.listEvents({ userId: user, order: "oldest", limit: 100 });
    expect(left.map((event) => event.id).sort()).toEqual(kept.map((event) => event.id).sort());
    await store.recordEvents([...older, ...tied]);
    expect(await store.deleteEventsBefore(new Date(cutoff))).toBe(5120);
    expect(await store.deleteEventsBefore(new Date(cutoff))).toBe(0);
  });
});

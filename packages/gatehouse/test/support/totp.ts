/**
 * What the second-factor tests share: TOTP codes made by Debian's `oathtool` (an implementation that owes
 * nothing to the server's), a client for the MFA routes over real HTTP, and raw reads of the factor tables
 * of a SQLite file (through a connection of the test's own, never through the store).
 */
import { execFileSync } from "node:child_process";
import { expect } from "vitest";
import { PASSWORD } from "./credentials.js";
import { type ApiRequestInit, apiRequest, sessionCookieOf, type TestServer } from "./http-server.js";
import { querySqliteFile, rawSqliteTables } from "./temp-sqlite.js";

export const OATHTOOL = "/usr/bin/oathtool";
/** The test servers run without secureCookies, so the cookies carry no __Host- prefix. */
export const PENDING_COOKIE = "gatehouse.mfa";
export const DEVICE_COOKIE = "gatehouse.device";
/** One TOTP step (RFC 6238's default, and the server's). */
export const STEP_MS = 30_000;
/** A recovery code as the server hands it out: 10 characters of Crockford's base32 in two groups. */
export const RECOVERY_CODE = /^[0-9a-z]{5}-[0-9a-z]{5}$/;

/** The code `oathtool --totp` prints for `secret` (base32) at `atMs` (the server's clock, in ms). */
export function totpCode(secret: string, atMs: number): string {
  return oathtool(secret, atMs, 0)[0] as string;
}

/** The codes of the `steps + 1` steps from `atMs` on, as `oathtool -w` prints them. */
function oathtool(secret: string, atMs: number, steps: number): string[] {
  const args = ["--totp", "-b", secret, "-N", `@${Math.floor(atMs / 1000)}`, "-w", String(steps)];
  const codes = execFileSync(OATHTOOL, args, { encoding: "utf8" }).trim().split("\n");
  for (const code of codes) expect(code, "oathtool's output").toMatch(/^\d{6}$/);
  return codes;
}

/**
 * A 6-digit code that no step within 3 of `atMs` has: wrong for certain, where a fixed "000000" could be
 * right one time in a million.
 */
export function wrongCode(secret: string, atMs: number): string {
  const near = new Set(oathtool(secret, atMs - 3 * STEP_MS, 6));
  return ["000000", "123456", "999999", "314159", "271828"].find((code) => !near.has(code)) as string;
}

/** RFC 4648 base32 (no padding) to bytes: to look for the raw secret in the database too. */
export function base32Bytes(text: string): Buffer {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const char of text) {
    const value = alphabet.indexOf(char);
    if (value < 0) throw new Error(`not base32: ${char}`);
    bits += value.toString(2).padStart(5, "0");
  }
  const bytes = bits.match(/.{8}/g) ?? [];
  return Buffer.from(bytes.map((byte) => Number.parseInt(byte, 2)));
}

/** A `Cookie` header with these cookies. */
export function cookieHeader(cookies: Record<string, string>): string {
  return Object.entries(cookies)
    .map(([name, value]) => `${name}=${value}`)
    .join("; ");
}

/** A response's headers as name/value pairs, in order (`Headers` is not iterable under the DOM lib's types). */
export function headerList(response: Response): Array<[string, string]> {
  const list: Array<[string, string]> = [];
  response.headers.forEach((value, name) => {
    list.push([name, value]);
  });
  return list;
}

/** The whole `Set-Cookie` line for cookie `name` in a response, if there is one. */
export function setCookieLine(response: Response, name: string): string | undefined {
  return response.headers.getSetCookie().find((line) => line.startsWith(`${name}=`));
}

/** The value cookie `name` is set to in a response (`""` when it is cleared), if it is set. */
export function setCookieValue(response: Response, name: string): string | undefined {
  return setCookieLine(response, name)
    ?.split(";", 1)[0]
    ?.slice(name.length + 1);
}

/** An account with TOTP on, as the MFA routes made it. */
export interface TotpUser {
  email: string;
  id: string;
  /** The base32 secret the set-up answered with. */
  secret: string;
  recoveryCodes: string[];
  /** The session that confirming TOTP rotated in. */
  cookie: string;
}

/** The MFA routes of one test server, as a browser's script would call them. */
export function mfaClient(server: Pick<TestServer, "url" | "gatehouse">) {
  const request = (route: string, init?: ApiRequestInit) => apiRequest(server, route, init);

  const client = {
    request,
    logIn: (email: string, password = PASSWORD, headers: Record<string, string> = {}) =>
      request("/api/auth/login", { json: { email, password }, headers }),
    /** POST mfa/verify with `body` as JSON (`undefined`: no body at all), and the pending cookie when given. */
    verify(pending: string | null, body: unknown, headers: Record<string, string> = {}) {
      const cookie: Record<string, string> =
        pending === null ? {} : { Cookie: cookieHeader({ [PENDING_COOKIE]: pending }) };
      return request("/api/auth/mfa/verify", {
        method: "POST",
        ...(body !== undefined && { json: body }),
        headers: { ...cookie, ...headers },
      });
    },
    /** POST mfa/totp/setup with `body` as JSON (`undefined`: no body at all). */
    setup: (cookie: string, body: unknown) =>
      request("/api/auth/mfa/totp/setup", { method: "POST", ...(body !== undefined && { json: body }), cookie }),
    confirm: (cookie: string, code: string) => request("/api/auth/mfa/totp/confirm", { json: { code }, cookie }),
    async status(cookie: string): Promise<{ totp: boolean; passkeys: number; recoveryCodesLeft: number }> {
      const response = await request("/api/auth/mfa", { cookie });
      expect(response.status).toBe(200);
      return response.json();
    },

    /** A new account signed in with its password (made with users.create, which mails nothing). */
    async signedInUser(email: string): Promise<{ email: string; id: string; cookie: string }> {
      const { id } = await server.gatehouse.users.create({ email, password: PASSWORD });
      const response = await client.logIn(email);
      expect(response.status).toBe(200);
      return { email, id, cookie: sessionCookieOf(response) as string };
    },

    /** A set-up that must succeed: its secret. */
    async setUp(cookie: string): Promise<string> {
      const response = await client.setup(cookie, { password: PASSWORD });
      expect(response.status).toBe(200);
      return (await response.json()).secret;
    },

    /**
     * A new account with TOTP on: set up and confirmed with oathtool's code for `atMs`, which the server's
     * clock must show. That code's step is used up, so later log-ins need a later step.
     */
    async totpUser(email: string, atMs: number): Promise<TotpUser> {
      const { id, cookie } = await client.signedInUser(email);
      const secret = await client.setUp(cookie);
      const confirmed = await client.confirm(cookie, totpCode(secret, atMs));
      expect(confirmed.status).toBe(200);
      const { recoveryCodes } = await confirmed.json();
      return { email, id, secret, recoveryCodes, cookie: sessionCookieOf(confirmed) as string };
    },

    /** The pending cookie of a log-in that must answer 403 mfa_required. */
    async pendingLogIn(email: string, password = PASSWORD): Promise<string> {
      const response = await client.logIn(email, password);
      expect(response.status).toBe(403);
      expect((await response.json()).error.code).toBe("mfa_required");
      const pending = setCookieValue(response, PENDING_COOKIE);
      expect(pending).toMatch(/^[A-Za-z0-9_-]{32}$/);
      return pending as string;
    },

    /** A whole log-in: the password, then `body` as its second step, which must answer 200. Its session cookie. */
    async logInWith(email: string, body: unknown): Promise<string> {
      const verified = await client.verify(await client.pendingLogIn(email), body);
      expect(verified.status, JSON.stringify(await verified.clone().json())).toBe(200);
      const cookie = sessionCookieOf(verified);
      expect(cookie).toBeTruthy();
      return cookie as string;
    },
  };
  return client;
}

/** The rows of the second-factor tables, sorted, read raw. */
export interface RawFactorTables {
  totp: Array<Record<string, unknown>>;
  recoveryCodes: Array<Record<string, unknown>>;
  passkeys: Array<Record<string, unknown>>;
  challenges: Array<Record<string, unknown>>;
}

export function rawFactorTables(file: string, userId?: string): RawFactorTables {
  return querySqliteFile(file, (db) => {
    const rows = (table: string, order: string) =>
      (userId === undefined
        ? db.prepare(`SELECT * FROM ${table} ORDER BY ${order}`).all()
        : db.prepare(`SELECT * FROM ${table} WHERE user_id = ? ORDER BY ${order}`).all(userId)) as Array<
        Record<string, unknown>
      >;
    return {
      totp: rows("gatehouse_totp", "user_id"),
      recoveryCodes: rows("gatehouse_recovery_codes", "code_hash"),
      passkeys: rows("gatehouse_passkeys", "id"),
      challenges: rows("gatehouse_challenges", "id_hash"),
    };
  });
}

/** Everything a second-factor request could change in a SQLite file: compare two to show it changed nothing. */
export function rawMfaTables(file: string) {
  return { ...rawSqliteTables(file), ...rawFactorTables(file) };
}

/**
 * What the session unit tests (src/session/*.test.ts) share: a migrated SQLite store per test, a Gatehouse on
 * it whose clock the test moves, and signing in through it.
 *
 * It lives under test/ rather than next to those tests because the library build (tsconfig.build.json)
 * leaves out only *.test.ts: a helper module in src/ would ship in dist.
 */
import { afterEach, beforeEach } from "vitest";
import type { UserDTO } from "../../src/core/dto.js";
import { createGatehouse, type Gatehouse, type GatehouseOptions } from "../../src/core/gatehouse.js";
import type { SessionInfo, SessionMeta } from "../../src/session/types.js";
import type { Store } from "../../src/stores/types.js";
import { CHEAP_ARGON2, PASSWORD, TEST_SECRET } from "./credentials.js";
import { openTempSqliteStore, querySqliteFile, type TempSqliteStore } from "./temp-sqlite.js";

/** Where each test's clock starts: a fixed date, so expected times can be written out. */
export const T0 = Date.UTC(2030, 0, 1);
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** maxAge 60 min; the absolute cap is 3 h, or 90 min in the tests about the cap. */
export const MAX_AGE_S = 3600;
export const ABSOLUTE_S = 3 * 3600;
export const SHORT_ABSOLUTE_S = 5400;

/**
 * A SQLite store of its own for each test of the enclosing block, deleted after it. Migrated up front, so raw
 * reads of its tables work before the first store call. The object is refilled by beforeEach: read it only
 * inside tests and hooks.
 */
export function freshStorePerTest(): TempSqliteStore {
  const sqlite = {} as TempSqliteStore;
  beforeEach(async () => {
    Object.assign(sqlite, openTempSqliteStore());
    await sqlite.store.migrate();
  });
  afterEach(() => sqlite.close());
  return sqlite;
}

/**
 * A Gatehouse on `store` that reads the time from `now` (the test's clock), with maxAge {@link MAX_AGE_S} and
 * the absolute cap {@link ABSOLUTE_S} unless `options` say otherwise.
 */
export function createClockedGatehouse(
  store: Store,
  now: () => number,
  options: Partial<GatehouseOptions> = {},
): Gatehouse {
  return createGatehouse({
    store,
    secret: TEST_SECRET,
    secureCookies: false,
    maxAgeSeconds: MAX_AGE_S,
    absoluteMaxAgeSeconds: ABSOLUTE_S,
    argon2: CHEAP_ARGON2,
    now,
    ...options,
  });
}

/** Creates the user if the store has none with `email`, logs in through `via`, and returns the session cookie's value. */
export async function signInThrough(
  via: Gatehouse,
  email = "ada@example.com",
  meta: SessionMeta = {},
): Promise<string> {
  if (!(await via.users.list()).some((user) => user.email === email)) {
    await via.users.create({ email, password: PASSWORD });
  }
  const { setCookie } = await via.logIn({ email, password: PASSWORD }, meta);
  return cookieValue(setCookie);
}

/** The value a `Set-Cookie` sets. */
export function cookieValue(setCookie: string): string {
  const pair = setCookie.split(";", 1)[0] as string;
  const value = decodeURIComponent(pair.slice(pair.indexOf("=") + 1));
  if (!value) throw new Error(`no cookie value in ${setCookie}`);
  return value;
}

/** A `Cookie` header that carries the session cookie `value` (the tests' cookies are not `__Host-`). */
export function sessionCookieHeader(value: string, name = "gatehouse.session"): string {
  return `${name}=${encodeURIComponent(value)}`;
}

/** What {@link validateSession} found: the user and session, and the cookie value and expiry to send back, if any. */
export interface CheckedSession {
  user: UserDTO;
  session: SessionInfo;
  renewed: { value: string; expiresAt: Date } | null;
}

/**
 * The secure check of `gatehouse.authenticate` for a bare cookie value, as the session tests phrase it: with
 * `rotate`, the check may rotate or renew the session (the response can carry a cookie).
 */
export async function validateSession(
  gatehouse: Gatehouse,
  value: string | null,
  options: { rotate?: boolean } = {},
): Promise<CheckedSession | null> {
  const found = await gatehouse.authenticate(value === null ? null : sessionCookieHeader(value), {
    canSetCookie: options.rotate ?? false,
  });
  if (!found.user) return null;
  const renewed = found.setCookie ? { value: cookieValue(found.setCookie), expiresAt: found.session.expiresAt } : null;
  return { user: found.user, session: found.session, renewed };
}

/** Every row of the sessions table, read from the file through a connection of its own, not through the store. */
export function rawSessionRows(dbFile: string): Array<Record<string, unknown>> {
  return querySqliteFile(
    dbFile,
    (db) => db.prepare("SELECT * FROM gatehouse_sessions").all() as Array<Record<string, unknown>>,
  );
}

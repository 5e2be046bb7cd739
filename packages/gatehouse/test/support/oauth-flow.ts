/**
 * The app side of an OAuth flow in the library's tests: starting one in a test browser, delivering the
 * provider's callback, and reading what the routes stored, raw from the SQLite file.
 */
import { expect } from "vitest";
import type { Browser } from "./http-server.js";
import type { TestOidcProvider } from "./oidc-provider.js";
import { querySqliteFile } from "./temp-sqlite.js";

/** The flow cookie's name on the test servers (secureCookies off, so no __Host- prefix). */
export const FLOW_COOKIE = "gatehouse.oauth";

/** Where a redirect goes, as a path and query on the app (`/dashboard`), failing the test if it leaves `appUrl`. */
export function redirectTarget(response: Response, appUrl: string): string {
  expect([302, 303], `status of a redirect to ${response.headers.get("location")}`).toContain(response.status);
  const location = response.headers.get("location");
  expect(location, "Location").toBeTruthy();
  const url = new URL(location as string, appUrl);
  expect(url.origin, `Location ${location} stays on the app`).toBe(new URL(appUrl).origin);
  return url.pathname + url.search;
}

/**
 * GET /api/auth/oauth/<provider>[?next=…] in `browser`: it must answer 302 to the provider's authorization
 * endpoint. Resolves to that authorization URL.
 */
export async function startOAuthFlow(
  browser: Browser,
  provider: Pick<TestOidcProvider, "issuer">,
  providerId: string,
  next?: string,
): Promise<URL> {
  const query = next === undefined ? "" : `?${new URLSearchParams({ next })}`;
  const response = await browser.request(`/api/auth/oauth/${providerId}${query}`);
  expect(response.status, await response.clone().text()).toBe(302);
  const url = new URL(response.headers.get("location") as string);
  expect(url.origin).toBe(new URL(provider.issuer).origin);
  expect(browser.cookie(FLOW_COOKIE), "the flow cookie").toBeTruthy();
  return url;
}

/** The provider's redirect (`callbackUrl`) delivered to the app in `browser`, on `providerId`'s callback by default. */
export function deliverCallback(browser: Browser, callbackUrl: string, providerId?: string): Promise<Response> {
  const url = new URL(callbackUrl);
  const path = providerId === undefined ? url.pathname : `/api/auth/oauth/${providerId}/callback`;
  return browser.request(`${path}${url.search}`);
}

/** The callback URL with query parameter `name` set to `value` (`null`: removed). */
export function withParam(callbackUrl: string, name: string, value: string | null): string {
  const url = new URL(callbackUrl);
  if (value === null) url.searchParams.delete(name);
  else url.searchParams.set(name, value);
  return url.href;
}

/** Every row of the tables an OAuth sign-in writes to for good: users, identities and sessions, sorted, read raw. */
export interface RawOAuthTables {
  users: Array<Record<string, unknown>>;
  identities: Array<Record<string, unknown>>;
  sessions: Array<Record<string, unknown>>;
}

export function rawOAuthTables(file: string): RawOAuthTables {
  return querySqliteFile(file, (db) => {
    const all = (query: string) => db.prepare(query).all() as Array<Record<string, unknown>>;
    return {
      users: all("SELECT * FROM gatehouse_users ORDER BY id"),
      identities: all("SELECT * FROM gatehouse_identities ORDER BY provider, subject"),
      sessions: all("SELECT * FROM gatehouse_sessions ORDER BY id"),
    };
  });
}

/** The user's identity rows, read raw. */
export function rawIdentitiesOf(file: string, userId: string): Array<Record<string, unknown>> {
  const query = "SELECT * FROM gatehouse_identities WHERE user_id = ? ORDER BY created_at, provider";
  return querySqliteFile(file, (db) => db.prepare(query).all(userId) as Array<Record<string, unknown>>);
}

/**
 * `GET /api/auth/events`, on a SQLite file and on PostgreSQL: a signed-in user's own security events, newest
 * first, paged with an opaque cursor (no event twice, none skipped, ties in time broken by id); another user's
 * events never; 401 signed out; a bad cursor or limit is 400 `invalid_input`. And the retention sweep: events
 * older than `auditRetentionDays` go in the background, the rest stay.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomToken } from "../src/crypto/random.js";
import type { AuditEvent } from "../src/stores/types.js";
import { type AuditBackend, type AuditServer, auditBackends, startAuditServer } from "./support/audit.js";
import { PASSWORD } from "./support/credentials.js";
import { apiRequest, expectError, sessionCookieOf, uniqueEmails } from "./support/http-server.js";

const backends = await auditBackends();
const DAY = 24 * 60 * 60 * 1000;

/** An event of `userId` at `at` (ms), as the core would make it. */
function eventAt(userId: string, at: number, type = "login.success"): AuditEvent {
  return {
    id: randomToken(16),
    at: new Date(at),
    type,
    outcome: "success",
    userId,
    userEmail: `${userId}@example.com`,
    actorType: "user",
    actorId: userId,
    ip: "203.0.113.9",
    userAgent: "Pager/1.0",
    detail: { method: "password" },
  };
}

describe.each(backends)("GET /api/auth/events ($name)", ({ name, open }) => {
  let backend: AuditBackend;
  let app: AuditServer;
  const uniqueEmail = uniqueEmails("events", name.toLowerCase());

  beforeAll(async () => {
    backend = await open();
    app = await startAuditServer(backend.store, { strategy: "database" });
  });
  afterAll(async () => {
    await app?.close();
    await backend?.close();
  });

  async function signedUp(): Promise<{ id: string; cookie: string }> {
    const response = await apiRequest(app, "/api/auth/signup", { json: { email: uniqueEmail(), password: PASSWORD } });
    expect(response.status).toBe(201);
    return { id: (await response.json()).user.id, cookie: sessionCookieOf(response) as string };
  }

  type Page = { events: Array<Record<string, unknown>>; nextCursor: string | null };
  async function page(cookie: string, query = ""): Promise<Page> {
    const response = await apiRequest(app, `/api/auth/events${query}`, { cookie });
    expect(response.status, await response.clone().text()).toBe(200);
    return response.json();
  }

  it("answers 401 unauthenticated signed out, and with a cookie that names no session", async () => {
    await expectError(await apiRequest(app, "/api/auth/events"), 401, "unauthenticated");
    await expectError(
      await apiRequest(app, "/api/auth/events", { cookie: "AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }),
      401,
      "unauthenticated",
    );
  });

  it("lists the user's own events newest first, as PublicEvents: their sign-up first of all", async () => {
    const { id, cookie } = await signedUp();
    const { events, nextCursor } = await page(cookie);
    expect(nextCursor).toBeNull();
    expect(events).toHaveLength(1);
    const [signUp] = events as [Record<string, unknown>];
    expect(Object.keys(signUp).sort()).toEqual(["actor", "at", "detail", "id", "ip", "outcome", "type", "userAgent"]);
    expect(signUp).toMatchObject({
      type: "user.signup",
      outcome: "success",
      actor: { type: "user", id },
      detail: { method: "password" },
      at: new Date(app.startedAt).toISOString(),
    });
  });

  it("pages 45 events 20 at a time with the cursor: newest first, ties in time by id, none twice, none skipped; never another user's", async () => {
    const { id, cookie } = await signedUp();
    const { id: otherId, cookie: otherCookie } = await signedUp();
    const base = app.startedAt - DAY;
    // Three events at each of 15 times: the cursor must hold the id as well as the time.
    const mine = Array.from({ length: 45 }, (_, i) => eventAt(id, base + Math.floor(i / 3) * 1000));
    await backend.store.recordEvents([...mine, eventAt(otherId, base + 500), eventAt(otherId, base + 5000)]);
    // The order the database itself gives (its own collation breaks the ties), read raw.
    const param = backend.name === "SQLite" ? "?" : "$1";
    const ordered = await backend.rows(
      `SELECT id FROM gatehouse_audit WHERE user_id = ${param} ORDER BY at DESC, id DESC`,
      [id],
    );
    const expected = ordered.map((row) => row.id);
    expect(expected).toHaveLength(46);

    const seen: unknown[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const next: Page = await page(cookie, `?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      sizes.push(next.events.length);
      seen.push(...next.events.map((event) => event.id));
      cursor = next.nextCursor;
      if (cursor !== null) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    } while (cursor !== null);
    expect(sizes).toEqual([20, 20, 6]);
    expect(seen).toEqual(expected);

    const theirs = await page(otherCookie, "?limit=100");
    expect(theirs.events.map((event) => event.type).sort()).toEqual(["login.success", "login.success", "user.signup"]);
    expect(theirs.events.some((event) => seen.includes(event.id))).toBe(false);
    // The default page is 20.
    expect((await page(cookie)).events).toHaveLength(20);
  });

  it("a last page that is exactly full says there is no next one", async () => {
    const { id, cookie } = await signedUp();
    await backend.store.recordEvents(Array.from({ length: 4 }, (_, i) => eventAt(id, app.startedAt - (i + 1) * 1000)));
    const first = await page(cookie, "?limit=5");
    expect(first.events).toHaveLength(5);
    expect(first.nextCursor).toBeNull();
  });

  it.each([
    ["a limit of 0", "?limit=0", "limit"],
    ["a limit over 100", "?limit=101", "limit"],
    ["a limit that is not a number", "?limit=ten", "limit"],
    ["a negative limit", "?limit=-5", "limit"],
    ["a fractional limit", "?limit=2.5", "limit"],
    ["a cursor that is not base64url", "?cursor=%21%21%21", "cursor"],
    ["a cursor of garbage", `?cursor=${Buffer.from("hello world").toString("base64url")}`, "cursor"],
    ["a cursor with no id", `?cursor=${Buffer.from("1700000000000.").toString("base64url")}`, "cursor"],
    ["a cursor far too long", `?cursor=${"A".repeat(5000)}`, "cursor"],
  ])("answers 400 invalid_input to %s", async (_, query, field) => {
    const { cookie } = await signedUp();
    const error = await expectError(
      await apiRequest(app, `/api/auth/events${query}`, { cookie }),
      400,
      "invalid_input",
    );
    expect(Object.keys(error.fields)).toEqual([field]);
  });
});

describe.each(backends)("audit retention ($name)", ({ open }) => {
  let backend: AuditBackend;
  let app: AuditServer;

  beforeAll(async () => {
    backend = await open();
    app = await startAuditServer(backend.store, { strategy: "database", auditRetentionDays: 30 });
  });
  afterAll(async () => {
    await app?.close();
    await backend?.close();
  });

  it("the background sweep deletes events older than auditRetentionDays and keeps the rest", async () => {
    const now = app.startedAt;
    const old = [eventAt("gone-user", now - 31 * DAY), eventAt("kept-user", now - 30 * DAY - 1000)];
    const kept = [eventAt("kept-user", now - 29 * DAY), eventAt("kept-user", now - 1000)];
    await backend.store.recordEvents([...old, ...kept]);
    // A log-in attempt writes counters, and those carry the sweep (off the request, once a minute at most).
    await apiRequest(app, "/api/auth/login", { json: { email: "nobody@example.com", password: PASSWORD } });
    const ids = async () => (await backend.events()).map((row) => row.id);
    await expect.poll(ids, { timeout: 5000 }).not.toContain(old[0]?.id);
    const left = await ids();
    for (const event of old) expect(left).not.toContain(event.id);
    for (const event of kept) expect(left).toContain(event.id);
  });
});

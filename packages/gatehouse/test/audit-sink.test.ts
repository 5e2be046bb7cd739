/**
 * The `onEvent` sink: it is handed each event once it is committed, and a sink that throws, rejects or never
 * settles neither fails nor holds up the request that made the event (on a SQLite file, read raw).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { AuditEvent } from "../src/stores/types.js";
import {
  type AuditBackend,
  type AuditServer,
  CLIENT_HEADERS,
  openSqliteBackend,
  startAuditServer,
} from "./support/audit.js";
import { PASSWORD } from "./support/credentials.js";
import { type ApiRequestInit, apiRequest, sessionCookieOf, uniqueEmails } from "./support/http-server.js";

/** How long a request may take here at most: far below a test's timeout, far above a cheap log-in's cost. */
const PROMPT_MS = 1500;

type Sink = (event: AuditEvent) => void | Promise<void>;

const SINKS: Array<{ name: string; sink: Sink }> = [
  {
    name: "throws",
    sink: () => {
      throw new Error("the SIEM is down");
    },
  },
  { name: "rejects", sink: () => Promise.reject(new Error("the SIEM said no")) },
  { name: "never settles", sink: () => new Promise<void>(() => {}) },
];

describe.each(SINKS)("a sink that $name", ({ name, sink }) => {
  let backend: AuditBackend;
  let app: AuditServer;
  const calls: AuditEvent[] = [];
  const uniqueEmail = uniqueEmails("sink", name.replace(/\s/g, "-"));

  beforeAll(async () => {
    backend = await openSqliteBackend();
    app = await startAuditServer(backend.store, {
      strategy: "database",
      onEvent: (event) => {
        calls.push(event);
        return sink(event);
      },
    });
  });
  afterAll(async () => {
    await app?.close();
    await backend?.close();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** A request that must answer `status`, promptly. */
  async function prompt(route: string, init: ApiRequestInit, status: number): Promise<Response> {
    const started = performance.now();
    const response = await apiRequest(app, route, { ...init, headers: { ...CLIENT_HEADERS, ...init.headers } });
    expect(response.status).toBe(status);
    expect(performance.now() - started).toBeLessThan(PROMPT_MS);
    return response;
  }

  it("neither fails nor delays a sign-up, log-ins (right and wrong) and a log-out, whose events are all stored", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const email = uniqueEmail();
    const signUp = await prompt("/api/auth/signup", { json: { email, password: PASSWORD } }, 201);
    const { id } = (await signUp.json()).user;
    await prompt("/api/auth/login", { json: { email, password: "not the password at all" } }, 401);
    const login = await prompt("/api/auth/login", { json: { email, password: PASSWORD } }, 200);
    await prompt("/api/auth/logout", { method: "POST", cookie: sessionCookieOf(login) as string }, 200);

    const stored = await backend.rows("SELECT type FROM gatehouse_audit WHERE user_id = ? ORDER BY type", [id]);
    expect(stored.map((row) => row.type)).toEqual(["login.failure", "login.success", "logout", "user.signup"]);
    await expect.poll(() => calls.filter((event) => event.userId === id).length).toBe(4);
    // A failing sink is logged for the operator; one that never settles cannot be.
    if (name === "never settles") expect(logged).not.toHaveBeenCalled();
    else {
      await expect.poll(() => logged.mock.calls.length).toBeGreaterThanOrEqual(4);
      expect(String(logged.mock.calls[0]?.[0])).toContain("audit sink failed");
    }
  });

  it("is handed a copy of the event: changing it changes nothing stored", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    calls.length = 0;
    const email = uniqueEmail();
    const signUp = await prompt("/api/auth/signup", { json: { email, password: PASSWORD } }, 201);
    await expect.poll(() => calls.length).toBe(1);
    const [event] = calls as [AuditEvent];
    expect(event).toMatchObject({ type: "user.signup", userId: (await signUp.json()).user.id, userEmail: email });
    event.type = "tampered";
    event.detail.method = "tampered";
    const again = (await backend.rows("SELECT type, detail FROM gatehouse_audit WHERE id = ?", [event.id]))[0];
    expect(again).toEqual({ type: "user.signup", detail: JSON.stringify({ method: "password" }) });
  });
});

describe("the sink runs after the commit", () => {
  let backend: AuditBackend;
  let app: AuditServer;
  /** For each event handed to the sink: whether its row was there already, read raw at that moment. */
  const seen: Array<{ type: string; stored: boolean }> = [];

  beforeAll(async () => {
    backend = await openSqliteBackend();
    app = await startAuditServer(backend.store, {
      strategy: "database",
      onEvent: async (event) => {
        const rows = await backend.rows("SELECT id FROM gatehouse_audit WHERE id = ?", [event.id]);
        seen.push({ type: event.type, stored: rows.length === 1 });
      },
    });
  });
  afterAll(async () => {
    await app?.close();
    await backend?.close();
  });

  it("for a change's event and for a failed log-in's", async () => {
    const email = "after-commit@example.com";
    await apiRequest(app, "/api/auth/signup", { json: { email, password: PASSWORD } });
    await apiRequest(app, "/api/auth/login", { json: { email, password: "wrong wrong wrong wrong" } });
    const login = await apiRequest(app, "/api/auth/login", { json: { email, password: PASSWORD } });
    expect(login.status).toBe(200);
    await expect.poll(() => seen.length).toBe(3);
    expect(seen.map((entry) => entry.type).sort()).toEqual(["login.failure", "login.success", "user.signup"]);
    expect(seen.every((entry) => entry.stored)).toBe(true);
  });
});

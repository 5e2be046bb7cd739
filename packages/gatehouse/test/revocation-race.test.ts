/**
 * A revocation (revoke-all, "sign out other sessions", password change, password reset) ends every session
 * that existed before it, including one whose rotation was under way: read before the revocation and written
 * after it. That interleaving is forced step by step through a store whose calls can be held, then raced for
 * real over HTTP with a stolen cookie. And a revocation the database refuses half-way changes nothing. On
 * SQLite and PostgreSQL, for both strategies; every revoked session is checked as a client would present it.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Gatehouse } from "../src/core/gatehouse.js";
import { sha256Hex } from "../src/crypto/digest.js";
import { randomToken } from "../src/crypto/random.js";
import type { SessionStrategyName } from "../src/session/config.js";
import { createPostgresStore } from "../src/stores/postgres.js";
import type { Store } from "../src/stores/types.js";
import { PASSWORD } from "./support/credentials.js";
import {
  apiRequest,
  expectError,
  sessionCookieOf,
  signUpViaApi,
  startServer,
  type TestServer,
  uniqueEmails,
} from "./support/http-server.js";
import { createPostgresDatabase, requireService } from "./support/services.js";
import {
  type CheckedSession,
  cookieValue,
  createClockedGatehouse,
  HOUR,
  validateSession,
} from "./support/session-fixtures.js";
import { openTempSqliteStore, querySqliteFile } from "./support/temp-sqlite.js";

const postgresAvailable = await requireService("postgres");

const STRATEGIES = ["database", "stateless"] as const satisfies readonly SessionStrategyName[];
const NEW_PASSWORD = "a brand new passphrase";
/** Rounds of the HTTP race per backend and strategy. */
const ROUNDS = 100;
/** Requests the attacker keeps in flight at once. */
const POLLERS = 4;

/** A user's row, their session rows and their tokens, read through a connection of the test's own. */
interface RawAccount {
  user: unknown;
  sessions: unknown[];
  tokens: unknown[];
}

/** A store under test and what the test does to its database behind the store's back. */
interface Backend {
  store: Store;
  /** Makes every DELETE of a session row fail inside the database (a trigger); resolves to its undo. */
  failSessionDeletes(): Promise<() => Promise<void>>;
  rawAccount(userId: string): Promise<RawAccount>;
  close(): Promise<void>;
}

async function openSqliteBackend(): Promise<Backend> {
  const sqlite = openTempSqliteStore();
  await sqlite.store.migrate();
  const exec = (statements: string): void => {
    querySqliteFile(sqlite.dbFile, (db) => db.exec(statements));
  };
  return {
    store: sqlite.store,
    async failSessionDeletes() {
      exec(
        "CREATE TRIGGER test_fail_session_delete BEFORE DELETE ON gatehouse_sessions BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
      );
      return async () => exec("DROP TRIGGER test_fail_session_delete");
    },
    async rawAccount(userId) {
      return querySqliteFile(sqlite.dbFile, (db) => ({
        user: db.prepare("SELECT * FROM gatehouse_users WHERE id = ?").get(userId),
        sessions: db.prepare("SELECT * FROM gatehouse_sessions WHERE user_id = ? ORDER BY id").all(userId),
        tokens: db.prepare("SELECT * FROM gatehouse_tokens WHERE user_id = ? ORDER BY token_hash").all(userId),
      }));
    },
    close: () => sqlite.close(),
  };
}

async function openPostgresBackend(): Promise<Backend> {
  const database = await createPostgresDatabase();
  const store = createPostgresStore({ url: database.url });
  await store.migrate();
  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  const rows = async (query: string, userId: string) => (await admin.query(query, [userId])).rows;
  return {
    store,
    async failSessionDeletes() {
      await admin.query(`
        CREATE FUNCTION test_fail_session_delete() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'injected failure'; END $$;
        CREATE TRIGGER test_fail_session_delete BEFORE DELETE ON gatehouse_sessions
        FOR EACH ROW EXECUTE FUNCTION test_fail_session_delete();
      `);
      return async () => {
        await admin.query(
          "DROP TRIGGER test_fail_session_delete ON gatehouse_sessions; DROP FUNCTION test_fail_session_delete();",
        );
      };
    },
    async rawAccount(userId) {
      return {
        user: (await rows("SELECT * FROM gatehouse_users WHERE id = $1", userId))[0],
        sessions: await rows("SELECT * FROM gatehouse_sessions WHERE user_id = $1 ORDER BY id", userId),
        tokens: await rows("SELECT * FROM gatehouse_tokens WHERE user_id = $1 ORDER BY token_hash", userId),
      };
    },
    async close() {
      await admin.end();
      await store.close();
      await database.drop();
    },
  };
}

const SQLITE = { name: "SQLite", open: openSqliteBackend };
const POSTGRES = { name: "PostgreSQL", open: openPostgresBackend };
const BACKENDS = postgresAvailable ? [SQLITE, POSTGRES] : [SQLITE];

/** The store calls the attacker's rotating request can be held after, while the victim's revocation runs. */
type HeldMethod = "getSessionAndUser" | "deleteSession";

/** A held call: `reached` once it has run (its result not yet handed back), and `release` to hand it back. */
interface Hold {
  reached: Promise<void>;
  release(): void;
}

/**
 * `inner`, except that the next call of a held method for one session id is held after it ran. Only methods
 * every store has had since rotation existed are held, so the same test runs against older code too.
 */
function holdingStore(inner: Store): { store: Store; holdAfter(method: HeldMethod, sessionId: string): Hold } {
  const holds = new Map<PropertyKey, { sessionId: string; reached(): void; released: Promise<void> }>();
  const store = new Proxy(inner, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property);
      if (typeof value !== "function") return value;
      if (property !== "getSessionAndUser" && property !== "deleteSession") return value.bind(target);
      return async (sessionId: string) => {
        const result: unknown = await value.call(target, sessionId);
        const hold = holds.get(property);
        if (hold?.sessionId === sessionId) {
          holds.delete(property);
          hold.reached();
          await hold.released;
        }
        return result;
      };
    },
  });
  return {
    store,
    holdAfter(method, sessionId) {
      let reached!: () => void;
      let release!: () => void;
      const hold = { reached: new Promise<void>((resolve) => (reached = resolve)), release: () => release() };
      holds.set(method, { sessionId, reached, released: new Promise<void>((resolve) => (release = resolve)) });
      return hold;
    },
  };
}

/** A victim signed in twice, both sessions left stale by a role change, so the next check of each rotates. */
interface Victim {
  id: string;
  email: string;
  /** The victim's own browser, checked (and so rotated) before the attack. */
  own: CheckedSession;
  ownCookie: string;
  /** The cookie of the victim's other session, the one the attacker has a copy of. */
  stolen: string;
  stolenId: string;
  /** A pending password-reset link of the victim's. */
  resetToken: string;
}

/** What ends the victim's sessions; resolves to the cookie of the one session meant to outlive it, if any. */
const REVOCATIONS: Record<string, (gatehouse: Gatehouse, victim: Victim) => Promise<string | null>> = {
  revokeAllSessions: async (gatehouse, victim) => {
    await gatehouse.revokeAllSessions(victim.id);
    return null;
  },
  revokeOtherSessions: async (gatehouse, victim) => {
    await gatehouse.revokeOtherSessions(victim.id, victim.own.session.id);
    return victim.ownCookie;
  },
  changePassword: async (gatehouse, victim) => {
    const { setCookie } = await gatehouse.changePassword(victim.own, {
      currentPassword: PASSWORD,
      newPassword: NEW_PASSWORD,
    });
    return cookieValue(setCookie);
  },
  confirmPasswordReset: async (gatehouse, victim) => {
    await gatehouse.confirmPasswordReset({ token: victim.resetToken, password: NEW_PASSWORD });
    return null;
  },
};

/** Where the attacker's request is held: after it read the session, or between replacing and storing it. */
const HOLDS: Array<[string, HeldMethod]> = [
  ["read the stale session", "getSessionAndUser"],
  ["deleted the stale record (its replacement not yet stored)", "deleteSession"],
];

describe.each(BACKENDS)("revocation against rotation ($name)", ({ name, open }) => {
  // Filled in by beforeAll: read it only inside tests and hooks.
  const backend = {} as Backend;
  let opened = false;
  beforeAll(async () => {
    Object.assign(backend, await open());
    opened = true;
  });
  afterAll(async () => {
    if (opened) await backend.close();
  });

  describe.each(STRATEGIES)("%s sessions", (strategy) => {
    const uniqueEmail = uniqueEmails(`race-${strategy}-`, name.toLowerCase());
    // One frozen clock for the gatehouses here and the server below: they share the store, and the limiter's
    // sweep deletes sessions that expired by its own clock.
    let app: TestServer;
    let holding: ReturnType<typeof holdingStore>;
    let gatehouse: Gatehouse;
    beforeAll(async () => {
      app = await startServer(strategy, { store: backend.store });
      holding = holdingStore(backend.store);
      gatehouse = createClockedGatehouse(holding.store, () => app.startedAt, {
        strategy,
        url: app.url,
        mailer: { send: async () => {} },
      });
    });
    afterAll(async () => {
      await app?.close();
    });

    async function signIn(email: string): Promise<string> {
      const { setCookie } = await gatehouse.logIn({ email, password: PASSWORD });
      return cookieValue(setCookie);
    }

    /** A pending password-reset link, stored as the reset flow stores one; resolves to its token. */
    async function addResetToken(userId: string, email: string): Promise<string> {
      const token = randomToken(24);
      const createdAt = new Date(app.startedAt);
      const expiresAt = new Date(app.startedAt + HOUR);
      const { revocationEpoch } = (await backend.store.getUserById(userId)) as { revocationEpoch: number };
      const record = {
        tokenHash: sha256Hex(token),
        purpose: "reset_password" as const,
        userId,
        email,
        revocationEpoch,
        createdAt,
        expiresAt,
      };
      await backend.store.createToken(record, { replace: true });
      return token;
    }

    async function createVictim(): Promise<Victim> {
      const email = uniqueEmail();
      const { id } = await gatehouse.users.create({ email, password: PASSWORD });
      const first = await signIn(email);
      const stolen = await signIn(email);
      await gatehouse.users.setRole(email, "admin");
      const own = await validateSession(gatehouse, first, { rotate: true });
      if (!own) throw new Error("the victim's own session did not validate");
      const stolenId = (await gatehouse.listSessions(id)).find((session) => session.id !== own.session.id)?.id;
      if (!stolenId) throw new Error("the victim's second session is missing");
      return {
        id,
        email,
        own,
        ownCookie: own.renewed?.value ?? first,
        stolen,
        stolenId,
        resetToken: await addResetToken(id, email),
      };
    }

    describe.each(Object.keys(REVOCATIONS))("%s", (revocation) => {
      it.each(HOLDS)(
        "leaves the attacker no working cookie: its rotating request %s, the revocation ran, the request went on",
        async (_label, method) => {
          const victim = await createVictim();
          const hold = holding.holdAfter(method, victim.stolenId);
          const attacker = validateSession(gatehouse, victim.stolen, { rotate: true });
          const finishedUnheld = attacker.then(() => {
            throw new Error(`the attacker's request finished without calling ${method} for its session`);
          });
          await Promise.race([hold.reached, finishedUnheld]);
          const kept = await REVOCATIONS[revocation]!(gatehouse, victim);
          hold.release();
          const renewed = (await attacker)?.renewed?.value;

          const listed = (await gatehouse.listSessions(victim.id)).map((session) => session.id);
          if (kept === null) expect(listed).toEqual([]);
          else expect(listed).toEqual([(await validateSession(gatehouse, kept, { rotate: true }))?.session.id]);
          for (const cookie of [victim.stolen, ...(renewed ? [renewed] : [])]) {
            expect(await validateSession(gatehouse, cookie, { rotate: true })).toBeNull();
            expect(await validateSession(gatehouse, cookie, { rotate: false })).toBeNull();
          }
        },
      );
    });

    it(`a stolen cookie polled from ${POLLERS} requests at once, following every renewal, dies with the password change: ${ROUNDS} rounds`, async () => {
      // Over HTTP on SQLite the window stays shut: its driver is synchronous and a rotation waits for no I/O,
      // so no other request runs in the middle of one. The held-call tests above open it on every backend.
      const lost: string[] = [];
      const unexpected: number[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        // The victim's own browser changes the password; the attacker has the cookie of their other session.
        const { email, cookie: victimCookie } = await signUpViaApi(app, uniqueEmail());
        const stolen = sessionCookieOf(
          await apiRequest(app, "/api/auth/login", { json: { email, password: PASSWORD } }),
        ) as string;
        // Both sessions are stale now: the attacker's polls rotate, which is what the revocation must outrun.
        await app.gatehouse.users.setRole(email, "admin");
        const seen = new Set([stolen]);
        let newest = stolen;
        let changed = false;
        // And an admin keeps changing the role, so that some rotation is likely in flight when the password
        // changes, not only the first. setImmediate lets requests in between: on SQLite every store call
        // settles without waiting for I/O.
        const flipRoles = async () => {
          for (let role = "user"; !changed; role = role === "user" ? "admin" : "user") {
            await app.gatehouse.users.setRole(email, role);
            await new Promise(setImmediate);
          }
        };
        const poll = async () => {
          while (!changed) {
            const response = await apiRequest(app, "/api/me", { cookie: newest });
            await response.arrayBuffer();
            if (response.status !== 200 && response.status !== 401) unexpected.push(response.status);
            const renewed = sessionCookieOf(response);
            if (renewed) {
              seen.add(renewed);
              newest = renewed;
            }
          }
        };
        const pollers = [flipRoles(), ...Array.from({ length: POLLERS }, poll)];
        const change = await apiRequest(app, "/api/auth/password", {
          cookie: victimCookie,
          json: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
        });
        changed = true;
        await Promise.all(pollers);
        expect(change.status).toBe(200);
        expect((await apiRequest(app, "/api/me", { cookie: sessionCookieOf(change) as string })).status).toBe(200);
        const working: number[] = [];
        for (const cookie of seen) {
          const status = (await apiRequest(app, "/api/me", { cookie })).status;
          if (status !== 401) working.push(status);
        }
        if (working.length > 0)
          lost.push(
            `round ${round}: ${working.length} of the ${seen.size} cookies the attacker saw got ${working.join(", ")}`,
          );
      }
      expect(unexpected).toEqual([]);
      expect(lost).toEqual([]);
    }, 120_000);

    describe("a revocation that fails half-way in the database changes nothing", () => {
      /** Runs `fail` with session deletes refused by the database, then lets them through again. */
      async function withSessionDeletesFailing<T>(fail: () => Promise<T>): Promise<T> {
        const undo = await backend.failSessionDeletes();
        try {
          return await fail();
        } finally {
          await undo();
        }
      }

      async function expectPasswordUnchanged(email: string): Promise<void> {
        await expect(gatehouse.logIn({ email, password: NEW_PASSWORD })).rejects.toMatchObject({
          code: "invalid_credentials",
        });
        await expect(gatehouse.logIn({ email, password: PASSWORD })).resolves.toBeDefined();
      }

      async function expectAlive(cookies: string[]): Promise<void> {
        for (const cookie of cookies)
          expect(await validateSession(gatehouse, cookie, { rotate: false })).not.toBeNull();
      }

      async function signedInTwice(): Promise<{ id: string; email: string; cookies: string[] }> {
        const email = uniqueEmail();
        const { id } = await gatehouse.users.create({ email, password: PASSWORD });
        return { id, email, cookies: [await signIn(email), await signIn(email)] };
      }

      it("POST /api/auth/password: 503 unavailable; the old password and every old session still work, the new one does not", async () => {
        const { email, cookie: own } = await signUpViaApi(app, uniqueEmail());
        const other = sessionCookieOf(
          await apiRequest(app, "/api/auth/login", { json: { email, password: PASSWORD } }),
        ) as string;
        const { id } = (await validateSession(app.gatehouse, own, { rotate: false }))!.user;
        const before = await backend.rawAccount(id);
        const response = await withSessionDeletesFailing(() =>
          apiRequest(app, "/api/auth/password", {
            cookie: own,
            json: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
          }),
        );
        await expectError(response, 503, "unavailable");
        const after = await backend.rawAccount(id);
        expect({ user: after.user, sessions: after.sessions }).toEqual({
          user: before.user,
          sessions: before.sessions,
        });
        for (const cookie of [own, other]) expect((await apiRequest(app, "/api/me", { cookie })).status).toBe(200);
        await expectPasswordUnchanged(email);
      });

      it("revokeAllSessions: rejects unavailable; the account, its sessions and its pending links are as they were", async () => {
        const { id, email, cookies } = await signedInTwice();
        await addResetToken(id, email);
        const before = await backend.rawAccount(id);
        await withSessionDeletesFailing(() =>
          expect(gatehouse.revokeAllSessions(id)).rejects.toMatchObject({ code: "unavailable" }),
        );
        expect(await backend.rawAccount(id)).toEqual(before);
        await expectAlive(cookies);
      });

      it("confirmPasswordReset: rejects unavailable; the old password and every old session still work, the new one does not", async () => {
        const { id, email, cookies } = await signedInTwice();
        const token = await addResetToken(id, email);
        const before = await backend.rawAccount(id);
        await withSessionDeletesFailing(() =>
          expect(gatehouse.confirmPasswordReset({ token, password: NEW_PASSWORD })).rejects.toMatchObject({
            code: "unavailable",
          }),
        );
        // The link itself is used up before the password is set: only the account and its sessions must stand.
        const after = await backend.rawAccount(id);
        expect({ user: after.user, sessions: after.sessions }).toEqual({
          user: before.user,
          sessions: before.sessions,
        });
        await expectAlive(cookies);
        await expectPasswordUnchanged(email);
      });
    });
  });
});

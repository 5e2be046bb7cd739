import type Database from "better-sqlite3";
import { beforeEach, describe, expect, it } from "vitest";
import { PASSWORD, TEST_SECRET } from "../../test/support/credentials.js";
import {
  cookieValue,
  createClockedGatehouse,
  DAY,
  freshStorePerTest,
  HOUR,
  MINUTE,
  SECOND,
  sessionCookieHeader,
  signInThrough,
  T0,
  validateSession,
} from "../../test/support/session-fixtures.js";
import { querySqliteFile } from "../../test/support/temp-sqlite.js";
import type { Gatehouse } from "../core/gatehouse.js";
import { createSealer } from "../crypto/seal.js";
import type { SessionCookieOptions } from "./config.js";
import { createOptimisticCheck } from "./optimistic.js";
import { SESSION_SEAL_PURPOSE } from "./stateless.js";
import type { SessionMeta } from "./types.js";

type Lifetimes = Pick<SessionCookieOptions, "maxAgeSeconds" | "absoluteMaxAgeSeconds" | "idleTimeoutSeconds">;

describe.each(["database", "stateless"] as const)("the session lifecycle (%s sessions)", (strategy) => {
  const sqlite = freshStorePerTest();
  let clock: number;
  let gatehouse: Gatehouse;

  /** maxAge 1 h (idle timeout too, by default), absolute cap 3 h, unless a test says otherwise. */
  function createTestGatehouse(lifetimes: Lifetimes = {}): Gatehouse {
    return createClockedGatehouse(sqlite.store, () => clock, { strategy, ...lifetimes });
  }

  beforeEach(() => {
    clock = T0;
    gatehouse = createTestGatehouse();
  });

  /** The session id a cookie value names, read without validating it (validation may write). */
  async function sessionIdOf(value: string): Promise<string> {
    if (strategy === "database") return value.split(".")[0] as string;
    const payload = (await createSealer([TEST_SECRET], SESSION_SEAL_PURPOSE).open(value)) as { s: string };
    return payload.s;
  }

  /** Creates the user if needed and logs in at the current clock. */
  async function signIn(
    email = "ada@example.com",
    meta: SessionMeta = {},
  ): Promise<{ value: string; id: string; userId: string }> {
    const value = await signInThrough(gatehouse, email, meta);
    const user = await sqlite.store.getUserByEmail(email);
    return { value, id: await sessionIdOf(value), userId: user!.id };
  }

  /** Runs `query` on the database file through a connection of its own, not through the sqlite.store. */
  function raw<T>(query: (db: Database.Database) => T): T {
    return querySqliteFile(sqlite.dbFile, query);
  }

  const rawSession = (id: string) =>
    raw(
      (db) =>
        db.prepare("SELECT * FROM gatehouse_sessions WHERE id = ?").get(id) as Record<string, unknown> | undefined,
    );

  /** Counts every UPDATE of a session row from now on (a trigger in the database itself). */
  function countSessionWrites(): () => number {
    raw((db) =>
      db.exec(`
        CREATE TABLE test_session_writes (session_id TEXT, last_seen_at INTEGER);
        CREATE TRIGGER test_count_session_writes AFTER UPDATE ON gatehouse_sessions
        BEGIN INSERT INTO test_session_writes VALUES (NEW.id, NEW.last_seen_at); END;
      `),
    );
    return () => raw((db) => (db.prepare("SELECT COUNT(*) AS n FROM test_session_writes").get() as { n: number }).n);
  }

  describe("expiry", () => {
    it("a session past its expiry validates to null and its record is deleted", async () => {
      const { value, id } = await signIn();
      expect(rawSession(id)).toBeDefined();
      clock = T0 + HOUR;
      expect(await validateSession(gatehouse, value)).toBeNull();
      expect(rawSession(id)).toBeUndefined();
    });

    it("ends at the absolute cap even while in use every 5 minutes: sliding never passes it", async () => {
      gatehouse = createTestGatehouse({ absoluteMaxAgeSeconds: 5400 });
      const cap = T0 + 90 * MINUTE;
      let { value, id } = await signIn();
      let latestExpiry = 0;
      for (clock = T0; clock < cap; clock += 5 * MINUTE) {
        const valid = await validateSession(gatehouse, value, { rotate: true });
        expect(valid, `at +${(clock - T0) / MINUTE} min`).not.toBeNull();
        expect(valid!.session.expiresAt.getTime()).toBeLessThanOrEqual(cap);
        expect(rawSession(id)?.expires_at as number).toBeLessThanOrEqual(cap);
        if (valid!.renewed) {
          expect(valid!.renewed.expiresAt.getTime()).toBeLessThanOrEqual(cap);
          value = valid!.renewed.value;
          id = valid!.session.id;
        }
        latestExpiry = valid!.session.expiresAt.getTime();
      }
      expect(latestExpiry).toBe(cap);
      clock = cap;
      expect(await validateSession(gatehouse, value)).toBeNull();
    });
  });

  describe("idle timeout", () => {
    beforeEach(() => {
      gatehouse = createTestGatehouse({
        maxAgeSeconds: DAY / SECOND,
        absoluteMaxAgeSeconds: (2 * DAY) / SECOND,
        idleTimeoutSeconds: 3600,
      });
    });

    it("ends a session left unused for 61 minutes, long before its expiry, and deletes its record", async () => {
      const { value, id } = await signIn();
      clock = T0 + 61 * MINUTE;
      expect(await validateSession(gatehouse, value)).toBeNull();
      expect(rawSession(id)).toBeUndefined();
    });

    it("keeps a session used every 30 minutes alive, and counts the idle time from its last use", async () => {
      const { value } = await signIn();
      for (clock = T0 + 30 * MINUTE; clock <= T0 + 4 * HOUR; clock += 30 * MINUTE) {
        expect(await validateSession(gatehouse, value), `at +${(clock - T0) / MINUTE} min`).not.toBeNull();
      }
      const lastUse = clock - 30 * MINUTE;
      clock = lastUse + 59 * MINUTE;
      expect(await validateSession(gatehouse, value)).not.toBeNull();
      clock += 61 * MINUTE;
      expect(await validateSession(gatehouse, value)).toBeNull();
    });
  });

  describe("last-seen times", () => {
    it("are written at most once a minute however often the session is validated", async () => {
      const { value, id } = await signIn();
      const writes = countSessionWrites();
      const firstWrite = T0 + 61 * SECOND;
      for (let i = 0; i < 100; i++) {
        clock = firstWrite + i * 500;
        expect(await validateSession(gatehouse, value)).not.toBeNull();
      }
      expect(writes()).toBe(1);
      expect(rawSession(id)?.last_seen_at).toBe(firstWrite);

      clock = firstWrite + 61 * SECOND;
      expect(await validateSession(gatehouse, value)).not.toBeNull();
      expect(writes()).toBe(2);
      expect(rawSession(id)?.last_seen_at).toBe(firstWrite + 61 * SECOND);
    });

    it("are not written by validations within the first minute after log-in", async () => {
      const { value, id } = await signIn();
      const writes = countSessionWrites();
      for (clock = T0; clock < T0 + MINUTE; clock += 10 * SECOND) await validateSession(gatehouse, value);
      expect(writes()).toBe(0);
      expect(rawSession(id)?.last_seen_at).toBe(T0);
    });
  });

  describe("sliding expiry", () => {
    it("does not renew before half of maxAge has passed", async () => {
      const { value, id } = await signIn();
      clock = T0 + 29 * MINUTE;
      const valid = await validateSession(gatehouse, value, { rotate: true });
      expect(valid?.renewed).toBeNull();
      expect(valid?.session.expiresAt).toEqual(new Date(T0 + HOUR));
      expect(rawSession(id)?.expires_at).toBe(T0 + HOUR);
    });

    it("renews after half of maxAge to now + maxAge and records the new expiry", async () => {
      const { value, id } = await signIn();
      clock = T0 + 31 * MINUTE;
      const valid = await validateSession(gatehouse, value, { rotate: true });
      expect(valid?.renewed?.expiresAt).toEqual(new Date(T0 + 91 * MINUTE));
      expect(valid?.session).toMatchObject({ id, createdAt: new Date(T0), expiresAt: new Date(T0 + 91 * MINUTE) });
      expect(rawSession(id)).toMatchObject({ expires_at: T0 + 91 * MINUTE, last_seen_at: T0 + 31 * MINUTE });

      const renewedValue = valid!.renewed!.value;
      if (strategy === "database") {
        expect(renewedValue).toBe(value);
      } else {
        expect(renewedValue).not.toBe(value);
        expect(await sessionIdOf(renewedValue)).toBe(id);
      }
      clock = T0 + 80 * MINUTE;
      expect((await validateSession(gatehouse, renewedValue))?.session.id).toBe(id);
    });
  });

  describe("sliding expiry for a check that cannot set a cookie (a Server Component)", () => {
    it("leaves the session as it is, so that the next check that can set one renews it", async () => {
      const { value, id } = await signIn();
      clock = T0 + 31 * MINUTE;
      const silent = await validateSession(gatehouse, value, { rotate: false });
      expect(silent?.renewed).toBeNull();
      expect(silent?.session.expiresAt).toEqual(new Date(T0 + HOUR));
      expect(rawSession(id)?.expires_at).toBe(T0 + HOUR);
      clock = T0 + 32 * MINUTE;
      const renewing = await validateSession(gatehouse, value, { rotate: true });
      expect(renewing?.renewed?.expiresAt).toEqual(new Date(T0 + 92 * MINUTE));
      expect(rawSession(id)?.expires_at).toBe(T0 + 92 * MINUTE);
    });
  });

  describe("rotation after a privilege change", () => {
    beforeEach(() => {
      gatehouse = createTestGatehouse({ absoluteMaxAgeSeconds: 5400 });
    });

    it("with rotate: true, replaces the session with a new id and value that keep its createdAt and absolute cap", async () => {
      const old = await signIn("ada@example.com", { userAgent: "Firefox/140", ip: "203.0.113.7" });
      clock = T0 + 50 * MINUTE;
      await gatehouse.users.setRole("ada@example.com", "admin");

      const valid = await validateSession(gatehouse, old.value, { rotate: true });
      expect(valid?.user.role).toBe("admin");
      expect(valid?.renewed).not.toBeNull();
      const { value, expiresAt } = valid!.renewed!;
      expect(value).not.toBe(old.value);
      expect(valid!.session.id).not.toBe(old.id);
      expect(await sessionIdOf(value)).toBe(valid!.session.id);
      expect(valid!.session.createdAt).toEqual(new Date(T0));
      // now + maxAge would be +110 min; the absolute cap of the original session (+90 min) wins.
      expect(expiresAt).toEqual(new Date(T0 + 90 * MINUTE));
      expect(valid!.session.expiresAt).toEqual(expiresAt);

      expect(rawSession(old.id)).toBeUndefined();
      expect(rawSession(valid!.session.id)).toMatchObject({
        user_version: 1,
        created_at: T0,
        expires_at: T0 + 90 * MINUTE,
        user_agent: "Firefox/140",
        ip: "203.0.113.7",
      });

      expect(await validateSession(gatehouse, old.value, { rotate: true })).toBeNull();
      expect(await validateSession(gatehouse, old.value, { rotate: false })).toBeNull();

      const next = await validateSession(gatehouse, value, { rotate: true });
      expect(next?.user.role).toBe("admin");
      expect(next?.session.id).toBe(valid!.session.id);
      expect(next?.session.createdAt).toEqual(new Date(T0));
      expect(next?.renewed).toBeNull();
    });

    it("with rotate: false, keeps the old session valid and reports the current role", async () => {
      const old = await signIn();
      await gatehouse.users.setRole("ada@example.com", "admin");
      for (let i = 0; i < 2; i++) {
        const valid = await validateSession(gatehouse, old.value, { rotate: false });
        expect(valid?.user.role).toBe("admin");
        expect(valid?.session.id).toBe(old.id);
        expect(valid?.renewed).toBeNull();
      }
      expect(rawSession(old.id)?.user_version).toBe(0);
      // The rotation is only put off: the next check that can send a cookie does it.
      expect((await validateSession(gatehouse, old.value, { rotate: true }))?.session.id).not.toBe(old.id);
    });

    it("does not happen when setRole leaves the role as it was", async () => {
      const old = await signIn();
      await gatehouse.users.setRole("ada@example.com", "user");
      const valid = await validateSession(gatehouse, old.value, { rotate: true });
      expect(valid?.session.id).toBe(old.id);
      expect(valid?.renewed).toBeNull();
    });

    it("replaces a session once when several requests carry the pre-change cookie at the same time", async () => {
      const old = await signIn();
      await gatehouse.users.setRole("ada@example.com", "admin");
      // A page load sends several requests with the same cookie; only one replacement may survive.
      await Promise.all([1, 2, 3].map(() => validateSession(gatehouse, old.value, { rotate: true })));
      expect(await sqlite.store.listUserSessions(old.userId)).toHaveLength(1);
    });

    it("rotates each of the user's sessions, and no other user's", async () => {
      const first = await signIn();
      const second = await signIn();
      const bob = await signIn("bob@example.com");
      await gatehouse.users.setRole("ada@example.com", "admin");
      for (const old of [first, second]) {
        expect((await validateSession(gatehouse, old.value, { rotate: true }))?.renewed).not.toBeNull();
      }
      const bobs = await validateSession(gatehouse, bob.value, { rotate: true });
      expect(bobs?.session.id).toBe(bob.id);
      expect(bobs?.renewed).toBeNull();
    });
  });

  describe("listing sessions", () => {
    it("lists only the user's live sessions, most recently used first, with user agent and ip", async () => {
      await signIn("ada@example.com", { userAgent: "Stale/1", ip: "198.51.100.1" });
      clock = T0 + 20 * MINUTE;
      const laptop = await signIn("ada@example.com", { userAgent: "Firefox/140", ip: "203.0.113.1" });
      clock = T0 + 40 * MINUTE;
      const phone = await signIn("ada@example.com", { userAgent: "Safari/18", ip: "203.0.113.2" });
      const loggedOut = await signIn("ada@example.com", { userAgent: "Gone/1", ip: "203.0.113.3" });
      await gatehouse.logOut(sessionCookieHeader(loggedOut.value));
      await signIn("bob@example.com", { userAgent: "Bob/1", ip: "192.0.2.9" });

      // The first session has expired by now; the laptop is used again and becomes the most recent.
      clock = T0 + 62 * MINUTE;
      expect(await validateSession(gatehouse, laptop.value, { rotate: true })).not.toBeNull();

      expect(await gatehouse.listSessions(laptop.userId)).toEqual([
        {
          id: laptop.id,
          createdAt: new Date(T0 + 20 * MINUTE),
          lastSeenAt: new Date(T0 + 62 * MINUTE),
          expiresAt: new Date(T0 + 122 * MINUTE),
          userAgent: "Firefox/140",
          ip: "203.0.113.1",
          impersonatedBy: null,
        },
        {
          id: phone.id,
          createdAt: new Date(T0 + 40 * MINUTE),
          lastSeenAt: new Date(T0 + 40 * MINUTE),
          expiresAt: new Date(T0 + 100 * MINUTE),
          userAgent: "Safari/18",
          ip: "203.0.113.2",
          impersonatedBy: null,
        },
      ]);
    });

    it("is empty for a user without sessions", async () => {
      const { userId, value } = await signIn();
      await gatehouse.logOut(sessionCookieHeader(value));
      expect(await gatehouse.listSessions(userId)).toEqual([]);
      expect(await gatehouse.listSessions("no-such-user")).toEqual([]);
    });
  });

  describe("revoking sessions", () => {
    it("revokeAllSessions ends every session of the user, moves them to a new revocation epoch, and spares other users", async () => {
      const first = await signIn();
      const second = await signIn();
      const bob = await signIn("bob@example.com");
      expect(await gatehouse.revokeAllSessions(first.userId)).toBe(2);
      expect(await validateSession(gatehouse, first.value)).toBeNull();
      expect(await validateSession(gatehouse, second.value)).toBeNull();
      expect(rawSession(first.id)).toBeUndefined();
      expect(rawSession(second.id)).toBeUndefined();
      expect(await sqlite.store.getUserById(first.userId)).toMatchObject({ revocationEpoch: 1, sessionVersion: 0 });
      expect(await validateSession(gatehouse, bob.value)).not.toBeNull();

      const fresh = await signIn();
      expect((await validateSession(gatehouse, fresh.value, { rotate: true }))?.renewed).toBeNull();
    });

    it("revokeOtherSessions ends all of the user's sessions but the current one", async () => {
      const current = await signIn();
      const others = [await signIn(), await signIn()];
      const bob = await signIn("bob@example.com");
      expect(await gatehouse.revokeOtherSessions(current.userId, current.id)).toBe(2);
      for (const other of others) expect(await validateSession(gatehouse, other.value)).toBeNull();
      expect((await validateSession(gatehouse, current.value))?.session.id).toBe(current.id);
      expect(await validateSession(gatehouse, bob.value)).not.toBeNull();
    });

    it("revokeSession ends one of the user's own sessions, once", async () => {
      const target = await signIn();
      const kept = await signIn();
      expect(await gatehouse.revokeSession(target.userId, target.id)).toBe(true);
      expect(await validateSession(gatehouse, target.value)).toBeNull();
      expect(await validateSession(gatehouse, kept.value)).not.toBeNull();
      expect(await gatehouse.revokeSession(target.userId, target.id)).toBe(false);
    });

    it("revokeSession with another user's session id returns false and deletes nothing", async () => {
      const ada = await signIn();
      const bob = await signIn("bob@example.com");
      expect(await gatehouse.revokeSession(ada.userId, bob.id)).toBe(false);
      expect(await gatehouse.revokeSession(ada.userId, "AAAAAAAAAAAAAAAA")).toBe(false);
      expect(rawSession(bob.id)).toBeDefined();
      expect(await validateSession(gatehouse, bob.value)).not.toBeNull();
      expect(await validateSession(gatehouse, ada.value)).not.toBeNull();
    });

    it("a deleted user's sessions validate to null", async () => {
      const ada = await signIn();
      expect(await sqlite.store.deleteUser(ada.userId)).toBe(true);
      expect(await validateSession(gatehouse, ada.value, { rotate: true })).toBeNull();
      expect(await validateSession(gatehouse, ada.value, { rotate: false })).toBeNull();
    });

    it("a banned user's sessions validate to null and are deleted, even one the ban did not end", async () => {
      const ada = await signIn();
      // The ban column alone, as if a session had been started after the ban ended the others.
      await sqlite.store.updateUser(ada.userId, { bannedAt: new Date(clock), banReason: null });
      expect(await validateSession(gatehouse, ada.value, { rotate: false })).toBeNull();
      expect(rawSession(ada.id)).toBeUndefined();
    });
  });

  describe("impersonated sessions", () => {
    /** An admin's session, and an impersonation of Bob started from it at the current clock. */
    async function impersonateBob(): Promise<{ value: string; id: string; adminId: string; bobId: string }> {
      await gatehouse.users.create({ email: "root@example.com", password: PASSWORD, role: "admin" });
      const admin = await signIn("root@example.com");
      const bob = await signIn("bob@example.com");
      const cookieHeader = sessionCookieHeader(admin.value);
      const found = await gatehouse.authenticate(cookieHeader, { canSetCookie: false });
      if (!found.user) throw new Error("the admin is not signed in");
      const started = await gatehouse.admin.impersonate(
        { user: found.user, session: found.session },
        bob.userId,
        { password: PASSWORD },
        { cookieHeader },
      );
      const value = cookieValue(started.setCookies[0] as string);
      return { value, id: await sessionIdOf(value), adminId: admin.userId, bobId: bob.userId };
    }

    it("are marked with the administrator in the session and its record", async () => {
      const { value, id, adminId } = await impersonateBob();
      expect((await validateSession(gatehouse, value))?.session.impersonatedBy).toBe(adminId);
      expect(rawSession(id)).toMatchObject({ impersonated_by: adminId, expires_at: T0 + 30 * MINUTE });
    });

    it("end 30 minutes after they start, used every minute: never slid past it", async () => {
      let { value } = await impersonateBob();
      for (clock = T0; clock < T0 + 30 * MINUTE; clock += MINUTE) {
        const valid = await validateSession(gatehouse, value, { rotate: true });
        expect(valid, `at +${(clock - T0) / MINUTE} min`).not.toBeNull();
        expect(valid!.session.expiresAt.getTime()).toBeLessThanOrEqual(T0 + 30 * MINUTE);
        if (valid!.renewed) value = valid!.renewed.value;
      }
      expect(await validateSession(gatehouse, value, { rotate: true })).toBeNull();
    });

    it("keep the mark and the 30-minute cap through a rotation", async () => {
      const impersonation = await impersonateBob();
      clock = T0 + 20 * MINUTE;
      await sqlite.store.bumpSessionVersion(impersonation.bobId);
      const rotated = await validateSession(gatehouse, impersonation.value, { rotate: true });
      expect(rotated?.renewed).not.toBeNull();
      expect(rotated?.session).toMatchObject({
        impersonatedBy: impersonation.adminId,
        createdAt: new Date(T0),
        expiresAt: new Date(T0 + 30 * MINUTE),
      });
      expect(rawSession(rotated!.session.id)).toMatchObject({
        impersonated_by: impersonation.adminId,
        impersonator_epoch: 0,
      });
      clock = T0 + 30 * MINUTE;
      expect(await validateSession(gatehouse, rotated!.renewed!.value)).toBeNull();
    });

    it("carry their 30-minute end in a stateless cookie, so the cookie-only check refuses them too", async () => {
      const { value, id } = await impersonateBob();
      const peek = createOptimisticCheck({ secret: TEST_SECRET, strategy, now: () => clock });
      clock = T0 + 29 * MINUTE;
      expect(await peek(value)).toMatchObject({ sessionId: id });
      clock = T0 + 30 * MINUTE;
      // A database token carries no time: there only the secure check can tell, and it does (above).
      expect(await peek(value)).toEqual(strategy === "stateless" ? null : expect.objectContaining({ sessionId: id }));
    });

    it.each([null, 1, -1])(
      "are refused, and their record deleted, when the record keeps another epoch of the administrator's (%s)",
      async (epoch) => {
        const { value, id } = await impersonateBob();
        expect(rawSession(id)).toMatchObject({ impersonator_epoch: 0 });
        raw((db) => db.prepare("UPDATE gatehouse_sessions SET impersonator_epoch = ? WHERE id = ?").run(epoch, id));
        expect(await validateSession(gatehouse, value)).toBeNull();
        expect(rawSession(id)).toBeUndefined();
      },
    );

    it("are listed with the administrator who started them", async () => {
      const { id, adminId, bobId } = await impersonateBob();
      const listed = await gatehouse.listSessions(bobId);
      expect(listed.find((session) => session.id === id)?.impersonatedBy).toBe(adminId);
      expect(listed.filter((session) => session.id !== id).map((session) => session.impersonatedBy)).toEqual([null]);
    });
  });
});

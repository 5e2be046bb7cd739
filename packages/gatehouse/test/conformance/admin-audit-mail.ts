/**
 * The conformance checks of the audit log, the durable outbox and the admin console's store calls: a change's
 * events and mail written in its transaction (and only when it changes something), the log's pages, the
 * outbox's claims and leases, user search, bans, impersonated sessions and the last-admin rule under races.
 * {@link describeAdminAuditMail} registers them inside `describeStoreConformance`; like the rest of the suite,
 * they check results through raw reads of the backend.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type {
  AuditEvent,
  Effects,
  IdentityRecord,
  NewUser,
  PasskeyRecord,
  QueuedMail,
  SessionRecord,
  Store,
  TokenRecord,
  UserRecord,
} from "../../src/stores/types.js";
import type { Harness, RawAuditEvent, RawMail, RawReader } from "./suite.js";

/** The suite's fixtures, lent to these checks (one definition of a test user, session, passkey…). */
export interface Fixtures {
  uniqueId(kind: string): string;
  newUser(overrides?: Partial<NewUser>): NewUser;
  /** A user as a first OAuth sign-in creates them: no password. */
  newSignUp(overrides?: Partial<NewUser>): NewUser;
  newSession(user: UserRecord, overrides?: Partial<SessionRecord>): SessionRecord;
  newToken(user: { id: string; email: string }, overrides?: Partial<TokenRecord>): TokenRecord;
  newPasskey(user: { id: string }, overrides?: Partial<PasskeyRecord>): PasskeyRecord;
  newIdentity(overrides?: Partial<Omit<IdentityRecord, "userId">>): Omit<IdentityRecord, "userId">;
  sealedSecret(): string;
  codeHashes(count?: number): string[];
  currentStep(): number;
}

/** What the checks need of the suite around them. */
export interface ConformanceContext {
  /** The backend's harness, once `beforeAll` has set it up. */
  harness(): Harness;
  /** Runs `race` on the main store and, where the harness allows, two more (see the suite's own). */
  onThreeStores(kind: "statements" | "transactions", race: (stores: Store[]) => Promise<void>): Promise<void>;
  fixtures: Fixtures;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const YEAR = 365 * DAY;

/** Lowercase hex of a fixed length: sorts alike in JavaScript and under every collation. */
function hexId(prefix: string): string {
  return `${prefix}${randomBytes(10).toString("hex")}`;
}

function newEvent(overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: hexId("ev"),
    at: new Date(Date.now() - 1_000),
    type: "password.change",
    outcome: "success",
    userId: null,
    userEmail: null,
    actorType: "user",
    actorId: null,
    ip: "203.0.113.7",
    userAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
    detail: { method: "password", note: "Grüße ✓ 日本語", attempts: 3, fresh: true, session: null },
    ...overrides,
  };
}

function newMail(overrides: Partial<QueuedMail> = {}): QueuedMail {
  const id = hexId("m");
  return {
    id,
    to: `${id}@example.com`,
    subject: "Bestätige deine E-Mail-Adresse ✉️ — 確認",
    sealedBody: `v1.${randomBytes(12).toString("base64url")}.${randomBytes(600).toString("base64url")}`,
    createdAt: new Date(Date.now() - 500),
    ...overrides,
  };
}

/** The row an event should be stored as (its detail parsed), written out independently of the store's mapping. */
function rawEventOf(event: AuditEvent): Omit<RawAuditEvent, "detail"> & { detail: unknown } {
  return {
    id: event.id,
    at: event.at.getTime(),
    type: event.type,
    outcome: event.outcome,
    user_id: event.userId,
    user_email: event.userEmail,
    actor_type: event.actorType,
    actor_id: event.actorId,
    ip: event.ip,
    user_agent: event.userAgent,
    detail: event.detail,
  };
}

/** The row a newly queued message should be stored as: pending, due when it was written, never tried. */
function rawQueuedMailOf(mail: QueuedMail): RawMail {
  return {
    id: mail.id,
    recipient: mail.to,
    subject: mail.subject,
    sealed_body: mail.sealedBody,
    status: "pending",
    attempts: 0,
    next_attempt_at: mail.createdAt.getTime(),
    lease_until: null,
    last_error: null,
    created_at: mail.createdAt.getTime(),
    sent_at: null,
  };
}

function parsedDetail(row: RawAuditEvent | null): unknown {
  return row && { ...row, detail: JSON.parse(row.detail) as unknown };
}

/** A change whose effects are checked: how to set it up, make it, read what it wrote, and call it in vain. */
interface EffectCase<C> {
  name: string;
  /** Why the change is not atomic with its effects on this harness (its writes go to another store), if so. */
  apart?(h: Harness): string | undefined;
  arrange(store: Store): Promise<C>;
  change(store: Store, c: C, effects: Effects): Promise<unknown>;
  expectChanged(result: unknown, c: C): void;
  /** A raw read of what the change writes: different after it, the same after a refusal or a rollback. */
  state(raw: RawReader, c: C): Promise<unknown>;
  /** Calls that change nothing (each checks its own answer); none may write the effects it carries. */
  unchanged?(store: Store, c: C, effects: Effects): Promise<void>;
}

/** Registers the checks; `context.harness()` is read inside each check, once the suite has set it up. */
export function describeAdminAuditMail(context: ConformanceContext): void {
  const f = context.fixtures;
  const h = () => context.harness();

  /** Distinct eras of the outbox's clock, each earlier than the last: one check's messages are never due in the next. */
  let eraStart = Date.UTC(2001, 0, 1);
  const era = () => {
    eraStart -= YEAR;
    return eraStart;
  };

  /** The events and mail of one change, about `user`. */
  function effectsFor(user: { id: string; email: string } | null): { events: AuditEvent[]; mail: QueuedMail[] } {
    return {
      events: [
        newEvent({ userId: user?.id ?? null, userEmail: user?.email ?? null, actorId: user?.id ?? null }),
        newEvent({ type: "session.revoke", userId: user?.id ?? null, actorType: "admin", actorId: f.uniqueId("a") }),
      ],
      mail: [newMail()],
    };
  }

  async function expectWritten(effects: { events: AuditEvent[]; mail: QueuedMail[] }): Promise<void> {
    for (const event of effects.events) {
      expect(parsedDetail(await h().raw.auditEvent(event.id))).toEqual(rawEventOf(event));
    }
    for (const mail of effects.mail) expect(await h().raw.mail(mail.id)).toEqual(rawQueuedMailOf(mail));
  }

  async function expectNotWritten(effects: { events: AuditEvent[]; mail: QueuedMail[] }): Promise<void> {
    for (const event of effects.events) expect(await h().raw.auditEvent(event.id)).toBeNull();
    for (const mail of effects.mail) expect(await h().raw.mail(mail.id)).toBeNull();
  }

  /**
   * Effects whose last insert must fail (a message with the id of one stored already), so that the change and
   * the effects before it are rolled back with it. `fresh` are the ones that must not be left behind.
   */
  async function failingEffects(
    user: { id: string; email: string } | null,
  ): Promise<{ effects: Effects; fresh: { events: AuditEvent[]; mail: QueuedMail[] } }> {
    const stored = newMail();
    await h().store.enqueueMail([stored]);
    const fresh = effectsFor(user);
    return { effects: { events: fresh.events, mail: [...fresh.mail, newMail({ id: stored.id })] }, fresh };
  }

  /** A user with TOTP on and ten recovery codes. */
  async function withTotp(store: Store, input = f.newUser()): Promise<{ user: UserRecord; codes: string[] }> {
    const user = await store.createUser(input);
    const secret = f.sealedSecret();
    const codes = f.codeHashes();
    expect(await store.saveTotpSetup(user.id, secret, new Date())).toBe(true);
    expect(await store.confirmTotp(user.id, secret, f.currentStep(), codes, new Date())).toBe(true);
    return { user, codes };
  }

  const sessionsApart = (harness: Harness) =>
    harness.sessionKeys ? "sessions live apart from the users here: a session's effects follow it" : undefined;

  const cases: EffectCase<never>[] = [
    effectCase({
      name: "createUser",
      arrange: async (store) => ({ input: f.newUser(), taken: await store.createUser(f.newUser()) }),
      change: (store, c, effects) => store.createUser(c.input, { effects }),
      expectChanged: (result, c) => expect(result).toMatchObject({ id: c.input.id }),
      state: (raw, c) => raw.user(c.input.id),
      async unchanged(store, c, effects) {
        await expect(store.createUser(f.newUser({ email: c.taken.email }), { effects })).rejects.toMatchObject({
          code: "email_taken",
        });
      },
    }),
    effectCase({
      name: "updateUser",
      arrange: (store) => store.createUser(f.newUser()),
      change: (store, user, effects) => store.updateUser(user.id, { name: "Augusta Ada King" }, { effects }),
      expectChanged: (result) => expect(result).toMatchObject({ name: "Augusta Ada King" }),
      state: (raw, user) => raw.user(user.id),
      async unchanged(store, user, effects) {
        const stale = { ifPasswordHash: "$argon2id$other", effects };
        expect(await store.updateUser(user.id, { name: "Stale" }, stale)).toBeNull();
        expect(await store.updateUser(f.uniqueId("u"), { name: "Nobody" }, { effects })).toBeNull();
      },
    }),
    effectCase({
      name: "bumpSessionVersion",
      arrange: (store) => store.createUser(f.newUser()),
      change: (store, user, effects) => store.bumpSessionVersion(user.id, { effects }),
      expectChanged: (result) => expect(result).toBe(1),
      state: (raw, user) => raw.user(user.id),
      async unchanged(store, _, effects) {
        expect(await store.bumpSessionVersion(f.uniqueId("u"), { effects })).toBeNull();
      },
    }),
    effectCase({
      name: "deleteUser",
      arrange: (store) => store.createUser(f.newUser()),
      change: (store, user, effects) => store.deleteUser(user.id, { effects }),
      expectChanged: (result) => expect(result).toBe(true),
      state: (raw, user) => raw.user(user.id),
      async unchanged(store, _, effects) {
        expect(await store.deleteUser(f.uniqueId("u"), { effects })).toBe(false);
      },
    }),
    effectCase({
      name: "endSessions",
      async arrange(store) {
        const user = await store.createUser(f.newUser());
        await store.createSession(f.newSession(user));
        return user;
      },
      change: (store, user, effects) => store.endSessions(user.id, { effects }),
      expectChanged: (result) => expect(result).toEqual({ ended: 1, epoch: 1 }),
      state: async (raw, user) => ({ user: await raw.user(user.id), sessions: await raw.sessionIds(user.id) }),
      async unchanged(store, user, effects) {
        expect(await store.endSessions(user.id, { ifEpoch: 7, effects })).toBeNull();
        expect(await store.endSessions(f.uniqueId("u"), { effects })).toBeNull();
      },
    }),
    effectCase({
      name: "createToken",
      async arrange(store) {
        const user = await store.createUser(f.newUser());
        const existing = f.newToken(user);
        await store.createToken(existing, { replace: false });
        return { user, existing, token: f.newToken(user, { purpose: "reset_password" }) };
      },
      change: (store, c, effects) => store.createToken(c.token, { replace: true, effects }),
      expectChanged: (result) => expect(result).toBeUndefined(),
      state: (raw, c) => raw.token(c.token.tokenHash),
      async unchanged(store, c, effects) {
        // A token that cannot be stored (its hash is taken) sends no mail.
        await expect(
          store.createToken({ ...c.token, tokenHash: c.existing.tokenHash }, { replace: false, effects }),
        ).rejects.toMatchObject({ code: "unavailable" });
      },
    }),
    effectCase({
      name: "writeBatch (a log-in: its session and its event)",
      apart: sessionsApart,
      async arrange(store) {
        return f.newSession(await store.createUser(f.newUser()));
      },
      async change(store, session, effects) {
        const batch = await store.writeBatch();
        batch.createSession(session);
        batch.record(effects);
        await batch.commit();
      },
      expectChanged: (result) => expect(result).toBeUndefined(),
      state: (raw, session) => raw.session(session.id),
    }),
    effectCase({
      name: "deleteSession",
      apart: sessionsApart,
      async arrange(store) {
        const session = f.newSession(await store.createUser(f.newUser()));
        await store.createSession(session);
        return session;
      },
      change: (store, session, effects) => store.deleteSession(session.id, { effects }),
      expectChanged: (result) => expect(result).toBe(true),
      state: (raw, session) => raw.session(session.id),
      async unchanged(store, _, effects) {
        expect(await store.deleteSession(f.uniqueId("s"), { effects })).toBe(false);
      },
    }),
    effectCase({
      name: "confirmTotp",
      async arrange(store) {
        const user = await store.createUser(f.newUser());
        const secret = f.sealedSecret();
        await store.saveTotpSetup(user.id, secret, new Date());
        return { user, secret };
      },
      change: (store, c, effects) =>
        store.confirmTotp(c.user.id, c.secret, f.currentStep(), f.codeHashes(), new Date(), { effects }),
      expectChanged: (result) => expect(result).toBe(true),
      state: async (raw, c) => ({ totp: await raw.totpRows(c.user.id), codes: await raw.recoveryCodes(c.user.id) }),
      async unchanged(store, c, effects) {
        const other = f.sealedSecret();
        expect(await store.confirmTotp(c.user.id, other, f.currentStep(), [], new Date(), { effects })).toBe(false);
      },
    }),
    effectCase({
      name: "disableTotp",
      arrange: async (store) => ({ ...(await withTotp(store)), bare: await store.createUser(f.newUser()) }),
      change: (store, c, effects) => store.disableTotp(c.user.id, { effects }),
      expectChanged: (result) => expect(result).toBe(true),
      state: async (raw, c) => ({ totp: await raw.totpRows(c.user.id), user: await raw.user(c.user.id) }),
      async unchanged(store, c, effects) {
        expect(await store.disableTotp(c.bare.id, { effects })).toBe(false);
      },
    }),
    effectCase({
      name: "replaceRecoveryCodes",
      arrange: async (store) => ({ ...(await withTotp(store)), bare: await store.createUser(f.newUser()) }),
      change: (store, c, effects) => store.replaceRecoveryCodes(c.user.id, f.codeHashes(), new Date(), { effects }),
      expectChanged: (result) => expect(result).toBe(true),
      state: (raw, c) => raw.recoveryCodes(c.user.id),
      async unchanged(store, c, effects) {
        expect(await store.replaceRecoveryCodes(c.bare.id, f.codeHashes(), new Date(), { effects })).toBe(false);
      },
    }),
    effectCase({
      name: "consumeRecoveryCode",
      arrange: (store) => withTotp(store),
      change: (store, c, effects) => store.consumeRecoveryCode(c.user.id, c.codes.slice(0, 1), { effects }),
      expectChanged: (result) => expect(result).toBe(true),
      state: (raw, c) => raw.recoveryCodes(c.user.id),
      async unchanged(store, c, effects) {
        expect(await store.consumeRecoveryCode(c.user.id, f.codeHashes(1), { effects })).toBe(false);
      },
    }),
    effectCase({
      name: "createPasskey",
      async arrange(store) {
        const user = await store.createUser(f.newUser());
        const registered = f.newPasskey(user);
        await store.createPasskey(registered);
        return { user, registered, passkey: f.newPasskey(user) };
      },
      change: (store, c, effects) => store.createPasskey(c.passkey, { effects }),
      expectChanged: (result) => expect(result).toBe(true),
      state: (raw, c) => raw.passkeys(c.user.id),
      async unchanged(store, c, effects) {
        const again = f.newPasskey(c.user, { credentialId: c.registered.credentialId });
        expect(await store.createPasskey(again, { effects })).toBe(false);
        expect(await store.createPasskey(c.passkey, { ifEpoch: 7, effects })).toBe(false);
      },
    }),
    effectCase({
      name: "deletePasskey",
      async arrange(store) {
        const user = await store.createUser(f.newUser());
        const passkey = f.newPasskey(user);
        await store.createPasskey(passkey);
        const lone = await store.createUser(f.newSignUp());
        const only = f.newPasskey(lone);
        await store.createPasskey(only);
        return { user, passkey, lone, only };
      },
      change: (store, c, effects) => store.deletePasskey(c.user.id, c.passkey.id, { effects }),
      expectChanged: (result) => expect(result).toBe("deleted"),
      state: (raw, c) => raw.passkeys(c.user.id),
      async unchanged(store, c, effects) {
        expect(await store.deletePasskey(c.user.id, f.uniqueId("pk"), { effects })).toBe("not_found");
        expect(await store.deletePasskey(c.lone.id, c.only.id, { effects })).toBe("last_method");
      },
    }),
    effectCase({
      name: "removeFactors",
      async arrange(store) {
        const { user } = await withTotp(store);
        await store.createPasskey(f.newPasskey(user));
        return { user, bare: await store.createUser(f.newUser()) };
      },
      change: (store, c, effects) => store.removeFactors(c.user.id, { effects }),
      expectChanged: (result) => expect(result).toEqual({ totp: true, recoveryCodes: 10, passkeys: 1 }),
      state: async (raw, c) => ({ totp: await raw.totpRows(c.user.id), passkeys: await raw.passkeys(c.user.id) }),
      async unchanged(store, c, effects) {
        expect(await store.removeFactors(c.bare.id, { effects })).toEqual({
          totp: false,
          recoveryCodes: 0,
          passkeys: 0,
        });
      },
    }),
    effectCase({
      name: "createUserWithIdentity",
      async arrange(store) {
        const linked = f.newIdentity();
        await store.createUserWithIdentity(f.newSignUp(), linked);
        return { input: f.newSignUp(), identity: f.newIdentity(), linked };
      },
      change: (store, c, effects) => store.createUserWithIdentity(c.input, c.identity, { effects }),
      expectChanged: (result, c) => expect(result).toMatchObject({ id: c.input.id }),
      state: (raw, c) => raw.user(c.input.id),
      async unchanged(store, c, effects) {
        expect(await store.createUserWithIdentity(f.newSignUp(), c.linked, { effects })).toBeNull();
      },
    }),
    effectCase({
      name: "linkIdentity",
      async arrange(store) {
        const user = await store.createUser(f.newUser());
        const linked = f.newIdentity();
        await store.createUserWithIdentity(f.newSignUp(), linked);
        return { user, linked, identity: { ...f.newIdentity({ provider: "github" }), userId: user.id } };
      },
      change: (store, c, effects) => store.linkIdentity(c.identity, { effects }),
      expectChanged: (result) => expect(result).toBe("linked"),
      state: (raw, c) => raw.identities(c.user.id),
      async unchanged(store, c, effects) {
        expect(await store.linkIdentity({ ...c.linked, userId: c.user.id }, { effects })).toBe("taken");
        expect(await store.linkIdentity(c.identity, { ifEpoch: 7, effects })).toBe("stale");
      },
    }),
    effectCase({
      name: "unlinkIdentity",
      async arrange(store) {
        const user = await store.createUser(f.newUser());
        await store.linkIdentity({ ...f.newIdentity(), userId: user.id });
        const lone = await store.createUserWithIdentity(f.newSignUp(), f.newIdentity());
        return { user, lone: lone as UserRecord };
      },
      change: (store, c, effects) => store.unlinkIdentity(c.user.id, "oidc", { effects }),
      expectChanged: (result) => expect(result).toBe("unlinked"),
      state: (raw, c) => raw.identities(c.user.id),
      async unchanged(store, c, effects) {
        expect(await store.unlinkIdentity(c.user.id, "github", { effects })).toBe("not_found");
        expect(await store.unlinkIdentity(c.lone.id, "oidc", { effects })).toBe("last_method");
      },
    }),
  ];

  describe("effects: a change's events and mail, in its transaction", () => {
    for (const c of cases) {
      describe(c.name, () => {
        it("writes its events and mail, as given, with the change", async () => {
          const arranged = await c.arrange(h().store);
          const before = await c.state(h().raw, arranged);
          const effects = effectsFor(null);
          c.expectChanged(await c.change(h().store, arranged, effects), arranged);
          expect(await c.state(h().raw, arranged)).not.toEqual(before);
          await expectWritten(effects);
        });

        it("writes none of them when it changes nothing", async (ctx) => {
          const { unchanged } = c;
          if (!unchanged) return ctx.skip("every call of it changes something");
          const arranged = await c.arrange(h().store);
          const effects = effectsFor(null);
          const before = await c.state(h().raw, arranged);
          await unchanged(h().store, arranged, effects);
          expect(await c.state(h().raw, arranged)).toEqual(before);
          await expectNotWritten(effects);
        });

        it("is rolled back, effects and all, when one of its effects cannot be written", async (ctx) => {
          const apart = c.apart?.(h());
          if (apart) return ctx.skip(apart);
          const arranged = await c.arrange(h().store);
          const before = await c.state(h().raw, arranged);
          const { effects, fresh } = await failingEffects(null);
          await expect(c.change(h().store, arranged, effects)).rejects.toMatchObject({ code: "unavailable" });
          expect(await c.state(h().raw, arranged)).toEqual(before);
          await expectNotWritten(fresh);
        });
      });
    }

    it("createUser whose event id is taken fails as unavailable, not as email_taken", async () => {
      const taken = newEvent();
      await h().store.recordEvents([taken]);
      const input = f.newUser();
      await expect(h().store.createUser(input, { effects: { events: [taken] } })).rejects.toMatchObject({
        code: "unavailable",
      });
      expect(await h().raw.user(input.id)).toBeNull();
    });
  });

  describe("the audit log", () => {
    it("recordEvents stores each event as given: times in ms, detail as JSON, nulls as null", async () => {
      const user = await h().store.createUser(f.newUser());
      const events = [
        newEvent({ userId: user.id, userEmail: user.email, actorId: user.id, at: new Date(1_700_000_000_123) }),
        newEvent({ type: "login.failure", outcome: "failure", ip: null, userAgent: null, detail: {} }),
        newEvent({ type: "user.ban", actorType: "cli", userId: user.id, detail: { reason: "spam" } }),
      ];
      await h().store.recordEvents(events);
      for (const event of events) expect(parsedDetail(await h().raw.auditEvent(event.id))).toEqual(rawEventOf(event));
      await h().store.recordEvents([]);
    });

    it("recordEvents with a taken id writes none of the events", async () => {
      const taken = newEvent();
      await h().store.recordEvents([taken]);
      const fresh = newEvent();
      await expect(h().store.recordEvents([fresh, { ...newEvent(), id: taken.id }])).rejects.toMatchObject({
        code: "unavailable",
      });
      expect(await h().raw.auditEvent(fresh.id)).toBeNull();
    });

    /** Events of one new user: `count` of them, in pairs that share a millisecond (their ids break the tie). */
    async function recordedHistory(count: number): Promise<{ userId: string; events: AuditEvent[] }> {
      const userId = f.uniqueId("u");
      const base = Date.now() - DAY;
      const events = Array.from({ length: count }, (_, i) =>
        newEvent({
          userId,
          at: new Date(base + Math.floor(i / 2) * 1_000),
          type: i % 3 === 0 ? "login.success" : "password.change",
        }),
      );
      // Written out of order: the order comes from (at, id).
      await h().store.recordEvents([...events].reverse());
      const oldestFirst = [...events].sort((a, b) => a.at.getTime() - b.at.getTime() || (a.id < b.id ? -1 : 1));
      return { userId, events: oldestFirst };
    }

    async function allPages(query: Parameters<Store["listEvents"]>[0]): Promise<AuditEvent[][]> {
      const pages: AuditEvent[][] = [];
      let after = query.after ?? null;
      for (;;) {
        const page = await h().store.listEvents({ ...query, after });
        pages.push(page);
        const last = page.at(-1);
        if (!last || page.length < query.limit) return pages;
        after = { at: last.at, id: last.id };
      }
    }

    it("listEvents pages a user's events newest first by (at, id), each after the last of the one before", async () => {
      const { userId, events } = await recordedHistory(9);
      const pages = await allPages({ userId, limit: 4 });
      expect(pages.map((page) => page.length)).toEqual([4, 4, 1]);
      expect(pages.flat()).toEqual([...events].reverse());
    });

    it("listEvents pages oldest first too, and a page is not moved by events written since", async () => {
      const { userId, events } = await recordedHistory(7);
      const first = await h().store.listEvents({ userId, order: "oldest", limit: 3 });
      expect(first).toEqual(events.slice(0, 3));
      // Written between two pages: an older one lands before the cursor and is not seen on the next pages.
      const late = newEvent({ userId, at: new Date(events[0]?.at.getTime() ?? 0) });
      await h().store.recordEvents([late]);
      const last = first.at(-1) as AuditEvent;
      const rest = await allPages({ userId, order: "oldest", limit: 3, after: { at: last.at, id: last.id } });
      expect(rest.flat()).toEqual(events.slice(3));
    });

    it("listEvents filters by type and since, alone and together", async () => {
      const { userId, events } = await recordedHistory(8);
      const newestFirst = [...events].reverse();
      const since = events[4]?.at as Date;
      expect(await h().store.listEvents({ userId, type: "login.success", limit: 50 })).toEqual(
        newestFirst.filter((event) => event.type === "login.success"),
      );
      expect(await h().store.listEvents({ userId, since, limit: 50 })).toEqual(
        newestFirst.filter((event) => event.at >= since),
      );
      expect(await h().store.listEvents({ userId, since, type: "password.change", limit: 50 })).toEqual(
        newestFirst.filter((event) => event.at >= since && event.type === "password.change"),
      );
      // Without a user, every user's events: this one's among them, in the same order.
      const ids = new Set(events.map((event) => event.id));
      const everyone = await h().store.listEvents({ since: events[0]?.at as Date, limit: 10_000 });
      expect(everyone.filter((event) => ids.has(event.id))).toEqual(newestFirst);
      expect(await h().store.listEvents({ userId: f.uniqueId("u"), limit: 10 })).toEqual([]);
    });

    it("an event's user may be deleted: the event stays", async () => {
      const user = await h().store.createUser(f.newUser());
      const event = newEvent({ userId: user.id, userEmail: user.email });
      await h().store.recordEvents([event]);
      expect(await h().store.deleteUser(user.id)).toBe(true);
      expect(parsedDetail(await h().raw.auditEvent(event.id))).toEqual(rawEventOf(event));
      expect((await h().raw.userAuditEvents(user.id)).map((row) => row.id)).toEqual([event.id]);
    });

    it("deleteEventsBefore deletes the events before the time, and counts them", async () => {
      const cutoff = Date.UTC(1975, 0, 1);
      const old = [newEvent({ at: new Date(cutoff - DAY) }), newEvent({ at: new Date(cutoff - 1) })];
      const kept = [newEvent({ at: new Date(cutoff) }), newEvent({ at: new Date(cutoff + DAY) })];
      await h().store.recordEvents([...old, ...kept]);
      expect(await h().store.deleteEventsBefore(new Date(cutoff))).toBe(2);
      for (const event of old) expect(await h().raw.auditEvent(event.id)).toBeNull();
      for (const event of kept) expect(await h().raw.auditEvent(event.id)).not.toBeNull();
      expect(await h().store.deleteEventsBefore(new Date(cutoff))).toBe(0);
    });
  });

  describe("the durable outbox", () => {
    /** Queued mail of its own era, oldest first, a minute apart. */
    async function queued(count: number, at = era()): Promise<QueuedMail[]> {
      const mail = Array.from({ length: count }, (_, i) => newMail({ createdAt: new Date(at + i * MINUTE) }));
      await h().store.enqueueMail([...mail].reverse());
      return mail;
    }

    it("enqueueMail stores each message as given, pending and due at once, with non-ASCII and 20 kB bodies", async () => {
      const unit = "Grüße, Ada — ünïcödé ✓ 日本語のテキスト 🙂🔐 ";
      const body = unit.repeat(Math.ceil(20_000 / unit.length));
      const mail = [newMail({ to: "ada.lovelace+outbox@example.com", sealedBody: body }), newMail()];
      await h().store.enqueueMail(mail);
      for (const message of mail) expect(await h().raw.mail(message.id)).toEqual(rawQueuedMailOf(message));
      expect((await h().raw.mail(mail[0]?.id as string))?.sealed_body.length).toBe(body.length);
      await h().store.enqueueMail([]);
    });

    it("claimMail claims due messages oldest first, up to the limit: an attempt each, leased for leaseMs", async () => {
      const mail = await queued(4);
      const now = new Date((mail[2]?.createdAt.getTime() ?? 0) + 1);
      const claimed = await h().store.claimMail(now, 2, 5 * MINUTE);
      expect(claimed).toEqual(
        mail.slice(0, 2).map((message) => ({
          ...message,
          status: "pending",
          attempts: 1,
          nextAttemptAt: message.createdAt,
          lastError: null,
          sentAt: null,
        })),
      );
      for (const message of mail.slice(0, 2)) {
        expect(await h().raw.mail(message.id)).toEqual({
          ...rawQueuedMailOf(message),
          attempts: 1,
          lease_until: now.getTime() + 5 * MINUTE,
        });
      }
      // The third is due, the fourth not yet; the first two are leased.
      expect((await h().store.claimMail(now, 10, 5 * MINUTE)).map((message) => message.id)).toEqual([mail[2]?.id]);
      expect(await h().raw.mail(mail[3]?.id as string)).toEqual(rawQueuedMailOf(mail[3] as QueuedMail));
      expect(await h().store.claimMail(now, 10, 5 * MINUTE)).toEqual([]);
    });

    it("a message whose lease ran out is due again: claimed once more, and the old claim can no longer settle", async () => {
      const [message] = (await queued(1)) as [QueuedMail];
      const start = message.createdAt.getTime();
      const first = await h().store.claimMail(new Date(start), 1, MINUTE);
      expect(first.map((claim) => claim.attempts)).toEqual([1]);
      expect(await h().store.claimMail(new Date(start + MINUTE - 1), 1, MINUTE)).toEqual([]);
      const second = await h().store.claimMail(new Date(start + MINUTE), 1, MINUTE);
      expect(second.map((claim) => [claim.id, claim.attempts])).toEqual([[message.id, 2]]);
      // The sender that died holding the first claim comes back: its answer is stale.
      expect(await h().store.settleMail(message.id, 1, { status: "sent", keepBody: false })).toBe(false);
      expect(await h().raw.mail(message.id)).toMatchObject({ status: "pending", attempts: 2 });
      expect(await h().store.settleMail(message.id, 2, { status: "sent", keepBody: false })).toBe(true);
    });

    it("settleMail sent: marks it sent now and erases the body, unless keepBody", async () => {
      const mail = await queued(2);
      const at = new Date((mail[1]?.createdAt.getTime() ?? 0) + 1);
      await h().store.claimMail(at, 2, MINUTE);
      const before = Date.now();
      expect(await h().store.settleMail(mail[0]?.id as string, 1, { status: "sent", keepBody: false })).toBe(true);
      expect(await h().store.settleMail(mail[1]?.id as string, 1, { status: "sent", keepBody: true })).toBe(true);
      const [erased, kept] = [await h().raw.mail(mail[0]?.id as string), await h().raw.mail(mail[1]?.id as string)];
      expect(erased).toEqual({
        ...rawQueuedMailOf(mail[0] as QueuedMail),
        sealed_body: "",
        status: "sent",
        attempts: 1,
        sent_at: expect.any(Number),
      });
      expect(erased?.sent_at).toBeGreaterThanOrEqual(before);
      expect(erased?.sent_at).toBeLessThanOrEqual(Date.now());
      expect(kept).toMatchObject({ sealed_body: mail[1]?.sealedBody, status: "sent", lease_until: null });
      // Settled once: a second answer for the same claim changes nothing.
      expect(await h().store.settleMail(mail[0]?.id as string, 1, { status: "failed", error: "late" })).toBe(false);
      expect(await h().raw.mail(mail[0]?.id as string)).toEqual(erased);
    });

    it("settleMail pending: due again at nextAttemptAt, with the error (cut to 500 characters) and no lease", async () => {
      const [message] = (await queued(1)) as [QueuedMail];
      const start = message.createdAt.getTime();
      await h().store.claimMail(new Date(start), 1, MINUTE);
      const error = `421 4.7.0 Try again later ${"x".repeat(600)}`;
      const nextAttemptAt = new Date(start + 10 * MINUTE);
      expect(await h().store.settleMail(message.id, 1, { status: "pending", error, nextAttemptAt })).toBe(true);
      expect(await h().raw.mail(message.id)).toEqual({
        ...rawQueuedMailOf(message),
        attempts: 1,
        next_attempt_at: nextAttemptAt.getTime(),
        last_error: error.slice(0, 500),
      });
      expect(await h().store.claimMail(new Date(start + 10 * MINUTE - 1), 1, MINUTE)).toEqual([]);
      const again = await h().store.claimMail(nextAttemptAt, 1, MINUTE);
      expect(again).toEqual([
        expect.objectContaining({ id: message.id, attempts: 2, lastError: error.slice(0, 500), nextAttemptAt }),
      ]);
    });

    it("settleMail failed: kept, marked, never claimed; retryMail puts it back, due at now; false otherwise", async () => {
      const mail = await queued(2);
      const start = mail[0]?.createdAt.getTime() ?? 0;
      const id = mail[0]?.id as string;
      await h().store.claimMail(new Date(start), 1, MINUTE);
      expect(await h().store.settleMail(id, 1, { status: "failed", error: "550 5.1.1 No such user" })).toBe(true);
      expect(await h().raw.mail(id)).toEqual({
        ...rawQueuedMailOf(mail[0] as QueuedMail),
        status: "failed",
        attempts: 1,
        last_error: "550 5.1.1 No such user",
      });
      expect((await h().store.claimMail(new Date(start + YEAR / 2), 10, MINUTE)).map((m) => m.id)).toEqual([
        mail[1]?.id,
      ]);
      expect(await h().store.retryMail(mail[1]?.id as string, new Date(start))).toBe(false);
      expect(await h().store.retryMail(f.uniqueId("m"), new Date(start))).toBe(false);
      const retryAt = new Date(start + HOUR);
      expect(await h().store.retryMail(id, retryAt)).toBe(true);
      expect(await h().raw.mail(id)).toMatchObject({ status: "pending", next_attempt_at: retryAt.getTime() });
      expect(await h().store.retryMail(id, retryAt)).toBe(false);
      // Its attempts count on from where they were: a claim of before the failure can never settle it.
      expect((await h().store.claimMail(retryAt, 10, MINUTE)).map((m) => [m.id, m.attempts])).toEqual([[id, 2]]);
      expect(await h().store.settleMail(id, 1, { status: "sent", keepBody: false })).toBe(false);
    });

    it("settleMail of a message that is gone, or with an attempt it never had, is false and changes nothing", async () => {
      const [message] = (await queued(1)) as [QueuedMail];
      await h().store.claimMail(message.createdAt, 1, MINUTE);
      const row = await h().raw.mail(message.id);
      expect(await h().store.settleMail(f.uniqueId("m"), 1, { status: "sent", keepBody: false })).toBe(false);
      expect(await h().store.settleMail(message.id, 2, { status: "sent", keepBody: false })).toBe(false);
      expect(await h().store.settleMail(message.id, 0, { status: "failed", error: "x" })).toBe(false);
      expect(await h().raw.mail(message.id)).toEqual(row);
    });

    it("concurrent claimers, in several store instances: each message is claimed once", async () => {
      const mail = await queued(30);
      const now = new Date((mail.at(-1)?.createdAt.getTime() ?? 0) + 1);
      const claims: string[] = [];
      await context.onThreeStores("statements", async (stores) => {
        // Rounds of claimers racing for the same oldest messages, until none is left.
        for (let round = 0; round < 10 && claims.length < mail.length; round++) {
          const results = await Promise.all(
            Array.from({ length: 12 }, (_, i) => (stores[i % stores.length] as Store).claimMail(now, 4, HOUR)),
          );
          for (const claimed of results) claims.push(...claimed.map((message) => message.id));
        }
      });
      expect([...claims].sort()).toEqual(mail.map((message) => message.id).sort());
      for (const message of mail) expect((await h().raw.mail(message.id))?.attempts).toBe(1);
    });

    it("listMail lists the newest first, honours the limit and the status; countMail counts each status", async () => {
      const countsBefore = await h().store.countMail();
      // Far in the future, so these are the newest messages whatever other checks queued.
      const mail = await queued(4, Date.now() + 3_650 * DAY);
      const newestFirst = [...mail].reverse().map((message) => message.id);
      expect((await h().store.listMail({ limit: 3 })).map((message) => message.id)).toEqual(newestFirst.slice(0, 3));
      const listed = await h().store.listMail({ limit: 1 });
      expect(listed).toEqual([expect.objectContaining({ id: newestFirst[0], status: "pending", attempts: 0 })]);
      expect(await h().store.countMail()).toEqual({ ...countsBefore, pending: countsBefore.pending + 4 });

      const [failing] = (await queued(1)) as [QueuedMail];
      await h().store.claimMail(failing.createdAt, 1, MINUTE);
      await h().store.settleMail(failing.id, 1, { status: "failed", error: "550" });
      const failed = await h().store.listMail({ status: "failed", limit: 10_000 });
      expect(failed.every((message) => message.status === "failed")).toBe(true);
      expect(failed.map((message) => message.id)).toContain(failing.id);
      const times = failed.map((message) => message.createdAt.getTime());
      expect(times).toEqual([...times].sort((a, b) => b - a));
      expect(await h().store.countMail()).toEqual({
        ...countsBefore,
        pending: countsBefore.pending + 4,
        failed: countsBefore.failed + 1,
      });
    });
  });

  describe("retention (sweepExpired)", () => {
    it("deletes the events before eventsBefore, and only then; mail sent more than a week ago, and no other", async () => {
      const cutoff = Date.UTC(1985, 5, 1);
      const [old, recent] = [newEvent({ at: new Date(cutoff - 1) }), newEvent({ at: new Date(cutoff) })];
      await h().store.recordEvents([old, recent]);
      const mail = await queued3();
      const now = Date.now();

      await h().store.sweepExpired(now);
      expect(await h().raw.auditEvent(old.id)).not.toBeNull();
      await h().store.sweepExpired(now, { eventsBefore: cutoff });
      expect(await h().raw.auditEvent(old.id)).toBeNull();
      expect(await h().raw.auditEvent(recent.id)).not.toBeNull();

      // Six days on, the sent message is kept; eight days on, it is gone. The failed and pending ones stay.
      await h().store.sweepExpired(now + 6 * DAY);
      expect(await h().raw.mail(mail.sent.id)).not.toBeNull();
      await h().store.sweepExpired(now + 8 * DAY);
      expect(await h().raw.mail(mail.sent.id)).toBeNull();
      expect(await h().raw.mail(mail.failed.id)).not.toBeNull();
      expect(await h().raw.mail(mail.pending.id)).not.toBeNull();
    });

    /** One message sent now, one failed, one pending: all of one era. */
    async function queued3(): Promise<Record<"sent" | "failed" | "pending", QueuedMail>> {
      const at = era();
      const [sent, failed, pending] = [0, 1, 2].map((i) => newMail({ createdAt: new Date(at + i) })) as [
        QueuedMail,
        QueuedMail,
        QueuedMail,
      ];
      await h().store.enqueueMail([sent, failed, pending]);
      await h().store.claimMail(new Date(at + 1), 2, MINUTE);
      expect(await h().store.settleMail(sent.id, 1, { status: "sent", keepBody: false })).toBe(true);
      expect(await h().store.settleMail(failed.id, 1, { status: "failed", error: "550" })).toBe(true);
      return { sent, failed, pending };
    }
  });

  describe("searchUsers", () => {
    /** Users whose email or name holds `tag`, sorted by email as the store must order them. */
    async function tagged(): Promise<{ tag: string; users: UserRecord[] }> {
      const tag = randomBytes(6).toString("hex");
      const inputs = [
        f.newUser({ email: `${tag}-03@example.com`, name: null }),
        f.newUser({ email: `zz-${tag}-01@example.com` }),
        f.newUser({ email: `${hexId("a")}@example.com`, name: `Ada ${tag.toUpperCase()} Lovelace` }),
        f.newUser({ email: `${tag}-02@example.com`, name: "Grace" }),
        f.newUser({ email: `${tag}-05@example.com` }),
      ];
      const users: UserRecord[] = [];
      for (const input of inputs) users.push(await h().store.createUser(input));
      // Lowercase emails (the core stores them so): JavaScript's order is every collation's.
      return { tag, users: users.sort((a, b) => (a.email < b.email ? -1 : 1)) };
    }

    async function everyPage(query: string, limit: number): Promise<UserRecord[][]> {
      const pages: UserRecord[][] = [];
      let cursor: string | null = null;
      do {
        const page: { users: UserRecord[]; nextCursor: string | null } = await h().store.searchUsers({
          query,
          cursor,
          limit,
        });
        pages.push(page.users);
        cursor = page.nextCursor;
      } while (cursor !== null && pages.length < 1_000);
      return pages;
    }

    it("finds users whose email or name contains the query, in any case, ordered by email, in pages", async () => {
      const { tag, users } = await tagged();
      const pages = await everyPage(tag.toUpperCase(), 2);
      expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
      expect(pages.flat()).toEqual(users);
      expect(pages.flat()[0]).toEqual(await h().store.getUserById(users[0]?.id as string));
      const first = await h().store.searchUsers({ query: tag, cursor: null, limit: 5 });
      expect(first).toEqual({ users, nextCursor: null });
      expect(await h().store.searchUsers({ query: `${tag}-nobody`, cursor: null, limit: 5 })).toEqual({
        users: [],
        nextCursor: null,
      });
    });

    it("refuses a cursor it did not make as bad input, not as a store failure (a NUL byte, not base64url, empty text)", async () => {
      for (const cursor of ["AA", "%%%", "wq", Buffer.from("a\u0000b").toString("base64url")]) {
        await expect(h().store.searchUsers({ query: "", cursor, limit: 5 })).rejects.toMatchObject({
          code: "invalid_input",
          fields: { cursor: { code: "invalid" } },
        });
      }
    });

    it("treats % and _ (and the escape character) as themselves", async () => {
      const tag = randomBytes(6).toString("hex");
      const names = ["50%off", "50xoff", "a_b", "axb", "wow!", "wow"].map((name) => `${tag} ${name}`);
      const users: UserRecord[] = [];
      for (const name of names) users.push(await h().store.createUser(f.newUser({ name })));
      const found = async (query: string) =>
        (await h().store.searchUsers({ query, cursor: null, limit: 50 })).users.map((user) => user.name);
      expect(await found(`${tag} 50%`)).toEqual([`${tag} 50%off`]);
      expect(await found(`${tag} a_`)).toEqual([`${tag} a_b`]);
      expect(await found(`${tag} wow!`)).toEqual([`${tag} wow!`]);
      expect((await found(tag)).sort()).toEqual([...names].sort());
    });

    it("an empty query lists everyone, in pages", async () => {
      const { users } = await tagged();
      const all = (await everyPage("", 250)).flat();
      expect(all).toHaveLength((await h().store.listUsers()).length);
      const ids = all.map((user) => user.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const user of users) expect(ids).toContain(user.id);
    });
  });

  describe("bans", () => {
    it("updateUser writes bannedAt (ms) and banReason; every read returns them; null lifts the ban", async () => {
      const user = await h().store.createUser(f.newUser());
      const session = f.newSession(user);
      await h().store.createSession(session);
      const bannedAt = new Date(1_700_000_000_456);
      const banned = await h().store.updateUser(user.id, { bannedAt, banReason: "Spam — ✉️" });
      expect(await h().raw.user(user.id)).toMatchObject({ banned_at: 1_700_000_000_456, ban_reason: "Spam — ✉️" });
      expect(banned).toMatchObject({ bannedAt, banReason: "Spam — ✉️" });
      expect(await h().store.getUserById(user.id)).toEqual(banned);
      expect(await h().store.getUserByEmail(user.email)).toEqual(banned);
      expect((await h().store.getSessionAndUser(session.id))?.user).toEqual(banned);
      const lifted = await h().store.updateUser(user.id, { bannedAt: null, banReason: null });
      expect(await h().raw.user(user.id)).toMatchObject({ banned_at: null, ban_reason: null });
      expect(lifted).toMatchObject({ bannedAt: null, banReason: null });
    });

    it("endSessions with a ban bans and ends every session in one step", async () => {
      const user = await h().store.createUser(f.newUser());
      for (let i = 0; i < 3; i++) await h().store.createSession(f.newSession(user));
      const bannedAt = new Date();
      expect(await h().store.endSessions(user.id, { update: { bannedAt, banReason: null } })).toEqual({
        ended: 3,
        epoch: 1,
      });
      expect(await h().raw.user(user.id)).toMatchObject({ banned_at: bannedAt.getTime(), revocation_epoch: 1 });
      expect(await h().raw.sessionIds(user.id)).toEqual([]);
    });
  });

  describe("impersonated sessions", () => {
    it("a session's impersonatedBy and impersonatorEpoch are stored and read back by every read; absent, null", async () => {
      const user = await h().store.createUser(f.newUser());
      const adminId = f.uniqueId("admin");
      const marked = f.newSession(user, { impersonatedBy: adminId, impersonatorEpoch: 7 });
      // Epoch 0, an administrator who never ended their sessions: a number, not "none".
      const first = f.newSession(user, { impersonatedBy: adminId, impersonatorEpoch: 0 });
      const own = f.newSession(user);
      // Without the fields at all, as code written before impersonation makes a record.
      const { impersonatedBy: _, impersonatorEpoch: __, ...unmarked } = f.newSession(user);
      for (const session of [marked, first, own, unmarked]) await h().store.createSession(session);
      expect(await h().raw.session(marked.id)).toMatchObject({ impersonated_by: adminId, impersonator_epoch: 7 });
      expect(await h().raw.session(first.id)).toMatchObject({ impersonated_by: adminId, impersonator_epoch: 0 });
      for (const id of [own.id, unmarked.id]) {
        expect(await h().raw.session(id)).toMatchObject({ impersonated_by: null, impersonator_epoch: null });
      }
      for (const session of [marked, first]) {
        expect(await h().store.getSession(session.id)).toEqual(session);
        expect((await h().store.getSessionAndUser(session.id))?.session).toEqual(session);
      }
      expect(await h().store.getSession(unmarked.id)).toMatchObject({ impersonatedBy: null, impersonatorEpoch: null });
      const listed = await h().store.listUserSessions(user.id);
      expect(listed.find((session) => session.id === marked.id)).toEqual(marked);
      // A touch keeps the mark.
      await h().store.touchSession(marked.id, { lastSeenAt: new Date(), expiresAt: new Date(Date.now() + HOUR) });
      expect(await h().store.getSession(marked.id)).toMatchObject({ impersonatedBy: adminId, impersonatorEpoch: 7 });
    });
  });

  describe("the last administrator (keepAdmin)", () => {
    /** `count` users of a role of this check's own (the suite's other users have other roles), and one other. */
    async function team(count: number): Promise<{ role: string; admins: UserRecord[]; member: UserRecord }> {
      const role = `admin_${randomBytes(4).toString("hex")}`;
      const admins: UserRecord[] = [];
      for (let i = 0; i < count; i++) admins.push(await h().store.createUser(f.newUser({ role })));
      return { role, admins, member: await h().store.createUser(f.newUser()) };
    }

    it("updateUser refuses to demote or ban the last admin (last_admin), writing nothing; others may go", async () => {
      const { role, admins, member } = await team(2);
      const [first, second] = admins as [UserRecord, UserRecord];
      const keepAdmin = { role };
      expect(await h().store.updateUser(first.id, { role: "user" }, { keepAdmin })).toMatchObject({ role: "user" });
      const before = await h().raw.user(second.id);
      const effects = effectsFor(second);
      for (const update of [{ role: "user" }, { bannedAt: new Date() }, { role: "user", bannedAt: new Date() }]) {
        await expect(h().store.updateUser(second.id, update, { keepAdmin, effects })).rejects.toMatchObject({
          code: "last_admin",
        });
      }
      expect(await h().raw.user(second.id)).toEqual(before);
      await expectNotWritten(effects);
      // What takes no one out of the role is not refused: a rename, a promotion, a member's ban.
      expect(await h().store.updateUser(second.id, { name: "Still here", role }, { keepAdmin })).toMatchObject({
        name: "Still here",
      });
      expect(await h().store.updateUser(member.id, { bannedAt: new Date() }, { keepAdmin })).not.toBeNull();
      expect(await h().store.updateUser(first.id, { role }, { keepAdmin })).toMatchObject({ role });
      // Without keepAdmin the store does not guard.
      expect(await h().store.updateUser(second.id, { role: "user" })).toMatchObject({ role: "user" });
    });

    it("a banned admin does not count: the last unbanned one is kept", async () => {
      const { role, admins } = await team(2);
      const [banned, last] = admins as [UserRecord, UserRecord];
      const keepAdmin = { role };
      await h().store.updateUser(banned.id, { bannedAt: new Date() }, { keepAdmin });
      await expect(h().store.deleteUser(last.id, { keepAdmin })).rejects.toMatchObject({ code: "last_admin" });
      await expect(
        h().store.endSessions(last.id, { update: { bannedAt: new Date() }, keepAdmin }),
      ).rejects.toMatchObject({ code: "last_admin" });
      // The banned one may be deleted or demoted: the role keeps its unbanned admin.
      expect(await h().store.updateUser(banned.id, { role: "user" }, { keepAdmin })).not.toBeNull();
      expect(await h().store.deleteUser(banned.id, { keepAdmin })).toBe(true);
    });

    it("endSessions refuses to ban the last admin, and deleteUser to delete them: sessions, user and effects stay", async () => {
      const { role, admins } = await team(1);
      const [admin] = admins as [UserRecord];
      const keepAdmin = { role };
      const session = f.newSession(admin);
      await h().store.createSession(session);
      const before = await h().raw.user(admin.id);
      const effects = effectsFor(admin);
      await expect(
        h().store.endSessions(admin.id, { update: { bannedAt: new Date(), banReason: "x" }, keepAdmin, effects }),
      ).rejects.toMatchObject({ code: "last_admin" });
      await expect(h().store.deleteUser(admin.id, { keepAdmin, effects })).rejects.toMatchObject({
        code: "last_admin",
      });
      expect(await h().raw.user(admin.id)).toEqual(before);
      expect(await h().raw.sessionIds(admin.id)).toEqual([session.id]);
      await expectNotWritten(effects);
      // An end of sessions that bans no one is not refused.
      expect(await h().store.endSessions(admin.id, { keepAdmin })).toEqual({ ended: 1, epoch: 1 });
    });

    type Removal = "demote" | "ban" | "delete";
    const remove = (store: Store, id: string, how: Removal, role: string): Promise<unknown> => {
      const keepAdmin = { role };
      if (how === "demote") return store.updateUser(id, { role: "user" }, { keepAdmin });
      if (how === "ban") return store.endSessions(id, { update: { bannedAt: new Date() }, keepAdmin });
      return store.deleteUser(id, { keepAdmin });
    };

    for (const [a, b] of [
      ["demote", "demote"],
      ["ban", "ban"],
      ["delete", "delete"],
      ["demote", "ban"],
      ["ban", "delete"],
    ] as const) {
      it(`two admins, one to ${a} the other and one to ${b} them, at once in two instances: exactly one succeeds (10 rounds)`, async () => {
        for (let round = 0; round < 10; round++) {
          const { role, admins } = await team(2);
          const [first, second] = admins as [UserRecord, UserRecord];
          let results: PromiseSettledResult<unknown>[] = [];
          await context.onThreeStores("transactions", async (stores) => {
            const other = stores[1] ?? (stores[0] as Store);
            results = await Promise.allSettled([
              remove(stores[0] as Store, second.id, a, role),
              remove(other, first.id, b, role),
            ]);
          });
          expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
          const refused = results.find((result) => result.status === "rejected") as PromiseRejectedResult;
          expect(refused.reason).toMatchObject({ code: "last_admin" });
          const left = [await h().raw.user(first.id), await h().raw.user(second.id)].filter(
            (row) => row?.role === role && row.banned_at === null,
          );
          expect(left).toHaveLength(1);
        }
      });
    }
  });
}

/** Erases a case's context type, so that cases of different ones share a list. */
function effectCase<C>(c: EffectCase<C>): EffectCase<never> {
  return c as unknown as EffectCase<never>;
}

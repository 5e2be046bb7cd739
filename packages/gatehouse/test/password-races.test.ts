/**
 * A password change must stay the last word on the password. Two interleavings undid it: a log-in with the
 * old password whose rehash write landed after the change, and a second change approved by a session that
 * the first change had just ended. And the session a change starts belongs to that change's epoch, so a
 * revocation right after it ends it too. An email-change link asked for before a revocation is void, however
 * late it was mailed. Each interleaving is forced through a store (or a mailer) whose calls can be held, on
 * SQLite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createGatehouse, type Gatehouse } from "../src/core/gatehouse.js";
import type { MailMessage } from "../src/mail/mailer.js";
import { createPostgresStore } from "../src/stores/postgres.js";
import type { Store } from "../src/stores/types.js";
import { CHEAP_ARGON2, PASSWORD, TEST_SECRET } from "./support/credentials.js";
import { createPostgresDatabase, requireService } from "./support/services.js";
import { type CheckedSession, cookieValue, validateSession } from "./support/session-fixtures.js";
import { openTempSqliteStore } from "./support/temp-sqlite.js";

const postgresAvailable = await requireService("postgres");

const NEW_PASSWORD = "the owner's new passphrase";
const ATTACKER_PASSWORD = "the attacker's own passphrase";
/** Costlier than CHEAP_ARGON2, so a hash made with those parameters is rehashed at log-in. */
const STRONGER_ARGON2 = { memoryCost: 2048, timeCost: 1, parallelism: 1 };

/** A call of the store held at its start until the test lets it go. */
interface Hold {
  /** Resolves once the held call has been made. */
  reached: Promise<void>;
  release(): void;
}

/**
 * The store, with one kind of call that can be held: `arm(method, when)` holds the next call of `method` whose
 * arguments satisfy `when`, before it reaches the database.
 */
function holdingStore(store: Store) {
  let armed: {
    method: keyof Store;
    when: (args: unknown[]) => boolean;
    hold: Hold;
    gate: Promise<void>;
    reach: () => void;
  } | null = null;
  const wrapped = new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        const current = armed;
        if (current && current.method === name && current.when(args)) {
          armed = null;
          current.reach();
          await current.gate;
        }
        return value.apply(target, args);
      };
    },
  });
  return {
    store: wrapped as Store,
    arm(method: keyof Store, when: (args: unknown[]) => boolean = () => true): Hold {
      let reach!: () => void;
      let release!: () => void;
      const reached = new Promise<void>((resolve) => {
        reach = resolve;
      });
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const hold = { reached, release };
      armed = { method, when, hold, gate, reach };
      return hold;
    },
  };
}

interface Backend {
  name: string;
  open(): Promise<{ store: Store; close(): Promise<void> }>;
}

const BACKENDS: Backend[] = [
  {
    name: "SQLite",
    async open() {
      const sqlite = openTempSqliteStore();
      await sqlite.store.migrate();
      return { store: sqlite.store, close: () => sqlite.close() };
    },
  },
  ...(postgresAvailable
    ? [
        {
          name: "PostgreSQL",
          async open() {
            const database = await createPostgresDatabase();
            const store = createPostgresStore({ url: database.url });
            await store.migrate();
            return {
              store,
              async close() {
                await store.close();
                await database.drop();
              },
            };
          },
        },
      ]
    : []),
];

describe.each(BACKENDS)("password races ($name)", (backend) => {
  let opened: { store: Store; close(): Promise<void> };
  let counter = 0;

  beforeAll(async () => {
    opened = await backend.open();
  });
  afterAll(() => opened?.close());

  /** Two app instances on one database: the attacker's requests reach one, the owner's the other. */
  function instances(argon2 = CHEAP_ARGON2) {
    const held = holdingStore(opened.store);
    const options = {
      secret: TEST_SECRET,
      secureCookies: false,
      rateLimits: { loginPerIp: false, signupPerIp: false },
    } as const;
    const attackers: Gatehouse = createGatehouse({ ...options, store: held.store, argon2 });
    const owners: Gatehouse = createGatehouse({ ...options, store: opened.store, argon2 });
    return { attackers, owners, arm: held.arm };
  }

  async function newAccount(): Promise<string> {
    const email = `race${++counter}-${backend.name.toLowerCase()}@example.com`;
    await createGatehouse({ store: opened.store, secret: TEST_SECRET, argon2: CHEAP_ARGON2 }).users.create({
      email,
      password: PASSWORD,
    });
    return email;
  }

  async function signedIn(
    gatehouse: Gatehouse,
    email: string,
    password = PASSWORD,
  ): Promise<{ value: string; valid: CheckedSession }> {
    const { setCookie } = await gatehouse.logIn({ email, password });
    const value = cookieValue(setCookie);
    return { value, valid: (await validateSession(gatehouse, value)) as CheckedSession };
  }

  /** How a log-in with `password` ends: "signed in", or the error's code. */
  const outcome = (gatehouse: Gatehouse, email: string, password: string) =>
    gatehouse.logIn({ email, password }).then(
      () => "signed in",
      (error: { code?: string }) => error.code ?? "threw",
    );

  it("a log-in with the old password whose rehash lands after a password change does not bring the old password back", async () => {
    const email = await newAccount();
    // The accounts were hashed with cheaper parameters than the app now uses: each log-in rehashes.
    const { attackers, owners, arm } = instances(STRONGER_ARGON2);
    const rehash = arm("updateUser", ([, update]) => (update as { passwordHash?: string }).passwordHash !== undefined);
    const attack = attackers.logIn({ email, password: PASSWORD });
    await rehash.reached;

    const owner = await signedIn(owners, email);
    await owners.changePassword(owner.valid, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    rehash.release();
    await attack;

    expect(await outcome(owners, email, PASSWORD)).toBe("invalid_credentials");
    expect(await outcome(owners, email, NEW_PASSWORD)).toBe("signed in");
  });

  it("a second password change approved by a session the first one ended is refused, and changes nothing", async () => {
    const email = await newAccount();
    const { attackers, owners, arm } = instances();
    // The attacker holds a stolen session and knows the old password too.
    const stolen = await signedIn(attackers, email);
    const owner = await signedIn(owners, email);
    const ending = arm("endSessions");
    const attack = attackers
      .changePassword(stolen.valid, { currentPassword: PASSWORD, newPassword: ATTACKER_PASSWORD })
      .then(
        () => "changed",
        (error: { code?: string }) => error.code ?? "threw",
      );
    await ending.reached;

    const changed = await owners.changePassword(owner.valid, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    ending.release();

    expect(await attack).toBe("unauthenticated");
    expect(await outcome(owners, email, ATTACKER_PASSWORD)).toBe("invalid_credentials");
    expect(await outcome(owners, email, NEW_PASSWORD)).toBe("signed in");
    expect(await validateSession(owners, stolen.value)).toBeNull();
    const ownersNew = cookieValue(changed.setCookie);
    expect(await validateSession(owners, ownersNew)).not.toBeNull();
  });

  it("the session a password change starts is ended by a revocation that commits while it is being made", async () => {
    const email = await newAccount();
    const { attackers: changing, owners, arm } = instances();
    const session = await signedIn(changing, email);
    // Held after the change's transaction, before the new session is made from a fresh read of the user.
    const reread = arm("getUserById");
    const change = changing.changePassword(session.valid, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    await reread.reached;
    await owners.revokeAllSessions(session.valid.user.id);
    reread.release();

    const { setCookie } = await change;
    expect(await validateSession(owners, cookieValue(setCookie))).toBeNull();
    expect(await owners.listSessions(session.valid.user.id)).toEqual([]);
  });

  it('"sign out other sessions" does not bring back a record a racing rotation wrote after a revocation', async () => {
    const email = await newAccount();
    const { owners } = instances();
    const stolen = await signedIn(owners, email);
    const record = (await opened.store.getSessionAndUser(stolen.valid.session.id))?.session;
    // The attacker's request was checked before the owner revoked everything; a rotation of theirs that was
    // under way then writes the record again, in the epoch it read. Their request now ends the "others".
    await owners.revokeAllSessions(stolen.valid.user.id);
    await opened.store.createSession(record as NonNullable<typeof record>);
    await owners.revokeOtherSessions(stolen.valid.user.id, stolen.valid.session.id);

    expect(await validateSession(owners, stolen.value)).toBeNull();
  });
  describe.each(["changePassword", "revokeOtherSessions"] as const)(
    "an email-change link asked for before %s",
    (revocation) => {
      it("is void, though it is written and mailed after it", async () => {
        const email = await newAccount();
        // The link is mailed in the background, after the notice to the current address: hold that notice.
        const sent: MailMessage[] = [];
        let release!: () => void;
        const held = new Promise<void>((resolve) => {
          release = resolve;
        });
        const mailer = {
          async send(message: MailMessage) {
            if (message.to === email) await held;
            sent.push(message);
          },
        };
        const gatehouse = createGatehouse({
          store: opened.store,
          secret: TEST_SECRET,
          secureCookies: false,
          argon2: CHEAP_ARGON2,
          url: "http://localhost:3000",
          mailer,
          rateLimits: { loginPerIp: false },
        });
        const stolen = await signedIn(gatehouse, email);
        const owner = await signedIn(gatehouse, email);
        const attackersAddress = `taker-${email}`;
        await gatehouse.requestEmailChange(stolen.valid, { email: attackersAddress, password: PASSWORD });

        if (revocation === "changePassword") {
          await gatehouse.changePassword(owner.valid, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
        } else {
          await gatehouse.revokeOtherSessions(owner.valid.user.id, owner.valid.session.id);
        }
        release();
        await vi.waitFor(() => expect(sent.some((message) => message.to === attackersAddress)).toBe(true));
        const link = sent.find((message) => message.to === attackersAddress)?.text ?? "";
        const token = /token=([A-Za-z0-9_-]{32})/.exec(link)?.[1];
        expect(token, "the link in the mail").toBeDefined();

        await expect(gatehouse.verifyEmail({ token: token as string })).rejects.toMatchObject({
          code: "invalid_token",
        });
        expect((await opened.store.getUserById(owner.valid.user.id))?.email).toBe(email);
      });
    },
  );
});

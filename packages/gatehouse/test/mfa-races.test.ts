/**
 * The second factor's single-use promises under concurrent requests, over real HTTP, on SQLite and
 * PostgreSQL, for both session strategies: one pending log-in signs in once, one TOTP step and one recovery
 * code are used once, a burst of guesses gets no more checks than the limit, one of several confirms turns
 * TOTP on, and of several set-ups one secret is left. Then every refused request of the MFA routes is shown
 * to leave the database as it was, row for row, read through a connection of the test's own.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresStore } from "../src/stores/postgres.js";
import type { Store } from "../src/stores/types.js";
import { PASSWORD } from "./support/credentials.js";
import { sessionCookieOf, startServer, type TestServer, uniqueEmails } from "./support/http-server.js";
import { createPostgresDatabase, requireService } from "./support/services.js";
import { openTempSqliteStore, querySqliteFile } from "./support/temp-sqlite.js";
import { mfaClient, STEP_MS, totpCode, wrongCode } from "./support/totp.js";

const postgresAvailable = await requireService("postgres");

/** Rounds of each race: each round is a new interleaving, on a new step or code. */
const ROUNDS = 5;
/** Requests sent at once in the races on one pending log-in. */
const BURST = 16;

type Row = Record<string, unknown>;
/** Every table of Gatehouse, each sorted by its key, read raw. */
type RawTables = Record<string, Row[]>;

const TABLES: Record<string, string> = {
  gatehouse_users: "id",
  gatehouse_sessions: "id",
  gatehouse_tokens: "token_hash",
  gatehouse_mail: "id",
  gatehouse_rate_limits: "key",
  gatehouse_totp: "user_id",
  gatehouse_recovery_codes: "code_hash",
  gatehouse_passkeys: "id",
  gatehouse_challenges: "id_hash",
};

/** A store the servers share, and raw reads of its database behind its back. */
interface Backend {
  store: Store;
  tables(): Promise<RawTables>;
  close(): Promise<void>;
}

async function openSqlite(): Promise<Backend> {
  const sqlite = openTempSqliteStore();
  await sqlite.store.migrate();
  return {
    store: sqlite.store,
    async tables() {
      return querySqliteFile(sqlite.dbFile, (db) =>
        Object.fromEntries(
          Object.entries(TABLES).map(([table, key]) => [
            table,
            db.prepare(`SELECT * FROM ${table} ORDER BY ${key}`).all() as Row[],
          ]),
        ),
      );
    },
    close: () => sqlite.close(),
  };
}

async function openPostgres(): Promise<Backend> {
  const database = await createPostgresDatabase();
  const store = createPostgresStore({ url: database.url });
  await store.migrate();
  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  return {
    store,
    async tables() {
      const tables: RawTables = {};
      for (const [table, key] of Object.entries(TABLES)) {
        tables[table] = (await admin.query(`SELECT * FROM ${table} ORDER BY ${key}`)).rows;
      }
      return tables;
    },
    async close() {
      await admin.end();
      await store.close();
      await database.drop();
    },
  };
}

const BACKENDS = [
  { name: "SQLite", open: openSqlite },
  ...(postgresAvailable ? [{ name: "PostgreSQL", open: openPostgres }] : []),
];

/**
 * `store`, noting every call that rejects (with the driver's error under it): a 503 in a race then says
 * what the database answered.
 */
function recordingFailures(store: Store): { store: Store; failures: string[] } {
  const failures: string[] = [];
  const recording = new Proxy(store, {
    get(target, name) {
      const value: unknown = Reflect.get(target, name);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        try {
          return await value.apply(target, args);
        } catch (error) {
          const { message, cause } = error as Error & { cause?: { code?: string; message?: string } };
          failures.push(`${String(name)}: ${message}${cause ? ` (${cause.code ?? ""} ${cause.message ?? ""})` : ""}`);
          throw error;
        }
      };
    },
  });
  return { store: recording as Store, failures };
}

/** The rows of `table` that belong to `userId`. */
const rowsOf = (tables: RawTables, table: string, userId: string) =>
  (tables[table] ?? []).filter((row) => row.user_id === userId);

/** How each response ended: its status and error code, e.g. `401 invalid_code`, counted. */
async function outcomes(responses: Response[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const response of responses) {
    const body = await response.clone().json();
    const outcome = `${response.status}${body.error ? ` ${body.error.code}` : ""}`;
    counts[outcome] = (counts[outcome] ?? 0) + 1;
  }
  return counts;
}

describe.each(BACKENDS)("second-factor races ($name)", (backendInfo) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await backendInfo.open();
  });
  afterAll(() => backend?.close());

  describe.each(["database", "stateless"] as const)("%s sessions", (strategy) => {
    const app = {} as TestServer;
    const mfa = mfaClient(app);
    const uniqueEmail = uniqueEmails(`race-${backendInfo.name.toLowerCase()}`, strategy);
    let now = 0;

    let failures: string[] = [];

    beforeAll(async () => {
      const recording = recordingFailures(backend.store);
      failures = recording.failures;
      Object.assign(app, await startServer(strategy, { store: recording.store }));
      now = app.startedAt;
    });
    afterAll(() => app.close?.());

    /** The clock one step on: every round's codes are new ones. */
    function nextStep(): number {
      now += STEP_MS;
      app.setClock(now);
      return now;
    }

    async function totpUser() {
      const user = await mfa.totpUser(uniqueEmail(), now);
      return { ...user, now: nextStep() };
    }

    // Each round has an account of its own: the losers' failures count, and would fill the account's limit.
    it(`${BURST} verifies of one pending log-in with the same right code at once: exactly one signs in`, async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const user = await totpUser();
        const code = totpCode(user.secret, now);
        const pending = await mfa.pendingLogIn(user.email);
        const before = await backend.tables();
        const responses = await Promise.all(Array.from({ length: BURST }, () => mfa.verify(pending, { code })));
        const counts = await outcomes(responses);
        expect(counts["200"], `${JSON.stringify(counts)}\n${failures.join("\n")}`).toBe(1);
        // A loser finds the code used, or the pending log-in used up, or (past the 5 attempts of one pending
        // log-in) the limit reached.
        for (const outcome of Object.keys(counts)) {
          expect(["200", "401 invalid_code", "401 mfa_pending_expired", "429 rate_limited"]).toContain(outcome);
        }
        expect(counts["401 invalid_code"] ?? 0).toBeLessThanOrEqual(5);
        expect(responses.filter((response) => sessionCookieOf(response))).toHaveLength(1);
        const after = await backend.tables();
        expect(rowsOf(after, "gatehouse_challenges", user.id)).toEqual([]);
        if (strategy === "database") {
          const added = rowsOf(after, "gatehouse_sessions", user.id).length;
          expect(added - rowsOf(before, "gatehouse_sessions", user.id).length).toBe(1);
        }
      }
    });

    it("the same code on 8 pending log-ins at once: exactly one signs in", async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const user = await totpUser();
        const code = totpCode(user.secret, now);
        const pendings = await Promise.all(Array.from({ length: 8 }, () => mfa.pendingLogIn(user.email)));
        const responses = await Promise.all(pendings.map((pending) => mfa.verify(pending, { code })));
        expect(await outcomes(responses), failures.join("\n")).toEqual({ "200": 1, "401 invalid_code": 7 });
      }
    });

    it("one recovery code on 4 pending log-ins at once: exactly one signs in, and only that code is gone", async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const user = await totpUser();
        const recoveryCode = user.recoveryCodes[round] as string;
        const pendings = await Promise.all(Array.from({ length: 4 }, () => mfa.pendingLogIn(user.email)));
        const responses = await Promise.all(pendings.map((pending) => mfa.verify(pending, { recoveryCode })));
        expect(await outcomes(responses), failures.join("\n")).toEqual({ "200": 1, "401 invalid_code": 3 });
        expect(rowsOf(await backend.tables(), "gatehouse_recovery_codes", user.id)).toHaveLength(9);
        // The other nine still work.
        await mfa.logInWith(user.email, { recoveryCode: user.recoveryCodes[(round + 1) % 10] });
      }
    });

    it("20 wrong codes at once on one pending log-in: 5 are checked, 15 refused with 429, and 5 are counted", async () => {
      const user = await totpUser();
      const pending = await mfa.pendingLogIn(user.email);
      const wrong = wrongCode(user.secret, now);
      const responses = await Promise.all(Array.from({ length: 20 }, () => mfa.verify(pending, { code: wrong })));
      expect(await outcomes(responses), failures.join("\n")).toEqual({ "401 invalid_code": 5, "429 rate_limited": 15 });
      const counter = (await backend.tables()).gatehouse_rate_limits?.find(
        (row) => row.key === `mfa-account:${user.id}`,
      );
      expect(Number(counter?.count)).toBe(5);
    });

    it("concurrent confirms with the right code: one turns TOTP on, the others get 409 (or 401, their session rotated away)", async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const user = await mfa.signedInUser(uniqueEmail());
        const secret = await mfa.setUp(user.cookie);
        const code = totpCode(secret, nextStep());
        const responses = await Promise.all(Array.from({ length: 10 }, () => mfa.confirm(user.cookie, code)));
        const counts = await outcomes(responses);
        expect(counts["200"], `${JSON.stringify(counts)}\n${failures.join("\n")}`).toBe(1);
        for (const outcome of Object.keys(counts)) {
          expect(["200", "409 mfa_already_enabled", "401 unauthenticated"]).toContain(outcome);
        }
        const winner = responses.find((response) => response.status === 200) as Response;
        const { recoveryCodes } = await winner.json();
        const tables = await backend.tables();
        expect(rowsOf(tables, "gatehouse_totp", user.id)).toHaveLength(1);
        expect(rowsOf(tables, "gatehouse_recovery_codes", user.id)).toHaveLength(10);
        // The one set of codes stored is the one the winner was shown.
        await mfa.logInWith(user.email, { recoveryCode: recoveryCodes[0] });
      }
    });

    it("concurrent set-ups leave one unconfirmed secret: exactly one of the secrets handed out confirms", async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const user = await mfa.signedInUser(uniqueEmail());
        const responses = await Promise.all(
          Array.from({ length: 6 }, () => mfa.setup(user.cookie, { password: PASSWORD })),
        );
        expect(await outcomes(responses), failures.join("\n")).toEqual({ "200": 6 });
        const secrets: string[] = await Promise.all(responses.map(async (response) => (await response.json()).secret));
        expect(rowsOf(await backend.tables(), "gatehouse_totp", user.id)).toHaveLength(1);

        // Tried in turn until one confirms: each before it is refused. Confirming rotates the session.
        const at = nextStep();
        let winner: string | undefined;
        for (const secret of secrets) {
          const confirmed = await mfa.confirm(user.cookie, totpCode(secret, at));
          if (confirmed.status === 200) {
            winner = secret;
            break;
          }
          expect(confirmed.status).toBe(400);
          expect((await confirmed.json()).error.code).toBe("invalid_code");
        }
        expect(winner).toBeDefined();
        // Those after it are not the stored secret either: their codes do not finish a log-in.
        const later = nextStep();
        const pending = await mfa.pendingLogIn(user.email);
        for (const secret of secrets.filter((s) => s !== winner)) {
          const refused = await mfa.verify(pending, { code: totpCode(secret, later) });
          expect((await refused.json()).error?.code).toBe("invalid_code");
        }
        await mfa.logInWith(user.email, { code: totpCode(winner as string, later) });
      }
    });

    describe("every refused request leaves the database as it was", () => {
      /** A request that checks a password or a code: the log-in counters may move, by design. */
      const COUNTED = true;
      const UNCOUNTED = false;
      interface Refusal {
        name: string;
        /** Status and error code, e.g. `401 invalid_code`. */
        outcome: string;
        counted: boolean;
        send(): Promise<Response>;
      }
      const refusal = (name: string, outcome: string, counted: boolean, send: () => Promise<Response>): Refusal => ({
        name,
        outcome,
        counted,
        send,
      });

      let refusals: Refusal[] = [];

      beforeAll(async () => {
        const on = await totpUser();
        const plain = await mfa.signedInUser(uniqueEmail());
        const unconfirmed = await mfa.signedInUser(uniqueEmail());
        const unconfirmedSecret = await mfa.setUp(unconfirmed.cookie);
        const pending = await mfa.pendingLogIn(on.email);
        const full = await mfa.pendingLogIn(on.email);
        const wrong = wrongCode(on.secret, now);
        for (let i = 0; i < 5; i++) expect((await mfa.verify(full, { code: wrong })).status).toBe(401);
        const post = (route: string, cookie: string, json: unknown) =>
          mfa.request(route, { method: "POST", json, cookie });
        // The code that confirmed TOTP: its step is used, though still inside the window.
        const firstCode = totpCode(on.secret, on.now - STEP_MS);

        refusals = [
          refusal("verify, wrong code", "401 invalid_code", COUNTED, () => mfa.verify(pending, { code: wrong })),
          refusal("verify, replayed code", "401 invalid_code", COUNTED, () => mfa.verify(pending, { code: firstCode })),
          refusal("verify, wrong recovery code", "401 invalid_code", COUNTED, () =>
            mfa.verify(pending, { recoveryCode: "abcde-fghjk" }),
          ),
          refusal("verify, malformed", "400 invalid_input", UNCOUNTED, () => mfa.verify(pending, { code: "12345" })),
          refusal("verify, two answers", "400 invalid_input", UNCOUNTED, () =>
            mfa.verify(pending, { code: wrong, recoveryCode: on.recoveryCodes[0] }),
          ),
          refusal("verify, no pending log-in", "401 mfa_pending_expired", UNCOUNTED, () =>
            mfa.verify(null, { code: totpCode(on.secret, now) }),
          ),
          refusal("verify, limit reached", "429 rate_limited", UNCOUNTED, () =>
            mfa.verify(full, { code: totpCode(on.secret, now) }),
          ),
          refusal("log-in, wrong password", "401 invalid_credentials", COUNTED, () =>
            mfa.logIn(on.email, "not the password"),
          ),
          refusal("setup, no password", "403 reauthentication_required", UNCOUNTED, () =>
            post("/api/auth/mfa/totp/setup", plain.cookie, {}),
          ),
          refusal("setup, wrong password", "400 invalid_input", COUNTED, () =>
            post("/api/auth/mfa/totp/setup", plain.cookie, { password: "not it" }),
          ),
          refusal("setup, already on", "409 mfa_already_enabled", COUNTED, () =>
            post("/api/auth/mfa/totp/setup", on.cookie, { password: PASSWORD }),
          ),
          refusal("confirm, wrong code", "400 invalid_code", COUNTED, () =>
            mfa.confirm(unconfirmed.cookie, wrongCode(unconfirmedSecret, now)),
          ),
          refusal("confirm, no set-up", "409 mfa_setup_required", UNCOUNTED, () => mfa.confirm(plain.cookie, "123456")),
          refusal("confirm, already on", "409 mfa_already_enabled", UNCOUNTED, () =>
            mfa.confirm(on.cookie, totpCode(on.secret, now + STEP_MS)),
          ),
          refusal("disable, no password", "403 reauthentication_required", UNCOUNTED, () =>
            post("/api/auth/mfa/totp/disable", on.cookie, {}),
          ),
          refusal("disable, wrong password", "400 invalid_input", COUNTED, () =>
            post("/api/auth/mfa/totp/disable", on.cookie, { password: "not it" }),
          ),
          refusal("disable, not on", "409 mfa_not_enabled", COUNTED, () =>
            post("/api/auth/mfa/totp/disable", plain.cookie, { password: PASSWORD }),
          ),
          refusal("recovery codes, no password", "403 reauthentication_required", UNCOUNTED, () =>
            post("/api/auth/mfa/recovery-codes", on.cookie, {}),
          ),
          refusal("recovery codes, wrong password", "400 invalid_input", COUNTED, () =>
            post("/api/auth/mfa/recovery-codes", on.cookie, { password: "not it" }),
          ),
          refusal("recovery codes, not on", "409 mfa_not_enabled", COUNTED, () =>
            post("/api/auth/mfa/recovery-codes", plain.cookie, { password: PASSWORD }),
          ),
          refusal("mfa status, pending cookie only", "401 unauthenticated", UNCOUNTED, () =>
            mfa.request("/api/auth/mfa", { headers: { Cookie: `gatehouse.mfa=${pending}` } }),
          ),
        ];
      });

      it("row for row, the counters too unless the refusal is one the limits count", async () => {
        // The refusals are run inside one test: beforeAll made the accounts they need.
        expect(refusals.length).toBeGreaterThan(0);
        for (const refusal of refusals) {
          const before = await backend.tables();
          const response = await refusal.send();
          expect(Object.keys(await outcomes([response])), refusal.name).toEqual([refusal.outcome]);
          expect(response.headers.getSetCookie(), refusal.name).toEqual([]);
          const after = await backend.tables();
          if (refusal.counted) {
            delete before.gatehouse_rate_limits;
            delete after.gatehouse_rate_limits;
          }
          expect(after, refusal.name).toEqual(before);
        }
      });
    });
  });
});

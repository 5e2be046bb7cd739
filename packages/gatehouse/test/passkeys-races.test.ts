/**
 * Passkey ceremonies raced over real HTTP, on SQLite and PostgreSQL, for both session strategies: a challenge
 * is used once however many requests present it at the same moment, and of several sign-ins reporting one
 * signature count only one is taken; of several answers to one pending log-in, one signs in. Outcomes are checked by raw reads through a connection of the test's
 * own, never through the store under test.
 */
import { execFileSync } from "node:child_process";
import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from "@simplewebauthn/server";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SessionStrategyName } from "../src/session/config.js";
import { createPostgresStore } from "../src/stores/postgres.js";
import type { Store } from "../src/stores/types.js";
import { PASSWORD } from "./support/credentials.js";
import { type Browser, createBrowser, startServer, type TestServer, uniqueEmails } from "./support/http-server.js";
import { createPostgresDatabase, requireService } from "./support/services.js";
import { openTempSqliteStore, querySqliteFile } from "./support/temp-sqlite.js";
import { createSoftwareAuthenticator, type SoftwareAuthenticator } from "./support/webauthn.js";

const postgresAvailable = await requireService("postgres");

const STRATEGIES = ["database", "stateless"] as const satisfies readonly SessionStrategyName[];
/** Requests sent at once in each race. */
const RACERS = 10;
/** Races per test: one round may happen not to interleave; several make it likely that one does. */
const ROUNDS = 5;

type Row = Record<string, unknown>;

/** A store under test and raw reads of what it wrote. */
interface Backend {
  store: Store;
  /** The user's passkey rows, sorted by id. */
  passkeys(userId: string): Promise<Row[]>;
  /** How many session rows the user has. */
  sessionCount(userId: string): Promise<number>;
  userId(email: string): Promise<string>;
  close(): Promise<void>;
}

async function openSqliteBackend(): Promise<Backend> {
  const sqlite = openTempSqliteStore();
  await sqlite.store.migrate();
  const query = <T>(sql: string, ...params: unknown[]) =>
    querySqliteFile(sqlite.dbFile, (db) => db.prepare(sql).all(...params) as T[]);
  return {
    store: sqlite.store,
    passkeys: async (userId) => query<Row>("SELECT * FROM gatehouse_passkeys WHERE user_id = ? ORDER BY id", userId),
    sessionCount: async (userId) =>
      query<{ n: number }>("SELECT COUNT(*) AS n FROM gatehouse_sessions WHERE user_id = ?", userId)[0]?.n ?? 0,
    userId: async (email) => String(query<Row>("SELECT id FROM gatehouse_users WHERE email = ?", email)[0]?.id),
    close: () => sqlite.close(),
  };
}

async function openPostgresBackend(): Promise<Backend> {
  const database = await createPostgresDatabase();
  const store = createPostgresStore({ url: database.url });
  await store.migrate();
  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  const rows = async (sql: string, param: string) => (await admin.query(sql, [param])).rows as Row[];
  return {
    store,
    passkeys: (userId) => rows("SELECT * FROM gatehouse_passkeys WHERE user_id = $1 ORDER BY id", userId),
    sessionCount: async (userId) =>
      Number((await rows("SELECT COUNT(*) AS n FROM gatehouse_sessions WHERE user_id = $1", userId))[0]?.n),
    userId: async (email) => String((await rows("SELECT id FROM gatehouse_users WHERE email = $1", email))[0]?.id),
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

/** `n` copies of one request, sent together: resolves to each status and error code. */
async function race(send: () => Promise<Response>, n = RACERS): Promise<string[]> {
  const responses = await Promise.all(Array.from({ length: n }, send));
  return Promise.all(
    responses.map(async (response) => {
      const body = await response.json();
      return body.error ? `${response.status} ${body.error.code}` : String(response.status);
    }),
  );
}

/** How many times each outcome came, e.g. `{ "200": 1, "400 challenge_expired": 9 }`. */
function tally(outcomes: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) counts[outcome] = (counts[outcome] ?? 0) + 1;
  return counts;
}

describe.each(BACKENDS)("passkey races ($name)", ({ name, open }) => {
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
    const uniqueEmail = uniqueEmails(`passkey-race-${strategy}-`, name.toLowerCase());
    let app: TestServer;
    beforeAll(async () => {
      app = await startServer(strategy, { store: backend.store });
    });
    afterAll(async () => {
      await app?.close();
    });

    const post = (browser: Browser, route: string, body?: unknown) =>
      browser.request(`/api/auth/${route}`, body === undefined ? { method: "POST" } : { json: body });

    async function signedIn(): Promise<{ browser: Browser; email: string; id: string }> {
      const browser = createBrowser(app);
      const email = uniqueEmail();
      expect((await post(browser, "signup", { email, password: PASSWORD })).status).toBe(201);
      return { browser, email, id: await backend.userId(email) };
    }

    async function registrationOptions(browser: Browser): Promise<PublicKeyCredentialCreationOptionsJSON> {
      const response = await post(browser, "passkeys/register/options", { password: PASSWORD });
      expect(response.status).toBe(200);
      return response.json();
    }

    async function logInOptions(browser: Browser): Promise<PublicKeyCredentialRequestOptionsJSON> {
      const response = await post(browser, "passkeys/login/options");
      expect(response.status).toBe(200);
      return response.json();
    }

    /** Turns TOTP on through the API, with a code oathtool makes at the server's frozen clock. */
    async function turnOnTotp(browser: Browser): Promise<void> {
      const setup = await post(browser, "mfa/totp/setup", { password: PASSWORD });
      expect(setup.status).toBe(200);
      const { secret } = await setup.json();
      const code = execFileSync("oathtool", ["--totp", "-b", secret, "-N", `@${app.startedAt / 1000}`], {
        encoding: "utf8",
      }).trim();
      expect((await post(browser, "mfa/totp/confirm", { code })).status).toBe(200);
    }

    async function withPasskey(counterStep: number) {
      const account = await signedIn();
      const authenticator: SoftwareAuthenticator = createSoftwareAuthenticator({ origin: app.origin, counterStep });
      const { response, credential } = authenticator.create(await registrationOptions(account.browser));
      expect((await post(account.browser, "passkeys/register", { response })).status).toBe(201);
      return { ...account, authenticator, credential };
    }

    it(`the same assertion and challenge cookie sent ${RACERS} times at once → exactly one 200, one session`, async () => {
      // No counter: only the challenge can tell the copies apart.
      const account = await withPasskey(0);
      for (let round = 1; round <= ROUNDS; round++) {
        const browser = createBrowser(app);
        const response = account.authenticator.get(await logInOptions(browser));
        const sessions = await backend.sessionCount(account.id);
        const outcomes = await race(() => post(browser, "passkeys/login", { response }));
        expect(tally(outcomes), `round ${round}`).toEqual({ "200": 1, "400 challenge_expired": RACERS - 1 });
        if (strategy === "database") expect(await backend.sessionCount(account.id)).toBe(sessions + 1);
      }
    });

    it(`${RACERS} credentials answering one registration challenge at once → exactly one 201, one passkey stored`, async () => {
      for (let round = 1; round <= ROUNDS; round++) {
        const account = await signedIn();
        const options = await registrationOptions(account.browser);
        // Each answer a different credential, so that no uniqueness of credential ids can stand in for the challenge.
        const answers = Array.from(
          { length: RACERS },
          () => createSoftwareAuthenticator({ origin: app.origin }).create(options).response,
        );
        let next = 0;
        const outcomes = await race(() => post(account.browser, "passkeys/register", { response: answers[next++] }));
        expect(tally(outcomes), `round ${round}`).toEqual({ "201": 1, "400 challenge_expired": RACERS - 1 });
        const stored = await backend.passkeys(account.id);
        expect(stored).toHaveLength(1);
        expect(answers.map((answer) => answer.id)).toContain(stored[0]?.credential_id);
      }
    });

    it(`${RACERS} sign-ins at once, each with a challenge of its own but one signature count → exactly one 200`, async () => {
      const account = await withPasskey(1);
      for (let round = 1; round <= ROUNDS; round++) {
        const browsers = Array.from({ length: RACERS }, () => createBrowser(app));
        const count = account.credential.signCount + 1;
        // A cloned authenticator: every copy reports the same next count.
        const answers = await Promise.all(
          browsers.map(async (browser) => account.authenticator.get(await logInOptions(browser), { signCount: count })),
        );
        const sessions = await backend.sessionCount(account.id);
        let next = 0;
        const outcomes = await race(() => {
          const i = next++;
          return post(browsers[i] as Browser, "passkeys/login", { response: answers[i] });
        });
        expect(tally(outcomes), `round ${round}`).toEqual({ "200": 1, "401 invalid_passkey": RACERS - 1 });
        expect(Number((await backend.passkeys(account.id))[0]?.counter)).toBe(count);
        if (strategy === "database") expect(await backend.sessionCount(account.id)).toBe(sessions + 1);
        account.credential.signCount = count;
      }
    });

    it(`the same passkey answer to a pending log-in sent ${RACERS} times at once → exactly one 200`, async () => {
      for (let round = 1; round <= ROUNDS; round++) {
        // A new account each round: the losers' failures count toward the account's second-step limit.
        const account = await withPasskey(0);
        await turnOnTotp(account.browser);
        const browser = createBrowser(app);
        expect((await post(browser, "login", { email: account.email, password: PASSWORD })).status).toBe(403);
        const options = await post(browser, "mfa/passkey/options");
        expect(options.status).toBe(200);
        const passkey = account.authenticator.get(await options.json());
        const sessions = await backend.sessionCount(account.id);
        const outcomes = await race(() => post(browser, "mfa/verify", { passkey }));
        const { "200": won, ...lost } = tally(outcomes);
        expect(won, `round ${round}: ${outcomes.join(", ")}`).toBe(1);
        // The others found the challenge or the pending log-in used up, or the pending log-in's limit reached.
        for (const outcome of Object.keys(lost)) {
          expect(["401 invalid_code", "401 mfa_pending_expired", "429 rate_limited"]).toContain(outcome);
        }
        if (strategy === "database") expect(await backend.sessionCount(account.id)).toBe(sessions + 1);
      }
    });
  });
});

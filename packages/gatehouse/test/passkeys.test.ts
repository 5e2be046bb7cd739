/**
 * Passkeys over real HTTP, for both session strategies, answered by a software authenticator
 * (support/webauthn.ts) as a browser would answer them: registering one, signing in with one without an
 * email, using one as the second step of a password log-in, and renaming and removing them. The server's
 * rp id is 127.0.0.1 and its origin the test server's URL. Every refused request is checked against the raw
 * rows of the SQLite file: no passkey, challenge or session row changes, but for the one challenge the
 * request used up.
 */
import { execFileSync } from "node:child_process";
import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from "@simplewebauthn/server";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { handleHash } from "../src/core/ceremony.js";
import { createPostgresStore } from "../src/stores/postgres.js";
import type { Store } from "../src/stores/types.js";
import { PASSWORD } from "./support/credentials.js";
import {
  type ApiRequestInit,
  type Browser,
  createBrowser,
  expectError,
  SESSION_COOKIE,
  startServer,
  type TestServer,
  uniqueEmails,
  useTestServer,
} from "./support/http-server.js";
import { createPostgresDatabase, requireService } from "./support/services.js";
import { querySqliteFile, rawUserByEmail } from "./support/temp-sqlite.js";
import {
  type CreateOverrides,
  createSoftwareAuthenticator,
  type GetOverrides,
  type SoftwareAuthenticator,
  type SoftwareCredential,
  WebAuthnClientError,
} from "./support/webauthn.js";

/** The test servers run without secureCookies, so no __Host- prefix. */
const CHALLENGE_COOKIE = "gatehouse.challenge";
const PENDING_COOKIE = "gatehouse.mfa";
const DEVICE_COOKIE = "gatehouse.device";
const SECOND = 1000;
const CEREMONY_MS = 5 * 60 * SECOND;
const RP_ID = "127.0.0.1";

const postgresAvailable = await requireService("postgres");
/** Where odd input is also tried: a store of the server's own (SQLite), or a PostgreSQL database. */
const BACKENDS: Array<{ name: string; open(): Promise<{ store?: Store; drop(): Promise<void> }> }> = [
  { name: "SQLite", open: async () => ({ drop: async () => {} }) },
  ...(postgresAvailable
    ? [
        {
          name: "PostgreSQL",
          async open() {
            const database = await createPostgresDatabase();
            const store = createPostgresStore({ url: database.url });
            await store.migrate();
            return { store, drop: () => database.drop() };
          },
        },
      ]
    : []),
];

type Row = Record<string, unknown>;
/** The rows a passkey ceremony may touch, read raw. */
interface Rows {
  passkeys: Row[];
  challenges: Row[];
  sessions: Row[];
}

interface PasskeyJson {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

interface Account {
  browser: Browser;
  email: string;
  id: string;
}

const json = (body: unknown): Omit<ApiRequestInit, "cookie"> => ({ json: body });
/** An empty POST, as the browser code sends for options. */
const POST: Omit<ApiRequestInit, "cookie"> = { method: "POST" };

/** The Set-Cookie header for `name`, split into its value and its attributes (lower-cased names). */
function setCookieOf(response: Response, name: string): { value: string; attributes: string[] } | undefined {
  const header = response.headers.getSetCookie().find((cookie) => cookie.startsWith(`${name}=`));
  if (header === undefined) return undefined;
  const [pair = "", ...attributes] = header.split(";").map((part) => part.trim());
  return {
    value: pair.slice(name.length + 1),
    attributes: attributes.map((a) => a.replace(/^[^=]+/, (k) => k.toLowerCase())),
  };
}

/** A cookie like the challenge and pending cookies: HttpOnly, SameSite=Lax, Path=/, 5 minutes, a value. */
function expectCeremonyCookie(response: Response, name: string): string {
  const cookie = setCookieOf(response, name);
  expect(cookie, `a ${name} cookie`).toBeDefined();
  const { value, attributes } = cookie as { value: string; attributes: string[] };
  expect(value).not.toBe("");
  expect(attributes).toEqual(expect.arrayContaining(["httponly", "samesite=Lax", "path=/", "max-age=300"]));
  expect(attributes.filter((a) => a.startsWith("max-age="))).toEqual(["max-age=300"]);
  return value;
}

function expectCleared(response: Response, name: string): void {
  const cookie = setCookieOf(response, name);
  expect(cookie, `a Set-Cookie clearing ${name}`).toBeDefined();
  expect(cookie?.value).toBe("");
  expect(cookie?.attributes).toContain("max-age=0");
}

const bytesOf = (base64url: string) => Buffer.from(base64url, "base64url");

describe.each(["database", "stateless"] as const)("passkeys over HTTP (%s sessions)", (strategy) => {
  const app = useTestServer(strategy);
  const uniqueEmail = uniqueEmails("passkey", strategy);

  afterEach(() => app.setClock(app.startedAt));

  const newAuthenticator = (options: { counterStep?: number } = {}) =>
    createSoftwareAuthenticator({ origin: app.origin, ...options });

  function rawRows(): Rows {
    return querySqliteFile(app.dbFile, (db) => {
      const all = (query: string) => db.prepare(query).all() as Row[];
      return {
        passkeys: all("SELECT * FROM gatehouse_passkeys ORDER BY id"),
        challenges: all("SELECT * FROM gatehouse_challenges ORDER BY id_hash"),
        sessions: all("SELECT * FROM gatehouse_sessions ORDER BY id"),
      };
    });
  }

  /** `rows` less the challenge the cookie `handle` names: what a request that used it up leaves. */
  function withoutChallenge(rows: Rows, handle: string | undefined): Rows {
    expect(handle, "a challenge cookie to use up").toBeDefined();
    const idHash = handleHash(handle as string);
    expect(
      rows.challenges.map((row) => row.id_hash),
      "the challenge was stored",
    ).toContain(idHash);
    return { ...rows, challenges: rows.challenges.filter((row) => row.id_hash !== idHash) };
  }

  const rawPasskey = (credentialId: string) =>
    querySqliteFile(app.dbFile, (db) =>
      db.prepare("SELECT * FROM gatehouse_passkeys WHERE credential_id = ?").get(credentialId),
    ) as Row | undefined;

  async function signedIn(): Promise<Account> {
    const browser = createBrowser(app);
    const email = uniqueEmail();
    expect((await browser.request("/api/auth/signup", json({ email, password: PASSWORD }))).status).toBe(201);
    return { browser, email, id: String(rawUserByEmail(app.dbFile, email)?.id) };
  }

  async function registrationOptions(browser: Browser): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const response = await browser.request("/api/auth/passkeys/register/options", json({ password: PASSWORD }));
    expect(response.status).toBe(200);
    return response.json();
  }

  /** Options, an answer of `authenticator`, and its registration: resolves to the stored passkey's JSON. */
  async function registerPasskey(
    account: Account,
    authenticator: SoftwareAuthenticator,
    body: { name?: unknown } = {},
  ): Promise<{ passkey: PasskeyJson; credential: SoftwareCredential }> {
    const { response, credential } = authenticator.create(await registrationOptions(account.browser));
    const registered = await account.browser.request("/api/auth/passkeys/register", json({ response, ...body }));
    expect(registered.status).toBe(201);
    return { passkey: (await registered.json()).passkey, credential };
  }

  /** An account with one passkey, and the authenticator that holds it. */
  async function withPasskey(options: { counterStep?: number } = {}) {
    const account = await signedIn();
    const authenticator = newAuthenticator(options);
    const { passkey, credential } = await registerPasskey(account, authenticator);
    return { ...account, authenticator, passkey, credential };
  }

  async function logInOptions(browser: Browser): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const response = await browser.request("/api/auth/passkeys/login/options", POST);
    expect(response.status).toBe(200);
    return response.json();
  }

  /** A new browser's sign-in with `authenticator`, answering as `overrides` say. */
  async function passkeyLogIn(
    authenticator: SoftwareAuthenticator,
    overrides: GetOverrides = {},
    browser = createBrowser(app),
  ): Promise<{ browser: Browser; response: Response }> {
    const options = await logInOptions(browser);
    const assertion = authenticator.get(options, overrides);
    return { browser, response: await browser.request("/api/auth/passkeys/login", json({ response: assertion })) };
  }

  /** A credential the server never saw: made by an authenticator for options of its own. */
  function unregisteredCredential(authenticator: SoftwareAuthenticator): SoftwareCredential {
    return authenticator.create({
      rp: { id: RP_ID, name: "elsewhere" },
      user: { id: Buffer.from("nobody").toString("base64url"), name: "nobody", displayName: "nobody" },
      challenge: Buffer.alloc(32).toString("base64url"),
      pubKeyCredParams: [{ type: "public-key", alg: -7 }],
    }).credential;
  }

  /** Turns TOTP on through the API, with a code oathtool makes at the server's frozen clock. */
  async function turnOnTotp(account: Account): Promise<void> {
    const setup = await account.browser.request("/api/auth/mfa/totp/setup", json({ password: PASSWORD }));
    expect(setup.status).toBe(200);
    const { secret } = await setup.json();
    const code = execFileSync("oathtool", ["--totp", "-b", secret, "-N", `@${app.startedAt / SECOND}`], {
      encoding: "utf8",
    }).trim();
    const confirmed = await account.browser.request("/api/auth/mfa/totp/confirm", json({ code }));
    expect(confirmed.status).toBe(200);
  }

  async function me(browser: Browser): Promise<Response> {
    return browser.request("/api/me");
  }

  async function listPasskeys(browser: Browser): Promise<PasskeyJson[]> {
    const response = await browser.request("/api/auth/passkeys");
    expect(response.status).toBe(200);
    return (await response.json()).passkeys;
  }

  describe("registering a passkey", () => {
    it("options need the password: none → 403 reauthentication_required, a wrong one → 400 invalid_input; no challenge stored", async () => {
      const { browser } = await signedIn();
      for (const init of [POST, json({}), json({ name: "x" })]) {
        const before = rawRows();
        await expectError(
          await browser.request("/api/auth/passkeys/register/options", init),
          403,
          "reauthentication_required",
        );
        expect(rawRows()).toEqual(before);
      }
      for (const password of ["not my password", "", PASSWORD.toUpperCase(), 7, null]) {
        const before = rawRows();
        const error = await expectError(
          await browser.request("/api/auth/passkeys/register/options", json({ password })),
          400,
          "invalid_input",
        );
        expect(error.fields.password?.code, String(password)).toBe("incorrect_password");
        expect(rawRows()).toEqual(before);
      }
      expect(browser.cookie(CHALLENGE_COOKIE)).toBeUndefined();
    });

    it("options: resident key and user verification required, a fresh challenge of ≥ 32 bytes, rp.id 127.0.0.1, a user.id that is not the email; with the challenge cookie", async () => {
      const { browser, email } = await signedIn();
      const response = await browser.request("/api/auth/passkeys/register/options", json({ password: PASSWORD }));
      expect(response.status).toBe(200);
      const handle = expectCeremonyCookie(response, CHALLENGE_COOKIE);
      const options: PublicKeyCredentialCreationOptionsJSON = await response.json();
      expect(options.authenticatorSelection).toMatchObject({ residentKey: "required", userVerification: "required" });
      expect(options.rp.id).toBe(RP_ID);
      expect(bytesOf(options.challenge).length).toBeGreaterThanOrEqual(32);
      expect(options.challenge).not.toBe(handle);
      const userId = bytesOf(options.user.id);
      expect(userId.length).toBeGreaterThan(0);
      // WebAuthn caps the user handle at 64 bytes; it must carry no personal data.
      expect(userId.length).toBeLessThanOrEqual(64);
      expect(userId.toString("utf8")).not.toContain(email);
      expect(userId.toString("utf8")).not.toContain(email.split("@")[0]);
      expect(options.user.name).toBe(email);
      expect(options.pubKeyCredParams).toContainEqual({ type: "public-key", alg: -7 });
      expect(options.excludeCredentials).toEqual([]);
      const again: PublicKeyCredentialCreationOptionsJSON = await registrationOptions(browser);
      expect(again.challenge).not.toBe(options.challenge);
      expect(again.user.id).toBe(options.user.id);
      expect(browser.cookie(CHALLENGE_COOKIE)).not.toBe(handle);
    });

    it("registers: 201 { passkey: { id, name, createdAt, lastUsedAt: null } }, the challenge cookie cleared and its row used up; GET passkeys lists it", async () => {
      const account = await signedIn();
      const authenticator = newAuthenticator();
      const options = await registrationOptions(account.browser);
      const handle = account.browser.cookie(CHALLENGE_COOKIE);
      const before = rawRows();
      const { response, credential } = authenticator.create(options);
      const registered = await account.browser.request("/api/auth/passkeys/register", json({ response }));
      expect(registered.status).toBe(201);
      expectCleared(registered, CHALLENGE_COOKIE);
      const body = await registered.json();
      expect(Object.keys(body)).toEqual(["passkey"]);
      expect(body.passkey).toEqual({
        id: expect.any(String),
        name: "Passkey",
        createdAt: new Date(app.startedAt).toISOString(),
        lastUsedAt: null,
      });
      expect(account.browser.cookie(CHALLENGE_COOKIE)).toBeUndefined();

      const after = rawRows();
      expect(after.challenges).toEqual(withoutChallenge(before, handle).challenges);
      expect(after.sessions).toEqual(before.sessions);
      const row = rawPasskey(credential.id);
      expect(row).toMatchObject({
        id: body.passkey.id,
        user_id: account.id,
        counter: 0,
        name: "Passkey",
        created_at: app.startedAt,
        last_used_at: null,
      });
      expect(after.passkeys).toEqual(
        [...before.passkeys, row].sort((a, b) => String(a?.id).localeCompare(String(b?.id))),
      );
      expect(await listPasskeys(account.browser)).toEqual([body.passkey]);
      expect(await (await account.browser.request("/api/auth/mfa")).json()).toMatchObject({ passkeys: 1 });
    });

    it("lists passkeys newest first, and only the user's own", async () => {
      const account = await signedIn();
      const other = await withPasskey();
      const authenticator = newAuthenticator();
      const first = await registerPasskey(account, authenticator, { name: "first" });
      app.setClock(app.startedAt + SECOND);
      const second = await registerPasskey(account, newAuthenticator(), { name: "second" });
      expect(await listPasskeys(account.browser)).toEqual([second.passkey, first.passkey]);
      expect(await listPasskeys(other.browser)).toEqual([other.passkey]);
    });

    it("names the passkey: default Passkey, trimmed, up to 100 characters", async () => {
      const account = await signedIn();
      for (const [name, stored] of [
        [undefined, "Passkey"],
        ["  Laptop  ", "Laptop"],
        ["\tPhone\n", "Phone"],
        [`  ${"n".repeat(100)}  `, "n".repeat(100)],
        ["Schlüssel 🔑", "Schlüssel 🔑"],
      ] as const) {
        const { passkey, credential } = await registerPasskey(account, newAuthenticator(), { name });
        expect(passkey.name, String(name)).toBe(stored);
        expect(rawPasskey(credential.id)?.name).toBe(stored);
      }
    });

    it("refuses a bad name with 400 invalid_input naming name before using the challenge up: the same answer then registers", async () => {
      const account = await signedIn();
      const authenticator = newAuthenticator();
      const { response } = authenticator.create(await registrationOptions(account.browser));
      for (const name of ["n".repeat(101), "", "   ", 42, null, ["x"], { name: "x" }]) {
        const before = rawRows();
        const error = await expectError(
          await account.browser.request("/api/auth/passkeys/register", json({ response, name })),
          400,
          "invalid_input",
        );
        expect(Object.keys(error.fields), JSON.stringify(name)).toEqual(["name"]);
        expect(rawRows()).toEqual(before);
      }
      const registered = await account.browser.request("/api/auth/passkeys/register", json({ response, name: "ok" }));
      expect(registered.status).toBe(201);
    });

    it("excludeCredentials lists exactly the user's passkeys, and a client honouring it refuses to make one again", async () => {
      const account = await signedIn();
      await withPasskey();
      const authenticator = newAuthenticator();
      const first = await registerPasskey(account, authenticator);
      const second = await registerPasskey(account, newAuthenticator());
      const options = await registrationOptions(account.browser);
      expect(options.excludeCredentials?.map((c) => c.id).sort()).toEqual(
        [first.credential.id, second.credential.id].sort(),
      );
      expect(options.excludeCredentials?.every((c) => c.type === "public-key")).toBe(true);
      expect(() => authenticator.create(options)).toThrow(WebAuthnClientError);
      expect(() => authenticator.create(options)).toThrow(/InvalidStateError/);
    });

    it("the same credential registered again (a client ignoring excludeCredentials), to the same or another account → 400 invalid_passkey, nothing stored", async () => {
      const owner = await withPasskey();
      const other = await signedIn();
      for (const account of [owner, other]) {
        const options = await registrationOptions(account.browser);
        const { response } = owner.authenticator.create(options, { credential: owner.credential });
        const before = rawRows();
        await expectError(
          await account.browser.request("/api/auth/passkeys/register", json({ response })),
          400,
          "invalid_passkey",
        );
        expect(rawRows()).toEqual(withoutChallenge(before, account.browser.cookie(CHALLENGE_COOKIE)));
      }
      expect(await listPasskeys(owner.browser)).toEqual([owner.passkey]);
      expect(await listPasskeys(other.browser)).toEqual([]);
    });

    it("a replayed registration (its challenge cookie again) → 400 challenge_expired, with the same answer or a new credential's", async () => {
      const account = await signedIn();
      const authenticator = newAuthenticator();
      const options = await registrationOptions(account.browser);
      const handle = account.browser.cookie(CHALLENGE_COOKIE) as string;
      const { response } = authenticator.create(options);
      expect((await account.browser.request("/api/auth/passkeys/register", json({ response }))).status).toBe(201);
      const { response: another } = newAuthenticator().create(options);
      for (const answer of [response, another]) {
        account.browser.setCookie(CHALLENGE_COOKIE, handle);
        const before = rawRows();
        await expectError(
          await account.browser.request("/api/auth/passkeys/register", json({ response: answer })),
          400,
          "challenge_expired",
        );
        expect(rawRows()).toEqual(before);
      }
      expect(await listPasskeys(account.browser)).toHaveLength(1);
    });

    it("a challenge cookie of another user's browser (B presenting A's) → 400 challenge_expired, nothing stored", async () => {
      const alice = await signedIn();
      const bob = await signedIn();
      const options = await registrationOptions(alice.browser);
      const handle = alice.browser.cookie(CHALLENGE_COOKIE) as string;
      bob.browser.setCookie(CHALLENGE_COOKIE, handle);
      const { response } = newAuthenticator().create(options);
      const before = rawRows();
      await expectError(
        await bob.browser.request("/api/auth/passkeys/register", json({ response })),
        400,
        "challenge_expired",
      );
      // Bob's attempt used Alice's challenge up: nothing else changed.
      expect(rawRows()).toEqual(withoutChallenge(before, handle));
      expect(await listPasskeys(bob.browser)).toEqual([]);
      expect(await listPasskeys(alice.browser)).toEqual([]);
    });

    it("an answer to another user's options sent with one's own challenge cookie → 400 invalid_passkey", async () => {
      const alice = await signedIn();
      const bob = await signedIn();
      const aliceOptions = await registrationOptions(alice.browser);
      await registrationOptions(bob.browser);
      const { response } = newAuthenticator().create(aliceOptions);
      const before = rawRows();
      await expectError(
        await bob.browser.request("/api/auth/passkeys/register", json({ response })),
        400,
        "invalid_passkey",
      );
      expect(rawRows()).toEqual(withoutChallenge(before, bob.browser.cookie(CHALLENGE_COOKIE)));
    });

    it("a challenge from before a password change (sessions revoked) → 400 challenge_expired", async () => {
      const account = await signedIn();
      const options = await registrationOptions(account.browser);
      const handle = account.browser.cookie(CHALLENGE_COOKIE);
      const changed = await account.browser.request(
        "/api/auth/password",
        json({ currentPassword: PASSWORD, newPassword: "a brand new passphrase" }),
      );
      expect(changed.status).toBe(200);
      expect(account.browser.cookie(CHALLENGE_COOKIE)).toBe(handle);
      const { response } = newAuthenticator().create(options);
      await expectError(
        await account.browser.request("/api/auth/passkeys/register", json({ response })),
        400,
        "challenge_expired",
      );
      expect(await listPasskeys(account.browser)).toEqual([]);
    });

    it("without a challenge cookie, or with one the server never issued → 400 challenge_expired, nothing stored", async () => {
      const account = await signedIn();
      const options = await registrationOptions(account.browser);
      const { response } = newAuthenticator().create(options);
      for (const planted of [undefined, "", "x", "A".repeat(32), "A".repeat(33), `${"A".repeat(31)}!`]) {
        if (planted === undefined) account.browser.deleteCookie(CHALLENGE_COOKIE);
        else account.browser.setCookie(CHALLENGE_COOKIE, planted);
        const before = rawRows();
        await expectError(
          await account.browser.request("/api/auth/passkeys/register", json({ response })),
          400,
          "challenge_expired",
        );
        expect(rawRows(), String(planted)).toEqual(before);
      }
    });

    it("a challenge is good for 5 minutes: at 4:59 it registers, at 5:01 → 400 challenge_expired", async () => {
      const account = await signedIn();
      const options = await registrationOptions(account.browser);
      app.setClock(app.startedAt + CEREMONY_MS - SECOND);
      const { response } = newAuthenticator().create(options);
      expect((await account.browser.request("/api/auth/passkeys/register", json({ response }))).status).toBe(201);

      app.setClock(app.startedAt);
      const late = await registrationOptions(account.browser);
      const handle = account.browser.cookie(CHALLENGE_COOKIE);
      app.setClock(app.startedAt + CEREMONY_MS + SECOND);
      const before = rawRows();
      const { response: lateResponse } = newAuthenticator().create(late);
      await expectError(
        await account.browser.request("/api/auth/passkeys/register", json({ response: lateResponse })),
        400,
        "challenge_expired",
      );
      expect(rawRows()).toEqual(withoutChallenge(before, handle));
      expect(await listPasskeys(account.browser)).toHaveLength(1);
    });

    const failingRegistrations: Array<[string, (origin: string) => CreateOverrides]> = [
      ["clientData from another origin (https)", (origin) => ({ origin: origin.replace("http:", "https:") })],
      ["clientData from localhost", (origin) => ({ origin: origin.replace("127.0.0.1", "localhost") })],
      ["clientData from another port", (origin) => ({ origin: origin.replace(/:\d+$/, ":1") })],
      ["clientData from evil.example", () => ({ origin: "https://evil.example" })],
      ["an rpIdHash of localhost", () => ({ rpId: "localhost" })],
      ["an rpIdHash of evil.example", () => ({ rpId: "evil.example" })],
      ["an rpIdHash of 127.0.0.2", () => ({ rpId: "127.0.0.2" })],
      ["no UV flag", () => ({ userVerified: false })],
      ["clientData of type webauthn.get", () => ({ type: "webauthn.get" })],
      ["another challenge in clientData", () => ({ challenge: Buffer.alloc(32, 7).toString("base64url") })],
    ];

    it.each(failingRegistrations)(
      "an answer with %s → 400 invalid_passkey, nothing stored",
      async (_label, overrides) => {
        const account = await signedIn();
        const options = await registrationOptions(account.browser);
        const { response } = newAuthenticator().create(options, overrides(app.origin));
        const before = rawRows();
        await expectError(
          await account.browser.request("/api/auth/passkeys/register", json({ response })),
          400,
          "invalid_passkey",
        );
        // A failed answer uses its challenge up too: it cannot be tried again.
        expect(rawRows()).toEqual(withoutChallenge(before, account.browser.cookie(CHALLENGE_COOKIE)));
        const retry = newAuthenticator().create(options).response;
        await expectError(
          await account.browser.request("/api/auth/passkeys/register", json({ response: retry })),
          400,
          "challenge_expired",
        );
        expect(await listPasskeys(account.browser)).toEqual([]);
      },
    );

    it("keeps only the transports WebAuthn names, once each: anything else a client sends is dropped", async () => {
      const account = await signedIn();
      const { response, credential } = newAuthenticator().create(await registrationOptions(account.browser));
      response.response.transports = ["internal", { $ne: 1 }, "x".repeat(500), "usb", "usb", "hybrid"] as never;
      expect((await account.browser.request("/api/auth/passkeys/register", json({ response }))).status).toBe(201);
      expect(rawPasskey(credential.id)?.transports).toBe("internal,usb,hybrid");
      const options = await registrationOptions(account.browser);
      expect(options.excludeCredentials).toEqual([
        { id: credential.id, type: "public-key", transports: ["internal", "usb", "hybrid"] },
      ]);
    });

    it("a credential id of 1023 bytes (WebAuthn's maximum) registers and signs in; one of 1024 → 400 invalid_passkey", async () => {
      const account = await signedIn();
      const authenticator = newAuthenticator();
      const options = await registrationOptions(account.browser);
      const { response, credential } = authenticator.create(options, { credentialIdBytes: 1023 });
      expect((await account.browser.request("/api/auth/passkeys/register", json({ response }))).status).toBe(201);
      expect(rawPasskey(credential.id)?.credential_id).toBe(credential.id);
      expect((await passkeyLogIn(authenticator, { credential })).response.status).toBe(200);

      const tooLong = newAuthenticator().create(await registrationOptions(account.browser), {
        credentialIdBytes: 1024,
      });
      const before = rawRows();
      await expectError(
        await account.browser.request("/api/auth/passkeys/register", json({ response: tooLong.response })),
        400,
        "invalid_passkey",
      );
      expect(rawRows()).toEqual(withoutChallenge(before, account.browser.cookie(CHALLENGE_COOKIE)));
    });

    it("bad input of every kind → a 4xx JSON error, never a 500, and nothing stored", async () => {
      const account = await signedIn();
      const valid = () => newAuthenticator().create(options).response;
      let options = await registrationOptions(account.browser);
      const bodies: Array<[string, () => Omit<ApiRequestInit, "cookie">]> = [
        ["no body", () => POST],
        ["{}", () => json({})],
        ["response: null", () => json({ response: null })],
        ["response: a string", () => json({ response: "abc" })],
        ["response: an array", () => json({ response: [valid()] })],
        ["response: a number", () => json({ response: 5 })],
        ["response: {}", () => json({ response: {} })],
        ["the body an array", () => json([{ response: valid() }])],
        ["the body a string", () => json("response")],
        ["id a number", () => json({ response: { ...valid(), id: 5 } })],
        ["id ≠ rawId", () => json({ response: { ...valid(), rawId: "AAAA" } })],
        ["type not public-key", () => json({ response: { ...valid(), type: "password" } })],
        ["response.response missing", () => json({ response: { ...valid(), response: undefined } })],
        ["response.response a string", () => json({ response: { ...valid(), response: "x" } })],
        [
          "clientDataJSON not base64url JSON",
          () => json({ response: { ...valid(), response: { ...valid().response, clientDataJSON: "!!not json!!" } } }),
        ],
        [
          "clientDataJSON a number",
          () => json({ response: { ...valid(), response: { ...valid().response, clientDataJSON: 12 } } }),
        ],
        [
          "attestationObject garbage",
          () => json({ response: { ...valid(), response: { ...valid().response, attestationObject: "AAAA" } } }),
        ],
        [
          "attestationObject missing",
          () => json({ response: { ...valid(), response: { ...valid().response, attestationObject: undefined } } }),
        ],
        ["__proto__ in the body", () => ({ json: JSON.parse('{"__proto__": {"response": {}}, "response": 1}') })],
        [
          "a huge body (64 KB)",
          () => json({ response: { ...valid(), clientExtensionResults: { pad: "x".repeat(64 * 1024) } } }),
        ],
        ["malformed JSON", () => ({ method: "POST", headers: { "Content-Type": "application/json" }, body: "{" })],
        ["text/plain", () => ({ method: "POST", headers: { "Content-Type": "text/plain" }, body: "response" })],
      ];
      const outcomes: Record<string, string> = {};
      for (const [label, init] of bodies) {
        options = await registrationOptions(account.browser);
        const handle = account.browser.cookie(CHALLENGE_COOKIE);
        const before = rawRows();
        const response = await account.browser.request("/api/auth/passkeys/register", init());
        expect(response.status, label).toBeGreaterThanOrEqual(400);
        expect(response.status, label).toBeLessThan(500);
        expect(response.headers.get("content-type"), label).toMatch(/^application\/json/);
        const { error } = await response.json();
        expect(typeof error.code, label).toBe("string");
        outcomes[label] = `${response.status} ${error.code}`;
        const after = rawRows();
        expect(after.passkeys, label).toEqual(before.passkeys);
        expect(after.sessions, label).toEqual(before.sessions);
        // Used up, or left as it was: nothing else.
        const used = withoutChallenge(before, handle).challenges;
        expect([before.challenges, used], label).toContainEqual(after.challenges);
      }
      // Shapes no WebAuthn library should see are refused as input; the rest fail verification.
      expect(outcomes).toMatchObject({
        "no body": "400 invalid_input",
        "{}": "400 invalid_input",
        "response: null": "400 invalid_input",
        "response: a string": "400 invalid_input",
        "response: an array": "400 invalid_input",
        "response: a number": "400 invalid_input",
        "id a number": "400 invalid_passkey",
        "clientDataJSON not base64url JSON": "400 invalid_passkey",
        "attestationObject garbage": "400 invalid_passkey",
        "a huge body (64 KB)": "413 payload_too_large",
      });
      expect(await listPasskeys(account.browser)).toEqual([]);
    });

    it("answers 401 without a session, for options and registration alike", async () => {
      const browser = createBrowser(app);
      await expectError(
        await browser.request("/api/auth/passkeys/register/options", json({ password: PASSWORD })),
        401,
        "unauthenticated",
      );
      const { response } = newAuthenticator().create({
        rp: { id: RP_ID, name: "x" },
        user: { id: "AAAA", name: "x", displayName: "x" },
        challenge: "AAAA",
        pubKeyCredParams: [{ type: "public-key", alg: -7 }],
      });
      await expectError(
        await browser.request("/api/auth/passkeys/register", json({ response })),
        401,
        "unauthenticated",
      );
    });
  });

  describe("signing in with a passkey, without an email", () => {
    it("login/options: no allowCredentials, user verification required, a fresh challenge of ≥ 32 bytes, rpId 127.0.0.1; with the challenge cookie", async () => {
      const browser = createBrowser(app);
      const response = await browser.request("/api/auth/passkeys/login/options", POST);
      expect(response.status).toBe(200);
      const handle = expectCeremonyCookie(response, CHALLENGE_COOKIE);
      const options: PublicKeyCredentialRequestOptionsJSON = await response.json();
      expect(options.allowCredentials ?? []).toEqual([]);
      expect(options.userVerification).toBe("required");
      expect(options.rpId).toBe(RP_ID);
      expect(bytesOf(options.challenge).length).toBeGreaterThanOrEqual(32);
      expect(response.headers.getSetCookie()).toHaveLength(1);
      const again = await logInOptions(browser);
      expect(again.challenge).not.toBe(options.challenge);
      expect(browser.cookie(CHALLENGE_COOKIE)).not.toBe(handle);
    });

    it("signs in: 200 { user }, a session cookie that works on /api/me, a device cookie, the challenge cookie cleared; lastUsedAt set", async () => {
      const account = await withPasskey();
      const browser = createBrowser(app);
      // Options asked twice (two tabs, say): the cookie names the newest, and the older challenge stays stored.
      await logInOptions(browser);
      const older = browser.cookie(CHALLENGE_COOKIE) as string;
      app.setClock(app.startedAt + 7 * SECOND);
      const assertion = account.authenticator.get(await logInOptions(browser));
      const used = browser.cookie(CHALLENGE_COOKIE);
      const before = rawRows();
      const response = await browser.request("/api/auth/passkeys/login", json({ response: assertion }));
      expect(response.status).toBe(200);
      const body = await response.json();
      expect(body).toEqual({ user: expect.objectContaining({ id: account.id, email: account.email }) });
      expect(setCookieOf(response, SESSION_COOKIE)?.value).toBeTruthy();
      expect(setCookieOf(response, DEVICE_COOKIE)?.value).toBeTruthy();
      expectCleared(response, CHALLENGE_COOKIE);
      expect(await (await me(browser)).json()).toEqual({ user: body.user });

      const lastUsedAt = new Date(app.startedAt + 7 * SECOND).toISOString();
      expect(await listPasskeys(browser)).toEqual([{ ...account.passkey, lastUsedAt }]);
      expect(rawPasskey(account.credential.id)).toMatchObject({ counter: 1, last_used_at: app.startedAt + 7 * SECOND });
      const after = rawRows();
      expect(after.challenges).toEqual(withoutChallenge(before, used).challenges);
      expect(after.challenges.map((row) => row.id_hash)).toContain(handleHash(older));
      if (strategy === "database") expect(after.sessions).toHaveLength(before.sessions.length + 1);
    });

    it("a user with TOTP on signs in with the passkey and no second step", async () => {
      const account = await withPasskey();
      await turnOnTotp(account);
      const password = await createBrowser(app).request(
        "/api/auth/login",
        json({ email: account.email, password: PASSWORD }),
      );
      expect(password.status).toBe(403);
      const { browser, response } = await passkeyLogIn(account.authenticator);
      expect(response.status).toBe(200);
      expect(setCookieOf(response, PENDING_COOKIE)).toBeUndefined();
      expect((await me(browser)).status).toBe(200);
    });

    it("a passkey sign-in in a browser signed in as someone else ends that session", async () => {
      const alice = await withPasskey();
      const bob = await signedIn();
      const bobSession = bob.browser.cookie(SESSION_COOKIE) as string;
      const { response } = await passkeyLogIn(alice.authenticator, {}, bob.browser);
      expect(response.status).toBe(200);
      expect(bob.browser.cookie(SESSION_COOKIE)).not.toBe(bobSession);
      expect((await (await me(bob.browser)).json()).user.id).toBe(alice.id);
      const stale = createBrowser(app);
      stale.setCookie(SESSION_COOKIE, bobSession);
      expect((await me(stale)).status).toBe(401);
    });

    it("a replayed assertion, or a new answer to a used challenge → 400 challenge_expired", async () => {
      const account = await withPasskey({ counterStep: 0 });
      const browser = createBrowser(app);
      const options = await logInOptions(browser);
      const handle = browser.cookie(CHALLENGE_COOKIE) as string;
      const assertion = account.authenticator.get(options);
      expect((await browser.request("/api/auth/passkeys/login", json({ response: assertion }))).status).toBe(200);
      for (const answer of [assertion, account.authenticator.get(options)]) {
        const replayer = createBrowser(app);
        replayer.setCookie(CHALLENGE_COOKIE, handle);
        const before = rawRows();
        await expectError(
          await replayer.request("/api/auth/passkeys/login", json({ response: answer })),
          400,
          "challenge_expired",
        );
        expect(rawRows()).toEqual(before);
      }
    });

    it("an answer to another browser's options: without a cookie → 400 challenge_expired; with one's own → 401 invalid_passkey; the other browser's cookie still works", async () => {
      const account = await withPasskey();
      const owner = createBrowser(app);
      const assertion = account.authenticator.get(await logInOptions(owner));
      const stranger = createBrowser(app);
      let before = rawRows();
      await expectError(
        await stranger.request("/api/auth/passkeys/login", json({ response: assertion })),
        400,
        "challenge_expired",
      );
      expect(rawRows()).toEqual(before);

      await logInOptions(stranger);
      before = rawRows();
      await expectError(
        await stranger.request("/api/auth/passkeys/login", json({ response: assertion })),
        401,
        "invalid_passkey",
      );
      expect(rawRows()).toEqual(withoutChallenge(before, stranger.cookie(CHALLENGE_COOKIE)));

      expect((await owner.request("/api/auth/passkeys/login", json({ response: assertion }))).status).toBe(200);
    });

    it("without a challenge cookie, or with an expired one (5:01) → 400 challenge_expired", async () => {
      const account = await withPasskey();
      const browser = createBrowser(app);
      const options = await logInOptions(browser);
      const handle = browser.cookie(CHALLENGE_COOKIE);
      browser.deleteCookie(CHALLENGE_COOKIE);
      let before = rawRows();
      await expectError(
        await browser.request("/api/auth/passkeys/login", json({ response: account.authenticator.get(options) })),
        400,
        "challenge_expired",
      );
      expect(rawRows()).toEqual(before);

      browser.setCookie(CHALLENGE_COOKIE, handle as string);
      app.setClock(app.startedAt + CEREMONY_MS + SECOND);
      before = rawRows();
      await expectError(
        await browser.request("/api/auth/passkeys/login", json({ response: account.authenticator.get(options) })),
        400,
        "challenge_expired",
      );
      expect(rawRows()).toEqual(withoutChallenge(before, handle));
    });

    const failingAssertions: Array<[string, (origin: string, other: SoftwareCredential) => GetOverrides]> = [
      ["clientData from another origin (https)", (origin) => ({ origin: origin.replace("http:", "https:") })],
      ["clientData from localhost", (origin) => ({ origin: origin.replace("127.0.0.1", "localhost") })],
      ["clientData from evil.example", () => ({ origin: "https://evil.example" })],
      ["an rpIdHash of localhost", () => ({ rpId: "localhost" })],
      ["an rpIdHash of evil.example", () => ({ rpId: "evil.example" })],
      ["no UV flag", () => ({ userVerified: false })],
      ["a tampered signature", () => ({ tamperSignature: true })],
      ["clientData of type webauthn.create", () => ({ type: "webauthn.create" })],
      ["another challenge in clientData", () => ({ challenge: Buffer.alloc(32, 9).toString("base64url") })],
      ["a userHandle naming another user", (_origin, other) => ({ userHandle: other.userHandle })],
      ["a userHandle naming no one", () => ({ userHandle: Buffer.from("nobody").toString("base64url") })],
      ["an empty userHandle", () => ({ userHandle: "" })],
    ];

    it.each(failingAssertions)(
      "an assertion with %s → 401 invalid_passkey, nothing changes",
      async (_label, overrides) => {
        const account = await withPasskey();
        const other = await withPasskey();
        const browser = createBrowser(app);
        const assertion = account.authenticator.get(
          await logInOptions(browser),
          overrides(app.origin, other.credential),
        );
        const before = rawRows();
        await expectError(
          await browser.request("/api/auth/passkeys/login", json({ response: assertion })),
          401,
          "invalid_passkey",
        );
        // Neither counter nor lastUsedAt moved, and no session started; only the challenge is used up.
        expect(rawRows()).toEqual(withoutChallenge(before, browser.cookie(CHALLENGE_COOKIE)));
        expect((await me(browser)).status).toBe(401);
        // The same passkey, answering properly, still signs in.
        expect((await passkeyLogIn(account.authenticator)).response.status).toBe(200);
      },
    );

    it("an unknown credential (never registered) → 401 invalid_passkey, nothing changes", async () => {
      await withPasskey();
      const authenticator = newAuthenticator();
      const credential = unregisteredCredential(authenticator);
      const browser = createBrowser(app);
      const assertion = authenticator.get(await logInOptions(browser), { credential });
      const before = rawRows();
      await expectError(
        await browser.request("/api/auth/passkeys/login", json({ response: assertion })),
        401,
        "invalid_passkey",
      );
      expect(rawRows()).toEqual(withoutChallenge(before, browser.cookie(CHALLENGE_COOKIE)));
    });

    it("an authenticator that counts: a count it reported before, or a lower one → 401 invalid_passkey; a higher one signs in", async () => {
      const account = await withPasskey();
      for (const count of [1, 2]) {
        expect((await passkeyLogIn(account.authenticator)).response.status).toBe(200);
        expect(rawPasskey(account.credential.id)?.counter).toBe(count);
      }
      for (const signCount of [2, 1, 0]) {
        const browser = createBrowser(app);
        const assertion = account.authenticator.get(await logInOptions(browser), { signCount });
        const before = rawRows();
        await expectError(
          await browser.request("/api/auth/passkeys/login", json({ response: assertion })),
          401,
          "invalid_passkey",
        );
        expect(rawRows(), `count ${signCount}`).toEqual(withoutChallenge(before, browser.cookie(CHALLENGE_COOKIE)));
      }
      // The authenticator counted on (3, 4, 5) while those answers were refused; its next count, 6, signs in.
      expect((await passkeyLogIn(account.authenticator)).response.status).toBe(200);
      expect(rawPasskey(account.credential.id)?.counter).toBe(account.credential.signCount);
      expect(account.credential.signCount).toBe(6);
    });

    it("an authenticator without a counter (always 0) signs in again and again", async () => {
      const account = await withPasskey({ counterStep: 0 });
      for (let i = 1; i <= 4; i++) {
        app.setClock(app.startedAt + i * SECOND);
        const { browser, response } = await passkeyLogIn(account.authenticator);
        expect(response.status, `sign-in ${i}`).toBe(200);
        expect((await me(browser)).status).toBe(200);
      }
      expect(rawPasskey(account.credential.id)).toMatchObject({ counter: 0, last_used_at: app.startedAt + 4 * SECOND });
    });

    it("bad input of every kind → a 4xx JSON error, never a 500, and no session", async () => {
      const account = await withPasskey();
      const browser = createBrowser(app);
      const valid = async () => account.authenticator.get(await logInOptions(createBrowser(app)));
      const good = await valid();
      const bodies: Array<[string, Omit<ApiRequestInit, "cookie">]> = [
        ["no body", POST],
        ["{}", json({})],
        ["response: null", json({ response: null })],
        ["response: a string", json({ response: "abc" })],
        ["response: an array", json({ response: [good] })],
        ["response: {}", json({ response: {} })],
        ["id a number", json({ response: { ...good, id: 7, rawId: 7 } })],
        ["id an object", json({ response: { ...good, id: { $ne: null } } })],
        ["id huge", json({ response: { ...good, id: "A".repeat(8000), rawId: "A".repeat(8000) } })],
        ["response.response missing", json({ response: { ...good, response: undefined } })],
        ["response.response null", json({ response: { ...good, response: null } })],
        ["userHandle a number", json({ response: { ...good, response: { ...good.response, userHandle: 5 } } })],
        ["signature not base64url", json({ response: { ...good, response: { ...good.response, signature: "%%" } } })],
        [
          "authenticatorData short",
          json({ response: { ...good, response: { ...good.response, authenticatorData: "AAAA" } } }),
        ],
        [
          "clientDataJSON garbage",
          json({ response: { ...good, response: { ...good.response, clientDataJSON: "x" } } }),
        ],
        ["a huge body (64 KB)", json({ response: { ...good, pad: "x".repeat(64 * 1024) } })],
        ["malformed JSON", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{" }],
      ];
      for (const [label, init] of bodies) {
        await logInOptions(browser);
        const handle = browser.cookie(CHALLENGE_COOKIE);
        const before = rawRows();
        const response = await browser.request("/api/auth/passkeys/login", init);
        expect(response.status, label).toBeGreaterThanOrEqual(400);
        expect(response.status, label).toBeLessThan(500);
        expect(response.headers.get("content-type"), label).toMatch(/^application\/json/);
        expect(typeof (await response.json()).error.code, label).toBe("string");
        expect(response.headers.getSetCookie(), label).toEqual([]);
        const after = rawRows();
        expect(after.passkeys, label).toEqual(before.passkeys);
        expect(after.sessions, label).toEqual(before.sessions);
        expect([before.challenges, withoutChallenge(before, handle).challenges], label).toContainEqual(
          after.challenges,
        );
      }
      expect((await me(browser)).status).toBe(401);
    });
  });

  describe("a passkey as the second step of a password log-in", () => {
    /** A user with TOTP and two passkeys, and another user with a passkey of their own. */
    async function mfaUser() {
      const account = await withPasskey();
      const second = await registerPasskey(account, newAuthenticator());
      await turnOnTotp(account);
      const other = await withPasskey();
      return { ...account, credentials: [account.credential, second.credential], other };
    }

    /** A password log-in in a new browser, answered with mfa_required: the browser holds the pending cookie. */
    async function pendingLogIn(email: string): Promise<{ browser: Browser; methods: string[] }> {
      const browser = createBrowser(app);
      const response = await browser.request("/api/auth/login", json({ email, password: PASSWORD }));
      expect(response.status).toBe(403);
      const { error } = await response.json();
      expect(error.code).toBe("mfa_required");
      expect(response.headers.getSetCookie().map((c) => c.split("=", 1)[0])).toEqual([PENDING_COOKIE]);
      expectCeremonyCookie(response, PENDING_COOKIE);
      return { browser, methods: error.methods };
    }

    async function secondStepOptions(browser: Browser): Promise<PublicKeyCredentialRequestOptionsJSON> {
      const response = await browser.request("/api/auth/mfa/passkey/options", POST);
      expect(response.status).toBe(200);
      return response.json();
    }

    const verify = (browser: Browser, passkey: unknown) => browser.request("/api/auth/mfa/verify", json({ passkey }));

    it("the log-in asks for one of totp, recovery_code, passkey; the options allow exactly the user's passkeys; the answer signs in", async () => {
      const account = await mfaUser();
      const { browser, methods } = await pendingLogIn(account.email);
      expect(methods).toEqual(["totp", "recovery_code", "passkey"]);
      const response = await browser.request("/api/auth/mfa/passkey/options", POST);
      expect(response.status).toBe(200);
      // The pending log-in binds the challenge: no cookie of its own.
      expect(response.headers.getSetCookie()).toEqual([]);
      const options: PublicKeyCredentialRequestOptionsJSON = await response.json();
      expect(options.userVerification).toBe("required");
      expect(options.rpId).toBe(RP_ID);
      expect(bytesOf(options.challenge).length).toBeGreaterThanOrEqual(32);
      expect(options.allowCredentials?.map((c) => c.id).sort()).toEqual(account.credentials.map((c) => c.id).sort());

      app.setClock(app.startedAt + 3 * SECOND);
      const verified = await verify(browser, account.authenticator.get(options));
      expect(verified.status).toBe(200);
      const body = await verified.json();
      expect(body).toEqual({ user: expect.objectContaining({ id: account.id, email: account.email }) });
      expect(setCookieOf(verified, SESSION_COOKIE)?.value).toBeTruthy();
      expect(setCookieOf(verified, DEVICE_COOKIE)?.value).toBeTruthy();
      expectCleared(verified, PENDING_COOKIE);
      expect(await (await me(browser)).json()).toEqual({ user: body.user });
      expect((await listPasskeys(browser)).find((p) => p.id === account.passkey.id)?.lastUsedAt).toBe(
        new Date(app.startedAt + 3 * SECOND).toISOString(),
      );
    });

    it("each of the user's passkeys can answer, and a used pending log-in → 401 mfa_pending_expired", async () => {
      const account = await mfaUser();
      for (const credential of account.credentials) {
        const { browser } = await pendingLogIn(account.email);
        const options = await secondStepOptions(browser);
        const pending = browser.cookie(PENDING_COOKIE) as string;
        expect((await verify(browser, account.authenticator.get(options, { credential }))).status).toBe(200);
        const replay = createBrowser(app);
        replay.setCookie(PENDING_COOKIE, pending);
        await expectError(
          await verify(replay, account.authenticator.get(options, { credential })),
          401,
          "mfa_pending_expired",
        );
      }
    });

    it("another user's passkey answering → 401 invalid_code, counted: after 5, even the right passkey → 429 rate_limited", async () => {
      const account = await mfaUser();
      const { browser } = await pendingLogIn(account.email);
      for (let attempt = 1; attempt <= 5; attempt++) {
        const options = await secondStepOptions(browser);
        const answer = account.other.authenticator.get(options, { credential: account.other.credential });
        const before = rawRows();
        await expectError(await verify(browser, answer), 401, "invalid_code");
        const after = rawRows();
        expect(after.passkeys, `attempt ${attempt}`).toEqual(before.passkeys);
        expect(after.sessions, `attempt ${attempt}`).toEqual(before.sessions);
      }
      const options = await secondStepOptions(browser);
      await expectError(await verify(browser, account.authenticator.get(options)), 429, "rate_limited");
      expect((await me(browser)).status).toBe(401);
      expect(rawPasskey(account.other.credential.id)).toMatchObject({ last_used_at: null, counter: 0 });
    });

    it("a wrong answer of the user's own passkey (no UV, a tampered signature, a sign-in's challenge, no options asked) → 401 invalid_code", async () => {
      const account = await mfaUser();
      const cases: Array<[string, (browser: Browser) => Promise<unknown>]> = [
        ["no UV", async (b) => account.authenticator.get(await secondStepOptions(b), { userVerified: false })],
        ["tampered", async (b) => account.authenticator.get(await secondStepOptions(b), { tamperSignature: true })],
        [
          "the challenge of a passkey sign-in",
          async (b) => {
            await secondStepOptions(b);
            return account.authenticator.get(await logInOptions(createBrowser(app)));
          },
        ],
        ["no options asked", async () => account.authenticator.get(await logInOptions(createBrowser(app)))],
      ];
      for (const [label, answer] of cases) {
        const { browser } = await pendingLogIn(account.email);
        const passkey = await answer(browser);
        const before = rawRows();
        await expectError(await verify(browser, passkey), 401, "invalid_code");
        const after = rawRows();
        expect(after.passkeys, label).toEqual(before.passkeys);
        expect(after.sessions, label).toEqual(before.sessions);
        expect((await me(browser)).status, label).toBe(401);
      }
    });

    it("options without a pending log-in (none, garbage, used up, expired) → 401 mfa_pending_expired", async () => {
      const account = await mfaUser();
      const browser = createBrowser(app);
      await expectError(await browser.request("/api/auth/mfa/passkey/options", POST), 401, "mfa_pending_expired");
      browser.setCookie(PENDING_COOKIE, "A".repeat(32));
      await expectError(await browser.request("/api/auth/mfa/passkey/options", POST), 401, "mfa_pending_expired");
      // A signed-in session is no pending log-in.
      await expectError(
        await account.browser.request("/api/auth/mfa/passkey/options", POST),
        401,
        "mfa_pending_expired",
      );

      const used = await pendingLogIn(account.email);
      const pending = used.browser.cookie(PENDING_COOKIE) as string;
      expect(
        (await verify(used.browser, account.authenticator.get(await secondStepOptions(used.browser)))).status,
      ).toBe(200);
      const replay = createBrowser(app);
      replay.setCookie(PENDING_COOKIE, pending);
      await expectError(await replay.request("/api/auth/mfa/passkey/options", POST), 401, "mfa_pending_expired");

      const late = await pendingLogIn(account.email);
      app.setClock(app.startedAt + CEREMONY_MS + SECOND);
      await expectError(await late.browser.request("/api/auth/mfa/passkey/options", POST), 401, "mfa_pending_expired");
    });

    it("a passkey answer that is not an object (string, number, null, true, array) → 400 invalid_input, counted nowhere", async () => {
      const account = await mfaUser();
      const { browser } = await pendingLogIn(account.email);
      // Twice each: more than the 5 wrong answers a pending log-in allows, had they counted.
      for (const passkey of ["x", 5, null, true, [], "x", 5, null, true, []]) {
        await secondStepOptions(browser);
        const before = rawRows();
        await expectError(await verify(browser, passkey), 400, "invalid_input");
        expect(rawRows().passkeys, JSON.stringify(passkey)).toEqual(before.passkeys);
      }
      const verified = await verify(browser, account.authenticator.get(await secondStepOptions(browser)));
      expect(verified.status).toBe(200);
    });

    it("a user with TOTP and no passkey: methods without passkey, and options → 409 no_passkeys", async () => {
      const account = await signedIn();
      await turnOnTotp(account);
      const { browser, methods } = await pendingLogIn(account.email);
      expect(methods).toEqual(["totp", "recovery_code"]);
      const before = rawRows();
      await expectError(await browser.request("/api/auth/mfa/passkey/options", POST), 409, "no_passkeys");
      expect(rawRows()).toEqual(before);
    });
  });

  describe("managing passkeys", () => {
    const rename = (browser: Browser, id: string, body: unknown) =>
      browser.request(`/api/auth/passkeys/${encodeURIComponent(id)}`, { method: "PATCH", json: body });
    const remove = (browser: Browser, id: string, body?: unknown) =>
      browser.request(`/api/auth/passkeys/${encodeURIComponent(id)}`, {
        method: "DELETE",
        ...(body !== undefined && { json: body }),
      });

    it("PATCH renames (trimmed) → 200 { passkey }; an empty, blank, non-string or 101-character name → 400 invalid_input, nothing renamed", async () => {
      const account = await withPasskey();
      const renamed = await rename(account.browser, account.passkey.id, { name: "  Work laptop " });
      expect(renamed.status).toBe(200);
      expect(await renamed.json()).toEqual({ passkey: { ...account.passkey, name: "Work laptop" } });
      expect(rawPasskey(account.credential.id)?.name).toBe("Work laptop");
      for (const body of [{ name: "" }, { name: "   " }, { name: "n".repeat(101) }, { name: 5 }, { name: null }, {}]) {
        const before = rawRows();
        const error = await expectError(await rename(account.browser, account.passkey.id, body), 400, "invalid_input");
        expect(Object.keys(error.fields), JSON.stringify(body)).toEqual(["name"]);
        expect(rawRows()).toEqual(before);
      }
      expect((await rename(account.browser, account.passkey.id, { name: "n".repeat(100) })).status).toBe(200);
    });

    it("PATCH of another user's passkey or an unknown id → 404 not_found, the same body for both, nothing renamed", async () => {
      const account = await withPasskey();
      const other = await withPasskey();
      const before = rawRows();
      const bodies: unknown[] = [];
      for (const id of [other.passkey.id, "unknown-passkey-id", other.credential.id]) {
        const response = await rename(account.browser, id, { name: "mine now" });
        expect(response.status, id).toBe(404);
        expect(response.headers.getSetCookie()).toEqual([]);
        bodies.push(await response.json());
      }
      expect(bodies[0]).toMatchObject({ error: { code: "not_found" } });
      expect(bodies[1]).toEqual(bodies[0]);
      expect(bodies[2]).toEqual(bodies[0]);
      expect(rawRows()).toEqual(before);
      expect(await listPasskeys(other.browser)).toEqual([other.passkey]);
    });

    it("DELETE needs the password (none → 403, wrong → 400); another user's or unknown → 404 with the same body; then 200 and the passkey no longer signs in", async () => {
      const account = await withPasskey();
      const other = await withPasskey();
      for (const body of [undefined, {}]) {
        const before = rawRows();
        await expectError(await remove(account.browser, account.passkey.id, body), 403, "reauthentication_required");
        expect(rawRows()).toEqual(before);
      }
      for (const password of ["wrong password", ""]) {
        const before = rawRows();
        const error = await expectError(
          await remove(account.browser, account.passkey.id, { password }),
          400,
          "invalid_input",
        );
        expect(error.fields.password?.code).toBe("incorrect_password");
        expect(rawRows()).toEqual(before);
      }
      const bodies: unknown[] = [];
      for (const id of [other.passkey.id, "unknown-passkey-id"]) {
        const before = rawRows();
        const response = await remove(account.browser, id, { password: PASSWORD });
        expect(response.status, id).toBe(404);
        bodies.push(await response.json());
        expect(rawRows()).toEqual(before);
      }
      expect(bodies[0]).toMatchObject({ error: { code: "not_found" } });
      expect(bodies[1]).toEqual(bodies[0]);

      const removed = await remove(account.browser, account.passkey.id, { password: PASSWORD });
      expect(removed.status).toBe(200);
      expect(await removed.json()).toEqual({ ok: true });
      expect(rawPasskey(account.credential.id)).toBeUndefined();
      expect(await listPasskeys(account.browser)).toEqual([]);
      const { response } = await passkeyLogIn(account.authenticator);
      await expectError(response, 401, "invalid_passkey");
      expect((await passkeyLogIn(other.authenticator)).response.status).toBe(200);
    });

    it("deleting the account removes its passkeys (raw read), and they sign no one in", async () => {
      const account = await withPasskey();
      const phone = newAuthenticator();
      await registerPasskey(account, phone);
      // A registration under way: its challenge row names the user.
      await registrationOptions(account.browser);
      expect(rawRows().passkeys.filter((row) => row.user_id === account.id)).toHaveLength(2);
      expect(rawRows().challenges.filter((row) => row.user_id === account.id)).toHaveLength(1);
      const deleted = await account.browser.request("/api/auth/account", {
        method: "DELETE",
        json: { password: PASSWORD },
      });
      expect(deleted.status).toBe(200);
      const rows = rawRows();
      expect(rows.passkeys.filter((row) => row.user_id === account.id)).toEqual([]);
      expect(rows.challenges.filter((row) => row.user_id === account.id)).toEqual([]);
      for (const authenticator of [account.authenticator, phone]) {
        const { response } = await passkeyLogIn(authenticator);
        await expectError(response, 401, "invalid_passkey");
      }
    });

    it("without a session, listing, renaming and deleting → 401", async () => {
      const account = await withPasskey();
      const browser = createBrowser(app);
      await expectError(await browser.request("/api/auth/passkeys"), 401, "unauthenticated");
      await expectError(await rename(browser, account.passkey.id, { name: "x" }), 401, "unauthenticated");
      await expectError(await remove(browser, account.passkey.id, { password: PASSWORD }), 401, "unauthenticated");
      expect(rawPasskey(account.credential.id)?.name).toBe("Passkey");
    });
  });
});

describe.each(BACKENDS)("odd passkey input never answers 5xx ($name)", ({ open }) => {
  let store: Store | undefined;
  let drop: () => Promise<void> = async () => {};
  let app: TestServer;
  beforeAll(async () => {
    ({ store, drop } = await open());
    app = await startServer("database", store ? { store } : {});
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
    await drop();
  });
  const uniqueEmail = uniqueEmails("passkey-odd-", "input");

  async function signedInWithOptions(): Promise<{ browser: Browser; options: PublicKeyCredentialCreationOptionsJSON }> {
    const browser = createBrowser(app);
    expect((await browser.request("/api/auth/signup", json({ email: uniqueEmail(), password: PASSWORD }))).status).toBe(
      201,
    );
    const options = await browser.request("/api/auth/passkeys/register/options", json({ password: PASSWORD }));
    expect(options.status).toBe(200);
    return { browser, options: await options.json() };
  }

  const listed = async (browser: Browser): Promise<PasskeyJson[]> =>
    (await (await browser.request("/api/auth/passkeys")).json()).passkeys;

  it("a name with a NUL character, registering or renaming: kept as sent, or 400 invalid_input naming name", async () => {
    const { browser, options } = await signedInWithOptions();
    const { response } = createSoftwareAuthenticator({ origin: app.origin }).create(options);
    const name = "my\u0000key";
    const registered = await browser.request("/api/auth/passkeys/register", json({ response, name }));
    expect(registered.status).toBeLessThan(500);
    if (registered.status === 201) expect((await listed(browser)).map((p) => p.name)).toEqual([name]);
    else expect(Object.keys((await registered.json()).error.fields ?? {})).toEqual(["name"]);

    const again = await signedInWithOptions();
    const { response: plain } = createSoftwareAuthenticator({ origin: app.origin }).create(again.options);
    const created = await again.browser.request("/api/auth/passkeys/register", json({ response: plain }));
    expect(created.status).toBe(201);
    const { passkey } = await created.json();
    const renamed = await again.browser.request(`/api/auth/passkeys/${passkey.id}`, {
      method: "PATCH",
      json: { name },
    });
    expect(renamed.status).toBeLessThan(500);
    expect((await listed(again.browser)).map((p) => p.name)).toEqual([renamed.status === 200 ? name : "Passkey"]);
  });

  it.each([
    ["a number", 5],
    ["an object", { usb: true }],
    ["true", true],
  ])("transports that are %s: dropped, or a 4xx; never a 500", async (_label, transports) => {
    const { browser, options } = await signedInWithOptions();
    const { response } = createSoftwareAuthenticator({ origin: app.origin }).create(options);
    const sent = { ...response, response: { ...response.response, transports } };
    const registered = await browser.request("/api/auth/passkeys/register", json({ response: sent }));
    expect(registered.status).toBeLessThan(500);
    expect(registered.headers.get("content-type")).toMatch(/^application\/json/);
    if (registered.status === 201) {
      const again = await browser.request("/api/auth/passkeys/register/options", json({ password: PASSWORD }));
      expect((await again.json()).excludeCredentials).toEqual([
        { id: response.id, type: "public-key", transports: [] },
      ]);
    } else {
      expect(await listed(browser)).toEqual([]);
    }
  });
});

/** The password rules as a client meets them over HTTP: length in code points, the common list, body limits. */
import { performance } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import { PASSWORD } from "./support/credentials.js";
import { apiRequest, sessionCookieOf, signUpViaApi, uniqueEmails, useTestServer } from "./support/http-server.js";
import { rawSqliteTables, rawUserByEmail } from "./support/temp-sqlite.js";

/** Exactly 64 code points, with spaces, emoji (astral, two UTF-16 units each) and accents; NFKC-stable. */
function sixtyFourCharacterPassword(): string {
  const base = [..."Correct Horse 🐎 Battery Staple 🔋 with spaces, émoji 🔐 and más ✓"];
  while (base.length < 64) base.push("z");
  return base.slice(0, 64).join("");
}

function flipCase(text: string): string {
  return [...text].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join("");
}

describe("password policy over HTTP", () => {
  const app = useTestServer("database");
  const uniqueEmail = uniqueEmails("policy", "http");

  const signUp = (email: string, password: string) =>
    apiRequest(app, "/api/auth/signup", { json: { email, password } });
  const logIn = (email: string, password: string) => apiRequest(app, "/api/auth/login", { json: { email, password } });

  async function expectPasswordRejected(response: Response, message: RegExp): Promise<void> {
    expect(response.status).toBe(400);
    const { error } = await response.json();
    expect(error.code).toBe("invalid_input");
    expect(Object.keys(error.fields)).toEqual(["password"]);
    expect(error.fields.password.message).toMatch(message);
    expect(error.fields.password.code).toMatch(/^(too_short|too_long|too_common|invalid_character|required)$/);
    expect(response.headers.getSetCookie()).toEqual([]);
  }

  it("accepts a 64-character password with spaces and emoji; its 63-character prefix and case-flipped form do not log in", async () => {
    const password = sixtyFourCharacterPassword();
    expect([...password]).toHaveLength(64);
    expect(password).toMatch(/ /);
    expect(password).toMatch(/\p{Extended_Pictographic}/u);
    expect(password.normalize("NFKC")).toBe(password);
    const email = uniqueEmail();
    expect((await signUp(email, password)).status).toBe(201);
    expect((await logIn(email, password)).status).toBe(200);

    const prefix = [...password].slice(0, 63).join("");
    const flipped = flipCase(password);
    expect(flipped).not.toBe(password);
    for (const wrong of [prefix, flipped, `${password} `, password.replace("🐎", "🐴")]) {
      const response = await logIn(email, wrong);
      expect(response.status, wrong).toBe(401);
      expect(sessionCookieOf(response)).toBeUndefined();
    }
    expect((await logIn(email, password)).status).toBe(200);
  });

  it('rejects common passwords such as "password1234" and "iloveyou12" with the reason, whatever their case or width, and creates nothing', async () => {
    for (const password of [
      "password1234",
      "iloveyou12",
      "PASSWORD1234",
      "ILoveYou12",
      "ｐａｓｓｗｏｒｄ１２３４",
      "qwertyuiop",
      "1234567890",
    ]) {
      const email = uniqueEmail();
      await expectPasswordRejected(await signUp(email, password), /common/i);
      expect(rawUserByEmail(app.dbFile, email), password).toBeUndefined();
    }
  });

  it("accepts an all-lowercase passphrase", async () => {
    expect((await signUp(uniqueEmail(), "purple gatehouse marmalade")).status).toBe(201);
  });

  it("accepts 256 characters and rejects 257 with 400, counting code points (ASCII and emoji)", async () => {
    for (const unit of ["a", "🔐"]) {
      expect((await signUp(uniqueEmail(), `${unit.repeat(255)}b`)).status, unit).toBe(201);
      const email = uniqueEmail();
      await expectPasswordRejected(await signUp(email, `${unit.repeat(256)}b`), /at most 256/);
      expect(rawUserByEmail(app.dbFile, email)).toBeUndefined();
    }
  });

  it("rejects a password shorter than 8 characters or with a NUL character", async () => {
    await expectPasswordRejected(await signUp(uniqueEmail(), "7chars!"), /at least 8/);
    await expectPasswordRejected(await signUp(uniqueEmail(), "correct\u0000horse battery"), /not allowed/);
  });

  it("answers a 1 MB body with 413 quickly, before any hashing, and stores nothing", async () => {
    const { cookie } = await signUpViaApi(app, uniqueEmail());
    const huge = "p".repeat(1024 * 1024);
    const before = rawSqliteTables(app.dbFile);
    for (const [route, json] of [
      ["/api/auth/signup", { email: uniqueEmail(), password: huge }],
      ["/api/auth/login", { email: uniqueEmail(), password: huge }],
      ["/api/auth/password", { currentPassword: PASSWORD, newPassword: huge }],
    ] as const) {
      const started = performance.now();
      const response = await apiRequest(app, route, { json, cookie });
      const elapsed = performance.now() - started;
      expect(response.status, route).toBe(413);
      expect((await response.json()).error.code).toBe("payload_too_large");
      expect(elapsed, route).toBeLessThan(1500);
    }
    expect(rawSqliteTables(app.dbFile)).toEqual(before);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGatehouse, type Gatehouse } from "../src/core/gatehouse.js";
import { gatehouseApiHandler } from "../src/next/api.js";
import { CHEAP_ARGON2, PASSWORD, TEST_SECRET } from "./support/credentials.js";
import { apiRequest, type LocalServer, listenOnLocalhost } from "./support/http-server.js";
import { openTempSqliteStore, querySqliteFile, type TempSqliteStore } from "./support/temp-sqlite.js";

describe("rehashing at log-in when the argon2 parameters change", () => {
  let sqlite: TempSqliteStore;
  let cheap: Gatehouse;
  let server: LocalServer;

  beforeAll(async () => {
    sqlite = openTempSqliteStore();
    // Accounts made while the app used cheaper parameters…
    cheap = createGatehouse({ store: sqlite.store, secret: TEST_SECRET, secureCookies: false, argon2: CHEAP_ARGON2 });
    // …and the app now running with the default (OWASP) parameters on the same store.
    const current = createGatehouse({ store: sqlite.store, secret: TEST_SECRET, secureCookies: false });
    server = await listenOnLocalhost((url) => gatehouseApiHandler(current, { url }));
  });

  afterAll(async () => {
    await server?.close();
    await sqlite?.close();
  });

  function storedHash(email: string): string {
    const query = "SELECT password_hash FROM gatehouse_users WHERE email = ?";
    return querySqliteFile(
      sqlite.dbFile,
      (db) => (db.prepare(query).get(email) as { password_hash: string }).password_hash,
    );
  }

  function logIn(email: string, password: string): Promise<Response> {
    return apiRequest(server, "/api/auth/login", { json: { email, password } });
  }

  it("replaces a cheap hash with an m=19456,t=2,p=1 hash at the next successful log-in", async () => {
    await cheap.users.create({ email: "old@example.com", password: PASSWORD });
    const before = storedHash("old@example.com");
    expect(before.startsWith("$argon2id$v=19$m=1024,t=1,p=1$")).toBe(true);

    expect((await logIn("old@example.com", PASSWORD)).status).toBe(200);

    const after = storedHash("old@example.com");
    expect(after.startsWith("$argon2id$v=19$m=19456,t=2,p=1$")).toBe(true);
    expect(after).not.toContain(PASSWORD);
    expect((await logIn("old@example.com", PASSWORD)).status).toBe(200);
    expect((await logIn("old@example.com", "wrong password!")).status).toBe(401);
    expect(storedHash("old@example.com")).toBe(after);
  });

  it("does not touch the hash after a failed log-in", async () => {
    await cheap.users.create({ email: "failed@example.com", password: PASSWORD });
    const before = storedHash("failed@example.com");
    expect((await logIn("failed@example.com", "wrong password!")).status).toBe(401);
    expect(storedHash("failed@example.com")).toBe(before);
  });
});

import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGatehouse, type Gatehouse } from "../src/core/gatehouse.js";
import { gatehouseApiHandler } from "../src/next/api.js";
import type { Store } from "../src/store/types.js";
import { createSqliteStore } from "../src/stores/sqlite.js";

const SECRET = "integration-test-secret-0123456789abcdef";
const CHEAP_ARGON2 = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
const PASSWORD = "correct horse battery";

describe("rehashing at log-in when the argon2 parameters change", () => {
  let dir: string;
  let dbFile: string;
  let store: Store;
  let cheap: Gatehouse;
  let server: http.Server;
  let url: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-"));
    dbFile = path.join(dir, "gatehouse.db");
    store = createSqliteStore({ url: `file:${dbFile}` });
    // Accounts made while the app used cheaper parameters…
    cheap = createGatehouse({ store, secret: SECRET, secureCookies: false, argon2: CHEAP_ARGON2 });
    // …and the app now running with the default (OWASP) parameters on the same store.
    const current = createGatehouse({ store, secret: SECRET, secureCookies: false });
    server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    server.on("request", gatehouseApiHandler(current, { url }));
  });

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function storedHash(email: string): string {
    const db = new Database(dbFile, { fileMustExist: true });
    try {
      return (db.prepare("SELECT password_hash FROM gatehouse_users WHERE email = ?").get(email) as { password_hash: string }).password_hash;
    } finally {
      db.close();
    }
  }

  function logIn(email: string, password: string): Promise<Response> {
    return fetch(`${url}/api/auth/login`, {
      method: "POST",
      headers: { Origin: url, "Content-Type": "application/json" },
      body: JSON.stringify({ email, password }),
    });
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

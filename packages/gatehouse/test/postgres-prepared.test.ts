/**
 * The PostgreSQL store prepares its per-request lookups as named statements. A migration that changes a
 * selected column under them makes PostgreSQL refuse the cached plan on every connection that prepared it;
 * the store must fail those calls closed (503) and recover by itself, never answer wrongly or for good.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGatehouse } from "../src/core/gatehouse.js";
import { isGatehouseError } from "../src/errors.js";
import { createPostgresStore } from "../src/stores/postgres.js";
import { CHEAP_ARGON2, PASSWORD, TEST_SECRET } from "./support/credentials.js";
import { createPostgresDatabase, requireService } from "./support/services.js";
import { validateSession } from "./support/session-fixtures.js";

const available = await requireService("postgres");

describe.skipIf(!available)("PostgreSQL named statements after a schema change", () => {
  let database: { url: string; drop(): Promise<void> };
  beforeAll(async () => {
    database = await createPostgresDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it("fail closed on the connections that held the old plan, then work again without a restart", async () => {
    const maxConnections = 2;
    const store = createPostgresStore({ url: database.url, maxConnections });
    const gatehouse = createGatehouse({
      store,
      secret: TEST_SECRET,
      url: "http://127.0.0.1:3000",
      argon2: CHEAP_ARGON2,
    });
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      const user = await gatehouse.users.create({ email: "prepared@example.com", password: PASSWORD });
      const signedIn = await gatehouse.startSession(user.id);
      if (!signedIn) throw new Error("no session for the new user");
      const value = signedIn.setCookie.split(";", 1)[0]?.split("=").slice(1).join("=") as string;
      // Prepare the lookup on every connection of the pool.
      await Promise.all(Array.from({ length: maxConnections * 2 }, () => validateSession(gatehouse, value)));

      await admin.query("ALTER TABLE gatehouse_users ALTER COLUMN name TYPE text");
      const outcomes: string[] = [];
      for (let i = 0; i < maxConnections + 2 && outcomes.at(-1) !== "valid"; i++) {
        try {
          const valid = await validateSession(gatehouse, value);
          outcomes.push(valid?.user.email === "prepared@example.com" ? "valid" : "wrong");
        } catch (error) {
          outcomes.push(isGatehouseError(error) ? error.code : "thrown");
        }
      }
      expect(outcomes.at(-1)).toBe("valid");
      expect(outcomes.every((outcome) => outcome === "valid" || outcome === "unavailable")).toBe(true);
      expect(outcomes.filter((outcome) => outcome === "unavailable").length).toBeLessThanOrEqual(maxConnections);
    } finally {
      await admin.end();
      await store.close();
    }
  });
});

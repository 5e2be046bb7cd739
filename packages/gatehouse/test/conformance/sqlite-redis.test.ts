import { describe } from "vitest";
import { requireService } from "../support/services.js";
import { redisSessionsHarness, sqliteBackend } from "./harness.js";
import { describeStoreConformance } from "./suite.js";

const available = await requireService("redis");

// The migration checks run in sqlite.test.ts: the schema belongs to the SQLite store, and Redis has none.
// Only Redis is on the network: in the outage checks, users stay in a healthy SQLite file.
describe.skipIf(!available)("SQLite users, Redis sessions", () => {
  describeStoreConformance("SQLite + Redis sessions", redisSessionsHarness(sqliteBackend));
});

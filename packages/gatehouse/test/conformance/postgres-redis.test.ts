import { describe } from "vitest";
import { requireService } from "../support/services.js";
import { postgresBackend, redisSessionsHarness } from "./harness.js";
import { describeStoreConformance } from "./suite.js";

const [postgresUp, redisUp] = await Promise.all([requireService("postgres"), requireService("redis")]);
const available = postgresUp && redisUp;

// The migration checks run in postgres.test.ts: the schema belongs to the PostgreSQL store, and Redis has none.
describe.skipIf(!available)("PostgreSQL users, Redis sessions", () => {
  describeStoreConformance("PostgreSQL + Redis sessions", redisSessionsHarness(postgresBackend));
});

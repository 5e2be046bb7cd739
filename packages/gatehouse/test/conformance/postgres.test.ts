import { describe } from "vitest";
import { requireService } from "../support/services.js";
import { postgresBackend, sqlHarness } from "./harness.js";
import { describeStoreConformance } from "./suite.js";

const available = await requireService("postgres");

describe.skipIf(!available)("PostgreSQL", () => {
  describeStoreConformance("PostgreSQL", sqlHarness(postgresBackend));
});

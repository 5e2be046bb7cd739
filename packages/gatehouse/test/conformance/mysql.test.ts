import { describe } from "vitest";
import { requireService } from "../support/services.js";
import { mysqlBackend, sqlHarness } from "./harness.js";
import { describeStoreConformance } from "./suite.js";

const available = await requireService("mysql");

describe.skipIf(!available)("MySQL/MariaDB", () => {
  describeStoreConformance("MySQL/MariaDB", sqlHarness(mysqlBackend));
});

import { sqlHarness, sqliteBackend } from "./harness.js";
import { describeStoreConformance } from "./suite.js";

describeStoreConformance("SQLite", sqlHarness(sqliteBackend));

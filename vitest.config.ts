import { resolve } from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["packages/gatehouse/src/**/*.test.{ts,tsx}"],
          // The App Router helpers import "server-only", which throws outside React's server condition.
          // (Its exports map hides `empty.js`, the file the react-server condition resolves to, so the path is spelt out.)
          alias: [
            { find: /^server-only$/, replacement: resolve(import.meta.dirname, "node_modules/server-only/empty.js") },
          ],
          pool: "forks",
          sequence: { groupOrder: 0 },
          // The property tests run a fixed number of cases: on a slow machine that takes longer, not wrongly.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["packages/gatehouse/test/**/*.test.ts"],
          pool: "forks",
          // One pool with the e2e and bench files (a group shares its workers): on two cores, two files at a
          // time, whichever project they belong to, so no core waits for the slowest file of a group.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["apps/example/test/**/*.test.ts", "apps/example-app-router/test/**/*.test.ts"],
          pool: "forks",
          // Each file starts its own `next start`; two at once is what two cores can carry.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          // The bench's smoke test: each case and server once, tiny, checking answers, never timings.
          name: "bench",
          include: ["bench/test/**/*.test.ts"],
          pool: "forks",
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});

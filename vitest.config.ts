import { defineConfig } from "vitest/config";

// Tests run against the TypeScript sources, no build needed first: every workspace package's
// `exports` map points the `lastbeat-source` condition at its `src/` (the same condition
// `npm run demo` and the bin use through `node --conditions=lastbeat-source`).
const conditions = ["lastbeat-source"];
const resolve = { conditions };
const ssr = { resolve: { conditions, externalConditions: conditions } };

export default defineConfig({
  resolve,
  ssr,
  test: {
    projects: [
      {
        resolve,
        ssr,
        test: {
          name: "unit",
          setupFiles: ["test/support/setup.ts"],
          include: ["test/**/*.test.ts"],
          exclude: ["test/e2e/**", "**/node_modules/**"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        resolve,
        ssr,
        test: {
          name: "e2e",
          setupFiles: ["test/support/setup.ts"],
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // One file at a time: `fileParallelism` is not a per-project option, so `test:e2e` passes
          // --no-file-parallelism.
        },
      },
    ],
  },
});

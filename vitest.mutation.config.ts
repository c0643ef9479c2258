import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The unit tests that guard the modules `npm run test:mutation` mutates (stryker.config.json),
// run in-process so Stryker sees which test covers which mutant. Tests that only drive the CLI
// as a child process are left out: a mutant inside a child is invisible to Stryker's coverage.
//
// Stryker runs this from a sandbox copy of the repository whose node_modules is a link to the
// real one, so `lastbeat` would resolve (through the workspace link) to the unmutated sources:
// here, unlike in vitest.config.ts, our packages resolve to the sources next to this file.
const src = (pkg: string, entry = "index") => fileURLToPath(new URL(`./packages/${pkg}/src/${entry}.ts`, import.meta.url));
const alias = [
  { find: /^lastbeat\/(internal|text)$/, replacement: src("lastbeat", "$1") },
  { find: /^lastbeat$/, replacement: src("lastbeat") },
  { find: /^@lastbeat\/(forge|report|cli)$/, replacement: src("$1") },
];

export default defineConfig({
  resolve: { alias },
  test: {
    setupFiles: ["test/support/setup.ts"],
    include: [
      "test/lastbeat/atomic.test.ts",
      "test/lastbeat/write.test.ts",
      "test/lastbeat/read.test.ts",
      "test/lastbeat/evaluate.test.ts",
      "test/lastbeat/numbers.test.ts",
      "test/forge/plan.test.ts",
      "test/forge/render.test.ts",
      "test/forge/faults.test.ts",
      "test/hostile-text.test.ts",
      "test/cli/redact.test.ts",
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

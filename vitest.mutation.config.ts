import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

// The unit tests that guard the modules `npm run test:mutation` mutates (stryker.config.json),
// run in-process so Stryker sees which test covers which mutant. Tests that only drive the CLI
// as a child process are left out: a mutant inside a child is invisible to Stryker's coverage.
// Listed cheapest first, and run in this order (Stryker stops a mutant's run at the first
// failing test): the direct unit tests kill most mutants in milliseconds, and the loopback-forge
// suites at the end (storms, scopes, lifecycle: the planner's storm, adoption and write-budget
// paths) only run in full for the mutants nothing before them kills.
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

const unit = [
  "test/lastbeat/atomic.test.ts",
  "test/lastbeat/write.test.ts",
  "test/lastbeat/read.test.ts",
  "test/lastbeat/read-sync.test.ts",
  "test/lastbeat/dir.test.ts",
  "test/lastbeat/load-manifest.test.ts",
  "test/cli/folder-memory.test.ts",
  "test/lastbeat/job-states.test.ts",
  "test/lastbeat/evaluate.test.ts",
  "test/lastbeat/thresholds.test.ts",
  "test/lastbeat/start-beat.test.ts",
  "test/lastbeat/runs.test.ts",
  "test/lastbeat/maintenance.test.ts",
  "test/lastbeat/numbers.test.ts",
  "test/cli/redact.test.ts",
  "test/cli/out-file.test.ts",
  "test/cli/cli-status-stream.test.ts",
  "test/forge/errors.test.ts",
  "test/forge/plan.test.ts",
  "test/forge/render.test.ts",
  "test/hostile-text.test.ts",
];
// Every test of these renders issues, so each covers nearly all of text.ts and evaluate.ts: a
// surviving mutant there would run all of them (a minute apiece on two busy cores). For a run
// on those two modules alone, LASTBEAT_MUTATION_TESTS=unit leaves them out; a comma-separated
// list of test files there runs just those (evaluate.ts: its own four).
const loopbackForge = [
  "test/forge/people.test.ts",
  "test/forge/memory.test.ts",
  "test/forge/faults.test.ts",
  "test/forge/lifecycle.test.ts",
  "test/forge/scopes.test.ts",
  "test/forge/said-once.test.ts",
  "test/forge/storms.test.ts",
  // Last: its 20,000-job cases take seconds; they pin the marker's memory past any capacity.
  "test/forge/remembering.test.ts",
];
const chosen = process.env.LASTBEAT_MUTATION_TESTS;
const include = !chosen ? [...unit, ...loopbackForge] : chosen === "unit" ? unit : chosen.split(",").map((file) => file.trim());

/** Runs the test files in `include`'s order (vitest's default runs the slowest first). */
class IncludeOrder extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (spec: TestSpecification) => include.findIndex((file) => spec.moduleId.endsWith(file));
    return [...files].sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  resolve: { alias },
  test: {
    setupFiles: ["test/support/setup.ts"],
    include,
    sequence: { sequencer: IncludeOrder },
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

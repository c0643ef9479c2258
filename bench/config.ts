import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/*
 * Everything the bench can be told through the environment, so `npm run bench` needs no flags:
 *   LASTBEAT_BENCH_QUICK=1         small sizes and few rounds: a smoke run in well under a minute
 *   LASTBEAT_BENCH_SIZES=1000,…    heartbeat-file counts for the scan measures
 *   LASTBEAT_BENCH_ONLY=write,…    run only these measures: write, start, scan, memory, run, forge, storm
 *   LASTBEAT_BENCH_ROUNDS=n        timed rounds per measure (after the warm-up)
 *   LASTBEAT_BENCH_CACHE=dir       where generated heartbeat folders are kept between runs
 */

export const ROOT = fileURLToPath(new URL("..", import.meta.url));

export type MeasureName = "write" | "start" | "scan" | "memory" | "run" | "forge" | "storm";
const ALL: readonly MeasureName[] = ["write", "start", "scan", "memory", "run", "forge", "storm"];

export interface BenchConfig {
  quick: boolean;
  only: ReadonlySet<MeasureName>;
  /** File counts for the scan measures, ascending. */
  sizes: number[];
  /** The size whose CLI scan's peak memory is measured (the largest). */
  memorySize: number;
  rounds: { write: number; start: number; scan: (size: number) => number };
  warmup: number;
  /** Writes per contender per round. */
  writesPerRound: number;
  cacheDir: string;
  /** Whole-process entry of the CLI: bin/lastbeat, or the built dist when bin/ is missing. */
  cli: { command: string; args: string[]; label: string };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const quick = env.LASTBEAT_BENCH_QUICK === "1";
  const sizes = (env.LASTBEAT_BENCH_SIZES ?? (quick ? "200,2000" : "1000,10000,100000"))
    .split(",")
    .map((s) => Number.parseInt(s.trim(), 10))
    .filter((n) => Number.isInteger(n) && n > 0)
    .sort((a, b) => a - b);
  const only = new Set(
    (env.LASTBEAT_BENCH_ONLY ?? ALL.join(","))
      .split(",")
      .map((s) => s.trim())
      .filter((s): s is MeasureName => (ALL as readonly string[]).includes(s)),
  );
  const fixed = env.LASTBEAT_BENCH_ROUNDS ? Number.parseInt(env.LASTBEAT_BENCH_ROUNDS, 10) : undefined;
  return {
    quick,
    only,
    sizes,
    memorySize: sizes[sizes.length - 1] ?? 0,
    rounds: {
      write: fixed ?? (quick ? 4 : 10),
      start: fixed ?? (quick ? 5 : 20),
      // Fewer rounds for the big folders: a 100k scan takes seconds, and its noise is small.
      scan: (size) => fixed ?? (quick ? 3 : size >= 100_000 ? 3 : size >= 10_000 ? 5 : 9),
    },
    warmup: quick ? 1 : 2,
    writesPerRound: quick ? 50 : 200,
    cacheDir: env.LASTBEAT_BENCH_CACHE ?? join(tmpdir(), "lastbeat-bench-cache"),
    cli: cliEntry(),
  };
}

function cliEntry(): BenchConfig["cli"] {
  const bin = join(ROOT, "bin", "lastbeat");
  // A cron job runs the executable, shebang and all: measure that when it exists.
  if (existsSync(bin)) return { command: bin, args: [], label: "bin/lastbeat" };
  return { command: process.execPath, args: [join(ROOT, "packages", "lastbeat", "dist", "cli", "lastbeat.mjs")], label: "node packages/lastbeat/dist/cli/lastbeat.mjs" };
}

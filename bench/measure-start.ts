import { join } from "node:path";
import { ROOT, type BenchConfig } from "./config.js";
import { timeProcess } from "./processes.js";
import type { Row } from "./row.js";
import { alternate, perRound, roundRatios, summarize } from "./stats.js";

/**
 * CLI cold start, whole process, as cron pays it: `lastbeat beat job --every 5m` (heartbeat folder
 * from LASTBEAT_DIR) against `node -e 0` and a plain Node script writing the same file durably.
 */
export async function measureStart(config: BenchConfig, dir: string): Promise<Row[]> {
  const env = { ...process.env, LASTBEAT_DIR: dir, NO_COLOR: "1" };
  const rounds = await alternate(
    {
      lastbeat: () => [timeProcess({ command: config.cli.command, args: [...config.cli.args, "beat", "job", "--every", "5m"], env })],
      empty: () => [timeProcess({ command: process.execPath, args: ["-e", "0"], env })],
      plain: () => [timeProcess({ command: process.execPath, args: [join(ROOT, "bench", "baseline", "beat.mjs"), dir, "plain", "300"], env })],
    },
    { rounds: config.rounds.start, warmup: config.warmup + 1 },
  );
  const only = (s: { p50: number }) => s.p50;
  const lastbeat = summarize(perRound(rounds.lastbeat, only));
  const vsPlain = summarize(roundRatios(rounds.lastbeat, rounds.plain, only));
  const vsEmpty = summarize(roundRatios(rounds.lastbeat, rounds.empty, only));
  return [
    {
      id: "start.vs-script",
      measure: "CLI cold start `lastbeat beat job --every 5m`",
      unit: "ms",
      lastbeat,
      baseline: summarize(perRound(rounds.plain, only)),
      baselineLabel: "plain node script writing the same file",
      ratio: vsPlain,
      target: "ratio ≤ 1.5",
      met: vsPlain.p50 <= 1.5,
    },
    {
      id: "start.vs-empty",
      measure: "CLI cold start `lastbeat beat job --every 5m`",
      unit: "ms",
      lastbeat,
      baseline: summarize(perRound(rounds.empty, only)),
      baselineLabel: "`node -e 0`",
      ratio: vsEmpty,
      target: "—",
      met: null,
    },
  ];
}

import { join } from "node:path";
import { scanHeartbeats } from "lastbeat";
// Plain JavaScript on purpose: the baseline is what a plain Node script does, untouched by our code.
import { readAndParse } from "./baseline/scan.mjs";
import { ROOT, type BenchConfig } from "./config.js";
import { FIXTURE_NOW } from "./fixtures.js";
import { timeProcess } from "./processes.js";
import type { Row } from "./row.js";
import { alternate, elapsedMs, perRound, roundRatios, summarize, type Summary } from "./stats.js";

const only = (s: Summary) => s.p50;

export interface ScanTimes {
  size: number;
  library: { lastbeat: number[][]; plain: number[][] };
  cli: { lastbeat: number[][]; plain: number[][] };
}

/**
 * Scan + evaluate `size` heartbeat files, in process (`scanHeartbeats`) and as a whole process
 * (`lastbeat status --json`), each against plain Node reading and JSON-parsing the same files with
 * bounded concurrency (in process, and as a process printing what it parsed).
 */
export async function measureScan(config: BenchConfig, size: number, dir: string): Promise<{ rows: Row[]; times: ScanTimes }> {
  const rounds = config.rounds.scan(size);
  let count = 0;
  const library = await alternate(
    {
      lastbeat: async () => {
        const start = process.hrtime.bigint();
        const states = await scanHeartbeats({ dirs: [dir], now: FIXTURE_NOW });
        const ms = elapsedMs(start);
        count = states.length;
        return [ms];
      },
      plain: async () => {
        const start = process.hrtime.bigint();
        await readAndParse(dir, 64);
        return [elapsedMs(start)];
      },
    },
    { rounds, warmup: config.warmup },
  );
  if (count !== size) throw new Error(`bench: scanHeartbeats found ${count} jobs in ${dir}, expected ${size}`);

  const env = { ...process.env, NO_COLOR: "1" };
  const cli = await alternate(
    {
      lastbeat: () => [
        timeProcess({
          command: config.cli.command,
          args: [...config.cli.args, "status", "--json", "--dir", dir, "--now", FIXTURE_NOW.toISOString()],
          env,
          okCodes: [0, 1],
        }),
      ],
      plain: () => [timeProcess({ command: process.execPath, args: [join(ROOT, "bench", "baseline", "scan.mjs"), dir], env })],
    },
    // The library rounds have just read every file: the page cache is warm, so the biggest
    // folder (seconds per round) needs no warm-up round of its own.
    { rounds, warmup: size >= 100_000 ? 0 : 1 },
  );

  const label = size.toLocaleString("en-US");
  const libRatio = summarize(roundRatios(library.lastbeat, library.plain, only));
  const cliRatio = summarize(roundRatios(cli.lastbeat, cli.plain, only));
  return {
    times: { size, library, cli },
    rows: [
      {
        id: `scan.library.${size}`,
        measure: `scan + evaluate ${label} files, \`scanHeartbeats\``,
        unit: "ms",
        lastbeat: summarize(perRound(library.lastbeat, only)),
        baseline: summarize(perRound(library.plain, only)),
        baselineLabel: "readdir + readFile + JSON.parse, 64 at a time",
        ratio: libRatio,
        target: "ratio ≤ 1.5",
        met: libRatio.p50 <= 1.5,
      },
      {
        id: `scan.cli.${size}`,
        measure: `scan + evaluate ${label} files, \`lastbeat status --json\``,
        unit: "ms",
        lastbeat: summarize(perRound(cli.lastbeat, only)),
        baseline: summarize(perRound(cli.plain, only)),
        baselineLabel: "the same as a node process printing the parsed JSON",
        ratio: cliRatio,
        target: "ratio ≤ 1.5",
        met: cliRatio.p50 <= 1.5,
      },
    ],
  };
}

/**
 * How the cost grows from one size to the next: each round of the bigger folder over the median
 * of the smaller. In process (`scanHeartbeats`) the bench's own heap has grown by then; the CLI
 * runs in a fresh process every time, so its figure is the one a user sees.
 */
export function scalingRow(small: ScanTimes, big: ScanTimes, side: "library" | "cli"): Row {
  const factor = big.size / small.size;
  const limit = 1.1 * factor;
  const grow = (b: number[][], s: number[][]) => perRound(b, only).map((v) => v / summarize(perRound(s, only)).p50);
  const ratio = summarize(grow(big[side].lastbeat, small[side].lastbeat));
  const what = side === "library" ? "`scanHeartbeats`" : "`lastbeat status --json`";
  return {
    id: `scan.scaling.${side}.${big.size}-${small.size}`,
    measure: `${what} ${big.size.toLocaleString("en-US")} files ÷ ${small.size.toLocaleString("en-US")} files`,
    unit: "×",
    lastbeat: ratio,
    baseline: summarize(grow(big[side].plain, small[side].plain)),
    baselineLabel: "plain Node, same sizes",
    ratio: null,
    target: `≤ ${Number(limit.toFixed(2))}×`,
    met: ratio.p50 <= limit,
  };
}

import { existsSync } from "node:fs";
import { join } from "node:path";
import { ROOT, type BenchConfig } from "./config.js";
import { FIXTURE_NOW, FIXTURE_RUNS } from "./fixtures.js";
import { rssReporter, runProcess, type Command } from "./processes.js";
import type { Row } from "./row.js";
import { summarize } from "./stats.js";

const TIME = "/usr/bin/time";
const MiB = 1024 * 1024;

/**
 * Peak resident memory of `lastbeat status --json` over the biggest folder, from the kernel's
 * rusage: GNU time's "Maximum resident set size", or when it is missing, `process.resourceUsage()`
 * read at exit by a module preloaded into the same process. Then the same over the same number of
 * heartbeats each carrying a 20-run history (`runsDir`), for `status --json`, and for `metrics` and
 * the JSON brief, which hold every job's state until they render.
 */
export async function measureMemory(config: BenchConfig, size: number, dir: string, runsDir: string): Promise<Row[]> {
  const label = size.toLocaleString("en-US");
  const now = FIXTURE_NOW.toISOString();
  return [
    memoryRow(config, `memory.cli.${size}`, `peak RSS, \`lastbeat status --json\` over ${label} files`, ["status", "--json", "--dir", dir, "--now", now], dir),
    memoryRow(
      config,
      `memory.cli.runs.${size}`,
      `peak RSS, \`lastbeat status --json\` over ${label} files of ${FIXTURE_RUNS} past runs each`,
      ["status", "--json", "--dir", runsDir, "--now", now],
      runsDir,
    ),
    // No target for these two: they hold every job's state until they render (metrics cuts it to
    // what it prints, the brief keeps the past runs its JSON shows), then write their text in pieces.
    memoryRow(config, `memory.metrics.runs.${size}`, `peak RSS, \`lastbeat metrics\` over ${label} files of ${FIXTURE_RUNS} past runs each`, ["metrics", "--dir", runsDir, "--now", now], runsDir, null),
    memoryRow(
      config,
      `memory.report.runs.${size}`,
      `peak RSS, \`lastbeat report --format json\` over ${label} files of ${FIXTURE_RUNS} past runs each`,
      ["report", "--format", "json", "--dir", runsDir, "--now", now],
      runsDir,
      null,
    ),
  ];
}

/** One command's peak RSS against the synchronous loop's over the same folder, alternating. */
function memoryRow(config: BenchConfig, id: string, measure: string, args: string[], dir: string, targetMiB: number | null = 256): Row {
  const runs = config.quick ? 1 : 2;
  const lastbeat: number[] = [];
  const plain: number[] = [];
  for (let i = 0; i < runs; i++) {
    lastbeat.push(peakRss({ command: config.cli.command, args: [...config.cli.args, ...args], okCodes: [0, 1], discardStdout: true }));
    plain.push(peakRss({ command: process.execPath, args: [join(ROOT, "bench", "baseline", "scan-sync.mjs"), dir], discardStdout: true }));
  }
  const s = summarize(lastbeat);
  return {
    id,
    measure,
    unit: "MiB",
    lastbeat: s,
    baseline: summarize(plain),
    baselineLabel: "the synchronous loop as a node process (it holds every parsed file)",
    ratio: null,
    target: targetMiB === null ? "—" : `≤ ${targetMiB} MiB`,
    met: targetMiB === null ? null : s.max <= targetMiB,
  };
}

/** Peak RSS of one whole process, in MiB. */
function peakRss(cmd: Command): number {
  if (existsSync(TIME)) {
    const { stderr } = runProcess({ ...cmd, command: TIME, args: ["-v", cmd.command, ...cmd.args] });
    const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
    if (!match) throw new Error(`bench: no "Maximum resident set size" in the output of ${TIME} -v`);
    return (Number(match[1]) * 1024) / MiB;
  }
  // Without GNU time: node itself must run the command, with the reporter preloaded.
  const rss = rssReporter();
  try {
    const script = cmd.command === process.execPath ? cmd.args : [join(ROOT, "packages", "cli", "dist", "bin.js"), ...cmd.args];
    runProcess({ ...cmd, command: process.execPath, args: [...rss.nodeArgs, ...script] });
    return rss.peakMiB();
  } finally {
    rss.remove();
  }
}

import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { scanHeartbeats } from "lastbeat";
// Plain JavaScript on purpose: the baselines are what a plain Node script does, untouched by our code.
import { readAndParse } from "./baseline/scan.mjs";
import { readAndParseSync } from "./baseline/scan-sync.mjs";
import { ROOT, type BenchConfig } from "./config.js";
import { FIXTURE_NOW } from "./fixtures.js";
import { runProcess, timeProcess } from "./processes.js";
import type { Row } from "./row.js";
import { alternate, elapsedMs, perRound, roundRatios, summarize, type Summary } from "./stats.js";

const only = (s: Summary) => s.p50;

/** The scan target: each command within this ratio of the plain synchronous loop. */
const TARGET = 1.3;

export interface ScanTimes {
  size: number;
  /** Per contender, one sample per round; `sync` is the baseline the targets are judged against. */
  library: { lastbeat: number[][]; sync: number[][]; async: number[][]; idle: number[][] };
  cli: { lastbeat: number[][]; sync: number[][]; async: number[][]; floor: number[][] };
}

/** The longest event-loop stalls (wall time) and the most CPU time between two turns, in ms. */
export interface EventLoopStalls {
  scan: number;
  idle: number;
  scanCpu: number;
  idleCpu: number;
}

/**
 * The other commands that scan, each as a cron job runs it: `check` (dry run, no forge: nothing
 * written, so the folder stays the fixture), `report` (the brief as JSON) and `metrics`.
 */
const READERS = {
  check: ["check", "--forge", "none", "--dry-run"],
  report: ["report", "--format", "json"],
  metrics: ["metrics"],
} as const;
type Reader = keyof typeof READERS;

const SYNC_LABEL = "readdirSync, then readFileSync + JSON.parse per file";
const SYNC_PROCESS_LABEL = `${SYNC_LABEL}, as a node process printing the parsed JSON`;
const ASYNC_LABEL = "readdir + readFile + JSON.parse, 64 at a time";

/**
 * Scan + evaluate `size` heartbeat files, in process (`scanHeartbeats`) and as a whole process
 * (`lastbeat status --json`), against plain Node reading and JSON-parsing the same files: the
 * synchronous loop (the practical floor for Node, and the baseline of the targets), 64 concurrent
 * promise reads (the usual way), and, for the process, `find | xargs cat` (the system's floor:
 * the same files read by C programs, nothing parsed). All contenders alternate, round by round.
 * The event loop's longest stall during `scanHeartbeats` is recorded too.
 */
export async function measureScan(
  config: BenchConfig,
  size: number,
  dir: string,
): Promise<{ rows: Row[]; times: ScanTimes; eventLoopMaxMs: EventLoopStalls }> {
  const rounds = config.rounds.scan(size);
  let count = 0;
  let lastMs = 0;
  const eventLoopMaxMs: EventLoopStalls = { scan: 0, idle: 0, scanCpu: 0, idleCpu: 0 };
  /**
   * Runs `work` with the event loop's delay monitored (1 ms resolution); returns the longest stall
   * and the most CPU time the process spent (all its threads, the garbage collector's included)
   * between two turns of the loop, read by a 1 ms timer: on a loaded machine a stall of wall time
   * with little CPU in it is the kernel running someone else, not the scan holding the loop.
   */
  const monitored = async (work: () => Promise<unknown>): Promise<{ stall: number; cpu: number }> => {
    const delay = monitorEventLoopDelay({ resolution: 1 });
    let last = process.cpuUsage();
    let cpu = 0;
    const tick = setInterval(() => {
      const now = process.cpuUsage();
      cpu = Math.max(cpu, (now.user - last.user + now.system - last.system) / 1000);
      last = now;
    }, 1);
    delay.enable();
    await work();
    delay.disable();
    clearInterval(tick);
    // The stretch from the last tick to the end of the work counts too.
    const end = process.cpuUsage();
    cpu = Math.max(cpu, (end.user - last.user + end.system - last.system) / 1000);
    return { stall: delay.max / 1e6, cpu };
  };
  const library = await alternate(
    {
      lastbeat: async () => {
        const start = process.hrtime.bigint();
        const { stall, cpu } = await monitored(async () => {
          count = (await scanHeartbeats({ dirs: [dir], now: FIXTURE_NOW })).length;
        });
        lastMs = elapsedMs(start);
        eventLoopMaxMs.scan = Math.max(eventLoopMaxMs.scan, stall);
        eventLoopMaxMs.scanCpu = Math.max(eventLoopMaxMs.scanCpu, cpu);
        return [lastMs];
      },
      // The control for the stall: an idle event loop for as long as the last scan took. On a
      // loaded machine the kernel alone delays timers; this is how much.
      idle: async () => {
        const { stall, cpu } = await monitored(() => new Promise((resolve) => setTimeout(resolve, lastMs)));
        eventLoopMaxMs.idle = Math.max(eventLoopMaxMs.idle, stall);
        eventLoopMaxMs.idleCpu = Math.max(eventLoopMaxMs.idleCpu, cpu);
        return [0];
      },
      sync: () => {
        const start = process.hrtime.bigint();
        readAndParseSync(dir);
        return [elapsedMs(start)];
      },
      async: async () => {
        const start = process.hrtime.bigint();
        await readAndParse(dir, 64);
        return [elapsedMs(start)];
      },
    },
    { rounds, warmup: config.warmup },
  );
  if (count !== size) throw new Error(`bench: scanHeartbeats found ${count} jobs in ${dir}, expected ${size}`);

  const env = { ...process.env, NO_COLOR: "1" };
  const node = (script: string) => () => [timeProcess({ command: process.execPath, args: [join(ROOT, "bench", "baseline", script), dir], env })];
  const at = ["--dir", dir, "--now", FIXTURE_NOW.toISOString()];
  const reader = (name: Reader) => () => [
    timeProcess({ command: config.cli.command, args: [...config.cli.args, ...READERS[name], ...at], env, okCodes: [0, 1] }),
  ];
  // Only from 10,000 files, where the targets are.
  const readers: Partial<Record<Reader, () => number[]>> = size >= 10_000 ? { check: reader("check"), report: reader("report"), metrics: reader("metrics") } : {};
  const cli = (await alternate<string>(
    {
      ...(readers as Record<string, () => number[]>),
      lastbeat: () => [
        timeProcess({
          command: config.cli.command,
          args: [...config.cli.args, "status", "--json", "--dir", dir, "--now", FIXTURE_NOW.toISOString()],
          env,
          okCodes: [0, 1],
        }),
      ],
      sync: node("scan-sync.mjs"),
      async: node("scan.mjs"),
      floor: () => [
        timeProcess({
          command: "sh",
          args: ["-c", `find "$1" -maxdepth 1 -type f -name '*.last' -print0 | xargs -0 cat`, "sh", dir],
          env,
        }),
      ],
    },
    // The library rounds have just read every file: the page cache is warm, so the biggest
    // folder (seconds per round) needs no warm-up round of its own.
    { rounds, warmup: size >= 100_000 ? 0 : 1 },
  )) as Record<"lastbeat" | "sync" | "async" | "floor", number[][]> & Partial<Record<Reader, number[][]>>;

  const label = size.toLocaleString("en-US");
  const ratioRow = (id: string, measure: string, lastbeat: number[][], baseline: number[][], baselineLabel: string, target: number | null): Row => {
    const ratio = summarize(roundRatios(lastbeat, baseline, only));
    return {
      id,
      measure,
      unit: "ms",
      lastbeat: summarize(perRound(lastbeat, only)),
      baseline: summarize(perRound(baseline, only)),
      baselineLabel,
      ratio,
      target: target === null ? "—" : `ratio ≤ ${target}`,
      met: target === null ? null : ratio.p50 <= target,
    };
  };
  const library$ = `scan + evaluate ${label} files, \`scanHeartbeats\``;
  const cli$ = `scan + evaluate ${label} files, \`lastbeat status --json\``;
  return {
    times: { size, library, cli },
    eventLoopMaxMs,
    rows: [
      ratioRow(`scan.library.${size}`, library$, library.lastbeat, library.sync, SYNC_LABEL, null),
      ratioRow(`scan.library.async.${size}`, library$, library.lastbeat, library.async, ASYNC_LABEL, null),
      ratioRow(`scan.cli.${size}`, cli$, cli.lastbeat, cli.sync, SYNC_PROCESS_LABEL, size >= 10_000 ? TARGET : null),
      ratioRow(`scan.cli.async.${size}`, cli$, cli.lastbeat, cli.async, `${ASYNC_LABEL}, as a node process printing the parsed JSON`, null),
      ratioRow(`scan.cli.floor.${size}`, cli$, cli.lastbeat, cli.floor, "`find … | xargs cat` (the system's floor: read, nothing parsed)", null),
      // The scan in them is status's; what each does after it (render, sort, format) is its own.
      // The target is status's too: each command that scans, within 1.3× of the loop.
      ...(Object.keys(readers) as Reader[]).map((name) =>
        ratioRow(
          `scan.cli.${name}.${size}`,
          `scan + ${name === "check" ? "judge" : "render"} ${label} files, \`lastbeat ${READERS[name].join(" ")}\``,
          cli[name] ?? [],
          cli.sync,
          SYNC_PROCESS_LABEL,
          TARGET,
        ),
      ),
    ],
  };
}

/**
 * The longest the event loop waited while `scanHeartbeats` ran (`monitorEventLoopDelay`, 1 ms
 * resolution, every round of every size): what a service that scans in-process would feel. The
 * baseline is the same measure over an idle event loop for as long, in the same rounds. The second
 * row is the part that is the scan's own: the most CPU time the process spent between two turns.
 */
export function eventLoopRows(maxMs: EventLoopStalls, size: number): Row[] {
  const upTo = `up to ${size.toLocaleString("en-US")} files`;
  return [
    {
      id: "scan.library.event-loop",
      measure: `longest event-loop stall during \`scanHeartbeats\`, ${upTo}`,
      unit: "ms",
      lastbeat: summarize([maxMs.scan]),
      baseline: summarize([maxMs.idle]),
      baselineLabel: "an idle event loop for as long (the synchronous loop blocks for its whole run)",
      ratio: null,
      target: "≤ 50 ms",
      met: maxMs.scan <= 50,
    },
    {
      id: "scan.library.event-loop-cpu",
      measure: `most CPU time between two event-loop turns during \`scanHeartbeats\`, ${upTo} (all threads, GC included)`,
      unit: "ms",
      lastbeat: summarize([maxMs.scanCpu]),
      baseline: summarize([maxMs.idleCpu]),
      baselineLabel: "the same over an idle event loop",
      ratio: null,
      target: "≤ 50 ms",
      met: maxMs.scanCpu <= 50,
    },
  ];
}

/**
 * How `lastbeat status --json`'s cost grows from one size to the next: each round of the bigger
 * folder over the median of the smaller. Each run is a fresh process, as a user's.
 */
export function scalingRow(small: ScanTimes, big: ScanTimes): Row {
  const grow = (b: number[][], s: number[][]) => perRound(b, only).map((v) => v / summarize(perRound(s, only)).p50);
  return growthRow(small.size, big.size, "`lastbeat status --json`", grow(big.cli.lastbeat, small.cli.lastbeat), grow(big.cli.sync, small.cli.sync));
}

/**
 * How `scanHeartbeats`' cost grows from one size to the next, timed inside a fresh process
 * (scan-process.mjs: untimed scans for half a second, then the median of three): what a service scanning its own folder
 * again and again pays. In the bench's own process the figure also carried the bench's heap, grown
 * by every earlier measure: 100,000 files read 9.5× to 11.8× of 10,000 from run to run with the
 * code unchanged. The four contenders alternate; each round's growth is its big scan over its
 * small one.
 */
export async function measureGrowth(config: BenchConfig, small: { size: number; dir: string }, big: { size: number; dir: string }): Promise<Row> {
  const env = { ...process.env, NODE_OPTIONS: "" };
  const inProcess = (who: "lastbeat" | "sync", { size, dir }: { size: number; dir: string }) => () => {
    const { stdout } = runProcess({ command: process.execPath, args: [join(ROOT, "bench", "scan-process.mjs"), who, dir, FIXTURE_NOW.toISOString()], env });
    const { ms, count } = JSON.parse(stdout) as { ms: number; count: number };
    if (count !== size) throw new Error(`bench: scan-process.mjs ${who} found ${count} files in ${dir}, expected ${size}`);
    return [ms];
  };
  const times = await alternate(
    {
      lastbeatSmall: inProcess("lastbeat", small),
      lastbeatBig: inProcess("lastbeat", big),
      syncSmall: inProcess("sync", small),
      syncBig: inProcess("sync", big),
    },
    // Each process has its warm-up scan; the page cache is warm from the scan measures.
    { rounds: config.rounds.scan(big.size), warmup: 0 },
  );
  const grow = (b: number[][], s: number[][]) => roundRatios(b, s, only);
  return growthRow(small.size, big.size, "`scanHeartbeats`", grow(times.lastbeatBig, times.lastbeatSmall), grow(times.syncBig, times.syncSmall), " (each in a fresh process, warm: the median of three scans after half a second of untimed ones)");
}

/**
 * The target is the earlier issue's, absolute: ≤ 1.1 × the growth in files. The loop's own growth
 * is beside it, and the ratio is lastbeat's growth over the loop's, round by round: on this
 * machine the loop itself grows ~10.5× from 10,000 to 100,000 files (the file system's cost per
 * file grows), so the absolute row can read either way by noise while lastbeat adds a few percent.
 */
function growthRow(small: number, big: number, what: string, lastbeat: number[], sync: number[], how = ""): Row {
  const limit = 1.1 * (big / small);
  const growth = summarize(lastbeat);
  return {
    id: `scan.scaling.${what.includes("status") ? "cli" : "library"}.${big}-${small}`,
    measure: `${what} ${big.toLocaleString("en-US")} files ÷ ${small.toLocaleString("en-US")} files${how}`,
    unit: "×",
    lastbeat: growth,
    baseline: summarize(sync),
    baselineLabel: "the synchronous loop, same sizes",
    ratio: summarize(lastbeat.map((g, i) => g / (sync[i] as number))),
    target: `≤ ${Number(limit.toFixed(2))}×`,
    met: growth.p50 <= limit,
  };
}

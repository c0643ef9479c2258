import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, release, tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, loadConfig } from "./config.js";
import { heartbeatFolder } from "./fixtures.js";
import { measureForge, measureStorm } from "./measure-forge.js";
import { measureMemory } from "./measure-memory.js";
import { measureRun } from "./measure-run.js";
import { eventLoopRows, measureGrowth, measureScan, scalingRow, type EventLoopStalls, type ScanTimes } from "./measure-scan.js";
import { measureStart } from "./measure-start.js";
import { measureWrite } from "./measure-write.js";
import { closeDevNull } from "./processes.js";
import { renderTable, type Row } from "./row.js";
import { elapsedMs } from "./stats.js";

/*
 * `npm run bench`: every figure is a ratio against a baseline measured in the same run, the two
 * alternating round after round after a warm-up, because the machine at hand (shared, a couple of
 * cores) is noisy. Prints one markdown table on stdout, progress on stderr, and writes
 * bench/results.json. See config.ts for the environment knobs.
 */

const config = loadConfig();
const began = process.hrtime.bigint();
const loadAtStart = loadavg();
const log = (text: string) => process.stderr.write(`bench: ${text}\n`);
const rows: Row[] = [];
const work = await mkdtemp(join(tmpdir(), "lastbeat-bench-"));

try {
  log(`${config.quick ? "quick run, " : ""}CLI: ${config.cli.label}; sizes ${config.sizes.join(", ")}; load ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);

  if (config.only.has("write")) {
    log(`durable write: ${config.rounds.write} rounds × ${config.writesPerRound} writes`);
    const dir = join(work, "write");
    await mkdir(dir);
    rows.push(...(await measureWrite(config, dir)));
  }

  if (config.only.has("start")) {
    log(`CLI cold start: ${config.rounds.start} rounds`);
    const dir = join(work, "start");
    await mkdir(dir);
    rows.push(...(await measureStart(config, dir)));
  }

  const needFolders = config.only.has("scan") || config.only.has("memory");
  const folders = new Map<number, string>();
  if (needFolders) {
    for (const size of config.sizes) {
      const start = process.hrtime.bigint();
      folders.set(size, await heartbeatFolder(config.cacheDir, size));
      log(`heartbeat folder of ${size} files ready in ${(elapsedMs(start) / 1000).toFixed(1)} s`);
    }
  }

  if (config.only.has("scan")) {
    const times: ScanTimes[] = [];
    const eventLoopMaxMs: EventLoopStalls = { scan: 0, idle: 0, scanCpu: 0, idleCpu: 0 };
    for (const size of config.sizes) {
      log(`scan ${size} files: ${config.rounds.scan(size)} rounds`);
      const result = await measureScan(config, size, folders.get(size)!);
      rows.push(...result.rows);
      times.push(result.times);
      for (const key of ["scan", "idle", "scanCpu", "idleCpu"] as const) eventLoopMaxMs[key] = Math.max(eventLoopMaxMs[key], result.eventLoopMaxMs[key]);
    }
    const [small, big] = times.slice(-2);
    if (small && big) {
      log(`scan growth ${small.size} → ${big.size} files, each scan in a fresh process: ${config.rounds.scan(big.size)} rounds`);
      rows.push(
        await measureGrowth(config, { size: small.size, dir: folders.get(small.size)! }, { size: big.size, dir: folders.get(big.size)! }),
        scalingRow(small, big),
      );
    }
    const largest = config.sizes[config.sizes.length - 1];
    if (largest !== undefined) rows.push(...eventLoopRows(eventLoopMaxMs, largest));
  }

  if (config.only.has("memory") && config.memorySize > 0) {
    const start = process.hrtime.bigint();
    const runsDir = await heartbeatFolder(config.cacheDir, config.memorySize, { runs: true });
    log(`heartbeat folder of ${config.memorySize} files with past runs ready in ${(elapsedMs(start) / 1000).toFixed(1)} s`);
    log(`peak memory scanning ${config.memorySize} files`);
    rows.push(...(await measureMemory(config, config.memorySize, folders.get(config.memorySize)!, runsDir)));
  }

  if (config.only.has("run")) {
    log("peak memory of lastbeat run through a slow reader");
    const dir = join(work, "run");
    await mkdir(dir);
    rows.push(...(await measureRun(config, dir)));
  }

  if (config.only.has("forge")) {
    log("forge requests per check run");
    rows.push(...(await measureForge(config)));
  }

  if (config.only.has("storm")) {
    log("forge writes per check run in a 300-job storm");
    rows.push(...(await measureStorm(config)));
  }
} finally {
  closeDevNull();
  await rm(work, { recursive: true, force: true });
}

const seconds = elapsedMs(began) / 1000;
const table = renderTable(rows);
process.stdout.write(table);
const results = {
  date: new Date().toISOString(),
  seconds,
  quick: config.quick,
  machine: { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? "", kernel: release(), loadAtStart, loadAtEnd: loadavg() },
  cli: config.cli.label,
  sizes: config.sizes,
  rows,
  table,
};
await writeFile(join(ROOT, "bench", "results.json"), `${JSON.stringify(results, null, 2)}\n`);
log(`done in ${seconds.toFixed(1)} s; load ${loadavg().map((l) => l.toFixed(2)).join(" ")}; wrote bench/results.json`);

import { InvalidArgumentError, Option } from "commander";
import { EXIT } from "../errors.js";
import type { RegisterCommand } from "../io.js";
import { absolute, addScanOptions, type ScanFlags } from "../options.js";
import { writeOut } from "../out-file.js";
import { addCronOptions, cronScan, scanStates, type CronFlags } from "../cron-scan.js";
import { metricsParts } from "../prometheus.js";
import { HEARTBEAT_USE } from "../slim.js";

export const registerMetrics: RegisterCommand = (program, io, setExit) => {
  addCronOptions(
    addScanOptions(
      program
        .command("metrics")
        .description("print Prometheus metrics of every job (for node_exporter's textfile collector)"),
    ),
  )
    .addOption(new Option("--out <file.prom>", "write the metrics to this file atomically instead of stdout"))
    .addOption(
      new Option("--job-label <name>", "label name carrying the job (default job; Prometheus renames it exported_job on scrape)")
        .argParser(parseLabelName),
    )
    .addHelpText(
      "after",
      `
Exits 0 once the metrics are written, whatever the jobs' status: Prometheus does the alerting.

Examples:
  $ lastbeat metrics
  $ lastbeat metrics --out /var/lib/prometheus/node-exporter/lastbeat.prom
  $ lastbeat metrics --job-label lastbeat_job --out /var/lib/prometheus/node-exporter/lastbeat.prom
      (for a fleet: keeps the cron job's name out of Prometheus' own job label, as the
       example alert rules expect)`,
    )
    .action(async (flags: ScanFlags & CronFlags & { out?: string; jobLabel?: string }) => {
      const scan = await cronScan(flags, io);
      const parts = metricsParts(await scanStates(scan, io.env, HEARTBEAT_USE.metrics), scan.now, flags.jobLabel);
      if (flags.out === undefined) {
        for (const part of drain(parts)) if (io.stdout.write(part) === false) await io.stdout.drained?.();
      } else {
        await writeOut(absolute(flags.out, io), asyncDrain(parts));
      }
      setExit(EXIT.healthy);
    });
};

function parseLabelName(value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value) || value.startsWith("__") || value === "status") {
    throw new InvalidArgumentError("Use a Prometheus label name like job or lastbeat_job.");
  }
  return value;
}

/**
 * `parts` joined into pieces of about a megabyte, in order, each part let go of once joined: what
 * is written need not stay in memory, and a file gets a few hundred writes, not thousands.
 */
function* drain(parts: string[]): Generator<string> {
  let piece: string[] = [];
  let length = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    parts[i] = "";
    piece.push(part);
    length += part.length;
    if (length >= PIECE_CHARS) {
      yield piece.join("");
      piece = [];
      length = 0;
    }
  }
  if (piece.length > 0) yield piece.join("");
}

const PIECE_CHARS = 1 << 20;

async function* asyncDrain(parts: string[]): AsyncGenerator<string> {
  yield* drain(parts);
}

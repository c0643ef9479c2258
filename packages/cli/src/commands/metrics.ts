import { InvalidArgumentError, Option } from "commander";
import { EXIT } from "../errors.js";
import type { RegisterCommand } from "../io.js";
import { absolute, addScanOptions, parsePathArg, type ScanFlags } from "../options.js";
import { writeParts } from "../out-file.js";
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
    .addOption(new Option("--out <file.prom>", "write the metrics to this file atomically instead of stdout").argParser(parsePathArg))
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
      await writeParts(io, flags.out === undefined ? undefined : absolute(flags.out, io), parts);
      setExit(EXIT.healthy);
    });
};

function parseLabelName(value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value) || value.startsWith("__") || value === "status") {
    throw new InvalidArgumentError("Use a Prometheus label name like job or lastbeat_job.");
  }
  return value;
}

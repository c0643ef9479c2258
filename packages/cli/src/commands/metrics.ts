import { randomBytes } from "node:crypto";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { InvalidArgumentError, Option } from "commander";
import { scanHeartbeats } from "lastbeat";
import type { RegisterCommand } from "../io.js";
import { absolute, addScanOptions, scanOptionsFrom, type ScanFlags } from "../options.js";
import { renderMetrics } from "../prometheus.js";

export const registerMetrics: RegisterCommand = (program, io, setExit) => {
  addScanOptions(
    program
      .command("metrics")
      .description("print Prometheus metrics of every job (for node_exporter's textfile collector)"),
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
  $ lastbeat metrics --out /var/lib/prometheus/node-exporter/lastbeat.prom`,
    )
    .action(async (flags: ScanFlags & { out?: string; jobLabel?: string }) => {
      const options = scanOptionsFrom(flags, io);
      const text = renderMetrics(await scanHeartbeats(options), options.now, flags.jobLabel);
      if (flags.out === undefined) io.stdout.write(text);
      else await writeAtomically(absolute(flags.out, io), text);
      setExit(0);
    });
};

/**
 * Temp file in the same folder → fsync → rename, so the textfile collector never reads half a
 * file. The temp name does not end in `.prom`, so the collector never reads it either.
 */
export async function writeAtomically(file: string, text: string): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  let handle;
  try {
    handle = await open(temp, "wx", 0o644);
    await handle.writeFile(text);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, file);
  } catch (error) {
    await handle?.close().catch(() => {});
    await unlink(temp).catch(() => {});
    const e = error as NodeJS.ErrnoException;
    throw new Error(`cannot write metrics file ${file}: ${e.code ?? e.message}`, { cause: error });
  }
}

function parseLabelName(value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value) || value.startsWith("__") || value === "status") {
    throw new InvalidArgumentError("Use a Prometheus label name like job or lastbeat_job.");
  }
  return value;
}

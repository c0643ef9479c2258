import { scanHeartbeats, type JobState } from "lastbeat";
import { formatDuration, jobStateToJson, secretsIn, sortJobStates, type JobStateJson } from "lastbeat/internal";
import { healthExit } from "../errors.js";
import { addCronOptions, cronScan, unmonitoredJson, type CronFlags } from "../cron-scan.js";
import type { CronEntry } from "../crontab.js";
import { colorEnabled, type CliIo, type RegisterCommand } from "../io.js";
import { addScanOptions, jsonOption, type ScanFlags } from "../options.js";
import { statusSummary, statusTable } from "../status-table.js";
import { redactState, redactStates } from "../redact.js";

export const registerStatus: RegisterCommand = (program, io, setExit) => {
  addCronOptions(
    addScanOptions(
      program
        .command("status")
        .description("show every job and its status; exit 1 when a job is alerting"),
    ),
  )
    .addOption(jsonOption("print one JSON object { now, jobs: [...] } (docs/status.schema.json)"))
    .addHelpText(
      "after",
      `
Statuses: ok, late, flaky, running, paused (no alert); stale, failed, overrun, missing, invalid (alerting).

Examples:
  $ lastbeat status
  $ lastbeat status --dir '/mnt/fleet/*/heartbeats' --manifest /etc/lastbeat.json --json
  $ lastbeat status --crontabs          # jobs the system's crontabs declare, and unmonitored lines`,
    )
    .action(async (flags: ScanFlags & CronFlags) => {
      const scan = await cronScan(flags, io);
      const { options } = scan;
      const secrets = secretsIn(io.env);
      const unmonitored = scan.inventory?.unmonitored ?? null;
      if (flags.json) {
        // A fleet's worth of jobs: keep one small row per job, and stream the output.
        const row = (state: JobState) => {
          const { job, status, ratio, alerting } = state;
          return { job, status, ratio, alerting, json: jobStateToJson(redactState(state, secrets)) };
        };
        const rows = await scanHeartbeats(options, (state) => row(scan.explain(state)));
        rows.push(...scan.extraStates.map(row));
        await writeStatusJson(io, options.now, sortJobStates(rows).map((r) => r.json), unmonitored);
        setExit(healthExit(rows.some((r) => r.alerting)));
        return;
      }
      const scanned = (await scanHeartbeats(options)).map(scan.explain);
      const states: JobState[] = redactStates([...scanned, ...scan.extraStates], io.env);
      if (states.length === 0) {
        io.stdout.write("No heartbeat files found.\n");
      } else {
        const sorted = sortJobStates(states);
        io.stdout.write(statusTable(sorted, { color: colorEnabled(io.stdout, io.env), formatDuration }));
        io.stdout.write(`\n${statusSummary(sorted)}\n`);
      }
      if (unmonitored !== null && unmonitored.length > 0) io.stdout.write(unmonitoredText(unmonitored, flags.unmonitored === "alert"));
      setExit(healthExit(states.some((s) => s.alerting)));
    });
};

/** The cron lines that run no lastbeat, one per line: where, as whom, when, what. */
function unmonitoredText(entries: readonly CronEntry[], alerting: boolean): string {
  const where = entries.map((e) => `${e.source}:${e.line}`);
  const width = Math.max(...where.map((w) => w.length));
  const whenWidth = Math.max(...entries.map((e) => e.scheduleText.length));
  const lines = entries.map(
    (e, i) => `  ${(where[i] as string).padEnd(width)}  ${e.scheduleText.padEnd(whenWidth)}  ${e.user === null ? "" : `${e.user}: `}${oneLine(e.command)}`,
  );
  const note = alerting ? "alerting (--unmonitored alert)" : "not alerting";
  return `\nUnmonitored cron lines: ${entries.length} (${note}; wrap them in \`lastbeat run <job> --\`)\n${lines.join("\n")}\n`;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, " ");
  return flat.length > 100 ? `${flat.slice(0, 99)}…` : flat;
}

/**
 * The same bytes as `JSON.stringify({ now, jobs }, null, 2)` (docs/spec.md, "JSON output"), written 1,000 jobs at a
 * time instead of as one string the size of the whole fleet. Each slice is serialised natively
 * inside the same `{ "jobs": [...] }` frame, so its rows come out indented exactly as in the whole.
 */
async function writeStatusJson(io: CliIo, now: Date, jobs: readonly JobStateJson[], unmonitored: readonly CronEntry[] | null): Promise<void> {
  // Only with crontabs read: the unmonitored cron lines, after the jobs.
  const tail =
    unmonitored === null
      ? "\n}\n"
      : `,\n  "unmonitored": ${JSON.stringify(unmonitored.map(unmonitoredJson), null, 2).replace(/\n/g, "\n  ")}\n}\n`;
  const head = `{\n  "now": ${JSON.stringify(now.toISOString())},\n  "jobs": [`;
  if (jobs.length === 0) {
    io.stdout.write(`${head}]${tail}`);
    return;
  }
  const open = '{\n  "jobs": [\n';
  const close = "\n  ]\n}";
  io.stdout.write(`${head}\n`);
  for (let start = 0; start < jobs.length; start += 1000) {
    const framed = JSON.stringify({ jobs: jobs.slice(start, start + 1000) }, null, 2);
    const rows = framed.slice(open.length, framed.length - close.length);
    if (io.stdout.write(`${start > 0 ? ",\n" : ""}${rows}`) === false) await io.stdout.drained?.();
  }
  io.stdout.write(`\n  ]${tail}`);
}

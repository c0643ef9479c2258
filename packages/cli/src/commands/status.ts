import { scanHeartbeats, type JobState } from "lastbeat";
import { formatDuration, jobStateToJson, secretsIn, sortJobStates, type JobStateJson } from "lastbeat/internal";
import { healthExit } from "../errors.js";
import { colorEnabled, type CliIo, type RegisterCommand } from "../io.js";
import { addScanOptions, jsonOption, scanOptionsFrom, type ScanFlags } from "../options.js";
import { statusSummary, statusTable } from "../status-table.js";
import { redactState, redactStates } from "../redact.js";

export const registerStatus: RegisterCommand = (program, io, setExit) => {
  addScanOptions(
    program
      .command("status")
      .description("show every job and its status; exit 1 when a job is alerting"),
  )
    .addOption(jsonOption("print one JSON object { now, jobs: [...] } (docs/status.schema.json)"))
    .addHelpText(
      "after",
      `
Statuses: ok, late, running, paused (no alert); stale, failed, overrun, missing, invalid (alerting).

Examples:
  $ lastbeat status
  $ lastbeat status --dir '/mnt/fleet/*/heartbeats' --manifest /etc/lastbeat.json --json`,
    )
    .action(async (flags: ScanFlags) => {
      const options = scanOptionsFrom(flags, io);
      const secrets = secretsIn(io.env);
      if (flags.json) {
        // A fleet's worth of jobs: keep one small row per job, and stream the output.
        const rows = await scanHeartbeats(options, (state) => {
          const { job, status, ratio, alerting } = state;
          return { job, status, ratio, alerting, json: jobStateToJson(redactState(state, secrets)) };
        });
        await writeStatusJson(io, options.now, sortJobStates(rows).map((r) => r.json));
        setExit(healthExit(rows.some((r) => r.alerting)));
        return;
      }
      const states: JobState[] = redactStates(await scanHeartbeats(options), io.env);
      if (states.length === 0) {
        io.stdout.write("No heartbeat files found.\n");
      } else {
        const sorted = sortJobStates(states);
        io.stdout.write(statusTable(sorted, { color: colorEnabled(io.stdout, io.env), formatDuration }));
        io.stdout.write(`\n${statusSummary(sorted)}\n`);
      }
      setExit(healthExit(states.some((s) => s.alerting)));
    });
};

/**
 * The same bytes as `JSON.stringify({ now, jobs }, null, 2)` (docs/spec.md, "JSON output"), written 1,000 jobs at a
 * time instead of as one string the size of the whole fleet. Each slice is serialised natively
 * inside the same `{ "jobs": [...] }` frame, so its rows come out indented exactly as in the whole.
 */
async function writeStatusJson(io: CliIo, now: Date, jobs: readonly JobStateJson[]): Promise<void> {
  const head = `{\n  "now": ${JSON.stringify(now.toISOString())},\n  "jobs": [`;
  if (jobs.length === 0) {
    io.stdout.write(`${head}]\n}\n`);
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
  io.stdout.write("\n  ]\n}\n");
}

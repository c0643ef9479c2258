import { formatDuration, scanHeartbeats, sortJobStates, statusJson, type JobState } from "lastbeat";
import { colorEnabled, type RegisterCommand } from "../io.js";
import { addScanOptions, jsonOption, scanOptionsFrom, type ScanFlags } from "../options.js";
import { statusSummary, statusTable } from "../status-table.js";
import { redactStates } from "../redact.js";

export const registerStatus: RegisterCommand = (program, io, setExit) => {
  addScanOptions(
    program
      .command("status")
      .description("show every job and its status; exit 1 when a job is alerting"),
  )
    .addOption(jsonOption("print the SPEC §5 JSON object: { now, jobs: [...] }"))
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
      const states: JobState[] = redactStates(await scanHeartbeats(options), io.env);
      if (flags.json) {
        io.stdout.write(`${JSON.stringify(statusJson(states, options.now), null, 2)}\n`);
      } else if (states.length === 0) {
        io.stdout.write("No heartbeat files found.\n");
      } else {
        const sorted = sortJobStates(states);
        io.stdout.write(statusTable(sorted, { color: colorEnabled(io.stdout, io.env), formatDuration }));
        io.stdout.write(`\n${statusSummary(sorted)}\n`);
      }
      setExit(states.some((s) => s.alerting) ? 1 : 0);
    });
};

import { scanHeartbeats, type JobState } from "lastbeat";
import { formatDuration, jobRowTexts, jobStateToJson, jsonWithJobTexts, secretsIn, sortJobStates, type JobStateJson } from "lastbeat/internal";
import { plainLine } from "lastbeat/text";
import { healthExit } from "../errors.js";
import { addCronOptions, cronScan, scanStates, unmonitoredJson, type CronFlags } from "../cron-scan.js";
import type { CronEntry } from "../crontab.js";
import { colorEnabled, type CliIo, type RegisterCommand } from "../io.js";
import { addScanOptions, jsonOption, type ScanFlags } from "../options.js";
import { statusSummary, statusTable } from "../status-table.js";
import { writeParts } from "../out-file.js";
import { redactState } from "../redact.js";
import { HEARTBEAT_USE } from "../slim.js";

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
        // A fleet's worth of jobs: each state becomes its sort keys and its JSON row as soon as it
        // is evaluated, so no parsed heartbeat outlives its row, and every 1,000 rows their text
        // (jobRowTexts), so no row object outlives its text either; the output is streamed.
        let waiting: StatusRow[] = [];
        let json: JobStateJson[] = [];
        const toText = () => {
          jobRowTexts(json).forEach((text, i) => ((waiting[i] as StatusRow).text = text));
          waiting = [];
          json = [];
        };
        const row = (state: JobState): StatusRow => {
          const { job, status, ratio, alerting } = state;
          const r: StatusRow = { job, status, ratio, alerting, text: "" };
          json.push(jobStateToJson(redactState(state, secrets)));
          if (waiting.push(r) === ROWS_PER_TEXT) toText();
          return r;
        };
        const rows = await scanHeartbeats(options, (state) => row(scan.explain(state)));
        for (const state of scan.extraStates) rows.push(row(state));
        toText();
        await writeStatusJson(io, options.now, sortJobStates(rows), unmonitored);
        setExit(healthExit(rows.some((r) => r.alerting)));
        return;
      }
      const states = await scanStates(scan, io.env, HEARTBEAT_USE.status);
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

/**
 * The cron lines that run no lastbeat, one per line: where, as whom, when, what. Another user's
 * crontab is untrusted text: no terminal escapes or line breaks from it reach the reader (plainLine).
 */
function unmonitoredText(entries: readonly CronEntry[], alerting: boolean): string {
  const rows = entries.map((e) => ({
    where: plainLine(`${e.source}:${e.line}`),
    when: plainLine(e.scheduleText),
    what: `${e.user === null ? "" : `${plainLine(e.user)}: `}${plainLine(e.command, 100)}`,
  }));
  const width = rows.reduce((max, r) => Math.max(max, r.where.length), 0);
  const whenWidth = rows.reduce((max, r) => Math.max(max, r.when.length), 0);
  const lines = rows.map((r) => `  ${r.where.padEnd(width)}  ${r.when.padEnd(whenWidth)}  ${r.what}`);
  const note = alerting ? "alerting (--unmonitored alert)" : "not alerting";
  return `\nUnmonitored cron lines: ${entries.length} (${note}; wrap them in \`lastbeat run <job> --\`)\n${lines.join("\n")}\n`;
}

/** What `status --json` keeps of a job until the rows are sorted: the sort keys and the row's text. */
interface StatusRow extends Pick<JobState, "job" | "status" | "ratio" | "alerting"> {
  /** The row as printed (jobRowTexts). */
  text: string;
}

/** Rows turned into text by one stringify: fewer, larger calls are faster (see jobRowsJsonText). */
const ROWS_PER_TEXT = 1000;

/**
 * The same bytes as `JSON.stringify({ now, jobs }, null, 2)` (docs/spec.md, "JSON output"), written
 * in pieces (jsonWithJobTexts, writeParts) instead of as one string the size of the whole fleet.
 */
async function writeStatusJson(io: CliIo, now: Date, rows: readonly StatusRow[], unmonitored: readonly CronEntry[] | null): Promise<void> {
  // Only with crontabs read: the unmonitored cron lines, after the jobs.
  const head = { now: now.toISOString(), jobs: [], ...(unmonitored !== null && { unmonitored: unmonitored.map(unmonitoredJson) }) };
  await writeParts(io, undefined, jsonWithJobTexts(head, rows.map((r) => r.text)));
}

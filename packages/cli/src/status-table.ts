import { summarizeJobs } from "lastbeat/internal";
import type { JobState, JobStatus } from "lastbeat";
import { plainLine } from "lastbeat/text";

const RED = "\u001b[31m";
const YELLOW = "\u001b[33m";
const GREEN = "\u001b[32m";
const DIM = "\u001b[2m";
const BOLD = "\u001b[1m";
const RESET = "\u001b[0m";

function statusColor(status: JobStatus, alerting: boolean): string {
  if (alerting) return `${BOLD}${RED}`;
  if (status === "ok") return GREEN;
  if (status === "paused") return DIM;
  return YELLOW;
}

/** `2025-01-31 06:00Z`: minute precision is what a person reads in a table. */
function shortTime(date: Date | null): string {
  return date ? `${date.toISOString().slice(0, 16).replace("T", " ")}Z` : "never";
}

/** The `lastbeat status` table, worst first as given. Colours only the status word. */
export function statusTable(
  states: readonly JobState[],
  options: { color: boolean; formatDuration: (seconds: number) => string },
): string {
  const header = ["JOB", "STATUS", "LAST BEAT", "AGE", "INTERVAL", "RATIO", "NOTE"];
  // Job names of broken files and reasons quoting a job's message are untrusted: no terminal
  // escapes or line breaks from a heartbeat file reach the reader's terminal.
  const rows = states.map((s) => [
    plainLine(s.job),
    s.status,
    shortTime(s.lastBeatAt),
    s.ageSeconds === null ? "-" : options.formatDuration(s.ageSeconds),
    s.intervalSeconds === null ? "-" : options.formatDuration(s.intervalSeconds),
    s.ratio === null ? "-" : `${s.ratio.toFixed(1)}×`,
    plainLine(s.reason),
  ]);
  // Widest cell per column by a loop: spreading 130,000 rows into Math.max overflows the stack.
  const widths = header.map((h, i) => rows.reduce((width, r) => Math.max(width, (r[i] ?? "").length), h.length));
  const line = (cells: string[], state?: JobState) =>
    cells
      .map((cell, i) => {
        const padded = i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0);
        return state && i === 1 && options.color ? `${statusColor(state.status, state.alerting)}${padded}${RESET}` : padded;
      })
      .join("  ")
      .trimEnd();
  return `${[line(header), ...rows.map((r, i) => line(r, states[i]))].join("\n")}\n`;
}

/** `5 jobs: 3 ok, 1 late, 1 stale — 1 alerting`. */
export function statusSummary(states: readonly JobState[]): string {
  const alerting = states.filter((s) => s.alerting).length;
  return `${summarizeJobs(states)}${alerting ? ` — ${alerting} alerting` : ""}`;
}

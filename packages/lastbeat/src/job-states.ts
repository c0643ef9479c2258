import { STATUS_SEVERITY } from "./types.js";
import type { JobState, JobStatus } from "./types.js";
import { isoTime } from "./iso.js";

// What every reader (status, check, report, metrics) does with a scan's job states: order them,
// count them, print them as JSON. Kept out of evaluate.ts, which judges one job at a time.

const iso = isoTime;

const severityRank = new Map(STATUS_SEVERITY.map((status, index) => [status, index]));

/** Worst first (STATUS_SEVERITY), then the most overdue, then by name. Returns a new array. */
export function sortJobStates<T extends Pick<JobState, "job" | "status" | "ratio">>(states: readonly T[]): T[] {
  // Keys looked up once per state, not once per comparison: 100,000 states take ~1.7M comparisons.
  const keyed = states.map((state) => ({ state, rank: severityRank.get(state.status) ?? 99, ratio: state.ratio ?? 0 }));
  keyed.sort(
    (a, b) =>
      a.rank - b.rank ||
      b.ratio - a.ratio ||
      (a.state.job < b.state.job ? -1 : a.state.job > b.state.job ? 1 : 0),
  );
  return keyed.map((k) => k.state);
}

/** The per-job object of `status --json` (docs/spec.md, "JSON output"; docs/status.schema.json). */
export function jobStateToJson(state: JobState) {
  return {
    job: state.job,
    status: state.status,
    alerting: state.alerting,
    last_beat_at: state.lastBeatAt ? iso(state.lastBeatAt) : null,
    last_ok_at: state.lastOkAt ? iso(state.lastOkAt) : null,
    age_s: state.ageSeconds === null ? null : Math.round(state.ageSeconds * 1000) / 1000,
    interval_s: state.intervalSeconds,
    ratio: state.ratio === null ? null : Math.round(state.ratio * 1000) / 1000,
    due_at: state.dueAt ? iso(state.dueAt) : null,
    reason: state.reason,
    file: state.file,
  };
}

export type JobStateJson = ReturnType<typeof jobStateToJson>;

/**
 * One row of `status --json` as it sits in the document's `"jobs"` array: the text
 * `JSON.stringify({ now, jobs }, null, 2)` gives that row (jobStateToJson, same keys in the same
 * order), indented by four spaces, without the comma between rows. Written out field by field:
 * only the free-text fields (job, status, reason, file) go through JSON.stringify; times are
 * isoTime's digits and numbers are what JSON.stringify makes of them. A scan of 100,000 jobs
 * builds 100,000 rows, and V8's indenting stringifier costs several times as much per row.
 */
export function jobStateJsonText(state: JobState): string {
  // Joined, not concatenated: one flat string, where `+` would leave a rope of twenty-odd parts
  // that a fleet's rows would hold until they are printed (twice the memory).
  return [
    '    {\n      "job": ',
    JSON.stringify(state.job),
    ',\n      "status": ',
    JSON.stringify(state.status),
    ',\n      "alerting": ',
    state.alerting ? "true" : "false",
    ',\n      "last_beat_at": ',
    timeText(state.lastBeatAt),
    ',\n      "last_ok_at": ',
    timeText(state.lastOkAt),
    ',\n      "age_s": ',
    roundedText(state.ageSeconds),
    ',\n      "interval_s": ',
    numberText(state.intervalSeconds),
    ',\n      "ratio": ',
    roundedText(state.ratio),
    ',\n      "due_at": ',
    timeText(state.dueAt),
    ',\n      "reason": ',
    JSON.stringify(state.reason),
    ',\n      "file": ',
    state.file === null ? "null" : JSON.stringify(state.file),
    "\n    }",
  ].join("");
}

/** An isoTime in quotes: digits, `-`, `+`, `T`, `:`, `.` and `Z` need no escaping. */
const timeText = (date: Date | null) => (date ? `"${iso(date)}"` : "null");
/** What JSON.stringify writes for a number: its shortest text, or null for NaN and ±Infinity. */
const numberText = (n: number | null) => (n === null || !Number.isFinite(n) ? "null" : String(n));
/** jobStateToJson's rounding to milliseconds, as text. */
const roundedText = (n: number | null) => (n === null ? "null" : numberText(Math.round(n * 1000) / 1000));

/** The whole `status --json` object (docs/spec.md, "JSON output"; docs/status.schema.json). */
export function statusJson(states: readonly JobState[], now: Date): { now: string; jobs: JobStateJson[] } {
  return { now: iso(now), jobs: sortJobStates(states).map(jobStateToJson) };
}

/** `7 jobs: 5 ok, 1 late, 1 stale`: healthiest first, as a reader tallies good news then bad. */
export function summarizeJobs(states: readonly JobState[]): string {
  const counts = new Map<JobStatus, number>();
  for (const state of states) counts.set(state.status, (counts.get(state.status) ?? 0) + 1);
  const jobs = `${states.length} ${states.length === 1 ? "job" : "jobs"}`;
  const parts = [...STATUS_SEVERITY]
    .reverse()
    .filter((status) => counts.has(status))
    .map((status) => `${counts.get(status)} ${status}`);
  return parts.length ? `${jobs}: ${parts.join(", ")}` : jobs;
}

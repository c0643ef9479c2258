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
 * The rows of `status --json` from `rows` (in order), as they sit in the document's `"jobs"` array:
 * exactly the text `JSON.stringify({ now, jobs }, null, 2)` gives them, without the brackets
 * around them or a comma after the last. One native stringify per call: `status --json` prints a
 * fleet 1,000 rows at a time, and one call for 1,000 rows costs a third of what building each
 * row's text on its own does.
 */
export function jobRowsJsonText(rows: readonly JobStateJson[]): string {
  if (rows.length === 0) return "";
  const whole = JSON.stringify({ jobs: rows }, null, 2);
  // `{\n  "jobs": [\n` … `\n  ]\n}`: what is around the rows is fixed.
  return whole.slice(ROWS_START, whole.length - ROWS_END);
}

const ROWS_START = '{\n  "jobs": [\n'.length;
const ROWS_END = "\n  ]\n}".length;

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

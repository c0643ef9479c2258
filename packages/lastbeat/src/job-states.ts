import { CHECKER_JOB, STATUS_SEVERITY } from "./types.js";
import type { JobState, JobStatus } from "./types.js";
import { isoTime } from "./iso.js";

// What every reader (status, check, report, metrics) does with a scan's job states: order them,
// count them, print them as JSON. Kept out of evaluate.ts, which judges one job at a time.

const iso = isoTime;

const severityRank = new Map(STATUS_SEVERITY.map((status, index) => [status, index]));

/**
 * Worst first (STATUS_SEVERITY), then the most overdue, then by name (UTF-16 order, as `<`); a
 * missing ratio counts as 0. Stable. Returns a new array.
 *
 * A fleet's states share few distinct ratios (ages and intervals in whole seconds), so they are
 * grouped by severity and ratio, the distinct ratios sorted natively (a Float64Array), and only
 * each group's names compared: 100,000 states cost a third less than with one comparison function
 * over all of them (~1.7M calls).
 */
export function sortJobStates<T extends Pick<JobState, "job" | "status" | "ratio">>(states: readonly T[]): T[] {
  const bySeverity = new Map<number, Map<number, T[]>>();
  for (const state of states) {
    const rank = severityRank.get(state.status) ?? STATUS_SEVERITY.length;
    const ratio = state.ratio ?? 0;
    let byRatio = bySeverity.get(rank);
    if (byRatio === undefined) bySeverity.set(rank, (byRatio = new Map()));
    // Map keys are compared SameValueZero: -0 joins 0, NaN its own group (sorted as the largest).
    const group = byRatio.get(ratio);
    if (group === undefined) byRatio.set(ratio, [state]);
    else group.push(state);
  }
  const sorted: T[] = [];
  for (const rank of [...bySeverity.keys()].sort((a, b) => a - b)) {
    const byRatio = bySeverity.get(rank) as Map<number, T[]>;
    const ratios = Float64Array.from(byRatio.keys()).sort();
    for (let i = ratios.length - 1; i >= 0; i--) {
      const group = byRatio.get(ratios[i] as number) as T[];
      if (group.length > 1) group.sort(byName);
      for (const state of group) sorted.push(state);
    }
  }
  return sorted;
}

const byName = (a: { job: string }, b: { job: string }) => (a.job < b.job ? -1 : a.job > b.job ? 1 : 0);

/** `heartbeat-checker`, or `heartbeat-checker@<dir>` when a scan of several folders finds one in each. */
export function isCheckerJob(job: string): boolean {
  return job === CHECKER_JOB || job.startsWith(`${CHECKER_JOB}@`);
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
 * `rows` (in order) as they sit in a document's top-level `"jobs"` array (`status --json`, the
 * report's JSON): exactly the text `JSON.stringify({ now, jobs }, null, 2)` gives them, without the
 * brackets around them or a comma after the last. One native stringify per call: a fleet is
 * printed 1,000 rows at a time, and one call for 1,000 rows costs a third of what building each
 * row's text on its own does.
 */
export function jobRowsJsonText(rows: readonly object[]): string {
  if (rows.length === 0) return "";
  const whole = JSON.stringify({ jobs: rows }, null, 2);
  // `{\n  "jobs": [\n` … `\n  ]\n}`: what is around the rows is fixed.
  return whole.slice(ROWS_START, whole.length - ROWS_END);
}

const ROWS_START = '{\n  "jobs": [\n'.length;
const ROWS_END = "\n  ]\n}".length;

/**
 * Each of `rows` as text, exactly as it sits in `jobRowsJsonText(rows)`: that one stringify, cut
 * where a row ends. A row's own closing brace is the only one at its indentation (anything nested
 * in it is indented deeper, and a string's line breaks are escaped), so the cuts are certain.
 *
 * `status --json` turns each 1,000 rows into text as they are scanned, while they still lie side by
 * side in memory, and keeps only the text to sort and print: stringifying them after the sort
 * visits them scattered, a third slower (100,000 rows: ~50 ms), and keeps every row object alive.
 */
export function jobRowTexts(rows: readonly object[]): string[] {
  const text = jobRowsJsonText(rows);
  const texts: string[] = [];
  let start = 0;
  for (let end = text.indexOf(ROW_BREAK); end >= 0; end = text.indexOf(ROW_BREAK, start)) {
    texts.push(text.slice(start, end + ROW_END_LENGTH));
    start = end + ROW_BREAK.length - ROW_OPEN_LENGTH;
  }
  if (rows.length > 0) texts.push(text.slice(start));
  if (texts.length !== rows.length) throw new Error(`jobRowTexts: ${rows.length} rows gave ${texts.length} texts`);
  return texts;
}

/** Where one row of jobRowsJsonText ends and the next begins. */
const ROW_BREAK = "\n    },\n    {";
const ROW_END_LENGTH = "\n    }".length;
const ROW_OPEN_LENGTH = "    {".length;

/**
 * `JSON.stringify(document, null, 2)` and a newline, for a `document` whose top-level `jobs` is
 * `states.map(row)`, in pieces: the text around the rows, then the rows `rowsPerPiece` at a time,
 * each built only when its piece is asked for. `head` is the document with `jobs: []` where the rows go.
 *
 * `status --json` and the report's JSON are written this way. The report's carries each job's
 * past runs: 100,000 jobs of 20 runs are ~350 MB of text, and near 150,000 one string of it would
 * pass V8's longest (~512 MiB) and crash the report.
 */
export function* jsonWithJobs<S>(
  head: { readonly [key: string]: unknown; jobs: readonly never[] },
  states: readonly S[],
  row: (state: S) => object,
  rowsPerPiece = ROWS_PER_PIECE,
): Generator<string> {
  function* pieces(): Generator<string> {
    for (let start = 0; start < states.length; start += rowsPerPiece) {
      yield jobRowsJsonText(states.slice(start, start + rowsPerPiece).map(row));
    }
  }
  yield* jsonWithJobTexts(head, pieces());
}

/**
 * jsonWithJobs' text from rows already turned into text, in order: one row each (jobRowTexts) or
 * several (jobRowsJsonText), as long as none is empty.
 */
export function* jsonWithJobTexts(head: { readonly [key: string]: unknown; jobs: readonly never[] }, texts: Iterable<string>): Generator<string> {
  const whole = JSON.stringify(head, null, 2);
  // Only top-level keys follow a newline and two spaces (deeper ones more; a string's own line
  // breaks are escaped): this is the one place for the rows.
  const at = whole.indexOf(EMPTY_JOBS);
  if (at < 0) throw new Error("jsonWithJobs: the document has no top-level jobs: []");
  const before = whole.slice(0, at + EMPTY_JOBS.length - 1);
  const after = whole.slice(at + EMPTY_JOBS.length);
  let first = true;
  for (const text of texts) {
    if (first) yield `${before}\n`;
    yield first ? text : `,\n${text}`;
    first = false;
  }
  yield first ? `${before}]${after}\n` : `\n  ]${after}\n`;
}

const EMPTY_JOBS = '\n  "jobs": []';
/**
 * For rows carrying past runs, pieces small enough for V8's young generation (a string over
 * ~128 KiB is allocated where only a full collection frees it): the brief over 100,000 jobs of 20
 * runs peaked at 1.7 GB with 1,000 rows a piece, 1.0 GB with 100.
 */
const ROWS_PER_PIECE = 100;

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

import { MAX_RUNS } from "./types.js";
import type { Declaration, Heartbeat, RunRecord } from "./types.js";

/*
 * A job's run history (the `runs` of its heartbeat) and what the failure and recovery thresholds
 * make of it (docs/spec.md, "Thresholds"). Pure: the writer carries the history from beat to beat,
 * the status model judges it.
 */

/** The run a finished (`ok`/`fail`) beat records about itself. */
export function runOf(
  heartbeat: Pick<Heartbeat, "at" | "duration_ms" | "exit_code" | "message"> & { status: RunRecord["status"] },
): RunRecord {
  const run: RunRecord = { at: heartbeat.at, status: heartbeat.status };
  if (heartbeat.duration_ms !== undefined) run.duration_ms = heartbeat.duration_ms;
  if (heartbeat.exit_code !== undefined) run.exit_code = heartbeat.exit_code;
  if (heartbeat.message !== undefined) run.message = heartbeat.message;
  return run;
}

/**
 * The history a beat carries over from the one it replaces: its `runs`, or, for a finished beat
 * written without them (an older lastbeat, another writer), that beat's own run.
 */
export function historyOf(previous: Heartbeat | null): RunRecord[] {
  if (!previous) return [];
  if (previous.runs !== undefined) return previous.runs;
  return previous.status === "start" ? [] : [runOf({ ...previous, status: previous.status })];
}

/**
 * The `runs` of a new beat: a finished beat's own run first, then the newest earlier ones; a
 * `start` beat changes nothing. Only the newest record keeps its `message` (what a `start` beat
 * needs to repeat the failed run's reason): up to 1 KiB each, escaped, twenty of them could pass 64 KiB.
 */
export function nextRuns(own: RunRecord | null, earlier: readonly RunRecord[]): RunRecord[] {
  const runs = own === null ? earlier.slice(0, MAX_RUNS) : [own, ...earlier.slice(0, MAX_RUNS - 1)];
  return runs.map((run, i) => (i === 0 || run.message === undefined ? run : withoutMessage(run)));
}

function withoutMessage(run: RunRecord): RunRecord {
  const { message: _message, ...rest } = run;
  return rest;
}

/**
 * The finished beat a `start` beat's history ends with, as that beat was judged: its newest run,
 * with its message and exit code, and the same history. Null without a finished run.
 */
export function lastFinished(heartbeat: Heartbeat): Heartbeat | null {
  const head = heartbeat.runs?.[0];
  if (heartbeat.status !== "start" || head === undefined) return null;
  const { message: _message, exit_code: _exitCode, duration_ms: _duration, ...rest } = heartbeat;
  return {
    ...rest,
    status: head.status,
    at: head.at,
    ...(head.exit_code !== undefined && { exit_code: head.exit_code }),
    ...(head.message !== undefined && { message: head.message }),
  };
}

/**
 * The beat's finished runs, newest first, with its own run at the head even when a foreign writer
 * left it out: a `fail` beat always counts as at least one failure.
 */
function finishedRuns(heartbeat: Heartbeat, status: RunRecord["status"]): readonly RunRecord[] {
  const runs = heartbeat.runs ?? [];
  const head = runs[0];
  return head !== undefined && head.at === heartbeat.at && head.status === status ? runs : [runOf({ ...heartbeat, status }), ...runs];
}

/** How many runs from `from` on have `status`, in a row. */
function streak(runs: readonly RunRecord[], status: RunRecord["status"], from = 0): number {
  let i = from;
  while (i < runs.length && runs[i]?.status === status) i++;
  return i - from;
}

/** What a `fail` beat's history says: below `alertAfter` failures in a row the job is flaky. */
export type FailVerdict =
  | { alerting: false; failures: number }
  | { alerting: true; failures: number; since: Date };

/** Judges a `fail` beat. */
export function judgeFailure(heartbeat: Heartbeat, alertAfter: number): FailVerdict {
  // The common case, checked without building anything: scans judge 100,000 beats.
  if (alertAfter <= 1 && heartbeat.runs === undefined) return { alerting: true, failures: 1, since: new Date(heartbeat.at) };
  const runs = finishedRuns(heartbeat, "fail");
  const failures = streak(runs, "fail");
  if (failures < alertAfter) return { alerting: false, failures };
  // Since the run that reached the threshold: the same instant whichever later failure is read.
  return { alerting: true, failures, since: new Date((runs[failures - alertAfter] as RunRecord).at) };
}

/** An `ok` beat still alerting: too few ok runs since a failure streak that alerted. */
export interface Recovering {
  oks: number;
  lastFailure: RunRecord;
  /** When that failure streak reached the alert threshold. */
  since: Date;
}

/** Judges an `ok` beat: null when it is not recovering. */
export function judgeRecovery(heartbeat: Heartbeat, alertAfter: number, recoverAfter: number): Recovering | null {
  // An ok beat is one ok run at least; without a history there was no failure streak before it.
  if (recoverAfter <= 1 || heartbeat.runs === undefined) return null;
  const runs = finishedRuns(heartbeat, "ok");
  const oks = streak(runs, "ok");
  if (oks >= recoverAfter) return null;
  const failures = streak(runs, "fail", oks);
  // A streak shorter than alertAfter never alerted (the job was flaky): the ok simply resets it.
  if (failures < alertAfter) return null;
  return {
    oks,
    lastFailure: runs[oks] as RunRecord,
    since: new Date((runs[oks + failures - alertAfter] as RunRecord).at),
  };
}

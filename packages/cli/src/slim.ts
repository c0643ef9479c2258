import type { Heartbeat, JobState } from "lastbeat";

/*
 * What each reader keeps of a job's parsed heartbeat once the job is judged. A fleet's states are
 * all held until they are rendered, and a heartbeat can carry 20 past runs besides its message and
 * output: each reader keeps only the fields it renders (test/cli/slim.test.ts renders every reader
 * from whole and slimmed states and compares). A reader that starts showing a field adds it here.
 */

/** Optional heartbeat fields a reader renders; `job`, `status`, `at` and `interval_s` are always kept. */
export type HeartbeatUse = readonly Exclude<keyof Heartbeat, "job" | "status" | "at" | "interval_s">[];

export const HEARTBEAT_USE = {
  /** The `status` table: nothing beyond the state (`status --json` keeps its own rows). */
  status: [],
  /** `metrics`: the last run's length and exit code. */
  metrics: ["duration_ms", "exit_code"],
  /** `check`: the message and the end of the output; the journal dates a run by its start. */
  check: ["message", "output_tail", "started_at"],
  /** `report`: the panel's run length, exit code, start, message and output, and the past runs. */
  report: ["duration_ms", "exit_code", "started_at", "message", "output_tail", "runs"],
} as const satisfies Record<string, HeartbeatUse>;

/** `state` with its heartbeat cut to the always-kept fields and `use`. */
export function slimState(state: JobState, use: HeartbeatUse): JobState {
  const whole = state.heartbeat;
  if (whole === null) return state;
  const kept: Record<string, unknown> = { job: whole.job, status: whole.status, at: whole.at, interval_s: whole.interval_s };
  for (const field of use) if (whole[field] !== undefined) kept[field] = whole[field];
  return { ...state, heartbeat: kept as unknown as Heartbeat };
}

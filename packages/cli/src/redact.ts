import type { JobState } from "lastbeat";
import { redact } from "lastbeat/internal";

/**
 * A job state with every token value (`secretsIn(env)`) cut out of the text that came from
 * heartbeat files (a job may have echoed its environment into its message or output), before any
 * of it is printed, posted to a forge or written to the brief or metrics.
 */
export function redactState<T extends JobState>(state: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return state;
  const hb = state.heartbeat;
  const heartbeat = hb && {
    ...hb,
    ...(hb.message !== undefined && { message: redact(hb.message, secrets) }),
    ...(hb.output_tail !== undefined && { output_tail: redact(hb.output_tail, secrets) }),
    // The newest run keeps its run's message, which the brief's JSON shows with the history.
    ...(hb.runs?.some((run) => run.message !== undefined) && {
      runs: hb.runs.map((run) => (run.message === undefined ? run : { ...run, message: redact(run.message, secrets) })),
    }),
  };
  return { ...state, reason: redact(state.reason, secrets), heartbeat };
}

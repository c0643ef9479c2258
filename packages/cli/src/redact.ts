import type { JobState } from "lastbeat";
import { redact, secretsIn } from "lastbeat/internal";

/**
 * Job states with every token value cut out of the text that came from heartbeat files (a job
 * may have echoed its environment into its message or output), before any of it is printed,
 * posted to a forge or written to the brief or metrics.
 */
export function redactStates<T extends JobState>(states: readonly T[], env: Record<string, string | undefined>): T[] {
  const secrets = secretsIn(env);
  return secrets.length === 0 ? [...states] : states.map((state) => redactState(state, secrets));
}

export function redactState<T extends JobState>(state: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return state;
  const heartbeat = state.heartbeat && {
    ...state.heartbeat,
    ...(state.heartbeat.message !== undefined && { message: redact(state.heartbeat.message, secrets) }),
    ...(state.heartbeat.output_tail !== undefined && { output_tail: redact(state.heartbeat.output_tail, secrets) }),
  };
  return { ...state, reason: redact(state.reason, secrets), heartbeat };
}

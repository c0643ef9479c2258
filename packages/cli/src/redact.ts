import type { JobState } from "lastbeat";
/** Environment variables whose values must never reach any output, log or heartbeat. */
export const SECRET_ENV = ["LASTBEAT_TOKEN", "GITHUB_TOKEN", "GITEA_TOKEN", "FORGEJO_TOKEN", "GH_TOKEN"] as const;

/** The token values present in `env`; very short values are ignored (they would redact words). */
export function secretsIn(env: Record<string, string | undefined>): string[] {
  return SECRET_ENV.map((name) => env[name]).filter((v): v is string => v !== undefined && v.length >= 6);
}

/** `text` with every secret replaced by `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join("***");
  return out;
}

/**
 * Job states with every token value cut out of the text that came from heartbeat files (a job
 * may have echoed its environment into its message or output), before any of it is printed,
 * posted to a forge or written to the brief or metrics.
 */
export function redactStates<T extends JobState>(states: readonly T[], env: Record<string, string | undefined>): T[] {
  const secrets = secretsIn(env);
  if (secrets.length === 0) return [...states];
  return states.map((state) => {
    const heartbeat = state.heartbeat && {
      ...state.heartbeat,
      ...(state.heartbeat.message !== undefined && { message: redact(state.heartbeat.message, secrets) }),
      ...(state.heartbeat.output_tail !== undefined && { output_tail: redact(state.heartbeat.output_tail, secrets) }),
    };
    return { ...state, reason: redact(state.reason, secrets), heartbeat };
  });
}

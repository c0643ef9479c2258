/** Environment variables whose values must never reach any output, log, heartbeat or issue. */
export const SECRET_ENV = ["LASTBEAT_TOKEN", "GITHUB_TOKEN", "GITEA_TOKEN", "FORGEJO_TOKEN", "GH_TOKEN", "GITLAB_TOKEN"] as const;

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

import { redact as redactSecrets } from "lastbeat/internal";

/** A forge could not be synced: the CLI exits 3 and the next run reconciles. */
export class ForgeError extends Error {
  override readonly name = "ForgeError";
  readonly code = "E_FORGE";
  /** HTTP status when the forge answered, else undefined (connection refused, timeout). */
  readonly status: number | undefined;
  /**
   * True when a write may or may not have happened (5xx, timeout, dropped connection): a create
   * must not be sent again before listing.
   */
  readonly unclear: boolean;

  constructor(message: string, options: { status?: number; unclear?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status;
    this.unclear = options.unclear ?? false;
  }
}

/** Removes the token from text that is about to leave the process (`***`, as everywhere else). */
export function redact(text: string, secret: string | undefined): string {
  return secret ? redactSecrets(text, [secret]) : text;
}

/** Whether an answer leaves a write in doubt: no answer at all, a timeout or a server error. */
export function isUnclearStatus(status: number | undefined): boolean {
  return status === undefined || status >= 500 || status === 408;
}

/** `ECONNREFUSED`, `timed out`, …: the useful part of a fetch failure. */
export function networkReason(error: unknown): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string; name?: string } };
  if (e?.name === "TimeoutError" || e?.cause?.name === "TimeoutError") return "timed out";
  if (e?.name === "AbortError") return "timed out";
  const code = e?.cause?.code;
  if (code) return code;
  return e?.cause?.message ?? e?.message ?? String(error);
}

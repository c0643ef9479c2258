/** Stable error codes; the CLI maps them to exit codes and one stderr line. */
export type LastbeatErrorCode =
  | "E_JOB_NAME"
  | "E_DURATION"
  | "E_OPTION"
  | "E_SCHEDULE"
  | "E_MANIFEST"
  | "E_DIR"
  | "E_UNSAFE_DIR"
  | "E_SYMLINK"
  | "E_WRITE"
  | "E_READ";

export class LastbeatError extends Error {
  override readonly name = "LastbeatError";
  readonly code: LastbeatErrorCode;

  constructor(code: LastbeatErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * A file-system error in words a cron mail can carry: `no space left on device (ENOSPC)`. One of
 * lastbeat's own errors (its code is no errno) is its message: `/proc takes no new folders (…)`.
 */
export function errnoText(error: unknown): string {
  if (error instanceof LastbeatError) return error.message;
  const e = error as NodeJS.ErrnoException;
  const messages: Record<string, string> = {
    ENOSPC: "no space left on device (ENOSPC)",
    EACCES: "permission denied (EACCES)",
    EPERM: "operation not permitted (EPERM)",
    EROFS: "read-only file system (EROFS)",
    ENOENT: "no such file or directory (ENOENT)",
    ENOTDIR: "not a directory (ENOTDIR)",
    EDQUOT: "disk quota exceeded (EDQUOT)",
    ELOOP: "is a symbolic link (ELOOP)",
  };
  return (e?.code && messages[e.code]) ?? e?.code ?? (e instanceof Error ? e.message : String(error));
}

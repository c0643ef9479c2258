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
  | "E_WRITE";

export class LastbeatError extends Error {
  override readonly name = "LastbeatError";
  readonly code: LastbeatErrorCode;

  constructor(code: LastbeatErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

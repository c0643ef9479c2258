/** What a command may touch of the outside world; tests pass their own. */
export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  env: Record<string, string | undefined>;
  cwd: string;
  /** The clock; `--now` overrides it per command. */
  now: () => Date;
  /** Waits between forge retries (backoff, `retry-after`); tests pass one that returns at once. */
  sleep?: (ms: number) => Promise<void>;
}

export interface OutputStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  /**
   * Raw bytes: `lastbeat run` passes its command's output through unchanged (a `pg_dump` piped
   * through it must stay byte-exact). Without it, the output is decoded as UTF-8 text.
   */
  writeBytes?(chunk: Uint8Array): unknown;
  /**
   * Resolves once the stream has flushed what it buffered: a command printing megabytes waits
   * for it after a `write` that returned false, so its output never piles up in memory.
   */
  drained?(): Promise<void>;
  /**
   * The first write that failed other than by the reader going away (EPIPE): a full disk or an
   * I/O error under `lastbeat metrics > file`. Null while none has.
   */
  failure?(): NodeJS.ErrnoException | null;
}

/**
 * Every command module exports a registrar: it adds its command to the program and reports its
 * exit code through `setExit` (0/1); errors are thrown and mapped to exit codes in errors.ts.
 */
export type RegisterCommand = (
  program: import("commander").Command,
  io: CliIo,
  setExit: (code: number) => void,
) => void;

/** Colours only on a terminal and never with `NO_COLOR` set (https://no-color.org). */
export function colorEnabled(stream: OutputStream, env: CliIo["env"]): boolean {
  return stream.isTTY === true && !env.NO_COLOR;
}

import type { CliIo } from "@lastbeat/cli";

export interface FakeIo extends CliIo {
  out: () => string;
  err: () => string;
  /** The waits the command asked for (forge backoff), in order; none of them really waited. */
  sleeps: () => number[];
}

/** An in-process CliIo: captured output, a given env and cwd, a pinned clock, a backoff that never waits. */
export function fakeIo(options: { env?: Record<string, string | undefined>; cwd?: string; now?: Date; tty?: boolean } = {}): FakeIo {
  let out = "";
  let err = "";
  const sleeps: number[] = [];
  const now = options.now ?? new Date("2025-01-31T06:00:00Z");
  return {
    stdout: { write: (chunk: string) => (out += chunk), isTTY: options.tty ?? false },
    stderr: { write: (chunk: string) => (err += chunk), isTTY: false },
    env: { HOME: "/nonexistent-home", ...options.env },
    cwd: options.cwd ?? process.cwd(),
    now: () => now,
    sleep: async (ms: number) => void sleeps.push(ms),
    out: () => out,
    sleeps: () => [...sleeps],
    err: () => err,
  };
}

import { CommanderError } from "commander";
import type { LastbeatErrorCode } from "lastbeat";
import type { OutputStream } from "./io.js";

/**
 * The exit codes of every command (docs/spec.md, "Exit codes and errors"). `bug` is sysexits'
 * EX_SOFTWARE, far from the 0–3 a cron wrapper scripts against.
 */
export const EXIT = {
  healthy: 0,
  alerting: 1,
  usage: 2,
  forge: 3,
  bug: 70,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** How a command that read the jobs ends: 1 while any job is alerting, so cron notices. */
export function healthExit(alerting: boolean): ExitCode {
  return alerting ? EXIT.alerting : EXIT.healthy;
}

/** A bad flag, value or configuration: exit code 2, one line on stderr. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly code = "E_USAGE";
}

/**
 * Every error the CLI expects, by its stable `code`, and the exit code it ends with. The
 * `satisfies` makes a new library error code a compile error until it has a row here. Anything
 * thrown that matches no row (and is neither commander's nor the operating system's) is a bug.
 */
const EXIT_BY_CODE = {
  // LastbeatError: the library refused a job name, a value, a schedule, the manifest, the
  // folder, or could not write the heartbeat (full disk, read-only, permission denied).
  E_JOB_NAME: EXIT.usage,
  E_DURATION: EXIT.usage,
  E_OPTION: EXIT.usage,
  E_SCHEDULE: EXIT.usage,
  E_MANIFEST: EXIT.usage,
  E_DIR: EXIT.usage,
  E_UNSAFE_DIR: EXIT.usage,
  E_SYMLINK: EXIT.usage,
  E_WRITE: EXIT.usage,
  E_READ: EXIT.usage,
  // UsageError: a flag or a combination of flags the CLI refuses; a file it cannot write.
  E_USAGE: EXIT.usage,
  // ForgeError (@lastbeat/forge, loaded lazily so matched by code): not synced, the next run
  // reconciles.
  E_FORGE: EXIT.forge,
  // LockError (lock.ts): another checker held the lock past the wait, or no lock file could be
  // made; this run did not sync either.
  E_LOCK: EXIT.forge,
} as const satisfies Record<LastbeatErrorCode | "E_USAGE" | "E_FORGE" | "E_LOCK", ExitCode>;

/** The exit code a thrown value ends the CLI with. */
export function exitCodeOf(error: unknown): ExitCode {
  return classify(error).exit;
}

/** What a thrown value means for the user, and the exit code it ends with. */
function classify(error: unknown): { exit: ExitCode; kind: "quiet" | "expected" | "bug" } {
  if (error instanceof CommanderError) {
    // Help and version are "errors" only to exitOverride; commander has printed the rest already
    // (`lastbeat` alone printed the help on stderr: no command is a usage error).
    const shown = error.code === "commander.helpDisplayed" || error.code === "commander.version";
    return { exit: shown ? EXIT.healthy : EXIT.usage, kind: "quiet" };
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && Object.hasOwn(EXIT_BY_CODE, code)) {
    return { exit: EXIT_BY_CODE[code as keyof typeof EXIT_BY_CODE], kind: "expected" };
  }
  // The machine refused (EACCES on a lock file, EROFS, …): configuration, and Node's message
  // names the path. Node's own ERR_* codes carry no syscall: those are bugs.
  if (typeof code === "string" && typeof (error as { syscall?: unknown }).syscall === "string") {
    return { exit: EXIT.usage, kind: "expected" };
  }
  return { exit: EXIT.bug, kind: "bug" };
}

/**
 * The single place an error becomes output and an exit code: one line on stderr (the stack only
 * with LASTBEAT_DEBUG=1); a bug says so and asks to be reported.
 */
export function reportError(error: unknown, stderr: OutputStream, env: Record<string, string | undefined>): ExitCode {
  const { exit, kind } = classify(error);
  if (kind === "quiet") return exit;
  const what = oneLine(error instanceof Error ? error.message : String(error));
  if (kind === "bug") {
    const name = error instanceof Error ? error.name : typeof error;
    stderr.write(
      `error: bug in lastbeat: ${name}: ${what} (please report it with this line and the output of lastbeat --version; LASTBEAT_DEBUG=1 shows where it happened)\n`,
    );
  } else {
    stderr.write(`error: ${what}\n`);
  }
  if (env.LASTBEAT_DEBUG === "1" && error instanceof Error && error.stack) stderr.write(`${error.stack}\n`);
  return exit;
}

function oneLine(text: string): string {
  return text.trim().replace(/\s*\n\s*/g, " ");
}

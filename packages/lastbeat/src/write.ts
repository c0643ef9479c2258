import { lstat, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { writeFileAtomically } from "./atomic.js";
import { resolveSafeHeartbeatDir } from "./dir.js";
import { parseDuration, parseGrace } from "./duration.js";
import { LastbeatError, errnoText } from "./errors.js";
import { scheduleInterval } from "./manifest.js";
import { validateJobName } from "./job-name.js";
import { cronTimeZone } from "./zone.js";
import { configErrorRuns, isThreshold, parseHeartbeat } from "./parse.js";
import { readBoundedFileSync } from "./read.js";
import { historyOf, nextRuns, runOf } from "./runs.js";
import { validateSchedule, validateTimeZone } from "./schedule.js";
import { redact, secretsIn } from "./secrets.js";
import { firstBytes, lastBytes, plainLine } from "./text.js";
import { HEARTBEAT_FORMAT, MAX_HEARTBEAT_BYTES, MAX_MESSAGE_BYTES, MAX_OUTPUT_TAIL_BYTES, MAX_THRESHOLD } from "./types.js";
import type { BeatStatus, Heartbeat, RunRecord } from "./types.js";

export interface WriteHeartbeatOptions {
  /**
   * How often the job runs: `300`, `90s`, `5m`, `1h`, `1d`, `1w`. Optional with a `schedule`:
   * then the shortest gap between the schedule's runs, as a manifest derives it.
   */
  every?: string | number;
  dir?: string;
  status?: BeatStatus;
  schedule?: string;
  /**
   * The zone of `schedule`. Default: the zone cron reads it in, `CRON_TZ` from `env` (cronie) else
   * the machine's (/etc/localtime), never `$TZ`: pass it when your own scheduler follows `$TZ`.
   */
  tz?: string;
  /** `"2x"` (default) or a duration such as `"30m"`. */
  grace?: string;
  maxRuntime?: string | number;
  /** Failed runs in a row before the job alerts (1–20, default 1); fewer make it `flaky`. */
  alertAfter?: number;
  /** Ok runs in a row before an alerting job recovers (1–20, default 1). */
  recoverAfter?: number;
  message?: string;
  /** Throw on failure instead of reporting on stderr and returning. */
  strict?: boolean;
  /** Filled by wrappers such as `withHeartbeat` and `lastbeat run`. */
  startedAt?: Date;
  durationMs?: number;
  exitCode?: number;
  signal?: string;
  outputTail?: string;
  runId?: string;
  pid?: number;
  /** The clock, for tests; defaults to the real time. */
  now?: Date;
  env?: Record<string, string | undefined>;
  /** Where a non-strict failure is reported; defaults to process.stderr. */
  stderr?: { write(chunk: string): unknown };
}

/** The heartbeat as written, plus where it went and, when not strict, the failure if any. */
export type WrittenHeartbeat = Heartbeat & { file: string | null; error?: LastbeatError };

let cachedHost: string | undefined;
const STATUSES: readonly BeatStatus[] = ["ok", "fail", "start"];

/**
 * Builds and validates the heartbeat record; throws LastbeatError naming the bad option.
 * `earlier` is the history carried from the beat being replaced (by default, `previous`'s).
 */
export function buildHeartbeat(
  job: string,
  options: WriteHeartbeatOptions,
  previous?: Heartbeat | null,
  earlier: readonly RunRecord[] = historyOf(previous ?? null),
): Heartbeat {
  validateJobName(job);
  const status = options.status ?? "ok";
  if (!STATUSES.includes(status)) {
    throw new LastbeatError("E_OPTION", `status must be ok, fail or start, got ${JSON.stringify(status)}`);
  }
  if (options.every === undefined && options.schedule === undefined) {
    throw new LastbeatError("E_OPTION", `job ${job}: "every" (e.g. "5m") or a "schedule" is required`);
  }
  const now = options.now ?? new Date();
  const heartbeat: Heartbeat = {
    format: HEARTBEAT_FORMAT,
    job,
    status,
    at: now.toISOString(),
    interval_s: NaN,
  };
  if (options.tz !== undefined) heartbeat.tz = validateTimeZone(options.tz);
  if (options.schedule !== undefined) {
    // Cron reads a schedule in the machine's zone (or cronie in CRON_TZ's), whatever a crontab's
    // TZ= line gives the job: record it, so a checker elsewhere agrees.
    heartbeat.tz ??= cronTimeZone(options.env ?? process.env);
    heartbeat.schedule = validateSchedule(options.schedule, heartbeat.tz);
  }
  heartbeat.interval_s =
    options.every !== undefined ? parseDuration(options.every, "every") : scheduleInterval(heartbeat.schedule as string, heartbeat.tz);
  if (options.grace !== undefined) {
    parseGrace(options.grace);
    heartbeat.grace = options.grace;
  }
  if (options.maxRuntime !== undefined) heartbeat.max_runtime_s = parseDuration(options.maxRuntime, "maxRuntime");
  if (options.alertAfter !== undefined) heartbeat.alert_after = threshold(options.alertAfter, "alertAfter");
  if (options.recoverAfter !== undefined) heartbeat.recover_after = threshold(options.recoverAfter, "recoverAfter");
  const lastOk = status === "ok" ? heartbeat.at : previous?.status === "ok" ? previous.at : previous?.last_ok_at;
  if (lastOk !== undefined) heartbeat.last_ok_at = lastOk;
  if (options.startedAt !== undefined) heartbeat.started_at = options.startedAt.toISOString();
  if (options.durationMs !== undefined) heartbeat.duration_ms = Math.max(0, Math.round(options.durationMs));
  if (options.exitCode !== undefined) heartbeat.exit_code = options.exitCode;
  if (options.signal !== undefined) heartbeat.signal = options.signal;
  if (options.runId !== undefined) heartbeat.run_id = options.runId;
  heartbeat.pid = options.pid ?? process.pid;
  heartbeat.host = (cachedHost ??= hostname());
  // What a job says may end up in a public issue: never with a forge token in it.
  const secrets = secretsIn(options.env ?? process.env);
  if (options.message !== undefined) {
    heartbeat.message = firstBytes(plainLine(redact(options.message, secrets)), MAX_MESSAGE_BYTES);
  }
  if (options.outputTail !== undefined) {
    heartbeat.output_tail = lastBytes(redact(options.outputTail, secrets), MAX_OUTPUT_TAIL_BYTES);
  }
  heartbeat.runs = nextRuns(status === "start" ? null : runOf({ ...heartbeat, status }), earlier);
  return heartbeat;
}

function threshold(value: unknown, option: string): number {
  if (!isThreshold(value)) {
    throw new LastbeatError("E_OPTION", `${option} must be a whole number from 1 to ${MAX_THRESHOLD}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Atomically writes `<dir>/<job>.last` (temp file → fsync → rename). Never writes through a
 * symlink and refuses a world-writable folder without the sticky bit. By default a failure is
 * reported on stderr and returned (the checker will see the job as stale: the design fails safe);
 * `strict: true` throws instead.
 */
export async function writeHeartbeat(job: string, options: WriteHeartbeatOptions): Promise<WrittenHeartbeat> {
  return writeBeatFile(job, options, (previous, earlier) => buildHeartbeat(job, options, previous, earlier));
}

/** What `writeBeatFile` needs besides the record: where, and how to report a failure. */
type BeatFileOptions = Pick<WriteHeartbeatOptions, "dir" | "env" | "status" | "strict" | "stderr" | "now">;

/** The safe write shared by every beat: folder checks, no symlink, previous beat, atomic replace. */
async function writeBeatFile(
  job: string,
  options: BeatFileOptions,
  build: (previous: Heartbeat | null, earlier: readonly RunRecord[]) => Heartbeat,
): Promise<WrittenHeartbeat> {
  let file: string | null = null;
  try {
    validateJobName(job);
    build(null, []); // validate every option before touching the disk
    const dir = await resolveSafeHeartbeatDir({
      ...(options.dir !== undefined && { dir: options.dir }),
      ...(options.env && { env: options.env }),
    });
    file = join(dir, `${job}.last`);
    const existing = await lstat(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return null;
      throw new LastbeatError("E_WRITE", `cannot write heartbeat ${file}: ${errnoText(error)}`, { cause: error });
    });
    if (existing?.isSymbolicLink()) {
      throw new LastbeatError("E_SYMLINK", `refusing to write heartbeat ${file}: it is a symbolic link`);
    }
    if (existing && !existing.isFile()) {
      throw new LastbeatError("E_WRITE", `refusing to write heartbeat ${file}: it is not a regular file`);
    }
    // last_ok_at and the run history survive from the beat being replaced.
    const previous = existing ? readPrevious(file, job) : { heartbeat: null, runs: [] };
    const heartbeat = build(previous.heartbeat, previous.runs);
    try {
      await writeFileAtomically(file, `${JSON.stringify(heartbeat)}\n`, 0o644);
    } catch (error) {
      throw new LastbeatError("E_WRITE", `cannot write heartbeat ${file}: ${errnoText(error)}`, { cause: error });
    }
    // A job beating again is no longer retired: `lastbeat retire` left `<job>.retired` and removed
    // `<job>.last`, so only a beat that found no `.last` can have a record to end (the common beat
    // costs no extra syscall). Left in place, the record would hide the job's next disappearance.
    if (existing === null) await unlinkRetired(dir, job);
    return { ...heartbeat, file };
  } catch (error) {
    const failure =
      error instanceof LastbeatError
        ? error
        : new LastbeatError("E_WRITE", `cannot write heartbeat for ${job}: ${errnoText(error)}`, { cause: error });
    if (options.strict) throw failure;
    (options.stderr ?? process.stderr).write(`lastbeat: ${failure.message}\n`);
    return {
      format: HEARTBEAT_FORMAT,
      job,
      status: options.status ?? "ok",
      at: (options.now ?? new Date()).toISOString(),
      interval_s: NaN,
      file,
      error: failure,
    };
  }
}

/**
 * The beat being replaced and its run history. Anything broken, foreign or planted there starts
 * a fresh history: it never stops the write. Read synchronously (open, fstat, read, close of one
 * small file, never through a symlink): four round trips through libuv's thread pool would cost
 * more than the reads, and every ok beat now pays for this one (the write's benchmark target).
 */
function readPrevious(file: string, job: string): { heartbeat: Heartbeat | null; runs: readonly RunRecord[] } {
  const read = readBoundedFileSync(file, MAX_HEARTBEAT_BYTES);
  if (!read.ok) return { heartbeat: null, runs: [] };
  const parsed = parseHeartbeat(read.text, job);
  return parsed.ok ? { heartbeat: parsed.heartbeat, runs: historyOf(parsed.heartbeat) } : { heartbeat: null, runs: configErrorRuns(read.text, job) };
}

async function unlinkRetired(dir: string, job: string): Promise<void> {
  const record = join(dir, `${job}.retired`);
  try {
    await unlink(record);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new LastbeatError("E_WRITE", `wrote the heartbeat but cannot remove ${record}, which hides the job if it vanishes again: ${errnoText(error)}`, { cause: error });
  }
}

export interface ConfigErrorBeatOptions {
  /** What was wrong with the flags, in one line. */
  error: string;
  status: BeatStatus;
  dir?: string;
  now?: Date;
  startedAt?: Date;
  durationMs?: number;
  exitCode?: number;
  outputTail?: string;
  runId?: string;
  env?: Record<string, string | undefined>;
  stderr?: { write(chunk: string): unknown };
}

/**
 * The beat of a `lastbeat run` whose own flags could not be read: the command still runs, and
 * this beat carries `config_error`, which every reader reports as `invalid` (so it alerts) until
 * a run with good flags replaces it. Never throws; a failure is reported on stderr.
 */
export async function writeConfigErrorBeat(job: string, options: ConfigErrorBeatOptions): Promise<WrittenHeartbeat> {
  const secrets = secretsIn(options.env ?? process.env);
  const build = (_previous: Heartbeat | null, earlier: readonly RunRecord[]): Heartbeat => {
    const at = (options.now ?? new Date()).toISOString();
    const record: Record<string, unknown> = {
      format: HEARTBEAT_FORMAT,
      job,
      status: options.status,
      at,
      config_error: firstBytes(plainLine(redact(options.error, secrets)), MAX_MESSAGE_BYTES),
    };
    if (options.startedAt !== undefined) record.started_at = options.startedAt.toISOString();
    if (options.durationMs !== undefined) record.duration_ms = Math.max(0, Math.round(options.durationMs));
    if (options.exitCode !== undefined) record.exit_code = options.exitCode;
    if (options.runId !== undefined) record.run_id = options.runId;
    record.pid = process.pid;
    record.host = (cachedHost ??= hostname());
    if (options.outputTail !== undefined) record.output_tail = lastBytes(redact(options.outputTail, secrets), MAX_OUTPUT_TAIL_BYTES);
    // The run happened, flags or not: the history records it.
    const own =
      options.status === "start"
        ? null
        : runOf({
            at,
            status: options.status,
            ...(record.duration_ms !== undefined && { duration_ms: record.duration_ms as number }),
            ...(options.exitCode !== undefined && { exit_code: options.exitCode }),
          });
    record.runs = nextRuns(own, earlier);
    // No interval: the flags that declare it are what could not be read.
    return record as unknown as Heartbeat;
  };
  return writeBeatFile(job, { ...options, strict: false }, build);
}

export type WithHeartbeatOptions = Omit<WriteHeartbeatOptions, "status" | "durationMs" | "startedAt" | "exitCode">;

/**
 * Writes a `start` beat, runs `fn`, then an `ok` beat with its duration, or a `fail` beat with
 * the error's message and rethrows. Heartbeat write failures never mask `fn`'s own outcome.
 */
export async function withHeartbeat<T>(job: string, options: WithHeartbeatOptions, fn: () => T | Promise<T>): Promise<T> {
  const clock = () => (options.now ? new Date(options.now) : new Date());
  const startedAt = clock();
  const started = performance.now();
  const { strict: _strict, ...rest } = options;
  await writeHeartbeat(job, { ...options, status: "start", startedAt });
  let result: T;
  try {
    result = await fn();
  } catch (error) {
    await writeHeartbeat(job, {
      ...rest,
      status: "fail",
      startedAt,
      durationMs: performance.now() - started,
      message: options.message ?? (error instanceof Error ? error.message : String(error)),
    });
    throw error;
  }
  await writeHeartbeat(job, { ...options, status: "ok", startedAt, durationMs: performance.now() - started });
  return result;
}

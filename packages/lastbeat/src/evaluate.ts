import { parseGrace } from "./duration.js";
import { LastbeatError } from "./errors.js";
import { nextOccurrence } from "./schedule.js";
import { ALERTING_STATUSES, MAX_FUTURE_SKEW_MS } from "./types.js";
import type { Declaration, Heartbeat, JobState, JobStatus } from "./types.js";
import { isoTime } from "./iso.js";
import { judgeFailure, judgeRecovery, lastFinished } from "./runs.js";
import { maintenanceEnd } from "./maintenance.js";

export interface EvaluateContext {
  /** Path of the heartbeat file, for the state's `file`. */
  file?: string | null;
  /** Why the file could not be read; makes the state `invalid`. */
  invalidReason?: string;
  /** For an invalid file: when it was last modified, so `alertingSince` stays deterministic. */
  modifiedAt?: Date | null;
  /** The job name when there is no heartbeat (a `missing` or `invalid` job). */
  job?: string;
}

/** The declaration a heartbeat file makes about itself. */
export function declarationOf(heartbeat: Heartbeat): Declaration {
  const declaration: Declaration = { intervalSeconds: heartbeat.interval_s };
  if (heartbeat.schedule !== undefined) declaration.schedule = heartbeat.schedule;
  if (heartbeat.tz !== undefined) declaration.tz = heartbeat.tz;
  if (heartbeat.grace !== undefined) declaration.grace = heartbeat.grace;
  if (heartbeat.max_runtime_s !== undefined) declaration.maxRuntimeSeconds = heartbeat.max_runtime_s;
  return declaration;
}

function paused(value: Declaration["paused"], now: Date): { until: Date | null } | null {
  if (value === true) return { until: null };
  if (typeof value === "string") {
    const until = new Date(value);
    return until.getTime() > now.getTime() ? { until } : null;
  }
  return null;
}

/**
 * Why the job is paused at `now`: the manifest's pause, or a maintenance window it is in (both
 * alike: no alert, whatever the file says). Throws for a window that cannot be computed.
 */
function pauseReason(decl: Declaration, now: Date): string | null {
  const pause = paused(decl.paused, now);
  if (pause) return pause.until ? `paused until ${iso(pause.until)}` : "paused in the manifest";
  const until = maintenanceEnd(decl.maintenance, now);
  return until ? `in maintenance until ${iso(until)}` : null;
}

/** When a timed pause ended (at or before `now`), else null. */
function pauseEnded(value: Declaration["paused"], now: Date): Date | null {
  if (typeof value !== "string") return null;
  const until = new Date(value);
  return Number.isFinite(until.getTime()) && until.getTime() <= now.getTime() ? until : null;
}

/** The declaration's timing fields: when the manifest declares any of them, the file's are not used. */
const TIMING_FIELDS = ["intervalSeconds", "schedule", "tz", "grace", "maxRuntimeSeconds"] as const;

/** What each timing field is called where the user wrote it, for reasons that name the culprit. */
const FIELD_NAMES = {
  file: { intervalSeconds: "interval_s", schedule: "schedule", grace: "grace", maxRuntimeSeconds: "max_runtime_s" },
  manifest: { intervalSeconds: "every", schedule: "schedule", grace: "grace", maxRuntimeSeconds: "max_runtime" },
} as const;
type FieldNames = (typeof FIELD_NAMES)[keyof typeof FIELD_NAMES];

/** The declaration of a job nobody declared anything about. */
const NOTHING_DECLARED: Declaration = Object.freeze({});

/** The latest instant a `Date` can hold (year 275760). */
const MAX_TIME_MS = 8.64e15;

/** `ms` as a Date, or an E_DURATION error naming the field whose number pushed it out of range. */
function dateOf(ms: number, field: string): Date {
  if (Number.isFinite(ms) && Math.abs(ms) <= MAX_TIME_MS) return new Date(ms);
  throw new LastbeatError("E_DURATION", `${field} is too large: the time it gives is past year 275760`);
}

const iso = isoTime;

/**
 * An invalid file's alert dates from its modification time, never after `now`: a file server's
 * clock ahead of ours (or `--now` in the past) would otherwise say "alerting since" a time to come.
 */
function modifiedBy(context: EvaluateContext, now: Date): Date | null {
  const at = context.modifiedAt ?? null;
  return at !== null && at.getTime() > now.getTime() ? now : at;
}

/**
 * The status model of docs/spec.md, pure: a function of the last heartbeat (if any), the job's
 * declaration (manifest wins over the file) and `now`.
 */
export function evaluate(
  heartbeat: Heartbeat | undefined,
  declaration: Declaration | undefined,
  now: Date,
  context: EvaluateContext = {},
): JobState {
  const job = heartbeat?.job ?? context.job ?? "?";
  const declared: Partial<Declaration> = declaration === undefined ? NOTHING_DECLARED : stripUndefined(declaration);
  // The manifest wins as a whole: a file's schedule or grace never bends the manifest's interval.
  const manifestTiming = declaration !== undefined && TIMING_FIELDS.some((field) => declared[field] !== undefined);
  // Without a declaration (most of a scan) the file's own is the whole of it: no copies.
  const decl: Declaration =
    declaration === undefined
      ? heartbeat
        ? declarationOf(heartbeat)
        : NOTHING_DECLARED
      : { ...(heartbeat && !manifestTiming && declarationOf(heartbeat)), ...declared };
  const names = manifestTiming ? FIELD_NAMES.manifest : FIELD_NAMES.file;
  const intervalSeconds = decl.intervalSeconds ?? null;
  const base: JobState = {
    job,
    status: "ok",
    alerting: false,
    reason: "",
    lastBeatAt: null,
    lastOkAt: null,
    ageSeconds: null,
    intervalSeconds,
    ratio: null,
    dueAt: null,
    graceEndAt: null,
    alertingSince: null,
    file: context.file ?? null,
    heartbeat: heartbeat ?? null,
  };

  let pause: string | null;
  let windowError: string | null = null;
  try {
    pause = pauseReason(decl, now);
  } catch (error) {
    pause = null;
    windowError = (error as Error).message;
  }
  if (context.invalidReason !== undefined) {
    if (pause) return judged(base, "paused", pause);
    return judged(base, "invalid", context.invalidReason, modifiedBy(context, now), null);
  }
  if (windowError !== null) return judged(base, "invalid", windowError, modifiedBy(context, now));
  if (!heartbeat) {
    if (pause) return judged(base, "paused", pause);
    return judgedUnbeaten(base, decl, intervalSeconds, now, names);
  }

  const at = new Date(heartbeat.at);
  const lastOkAt =
    heartbeat.status === "ok" ? at : heartbeat.last_ok_at !== undefined ? new Date(heartbeat.last_ok_at) : null;
  // Never negative: a beat dated after `now` (clock skew, or --now before it) is "in the future".
  const ageSeconds = Math.max(0, (now.getTime() - at.getTime()) / 1000);
  base.lastBeatAt = at;
  base.lastOkAt = lastOkAt;
  base.ageSeconds = ageSeconds;
  base.ratio = intervalSeconds !== null && intervalSeconds > 0 ? ageSeconds / intervalSeconds : null;

  if (at.getTime() - now.getTime() > MAX_FUTURE_SKEW_MS) {
    return judged(base, "invalid", `beat is dated ${iso(at)}, more than 5 minutes in the future`, modifiedBy(context, now));
  }
  if (pause) return judged(base, "paused", pause);
  if (intervalSeconds === null || !(intervalSeconds > 0)) {
    return judged(base, "invalid", "no interval declared for this job", modifiedBy(context, now));
  }

  // After a timed pause the silence is counted from the pause's end, not from the last beat.
  const ended = pauseEnded(decl.paused, now);
  const from = ended && ended.getTime() > at.getTime() ? ended : at;
  let after = from === at ? "" : ` (paused until ${iso(from)})`;
  // Read only for a run under way: a finished beat's start time changes nothing.
  const startedAt = heartbeat.status === "start" && heartbeat.started_at !== undefined ? new Date(heartbeat.started_at) : at;
  let window: { dueAt: Date; graceEndAt: Date };
  let runEnd: Date | null = null;
  try {
    window = checkedWindow(from, intervalSeconds, decl, names);
    // A run expected during maintenance: judged as after a pause, from the window's end.
    const excused = afterMaintenance(window, now, intervalSeconds, decl, names);
    if (excused) {
      window = excused.window;
      after = ` (maintenance ended ${iso(excused.from)})`;
    }
    if (heartbeat.status === "start") {
      // From the run's own start: a skipped run's beat (dated now) never refreshes a hung run.
      runEnd =
        decl.maxRuntimeSeconds !== undefined
          ? dateOf(startedAt.getTime() + decl.maxRuntimeSeconds * 1000, names.maxRuntimeSeconds)
          : checkedWindow(startedAt, intervalSeconds, decl, names).graceEndAt;
    }
  } catch (error) {
    return judged(base, "invalid", (error as Error).message, modifiedBy(context, now));
  }
  const { dueAt, graceEndAt } = window;
  base.dueAt = dueAt;
  base.graceEndAt = graceEndAt;
  const t = now.getTime();

  // The thresholds in force: the manifest's value wins per field, then the file's, else 1.
  const alertAfter = declared.alertAfter ?? heartbeat.alert_after ?? 1;
  const recoverAfter = declared.recoverAfter ?? heartbeat.recover_after ?? 1;
  if (heartbeat.status !== "start") {
    const verdict = judgeFinished(heartbeat, alertAfter, recoverAfter);
    if (verdict?.alerting) return judged(base, "failed", verdict.reason, verdict.since);
    // Below the threshold the job is flaky, not alerting; fallen silent after that, it is stale.
    if (verdict && t <= graceEndAt.getTime()) return judged(base, "flaky", verdict.reason);
  }

  if (heartbeat.status === "start" && runEnd) {
    const limitText =
      decl.maxRuntimeSeconds !== undefined ? `max runtime ${formatSeconds(decl.maxRuntimeSeconds)}` : "its grace period";
    // A skipped run says so in the message; shown, but it never changes the verdict.
    const note = heartbeat.message !== undefined ? `; ${heartbeat.message}` : "";
    if (t > runEnd.getTime()) {
      return judged(base, "overrun", `started ${iso(startedAt)} and still not finished after ${limitText}${note}`, runEnd);
    }
    // A run after an alerting history does not recover the job: it stays failed with the very
    // reason and alertingSince of the beat that finished the last run, so a checker landing
    // mid-run neither closes the alert issue nor edits it. After a flaky history it is `running`:
    // neither alerts, and `running` says what is happening now (the next finished beat re-judges).
    const previous = lastFinished(heartbeat);
    const verdict = previous && judgeFinished(previous, alertAfter, recoverAfter);
    if (verdict?.alerting) return judged(base, "failed", verdict.reason, verdict.since);
    return judged(base, "running", `started ${iso(startedAt)}${note}`);
  }

  if (t < dueAt.getTime()) {
    const future = at.getTime() > t ? `beat is dated ${iso(at)}, in the future; ` : "";
    return judged(base, "ok", `${future}next beat due ${iso(dueAt)}${after}`);
  }
  if (t <= graceEndAt.getTime()) return judged(base, "late", `beat was due ${iso(dueAt)}; alerting after ${iso(graceEndAt)}${after}`);
  return judged(base, "stale", `no beat since ${iso(at)}; expected by ${iso(dueAt)}${after}`, graceEndAt);
}

/** Why a declared job with no heartbeat file alerts. */
export const MISSING_REASON = "declared in the manifest but no heartbeat file was found";

/** The start of the reason of a declared job with no heartbeat file whose first run is not overdue yet. */
export const UNBEATEN_REASON = "no heartbeat yet";

/**
 * A declared job that has not beaten yet and whose first run is not overdue (`ok` or `late`, no
 * file): nothing alerts about it yet.
 */
export function isUnbeaten(state: Pick<JobState, "status" | "file" | "heartbeat">): boolean {
  return state.heartbeat === null && state.file === null && (state.status === "ok" || state.status === "late");
}

/**
 * A declared job with no heartbeat file. Declared since a known time (the declaring file's
 * modification time, `declaredAt`), it is judged as if it had beaten then: a job set up at 10:00
 * to run at 02:00 is `ok` until 02:00 and `late` within its grace, and alerts as `missing` only
 * once its first run is overdue; it alerts from the end of that grace. A timed pause that has
 * ended counts as a declaration at its end. Without a usable time, or
 * without an interval to count from, it is `missing` at once.
 */
function judgedUnbeaten(base: JobState, decl: Declaration, intervalSeconds: number | null, now: Date, names: FieldNames): JobState {
  const declaredAt = decl.declaredAt;
  const t = now.getTime();
  if (declaredAt === undefined || !(intervalSeconds !== null && intervalSeconds > 0)) return judged(base, "missing", MISSING_REASON);
  const at = declaredAt.getTime();
  // A declaring file dated in the future (a clock ahead) would put the first run off for as long.
  if (!Number.isFinite(at) || at - t > MAX_FUTURE_SKEW_MS) return judged(base, "missing", MISSING_REASON);
  // After a timed pause, from the pause's end, as for a job that had beaten.
  const ended = pauseEnded(decl.paused, now)?.getTime() ?? -Infinity;
  const from = new Date(Math.max(Math.min(at, t), ended));
  let window: { dueAt: Date; graceEndAt: Date };
  try {
    window = checkedWindow(from, intervalSeconds, decl, names);
    window = afterMaintenance(window, now, intervalSeconds, decl, names)?.window ?? window;
  } catch {
    // Nothing to count from (a schedule that never fires again): judged as before there was a count.
    return judged(base, "missing", MISSING_REASON);
  }
  base.dueAt = window.dueAt;
  base.graceEndAt = window.graceEndAt;
  if (t < window.dueAt.getTime()) return judged(base, "ok", `${UNBEATEN_REASON}; its first run is due ${iso(window.dueAt)}`);
  if (t <= window.graceEndAt.getTime()) {
    return judged(base, "late", `${UNBEATEN_REASON}; its first run was due ${iso(window.dueAt)}; alerting after ${iso(window.graceEndAt)}`);
  }
  return judged(base, "missing", MISSING_REASON, window.graceEndAt);
}

/**
 * Writes the verdict into `base` (the call's own object: no copy made) and returns it. A plain
 * function, not a closure over `base`: one fewer allocation per job of a scan.
 */
function judged(base: JobState, status: JobStatus, reason: string, alertingSince?: Date | null, heartbeat?: null): JobState {
  base.status = status;
  base.reason = reason;
  base.alerting = ALERTING_STATUSES.has(status);
  if (alertingSince !== undefined) base.alertingSince = alertingSince;
  if (heartbeat !== undefined) base.heartbeat = heartbeat;
  return base;
}

/** What a finished beat's history makes of it: alerting, flaky (below alert_after), or null (fine). */
type FinishedVerdict = { alerting: true; reason: string; since: Date } | { alerting: false; reason: string };

/**
 * Judges a finished (`ok`/`fail`) beat against the thresholds. Its reasons name no count that
 * changes while alerting: a changed reason edits the alert issue.
 */
function judgeFinished(beat: Heartbeat, alertAfter: number, recoverAfter: number): FinishedVerdict | null {
  if (beat.status === "fail") {
    const detail = beat.message ?? (beat.exit_code !== undefined ? `exit code ${beat.exit_code}` : "");
    const verdict = judgeFailure(beat, alertAfter);
    if (verdict.alerting) return { alerting: true, reason: `last run failed${detail ? `: ${detail}` : ""}`, since: verdict.since };
    return { alerting: false, reason: `${verdict.failures} of ${alertAfter} failures before alerting${detail ? `: ${detail}` : ""}` };
  }
  const recovering = beat.status === "ok" ? judgeRecovery(beat, alertAfter, recoverAfter) : null;
  if (!recovering) return null;
  const { exit_code: code, at: failedAt } = recovering.lastFailure;
  const failure = `${code !== undefined ? `exit code ${code} ` : ""}at ${iso(new Date(failedAt))}`;
  return {
    alerting: true,
    reason: `recovering: ${recovering.oks} of ${recoverAfter} ok runs before recovery; last failure: ${failure}`,
    since: recovering.since,
  };
}

/** At most this many windows in a row excuse a job (one ends, the next due time falls in another). */
const MAX_EXCUSES = 8;

/**
 * A run expected inside a maintenance window that has ended is excused: the job is judged as
 * after a pause ending where the window ends (due one interval, or the next scheduled run, after
 * it). Only a due time inside a window counts: a job already late when a window began is not
 * excused, so a window recurring within a job's grace never keeps a silent job from alerting.
 * Null when no window excuses anything.
 */
function afterMaintenance(
  window: { dueAt: Date; graceEndAt: Date },
  now: Date,
  intervalSeconds: number,
  decl: Declaration,
  names: FieldNames,
): { from: Date; window: { dueAt: Date; graceEndAt: Date } } | null {
  let excused: { from: Date; window: { dueAt: Date; graceEndAt: Date } } | null = null;
  // A due time after `now` is in no window that has ended (were `now` in one, the job is paused).
  for (let i = 0; i < MAX_EXCUSES && window.dueAt.getTime() <= now.getTime(); i++) {
    const end = maintenanceEnd(decl.maintenance, window.dueAt);
    if (end === null || end.getTime() > now.getTime()) break;
    window = checkedWindow(end, intervalSeconds, decl, names);
    excused = { from: end, window };
  }
  return excused;
}

/** `expectedWindow`, with a reason naming the field when a number puts a date out of range. */
function checkedWindow(from: Date, intervalSeconds: number, decl: Declaration, names: FieldNames) {
  const window = expectedWindow(from, intervalSeconds, decl);
  if (!Number.isFinite(window.dueAt.getTime())) dateOf(NaN, decl.schedule !== undefined ? names.schedule : names.intervalSeconds);
  if (!Number.isFinite(window.graceEndAt.getTime())) {
    const culprit = decl.grace !== undefined && !/x$/i.test(decl.grace.trim()) ? names.grace : `${names.intervalSeconds} × ${names.grace}`;
    dateOf(NaN, culprit);
  }
  return window;
}

/** When the next beat is due, and when the silence becomes an alert. */
export function expectedWindow(
  lastBeat: Date,
  intervalSeconds: number,
  decl: Declaration,
): { dueAt: Date; graceEndAt: Date } {
  const intervalMs = intervalSeconds * 1000;
  let dueAt = new Date(lastBeat.getTime() + intervalMs);
  if (decl.schedule !== undefined) {
    const next = nextOccurrence(decl.schedule, decl.tz, lastBeat);
    if (!next) throw new LastbeatError("E_SCHEDULE", `schedule ${JSON.stringify(decl.schedule)} never fires again`);
    dueAt = next;
  }
  const grace = parseGrace(decl.grace);
  let graceEnd: number;
  if ("multiple" in grace) {
    // "2x": silent for more than 2× the interval. For a schedule the window also reaches at least
    // (multiple − 1) intervals past the next expected run, so a weekday-only job is not stale on Sunday.
    graceEnd = lastBeat.getTime() + grace.multiple * intervalMs;
    if (decl.schedule !== undefined) graceEnd = Math.max(graceEnd, dueAt.getTime() + (grace.multiple - 1) * intervalMs);
  } else {
    graceEnd = dueAt.getTime() + grace.seconds * 1000;
  }
  return { dueAt, graceEndAt: new Date(graceEnd) };
}

function formatSeconds(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

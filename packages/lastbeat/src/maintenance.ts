import { MAX_DURATION_SECONDS } from "./duration.js";
import { LastbeatError } from "./errors.js";
import { nextOccurrence, previousOccurrence } from "./schedule.js";
import type { MaintenanceWindow } from "./types.js";

/*
 * Maintenance windows (docs/spec.md, "Manifest" and "Status model"), pure: a window starts at
 * each occurrence S of its schedule in its zone (UTC unless given, like a manifest schedule) and
 * covers [S, S + duration), the duration counted in elapsed time. Where a schedule fires is
 * croner's answer, the same engine every due time comes from: on a spring-forward night a
 * window at a local time that does not exist opens when the clock jumps past it, and on a
 * fall-back night a local time that happens twice opens one window, at the first of them, as
 * cron runs a job at a fixed time once.
 */

/** The latest instant a `Date` can hold (year 275760). */
const MAX_TIME_MS = 8.64e15;

/** At most this many windows are followed when each starts before the previous one ends. */
const MAX_CHAIN = 8;

/**
 * When the maintenance that `at` is in ends (S ≤ at < S + duration for a run S of some window's
 * schedule, following windows that start before it ends), else null. Asked at `now` it says
 * whether the job is paused; asked at a job's due time, whether that run was expected during
 * maintenance.
 */
export function maintenanceEnd(windows: readonly MaintenanceWindow[] | undefined, at: Date): Date | null {
  if (windows === undefined || windows.length === 0) return null;
  let until: number | null = null;
  windows.forEach((window, index) => {
    const end = windowEnd(window, index, at.getTime());
    if (end !== null && (until === null || end > until)) until = end;
  });
  return until === null ? null : new Date(until);
}

/**
 * The end of the maintenance of `window` that holds `t`, or null. Inside means some occurrence
 * S lies in (t − duration, t], i.e. the first occurrence after t − duration is not after t: one
 * croner call decides it. The end is that of the latest such occurrence, carried forward through
 * windows that start before it ends.
 */
function windowEnd(window: MaintenanceWindow, index: number, t: number): number | null {
  const durationMs = durationOf(window, index) * 1000;
  // Past what a date holds (a --now in year 275760): no window there, rather than an error.
  if (!(Math.abs(t) <= MAX_TIME_MS && Math.abs(t - durationMs) <= MAX_TIME_MS)) return null;
  const known = factsOf(window);
  if (known.inside !== null && known.inside.from <= t && t < known.inside.end) return known.inside.end;
  if (known.clear !== null && known.clear.after <= t - durationMs && t < known.clear.before) return null;
  const { schedule, tz } = window;
  const firstAfter = (ms: number) => nextOccurrence(schedule, tz, new Date(ms))?.getTime() ?? Infinity;
  try {
    const first = firstAfter(t - durationMs);
    if (first > t) {
      learnClear(known, t - durationMs, first);
      return null;
    }
    let start = first;
    let next = firstAfter(start);
    // Usually one window holds t (a duration is shorter than the schedule's gap); more only
    // around DST or for a duration past the gap: then find the latest start, bounded.
    if (next <= t) {
      start = previousOccurrence(schedule, tz, new Date(t), durationMs)?.getTime() ?? start;
      next = firstAfter(start);
    }
    let end = start + durationMs;
    let chain = 0;
    for (; chain < MAX_CHAIN && next < end; chain++) {
      start = next;
      end = start + durationMs;
      next = firstAfter(start);
    }
    // Every instant in [first, end) is in this same stretch of maintenance, ending at `end`
    // (unless the chain was cut short, when a later instant may reach further).
    if (chain < MAX_CHAIN) known.inside = { from: first, end };
    return end;
  } catch (error) {
    throw new LastbeatError("E_SCHEDULE", `maintenance[${index}]: ${(error as Error).message}`);
  }
}

function durationOf(window: MaintenanceWindow, index: number): number {
  const seconds = window.durationSeconds;
  if (typeof seconds === "number" && seconds > 0 && seconds <= MAX_DURATION_SECONDS) return seconds;
  throw new LastbeatError("E_DURATION", `maintenance[${index}].duration must be a positive number of seconds up to 100 years`);
}

/*
 * What croner told us about a window, kept across jobs: the manifest's global list reaches every
 * job, croner takes tens of microseconds per call, and after a window ends every job that was due
 * during it asks about the same stretch. A scan of 100,000 jobs then costs a few croner calls per
 * window, not one per job. Both facts are exact, so answers from them equal croner's.
 */
interface WindowFacts {
  /** Every instant in [from, end) is in maintenance that ends at `end`. */
  inside: { from: number; end: number } | null;
  /** No occurrence in the open stretch (after, before): an instant t is clear when (t − duration, t] lies in it. */
  clear: { after: number; before: number } | null;
}

const facts = new Map<string, WindowFacts>();
const MAX_WINDOWS_KNOWN = 256;

function factsOf(window: MaintenanceWindow): WindowFacts {
  const key = `${window.durationSeconds}\u0000${window.tz ?? "UTC"}\u0000${window.schedule}`;
  let known = facts.get(key);
  if (known === undefined) {
    if (facts.size >= MAX_WINDOWS_KNOWN) facts.clear();
    known = { inside: null, clear: null };
    facts.set(key, known);
  }
  return known;
}

/** Records an occurrence-free stretch, joined with the known one when they overlap. */
function learnClear(known: WindowFacts, after: number, before: number): void {
  const old = known.clear;
  known.clear =
    old !== null && Math.max(old.after, after) < Math.min(old.before, before)
      ? { after: Math.min(old.after, after), before: Math.max(old.before, before) }
      : { after, before };
}

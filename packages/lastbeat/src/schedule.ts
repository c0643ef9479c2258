import { Cron } from "croner";
import { LastbeatError } from "./errors.js";
import { isKnownTimeZone } from "./zone.js";

/** Throws unless `tz` is an IANA zone this runtime knows. */
export function validateTimeZone(tz: string): string {
  if (isKnownTimeZone(tz)) return tz;
  throw new LastbeatError("E_SCHEDULE", `unknown time zone ${JSON.stringify(tz)} (use an IANA name like Europe/Berlin)`);
}

function compile(schedule: string, tz: string | undefined): Cron {
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 5) {
    throw new LastbeatError(
      "E_SCHEDULE",
      `schedule ${JSON.stringify(schedule)} must have 5 fields (minute hour day-of-month month day-of-week)`,
    );
  }
  if (tz !== undefined) validateTimeZone(tz);
  try {
    // croner ORs day-of-month and day-of-week by default, as Vixie cron does.
    return new Cron(fields.join(" "), { timezone: tz ?? "UTC", paused: true });
  } catch (error) {
    // croner names itself ("CronPattern: Invalid value for minute: 61"): the user wrote a schedule.
    const why = (error as Error).message.replace(/^CronPattern: /, "");
    throw new LastbeatError("E_SCHEDULE", `invalid schedule ${JSON.stringify(schedule)}: ${why}`);
  }
}

const cache = new Map<string, Cron>();

/** Validates a 5-field cron expression (and its zone); throws LastbeatError E_SCHEDULE. */
export function validateSchedule(schedule: string, tz?: string): string {
  // Good syntax naming no real date (`0 0 31 4 *`: April 31st) would leave the job `invalid`
  // ("never fires again") from its first beat: refused where it is written instead.
  if (compile(schedule, tz).nextRun() === null) {
    throw new LastbeatError("E_SCHEDULE", `schedule ${JSON.stringify(schedule)} never fires: no date matches its day and month`);
  }
  return schedule;
}

/**
 * The last instant the cron engine is asked about: a year before the latest a `Date` holds (year
 * 275760). Past it croner finds nothing or, in a zone with daylight saving time, searches forever
 * (`0 3 * * 0` in Europe/Berlin after 12 September 275760 never returned): no occurrence there.
 */
const LAST_ASKED_MS = 8.64e15 - 366 * 86_400_000;

/** The first occurrence of `schedule` in `tz` strictly after `after` (DST-correct), or null. */
export function nextOccurrence(schedule: string, tz: string | undefined, after: Date): Date | null {
  if (!(after.getTime() <= LAST_ASKED_MS)) return null;
  const key = `${tz ?? "UTC"}\u0000${schedule}`;
  let cron = cache.get(key);
  if (!cron) {
    cron = compile(schedule, tz);
    cache.set(key, cron);
  }
  return cron.nextRun(after);
}

const MINUTE_MS = 60_000;

/**
 * The latest occurrence of `schedule` in `tz` at or before `at`, within (at − withinMs, at]; null
 * when there is none in that stretch (or the dates leave what the cron engine can compute).
 * Occurrences are exactly those nextOccurrence yields, so a window starts where the schedule, as
 * the rest of lastbeat computes it, fires (DST included).
 */
export function previousOccurrence(schedule: string, tz: string | undefined, at: Date, withinMs: number): Date | null {
  const latest = latestOccurrence(
    (ms) => nextOccurrence(schedule, tz, new Date(ms))?.getTime() ?? Infinity,
    at.getTime(),
    withinMs,
  );
  return latest === null ? null : new Date(latest);
}

/**
 * The latest occurrence in (t − withinMs, t], given only `firstAfter(x)`: the first occurrence
 * strictly after x (Infinity when none). Occurrences must be at least a minute apart (cron's
 * are whole minutes).
 *
 * Bounded: croner only searches forward, and walking occurrence by occurrence would loop a year
 * of minutes for `* * * * *`. But "some occurrence lies in (x, t]" is just firstAfter(x) ≤ t. We
 * gallop back (1 minute, 2, 4, … up to `withinMs`) to a point `lo` where that holds, then bisect
 * keeping firstAfter(lo) ≤ t < firstAfter(hi). Once hi − lo < 1 minute, firstAfter(lo) is the only
 * occurrence in (lo, hi], and the latest not after t. At most 2 × ⌈log2(withinMs / 1 minute)⌉ + 2
 * calls: about 54 for 100 years.
 */
export function latestOccurrence(firstAfter: (ms: number) => number, t: number, withinMs: number): number | null {
  if (!Number.isFinite(t) || !(withinMs > 0)) return null;
  let hi = t; // firstAfter(t) > t by definition: nothing in (hi, t]
  let lo = NaN;
  let found = Infinity;
  for (let span = Math.min(MINUTE_MS, withinMs); ; span = Math.min(span * 2, withinMs)) {
    const probe = Math.max(t - span, MIN_TIME_MS);
    const next = firstAfter(probe);
    if (next <= t) {
      lo = probe;
      found = next;
      break;
    }
    hi = probe; // nothing in (probe, t]: the answer is further back
    if (span >= withinMs || probe === MIN_TIME_MS) return null;
  }
  while (hi - lo >= MINUTE_MS) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const next = firstAfter(mid);
    if (next <= t) {
      lo = mid;
      found = next;
    } else {
      hi = mid;
    }
  }
  return found;
}

/** The earliest instant a `Date` can hold. */
const MIN_TIME_MS = -8.64e15;

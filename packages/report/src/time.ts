// A deep import: the date-fns root module would load all ~250 of its functions.
import { formatDuration } from "date-fns/formatDuration";
import { formatDuration as formatCompact, isKnownTimeZone } from "lastbeat/internal";

/**
 * Human-friendly times for the panel and the brief. Durations come from date-fns; distances
 * ("3 hours ago") are counted here in elapsed time; calendar dates and wall-clock times in the
 * reader's zone come from `Intl` so the output depends only on (instant, now, tz) — never on the
 * machine's own zone.
 */

/** The machine's zone, the default for `--tz`. */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** Whether `tz` names an IANA zone this runtime knows (e.g. `Europe/Berlin`, `UTC`). */
export const isValidTimeZone = isKnownTimeZone;

export interface WallClock {
  year: number;
  month: number;
  day: number;
  weekday: string;
  monthName: string;
  hhmm: string;
}

/**
 * The wall clock at `at` in `tz`. A brief formats a few times per job, and `Intl` costs several
 * microseconds a call (most of a 10,000-job report's time): the zone's UTC offset is asked of
 * `Intl` once per hour of time (at the hour's first and last second) and reused for every instant
 * in that hour when both agree; an hour in which the offset changes, and years outside
 * 1900–9999, go to `Intl` for each instant (intlWallClock, which this always agrees with).
 */
export function wallClock(at: Date, tz: string): WallClock {
  const t = at.getTime();
  if (!(t >= FAST_FROM_MS && t < FAST_UNTIL_MS)) return intlWallClock(at, tz);
  const offset = hourOffset(tz, Math.floor(t / HOUR_MS));
  if (offset === null) return intlWallClock(at, tz);
  const local = new Date(t + offset);
  const month = local.getUTCMonth() + 1;
  const hours = local.getUTCHours();
  const minutes = local.getUTCMinutes();
  return {
    year: local.getUTCFullYear(),
    month,
    day: local.getUTCDate(),
    weekday: WEEKDAYS[local.getUTCDay()] as string,
    monthName: MONTHS[month - 1] as string,
    hhmm: `${hours < 10 ? "0" : ""}${hours}:${minutes < 10 ? "0" : ""}${minutes}`,
  };
}

const HOUR_MS = 3_600_000;
/** 1900-01-02 to 9999-12-30 UTC: every zone's wall clock is then within 1900–9999 too. */
const FAST_FROM_MS = Date.UTC(1900, 0, 2);
const FAST_UNTIL_MS = Date.UTC(9999, 11, 30);
const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/** Per zone: hour number → the zone's offset in milliseconds all that hour, or null if it changes. */
const hourOffsets = new Map<string, Map<number, number | null>>();
/** Hours remembered per zone before the zone's table starts again (a scan spans a few weeks). */
const MAX_HOURS_PER_ZONE = 10_000;

function hourOffset(tz: string, hour: number): number | null {
  const known = hourOffsets.get(tz)?.get(hour);
  if (known !== undefined) return known;
  // Asked of Intl first: a zone it refuses (RangeError) gets no table.
  const first = utcOffset(hour * HOUR_MS, tz);
  const offset = first === utcOffset(hour * HOUR_MS + HOUR_MS - 1000, tz) ? first : null;
  let hours = hourOffsets.get(tz);
  if (!hours) hourOffsets.set(tz, (hours = new Map()));
  if (hours.size >= MAX_HOURS_PER_ZONE) hours.clear();
  hours.set(hour, offset);
  return offset;
}

/** The offset of `tz` from UTC at `t` (a whole second), in milliseconds: local wall time − UTC. */
function utcOffset(t: number, tz: string): number {
  const parts = partsIn(OFFSET_PARTS, tz, t);
  const local = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return local - t;
}

/** The wall clock as `Intl` gives it, part by part: the reference wallClock keeps to. */
export function intlWallClock(at: Date, tz: string): WallClock {
  const parts = partsIn(WALL_CLOCK_PARTS, tz, at);
  const month = Number(parts.month);
  return {
    year: Number(parts.year),
    month,
    day: Number(parts.day),
    weekday: parts.weekday ?? "",
    monthName: MONTHS[month - 1] ?? "",
    hhmm: `${parts.hour}:${parts.minute}`,
  };
}

/** What a formatter gives, and its formatter per zone: making one costs far more than using it. */
interface PartsFormat {
  locale: string;
  options: Intl.DateTimeFormatOptions;
  byZone: Map<string, Intl.DateTimeFormat>;
}

const OFFSET_PARTS: PartsFormat = {
  locale: "en-US",
  options: { year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric", hourCycle: "h23" },
  byZone: new Map(),
};

const WALL_CLOCK_PARTS: PartsFormat = {
  locale: "en-GB",
  options: { year: "numeric", month: "numeric", day: "numeric", weekday: "long", hour: "2-digit", minute: "2-digit", hourCycle: "h23" },
  byZone: new Map(),
};

/** `at` in `tz` as `format`'s parts, by type (`year`, `hour`, …). */
function partsIn(format: PartsFormat, tz: string, at: Date | number): Record<string, string> {
  let fmt = format.byZone.get(tz);
  if (!fmt) format.byZone.set(tz, (fmt = new Intl.DateTimeFormat(format.locale, { ...format.options, timeZone: tz })));
  const parts: Record<string, string> = {};
  for (const p of fmt.formatToParts(at)) parts[p.type] = p.value;
  return parts;
}

const MONTHS = [
  "January", "February", "March", "April", "May", "June",
  "July", "August", "September", "October", "November", "December",
];

/** Days between two calendar dates (b − a), ignoring the time of day. */
function calendarDays(a: WallClock, b: WallClock): number {
  return Math.round((Date.UTC(b.year, b.month - 1, b.day) - Date.UTC(a.year, a.month - 1, a.day)) / 86_400_000);
}

/** `Wednesday 8 April 2026`: the brief's dated heading, in the reader's zone. */
export function formatLongDate(at: Date, tz: string): string {
  const w = wallClock(at, tz);
  return `${w.weekday} ${w.day} ${w.monthName} ${w.year}`;
}

/** `07:00`: the time of day in the reader's zone. */
export function formatClock(at: Date, tz: string): string {
  return wallClock(at, tz).hhmm;
}

/**
 * When a beat happened, as a reader scanning the brief over coffee wants it:
 * `today 06:12`, `yesterday 23:58`, `Mon 6 Apr 02:00`, or `6 Apr 2025 02:00` for another year.
 */
export function formatWhen(at: Date, now: Date, tz: string): string {
  const w = wallClock(at, tz);
  const n = wallClock(now, tz);
  const days = calendarDays(w, n);
  if (days === 0) return `today ${w.hhmm}`;
  if (days === 1) return `yesterday ${w.hhmm}`;
  if (days === -1) return `tomorrow ${w.hhmm}`;
  const month = w.monthName.slice(0, 3);
  if (Math.abs(days) > 1 && Math.abs(days) < 7) return `${w.weekday.slice(0, 3)} ${w.day} ${month} ${w.hhmm}`;
  if (w.year === n.year) return `${w.day} ${month} ${w.hhmm}`;
  return `${w.day} ${month} ${w.year} ${w.hhmm}`;
}

/**
 * `3 hours ago` (or `in 2 minutes` for a beat slightly ahead of our clock): the words and rounding
 * of date-fns' `formatDistanceStrict` (seconds under a minute, minutes under an hour, hours under a
 * day, days under 30 days, months of 30 days under 365 days, then years), counted in elapsed time.
 * date-fns counts days, months and years across a DST change in the *machine's* zone, so a
 * brief could say "3 days ago" on one host and "2 days ago" on another for the same two instants.
 */
export function formatAgo(at: Date, now: Date): string {
  const ms = now.getTime() - at.getTime();
  if (Number.isNaN(ms)) throw new RangeError("Invalid time value");
  if (Math.abs(ms) < 1000) return "just now";
  const distance = spellDistance(Math.abs(ms));
  return ms < 0 ? `in ${distance}` : `${distance} ago`;
}

const MINUTES_IN_DAY = 1440;
const MINUTES_IN_MONTH = 43_200;
const MINUTES_IN_YEAR = 525_600;

function spellDistance(ms: number): string {
  const minutes = ms / 60_000;
  if (minutes < 1) return count(Math.round(ms / 1000), "second");
  if (minutes < 60) return count(Math.round(minutes), "minute");
  if (minutes < MINUTES_IN_DAY) return count(Math.round(minutes / 60), "hour");
  if (minutes < MINUTES_IN_MONTH) return count(Math.round(minutes / MINUTES_IN_DAY), "day");
  if (minutes < MINUTES_IN_YEAR) {
    const months = Math.round(minutes / MINUTES_IN_MONTH);
    return months === 12 ? count(1, "year") : count(months, "month");
  }
  return count(Math.round(minutes / MINUTES_IN_YEAR), "year");
}

const count = (n: number, unit: string) => (n === 1 ? `1 ${unit}` : `${n} ${unit}s`);

/** `5 minutes`, `1 hour 30 minutes`, `1 day`: an interval or a run's length, at most two units. */
export function formatSpan(seconds: number): string {
  const total = Math.round(seconds);
  if (total <= 0) return "0 seconds";
  // A fleet has a handful of intervals among thousands of jobs: each is spelled out once.
  let text = spans.get(total);
  if (text === undefined) {
    if (spans.size >= MAX_SPANS) spans.clear();
    spans.set(total, (text = spellSpan(total)));
  }
  return text;
}

const spans = new Map<number, string>();
const MAX_SPANS = 10_000;

function spellSpan(total: number): string {
  const units = [
    ["days", Math.floor(total / 86_400)],
    ["hours", Math.floor((total % 86_400) / 3_600)],
    ["minutes", Math.floor((total % 3_600) / 60)],
    ["seconds", total % 60],
  ] as const;
  const first = units.findIndex(([, n]) => n > 0);
  const duration = Object.fromEntries(units.slice(first, first + 2).filter(([, n]) => n > 0));
  return formatDuration(duration, { format: ["days", "hours", "minutes", "seconds"] });
}

/** A run's length from `duration_ms`: sub-second runs keep their milliseconds. */
export function formatRunLength(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  return formatSpan(ms / 1000);
}

/** `2.4×`: age ÷ interval, one decimal below 10, whole numbers above. */
export function formatRatio(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return "—";
  // A beat a little ahead of our clock has a negative age: show it as 0.0×, not -0.1×.
  const r = Math.max(0, ratio);
  const tenths = Math.round(r * 10) / 10;
  if (tenths >= 10) return `${Math.round(r)}×`;
  return `${tenths.toFixed(1)}×`;
}

/**
 * When something happened, inside a sentence: `at 02:00` today, `yesterday at 23:58`,
 * `on Mon 6 Apr at 02:00` this week, `on 14 Feb at 02:00`, `on 31 Dec 2025 at 23:00`.
 */
export function formatAt(at: Date, now: Date, tz: string): string {
  const when = formatWhen(at, now, tz);
  const [, day, clock] = /^(.*) (\d\d:\d\d)$/.exec(when) ?? [];
  if (day === undefined || clock === undefined) return `at ${when}`;
  if (day === "today") return `at ${clock}`;
  if (day === "yesterday" || day === "tomorrow") return `${day} at ${clock}`;
  return `on ${day} at ${clock}`;
}

/** `6 Apr` (or `6 Apr 2025` in another year than `now`): a calendar day in the reader's zone. */
export function formatDay(at: Date, now: Date, tz: string): string {
  const w = wallClock(at, tz);
  const year = w.year === wallClock(now, tz).year ? "" : ` ${w.year}`;
  return `${w.day} ${w.monthName.slice(0, 3)}${year}`;
}

/** `1h 10m`, `45m`, `2d 3h`: how long a job was down, to the minute (seconds below one). */
export function formatDowntime(seconds: number): string {
  return formatCompact(seconds < 60 ? seconds : Math.round(seconds / 60) * 60);
}

import { Cron } from "croner";
import { LastbeatError } from "./errors.js";

/** Throws unless `tz` is an IANA zone this runtime knows. */
export function validateTimeZone(tz: string): string {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return tz;
  } catch {
    throw new LastbeatError("E_SCHEDULE", `unknown time zone ${JSON.stringify(tz)} (use an IANA name like Europe/Berlin)`);
  }
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
    throw new LastbeatError("E_SCHEDULE", `invalid schedule ${JSON.stringify(schedule)}: ${(error as Error).message}`);
  }
}

const cache = new Map<string, Cron>();

/** Validates a 5-field cron expression (and its zone); throws LastbeatError E_SCHEDULE. */
export function validateSchedule(schedule: string, tz?: string): string {
  compile(schedule, tz);
  return schedule;
}

/** The first occurrence of `schedule` in `tz` strictly after `after` (DST-correct), or null. */
export function nextOccurrence(schedule: string, tz: string | undefined, after: Date): Date | null {
  const key = `${tz ?? "UTC"}\u0000${schedule}`;
  let cron = cache.get(key);
  if (!cron) {
    cron = compile(schedule, tz);
    cache.set(key, cron);
  }
  return cron.nextRun(after);
}

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { intlWallClock, wallClock } from "../../packages/report/src/time.js";

/**
 * Zones whose clocks are awkward: DST both ways of the equator, a 30-minute DST (Lord Howe),
 * quarter-hour offsets (Kathmandu, Chatham), negative DST (Dublin), a skipped day (Apia, 2011),
 * an offset in seconds until 1972 (Monrovia), and ones that changed their offset for good.
 */
const ZONES = [
  "UTC",
  "Europe/Berlin",
  "Europe/London",
  "Europe/Dublin",
  "America/New_York",
  "America/Sao_Paulo",
  "America/St_Johns",
  "Australia/Lord_Howe",
  "Asia/Kathmandu",
  "Pacific/Chatham",
  "Pacific/Apia",
  "Pacific/Kiritimati",
  "Africa/Monrovia",
  "Europe/Amsterdam",
  "Asia/Kolkata",
  "Antarctica/Troll",
];

const MINUTE = 60_000;

describe("the wall clock in a zone", () => {
  it("is what Intl says, for any instant in any awkward zone", () => {
    fc.assert(
      fc.property(
        // The awkward ones often, every zone this runtime knows now and then.
        fc.oneof({ arbitrary: fc.constantFrom(...ZONES), weight: 3 }, { arbitrary: fc.constantFrom(...Intl.supportedValuesOf("timeZone")), weight: 1 }),
        fc.oneof(
          { arbitrary: fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2040, 0, 1) }), weight: 4 },
          { arbitrary: fc.integer({ min: Date.UTC(1880, 0, 1), max: Date.UTC(2200, 0, 1) }), weight: 1 },
          { arbitrary: fc.integer({ min: -8.64e15, max: 8.64e15 }), weight: 1 },
        ),
        (tz, t) => {
          expect(wallClock(new Date(t), tz)).toEqual(intlWallClock(new Date(t), tz));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it("is what Intl says minute by minute across offset changes", () => {
    const days: Array<[string, string]> = [
      ["Europe/Berlin", "2026-03-29"], // spring forward 02:00 → 03:00
      ["Europe/Berlin", "2026-10-25"], // fall back 03:00 → 02:00
      ["Australia/Lord_Howe", "2026-04-05"], // back half an hour
      ["Australia/Lord_Howe", "2026-10-04"],
      ["Pacific/Apia", "2011-12-29"], // the day Samoa skipped
      ["Pacific/Apia", "2011-12-30"],
      ["Africa/Monrovia", "1972-01-07"], // -0:44:30 → UTC
      ["America/Sao_Paulo", "2018-11-04"],
      ["Europe/Dublin", "2026-10-25"],
    ];
    for (const [tz, day] of days) {
      const start = Date.parse(`${day}T00:00:00Z`) - 14 * 60 * MINUTE;
      for (let t = start; t < start + 52 * 60 * MINUTE; t += MINUTE) {
        // Off the minute too: an offset in seconds moves the minute's boundary.
        for (const at of [t, t + 29_999, t + 59_999]) {
          expect(wallClock(new Date(at), tz), `${tz} ${new Date(at).toISOString()}`).toEqual(intlWallClock(new Date(at), tz));
        }
      }
    }
  });

  it("throws for an invalid date as Intl does", () => {
    expect(() => wallClock(new Date(Number.NaN), "UTC")).toThrow(RangeError);
  });
});

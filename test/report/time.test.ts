import { formatAgo, formatAt, formatDay, formatDowntime, formatRunLength, formatSpan, formatWhen } from "@lastbeat/report";
import { formatDistanceStrict } from "date-fns/formatDistanceStrict";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const NOW = new Date("2026-04-08T07:00:00Z"); // a Wednesday

describe("human-friendly times", () => {
  it("says when a beat happened relative to the reader's calendar day", () => {
    const when = (iso: string, tz = "UTC") => formatWhen(new Date(iso), NOW, tz);
    expect(when("2026-04-08T00:05:00Z")).toBe("today 00:05");
    expect(when("2026-04-07T23:58:00Z")).toBe("yesterday 23:58");
    // The same instant is "today" in Berlin, where it is already 01:58 on the 8th.
    expect(when("2026-04-07T23:58:00Z", "Europe/Berlin")).toBe("today 01:58");
    expect(when("2026-04-04T02:00:00Z")).toBe("Sat 4 Apr 02:00");
    expect(when("2026-02-14T02:00:00Z")).toBe("14 Feb 02:00");
    expect(when("2025-12-31T23:00:00Z")).toBe("31 Dec 2025 23:00");
    expect(when("2026-04-09T06:00:00Z")).toBe("tomorrow 06:00");
  });

  it("counts calendar days across a DST change", () => {
    // Europe/Berlin moved to summer time on 29 March 2026: that day had 23 hours.
    const now = new Date("2026-03-30T06:00:00Z");
    expect(formatWhen(new Date("2026-03-28T22:30:00Z"), now, "Europe/Berlin")).toBe("Sat 28 Mar 23:30");
    expect(formatWhen(new Date("2026-03-29T22:30:00Z"), now, "Europe/Berlin")).toBe("today 00:30");
  });

  it("says how long ago", () => {
    expect(formatAgo(new Date("2026-04-08T06:59:59.500Z"), NOW)).toBe("just now");
    expect(formatAgo(new Date("2026-04-08T04:00:00Z"), NOW)).toBe("3 hours ago");
    expect(formatAgo(new Date("2026-04-08T07:02:00Z"), NOW)).toBe("in 2 minutes");
    expect(formatAgo(new Date("2026-03-20T07:00:00Z"), NOW)).toBe("19 days ago");
    expect(formatAgo(new Date("2025-04-13T07:00:00Z"), NOW)).toBe("1 year ago"); // 12 months of 30 days
    expect(() => formatAgo(new Date(Number.NaN), NOW)).toThrow(RangeError);
  });

  it("says how long ago in date-fns' words, whatever the machine's zone", () => {
    // 2 days 11:45 before a time after New York's change to summer time (9 March 2025).
    const now = new Date("2025-03-11T12:00:00Z");
    const at = new Date(now.getTime() - (2 * 86_400 + 11 * 3_600 + 45 * 60) * 1000);
    const distances = fc.oneof(
      fc.integer({ min: 1000, max: 20 * 365 * 86_400_000 }),
      // Near each unit's rounding edge and limit.
      fc.tuple(fc.constantFrom(30_000, 60_000, 1_800_000, 3_600_000, 43_200_000, 86_400_000, 1_296_000_000, 2_592_000_000, 31_536_000_000), fc.integer({ min: -2000, max: 2000 })).map(([edge, d]) => Math.max(1000, edge + d)),
    );
    const pairs = fc.tuple(fc.integer({ min: 0, max: 4_102_444_800_000 }), distances, fc.boolean());
    withZone("UTC", () => {
      // With the machine on UTC, date-fns has no DST to normalise: the two must agree.
      fc.assert(
        fc.property(pairs, ([t, distance, ahead]) => {
          const [a, n] = [new Date(ahead ? t + distance : t), new Date(ahead ? t : t + distance)];
          expect(formatAgo(a, n)).toBe(formatDistanceStrict(a, n, { addSuffix: true }));
        }),
        { numRuns: 2000 },
      );
      expect(formatAgo(at, now)).toBe("2 days ago");
    });
    for (const zone of ["America/New_York", "Australia/Lord_Howe", "Europe/Berlin"]) {
      withZone(zone, () => {
        expect(formatAgo(at, now)).toBe("2 days ago");
        fc.assert(
          fc.property(pairs, fc.integer({ min: -400 * 86_400_000, max: 400 * 86_400_000 }), ([t, distance], shift) => {
            // Only the distance counts: the same two instants a DST change apart or not read alike.
            expect(formatAgo(new Date(t + shift), new Date(t + shift + distance))).toBe(formatAgo(new Date(t), new Date(t + distance)));
          }),
          { numRuns: 500 },
        );
      });
    }
  });

  it("spells out intervals and run lengths with at most two units", () => {
    expect([60, 300, 5400, 86_400, 604_800, 90_061].map(formatSpan)).toEqual([
      "1 minute",
      "5 minutes",
      "1 hour 30 minutes",
      "1 day",
      "7 days",
      "1 day 1 hour",
    ]);
    expect([0, 412, 999, 1000, 183_000].map(formatRunLength)).toEqual(["0 ms", "412 ms", "999 ms", "1 second", "3 minutes 3 seconds"]);
  });

  it("says when something happened inside a sentence, in the reader's zone", () => {
    const at = (iso: string, tz = "UTC") => formatAt(new Date(iso), NOW, tz);
    expect(at("2026-04-08T02:00:00Z")).toBe("at 02:00");
    expect(at("2026-04-07T23:58:00Z")).toBe("yesterday at 23:58");
    expect(at("2026-04-07T23:58:00Z", "Europe/Berlin")).toBe("at 01:58");
    expect(at("2026-04-04T02:00:00Z")).toBe("on Sat 4 Apr at 02:00");
    expect(at("2026-02-14T02:00:00Z")).toBe("on 14 Feb at 02:00");
    expect(at("2025-12-31T23:00:00Z")).toBe("on 31 Dec 2025 at 23:00");
  });

  it("names a calendar day, with its year only when it is not this one", () => {
    expect(formatDay(new Date("2026-04-03T23:30:00Z"), NOW, "UTC")).toBe("3 Apr");
    expect(formatDay(new Date("2026-04-03T23:30:00Z"), NOW, "Europe/Berlin")).toBe("4 Apr");
    expect(formatDay(new Date("2025-12-31T12:00:00Z"), NOW, "UTC")).toBe("31 Dec 2025");
  });

  it("says how long a job was down, compactly, to the minute", () => {
    expect([4200, 16_200, 10_800, 2700, 45, 3629, 3631, 2 * 86_400 + 3 * 3600].map(formatDowntime)).toEqual([
      "1h 10m",
      "4h 30m",
      "3h",
      "45m",
      "45s",
      "1h",
      "1h 1m",
      "2d 3h",
    ]);
  });
});

/** Runs `body` with the process in time zone `zone` (Node rereads TZ when it is assigned). */
function withZone(zone: string, body: () => void): void {
  const before = process.env.TZ;
  process.env.TZ = zone;
  try {
    // Worker threads keep their zone: this test needs a runner in its own process (vitest's forks).
    expect(Intl.DateTimeFormat().resolvedOptions().timeZone).toBe(zone);
    body();
  } finally {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
}

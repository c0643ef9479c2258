import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseHeartbeat } from "lastbeat/internal";

/*
 * The heartbeat's times are checked field by field at fixed places (fast: three per heartbeat,
 * 100,000 heartbeats a scan). This pins it to the plain definition: the shape, every field in
 * range, and a time the JavaScript engine itself can read.
 */

const SHAPE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-](\d{2}):?(\d{2}))$/;

function plainDefinition(value: string): boolean {
  const m = SHAPE.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second = 0, , , offsetHours = 0, offsetMinutes = 0] = m
    .slice(1)
    .map((part) => (part === undefined || !/^\d+$/.test(part) ? undefined : Number(part)));
  const leap = year! % 4 === 0 && (year! % 100 !== 0 || year! % 400 === 0);
  const daysInMonth = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month!) ? 30 : 31;
  const inRange = month! >= 1 && month! <= 12 && day! >= 1 && day! <= daysInMonth && hour! <= 23 && minute! <= 59 && second <= 59;
  return inRange && offsetHours <= 23 && offsetMinutes <= 59 && Number.isFinite(Date.parse(value));
}

const accepted = (at: string) => parseHeartbeat(JSON.stringify({ job: "j", status: "ok", at, interval_s: 60 }), "j").ok;

const pad = (n: number, width: number) => String(n).padStart(width, "0");
/** Times near the valid ones: every field at, inside and just past its range, every shape. */
const nearlyValidTime = fc
  .record({
    year: fc.integer({ min: 0, max: 9999 }),
    month: fc.integer({ min: 0, max: 13 }),
    day: fc.integer({ min: 0, max: 32 }),
    hour: fc.integer({ min: 0, max: 25 }),
    minute: fc.integer({ min: 0, max: 61 }),
    second: fc.option(fc.integer({ min: 0, max: 61 })),
    fraction: fc.option(fc.integer({ min: 1, max: 9 })),
    zone: fc.constantFrom("Z", "+", "-"),
    offsetHours: fc.integer({ min: 0, max: 25 }),
    offsetMinutes: fc.integer({ min: 0, max: 61 }),
    colon: fc.boolean(),
  })
  .map((t) => {
    const seconds = t.second === null ? "" : `:${pad(t.second, 2)}${t.fraction === null ? "" : `.${"1234567890".slice(0, t.fraction)}`}`;
    const zone = t.zone === "Z" ? "Z" : `${t.zone}${pad(t.offsetHours, 2)}${t.colon ? ":" : ""}${pad(t.offsetMinutes, 2)}`;
    return `${pad(t.year, 4)}-${pad(t.month, 2)}-${pad(t.day, 2)}T${pad(t.hour, 2)}:${pad(t.minute, 2)}${seconds}${zone}`;
  });

describe("heartbeat times", () => {
  it("are accepted exactly when the plain definition accepts them", () => {
    fc.assert(
      fc.property(fc.oneof(nearlyValidTime, fc.string({ maxLength: 30 })), (at) => {
        expect(accepted(at)).toBe(plainDefinition(at));
      }),
      { numRuns: 20_000 },
    );
  });

  it("in particular", () => {
    expect(accepted("2024-02-29T23:59:59.999Z")).toBe(true);
    expect(accepted("2025-02-29T00:00:00Z")).toBe(false);
    expect(accepted("2025-04-31T00:00Z")).toBe(false);
    expect(accepted("2025-06-02T05:12:34.123456789+0200")).toBe(plainDefinition("2025-06-02T05:12:34.123456789+0200"));
    expect(accepted("2025-06-02T05:12:00-23:59")).toBe(true);
    expect(accepted("2025-06-02T05:12:00+24:00")).toBe(false);
    expect(accepted("2025-06-02T05:60:00Z")).toBe(false);
    expect(accepted("2025-06-02T05:12:60Z")).toBe(false);
    expect(accepted("2025-06-02 05:12:00Z")).toBe(false);
  });
});

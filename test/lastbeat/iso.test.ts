import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isoTime } from "lastbeat/internal";

describe("isoTime", () => {
  it("is toISOString, for every instant a Date can hold", () => {
    fc.assert(
      fc.property(
        // Mostly years 0000–9999, the ones computed here; the rest are handed to toISOString.
        fc.oneof({ arbitrary: fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 }), weight: 4 }, { arbitrary: fc.integer({ min: -8.64e15, max: 8.64e15 }), weight: 1 }),
        (ms) => {
          expect(isoTime(new Date(ms))).toBe(new Date(ms).toISOString());
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it("is toISOString at the edges: year 0, 9999 and one past, leap days, epoch, millisecond padding", () => {
    for (const text of ["0000-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z", "+010000-01-01T00:00:00.000Z", "-000001-12-31T23:59:59.999Z", "2024-02-29T12:00:00.007Z", "2100-02-28T23:59:59.070Z", "1970-01-01T00:00:00.000Z", "1969-12-31T23:59:59.999Z", "0999-03-01T00:00:00.100Z"]) {
      expect(isoTime(new Date(text))).toBe(text);
    }
  });

  it("throws like toISOString for an invalid date", () => {
    expect(() => isoTime(new Date(Number.NaN))).toThrow(RangeError);
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { JobState, JobStatus } from "lastbeat";
import { jobStateJsonText, jobStateToJson, STATUS_SEVERITY } from "lastbeat/internal";

/*
 * `status --json` writes each row as jobStateJsonText builds it, field by field; the contract is
 * JSON.stringify({ now, jobs }, null, 2). The two must give the same bytes for any state.
 */

/** The row as JSON.stringify indents it inside `{ now, jobs: [row] }`, without the frame. */
function stringified(state: JobState): string {
  const whole = JSON.stringify({ now: "x", jobs: [jobStateToJson(state)] }, null, 2);
  const start = whole.indexOf("    {");
  return whole.slice(start, whole.lastIndexOf("    }") + "    }".length);
}

const anyText = fc.oneof(
  fc.string(),
  fc.string({ unit: "grapheme" }),
  // Quotes, backslashes, control characters, lone surrogates, U+2028: everything JSON escapes or may.
  fc.string({ unit: fc.constantFrom("\"", "\\", "\n", "\u0000", "\u001f", "\u007f", "\ud800", "\udc00", "\u2028", "é", "𝄞", "a") }),
);
const anyDate = fc.oneof(
  fc.constant(null),
  fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }),
  fc.date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2100-01-01T00:00:00Z"), noInvalidDate: true }),
);
const anyNumber = fc.oneof(
  fc.constant(null),
  fc.double(),
  fc.integer(),
  fc.constantFrom(0, -0, 1e21, 1e-7, 0.0005, 2.5e-4, 1.0005, Number.MAX_VALUE, Number.MIN_VALUE, NaN, Infinity, -Infinity),
);

const anyState: fc.Arbitrary<JobState> = fc.record({
  job: anyText,
  status: fc.constantFrom(...(STATUS_SEVERITY as readonly JobStatus[])),
  alerting: fc.boolean(),
  reason: anyText,
  lastBeatAt: anyDate,
  lastOkAt: anyDate,
  ageSeconds: anyNumber,
  intervalSeconds: anyNumber,
  ratio: anyNumber,
  dueAt: anyDate,
  graceEndAt: anyDate,
  alertingSince: anyDate,
  file: fc.oneof(fc.constant(null), anyText),
  heartbeat: fc.constant(null),
});

describe("jobStateJsonText", () => {
  it("gives the bytes JSON.stringify gives the row, for any state (property)", () => {
    fc.assert(
      fc.property(anyState, (state) => {
        expect(jobStateJsonText(state)).toBe(stringified(state));
      }),
      { numRuns: 2000 },
    );
  });

  it("writes a typical row as the documented JSON", () => {
    const state: JobState = {
      job: "backup",
      status: "stale",
      alerting: true,
      reason: 'no beat since 2026-11-22T02:00:00.000Z; "quoted"',
      lastBeatAt: new Date("2026-11-22T02:00:00.000Z"),
      lastOkAt: null,
      ageSeconds: 100_800.12345,
      intervalSeconds: 86_400,
      ratio: 1.1666680955,
      dueAt: new Date("2026-11-23T02:00:00.000Z"),
      graceEndAt: null,
      alertingSince: null,
      file: "/var/lib/lastbeat/backup.last",
      heartbeat: null,
    };
    expect(JSON.parse(jobStateJsonText(state))).toEqual({
      job: "backup",
      status: "stale",
      alerting: true,
      last_beat_at: "2026-11-22T02:00:00.000Z",
      last_ok_at: null,
      age_s: 100_800.123,
      interval_s: 86_400,
      ratio: 1.167,
      due_at: "2026-11-23T02:00:00.000Z",
      reason: 'no beat since 2026-11-22T02:00:00.000Z; "quoted"',
      file: "/var/lib/lastbeat/backup.last",
    });
    expect(jobStateJsonText(state)).toBe(stringified(state));
  });
});

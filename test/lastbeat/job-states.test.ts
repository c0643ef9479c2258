import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { JobState, JobStatus } from "lastbeat";
import { jobRowsJsonText, jobRowTexts, jobStateToJson, jsonWithJobTexts, sortJobStates, STATUS_SEVERITY } from "lastbeat/internal";

/*
 * `status --json` prints its rows 1,000 at a time (jobRowsJsonText); the contract is
 * JSON.stringify({ now, jobs }, null, 2) of the whole. The pieces, joined, must be those bytes.
 */

/** The whole document the way `status --json` writes it: head, chunks of rows, tail. */
function inChunks(states: readonly JobState[], size: number): string {
  const rows = states.map(jobStateToJson);
  const chunks: string[] = [];
  for (let start = 0; start < rows.length; start += size) chunks.push(jobRowsJsonText(rows.slice(start, start + size)));
  const head = `{\n  "now": "x",\n  "jobs": [`;
  return rows.length === 0 ? `${head}]\n}` : `${head}\n${chunks.join(",\n")}\n  ]\n}`;
}

const stringified = (states: readonly JobState[]) => JSON.stringify({ now: "x", jobs: states.map(jobStateToJson) }, null, 2);

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

describe("jobRowsJsonText", () => {
  it("gives, chunk by chunk, the bytes JSON.stringify gives the whole document, for any states (property)", () => {
    fc.assert(
      fc.property(fc.array(anyState, { maxLength: 12 }), fc.integer({ min: 1, max: 5 }), (states, size) => {
        expect(inChunks(states, size)).toBe(stringified(states));
      }),
      { numRuns: 500 },
    );
  });

  it("cuts into one text per row that, rows reordered, print the document of the reordered rows (property)", () => {
    // Rows with nested objects and arrays (the report's have past runs): only a row's own brace cuts.
    const nested = fc.record({ job: anyText, runs: fc.array(fc.record({ at: anyText, n: anyNumber }), { maxLength: 3 }), deep: fc.record({ a: fc.record({ b: anyText }) }) });
    fc.assert(
      fc.property(fc.array(fc.oneof(anyState.map(jobStateToJson), nested), { maxLength: 12 }), fc.func(fc.integer()), (rows, key) => {
        const texts = jobRowTexts(rows);
        expect(texts).toHaveLength(rows.length);
        expect(texts.join(",\n")).toBe(jobRowsJsonText(rows));
        // Sorted after they became text, as status --json does: the document of the sorted rows.
        const order = rows.map((_, i) => i).sort((a, b) => key(a) - key(b) || a - b);
        const head = { now: "x", jobs: [] as never[], after: [1, { two: "\n  \"jobs\": []" }] };
        const printed = [...jsonWithJobTexts(head, order.map((i) => texts[i] as string))].join("");
        expect(printed).toBe(`${JSON.stringify({ ...head, jobs: order.map((i) => rows[i]) }, null, 2)}\n`);
      }),
      { numRuns: 500 },
    );
  });

  it("refuses rows that are not objects with fields, which it cannot cut", () => {
    expect(() => jobRowTexts([{}, { job: "a" }])).toThrow("2 rows gave 1 texts");
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
    expect(jobRowsJsonText([jobStateToJson(state)])).toBe(`    {
      "job": "backup",
      "status": "stale",
      "alerting": true,
      "last_beat_at": "2026-11-22T02:00:00.000Z",
      "last_ok_at": null,
      "age_s": 100800.123,
      "interval_s": 86400,
      "ratio": 1.167,
      "due_at": "2026-11-23T02:00:00.000Z",
      "reason": "no beat since 2026-11-22T02:00:00.000Z; \\"quoted\\"",
      "file": "/var/lib/lastbeat/backup.last"
    }`);
    expect(jobRowsJsonText([])).toBe("");
  });
});

describe("sortJobStates", () => {
  type Row = Pick<JobState, "job" | "status" | "ratio"> & { id: number };
  /** The order by its definition: one comparison over everything, stable. */
  const reference = (rows: readonly Row[]) =>
    [...rows].sort(
      (a, b) =>
        STATUS_SEVERITY.indexOf(a.status) - STATUS_SEVERITY.indexOf(b.status) ||
        (b.ratio ?? 0) - (a.ratio ?? 0) ||
        (a.job < b.job ? -1 : a.job > b.job ? 1 : 0),
    );
  // Few statuses, ratios and names, so ties on every key are common; names repeat too (stability).
  const anyRow = fc.record({
    job: fc.oneof(fc.constantFrom("a", "b", "ab", "B", "é", "job-1", "job-10", "job-2"), fc.string({ maxLength: 3 })),
    status: fc.constantFrom(...(STATUS_SEVERITY as readonly JobStatus[])),
    ratio: fc.oneof(fc.constant(null), fc.constantFrom(0, -0, 0.5, 1, 1.5, 2, 300_000.25, Infinity), fc.double({ noNaN: true, min: 0 })),
  });

  it("orders worst first, then most overdue, then by name, stably, as one comparison would (property)", () => {
    fc.assert(
      fc.property(fc.array(anyRow, { maxLength: 60 }), (drawn) => {
        const rows = drawn.map((row, id) => ({ ...row, id }));
        expect(sortJobStates(rows).map((r) => r.id)).toEqual(reference(rows).map((r) => r.id));
      }),
      { numRuns: 1000 },
    );
  });

  it("returns a new array and leaves its input alone", () => {
    const rows: Row[] = [
      { job: "b", status: "ok", ratio: 0.5, id: 0 },
      { job: "a", status: "stale", ratio: 3, id: 1 },
    ];
    const sorted = sortJobStates(rows);
    expect(sorted.map((r) => r.id)).toEqual([1, 0]);
    expect(rows.map((r) => r.id)).toEqual([0, 1]);
  });
});

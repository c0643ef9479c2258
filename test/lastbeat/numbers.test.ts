import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { evaluate, scanHeartbeats } from "lastbeat";
import { buildHeartbeat, jobStateToJson, parseDuration, parseHeartbeat, parseManifest } from "lastbeat/internal";
import type { Declaration, Heartbeat } from "lastbeat";

const now = new Date("2026-11-23T10:00:00.000Z");
const beat = (over: Record<string, unknown> = {}) =>
  JSON.stringify({ format: "lastbeat/1", job: "x", status: "ok", at: "2026-11-23T09:00:00.000Z", interval_s: 300, ...over });

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lastbeat-numbers-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("one bad number never blinds the checker", () => {
  it.each([
    ["interval_s 1e300", { interval_s: 1e300 }, /interval/],
    ["interval_s of 99999999999 weeks", { interval_s: 99_999_999_999 * 604_800 }, /interval/],
    ["a grace past year 275760", { grace: "99999999999w", at: "2026-11-23T09:00:00.000Z" }, /grace/],
    ["a grace multiple past year 275760", { grace: "99999999999999x" }, /grace/],
    ["max_runtime_s 1e300 on a start beat", { status: "start", max_runtime_s: 1e300 }, /max_runtime/],
  ])("%s makes that job invalid, naming the field; the other jobs are evaluated", async (_name, over, field) => {
    await writeFile(join(dir, "x.last"), beat(over));
    await writeFile(join(dir, "good.last"), beat({ job: "good", at: "2026-11-23T09:59:00.000Z" }));
    await writeFile(join(dir, "gone.last"), beat({ job: "gone", at: "2026-11-23T08:00:00.000Z" }));
    const states = await scanHeartbeats({ dirs: [dir], now });
    const byJob = Object.fromEntries(states.map((s) => [s.job, s]));
    expect(byJob.x).toMatchObject({ status: "invalid", alerting: true });
    expect(byJob.x!.reason).toMatch(field);
    expect(byJob.good?.status).toBe("ok");
    expect(byJob.gone?.status).toBe("stale");
    for (const state of states) expect(() => JSON.stringify(jobStateToJson(state))).not.toThrow();
  });

  it.each(["99999999999w", "1e300", "300000y", "9999999999999999999999"])("durations whose dates cannot be represented are refused: %s", (text) => {
    expect(() => parseDuration(text, "--every")).toThrow(/^--every/);
  });

  it("the writer refuses a grace multiple or a duration whose dates cannot be represented, naming the option", () => {
    expect(() => buildHeartbeat("x", { every: "99999999999w", now })).toThrow(/^every/);
    expect(() => buildHeartbeat("x", { every: "1w", grace: "99999999999999x", now })).toThrow(/grace/);
    expect(() => buildHeartbeat("x", { every: "1w", maxRuntime: "99999999999w", now })).toThrow(/^maxRuntime/);
  });

  // Every input parseHeartbeat accepts, evaluated at any time with or without a manifest entry.
  const number = fc.oneof(
    fc.double({ noNaN: false }),
    fc.integer(),
    fc.constantFrom(0, -1, 1e-300, 5e-324, 1e300, 8.64e15, 8.64e12, Number.MAX_SAFE_INTEGER, Number.MAX_VALUE),
  );
  const time = fc.oneof(
    fc.date({ min: new Date("0000-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z"), noInvalidDate: true }).map((d) => d.toISOString()),
    fc.constantFrom("2026-11-23T09:00:00Z", "9999-12-31T23:59:59.999Z", "0000-01-01T00:00:00Z", "2026-02-30T05:00:00Z"),
  );
  const duration = fc.oneof(
    fc.constantFrom("2x", "1x", "0.5x", "99999999999w", "1e300", "30m", "1.5x", "99999999999999x", "0s", "", "1w"),
    fc.tuple(fc.nat(), fc.constantFrom("s", "m", "h", "d", "w", "x")).map(([n, u]) => `${n}${u}`),
    fc.string({ maxLength: 32 }),
  );
  const heartbeatText = fc
    .record(
      {
        format: fc.constant("lastbeat/1"),
        job: fc.constant("x"),
        status: fc.constantFrom("ok", "fail", "start"),
        at: time,
        interval_s: number,
        schedule: fc.constantFrom("0 0 1 1 *", "*/5 * * * *", "0 0 30 2 *", "0 3 * * 0", "bad"),
        tz: fc.constantFrom("UTC", "Europe/Berlin", "Pacific/Kiritimati", "Nowhere/Else"),
        grace: duration,
        max_runtime_s: number,
        last_ok_at: time,
        started_at: time,
        duration_ms: number,
        exit_code: fc.integer(),
        message: fc.string({ maxLength: 40 }),
        runs: fc.array(
          fc.record(
            {
              at: time,
              status: fc.constantFrom("ok", "fail", "start"),
              duration_ms: number,
              exit_code: fc.integer(),
              message: fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom(5, null, "\u0007".repeat(1024), "x".repeat(1025))),
            },
            { requiredKeys: ["at", "status"] },
          ),
          { maxLength: 25 },
        ),
        alert_after: fc.oneof(fc.integer({ min: -1, max: 22 }), number),
        recover_after: fc.oneof(fc.integer({ min: -1, max: 22 }), number),
      },
      { requiredKeys: ["format", "job", "status", "at", "interval_s"] },
    )
    .map((record) => JSON.stringify(record));
  const legacyText = fc
    .record({ timestamp: fc.oneof(number, time), interval_seconds: number })
    .map((record) => JSON.stringify(record));
  const declaration: fc.Arbitrary<Declaration | undefined> = fc.option(
    fc.record(
      {
        intervalSeconds: number,
        schedule: fc.constantFrom("0 0 1 1 *", "*/5 * * * *", "0 0 30 2 *"),
        tz: fc.constantFrom("UTC", "Europe/Berlin"),
        grace: duration,
        maxRuntimeSeconds: number,
        paused: fc.oneof(fc.boolean(), time),
        alertAfter: fc.integer({ min: 1, max: 20 }),
        recoverAfter: fc.integer({ min: 1, max: 20 }),
      },
      { requiredKeys: [] },
    ),
    { nil: undefined },
  );
  const instant = fc.oneof(
    fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }),
    fc.constant(now),
  );

  it("evaluate never throws for any input parseHeartbeat accepts (property)", () => {
    fc.assert(
      fc.property(fc.oneof(heartbeatText, legacyText), declaration, instant, (text, decl, at) => {
        const parsed = parseHeartbeat(text, "x");
        if (!parsed.ok) return;
        const state = evaluate(parsed.heartbeat, decl, at);
        // What every reader does next with the state must not throw either.
        JSON.stringify(jobStateToJson(state));
        if (state.ageSeconds !== null) expect(state.ageSeconds).toBeGreaterThanOrEqual(0);
        if (state.ratio !== null) expect(state.ratio).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 3000 },
    );
  });
});

describe("dates and files", () => {
  it.each(["2026-02-30T05:00:00Z", "2026-04-31T05:00:00Z", "2026-01-01T24:30:00Z", "2026-01-01T05:60:00Z", "2025-02-29T00:00:00Z"])(
    "%s is not a time (no silent roll-over)",
    (at) => {
      expect(parseHeartbeat(beat({ at }), "x")).toMatchObject({ ok: false, reason: "field at must be an ISO-8601 time" });
    },
  );
  it("a leap day is a time", () => {
    expect(parseHeartbeat(beat({ at: "2028-02-29T05:00:00Z" }), "x").ok).toBe(true);
  });
  it("a UTF-8 byte order mark at the start of a file is accepted", async () => {
    await writeFile(join(dir, "x.last"), `\uFEFF${beat({ at: "2026-11-23T09:59:00.000Z" })}`);
    expect((await scanHeartbeats({ dirs: [dir], now }))[0]).toMatchObject({ job: "x", status: "ok" });
    expect(parseManifest(`\uFEFF{"jobs":{"x":{"every":"5m"}}}`).jobs.get("x")).toMatchObject({ intervalSeconds: 300 });
  });
  it("ages and ratios are never negative: a beat slightly in the future says so", () => {
    const hb = JSON.parse(beat({ at: "2026-11-23T10:02:00.000Z" })) as Heartbeat;
    const state = evaluate(hb, undefined, now);
    expect(state).toMatchObject({ status: "ok", ageSeconds: 0, ratio: 0 });
    expect(state.reason).toMatch(/in the future/);
  });
});

describe("the manifest wins as a whole", () => {
  const manifest = parseManifest(JSON.stringify({ jobs: { x: { every: "5m" }, y: { every: "1h" } } }));
  it("a file's schedule is not used when the manifest declares every", () => {
    const hb = JSON.parse(beat({ at: "2026-11-13T10:00:00.000Z", schedule: "0 0 1 1 *" })) as Heartbeat;
    expect(evaluate(hb, manifest.jobs.get("x"), now)).toMatchObject({ status: "stale", alerting: true });
  });
  it("a file's grace is not used when the manifest declares every", () => {
    const hb = JSON.parse(beat({ job: "y", at: "2026-11-23T07:00:00.000Z", interval_s: 3600, grace: "30d" })) as Heartbeat;
    expect(evaluate(hb, manifest.jobs.get("y"), now).status).toBe("stale");
  });
  it("a file's max runtime and zone are not used either", () => {
    const hb = JSON.parse(beat({ status: "start", at: "2026-11-23T09:50:00.000Z", max_runtime_s: 60, tz: "Asia/Tokyo" })) as Heartbeat;
    const state = evaluate(hb, manifest.jobs.get("x"), now);
    expect(state.status).toBe("running");
  });
});

describe("a timed pause is judged from its end", () => {
  const daily = (paused: string): Declaration => ({ intervalSeconds: 86_400, paused });
  const hb = JSON.parse(beat({ at: "2026-11-10T02:00:00.000Z", interval_s: 86_400 })) as Heartbeat;
  const end = "2026-11-23T10:00:00.000Z";
  it("one second after the pause ends the job is ok, due one interval after the pause", () => {
    const state = evaluate(hb, daily(end), new Date(Date.parse(end) + 1000));
    expect(state.status).toBe("ok");
    expect(state.dueAt?.toISOString()).toBe("2026-11-24T10:00:00.000Z");
  });
  it("it goes stale by the usual rule counted from the pause's end", () => {
    expect(evaluate(hb, daily(end), new Date("2026-11-25T10:00:00.000Z")).status).toBe("late");
    expect(evaluate(hb, daily(end), new Date("2026-11-25T10:00:00.001Z")).status).toBe("stale");
  });
  it("a scheduled job is due at its next occurrence after the pause", () => {
    const state = evaluate(hb, { ...daily(end), schedule: "0 2 * * *" }, new Date(Date.parse(end) + 1000));
    expect(state).toMatchObject({ status: "ok" });
    expect(state.dueAt?.toISOString()).toBe("2026-11-24T02:00:00.000Z");
  });
  it("a beat after the pause is judged as usual", () => {
    const after = JSON.parse(beat({ at: "2026-11-23T11:00:00.000Z", interval_s: 300 })) as Heartbeat;
    expect(evaluate(after, { intervalSeconds: 300, paused: end }, new Date("2026-11-23T11:10:00.001Z")).status).toBe("stale");
  });
});

describe("a hung job stays overrun", () => {
  it("a skipped run's start beat keeps the verdict counted from the hung run's own start (no max runtime)", () => {
    // The hung run started at 06:00; a skipped run at 09:55 wrote a start beat carrying that start.
    const hb = JSON.parse(
      beat({ status: "start", at: "2026-11-23T09:55:00.000Z", started_at: "2026-11-23T06:00:00.000Z", message: "skipped the run at 2026-11-23T09:55:00.000Z" }),
    ) as Heartbeat;
    const state = evaluate(hb, undefined, now);
    expect(state).toMatchObject({ status: "overrun", alerting: true });
    expect(state.alertingSince?.toISOString()).toBe("2026-11-23T06:10:00.000Z");
    expect(state.reason).toMatch(/skipped the run/);
  });
});

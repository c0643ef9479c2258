import { spawnSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Cron } from "croner";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { evaluate, scanHeartbeats } from "lastbeat";
import { latestOccurrence, parseManifest, previousOccurrence } from "lastbeat/internal";
import type { Declaration, Heartbeat, MaintenanceWindow } from "lastbeat";
import { testdir } from "../support/testdir.js";

const at = (iso: string, deltaMs = 0) => new Date(Date.parse(iso) + deltaMs);
const MINUTE = 60_000;
const HOUR = 3_600_000;
const beat = (over: Partial<Heartbeat> = {}): Heartbeat => ({
  format: "lastbeat/1",
  job: "db-dump",
  status: "ok",
  at: "2026-11-22T01:00:00.000Z",
  interval_s: 3600,
  ...over,
});
// Sundays 03:00 Berlin for 2 hours: 2026-11-22 (CET) is 02:00Z to 04:00Z.
const sunday: MaintenanceWindow = { schedule: "0 3 * * 0", durationSeconds: 7200, tz: "Europe/Berlin" };
const S = "2026-11-22T02:00:00.000Z";
const E = "2026-11-22T04:00:00.000Z";

/** The oracle: croner itself, asked the plain way (the first run after a moment). */
function cronOf(schedule: string, tz = "UTC"): Cron {
  return new Cron(schedule, { timezone: tz, paused: true });
}

describe("latestOccurrence: the bounded search back", () => {
  /** Occurrences every `step` minutes from `origin`, with a counter of the calls made. */
  const every = (stepMinutes: number, origin = 0) => {
    const step = stepMinutes * MINUTE;
    const calls = { n: 0 };
    const firstAfter = (ms: number) => {
      calls.n++;
      return origin + (Math.floor((ms - origin) / step) + 1) * step;
    };
    return { firstAfter, calls };
  };
  const YEARS_100 = 100 * 365.25 * 86_400_000;

  it("finds an occurrence exactly at t, and the one before it one millisecond earlier", () => {
    const { firstAfter } = every(60);
    expect(latestOccurrence(firstAfter, 10 * HOUR, YEARS_100)).toBe(10 * HOUR);
    expect(latestOccurrence(firstAfter, 10 * HOUR - 1, YEARS_100)).toBe(9 * HOUR);
  });

  it("tells apart two occurrences one minute apart, far back", () => {
    // Daily at 03:00 and 03:01.
    const calls = { n: 0 };
    const firstAfter = (ms: number) => {
      calls.n++;
      const day = Math.floor(ms / 86_400_000) * 86_400_000;
      for (const candidate of [day + 3 * HOUR, day + 3 * HOUR + MINUTE, day + 86_400_000 + 3 * HOUR]) if (candidate > ms) return candidate;
      return Infinity;
    };
    const t = 40 * 86_400_000 + 20 * HOUR;
    expect(latestOccurrence(firstAfter, t, 1e12)).toBe(40 * 86_400_000 + 3 * HOUR + MINUTE);
    expect(latestOccurrence(firstAfter, 40 * 86_400_000 + 3 * HOUR + MINUTE - 1, 1e12)).toBe(40 * 86_400_000 + 3 * HOUR);
  });

  it("looks back over (t − within, t] only", () => {
    const { firstAfter } = every(60);
    expect(latestOccurrence(firstAfter, 10 * HOUR + 30 * MINUTE, 30 * MINUTE)).toBeNull();
    expect(latestOccurrence(firstAfter, 10 * HOUR + 30 * MINUTE, 30 * MINUTE + 1)).toBe(10 * HOUR);
  });

  it.each([
    ["every minute, 100 years back", 1, 3 * HOUR + 17 * MINUTE],
    ["every 8 years (a leap day), 100 years back", 8 * 366 * 24 * 60, 200 * 86_400_000],
    ["never within 100 years", 1e12, 5 * HOUR],
  ])("%s: at most 2 × ⌈log2(within / 1 minute)⌉ + 2 calls", (_name, stepMinutes, t) => {
    const { firstAfter, calls } = every(stepMinutes, 7 * MINUTE);
    const found = latestOccurrence(firstAfter, t, YEARS_100);
    // Checked by walking forward from the answer: nothing later up to t.
    if (found !== null) expect(firstAfter(found)).toBeGreaterThan(t);
    expect(calls.n).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(YEARS_100 / MINUTE)) + 2 + 1);
  });

  it("agrees with walking croner's runs forward over a short horizon (property)", () => {
    // Each with a horizon longer than its longest gap, so the walk forward always starts before the answer.
    const DAY = 86_400_000;
    const horizons: Record<string, number> = {
      "* * * * *": HOUR,
      "*/7 * * * *": HOUR,
      "30 2 * * *": 2 * DAY,
      "0 3 * * 0": 8 * DAY,
      "15 */5 * * 1-5": 4 * DAY,
      "0 0 29 2 *": 9 * 366 * DAY,
      "0,30 1-3 * * *": 2 * DAY,
      "0,1 3 * * *": 2 * DAY, // two runs a minute apart: the search must tell them apart
    };
    const schedules = Object.keys(horizons);
    const zones = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"];
    // Around both 2026 DST changes in Europe and America, and anywhere in between.
    const instant = fc.oneof(
      fc.integer({ min: Date.parse("2026-03-07T00:00:00Z"), max: Date.parse("2026-03-31T00:00:00Z") }),
      fc.integer({ min: Date.parse("2026-10-24T00:00:00Z"), max: Date.parse("2026-11-02T00:00:00Z") }),
      fc.integer({ min: Date.parse("2026-01-01T00:00:00Z"), max: Date.parse("2034-01-01T00:00:00Z") }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...schedules), fc.constantFrom(...zones), instant, (schedule, tz, t) => {
        const cron = cronOf(schedule, tz);
        const back = horizons[schedule]!;
        let walked: number | null = null;
        for (let run = cron.nextRun(new Date(t - back)); run && run.getTime() <= t; run = cron.nextRun(run)) walked = run.getTime();
        expect(previousOccurrence(schedule, tz, new Date(t), back)?.getTime() ?? null).toBe(walked);
      }),
      { numRuns: 150 },
    );
  });
});

describe("inside a window the job is paused", () => {
  const decl: Declaration = { maintenance: [sunday] };
  it.each([
    [at(S, -1), "ok"],
    [at(S), "paused"],
    [at(E, -1), "paused"],
    [at(E), "ok"],
  ])("at %s: %s", (now, status) => {
    expect(evaluate(beat({ at: "2026-11-22T01:59:00.000Z" }), decl, now).status).toBe(status);
  });

  it("says until when, whatever the file says (a failed run, a hung run, a stale job)", () => {
    const stale = evaluate(beat({ at: "2026-11-20T00:00:00.000Z" }), decl, at(S));
    expect(stale).toMatchObject({ status: "paused", alerting: false, reason: `in maintenance until ${E}` });
    expect(evaluate(beat({ status: "fail", at: "2026-11-22T01:59:00.000Z" }), decl, at(S, 1)).status).toBe("paused");
    expect(evaluate(beat({ status: "start", at: "2026-11-21T00:00:00.000Z", max_runtime_s: 60 }), decl, at(S, 1)).status).toBe("paused");
  });

  it("covers missing and invalid jobs too, as a manifest pause does", () => {
    const missing = { ...decl, intervalSeconds: 3600 };
    expect(evaluate(undefined, missing, at(S), { job: "x" }).status).toBe("paused");
    expect(evaluate(undefined, missing, at(E), { job: "x" }).status).toBe("missing");
    const broken = { job: "x", invalidReason: "heartbeat file is not JSON" };
    expect(evaluate(undefined, decl, at(S), broken).status).toBe("paused");
    expect(evaluate(undefined, decl, at(E), broken).status).toBe("invalid");
  });

  it("a manifest pause keeps its own reason inside a window", () => {
    expect(evaluate(beat(), { ...decl, paused: true }, at(S)).reason).toBe("paused in the manifest");
  });

  it("a job's windows add up: any of them pauses it", () => {
    const daily: MaintenanceWindow = { schedule: "0 12 * * *", durationSeconds: 600 };
    const both: Declaration = { maintenance: [sunday, daily] };
    expect(evaluate(beat({ at: "2026-11-23T11:59:00.000Z" }), both, at("2026-11-23T12:05:00Z")).reason).toBe(
      "in maintenance until 2026-11-23T12:10:00.000Z",
    );
    expect(evaluate(beat({ at: "2026-11-22T01:59:00.000Z" }), both, at(S)).status).toBe("paused");
  });
});

describe("after a window, judged as after a pause", () => {
  const decl: Declaration = { maintenance: [sunday] };

  it("a job due during the window is not stale right after it: due one interval after the window", () => {
    // Hourly, last beat 01:30Z: due 02:30 and stale after 03:30, both inside the window.
    const hb = beat({ at: "2026-11-22T01:30:00.000Z" });
    expect(evaluate(hb, undefined, at(E)).status).toBe("stale");
    const after = evaluate(hb, decl, at(E));
    expect(after).toMatchObject({ status: "ok", reason: `next beat due 2026-11-22T05:00:00.000Z (maintenance ended ${E})` });
    expect(evaluate(hb, decl, at("2026-11-22T05:00:00Z")).status).toBe("late");
    expect(evaluate(hb, decl, at("2026-11-22T06:00:00Z")).status).toBe("late");
    const stale = evaluate(hb, decl, at("2026-11-22T06:00:00.001Z"));
    expect(stale.status).toBe("stale");
    expect(stale.alertingSince?.toISOString()).toBe("2026-11-22T06:00:00.000Z");
  });

  it("a scheduled job whose run fell in the window is due at its next run after the window", () => {
    // Daily at 02:30 UTC, inside the window; it last ran the day before.
    const hb = beat({ at: "2026-11-21T02:30:00.000Z", interval_s: 86_400, schedule: "30 2 * * *", tz: "UTC" });
    const after = evaluate(hb, decl, at(E, 1));
    expect(after.status).toBe("ok");
    expect(after.dueAt?.toISOString()).toBe("2026-11-23T02:30:00.000Z");
  });

  it("a job already late when the window began is not excused: stale as soon as the window ends", () => {
    // Every 5 minutes, silent since 01:00Z: due 01:05, stale after 01:10, before the window.
    const hb = beat({ at: "2026-11-22T01:00:00.000Z", interval_s: 300 });
    const after = evaluate(hb, decl, at(E));
    expect(after.status).toBe("stale");
    expect(after.alertingSince?.toISOString()).toBe("2026-11-22T01:10:00.000Z");
  });

  it("a window recurring inside a job's grace never keeps a silent job from alerting", () => {
    // Daily at 02:00, daily window 04:00–05:00: the job stopped after its Monday run.
    const daily: Declaration = { intervalSeconds: 86_400, schedule: "0 2 * * *", maintenance: [{ schedule: "0 4 * * *", durationSeconds: 3600 }] };
    const hb = beat({ at: "2026-11-23T02:00:00.000Z" });
    expect(evaluate(hb, daily, at("2026-11-25T02:00:00.000Z")).status).toBe("late");
    for (const when of ["2026-11-25T05:00:00.000Z", "2026-11-26T05:00:00.000Z", "2026-11-30T05:00:00.000Z"]) {
      expect(evaluate(hb, daily, at(when))).toMatchObject({ status: "stale", alertingSince: at("2026-11-25T02:00:00.000Z") });
    }
  });

  it("a beat after the window is judged as usual", () => {
    expect(evaluate(beat({ at: "2026-11-22T04:10:00.000Z", interval_s: 300 }), decl, at("2026-11-22T04:20:00.001Z")).status).toBe("stale");
  });

  it("a run in progress keeps its own deadline: running or overrun by its start alone", () => {
    // Started 01:50Z with a 30-minute limit: the window hid the overrun, it did not end it.
    const hb = beat({ status: "start", at: "2026-11-22T01:50:00.000Z", max_runtime_s: 1800 });
    expect(evaluate(hb, decl, at(S, -1)).status).toBe("running");
    expect(evaluate(hb, decl, at(S)).status).toBe("paused");
    expect(evaluate(hb, decl, at(E))).toMatchObject({ status: "overrun", alertingSince: at("2026-11-22T02:20:00.000Z") });
    // One started at 03:50 local, in the window, with time left when it ends, is running.
    const inWindow = beat({ status: "start", at: "2026-11-22T03:50:00.000Z", max_runtime_s: 1800 });
    expect(evaluate(inWindow, decl, at(E)).status).toBe("running");
  });

  it("a run that failed in the window is failed once it ends (its last run did fail)", () => {
    expect(evaluate(beat({ status: "fail", at: "2026-11-22T03:00:00.000Z" }), decl, at(E)).status).toBe("failed");
  });
});

describe("windows across daylight saving time (Europe/Berlin)", () => {
  // 02:30 local, for one hour: cron's rules, as croner applies them to every schedule.
  const decl: Declaration = { maintenance: [{ schedule: "30 2 * * *", durationSeconds: 3600, tz: "Europe/Berlin" }] };
  const status = (iso: string, delta = 0) => evaluate(beat({ at: "2026-03-01T00:00:00.000Z", interval_s: 86_400 * 365 }), decl, at(iso, delta)).status;

  it("the spring-forward night (02:00 jumps to 03:00, no 02:30): the window opens at 03:00 CEST and lasts its hour", () => {
    // The night before: 02:30 CET = 01:30Z.
    expect(status("2026-03-28T01:30:00Z")).toBe("paused");
    expect(status("2026-03-29T00:59:59.999Z")).toBe("ok"); // 01:59:59 CET
    expect(status("2026-03-29T01:00:00Z")).toBe("paused"); // 03:00 CEST, right after the jump
    expect(evaluate(beat({ at: "2026-03-01T00:00:00.000Z", interval_s: 86_400 * 365 }), decl, at("2026-03-29T01:00:00Z")).reason).toBe(
      "in maintenance until 2026-03-29T02:00:00.000Z",
    );
    expect(status("2026-03-29T02:00:00Z", -1)).toBe("paused");
    expect(status("2026-03-29T02:00:00Z")).toBe("ok"); // 04:00 CEST
    // The night after: 02:30 CEST = 00:30Z.
    expect(status("2026-03-30T00:30:00Z")).toBe("paused");
    expect(status("2026-03-30T00:30:00Z", -1)).toBe("ok");
  });

  it("the fall-back night (02:30 happens twice): one window, from the first 02:30, for one hour of real time", () => {
    expect(status("2026-10-25T00:30:00Z", -1)).toBe("ok");
    expect(status("2026-10-25T00:30:00Z")).toBe("paused"); // 02:30 CEST
    expect(status("2026-10-25T01:30:00Z", -1)).toBe("paused");
    expect(status("2026-10-25T01:30:00Z")).toBe("ok"); // 02:30 CET, the second time: no second window
    expect(status("2026-10-25T02:00:00Z")).toBe("ok");
    // The night after: 02:30 CET = 01:30Z.
    expect(status("2026-10-26T01:30:00Z")).toBe("paused");
  });

  it("a window's duration is elapsed time: 3 hours from 01:00 on the spring-forward night end at 05:00 CEST", () => {
    const long: Declaration = { maintenance: [{ schedule: "0 1 * * *", durationSeconds: 3 * 3600, tz: "Europe/Berlin" }] };
    const hb = beat({ at: "2026-03-01T00:00:00.000Z", interval_s: 86_400 * 365 });
    expect(evaluate(hb, long, at("2026-03-29T00:00:00Z")).reason).toBe("in maintenance until 2026-03-29T03:00:00.000Z");
    expect(evaluate(hb, long, at("2026-10-25T00:00:00Z")).reason).toBe("in maintenance until 2026-10-25T02:00:00.000Z");
  });

  it("a window without a zone is in UTC, as a manifest schedule is", () => {
    const utc: Declaration = { maintenance: [{ schedule: "30 2 * * *", durationSeconds: 3600 }] };
    const hb = beat({ at: "2026-03-01T00:00:00.000Z", interval_s: 86_400 * 365 });
    expect(evaluate(hb, utc, at("2026-03-29T02:30:00Z")).status).toBe("paused");
    expect(evaluate(hb, utc, at("2026-03-29T02:30:00Z", -1)).status).toBe("ok");
  });
});

describe("paused exactly inside some window (property, against a minute-by-minute search)", () => {
  const zones = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "America/St_Johns"];
  const field = (max: number) =>
    fc.oneof(
      fc.constant("*"),
      fc.integer({ min: 0, max }).map(String),
      fc.integer({ min: 2, max: 15 }).map((k) => `*/${k}`),
      fc.uniqueArray(fc.integer({ min: 0, max }), { minLength: 2, maxLength: 3 }).map((v) => v.join(",")),
    );
  const window: fc.Arbitrary<MaintenanceWindow> = fc.record({
    schedule: fc
      .tuple(field(59), field(23), fc.constantFrom("*", "*", "1-5", "0", "6"))
      .map(([minute, hour, weekday]) => `${minute} ${hour} * * ${weekday}`),
    durationSeconds: fc.integer({ min: 1, max: 120 }).map((m) => m * 60),
    tz: fc.constantFrom(...zones),
  });
  const instant = fc.oneof(
    fc.integer({ min: Date.parse("2026-03-07T00:00:00Z"), max: Date.parse("2026-03-31T00:00:00Z") }),
    fc.integer({ min: Date.parse("2026-10-24T00:00:00Z"), max: Date.parse("2026-11-02T00:00:00Z") }),
    fc.integer({ min: Date.parse("2026-01-01T00:00:00Z"), max: Date.parse("2027-01-01T00:00:00Z") }),
  );

  /** Brute force: every whole minute in (now − duration, now] at which croner fires the window. */
  function latestStartByMinutes(w: MaintenanceWindow, now: number): number | null {
    const cron = cronOf(w.schedule, w.tz);
    const d = w.durationSeconds * 1000;
    for (let m = Math.floor(now / MINUTE) * MINUTE; m > now - d; m -= MINUTE) {
      if (cron.nextRun(new Date(m - 1))?.getTime() === m) return m;
    }
    return null;
  }

  it("evaluate never throws, and a job is paused iff now is inside some window", () => {
    // Each case asks at several instants near each other, as a scan's jobs do: what the first
    // answer taught the window's cache must not change the next ones.
    const nearby = fc.array(fc.integer({ min: -4 * HOUR, max: 4 * HOUR }), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(
        fc.array(window, { minLength: 1, maxLength: 2 }),
        instant,
        nearby,
        fc.integer({ min: 0, max: 2 * 86_400 }),
        fc.integer({ min: 60, max: 86_400 }),
        fc.constantFrom("ok", "fail", "start"),
        (windows, base, offsets, silence, interval, status) => {
          for (const now of [base, ...offsets.map((o) => base + o)]) {
            const hb = beat({ status, at: new Date(now - silence * 1000).toISOString(), interval_s: interval });
            const state = evaluate(hb, { maintenance: windows }, new Date(now));
            const starts = windows.map((w) => latestStartByMinutes(w, now));
            const inside = starts.some((s) => s !== null);
            expect(state.status === "paused").toBe(inside);
            if (!inside) continue;
            const until = Date.parse(/^in maintenance until (\S+)$/.exec(state.reason)?.[1] ?? "");
            const latestEnd = Math.max(...windows.map((w, i) => (starts[i] === null ? -Infinity : starts[i]! + w.durationSeconds * 1000)));
            // At least the latest window's end (later when the next window starts before it ends).
            expect(until).toBeGreaterThanOrEqual(latestEnd);
            expect(evaluate(hb, { maintenance: windows }, new Date(until - 1)).status).toBe("paused");
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("answers from a window's memory equal croner's, whatever order the instants come in", () => {
    // A fresh window each run (the duration's seconds make it one the cache has not seen), asked
    // at instants in any order: after a clear instant, an earlier one may be inside, and so on.
    fc.assert(
      fc.property(
        window,
        fc.integer({ min: 1, max: 59 }),
        instant,
        fc.array(fc.integer({ min: -36 * HOUR, max: 36 * HOUR }), { minLength: 2, maxLength: 6 }),
        (w, seconds, base, offsets) => {
          const fresh = { ...w, durationSeconds: Math.min(w.durationSeconds, 90 * 60) + seconds };
          for (const now of offsets.map((o) => base + o)) {
            const paused = evaluate(beat({ at: new Date(now).toISOString() }), { maintenance: [fresh] }, new Date(now)).status === "paused";
            expect(paused).toBe(latestStartByMinutes(fresh, now) !== null);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it("two clear stretches either side of a window are never joined across it", () => {
    const w: MaintenanceWindow = { schedule: "0 3 * * *", durationSeconds: 7200 + 7, tz: "UTC" };
    const paused = (iso: string) => evaluate(beat({ at: iso }), { maintenance: [w] }, at(iso)).status === "paused";
    expect(paused("2026-06-10T02:00:00Z")).toBe(false);
    expect(paused("2026-06-10T05:00:07Z")).toBe(false);
    expect(paused("2026-06-10T03:10:00Z")).toBe(true);
    expect(paused("2026-06-10T02:59:59.999Z")).toBe(false);
  });

  it("never asks the cron engine past a year before the last date a Date holds: it searched forever there", () => {
    // `0 3 * * 0` in Europe/Berlin after 12 September 275760: croner never returned, and a
    // property below drew such instants now and then. In a child process, so a regression is a
    // failed test (killed after 20 s), not a test run that never ends.
    const script = `
      import { evaluate } from "lastbeat";
      const window = { schedule: "0 3 * * 0", durationSeconds: 3600, tz: "Europe/Berlin" };
      const beat = { format: "lastbeat/1", job: "x", status: "ok", at: "2026-01-01T00:00:00.000Z", interval_s: 3600 };
      const state = evaluate(beat, { maintenance: [window] }, new Date(Date.parse("+275760-09-12T23:59:59.956Z")));
      process.stdout.write(state.status);`;
    const child = spawnSync(process.execPath, ["--conditions=lastbeat-source", "--import", "tsx", "--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 20_000,
      cwd: fileURLToPath(new URL("../..", import.meta.url)),
    });
    expect(child.signal, "killed: the cron engine was still searching after 20 s").toBeNull();
    expect(child.stderr).toBe("");
    expect(child.stdout).not.toBe("paused");
  });

  it("evaluate never throws for windows the manifest would refuse: the job is invalid, naming the window", () => {
    const bad = fc.record({
      schedule: fc.constantFrom("bad", "0 0 30 2 *", "* * * * *", "0 3 * * 0", "61 * * * *", "* * * *"),
      durationSeconds: fc.constantFrom(Number.NaN, -1, 0, 1e300, Infinity, 1, 3600, 86_400 * 365 * 100),
      tz: fc.constantFrom("UTC", "Nowhere/Else", "Europe/Berlin"),
    });
    const anyInstant = fc.oneof(fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }), fc.constant(at(S)));
    fc.assert(
      fc.property(fc.array(bad, { minLength: 1, maxLength: 2 }), anyInstant, (windows, now) => {
        const state = evaluate(beat(), { maintenance: windows }, now);
        if (state.status === "invalid" && /maintenance/.test(state.reason)) expect(state.reason).toMatch(/^maintenance\[\d\]/);
      }),
      { numRuns: 300 },
    );
  });
});

describe("the manifest's maintenance", () => {
  const manifest = (json: unknown) => parseManifest(JSON.stringify(json), "ops/lastbeat.json");
  const refused = (json: unknown) => () => manifest(json);
  const win = { schedule: "0 3 * * 0", duration: "2h", tz: "Europe/Berlin" };

  it("reads windows per job and for all jobs", () => {
    const m = manifest({ maintenance: [win], jobs: { db: { every: "1h", maintenance: [{ schedule: "0 12 * * *", duration: 600 }] } } });
    expect(m.maintenance).toEqual([{ schedule: "0 3 * * 0", durationSeconds: 7200, tz: "Europe/Berlin" }]);
    expect(m.jobs.get("db")?.maintenance).toEqual([{ schedule: "0 12 * * *", durationSeconds: 600 }]);
  });

  it("refuses bad windows with one line naming the file, job, index and key", () => {
    expect(refused({ maintenance: [win, { ...win, tz: "Mars/Olympus" }] })).toThrow(
      'ops/lastbeat.json: maintenance[1].tz: unknown time zone "Mars/Olympus" (use an IANA name like Europe/Berlin)',
    );
    expect(refused({ jobs: { db: { every: "1h", maintenance: [{ ...win, schedule: "0 3 * *" }] } } })).toThrow(
      'ops/lastbeat.json: job db: maintenance[0].schedule: schedule "0 3 * *" must have 5 fields',
    );
    expect(refused({ jobs: { db: { every: "1h", maintenance: [{ ...win, schedule: "0 25 * * *" }] } } })).toThrow(
      /^ops\/lastbeat\.json: job db: maintenance\[0\]\.schedule: invalid schedule "0 25 \* \* \*"/,
    );
    expect(refused({ maintenance: [{ ...win, schedule: "0 0 30 2 *" }] })).toThrow(
      'ops/lastbeat.json: maintenance[0].schedule: schedule "0 0 30 2 *" never fires: no date matches its day and month',
    );
    expect(refused({ maintenance: [{ ...win, duration: "0s" }] })).toThrow(/^ops\/lastbeat\.json: maintenance\[0\]\.duration must be longer than zero/);
    expect(refused({ maintenance: [{ ...win, duration: -5 }] })).toThrow(/^ops\/lastbeat\.json: maintenance\[0\]\.duration must be a positive number/);
    expect(refused({ maintenance: [{ ...win, duration: "soon" }] })).toThrow(/^ops\/lastbeat\.json: maintenance\[0\]\.duration: cannot read "soon"/);
    expect(refused({ maintenance: [{ ...win, duration: true }] })).toThrow('ops/lastbeat.json: maintenance[0].duration must be a duration like "2h" or a number of seconds');
    expect(refused({ maintenance: [{ schedule: "0 0 29 2 *", duration: "36525.01d" }] })).toThrow(
      "ops/lastbeat.json: maintenance[0].duration: 36525.01d is longer than 100 years",
    );
    expect(refused({ jobs: { db: { every: "1h", maintenance: [{ ...win, tz: 1 }] } } })).toThrow("ops/lastbeat.json: job db: maintenance[0].tz must be a string");
    expect(refused({ jobs: { db: { every: "1h", maintenance: [{ ...win, start: "03:00" }] } } })).toThrow(
      'ops/lastbeat.json: job db: maintenance[0]: unknown key "start"',
    );
    expect(refused({ maintenance: [{ duration: "2h" }] })).toThrow('ops/lastbeat.json: maintenance[0]: needs "schedule"');
    expect(refused({ maintenance: ["0 3 * * 0"] })).toThrow('ops/lastbeat.json: maintenance[0] must be an object with "schedule" and "duration"');
    expect(refused({ jobs: { db: { every: "1h", maintenance: win } } })).toThrow(
      'ops/lastbeat.json: job db: "maintenance" must be a list of { "schedule", "duration", "tz" } windows',
    );
  });

  it("refuses a window as long as its schedule's gap (always in maintenance), suggesting a pause", () => {
    expect(refused({ jobs: { db: { every: "1h", maintenance: [{ schedule: "0 3 * * *", duration: "1d" }] } } })).toThrow(
      'ops/lastbeat.json: job db: maintenance[0].duration: 1d is not shorter than the gap between the schedule\'s runs (1d), so the job would always be in maintenance; to stop judging the job, use "paused": true',
    );
    expect(refused({ maintenance: [{ schedule: "*/10 * * * *", duration: "15m" }] })).toThrow(
      'ops/lastbeat.json: maintenance[0].duration: 15m is not shorter than the gap between the schedule\'s runs (10m), so every job would always be in maintenance; pause jobs one by one ("paused": true)',
    );
    // The shortest gap counts: weekdays at 03:00 are 1 day apart from Monday to Friday.
    expect(refused({ maintenance: [{ schedule: "0 3 * * 1-5", duration: "1d" }] })).toThrow(/not shorter than the gap .*\(1d\)/);
    expect(manifest({ maintenance: [{ schedule: "0 3 * * 1-5", duration: "23h59m" }] }).maintenance).toHaveLength(1);
  });

  it("type errors in a job's other keys name the file too", () => {
    expect(refused({ jobs: { db: { every: "1h", tz: 3 } } })).toThrow("ops/lastbeat.json: job db: tz must be a string");
  });
});

describe("the global windows reach every job a scan judges", () => {
  const file = (job: string, over: Partial<Heartbeat> = {}) => JSON.stringify(beat({ job, ...over }));

  it("a file-only job, a declared job with windows of its own, and a missing job", async () => {
    const dir = await testdir("lastbeat-maintenance-");
    // All silent since well before the Sunday window; `nightly` adds a daily 12:00 window of its own.
    await writeFile(join(dir, "only-file.last"), file("only-file", { at: "2026-11-21T00:00:00.000Z" }));
    await writeFile(join(dir, "nightly.last"), file("nightly", { at: "2026-11-21T00:00:00.000Z" }));
    const m = parseManifest(
      JSON.stringify({
        maintenance: [{ schedule: "0 3 * * 0", duration: "2h", tz: "Europe/Berlin" }],
        jobs: { nightly: { every: "1h", maintenance: [{ schedule: "0 12 * * *", duration: "10m" }] }, "never-ran": { every: "1h" } },
      }),
    );
    const statuses = async (now: string) =>
      Object.fromEntries((await scanHeartbeats({ dirs: [dir], manifest: m, now: new Date(now) })).map((s) => [s.job, `${s.status}: ${s.reason}`]));
    expect(await statuses(S)).toEqual({
      "only-file": `paused: in maintenance until ${E}`,
      nightly: `paused: in maintenance until ${E}`,
      "never-ran": `paused: in maintenance until ${E}`,
    });
    expect(await statuses("2026-11-23T12:00:00Z")).toEqual({
      "only-file": "stale: no beat since 2026-11-21T00:00:00.000Z; expected by 2026-11-21T01:00:00.000Z",
      nightly: "paused: in maintenance until 2026-11-23T12:10:00.000Z",
      "never-ran": "missing: declared in the manifest but no heartbeat file was found",
    });
  });

  it("a folder that cannot be read is never paused: it is configuration, not a job", async () => {
    const dir = await testdir("lastbeat-maintenance-");
    const m = parseManifest(JSON.stringify({ maintenance: [{ schedule: "0 3 * * 0", duration: "2h", tz: "Europe/Berlin" }] }));
    const states = await scanHeartbeats({ dirs: [join(dir, "typo")], manifest: m, now: at(S) });
    expect(states.map((s) => s.status)).toEqual(["invalid"]);
  });
});

describe("the edges evaluate guards itself (found by mutation testing)", () => {
  it("a window evaluate cannot compute makes the job invalid, naming it, dated by its file", () => {
    const modifiedAt = at("2026-11-22T01:00:00Z");
    const broken: Declaration = { intervalSeconds: 3600, maintenance: [{ schedule: "61 * * * *", durationSeconds: 600 }] };
    const state = evaluate(beat({ at: "2026-11-22T00:30:00.000Z" }), broken, at("2026-11-22T01:00:00Z"), { modifiedAt });
    expect(state).toMatchObject({ status: "invalid", alerting: true, alertingSince: modifiedAt });
    expect(state.reason).toMatch(/^maintenance\[0\]/);
  });

  it("windows chained back to back excuse at most 8 runs in a row: a job silent for a day still alerts", () => {
    // Hourly 55-minute windows and a 50-minute job: each due time falls inside the next window.
    const chained: Declaration = { intervalSeconds: 3000, maintenance: [{ schedule: "0 * * * *", durationSeconds: 55 * 60 }] };
    const last = beat({ at: "2026-11-21T23:30:00.000Z", interval_s: 3000 });
    const judge = (iso: string) => evaluate(last, chained, at(iso));
    // Seven windows ended by 07:56, each excusing the run due in it: judged from 07:55, due 08:45.
    expect(judge("2026-11-22T07:56:00Z")).toMatchObject({ status: "ok", dueAt: at("2026-11-22T08:45:00Z") });
    // The eighth excuse is the last: due 08:45 (inside 08:00–08:55) is not excused again.
    expect(judge("2026-11-22T08:56:00Z")).toMatchObject({ status: "late", dueAt: at("2026-11-22T08:45:00Z") });
    expect(judge("2026-11-22T09:56:00Z")).toMatchObject({ status: "stale", alerting: true });
    expect(judge("2026-11-23T12:56:00Z").status).toBe("stale");
  });
});

import { describe, expect, it } from "vitest";
import { evaluate } from "lastbeat";
import { parseManifest } from "lastbeat/internal";
import type { Heartbeat } from "lastbeat";

const ms = (iso: string, delta = 0) => new Date(Date.parse(iso) + delta);
const beat = (over: Partial<Heartbeat> = {}): Heartbeat => ({
  format: "lastbeat/1",
  job: "sync",
  status: "ok",
  at: "2026-11-23T10:00:00.000Z",
  interval_s: 300,
  ...over,
});
const statusAt = (hb: Heartbeat | undefined, now: Date, decl = {}) => evaluate(hb, decl, now).status;

describe("interval job, default 2x grace", () => {
  const hb = beat();
  const due = "2026-11-23T10:05:00.000Z";
  const graceEnd = "2026-11-23T10:10:00.000Z";

  it("is ok until one millisecond before due", () => {
    expect(statusAt(hb, ms(due, -1))).toBe("ok");
    expect(evaluate(hb, undefined, ms(due, -1)).dueAt?.toISOString()).toBe(due);
  });
  it("is late exactly at due and exactly at 2x the interval", () => {
    expect(statusAt(hb, ms(due))).toBe("late");
    expect(statusAt(hb, ms(graceEnd))).toBe("late");
    expect(evaluate(hb, undefined, ms(graceEnd)).alerting).toBe(false);
  });
  it("is stale one millisecond after 2x the interval, and alerts since then", () => {
    const state = evaluate(hb, undefined, ms(graceEnd, 1));
    expect(state.status).toBe("stale");
    expect(state.alerting).toBe(true);
    expect(state.alertingSince?.toISOString()).toBe(graceEnd);
    expect(state.ratio).toBeCloseTo(2, 5);
  });
  it("reports age, ratio and due time", () => {
    const state = evaluate(hb, undefined, ms("2026-11-23T10:12:00.000Z"));
    expect(state.ageSeconds).toBe(720);
    expect(state.ratio).toBe(2.4);
    expect(state.graceEndAt?.toISOString()).toBe(graceEnd);
  });
});

describe("absolute grace", () => {
  const hb = beat({ grace: "30s" });
  it("alerts one millisecond after due + grace", () => {
    expect(statusAt(hb, ms("2026-11-23T10:04:59.999Z"))).toBe("ok");
    expect(statusAt(hb, ms("2026-11-23T10:05:00.000Z"))).toBe("late");
    expect(statusAt(hb, ms("2026-11-23T10:05:30.000Z"))).toBe("late");
    expect(statusAt(hb, ms("2026-11-23T10:05:30.001Z"))).toBe("stale");
  });
});

describe("daily cron job in Europe/Berlin across DST", () => {
  // 03:00 local every day, two hours of grace.
  const decl = { intervalSeconds: 86_400, schedule: "0 3 * * *", tz: "Europe/Berlin", grace: "2h" };
  const check = (lastBeat: string, due: string, graceEnd: string) => {
    const hb = beat({ at: lastBeat, interval_s: 86_400 });
    expect(evaluate(hb, decl, ms(due, -1)).status).toBe("ok");
    expect(evaluate(hb, decl, ms(due)).dueAt?.toISOString()).toBe(due);
    expect(evaluate(hb, decl, ms(due)).status).toBe("late");
    expect(evaluate(hb, decl, ms(graceEnd)).status).toBe("late");
    expect(evaluate(hb, decl, ms(graceEnd, 1)).status).toBe("stale");
  };
  it("spring forward: 03:00 CEST is 01:00Z, 23 hours after 03:00 CET", () => {
    check("2026-03-28T02:00:05.000Z", "2026-03-29T01:00:00.000Z", "2026-03-29T03:00:00.000Z");
  });
  it("fall back: 03:00 CET is 02:00Z, 25 hours after 03:00 CEST", () => {
    check("2026-10-24T01:00:05.000Z", "2026-10-25T02:00:00.000Z", "2026-10-25T04:00:00.000Z");
  });
  it("with the default 2x grace, a weekday-only job is not stale over the weekend", () => {
    const weekdays = { intervalSeconds: 86_400, schedule: "0 2 * * 1-5", tz: "Europe/Berlin" };
    // Friday 2026-11-20 02:00 CET = 01:00Z; next run Monday 2026-11-23 01:00Z.
    const hb = beat({ at: "2026-11-20T01:00:10.000Z", interval_s: 86_400 });
    expect(evaluate(hb, weekdays, ms("2026-11-22T23:00:00.000Z")).status).toBe("ok");
    expect(evaluate(hb, weekdays, ms("2026-11-23T01:00:00.000Z")).status).toBe("late");
    expect(evaluate(hb, weekdays, ms("2026-11-24T01:00:00.000Z")).status).toBe("late");
    expect(evaluate(hb, weekdays, ms("2026-11-24T01:00:00.001Z")).status).toBe("stale");
  });
});

describe("fail, start, paused, missing, invalid", () => {
  it("a fail beat alerts at once, with its message", () => {
    const state = evaluate(beat({ status: "fail", message: "disk full", exit_code: 1 }), undefined, ms("2026-11-23T10:00:01Z"));
    expect(state).toMatchObject({ status: "failed", alerting: true, reason: "last run failed: disk full" });
    expect(state.alertingSince?.toISOString()).toBe("2026-11-23T10:00:00.000Z");
  });
  it("a start beat is running within max runtime and overrun one millisecond after", () => {
    const hb = beat({ status: "start", max_runtime_s: 600 });
    expect(statusAt(hb, ms("2026-11-23T10:10:00.000Z"))).toBe("running");
    const state = evaluate(hb, undefined, ms("2026-11-23T10:10:00.001Z"));
    expect(state).toMatchObject({ status: "overrun", alerting: true });
    expect(state.alertingSince?.toISOString()).toBe("2026-11-23T10:10:00.000Z");
  });
  it("without max runtime, a start beat overruns after the grace period", () => {
    const hb = beat({ status: "start" });
    expect(statusAt(hb, ms("2026-11-23T10:10:00.000Z"))).toBe("running");
    expect(statusAt(hb, ms("2026-11-23T10:10:00.001Z"))).toBe("overrun");
  });
  it("keeps last_ok_at across start and fail beats", () => {
    const state = evaluate(beat({ status: "fail", last_ok_at: "2026-11-22T10:00:00.000Z" }), undefined, ms("2026-11-23T10:00:01Z"));
    expect(state.lastOkAt?.toISOString()).toBe("2026-11-22T10:00:00.000Z");
  });
  it("a declared job without a file is missing", () => {
    expect(evaluate(undefined, { intervalSeconds: 60 }, ms("2026-11-23T10:00:00Z"), { job: "x" })).toMatchObject({
      job: "x",
      status: "missing",
      alerting: true,
      file: null,
    });
  });
  it("paused jobs do not alert, and a pause with an end time expires (judged from its end)", () => {
    const hb = beat();
    const late = ms("2026-11-23T12:00:00Z");
    expect(statusAt(hb, late, { paused: true })).toBe("paused");
    expect(statusAt(hb, late, { paused: "2026-11-23T12:00:00.001Z" })).toBe("paused");
    expect(statusAt(hb, late, { paused: "2026-11-23T12:00:00.000Z" })).toBe("ok");
    expect(statusAt(hb, ms("2026-11-23T12:10:00.001Z"), { paused: "2026-11-23T12:00:00.000Z" })).toBe("stale");
    expect(statusAt(undefined, late, { paused: true, intervalSeconds: 60 })).toBe("paused");
  });
  it("a beat more than five minutes in the future is invalid; exactly five is accepted", () => {
    const now = ms("2026-11-23T09:55:00.000Z");
    expect(statusAt(beat(), now)).toBe("ok");
    const state = evaluate(beat(), undefined, ms("2026-11-23T09:54:59.999Z"));
    expect(state.status).toBe("invalid");
    expect(state.reason).toMatch(/future/);
  });
  it("the manifest's declaration wins over the file's", () => {
    const hb = beat({ interval_s: 60 });
    const now = ms("2026-11-23T10:03:00.000Z"); // stale by the file (3 > 2 minutes), ok by the manifest
    expect(statusAt(hb, now)).toBe("stale");
    const manifest = parseManifest(JSON.stringify({ jobs: { sync: { every: "5m" } } }));
    expect(statusAt(hb, now, manifest.jobs.get("sync"))).toBe("ok");
  });
});

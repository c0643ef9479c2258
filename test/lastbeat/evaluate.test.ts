import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { evaluate } from "lastbeat";
import { isUnbeaten, parseManifest } from "lastbeat/internal";
import type { Declaration, Heartbeat } from "lastbeat";

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

describe("every reason, word for word", () => {
  // The reason is what the alert issue, the panel and `status` show: each status's wording,
  // and each culprit a reason names, pinned here so a changed word is a decision, not an accident.
  const fail = { status: "fail" as const };
  const start = { status: "start" as const };
  const history = (failure: { exit_code?: number } = {}) => ({
    recover_after: 2,
    runs: [
      { at: "2026-11-23T10:00:00.000Z", status: "ok" as const },
      { at: "2026-11-23T09:55:00.000Z", status: "fail" as const, ...failure },
    ],
  });
  const cases: Array<[string, Heartbeat | undefined, Declaration | undefined, string, string, string]> = [
    ["ok", beat(), undefined, "10:01", "ok", "next beat due 2026-11-23T10:05:00.000Z"],
    ["ok, dated ahead", beat({ at: "2026-11-23T10:04:00.000Z" }), undefined, "10:01", "ok", "beat is dated 2026-11-23T10:04:00.000Z, in the future; next beat due 2026-11-23T10:09:00.000Z"],
    ["late", beat(), undefined, "10:06", "late", "beat was due 2026-11-23T10:05:00.000Z; alerting after 2026-11-23T10:10:00.000Z"],
    ["stale", beat(), undefined, "10:11", "stale", "no beat since 2026-11-23T10:00:00.000Z; expected by 2026-11-23T10:05:00.000Z"],
    ["ok after a pause", beat(), { paused: "2026-11-23T12:00:00.000Z" }, "12:01", "ok", "next beat due 2026-11-23T12:05:00.000Z (paused until 2026-11-23T12:00:00.000Z)"],
    ["late after a pause", beat(), { paused: "2026-11-23T12:00:00.000Z" }, "12:06", "late", "beat was due 2026-11-23T12:05:00.000Z; alerting after 2026-11-23T12:10:00.000Z (paused until 2026-11-23T12:00:00.000Z)"],
    ["stale after a pause", beat(), { paused: "2026-11-23T12:00:00.000Z" }, "12:11", "stale", "no beat since 2026-11-23T10:00:00.000Z; expected by 2026-11-23T12:05:00.000Z (paused until 2026-11-23T12:00:00.000Z)"],
    ["paused", beat(), { paused: true }, "12:00", "paused", "paused in the manifest"],
    ["paused until", beat(), { paused: "2026-11-24T00:00:00.000Z" }, "12:00", "paused", "paused until 2026-11-24T00:00:00.000Z"],
    ["missing", undefined, { intervalSeconds: 60 }, "12:00", "missing", "declared in the manifest but no heartbeat file was found"],
    ["missing, paused", undefined, { intervalSeconds: 60, paused: true }, "12:00", "paused", "paused in the manifest"],
    ["missing, paused until", undefined, { intervalSeconds: 60, paused: "2026-11-24T00:00:00.000Z" }, "12:00", "paused", "paused until 2026-11-24T00:00:00.000Z"],
    ["dated too far ahead", beat({ at: "2026-11-23T10:10:00.000Z" }), undefined, "10:00", "invalid", "beat is dated 2026-11-23T10:10:00.000Z, more than 5 minutes in the future"],
    ["no interval", beat({ interval_s: undefined as unknown as number }), undefined, "10:00", "invalid", "no interval declared for this job"],
    ["failed with a message", beat({ ...fail, message: "disk full", exit_code: 2 }), undefined, "10:01", "failed", "last run failed: disk full"],
    ["failed with an exit code", beat({ ...fail, exit_code: 2 }), undefined, "10:01", "failed", "last run failed: exit code 2"],
    ["failed, nothing said", beat(fail), undefined, "10:01", "failed", "last run failed"],
    ["flaky with a message", beat({ ...fail, message: "m", exit_code: 1, alert_after: 3 }), undefined, "10:01", "flaky", "1 of 3 failures before alerting: m"],
    ["flaky with an exit code", beat({ ...fail, exit_code: 1, alert_after: 3 }), undefined, "10:01", "flaky", "1 of 3 failures before alerting: exit code 1"],
    ["flaky, nothing said", beat({ ...fail, alert_after: 3 }), undefined, "10:01", "flaky", "1 of 3 failures before alerting"],
    ["recovering", beat(history({ exit_code: 3 })), undefined, "10:01", "failed", "recovering: 1 of 2 ok runs before recovery; last failure: exit code 3 at 2026-11-23T09:55:00.000Z"],
    ["recovering, no exit code", beat(history()), undefined, "10:01", "failed", "recovering: 1 of 2 ok runs before recovery; last failure: at 2026-11-23T09:55:00.000Z"],
    ["running", beat(start), undefined, "10:01", "running", "started 2026-11-23T10:00:00.000Z"],
    ["running, with a note", beat({ ...start, message: "skipped: previous run still going" }), undefined, "10:01", "running", "started 2026-11-23T10:00:00.000Z; skipped: previous run still going"],
    ["overrun its grace", beat(start), undefined, "10:11", "overrun", "started 2026-11-23T10:00:00.000Z and still not finished after its grace period"],
    ["overrun max runtime", beat({ ...start, max_runtime_s: 600 }), undefined, "10:11", "overrun", "started 2026-11-23T10:00:00.000Z and still not finished after max runtime 10m"],
    ["overrun max runtime in seconds", beat({ ...start, max_runtime_s: 90 }), undefined, "10:11", "overrun", "started 2026-11-23T10:00:00.000Z and still not finished after max runtime 90s"],
    ["overrun, with a note", beat({ ...start, max_runtime_s: 600, message: "m" }), undefined, "10:11", "overrun", "started 2026-11-23T10:00:00.000Z and still not finished after max runtime 10m; m"],
    ["interval out of range", beat({ interval_s: 1e15 }), undefined, "10:11", "invalid", "interval_s is too large: the time it gives is past year 275760"],
    ["grace multiple out of range", beat({ interval_s: 1e12, grace: "1000x" }), undefined, "10:11", "invalid", "interval_s × grace is too large: the time it gives is past year 275760"],
    ["grace out of range", beat({ interval_s: 8.638e12, grace: "36500d" }), undefined, "10:11", "invalid", "grace is too large: the time it gives is past year 275760"],
    ["max runtime out of range", beat({ ...start, max_runtime_s: 1e15 }), undefined, "10:11", "invalid", "max_runtime_s is too large: the time it gives is past year 275760"],
    ["manifest interval out of range", beat(), { intervalSeconds: 1e15 }, "10:11", "invalid", "every is too large: the time it gives is past year 275760"],
    ["manifest grace multiple out of range", beat(), { intervalSeconds: 1e12, grace: "1000x" }, "10:11", "invalid", "every × grace is too large: the time it gives is past year 275760"],
    ["manifest max runtime out of range", beat(start), { intervalSeconds: 300, maxRuntimeSeconds: 1e15 }, "10:11", "invalid", "max_runtime is too large: the time it gives is past year 275760"],
    ["a schedule that never fires", beat({ schedule: "0 0 30 2 *" }), undefined, "10:11", "invalid", 'schedule "0 0 30 2 *" never fires again'],
  ];
  it.each(cases)("%s", (_name, hb, decl, time, status, reason) => {
    expect(evaluate(hb, decl, ms(`2026-11-23T${time}:00.000Z`))).toMatchObject({ status, reason });
  });

  it("an unreadable file: its reader's reason, dated by the file; a pause still wins", () => {
    const modifiedAt = ms("2026-11-23T09:00:00.000Z");
    const context = { job: "x", invalidReason: "heartbeat file not valid JSON", modifiedAt };
    expect(evaluate(undefined, undefined, ms("2026-11-23T12:00:00Z"), context)).toMatchObject({
      status: "invalid",
      reason: "heartbeat file not valid JSON",
      alertingSince: modifiedAt,
      heartbeat: null,
    });
    expect(evaluate(undefined, { paused: true }, ms("2026-11-23T12:00:00Z"), context)).toMatchObject({ status: "paused", reason: "paused in the manifest" });
    // A heartbeat handed in beside the reason is not the file's: the state carries none.
    expect(evaluate(beat(), undefined, ms("2026-11-23T12:00:00Z"), context).heartbeat).toBeNull();
  });

  it("is never dated after now: a file server's clock ahead of ours, or --now in the past", () => {
    const now = ms("2026-11-23T08:00:00.000Z");
    const context = { job: "x", invalidReason: "heartbeat file not valid JSON", modifiedAt: ms("2026-11-23T09:00:00.000Z") };
    expect(evaluate(undefined, undefined, now, context)).toMatchObject({ status: "invalid", alertingSince: now });
    expect(evaluate(beat({ interval_s: 0 }), undefined, now, context)).toMatchObject({ status: "invalid", alertingSince: now });
  });
});

describe("the fields of a state, each pinned", () => {
  const at = "2026-11-23T10:00:00.000Z";
  it("dates a state that cannot be judged by its file's change, or not at all", () => {
    const modifiedAt = ms("2026-11-23T09:00:00.000Z");
    const unjudged: Array<[Heartbeat, Declaration | undefined]> = [
      [beat({ at: "2026-11-23T10:10:00.000Z" }), undefined], // dated too far ahead
      [beat({ interval_s: 0 }), undefined], // no usable interval
      [beat({ interval_s: 1e15 }), undefined], // out of range
    ];
    for (const [hb, decl] of unjudged) {
      expect(evaluate(hb, decl, ms("2026-11-23T10:00:00Z"), { modifiedAt })).toMatchObject({ status: "invalid", alertingSince: modifiedAt });
      expect(evaluate(hb, decl, ms("2026-11-23T10:00:00Z")).alertingSince).toBeNull();
    }
  });

  it("takes no interval of zero or below, and gives no ratio without one", () => {
    for (const interval_s of [0, -5]) {
      expect(evaluate(beat({ interval_s }), undefined, ms(at))).toMatchObject({ status: "invalid", reason: "no interval declared for this job", ratio: null });
    }
  });

  it("carries the heartbeat, its job, and when the last ok was", () => {
    const hb = beat();
    expect(evaluate(hb, undefined, ms(at, 60_000))).toMatchObject({ job: "sync", heartbeat: hb, lastOkAt: ms(at) });
    expect(evaluate(undefined, { intervalSeconds: 60 }, ms(at)).job).toBe("?");
  });

  it("reads a schedule's time zone from the file", () => {
    // 03:00 in Berlin is 02:00Z in November; in UTC it would be 03:00Z.
    const hb = beat({ at: "2026-11-23T02:00:00.000Z", schedule: "0 3 * * *", tz: "Europe/Berlin", interval_s: 86_400 });
    expect(evaluate(hb, undefined, ms(at)).dueAt).toEqual(ms("2026-11-24T02:00:00.000Z"));
  });

  it("says a timed pause in the reason of a file it cannot read", () => {
    const state = evaluate(undefined, { paused: "2026-11-24T00:00:00.000Z" }, ms(at), { job: "x", invalidReason: "heartbeat file not valid JSON" });
    expect(state).toMatchObject({ status: "paused", reason: "paused until 2026-11-24T00:00:00.000Z" });
  });

  it("counts the silence from the later of the beat and a pause's end, and says so only when it was the pause", () => {
    // The pause ended before the beat: judged from the beat, no pause in the reason.
    expect(evaluate(beat(), { paused: "2026-11-23T09:00:00.000Z" }, ms("2026-11-23T10:06:00Z"))).toMatchObject({
      status: "late",
      reason: "beat was due 2026-11-23T10:05:00.000Z; alerting after 2026-11-23T10:10:00.000Z",
    });
    // Ended the instant of the beat: the same.
    expect(evaluate(beat(), { paused: at }, ms("2026-11-23T10:01:00Z")).reason).toBe("next beat due 2026-11-23T10:05:00.000Z");
  });

  it("calls a beat dated exactly now ok, not dated in the future", () => {
    expect(evaluate(beat(), undefined, ms(at)).reason).toBe("next beat due 2026-11-23T10:05:00.000Z");
  });

  it("reaches the last instant a date can hold, and no further", () => {
    // max runtime ending exactly at 8.64e15 ms (year 275760) is still a date.
    const maxRuntime = (8.64e15 - Date.parse(at)) / 1000;
    expect(evaluate(beat({ status: "start", max_runtime_s: maxRuntime }), undefined, ms(at, 60_000)).status).toBe("running");
    expect(evaluate(beat({ status: "start", max_runtime_s: maxRuntime + 1 }), undefined, ms(at, 60_000)).status).toBe("invalid");
  });

  it("judges a max runtime only for a run under way", () => {
    expect(evaluate(beat({ max_runtime_s: 1e15 }), undefined, ms(at, 60_000)).status).toBe("ok");
  });

  it("judges recovery on the last finished run: a start beat while recovering stays failed, as the ok beat was", () => {
    const runs = [
      { at, status: "ok" as const },
      { at: "2026-11-23T09:55:00.000Z", status: "fail" as const, exit_code: 1 },
    ];
    const reason = "recovering: 1 of 2 ok runs before recovery; last failure: exit code 1 at 2026-11-23T09:55:00.000Z";
    const ok = evaluate(beat({ status: "ok", recover_after: 2, runs }), undefined, ms(at, 60_000));
    expect(ok).toMatchObject({ status: "failed", reason });
    const started = evaluate(beat({ status: "start", at: ms(at, 30_000).toISOString(), recover_after: 2, runs }), undefined, ms(at, 60_000));
    expect(started).toMatchObject({ status: "failed", reason, alertingSince: ok.alertingSince });
    // Recovered (two ok runs in a row): the next start is simply running.
    const recovered = [{ at: ms(at, 10_000).toISOString(), status: "ok" as const }, ...runs];
    expect(evaluate(beat({ status: "start", at: ms(at, 30_000).toISOString(), recover_after: 2, runs: recovered }), undefined, ms(at, 60_000)).status).toBe("running");
  });

  it("names interval × grace when the default grace pushes the alert past the last date", () => {
    // Due within range (at + 5e15 ms), but twice the interval is past year 275760.
    expect(evaluate(beat({ interval_s: 5e12 }), undefined, ms(at)).reason).toBe("interval_s × grace is too large: the time it gives is past year 275760");
    // A multiple written with a space after it is still a multiple.
    expect(evaluate(beat({ interval_s: 1e12, grace: "1000x " }), undefined, ms(at)).reason).toBe("interval_s × grace is too large: the time it gives is past year 275760");
  });
});

describe("a declared job that has not beaten yet (declared since the declaring file's time)", () => {
  // The crontab line went in at 10:00 on Monday 23 November: `0 2 * * *`, a day apart.
  const declaredAt = ms("2026-11-23T10:00:00Z");
  const nightly: Declaration = { schedule: "0 2 * * *", intervalSeconds: 86_400, declaredAt };
  const judge = (now: Date, decl: Declaration = nightly) => evaluate(undefined, decl, now, { job: "backup" });

  it("is ok until its first run is due, late within the grace, and missing one millisecond after", () => {
    const firstRun = "2026-11-24T02:00:00.000Z";
    // 2× the interval from the declaration, as from a beat: silent for more than two days.
    const graceEnd = "2026-11-25T10:00:00.000Z";
    expect(judge(ms(firstRun, -1))).toMatchObject({ status: "ok", alerting: false, lastBeatAt: null, file: null, reason: `no heartbeat yet; its first run is due ${firstRun}` });
    expect(judge(ms(firstRun, -1)).dueAt?.toISOString()).toBe(firstRun);
    expect(judge(ms(firstRun))).toMatchObject({ status: "late", alerting: false, reason: `no heartbeat yet; its first run was due ${firstRun}; alerting after ${graceEnd}` });
    expect(judge(ms(graceEnd)).status).toBe("late");
    const missing = judge(ms(graceEnd, 1));
    expect(missing).toMatchObject({ status: "missing", alerting: true, reason: "declared in the manifest but no heartbeat file was found" });
    expect(missing.alertingSince?.toISOString()).toBe(graceEnd);
  });

  it("counts an interval job's first run from the declaration, with an absolute grace after it", () => {
    const hourly: Declaration = { intervalSeconds: 3600, grace: "30m", declaredAt };
    expect(judge(ms("2026-11-23T10:59:59.999Z"), hourly).status).toBe("ok");
    expect(judge(ms("2026-11-23T11:30:00.000Z"), hourly).status).toBe("late");
    expect(judge(ms("2026-11-23T11:30:00.001Z"), hourly).status).toBe("missing");
  });

  it("is missing at once without a time to count from: no declaredAt, no interval (@reboot), a date more than 5 minutes ahead", () => {
    const now = ms("2026-11-23T10:00:01Z");
    const atOnce = { status: "missing", alerting: true, alertingSince: null, dueAt: null, reason: "declared in the manifest but no heartbeat file was found" };
    expect(judge(now, { schedule: "0 2 * * *", intervalSeconds: 86_400 })).toMatchObject(atOnce);
    expect(judge(now, { declaredAt })).toMatchObject(atOnce);
    expect(judge(now, { declaredAt, intervalSeconds: 0 })).toMatchObject(atOnce);
    // A schedule that never fires again (30 February) gives no first run to wait for.
    expect(judge(now, { declaredAt, schedule: "0 0 30 2 *", intervalSeconds: 86_400 })).toMatchObject(atOnce);
    expect(judge(now, { ...nightly, declaredAt: ms("2026-11-23T10:05:01.001Z") }).status).toBe("missing");
    expect(judge(now, { ...nightly, declaredAt: new Date(NaN) }).status).toBe("missing");
    // A clock a little ahead is read as now: the job waits for its first run.
    expect(judge(now, { ...nightly, declaredAt: ms("2026-11-23T10:05:01Z") })).toMatchObject({ status: "ok", dueAt: ms("2026-11-24T02:00:00Z") });
  });

  it("is told apart by isUnbeaten: no file, no heartbeat, and ok or late; a missing, paused or beaten job is not", () => {
    expect(isUnbeaten(judge(ms("2026-11-23T11:00:00Z")))).toBe(true);
    expect(isUnbeaten(judge(ms("2026-11-24T03:00:00Z")))).toBe(true);
    expect(judge(ms("2026-11-24T03:00:00Z")).status).toBe("late");
    expect(isUnbeaten(judge(ms("2026-11-26T00:00:00Z")))).toBe(false);
    expect(isUnbeaten(judge(ms("2026-11-23T11:00:00Z"), { ...nightly, paused: true }))).toBe(false);
    const beaten = evaluate(beat({ job: "backup", at: "2026-11-23T10:30:00.000Z" }), nightly, ms("2026-11-23T11:00:00Z"));
    expect(beaten.status).toBe("ok");
    expect(isUnbeaten(beaten)).toBe(false);
    expect(isUnbeaten({ ...judge(ms("2026-11-23T11:00:00Z")), file: "/hb/backup.last" })).toBe(false);
  });

  it("is paused when the manifest pauses it, declared or not, and after a timed pause waits for its first run from the pause's end", () => {
    expect(judge(ms("2026-11-30T00:00:00Z"), { ...nightly, paused: true }).status).toBe("paused");
    const hourly: Declaration = { intervalSeconds: 3600, declaredAt, paused: "2026-11-23T12:00:00.000Z" };
    expect(judge(ms("2026-11-23T11:59:59Z"), hourly).status).toBe("paused");
    expect(judge(ms("2026-11-23T12:00:00Z"), hourly)).toMatchObject({ status: "ok", dueAt: ms("2026-11-23T13:00:00Z") });
    expect(judge(ms("2026-11-23T14:00:00Z"), hourly).status).toBe("late");
    expect(judge(ms("2026-11-23T14:00:00.001Z"), hourly).status).toBe("missing");
  });

  it("waits out a maintenance window its first run falls in, as a job that had beaten would", () => {
    const decl: Declaration = { intervalSeconds: 3600, declaredAt, maintenance: [{ schedule: "0 11 * * *", durationSeconds: 7200 }] };
    // Due 11:00, inside the window 11:00–13:00: judged from 13:00, due 14:00, alerting after 15:00.
    expect(judge(ms("2026-11-23T13:30:00Z"), decl)).toMatchObject({ status: "ok", dueAt: ms("2026-11-23T14:00:00Z") });
    expect(judge(ms("2026-11-23T15:00:00.001Z"), decl).status).toBe("missing");
  });

  it("alerts exactly once silent for more than 2× its interval from its declaration, and never stops, for any time and interval", () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2100-01-01T00:00:00Z"), noInvalidDate: true }),
        fc.integer({ min: 1, max: 30 * 86_400 }),
        fc.array(fc.integer({ min: 0, max: 90 * 86_400_000 }), { minLength: 2, maxLength: 6 }),
        (declared, interval, offsets) => {
          const decl: Declaration = { intervalSeconds: interval, declaredAt: declared };
          const states = [...offsets].sort((a, b) => a - b).map((offset) => judge(new Date(declared.getTime() + offset), decl));
          const firstAlert = states.findIndex((s) => s.alerting);
          if (firstAlert >= 0) expect(states.slice(firstAlert).every((s) => s.status === "missing")).toBe(true);
          for (const [i, s] of states.entries()) {
            const offset = [...offsets].sort((a, b) => a - b)[i]!;
            expect(s.alerting).toBe(offset > 2 * interval * 1000);
          }
        },
      ),
    );
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { evaluate } from "lastbeat";
import type { Declaration, Heartbeat } from "lastbeat";
import { MAX_RUNS, MAX_THRESHOLD, parseManifest, type RunRecord } from "lastbeat/internal";

// Every run five minutes apart, the newest at 10:00; evaluated at 10:01, well before the next is due.
const NEWEST = Date.parse("2026-11-23T10:00:00.000Z");
const now = new Date("2026-11-23T10:01:00.000Z");
const runAt = (i: number, newest = NEWEST) => new Date(newest - i * 300_000).toISOString();

/** A beat whose history is `pattern`, newest first: "ffo" = two failures after an ok. */
function beat(pattern: string, over: Partial<Heartbeat> = {}, newest = NEWEST): Heartbeat {
  const runs: RunRecord[] = [...pattern].map((c, i) => ({
    at: runAt(i, newest),
    status: c === "f" ? "fail" : "ok",
    ...(c === "f" && { exit_code: 1 }),
  }));
  return {
    format: "lastbeat/1",
    job: "sync",
    status: pattern.startsWith("f") ? "fail" : "ok",
    at: runAt(0, newest),
    interval_s: 300,
    ...(pattern.startsWith("f") && { exit_code: 1 }),
    runs,
    ...over,
  };
}
const judge = (hb: Heartbeat, decl: Declaration = {}, at = now) => evaluate(hb, decl, at);

describe("alert_after: failures in a row before a failing job alerts", () => {
  it("one failure fewer than alert_after is flaky, not alerting, and says how far it is", () => {
    const state = judge(beat("ffo", { alert_after: 3 }));
    expect(state).toMatchObject({ status: "flaky", alerting: false, alertingSince: null });
    expect(state.reason).toBe("2 of 3 failures before alerting: exit code 1");
  });
  it("exactly alert_after failures alert, since the run that reached the threshold", () => {
    const state = judge(beat("fffo", { alert_after: 3 }));
    expect(state).toMatchObject({ status: "failed", alerting: true });
    expect(state.alertingSince?.toISOString()).toBe(runAt(0));
    // No count in the reason: the alert issue is not edited on every failing run.
    expect(state.reason).toBe("last run failed: exit code 1");
  });
  it("more failures keep the same alertingSince: the run that reached the threshold", () => {
    expect(judge(beat("fffffo", { alert_after: 3 })).alertingSince?.toISOString()).toBe(runAt(2));
    // With the default threshold, the first failure of the streak.
    expect(judge(beat("fffo")).alertingSince?.toISOString()).toBe(runAt(2));
  });
  it("an ok in between resets the count", () => {
    expect(judge(beat("ffoff", { alert_after: 3 })).status).toBe("flaky");
    expect(judge(beat("ffoff", { alert_after: 3 })).reason).toMatch(/^2 of 3 failures/);
    expect(judge(beat("fofofofo", { alert_after: 2 })).status).toBe("flaky");
  });
  it("a fail beat without a history is one failure", () => {
    const { runs: _runs, ...bare } = beat("f", { alert_after: 2, message: "disk full" });
    expect(judge(bare).reason).toBe("1 of 2 failures before alerting: disk full");
    const { runs: _r, ...plain } = beat("f");
    expect(judge(plain)).toMatchObject({ status: "failed", alertingSince: new Date(runAt(0)) });
  });
  it("a history that leaves out the beat's own run still counts it", () => {
    // Another writer's file: the fail beat at 10:00, its runs starting at the one before.
    const hb = beat("ff", { alert_after: 3, runs: beat("ff").runs!.map((r, i) => ({ ...r, at: runAt(i + 1) })) });
    expect(judge(hb)).toMatchObject({ status: "failed", reason: "last run failed: exit code 1" });
  });
  it("a flaky job that falls silent is stale, like any silent job", () => {
    const hb = beat("fo", { alert_after: 3 });
    expect(judge(hb, {}, new Date("2026-11-23T10:10:00.000Z")).status).toBe("flaky"); // due 10:05, grace end 10:10
    const state = judge(hb, {}, new Date("2026-11-23T10:10:00.001Z"));
    expect(state).toMatchObject({ status: "stale", alerting: true });
    expect(state.alertingSince?.toISOString()).toBe("2026-11-23T10:10:00.000Z");
  });
  it("the manifest's alert_after wins over the file's, field by field", () => {
    const hb = beat("ffo", { alert_after: 3, recover_after: 2 });
    expect(judge(hb, { intervalSeconds: 300, alertAfter: 2 }).status).toBe("failed");
    expect(judge(hb, { intervalSeconds: 300, alertAfter: 4 }).reason).toMatch(/^2 of 4 failures/);
    // A manifest that declares the timing but no threshold keeps the file's (thresholds are not timing).
    expect(judge(hb, parseManifest('{"jobs":{"sync":{"every":"5m"}}}').jobs.get("sync")).status).toBe("flaky");
  });
});

describe("recover_after: ok runs in a row before an alerting job recovers", () => {
  it("one ok fewer than recover_after stays failed, alerting since the failure that alerted", () => {
    const state = judge(beat("offfo", { alert_after: 2, recover_after: 2 }));
    expect(state).toMatchObject({ status: "failed", alerting: true });
    expect(state.alertingSince?.toISOString()).toBe(runAt(2));
    expect(state.reason).toBe(`recovering: 1 of 2 ok runs before recovery; last failure: exit code 1 at ${runAt(1)}`);
  });
  it("exactly recover_after oks recover", () => {
    expect(judge(beat("ooff", { recover_after: 2 }))).toMatchObject({ status: "ok", alerting: false, alertingSince: null });
  });
  it("a failure streak that never alerted (flaky) needs no recovery", () => {
    expect(judge(beat("offo", { alert_after: 3, recover_after: 3 })).status).toBe("ok");
  });
  it("a failure in between restarts the recovery", () => {
    expect(judge(beat("oofoof", { recover_after: 3 })).reason).toMatch(/^recovering: 2 of 3 ok runs/);
  });
  it("an ok beat without a history is recovered", () => {
    const { runs: _runs, ...bare } = beat("o", { recover_after: 5 });
    expect(judge(bare).status).toBe("ok");
  });
  it("the manifest's recover_after wins", () => {
    const hb = beat("off", { recover_after: 3 });
    expect(judge(hb, { intervalSeconds: 300, recoverAfter: 1 }).status).toBe("ok");
    expect(judge(beat("off"), { intervalSeconds: 300, recoverAfter: 2 }).status).toBe("failed");
  });
});

describe("thresholds (property)", () => {
  const history = fc.array(fc.constantFrom<"ok" | "fail">("ok", "fail"), { minLength: 1, maxLength: MAX_RUNS });
  const threshold = fc.option(fc.integer({ min: 1, max: MAX_THRESHOLD }), { nil: undefined });

  const heartbeatOf = (statuses: ("ok" | "fail")[], alertAfter?: number, recoverAfter?: number, newest = NEWEST): Heartbeat =>
    beat(
      statuses.map((s) => (s === "fail" ? "f" : "o")).join(""),
      {
        ...(alertAfter !== undefined && { alert_after: alertAfter }),
        ...(recoverAfter !== undefined && { recover_after: recoverAfter }),
      },
      newest,
    );
  const leading = (statuses: readonly string[], status: string, from = 0) => {
    let i = from;
    while (statuses[i] === status) i++;
    return i - from;
  };

  it("a fail beat is flaky exactly while its failures in a row are fewer than alert_after, failed otherwise", () => {
    fc.assert(
      fc.property(history, threshold, threshold, (statuses, alertAfter, recoverAfter) => {
        const state = judge(heartbeatOf(statuses, alertAfter, recoverAfter));
        const failures = leading(statuses, "fail");
        if (statuses[0] === "fail") {
          expect(state.status).toBe(failures < (alertAfter ?? 1) ? "flaky" : "failed");
          expect(state.alerting).toBe(state.status === "failed");
        } else {
          expect(["ok", "failed"]).toContain(state.status);
        }
        expect(state.status === "flaky").toBe(failures > 0 && failures < (alertAfter ?? 1));
      }),
      { numRuns: 2000 },
    );
  });

  it("an ok beat alerts exactly while it follows an alerting streak with fewer than recover_after oks", () => {
    fc.assert(
      fc.property(history, threshold, threshold, (statuses, alertAfter, recoverAfter) => {
        fc.pre(statuses[0] === "ok");
        const state = judge(heartbeatOf(statuses, alertAfter, recoverAfter));
        const oks = leading(statuses, "ok");
        const failures = leading(statuses, "fail", oks);
        const recovering = failures >= (alertAfter ?? 1) && oks < (recoverAfter ?? 1);
        expect(state.status).toBe(recovering ? "failed" : "ok");
        // Never before the failures it stands for, never after the beat.
        if (recovering) {
          expect(state.alertingSince!.getTime()).toBeLessThan(Date.parse(runAt(oks - 1)));
          expect(state.alertingSince!.getTime()).toBeGreaterThanOrEqual(Date.parse(runAt(oks + failures - 1)));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("alertingSince of a failing job does not move while it keeps failing", () => {
    fc.assert(
      fc.property(history, fc.integer({ min: 1, max: MAX_THRESHOLD }), fc.integer({ min: 1, max: 5 }), (statuses, alertAfter, more) => {
        const before = judge(heartbeatOf(statuses, alertAfter));
        fc.pre(before.status === "failed" && statuses[0] === "fail");
        // `more` failures later, five minutes apart: the incident's start stays where it was.
        const later = [...Array<"fail">(more).fill("fail"), ...statuses].slice(0, MAX_RUNS);
        fc.pre(leading(later, "fail") < MAX_RUNS); // the window still reaches the streak's start
        const shift = more * 300_000;
        const after = judge(heartbeatOf(later, alertAfter, undefined, NEWEST + shift), {}, new Date(now.getTime() + shift));
        expect(after.status).toBe("failed");
        expect(after.alertingSince).toEqual(before.alertingSince);
      }),
      { numRuns: 500 },
    );
  });
});

describe("thresholds in the manifest", () => {
  const manifest = (job: Record<string, unknown>) => () => parseManifest(JSON.stringify({ jobs: { backup: { every: "1d", ...job } } }), "ops/lastbeat.json");
  it("reads alert_after and recover_after per job", () => {
    expect(manifest({ alert_after: 3, recover_after: 20 })().jobs.get("backup")).toEqual({ intervalSeconds: 86_400, alertAfter: 3, recoverAfter: 20 });
  });
  it.each([0, 21, 2.5, "3", null, true])("refuses %j, naming the file, job and key", (value) => {
    expect(manifest({ alert_after: value })).toThrow("ops/lastbeat.json: job backup: alert_after must be a whole number of runs from 1 to 20");
    expect(manifest({ recover_after: value })).toThrow("ops/lastbeat.json: job backup: recover_after must be a whole number of runs from 1 to 20");
  });
  it("names the file for a key of the wrong type, too", () => {
    expect(manifest({ tz: 5 })).toThrow("ops/lastbeat.json: job backup: tz must be a string");
  });
});

import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { scanHeartbeats, withHeartbeat, writeHeartbeat } from "lastbeat";
import type { Heartbeat } from "lastbeat";
import { MAX_RUNS, parseHeartbeat, writeConfigErrorBeat } from "lastbeat/internal";
import { testdir } from "../support/testdir.js";

let dir: string;
beforeEach(async () => {
  dir = await testdir("lastbeat-runs-");
});

const minute = (m: number) => new Date(Date.parse("2026-11-23T10:00:00.000Z") + m * 60_000);
const onDisk = async (job: string): Promise<Heartbeat> => JSON.parse(await readFile(join(dir, `${job}.last`), "utf8")) as Heartbeat;
const quiet = { write: () => true };

describe("the run history a beat carries", () => {
  it("puts each finished run first, carries the earlier ones, and a start beat changes nothing", async () => {
    await writeHeartbeat("job", { every: "5m", dir, now: minute(0), durationMs: 1200.4, exitCode: 0, strict: true });
    await writeHeartbeat("job", { every: "5m", dir, now: minute(5), status: "start", strict: true });
    await writeHeartbeat("job", { every: "5m", dir, now: minute(6), status: "fail", exitCode: 2, strict: true });
    expect((await onDisk("job")).runs).toEqual([
      { at: minute(6).toISOString(), status: "fail", exit_code: 2 },
      { at: minute(0).toISOString(), status: "ok", duration_ms: 1200, exit_code: 0 },
    ]);
    await writeHeartbeat("job", { every: "5m", dir, now: minute(10), status: "start", strict: true });
    expect((await onDisk("job")).runs).toHaveLength(2);
  });

  it("keeps the last 20 runs, newest first", async () => {
    for (let i = 0; i < MAX_RUNS + 5; i++) {
      await writeHeartbeat("job", { every: "5m", dir, now: minute(i), status: i % 3 === 0 ? "fail" : "ok", strict: true });
    }
    const runs = (await onDisk("job")).runs ?? [];
    expect(runs).toHaveLength(MAX_RUNS);
    expect(runs.map((r) => r.at)).toEqual(Array.from({ length: MAX_RUNS }, (_, i) => minute(MAX_RUNS + 4 - i).toISOString()));
    expect(runs[0]).toEqual({ at: minute(24).toISOString(), status: "fail" });
  });

  it("withHeartbeat records its runs with their durations", async () => {
    await withHeartbeat("w", { every: "1h", dir, now: minute(0) }, () => 1);
    await expect(withHeartbeat("w", { every: "1h", dir, now: minute(1) }, () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    const runs = (await onDisk("w")).runs ?? [];
    expect(runs.map((r) => r.status)).toEqual(["fail", "ok"]);
    expect(runs.every((r) => typeof r.duration_ms === "number")).toBe(true);
  });

  it("starts a fresh history after a missing, broken or foreign file, and never fails the write", async () => {
    const cases: Record<string, string> = {
      broken: "{ not json",
      foreign: JSON.stringify({ format: "lastbeat/1", job: "other", status: "ok", at: minute(0).toISOString(), interval_s: 60, runs: [{ at: minute(0).toISOString(), status: "fail" }] }),
      "bad-runs": JSON.stringify({ format: "lastbeat/1", job: "bad-runs", status: "ok", at: minute(0).toISOString(), interval_s: 60, runs: "yes" }),
      huge: "x".repeat(70_000),
    };
    for (const [job, text] of Object.entries(cases)) {
      await writeFile(join(dir, `${job}.last`), text);
      await writeHeartbeat(job, { every: "5m", dir, now: minute(1), status: "fail", strict: true });
      expect((await onDisk(job)).runs, job).toEqual([{ at: minute(1).toISOString(), status: "fail" }]);
    }
    await writeHeartbeat("new", { every: "5m", dir, now: minute(1), strict: true });
    expect((await onDisk("new")).runs).toEqual([{ at: minute(1).toISOString(), status: "ok" }]);
  });

  it("turns a previous beat written without a history (an older lastbeat) into its first run", async () => {
    const old = { format: "lastbeat/1", job: "old", status: "fail", at: minute(0).toISOString(), interval_s: 300, exit_code: 3, duration_ms: 10 };
    await writeFile(join(dir, "old.last"), JSON.stringify(old));
    await writeHeartbeat("old", { every: "5m", dir, now: minute(5), strict: true });
    expect((await onDisk("old")).runs).toEqual([
      { at: minute(5).toISOString(), status: "ok" },
      { at: minute(0).toISOString(), status: "fail", exit_code: 3, duration_ms: 10 },
    ]);
  });

  it("carries the history through the beats of a run with bad flags, and back", async () => {
    await writeHeartbeat("j", { every: "5m", dir, now: minute(0), strict: true });
    const bad = { error: "option '--every <duration>' argument 'x' is invalid", dir, stderr: quiet };
    await writeConfigErrorBeat("j", { ...bad, status: "start", now: minute(5) });
    expect((await onDisk("j")).runs).toHaveLength(1);
    await writeConfigErrorBeat("j", { ...bad, status: "fail", now: minute(6), exitCode: 1, durationMs: 5 });
    expect((await onDisk("j")).runs).toEqual([
      { at: minute(6).toISOString(), status: "fail", duration_ms: 5, exit_code: 1 },
      { at: minute(0).toISOString(), status: "ok" },
    ]);
    await writeHeartbeat("j", { every: "5m", dir, now: minute(10), strict: true });
    expect((await onDisk("j")).runs?.map((r) => r.status)).toEqual(["ok", "fail", "ok"]);
  });
});

describe("alertAfter and recoverAfter options", () => {
  it("are written as alert_after and recover_after", async () => {
    await writeHeartbeat("j", { every: "5m", dir, alertAfter: 3, recoverAfter: 2, strict: true });
    expect(await onDisk("j")).toMatchObject({ alert_after: 3, recover_after: 2 });
    await writeHeartbeat("k", { every: "5m", dir, strict: true });
    expect(await onDisk("k")).not.toHaveProperty("alert_after");
  });

  it.each([0, 21, 1.5, -1, Number.NaN, "3"])("refuse %j with a line naming the option, before writing", async (value) => {
    await expect(writeHeartbeat("j", { every: "5m", dir, alertAfter: value as number, strict: true })).rejects.toMatchObject({
      code: "E_OPTION",
      message: expect.stringMatching(/^alertAfter must be a whole number from 1 to 20, got /),
    });
    await expect(writeHeartbeat("j", { every: "5m", dir, recoverAfter: value as number, strict: true })).rejects.toThrow(/^recoverAfter must be/);
    const sink: string[] = [];
    const returned = await writeHeartbeat("j", { every: "5m", dir, alertAfter: value as number, stderr: { write: (s: string) => sink.push(s) } });
    expect(returned.error?.code).toBe("E_OPTION");
    expect(sink).toHaveLength(1);
    await expect(readFile(join(dir, "j.last"))).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("reading runs and thresholds", () => {
  const at = "2026-11-23T10:00:00.000Z";
  const text = (over: Record<string, unknown>) => JSON.stringify({ format: "lastbeat/1", job: "x", status: "ok", at, interval_s: 60, ...over });
  const run = (over: Record<string, unknown> = {}) => ({ at, status: "ok", ...over });

  it("accepts a well-formed history, keeping only the known fields of each run", () => {
    const parsed = parseHeartbeat(text({ runs: [run({ duration_ms: 5, exit_code: 0, note: "x" }), run({ status: "fail", exit_code: null })] }), "x");
    expect(parsed).toEqual({
      ok: true,
      heartbeat: expect.objectContaining({ runs: [{ at, status: "ok", duration_ms: 5, exit_code: 0 }, { at, status: "fail" }] }),
    });
  });

  it("keeps the 20 newest of a longer history", () => {
    const parsed = parseHeartbeat(text({ runs: Array.from({ length: 30 }, () => run()) }), "x");
    expect(parsed.ok && parsed.heartbeat.runs).toHaveLength(MAX_RUNS);
  });

  it.each<[string, Record<string, unknown>]>([
    ["field runs must be a list of runs", { runs: {} }],
    ["field runs has 101 entries, more than 100", { runs: Array.from({ length: 101 }, () => run()) }],
    ["field runs[3] must be an object", { runs: [run(), run(), run(), "ok"] }],
    ["field runs[3].at must be an ISO-8601 time", { runs: [run(), run(), run(), run({ at: "yesterday" })] }],
    ["field runs[0].at must be an ISO-8601 time", { runs: [run({ at: "2026-02-30T00:00:00Z" })] }],
    ["field runs[0].status must be ok or fail", { runs: [run({ status: "start" })] }],
    ["field runs[0].duration_ms must be a number >= 0", { runs: [run({ duration_ms: -1 })] }],
    ["field runs[0].exit_code must be a whole number", { runs: [run({ exit_code: 1.5 })] }],
    ["field alert_after has the wrong type or size (a whole number from 1 to 20)", { alert_after: 0 }],
    ["field recover_after has the wrong type or size (a whole number from 1 to 20)", { recover_after: 21 }],
    ["field alert_after has the wrong type or size (a whole number from 1 to 20)", { alert_after: "3" }],
  ])("%s", (reason, over) => {
    expect(parseHeartbeat(text(over), "x")).toEqual({ ok: false, reason });
  });

  it("a bad history makes only that job invalid, naming the field", async () => {
    await mkdir(join(dir, "beats"));
    const beats = join(dir, "beats");
    await writeFile(join(beats, "bad.last"), text({ job: "bad", runs: [run(), run(), run(), run({ at: 5 })] }));
    await writeHeartbeat("good", { every: "5m", dir: beats, now: new Date(at), strict: true });
    const states = await scanHeartbeats({ dirs: [beats], now: new Date(at) });
    expect(states.map((s) => [s.job, s.status, s.reason])).toEqual(
      expect.arrayContaining([
        ["bad", "invalid", "heartbeat file field runs[3].at must be an ISO-8601 time"],
        ["good", "ok", expect.any(String)],
      ]),
    );
  });
});

import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { evaluate, writeHeartbeat } from "lastbeat";
import type { Declaration, Heartbeat, JobState, WriteHeartbeatOptions } from "lastbeat";
import { MAX_HEARTBEAT_BYTES, parseHeartbeat, readHeartbeatFile } from "lastbeat/internal";
import { testdir } from "../support/testdir.js";

/*
 * A run starting after failures is not a recovery: the `start` beat of a failing job keeps the
 * fail beat's status, reason and alertingSince, so a checker landing mid-run changes nothing.
 * Beats go through the real writer into a real file (the history and message are carried as in
 * production) and are judged with a pinned clock.
 */

const T0 = Date.parse("2026-11-23T02:00:00.000Z");
const at = (minutes: number) => new Date(T0 + minutes * 60_000);
const DAY = 24 * 60;

let dir: string;
beforeEach(async () => {
  dir = await testdir("lastbeat-start-");
});

/** Writes one beat of `backup` (daily, 1 h max runtime by default) at `minutes` after T0 and reads it back. */
async function beat(minutes: number, over: Partial<WriteHeartbeatOptions>): Promise<Heartbeat> {
  await writeHeartbeat("backup", { dir, every: "1d", now: at(minutes), strict: true, ...over });
  const read = await readHeartbeatFile(join(dir, "backup.last"));
  if (!read.ok) throw new Error(read.reason);
  return read.heartbeat;
}

const judge = (hb: Heartbeat, minutes: number, decl: Declaration = {}): JobState => evaluate(hb, decl, at(minutes));
const fail = (minutes: number, over: Partial<WriteHeartbeatOptions> = {}) =>
  beat(minutes, { status: "fail", exitCode: 3, message: "disk full on /backup", ...over });
const start = (minutes: number, over: Partial<WriteHeartbeatOptions> = {}) => beat(minutes, { status: "start", startedAt: at(minutes), ...over });

describe("a start beat after failures", () => {
  it("fail → start → fail stays failed with one identical reason and alertingSince throughout", async () => {
    const failed = judge(await fail(0), 5);
    const running = judge(await start(DAY), DAY + 15);
    const again = judge(await fail(DAY + 60), DAY + 65);
    for (const state of [failed, running, again]) {
      expect(state).toMatchObject({ status: "failed", alerting: true });
    }
    expect(failed.reason).toBe("last run failed: disk full on /backup");
    expect(running.reason).toBe(failed.reason);
    expect(again.reason).toBe(failed.reason);
    expect(failed.alertingSince?.toISOString()).toBe(at(0).toISOString());
    expect(running.alertingSince).toEqual(failed.alertingSince);
    expect(again.alertingSince).toEqual(failed.alertingSince);
  });

  it("without a message, the start beat repeats the exit code as the fail beat gave it", async () => {
    const failed = judge(await fail(0, { message: undefined, exitCode: 12 }), 5);
    const running = judge(await start(DAY), DAY + 1);
    expect(failed.reason).toBe("last run failed: exit code 12");
    expect(running).toMatchObject({ status: "failed", reason: failed.reason, alertingSince: failed.alertingSince });
  });

  it("a start after an ok history is running", async () => {
    await beat(0, { status: "ok" });
    const state = judge(await start(DAY), DAY + 1);
    expect(state).toMatchObject({ status: "running", alerting: false, reason: `started ${at(DAY).toISOString()}` });
  });

  it("a start past its deadline after failures is overrun", async () => {
    await fail(0);
    const hb = await start(DAY, { maxRuntime: "1h" });
    expect(judge(hb, DAY + 59)).toMatchObject({ status: "failed", reason: "last run failed: disk full on /backup" });
    const state = judge(hb, DAY + 61);
    expect(state).toMatchObject({ status: "overrun", alerting: true, alertingSince: at(DAY + 60) });
    expect(state.reason).toMatch(/^started .* and still not finished after max runtime 60m$/);
  });

  it("below alert_after (a flaky history) a start is running: neither alerts, and it says what is happening", async () => {
    const flaky = judge(await fail(0, { alertAfter: 2 }), 5);
    expect(flaky.status).toBe("flaky");
    expect(judge(await start(DAY, { alertAfter: 2 }), DAY + 1)).toMatchObject({ status: "running", alerting: false });
  });

  it("alert_after from the manifest: the streak reaching it keeps alerting through the next start", async () => {
    const decl: Declaration = { alertAfter: 2 };
    await fail(0);
    const failed = judge(await fail(DAY), DAY + 5, decl);
    const running = judge(await start(2 * DAY), 2 * DAY + 5, decl);
    expect(failed).toMatchObject({ status: "failed", alertingSince: at(DAY) });
    expect(running).toMatchObject({ status: "failed", reason: failed.reason, alertingSince: failed.alertingSince });
  });

  it("recover_after=2: fail, ok, start is still failed with the ok beat's recovering reason", async () => {
    const over = { recoverAfter: 2 };
    await fail(0, over);
    const recovering = judge(await beat(DAY, { status: "ok", ...over }), DAY + 5);
    const running = judge(await start(2 * DAY, over), 2 * DAY + 5);
    expect(recovering.status).toBe("failed");
    expect(recovering.reason).toBe(`recovering: 1 of 2 ok runs before recovery; last failure: exit code 3 at ${at(0).toISOString()}`);
    expect(running).toMatchObject({ status: "failed", reason: recovering.reason, alertingSince: recovering.alertingSince });
    // The second ok run recovers; the start after it is simply running.
    expect(judge(await beat(2 * DAY + 30, { status: "ok", ...over }), 2 * DAY + 35).status).toBe("ok");
    expect(judge(await start(3 * DAY, over), 3 * DAY + 5).status).toBe("running");
  });

  it("a skipped run's start note never changes the failed reason", async () => {
    const failed = judge(await fail(0), 5);
    const running = judge(await start(DAY, { message: "skipped: previous run still holds the lock" }), DAY + 5);
    expect(running).toMatchObject({ status: "failed", reason: failed.reason });
  });
});

describe("the run's message in the history", () => {
  it("is kept on the newest run only; a start beat carries it unchanged", async () => {
    await fail(0, { message: "first" });
    const second = await fail(DAY, { message: "second" });
    expect(second.runs?.map((r) => r.message)).toEqual(["second", undefined]);
    const started = await start(2 * DAY);
    expect(started.runs).toEqual(second.runs);
    const ok = await beat(2 * DAY + 30, { status: "ok" });
    expect(ok.runs?.map((r) => r.message)).toEqual([undefined, undefined, undefined]);
  });

  it("keeps the file far under 64 KiB over 20 beats of 1 KiB messages JSON escapes to \\u00XX", async () => {
    // Control characters are each six bytes in JSON; what the writer keeps of them is its business,
    // the file must stay small whatever it keeps.
    const message = Array.from({ length: 1024 }, (_, i) => String.fromCharCode(1 + (i % 31))).join("");
    for (let i = 0; i < 20; i++) await fail(i * 60, { message: `${message}${i}` });
    const text = await readFile(join(dir, "backup.last"), "utf8");
    expect(Buffer.byteLength(text)).toBeLessThan(MAX_HEARTBEAT_BYTES / 4);
    const parsed = parseHeartbeat(text, "backup");
    expect(parsed.ok && parsed.heartbeat.runs?.length).toBe(20);
    expect(parsed.ok && parsed.heartbeat.runs?.slice(1).some((r) => r.message !== undefined)).toBe(false);
  });

  it("strips the messages a foreign writer left on every run, however they are escaped", async () => {
    // Nine runs of 1 KiB of \u00XX escapes: about 55 KiB, still a readable file.
    const message = "\u0007".repeat(1024);
    const runs = Array.from({ length: 9 }, (_, i) => ({ at: at(-i * 60).toISOString(), status: "fail", exit_code: 1, message }));
    const foreign = JSON.stringify({ format: "lastbeat/1", job: "backup", status: "fail", at: runs[0]?.at, interval_s: 86_400, message, runs });
    expect(Buffer.byteLength(foreign)).toBeGreaterThan(50 * 1024);
    expect(Buffer.byteLength(foreign)).toBeLessThan(MAX_HEARTBEAT_BYTES);
    await writeFile(join(dir, "backup.last"), foreign);
    const started = await start(DAY);
    // The start beat keeps the newest run's message (its reason needs it), and drops the rest.
    expect(started.runs?.map((r) => r.message !== undefined)).toEqual([true, ...Array<boolean>(8).fill(false)]);
    const text = await readFile(join(dir, "backup.last"), "utf8");
    expect(Buffer.byteLength(text)).toBeLessThan(MAX_HEARTBEAT_BYTES / 4);
    const ok = await beat(DAY + 30, { status: "ok" });
    expect(ok.runs?.some((r) => r.message !== undefined)).toBe(false);
  });

  it("a run's message that is not a string of at most 1 KiB makes the file invalid, naming the field", () => {
    const file = (message: unknown) =>
      JSON.stringify({ format: "lastbeat/1", job: "x", status: "start", at: at(0).toISOString(), interval_s: 60, runs: [{ at: at(-1).toISOString(), status: "fail", message }] });
    const reason = "field runs[0].message must be a string of at most 1024 bytes";
    expect(parseHeartbeat(file(5), "x")).toEqual({ ok: false, reason });
    expect(parseHeartbeat(file("é".repeat(513)), "x")).toEqual({ ok: false, reason });
    const ok = parseHeartbeat(file("é".repeat(512)), "x");
    expect(ok.ok && ok.heartbeat.runs?.[0]?.message).toBe("é".repeat(512));
  });
});

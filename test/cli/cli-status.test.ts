import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runCli } from "@lastbeat/cli";
import { beforeEach, describe, expect, it } from "vitest";
import { fakeIo } from "../support/fake-io.js";
import { testdir } from "../support/testdir.js";

let dir: string;
beforeEach(async () => {
  dir = await testdir("lastbeat-status-");
});

async function cli(args: string[], options: { tty?: boolean; env?: Record<string, string> } = {}) {
  const io = fakeIo({ env: { LASTBEAT_DIR: dir, ...options.env }, cwd: dir, ...(options.tty !== undefined && { tty: options.tty }) });
  const code = await runCli(args, io);
  return { code, stdout: io.out(), stderr: io.err() };
}

const T0 = "2025-01-31T06:00:00.000Z";

describe("lastbeat status --json", () => {
  it("prints the JSON output of docs/spec.md field by field, worst first, and exits 1 when alerting", async () => {
    expect((await cli(["beat", "backup", "--every", "1h", "--now", T0])).code).toBe(0);
    expect((await cli(["beat", "sync", "--every", "5m", "--now", T0, "--exit-code", "3"])).code).toBe(0);
    await writeFile(join(dir, "lastbeat.json"), JSON.stringify({ jobs: { backup: { every: "1h" }, report: { every: "1d" } } }));

    const result = await cli(["status", "--json", "--manifest", "lastbeat.json", "--now", "2025-01-31T06:30:00Z"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("");
    const json = JSON.parse(result.stdout) as { now: string; jobs: Record<string, unknown>[] };
    expect(Object.keys(json)).toEqual(["now", "jobs"]);
    expect(json.now).toBe("2025-01-31T06:30:00.000Z");
    expect(json.jobs.map((j) => [j.job, j.status])).toEqual([
      ["sync", "failed"],
      ["report", "missing"],
      ["backup", "ok"],
    ]);
    for (const job of json.jobs) {
      expect(Object.keys(job)).toEqual([
        "job", "status", "alerting", "last_beat_at", "last_ok_at", "age_s", "interval_s", "ratio", "due_at", "reason", "file",
      ]);
    }
    const [sync, report, backup] = json.jobs;
    expect(backup).toEqual({
      job: "backup",
      status: "ok",
      alerting: false,
      last_beat_at: T0,
      last_ok_at: T0,
      age_s: 1800,
      interval_s: 3600,
      ratio: 0.5,
      due_at: "2025-01-31T07:00:00.000Z",
      reason: "next beat due 2025-01-31T07:00:00.000Z",
      file: join(dir, "backup.last"),
    });
    expect(sync).toEqual({
      job: "sync",
      status: "failed",
      alerting: true,
      last_beat_at: T0,
      last_ok_at: null,
      age_s: 1800,
      interval_s: 300,
      ratio: 6,
      due_at: "2025-01-31T06:05:00.000Z",
      reason: "last run failed: exit code 3",
      file: join(dir, "sync.last"),
    });
    expect(report).toEqual({
      job: "report",
      status: "missing",
      alerting: true,
      last_beat_at: null,
      last_ok_at: null,
      age_s: null,
      interval_s: 86400,
      ratio: null,
      due_at: null,
      reason: "declared in the manifest but no heartbeat file was found",
      file: null,
    });
  });

  it("exits 0 when every job is healthy, and reads LASTBEAT_DIR by default", async () => {
    await cli(["beat", "backup", "--every", "1h", "--now", T0]);
    const result = await cli(["status", "--json", "--now", "2025-01-31T06:59:59Z"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).jobs).toHaveLength(1);
  });

  it("never calls a --dir that does not exist healthy", async () => {
    const result = await cli(["status", "--json", "--dir", "no-such-folder", "--now", T0]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).jobs[0]).toMatchObject({ status: "invalid", reason: "heartbeat folder does not exist" });
  });
});

describe("pinned --now boundaries, end to end", () => {
  // every 1h, default grace 2x: due at +1h, late from +1h to +2h inclusive, stale after +2h.
  it.each([
    ["2025-01-31T06:59:59.999Z", "ok", 0],
    ["2025-01-31T07:00:00.000Z", "late", 0],
    ["2025-01-31T08:00:00.000Z", "late", 0],
    ["2025-01-31T08:00:00.001Z", "stale", 1],
  ])("at %s the job is %s (exit %i)", async (now, status, code) => {
    await cli(["beat", "backup", "--every", "1h", "--now", T0]);
    const result = await cli(["status", "--json", "--now", now]);
    expect(JSON.parse(result.stdout).jobs[0].status).toBe(status);
    expect(result.code).toBe(code);
  });

  it.each([
    ["2025-01-31T06:29:59.999Z", "running", 0],
    ["2025-01-31T06:30:00.000Z", "running", 0],
    ["2025-01-31T06:30:00.001Z", "overrun", 1],
  ])("a started run with --max-runtime 30m at %s is %s", async (now, status, code) => {
    await cli(["beat", "backup", "--every", "1h", "--max-runtime", "30m", "--status", "start", "--now", T0]);
    const result = await cli(["status", "--json", "--now", now]);
    expect(JSON.parse(result.stdout).jobs[0].status).toBe(status);
    expect(result.code).toBe(code);
  });

  it.each([
    ["2025-01-31T07:14:59.999Z", "late"],
    ["2025-01-31T07:15:00.000Z", "late"],
    ["2025-01-31T07:15:00.001Z", "stale"],
  ])("an absolute --grace 15m at %s is %s", async (now, status) => {
    await cli(["beat", "backup", "--every", "1h", "--grace", "15m", "--now", T0]);
    const result = await cli(["status", "--json", "--now", now]);
    expect(JSON.parse(result.stdout).jobs[0].status).toBe(status);
  });

  it("reads --grace as the library does: 3X is three intervals, so 2h30m of silence is late", async () => {
    const beat = await cli(["beat", "backup", "--every", "1h", "--grace", "3X", "--now", T0]);
    expect(beat).toMatchObject({ code: 0, stderr: "" });
    const result = await cli(["status", "--json", "--now", "2025-01-31T08:30:00.000Z"]);
    expect(JSON.parse(result.stdout).jobs[0].status).toBe("late");
  });
});

describe("lastbeat status table", () => {
  async function twoJobs() {
    await cli(["beat", "backup", "--every", "1h", "--now", T0]);
    await cli(["beat", "sync", "--every", "5m", "--now", T0, "--status", "fail", "--message", "disk full"]);
  }

  it("prints a plain table and a summary", async () => {
    await twoJobs();
    const result = await cli(["status", "--now", "2025-01-31T06:30:00Z"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatchInlineSnapshot(`
      "JOB     STATUS  LAST BEAT          AGE  INTERVAL  RATIO  NOTE
      sync    failed  2025-01-31 06:00Z  30m  5m        6.0×   last run failed: disk full
      backup  ok      2025-01-31 06:00Z  30m  1h        0.5×   next beat due 2025-01-31T07:00:00.000Z

      2 jobs: 1 ok, 1 failed — 1 alerting
      "
    `);
  });

  it("colours the status only on a terminal without NO_COLOR", async () => {
    await twoJobs();
    const tty = await cli(["status", "--now", "2025-01-31T06:30:00Z"], { tty: true });
    expect(tty.stdout).toContain("\u001b[1m\u001b[31mfailed\u001b[0m");
    expect(tty.stdout).toContain("\u001b[32mok    \u001b[0m");
    const noColor = await cli(["status", "--now", "2025-01-31T06:30:00Z"], { tty: true, env: { NO_COLOR: "1" } });
    expect(noColor.stdout).not.toContain("\u001b[");
  });

  it("says so when there are no heartbeats", async () => {
    expect(await cli(["status"])).toEqual({ code: 0, stdout: "No heartbeat files found.\n", stderr: "" });
  });

  it("beat --json prints the heartbeat it wrote", async () => {
    const result = await cli(["beat", "backup", "--every", "1h", "--now", T0, "--json", "--message", "nightly"]);
    const written = JSON.parse(result.stdout);
    expect(written).toMatchObject({ job: "backup", status: "ok", at: T0, interval_s: 3600, message: "nightly" });
    expect(JSON.parse(await readFile(join(dir, "backup.last"), "utf8"))).toMatchObject({ job: "backup", message: "nightly" });
  });
});

import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "@lastbeat/cli";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fakeIo } from "../support/fake-io.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lastbeat-retire-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[], now?: Date) {
  const io = fakeIo({ env: { LASTBEAT_DIR: dir }, cwd: dir, ...(now && { now }) });
  const code = await runCli(args, io);
  return { code, stdout: io.out().replaceAll(dir, "<dir>"), stderr: io.err().replaceAll(dir, "<dir>") };
}

describe("lastbeat retire", () => {
  it("removes the heartbeat and leaves <job>.retired for the checker", async () => {
    expect((await cli(["beat", "old-backup", "--every", "1d"])).code).toBe(0);
    const result = await cli(["retire", "old-backup", "--now", "2025-01-31T07:00:00Z"]);
    expect(result).toEqual({ code: 0, stdout: "retired old-backup: removed <dir>/old-backup.last; <dir>/old-backup.retired records it\n", stderr: "" });
    expect(await readdir(dir)).toEqual(["old-backup.retired"]);
    expect(JSON.parse(await readFile(join(dir, "old-backup.retired"), "utf8"))).toEqual({ job: "old-backup", retired_at: "2025-01-31T07:00:00.000Z" });
    // The heartbeat is gone: status no longer lists the job.
    expect((await cli(["status", "--json"])).stdout).not.toContain("old-backup");
  });

  it("retires a job whose file already vanished; refuses a bad name before touching anything", async () => {
    expect((await cli(["retire", "gone"])).stdout).toBe("retired gone: no <dir>/gone.last to remove; <dir>/gone.retired records it\n");
    const bad = await cli(["retire", "../etc"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.split("\n").filter(Boolean)).toHaveLength(1);
    expect(await readdir(dir)).toEqual(["gone.retired"]);
  });

  it("ends when the job beats again: retire, beat, fail, file removed still alerts as missing", async () => {
    const issues = await mkdtemp(join(tmpdir(), "lastbeat-retire-issues-"));
    try {
      const check = (now: string) => cli(["check", "--forge", "file", "--repo", issues, "--scope", "web-1", "--json"], new Date(now));
      const backup = (out: { stdout: string }) =>
        (JSON.parse(out.stdout) as { jobs: { job: string; status: string; alerting: boolean; reason: string }[] }).jobs.find((j) => j.job === "backup");
      await cli(["retire", "backup", "--now", "2025-01-31T07:00:00Z"]);
      expect(await readdir(dir)).toEqual(["backup.retired"]);
      // The job comes back: its first beat ends the retirement.
      expect((await cli(["beat", "backup", "--every", "1d"], new Date("2025-02-01T07:00:00Z"))).code).toBe(0);
      expect(await readdir(dir)).toEqual(["backup.last"]);
      expect((await cli(["beat", "backup", "--every", "1d", "--status", "fail"], new Date("2025-02-02T07:00:00Z"))).code).toBe(0);
      const failing = await check("2025-02-02T07:05:00Z");
      expect(failing.code).toBe(1);
      expect(backup(failing)).toMatchObject({ status: "failed", alerting: true });
      // A reboot empties the folder: the job is missing, not retired.
      await rm(join(dir, "backup.last"));
      const gone = await check("2025-02-02T07:20:00Z");
      expect(gone.code).toBe(1);
      expect(backup(gone)).toMatchObject({ status: "missing", alerting: true, reason: "heartbeat file removed" });
    } finally {
      await rm(issues, { recursive: true, force: true });
    }
  });

  it("a beat leaves other jobs' retirement records alone", async () => {
    await cli(["retire", "old"]);
    await cli(["beat", "new", "--every", "1d"]);
    await cli(["beat", "new", "--every", "1d"]);
    expect((await readdir(dir)).sort()).toEqual(["new.last", "old.retired"]);
  });
});

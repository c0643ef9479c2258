import { execFileSync, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, truncateSync, writeFileSync, constants } from "node:fs";
import { join } from "node:path";
import { scanHeartbeats } from "lastbeat";
import { readHeartbeatFile } from "lastbeat/internal";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lastbeatArgs, repoRoot, runLastbeat } from "../../support/cli.js";
import { bytesReadSoFar, sharedTempDir } from "../../support/tmpfs.js";

/*
 * Drill: huge and endless heartbeat files. A 1 GiB sparse file, a FIFO and a character device
 * that never ends are all reported `invalid` without being read whole and without blocking the
 * scan. "Not read whole" is proven by the kernel's own count of bytes read (/proc/self/io), not
 * by a stopwatch.
 */

const NOW = "2025-03-01T10:00:00.000Z";
const GIB = 1024 ** 3;
const valid = (job: string) => JSON.stringify({ format: "lastbeat/1", job, status: "ok", at: NOW, interval_s: 300 });

/** Whether this process may create device nodes (root with CAP_MKNOD). */
const canMknod = (() => {
  const probe = sharedTempDir("lastbeat-mknod-");
  try {
    execFileSync("mknod", [join(probe.dir, "zero"), "c", "1", "5"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  } finally {
    probe.cleanup();
  }
})();

let tmp: { dir: string; cleanup: () => void };
let dir: string;

beforeEach(() => {
  tmp = sharedTempDir();
  dir = join(tmp.dir, "heartbeats");
  mkdirSync(dir);
  writeFileSync(join(dir, "fine.last"), valid("fine"));
});
afterEach(() => tmp.cleanup());

describe("drill: huge and endless files", () => {
  it("a 1 GiB sparse huge.last (valid JSON at the start) is invalid and not read whole", async () => {
    const file = join(dir, "huge.last");
    writeFileSync(file, valid("huge"));
    truncateSync(file, GIB);

    const before = bytesReadSoFar();
    const result = await readHeartbeatFile(file);
    const after = bytesReadSoFar();
    expect(result).toMatchObject({ ok: false, reason: expect.stringMatching(/64 KiB/) });
    if (before !== null && after !== null) expect(after - before).toBeLessThan(1024 * 1024);

    const status = await runLastbeat(["status", "--json", "--dir", dir, "--now", NOW]);
    expect(status.code).toBe(1);
    const jobs = JSON.parse(status.stdout).jobs as Array<{ job: string; status: string; reason: string }>;
    expect(jobs.map((j) => [j.job, j.status]).sort()).toEqual([
      ["fine", "ok"],
      ["huge", "invalid"],
    ]);
  });

  it("a file just over 64 KiB is invalid; one of exactly 64 KiB is parsed", async () => {
    const body = valid("edge");
    writeFileSync(join(dir, "edge.last"), body.padEnd(64 * 1024, " "));
    writeFileSync(join(dir, "over.last"), valid("over").padEnd(64 * 1024 + 1, " "));
    const states = await scanHeartbeats({ dirs: [dir], now: new Date(NOW) });
    const byJob = Object.fromEntries(states.map((s) => [s.job, s.status]));
    expect(byJob).toEqual({ fine: "ok", edge: "ok", over: "invalid" });
  });

  it("a FIFO x.last with no writer is invalid and does not block the scan (library and lastbeat status)", async () => {
    execFileSync("mkfifo", [join(dir, "x.last")]);
    const states = await scanHeartbeats({ dirs: [dir], now: new Date(NOW) });
    expect(Object.fromEntries(states.map((s) => [s.job, s.status]))).toEqual({ fine: "ok", x: "invalid" });

    const status = await runLastbeat(["status", "--json", "--dir", dir, "--now", NOW]);
    expect(status.code).toBe(1);
    expect(JSON.parse(status.stdout).jobs).toContainEqual(expect.objectContaining({ job: "x", status: "invalid", alerting: true }));
  });

  it("a FIFO x.last held open by a writer that never writes is invalid and does not block", async () => {
    const fifo = join(dir, "x.last");
    execFileSync("mkfifo", [fifo]);
    // O_RDWR on a FIFO never blocks on Linux: we are its writer for the whole test.
    const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    try {
      const status = await runLastbeat(["status", "--json", "--dir", dir, "--now", NOW]);
      expect(status.code).toBe(1);
      expect(JSON.parse(status.stdout).jobs).toContainEqual(expect.objectContaining({ job: "x", status: "invalid" }));
    } finally {
      closeSync(fd);
    }
  });

  it.skipIf(!canMknod)(`an endless character device zero.last (/dev/zero) is invalid and not read${canMknod ? "" : " (skipped: mknod needs root with CAP_MKNOD)"}`, async () => {
    execFileSync("mknod", [join(dir, "zero.last"), "c", "1", "5"]);
    const before = bytesReadSoFar();
    const result = await readHeartbeatFile(join(dir, "zero.last"));
    const after = bytesReadSoFar();
    expect(result.ok).toBe(false);
    if (before !== null && after !== null) expect(after - before).toBeLessThan(1024 * 1024);
    const status = await runLastbeat(["status", "--json", "--dir", dir, "--now", NOW]);
    expect(JSON.parse(status.stdout).jobs).toContainEqual(expect.objectContaining({ job: "zero", status: "invalid" }));
  });

  it("report and metrics also finish on a folder holding a 1 GiB file, a FIFO and a folder named d.last", async () => {
    writeFileSync(join(dir, "huge.last"), "");
    truncateSync(join(dir, "huge.last"), GIB);
    execFileSync("mkfifo", [join(dir, "x.last")]);
    mkdirSync(join(dir, "d.last"));
    for (const command of [["report", "--format", "json"], ["metrics"]]) {
      const result = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
        const child = spawn(process.execPath, lastbeatArgs([...command, "--dir", dir, "--now", NOW]), {
          cwd: repoRoot,
          env: { ...process.env, NO_COLOR: "1" },
          stdio: ["ignore", "pipe", "inherit"],
        });
        let stdout = "";
        child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stdout }));
      });
      expect(result.code, command[0]).not.toBe(2);
      for (const job of ["huge", "x", "d"]) expect(result.stdout, `${command[0]} ${job}`).toContain(job);
    }
  });
});

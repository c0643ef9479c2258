import { execFileSync } from "node:child_process";
import { chmodSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { scanHeartbeats, writeHeartbeat } from "lastbeat";
import { readHeartbeatFile } from "lastbeat/internal";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { hostname } from "node:os";
import { lastbeatArgs, runLastbeat } from "../../support/cli.js";
import { runCommand, sharedTempDir } from "../../support/tmpfs.js";

/*
 * Drill: a hostile heartbeat folder. Cron jobs often run as root, so whoever can plant a link in
 * the folder must not be able to make lastbeat overwrite a file that matters.
 */

const NOW = "2025-03-01T10:00:00.000Z";
const PRECIOUS = "root:x:0:0:precious, must never change\n";

let tmp: { dir: string; cleanup: () => void };
let dir: string;
let outside: string;

beforeEach(() => {
  tmp = sharedTempDir();
  dir = join(tmp.dir, "heartbeats");
  mkdirSync(dir, { mode: 0o755 });
  outside = join(tmp.dir, "outside.txt");
  writeFileSync(outside, PRECIOUS);
});

afterEach(() => tmp.cleanup());

function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe("drill: hostile folder", () => {
  it("a symlinked backup.last pointing outside is never written through: beat refuses, names the file and the symlink", async () => {
    symlinkSync(outside, join(dir, "backup.last"));
    const result = await runLastbeat(["beat", "backup", "--every", "5m", "--now", NOW, "--dir", dir]);
    expect(result.code).toBe(2);
    const line = oneLine(result.stderr);
    expect(line).toContain(join(dir, "backup.last"));
    expect(line).toMatch(/symbolic link/);
    expect(readFileSync(outside, "utf8")).toBe(PRECIOUS);
    expect(lstatSync(join(dir, "backup.last")).isSymbolicLink()).toBe(true);
    expect(readdirSync(dir)).toEqual(["backup.last"]);
  });

  it("a dangling symlink is not followed to create a file outside the folder", async () => {
    const target = join(tmp.dir, "created-through-link");
    symlinkSync(target, join(dir, "backup.last"));
    const result = await runLastbeat(["beat", "backup", "--every", "5m", "--now", NOW, "--dir", dir]);
    expect(result.code).toBe(2);
    expect(oneLine(result.stderr)).toMatch(/symbolic link/);
    expect(readdirSync(tmp.dir).sort()).toEqual(["heartbeats", "outside.txt"]);
  });

  it("writeHeartbeat({ strict: true }) throws E_SYMLINK for every status; lastbeat run still runs the job and reports it", async () => {
    symlinkSync(outside, join(dir, "backup.last"));
    for (const status of ["ok", "fail", "start"] as const) {
      await expect(writeHeartbeat("backup", { every: "5m", dir, status, strict: true, now: new Date(NOW) })).rejects.toMatchObject({
        code: "E_SYMLINK",
      });
    }
    const run = await runLastbeat(["run", "backup", "--every", "5m", "--dir", dir, "--", "sh", "-c", "exit 0"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/symbolic link/);
    expect(readFileSync(outside, "utf8")).toBe(PRECIOUS);
  });

  it("a hard link to an outside file is replaced by the atomic rename, never written into", async () => {
    linkSync(outside, join(dir, "backup.last"));
    const result = await runLastbeat(["beat", "backup", "--every", "5m", "--now", NOW, "--dir", dir]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(readFileSync(outside, "utf8")).toBe(PRECIOUS);
    expect(JSON.parse(readFileSync(join(dir, "backup.last"), "utf8"))).toMatchObject({ job: "backup", status: "ok" });
  });

  it("the reader reports a symlinked heartbeat invalid instead of following it (library and lastbeat status)", async () => {
    // The link points at a perfectly valid heartbeat: following it would report "ok".
    const valid = join(tmp.dir, "valid.json");
    writeFileSync(valid, JSON.stringify({ format: "lastbeat/1", job: "backup", status: "ok", at: NOW, interval_s: 300 }));
    symlinkSync(valid, join(dir, "backup.last"));

    const read = await readHeartbeatFile(join(dir, "backup.last"));
    expect(read).toMatchObject({ ok: false, reason: expect.stringMatching(/symbolic link/) });
    const [state] = await scanHeartbeats({ dirs: [dir], now: new Date(NOW) });
    expect(state).toMatchObject({ job: "backup", status: "invalid" });

    const status = await runLastbeat(["status", "--json", "--dir", dir, "--now", NOW]);
    expect(status.code).toBe(1);
    expect(JSON.parse(status.stdout).jobs).toMatchObject([
      { job: "backup", status: "invalid", alerting: true, reason: expect.stringMatching(/symbolic link/), file: join(dir, "backup.last") },
    ]);
  });

  it("a FIFO or a folder named backup.last is refused by the writer without blocking", async () => {
    execFileSync("mkfifo", [join(dir, "backup.last")]);
    mkdirSync(join(dir, "db.last"));
    const fifo = await runLastbeat(["beat", "backup", "--every", "5m", "--now", NOW, "--dir", dir]);
    expect(fifo.code).toBe(2);
    expect(oneLine(fifo.stderr)).toMatch(/not a regular file/);
    const folder = await runLastbeat(["beat", "db", "--every", "5m", "--now", NOW, "--dir", dir]);
    expect(folder.code).toBe(2);
    expect(oneLine(folder.stderr)).toContain(join(dir, "db.last"));
    expect(lstatSync(join(dir, "backup.last")).isFIFO()).toBe(true);
  });

  it("a world-writable folder without the sticky bit is refused with a clear error; with the sticky bit it is used", async () => {
    chmodSync(dir, 0o777);
    const refused = await runLastbeat(["beat", "backup", "--every", "5m", "--now", NOW, "--dir", dir]);
    expect(refused.code).toBe(2);
    const line = oneLine(refused.stderr);
    expect(line).toContain(dir);
    expect(line).toMatch(/world-writable/);
    expect(readdirSync(dir)).toEqual([]);
    await expect(writeHeartbeat("backup", { every: "5m", dir, strict: true })).rejects.toMatchObject({ code: "E_UNSAFE_DIR" });
    expect(readdirSync(dir)).toEqual([]);

    chmodSync(dir, 0o1777);
    const sticky = await runLastbeat(["beat", "backup", "--every", "5m", "--now", NOW, "--dir", dir]);
    expect(sticky).toMatchObject({ code: 0, stderr: "" });
    expect(readdirSync(dir)).toEqual(["backup.last"]);
  });

  it("job names that would escape the folder are rejected before any file is touched", async () => {
    for (const job of ["../outside", "a/b", "..", ".hidden", "with space", ""]) {
      const result = await runLastbeat(["beat", job, "--every", "5m", "--now", NOW, "--dir", dir]);
      expect(result.code, job).toBe(2);
      expect(result.stderr.trimEnd().split("\n"), job).toHaveLength(1);
    }
    expect(readdirSync(dir)).toEqual([]);
    expect(readFileSync(outside, "utf8")).toBe(PRECIOUS);
  });

  /*
   * Lock files live in the heartbeat folder too. Something planted where a lock goes (a FIFO, a
   * link to an endless device) must not hang the job or the checker forever: a hung checker
   * raises no alert at all. coreutils `timeout` is only the bound that turns a hang into a
   * failure (exit 124) instead of a stuck suite; the passing path never waits on it.
   */
  const bounded = (args: string[]) => runCommand("timeout", ["-s", "KILL", "60", process.execPath, ...lastbeatArgs(args)]);
  const runLock = () => join(dir, `.backup@${hostname().replace(/[^A-Za-z0-9._-]/g, "_")}.lock`);

  it("a FIFO planted at the --no-overlap lock path (e.g. by another user in a sticky shared folder) does not hang lastbeat run", async () => {
    chmodSync(dir, 0o1777);
    execFileSync("mkfifo", [runLock()]);
    const result = await bounded(["run", "backup", "--every", "5m", "--no-overlap", "--dir", dir, "--", "sh", "-c", "exit 0"]);
    expect(result.signal, "hung until killed by the 60 s bound").toBeNull();
    expect(result.code, result.stderr).toBe(0);
  });

  it("a symlink to /dev/zero at the --no-overlap lock path is not read endlessly", async () => {
    symlinkSync("/dev/zero", runLock());
    const result = await bounded(["run", "backup", "--every", "5m", "--no-overlap", "--dir", dir, "--", "sh", "-c", "exit 0"]);
    expect(result.signal, "hung until killed by the 60 s bound").toBeNull();
    expect(result.code, result.stderr).toBe(0);
  });

  it("a FIFO planted at the checker's lock path (.lastbeat-check.lock) does not hang lastbeat check", async () => {
    writeFileSync(join(dir, "backup.last"), JSON.stringify({ format: "lastbeat/1", job: "backup", status: "ok", at: NOW, interval_s: 300 }));
    execFileSync("mkfifo", [join(dir, ".lastbeat-check.lock")]);
    const result = await bounded(["check", "--forge", "file", "--repo", join(tmp.dir, "issues"), "--dir", dir, "--now", "2025-03-01T10:20:00Z"]);
    expect(result.signal, "hung until killed by the 60 s bound").toBeNull();
    expect(result.code, result.stderr).toBe(1);
    expect(readdirSync(join(tmp.dir, "issues")).filter((f) => f.endsWith(".md"))).toHaveLength(1);
  });
});

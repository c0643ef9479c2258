import { chmod, lstat, mkdir, readdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { LastbeatError, scanHeartbeats, withHeartbeat, writeHeartbeat } from "lastbeat";
import { readHeartbeatFile } from "lastbeat/internal";
import { testdir } from "../support/testdir.js";

let dir: string;
beforeEach(async () => {
  dir = await testdir("lastbeat-write-");
});

const now = new Date("2026-11-23T10:00:00.000Z");
const sink = () => {
  const lines: string[] = [];
  return { lines, write: (s: string) => lines.push(s) };
};

describe("writeHeartbeat", () => {
  it("writes lastbeat/1 JSON, mode 0644, and nothing else in the folder", async () => {
    const written = await writeHeartbeat("backup", { every: "1d", dir, now, message: "12 GiB\nsaved" });
    expect(written.file).toBe(join(dir, "backup.last"));
    const text = await readFile(join(dir, "backup.last"), "utf8");
    expect(JSON.parse(text)).toMatchObject({
      format: "lastbeat/1",
      job: "backup",
      status: "ok",
      at: "2026-11-23T10:00:00.000Z",
      interval_s: 86_400,
      last_ok_at: "2026-11-23T10:00:00.000Z",
      message: "12 GiB saved",
      pid: process.pid,
    });
    expect((await stat(join(dir, "backup.last"))).mode & 0o777).toBe(0o644);
    expect(await readdir(dir)).toEqual(["backup.last"]);
  });

  it("carries last_ok_at across start and fail beats", async () => {
    await writeHeartbeat("job", { every: "5m", dir, now });
    await writeHeartbeat("job", { every: "5m", dir, status: "start", now: new Date("2026-11-23T10:05:00Z") });
    await writeHeartbeat("job", { every: "5m", dir, status: "fail", now: new Date("2026-11-23T10:06:00Z") });
    const result = await readHeartbeatFile(join(dir, "job.last"));
    expect(result.ok && result.heartbeat).toMatchObject({ status: "fail", last_ok_at: "2026-11-23T10:00:00.000Z" });
  });

  it.each(["../x", "a/b", "", "x".repeat(129), "a\u0000b", "has space", ".hidden", "-dash"])(
    "rejects the job name %j before touching any path",
    async (name) => {
      const target = join(dir, "never-created");
      await expect(writeHeartbeat(name, { every: "1d", dir: target, strict: true })).rejects.toMatchObject({
        code: "E_JOB_NAME",
      });
      await expect(lstat(target)).rejects.toMatchObject({ code: "ENOENT" });
      const err = sink();
      const returned = await writeHeartbeat(name, { every: "1d", dir: target, stderr: err });
      expect(returned.error?.code).toBe("E_JOB_NAME");
      expect(err.lines).toHaveLength(1);
      await expect(lstat(target)).rejects.toMatchObject({ code: "ENOENT" });
    },
  );

  it("accepts the longest valid name", async () => {
    const name = `a${"b".repeat(127)}`;
    await writeHeartbeat(name, { every: 60, dir, strict: true });
    expect(await readdir(dir)).toEqual([`${name}.last`]);
  });

  it("rejects bad options with a line naming the option", async () => {
    await expect(writeHeartbeat("j", { every: "soon", dir, strict: true })).rejects.toThrow(/every: cannot read "soon"/);
    await expect(writeHeartbeat("j", { every: "1d", schedule: "0 2 * *", dir, strict: true })).rejects.toThrow(/5 fields/);
    await expect(writeHeartbeat("j", { every: "1d", tz: "Mars/Olympus", dir, strict: true })).rejects.toThrow(/unknown time zone/);
    await expect(writeHeartbeat("j", { every: "1d", grace: "0.5x", dir, strict: true })).rejects.toThrow(/at least 1x/);
    expect(await readdir(dir)).toEqual([]);
  });

  it("never writes through a symlink and reports it", async () => {
    const outside = join(dir, "outside.txt");
    await writeFile(outside, "precious");
    const beats = join(dir, "beats");
    await mkdir(beats);
    await symlink(outside, join(beats, "backup.last"));
    await expect(writeHeartbeat("backup", { every: "1d", dir: beats, strict: true })).rejects.toMatchObject({
      code: "E_SYMLINK",
      message: expect.stringContaining("symbolic link"),
    });
    expect(await readFile(outside, "utf8")).toBe("precious");
  });

  it("refuses a world-writable folder without the sticky bit, accepts it with", async () => {
    await chmod(dir, 0o777);
    await expect(writeHeartbeat("j", { every: "1d", dir, strict: true })).rejects.toMatchObject({ code: "E_UNSAFE_DIR" });
    await chmod(dir, 0o1777);
    await writeHeartbeat("j", { every: "1d", dir, strict: true });
    expect(await readdir(dir)).toEqual(["j.last"]);
  });

  it("reports a write failure on stderr and returns it by default; strict throws", async () => {
    const file = join(dir, "notadir");
    await writeFile(file, "");
    const err = sink();
    const result = await writeHeartbeat("j", { every: "1d", dir: join(file, "sub"), stderr: err });
    expect(result.error).toBeInstanceOf(LastbeatError);
    expect(err.lines.join("")).toMatch(/^lastbeat: cannot create heartbeat folder .*notadir\/sub/);
    await expect(writeHeartbeat("j", { every: "1d", dir: join(file, "sub"), strict: true })).rejects.toThrow(/ENOTDIR|EEXIST/);
  });

  it("resolves the folder from LASTBEAT_DIR, else the home folder", async () => {
    await writeHeartbeat("a", { every: "1d", env: { LASTBEAT_DIR: join(dir, "env") }, strict: true });
    expect(await readdir(join(dir, "env"))).toEqual(["a.last"]);
  });
});

describe("withHeartbeat", () => {
  it("writes start then ok with a duration", async () => {
    const value = await withHeartbeat("w", { every: "1h", dir }, async () => {
      const during = await readHeartbeatFile(join(dir, "w.last"));
      expect(during.ok && during.heartbeat.status).toBe("start");
      return 42;
    });
    expect(value).toBe(42);
    const after = await readHeartbeatFile(join(dir, "w.last"));
    expect(after.ok && after.heartbeat).toMatchObject({ status: "ok", duration_ms: expect.any(Number), started_at: expect.any(String) });
  });

  it("writes a fail beat with the error's message and rethrows", async () => {
    await expect(
      withHeartbeat("w", { every: "1h", dir }, () => {
        throw new Error("database unreachable");
      }),
    ).rejects.toThrow("database unreachable");
    const [state] = await scanHeartbeats({ dirs: [dir] });
    expect(state).toMatchObject({ status: "failed", reason: "last run failed: database unreachable" });
  });
});

describe("file mode", () => {
  it("is 0644 even under a umask of 077 (cron's environment is not ours to trust)", async () => {
    const { execFileSync } = await import("node:child_process");
    const { lastbeatArgs, repoRoot } = await import("../support/cli.js");
    const args = lastbeatArgs(["beat", "strict", "--every", "5m", "--dir", dir]).map((a) => `'${a}'`).join(" ");
    execFileSync("sh", ["-c", `umask 077; exec '${process.execPath}' ${args}`], { cwd: repoRoot });
    expect((await stat(join(dir, "strict.last"))).mode & 0o777).toBe(0o644);
  });
});

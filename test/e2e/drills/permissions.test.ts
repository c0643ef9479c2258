import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runLastbeat } from "../../support/cli.js";
import { mountSupport, mountTmpfs, nobodySupport, runLastbeatAsNobody, sharedTempDir } from "../../support/tmpfs.js";

/*
 * Drill: permission denied and read-only folders. We run as root in CI and root is never denied,
 * so the CLI is run as `nobody` (setpriv), and "read-only" is a real `mount -o remount,ro`.
 */

const NOW = "2025-03-01T10:00:00.000Z";
const beatJson = (job: string) => `${JSON.stringify({ format: "lastbeat/1", job, status: "ok", at: NOW, interval_s: 300 })}\n`;

function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split("\n");
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).not.toMatch(/^\s+at /);
  return lines[0]!;
}

let tmp: { dir: string; cleanup: () => void };
let dir: string;

beforeEach(() => {
  tmp = sharedTempDir();
  dir = join(tmp.dir, "heartbeats");
  mkdirSync(dir, { mode: 0o755 });
});
afterEach(() => tmp.cleanup());

describe.skipIf(!nobodySupport.ok)(`drill: permission denied${nobodySupport.ok ? "" : ` (skipped: ${nobodySupport.reason})`}`, () => {
  it("lastbeat beat into a folder it may not write: exit 2, one line naming the file and EACCES, nothing written", async () => {
    const result = await runLastbeatAsNobody(["beat", "backup", "--every", "5m", "--now", NOW, "--dir", dir]);
    expect(result.code).toBe(2);
    const line = oneLine(result.stderr);
    expect(line).toContain(join(dir, "backup.last"));
    expect(line).toContain("EACCES");
    expect(readdirSync(dir)).toEqual([]);
  });

  it("lastbeat beat over another user's heartbeat: exit 2, the existing heartbeat is intact", async () => {
    writeFileSync(join(dir, "backup.last"), beatJson("backup"), { mode: 0o644 });
    const result = await runLastbeatAsNobody(["beat", "backup", "--every", "5m", "--status", "fail", "--now", NOW, "--dir", dir]);
    expect(result.code).toBe(2);
    expect(oneLine(result.stderr)).toContain("EACCES");
    expect(readFileSync(join(dir, "backup.last"), "utf8")).toBe(beatJson("backup"));
    expect(readdirSync(dir)).toEqual(["backup.last"]);
  });

  it("a heartbeat folder that cannot be created: exit 2, one line naming the folder", async () => {
    const nested = join(dir, "deeper", "heartbeats");
    const result = await runLastbeatAsNobody(["beat", "backup", "--every", "5m", "--now", NOW, "--dir", nested]);
    expect(result.code).toBe(2);
    expect(oneLine(result.stderr)).toMatch(/EACCES/);
    expect(result.stderr).toContain(join(dir, "deeper"));
  });

  it("lastbeat run in a folder it may not write still runs the command and exits with its code", async () => {
    const out = sharedTempDir();
    chmodSync(out.dir, 0o777);
    const marker = join(out.dir, "ran");
    const result = await runLastbeatAsNobody(["run", "backup", "--every", "5m", "--dir", dir, "--", "sh", "-c", `echo ran > '${marker}'; exit 3`]);
    expect(result.code).toBe(3);
    expect(readFileSync(marker, "utf8")).toBe("ran\n");
    expect(result.stderr).toContain("EACCES");
    expect(result.stderr).not.toMatch(/^\s+at /m);
    out.cleanup();
  });

  it("the checker reports an unreadable heartbeat as invalid, not missing, even when the manifest declares it", async () => {
    writeFileSync(join(dir, "secret.last"), beatJson("secret"), { mode: 0o600 });
    writeFileSync(join(dir, "fine.last"), beatJson("fine"), { mode: 0o644 });
    const manifest = join(tmp.dir, "lastbeat.json");
    writeFileSync(manifest, JSON.stringify({ jobs: { secret: { every: "5m" }, fine: { every: "5m" } } }), { mode: 0o644 });

    for (const args of [[], ["--manifest", manifest]]) {
      const result = await runLastbeatAsNobody(["status", "--json", "--dir", dir, "--now", NOW, ...args]);
      expect(result.code).toBe(1);
      const jobs = JSON.parse(result.stdout).jobs as Array<{ job: string; status: string; reason: string; file: string | null }>;
      expect(jobs.map((j) => [j.job, j.status]).sort()).toEqual([
        ["fine", "ok"],
        ["secret", "invalid"],
      ]);
      expect(jobs.find((j) => j.job === "secret")).toMatchObject({ reason: expect.stringContaining("EACCES"), file: join(dir, "secret.last") });
    }
  });

  it("an unreadable heartbeat folder is an alert, never 'no jobs, all healthy'", async () => {
    writeFileSync(join(dir, "fine.last"), beatJson("fine"));
    chmodSync(dir, 0o700);
    const result = await runLastbeatAsNobody(["status", "--json", "--dir", dir, "--now", NOW]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).jobs).toMatchObject([{ status: "invalid", alerting: true, reason: expect.stringContaining("EACCES") }]);
  });

  it("a folder pattern whose base cannot be listed: an alert naming that folder and EACCES, not a typo", async () => {
    const hosts = join(tmp.dir, "hosts");
    mkdirSync(join(hosts, "web1", "heartbeats"), { recursive: true });
    writeFileSync(join(hosts, "web1", "heartbeats", "fine.last"), beatJson("fine"));
    chmodSync(hosts, 0o700);
    const pattern = join(hosts, "*", "heartbeats");
    const result = await runLastbeatAsNobody(["status", "--json", "--dir", pattern, "--now", NOW]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).jobs).toEqual([
      expect.objectContaining({
        job: `folder:${pattern}`,
        status: "invalid",
        alerting: true,
        reason: `no folder matches this pattern: cannot list ${hosts}: permission denied (EACCES)`,
      }),
    ]);
    // Root sees the folder the pattern was meant for.
    const asRoot = await runLastbeat(["status", "--json", "--dir", pattern, "--now", NOW]);
    expect(JSON.parse(asRoot.stdout).jobs).toMatchObject([{ job: "fine", status: "ok" }]);
  });

  it("lastbeat check as a user who may read but not write the heartbeat folder still syncs the issue (exit 1)", async () => {
    // A monitoring user reading many hosts' heartbeats from a shared mount: it cannot write there.
    writeFileSync(join(dir, "backup.last"), beatJson("backup"));
    const issues = sharedTempDir();
    chmodSync(issues.dir, 0o777);
    try {
      const result = await runLastbeatAsNobody(["check", "--forge", "file", "--repo", join(issues.dir, "issues"), "--dir", dir, "--now", "2025-03-01T10:10:01Z"]);
      expect(result.stderr).not.toMatch(/^\s+at /m);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain("backup: stale");
      expect(readdirSync(join(issues.dir, "issues")).filter((f) => f.endsWith(".md"))).toHaveLength(1);
      // Its journal cannot be written either: one warning line, the check goes on.
      expect(result.stderr).toContain(`warning: journal not updated: cannot write the journal ${join(dir, "heartbeat-checker.journal")}: permission denied (EACCES)\n`);
    } finally {
      issues.cleanup();
    }
  });

  it("report --out and metrics --out into a folder it may not write: exit 2, one line naming the file", async () => {
    writeFileSync(join(dir, "fine.last"), beatJson("fine"));
    const locked = join(tmp.dir, "locked");
    mkdirSync(locked, { mode: 0o755 });
    for (const [command, file] of [
      ["report", join(locked, "brief.md")],
      ["metrics", join(locked, "lastbeat.prom")],
    ] as const) {
      const result = await runLastbeatAsNobody([command, "--dir", dir, "--now", NOW, "--out", file]);
      expect(result.code, command).toBe(2);
      const line = oneLine(result.stderr);
      expect(line).toContain(file);
      expect(line).toContain("EACCES");
    }
    expect(readdirSync(locked)).toEqual([]);
  });
});

describe.skipIf(!mountSupport.ok)(`drill: read-only folder${mountSupport.ok ? "" : ` (skipped: ${mountSupport.reason})`}`, () => {
  it("beat on a read-only mount: exit 2, one line naming the file and EROFS; the previous beat stays readable and is evaluated", async () => {
    const mount = mountTmpfs("256k");
    try {
      writeFileSync(join(mount.dir, "backup.last"), beatJson("backup"));
      mount.readOnly();
      const result = await runLastbeat(["beat", "backup", "--every", "5m", "--now", "2025-03-01T10:04:00Z", "--dir", mount.dir]);
      expect(result.code).toBe(2);
      const line = oneLine(result.stderr);
      expect(line).toContain(join(mount.dir, "backup.last"));
      expect(line).toContain("EROFS");
      expect(readFileSync(join(mount.dir, "backup.last"), "utf8")).toBe(beatJson("backup"));

      const run = await runLastbeat(["run", "backup", "--every", "5m", "--dir", mount.dir, "--", "sh", "-c", "exit 0"]);
      expect(run.code).toBe(0);
      expect(run.stderr).toContain("EROFS");

      const status = await runLastbeat(["status", "--json", "--dir", mount.dir, "--now", "2025-03-01T10:10:01Z"]);
      expect(status.code).toBe(1);
      expect(JSON.parse(status.stdout).jobs).toMatchObject([{ job: "backup", status: "stale", last_beat_at: NOW }]);
    } finally {
      mount.unmount();
    }
  });

  it("lastbeat check on a read-only heartbeat folder still opens the issue for the stale job (exit 1, not 3)", async () => {
    const mount = mountTmpfs("256k");
    const issues = sharedTempDir();
    try {
      writeFileSync(join(mount.dir, "backup.last"), beatJson("backup"));
      mount.readOnly();
      const result = await runLastbeat(["check", "--forge", "file", "--repo", join(issues.dir, "issues"), "--dir", mount.dir, "--now", "2025-03-01T10:10:01Z"]);
      expect(result.stderr).not.toMatch(/^\s+at /m);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain("backup: stale");
      expect(readdirSync(join(issues.dir, "issues")).filter((f) => f.endsWith(".md"))).toHaveLength(1);
      expect(result.stderr).toContain(`warning: journal not updated: cannot write the journal ${join(mount.dir, "heartbeat-checker.journal")}: read-only file system (EROFS)\n`);
    } finally {
      mount.unmount();
      issues.cleanup();
    }
  });
});

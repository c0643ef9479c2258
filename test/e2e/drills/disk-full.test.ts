import { closeSync, openSync, readdirSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { writeHeartbeat } from "lastbeat";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runLastbeat } from "../../support/cli.js";
import { mountSupport, mountTmpfs, sharedTempDir, type Mount } from "../../support/tmpfs.js";

/*
 * Drill: the heartbeat folder sits on a 64 KiB tmpfs that fills up. A real ENOSPC from the
 * kernel, never a mock: without root (or mount) the drill is skipped with the reason.
 */

const T0 = "2025-03-01T10:00:00.000Z";
const T1 = "2025-03-01T10:05:00.000Z";

/** Fills the file system with one file until the kernel answers ENOSPC for a single byte. */
function fill(dir: string): void {
  const fd = openSync(join(dir, "filler"), "w");
  try {
    for (const size of [4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 0x61);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

describe.skipIf(!mountSupport.ok)(`drill: disk full${mountSupport.ok ? "" : ` (skipped: ${mountSupport.reason})`}`, () => {
  let mount: Mount;
  let dir: string;
  let previous: string;

  beforeEach(async () => {
    mount = mountTmpfs("64k");
    dir = mount.dir;
    const first = await runLastbeat(["beat", "backup", "--every", "5m", "--now", T0, "--dir", dir]);
    expect(first).toMatchObject({ code: 0, stderr: "" });
    previous = readFileSync(join(dir, "backup.last"), "utf8");
    fill(dir);
  });

  afterEach(() => mount.unmount());

  function expectPreviousIntact() {
    expect(readFileSync(join(dir, "backup.last"), "utf8")).toBe(previous);
    expect(JSON.parse(previous)).toMatchObject({ job: "backup", status: "ok", at: T0, interval_s: 300 });
    // No temp file (write-file-atomic's `backup.last.<hash>`) is left behind to fill the disk further.
    expect(readdirSync(dir).sort()).toEqual(["backup.last", "filler"]);
  }

  it("lastbeat beat fails with one line naming the file and ENOSPC; the previous beat is intact, no temp file left", async () => {
    const result = await runLastbeat(["beat", "backup", "--every", "5m", "--now", T1, "--dir", dir]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(join(dir, "backup.last"));
    expect(lines[0]).toContain("ENOSPC");
    expectPreviousIntact();
  });

  it("writeHeartbeat({ strict: true }) throws E_WRITE naming the file and ENOSPC; non-strict reports one stderr line and returns the error", async () => {
    const failure = await writeHeartbeat("backup", { every: "5m", dir, strict: true, now: new Date(T1) }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({ name: "LastbeatError", code: "E_WRITE" });
    expect((failure as Error).message).toContain(join(dir, "backup.last"));
    expect((failure as Error).message).toContain("ENOSPC");
    expectPreviousIntact();

    const lines: string[] = [];
    const written = await writeHeartbeat("backup", { every: "5m", dir, now: new Date(T1), stderr: { write: (s: string) => lines.push(s) } });
    expect(written.error?.code).toBe("E_WRITE");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^lastbeat: .*ENOSPC.*\n$/);
    expect(lines[0]).toContain(join(dir, "backup.last"));
    expectPreviousIntact();
  });

  it("lastbeat run still runs the command and passes its exit code through; the lost beats are reported, not fatal", async () => {
    const outside = sharedTempDir();
    const marker = join(outside.dir, "ran");
    const result = await runLastbeat(["run", "backup", "--every", "5m", "--dir", dir, "--", "sh", "-c", `echo ran > '${marker}'; exit 7`]);
    expect(result.code).toBe(7);
    expect(readFileSync(marker, "utf8")).toBe("ran\n");
    expect(result.stderr).toContain("ENOSPC");
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expectPreviousIntact();
    outside.cleanup();
  });

  it("the checker then sees the job as it really is: ok until due, stale after 2× its interval", async () => {
    await runLastbeat(["beat", "backup", "--every", "5m", "--now", T1, "--dir", dir]);
    const before = await runLastbeat(["status", "--json", "--dir", dir, "--now", "2025-03-01T10:04:00Z"]);
    expect(before.code).toBe(0);
    expect(JSON.parse(before.stdout).jobs).toMatchObject([{ job: "backup", status: "ok", last_beat_at: T0 }]);

    const later = await runLastbeat(["status", "--json", "--dir", dir, "--now", "2025-03-01T10:10:01Z"]);
    expect(later.code).toBe(1);
    expect(JSON.parse(later.stdout).jobs).toMatchObject([{ job: "backup", status: "stale", alerting: true, last_beat_at: T0 }]);
  });

  it("lastbeat check --forge file on the full folder opens the issue for the stale job; its own lost heartbeat is reported, not fatal", async () => {
    const outside = sharedTempDir();
    try {
      const issues = join(outside.dir, "issues");
      const result = await runLastbeat(["check", "--forge", "file", "--repo", issues, "--dir", dir, "--now", "2025-03-01T10:10:01Z"]);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain("backup: stale");
      expect(result.stderr).not.toMatch(/^\s+at /m);
      const files = readdirSync(issues).filter((f) => f.endsWith(".md"));
      expect(files).toHaveLength(1);
      expect(readFileSync(join(issues, files[0]!), "utf8")).toContain("backup");
      expectPreviousIntact();
    } finally {
      outside.cleanup();
    }
  });

  it("report --out and metrics --out on the full disk: exit 2 naming the file and ENOSPC; the previous brief and .prom are intact", async () => {
    // The outputs live on a second tiny disk that fills up after a first good write.
    const out = mountTmpfs("64k");
    try {
      const brief = join(out.dir, "brief.md");
      const prom = join(out.dir, "lastbeat.prom");
      expect((await runLastbeat(["report", "--dir", dir, "--now", T1, "--out", brief])).code).not.toBe(2);
      expect((await runLastbeat(["metrics", "--dir", dir, "--now", T1, "--out", prom])).code).toBe(0);
      const before = { brief: readFileSync(brief, "utf8"), prom: readFileSync(prom, "utf8") };
      fill(out.dir);
      for (const [command, file] of [
        ["report", brief],
        ["metrics", prom],
      ] as const) {
        const result = await runLastbeat([command, "--dir", dir, "--now", "2025-03-01T10:20:00Z", "--out", file]);
        expect(result.code, command).toBe(2);
        const lines = result.stderr.trimEnd().split("\n");
        expect(lines, command).toHaveLength(1);
        expect(lines[0]).toContain(file);
        expect(lines[0]).toContain("ENOSPC");
      }
      expect(readFileSync(brief, "utf8")).toBe(before.brief);
      expect(readFileSync(prom, "utf8")).toBe(before.prom);
      expect(readdirSync(out.dir).sort()).toEqual(["brief.md", "filler", "lastbeat.prom"]);
    } finally {
      out.unmount();
    }
  });

  it("the file forge's issue folder on a full disk: check exits 3 with one line, the open issue file is intact, no temp file left", async () => {
    const issuesMount = mountTmpfs("64k");
    const hb = sharedTempDir();
    try {
      const issues = join(issuesMount.dir, "issues");
      const at = (job: string, when: string, status = "ok") =>
        runLastbeat(["beat", job, "--every", "5m", "--status", status, "--now", when, "--dir", hb.dir]);
      await at("backup", T0);
      const first = await runLastbeat(["check", "--forge", "file", "--repo", issues, "--dir", hb.dir, "--now", "2025-03-01T10:10:01Z"]);
      expect(first.code).toBe(1);
      const [issueFile] = readdirSync(issues);
      const before = readFileSync(join(issues, issueFile!), "utf8");
      fill(issuesMount.dir);

      await at("db", "2025-03-01T10:10:00Z", "fail"); // the alerting set changes: the issue must be edited
      const full = await runLastbeat(["check", "--forge", "file", "--repo", issues, "--dir", hb.dir, "--now", "2025-03-01T10:10:02Z"]);
      expect(full.code).toBe(3);
      const lines = full.stderr.trimEnd().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain("ENOSPC");
      expect(readdirSync(issues)).toEqual([issueFile]);
      expect(readFileSync(join(issues, issueFile!), "utf8")).toBe(before);
    } finally {
      issuesMount.unmount();
      hb.cleanup();
    }
  });

  it("out of inodes (tmpfs nr_inodes) is reported like a full disk: one line, ENOSPC, nothing half-written", async () => {
    const tiny = mountTmpfs("1m,nr_inodes=3");
    try {
      const ok = await runLastbeat(["beat", "a", "--every", "5m", "--now", T0, "--dir", tiny.dir]);
      expect(ok.code).toBe(0);
      const before = readFileSync(join(tiny.dir, "a.last"), "utf8");
      // The root folder, a.last and b.last take all three inodes.
      expect((await runLastbeat(["beat", "b", "--every", "5m", "--now", T0, "--dir", tiny.dir])).code).toBe(0);
      for (const job of ["c", "a"]) {
        // A new job, and replacing a.last (its temp file needs an inode too): both fail cleanly.
        const result = await runLastbeat(["beat", job, "--every", "5m", "--now", T1, "--dir", tiny.dir]);
        expect(result.code, job).toBe(2);
        const lines = result.stderr.trimEnd().split("\n");
        expect(lines, job).toHaveLength(1);
        expect(lines[0]).toContain(join(tiny.dir, `${job}.last`));
        expect(lines[0]).toContain("ENOSPC");
      }
      expect(readFileSync(join(tiny.dir, "a.last"), "utf8")).toBe(before);
      expect(readdirSync(tiny.dir).sort()).toEqual(["a.last", "b.last"]);
    } finally {
      tiny.unmount();
    }
  });
});

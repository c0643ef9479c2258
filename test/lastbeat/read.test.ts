import { mkdir, symlink, writeFile } from "node:fs/promises";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { scanHeartbeats, writeHeartbeat } from "lastbeat";
import { MAX_HEARTBEAT_BYTES, expandDirs, parseHeartbeat, readBoundedFile, readHeartbeatFile } from "lastbeat/internal";
import { testdir } from "../support/testdir.js";

let root: string;
beforeAll(async () => {
  root = await testdir("lastbeat-read-");
});
const now = new Date("2026-11-23T10:00:00.000Z");
let n = 0;
const freshDir = async () => {
  const d = join(root, `d${n++}`);
  await mkdir(d);
  return d;
};

describe("readHeartbeatFile", () => {
  it("never throws on random bytes and never accepts more than 64 KiB", async () => {
    const dir = await freshDir();
    const file = join(dir, "fuzz.last");
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: MAX_HEARTBEAT_BYTES + 512 }), async (bytes) => {
        await writeFile(file, bytes);
        const result = await readHeartbeatFile(file);
        expect(typeof result.ok).toBe("boolean");
        if (bytes.length > MAX_HEARTBEAT_BYTES) expect(result.ok).toBe(false);
      }),
      { numRuns: 150 },
    );
  });

  it("always returns a result for random JSON, and only accepts well-typed beats", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = parseHeartbeat(JSON.stringify(value), "job");
        if (result.ok) {
          expect(result.heartbeat.job).toBe("job");
          expect(["ok", "fail", "start"]).toContain(result.heartbeat.status);
          expect(result.heartbeat.interval_s).toBeGreaterThan(0);
        } else {
          expect(result.reason.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("random objects shaped like heartbeats are classified, never thrown on", () => {
    const field = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.date().map((d) => (Number.isNaN(d.getTime()) ? "x" : d.toISOString())));
    fc.assert(
      fc.property(
        fc.record({ format: fc.oneof(fc.constant("lastbeat/1"), field), job: fc.oneof(fc.constant("job"), field), status: fc.oneof(fc.constantFrom("ok", "fail", "start"), field), at: field, interval_s: field, message: field, exit_code: field }, { requiredKeys: [] }),
        (value) => {
          expect(() => parseHeartbeat(JSON.stringify(value), "job")).not.toThrow();
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("reads legacy files as ok beats (epoch seconds or ISO)", () => {
    expect(parseHeartbeat(JSON.stringify({ job: "old", timestamp: 1_795_000_000, interval_seconds: 300 }), "old")).toMatchObject({
      ok: true,
      heartbeat: { job: "old", status: "ok", at: new Date(1_795_000_000_000).toISOString(), interval_s: 300 },
    });
    expect(parseHeartbeat(JSON.stringify({ timestamp: "2026-11-23T09:00:00Z", interval_seconds: 60 }), "old")).toMatchObject({ ok: true });
    expect(parseHeartbeat(JSON.stringify({ timestamp: "yesterday", interval_seconds: 60 }), "old")).toMatchObject({ ok: false });
  });

  it("names what is wrong", () => {
    const base = { format: "lastbeat/1", job: "j", status: "ok", at: "2026-11-23T10:00:00Z", interval_s: 60 };
    const reason = (over: object, stem = "j") => {
      const r = parseHeartbeat(JSON.stringify({ ...base, ...over }), stem);
      return r.ok ? "ok" : r.reason;
    };
    expect(reason({})).toBe("ok");
    expect(reason({}, "other")).toBe('job field "j" does not match the file name');
    expect(reason({ status: "done" })).toBe("field status must be ok, fail or start");
    expect(reason({ at: 12 })).toBe("field at must be an ISO-8601 time");
    expect(reason({ interval_s: -1 })).toBe("field interval_s must be a number > 0");
    expect(reason({ exit_code: "1" })).toBe("field exit_code has the wrong type or size");
    // A whole number to JavaScript, but no exit code or pid: it would be shown as `exit code 1e+308`.
    expect(reason({ exit_code: 1e308 })).toBe("field exit_code has the wrong type or size");
    expect(reason({ pid: 2 ** 53 })).toBe("field pid has the wrong type or size");
    expect(reason({ runs: [{ at: "2026-11-23T09:00:00Z", status: "fail", exit_code: 1e21 }] })).toBe("field runs[0].exit_code must be a whole number");
    expect(reason({ exit_code: 3221225477, pid: 4_194_304 })).toBe("ok"); // a Windows status (0xC0000005), a large Linux pid
    expect(reason({ format: "lastbeat/9" })).toBe('unknown format "lastbeat/9"');
    expect(parseHeartbeat("", "j")).toEqual({ ok: false, reason: "empty file" });
    expect(parseHeartbeat("[1]", "j")).toEqual({ ok: false, reason: "not a JSON object" });
  });
});

describe("scanHeartbeats", () => {
  it("classifies every kind of file and never skips a broken one", async () => {
    const dir = await freshDir();
    await writeHeartbeat("good", { every: "5m", dir, now, strict: true });
    await writeFile(join(dir, "torn.last"), '{"format":"lastbeat/1","job":"torn"');
    await writeFile(join(dir, "big.last"), "x".repeat(MAX_HEARTBEAT_BYTES + 1));
    await writeFile(join(dir, "future.last"), JSON.stringify({ job: "future", status: "ok", at: "2026-11-23T10:05:00.001Z", interval_s: 60 }));
    await writeFile(join(dir, "outside.json"), "{}");
    await symlink(join(dir, "good.last"), join(dir, "link.last"));
    execFileSync("mkfifo", [join(dir, "pipe.last")]);
    await writeFile(join(dir, "bad name.last"), "{}");
    await writeFile(join(dir, "notes.txt"), "not a heartbeat");
    const states = await scanHeartbeats({ dirs: [dir], now });
    const byJob = Object.fromEntries(states.map((s) => [s.job, [s.status, s.reason]]));
    expect(byJob).toEqual({
      good: ["ok", "next beat due 2026-11-23T10:05:00.000Z"],
      torn: ["invalid", "heartbeat file not valid JSON"],
      big: ["invalid", "heartbeat file larger than 64 KiB (65537 bytes)"],
      future: ["invalid", "beat is dated 2026-11-23T10:05:00.001Z, more than 5 minutes in the future"],
      link: ["invalid", "heartbeat file is a symbolic link (not followed)"],
      pipe: ["invalid", "heartbeat file is not a regular file"],
      "bad name": ["invalid", "file name is not a valid job name"],
    });
  });

  it("adds manifest jobs that never ran as missing, and rejects unknown manifest keys", async () => {
    const dir = await freshDir();
    await writeHeartbeat("backup", { every: "1d", dir, now, strict: true });
    const manifest = join(dir, "lastbeat.json");
    await writeFile(manifest, JSON.stringify({ jobs: { backup: { every: "1d" }, invoices: { schedule: "0 6 * * 1-5", tz: "Europe/Berlin" } } }));
    const states = await scanHeartbeats({ dirs: [dir], manifest, now });
    expect(states.map((s) => [s.job, s.status, s.intervalSeconds])).toEqual([
      ["backup", "ok", 86_400],
      ["invoices", "missing", 86_400],
    ]);
    await writeFile(manifest, JSON.stringify({ jobs: { backup: { every: "1d", evry: "2d" } } }));
    await expect(scanHeartbeats({ dirs: [dir], manifest, now })).rejects.toThrow(`${manifest}: job backup: unknown key "evry"`);
  });

  it("reports a missing folder instead of calling it healthy", async () => {
    const states = await scanHeartbeats({ dirs: [join(root, "typo")], now });
    expect(states).toMatchObject([{ status: "invalid", alerting: true, reason: "heartbeat folder does not exist" }]);
  });

  it("expands globs across hosts and qualifies a job name seen in several folders", async () => {
    const hosts = await freshDir();
    for (const host of ["web1", "web2"]) {
      await mkdir(join(hosts, host, "heartbeats"), { recursive: true });
      await writeHeartbeat("backup", { every: "1d", dir: join(hosts, host, "heartbeats"), now, strict: true });
    }
    await writeHeartbeat("only1", { every: "1d", dir: join(hosts, "web1", "heartbeats"), now, strict: true });
    expect(await expandDirs([join(hosts, "web?", "heartbeats")])).toEqual([
      join(hosts, "web1", "heartbeats"),
      join(hosts, "web2", "heartbeats"),
    ]);
    const states = await scanHeartbeats({ dirs: [join(hosts, "*", "heartbeats")], now });
    expect(states.map((s) => s.job).sort()).toEqual([
      `backup@${join(hosts, "web1", "heartbeats")}`,
      `backup@${join(hosts, "web2", "heartbeats")}`,
      "only1",
    ]);
  });
});

describe("readBoundedFile", () => {
  // /proc files report size 0 to fstat and then have content: the path for a file that grows.
  it("reads a file longer than fstat said, up to the cap", async () => {
    const whole = await readBoundedFile("/proc/self/status", MAX_HEARTBEAT_BYTES);
    expect(whole.ok && whole.text).toMatch(/^Name:/);
    expect(await readBoundedFile("/proc/self/status", 16)).toMatchObject({ ok: false, reason: "too large" });
  });
  it("reads a file of exactly the cap and refuses one byte more", async () => {
    const exact = join(root, "exact");
    await writeFile(exact, "x".repeat(MAX_HEARTBEAT_BYTES));
    const read = await readBoundedFile(exact, MAX_HEARTBEAT_BYTES);
    expect(read.ok && read.text.length).toBe(MAX_HEARTBEAT_BYTES);
    await writeFile(exact, "x".repeat(MAX_HEARTBEAT_BYTES + 1));
    expect(await readBoundedFile(exact, MAX_HEARTBEAT_BYTES)).toMatchObject({ ok: false, reason: "too large", size: MAX_HEARTBEAT_BYTES + 1 });
  });
  it("reads /proc files (size 0 to fstat) of exactly the cap, and refuses one byte more", async () => {
    // cmdline, unlike status, does not change between two reads.
    const whole = await readBoundedFile("/proc/self/cmdline", MAX_HEARTBEAT_BYTES);
    const length = whole.ok ? Buffer.byteLength(whole.text) : 0;
    expect(length).toBeGreaterThan(16);
    expect(await readBoundedFile("/proc/self/cmdline", length)).toMatchObject({ ok: true, text: whole.ok && whole.text });
    expect(await readBoundedFile("/proc/self/cmdline", length - 1)).toMatchObject({ ok: false, reason: "too large" });
  });
  it("says ENOENT for no file", async () => {
    expect(await readBoundedFile(join(root, "nope"), 10)).toMatchObject({ ok: false, code: "ENOENT" });
  });
});

import { execFileSync } from "node:child_process";
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evaluate, scanHeartbeats } from "lastbeat";
import { MAX_HEARTBEAT_BYTES, parseManifest, readBoundedFile, readBoundedFileSync, readHeartbeatFile, readHeartbeatFileSync, type BoundedRead } from "lastbeat/internal";

/*
 * The synchronous bounded reader that scans use: the same guarantees as the asynchronous one, and
 * the same results for every kind of planted file, so both are run side by side on each case.
 */

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "lastbeat-read-sync-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
const freshDir = () => {
  const dir = join(root, `d${n++}`);
  mkdirSync(dir);
  return dir;
};
const NOW = "2026-11-23T10:00:00.000Z";
const beat = (job: string) => JSON.stringify({ format: "lastbeat/1", job, status: "ok", at: NOW, interval_s: 300 });

/** Both readers on one path: the synchronous result, after checking the asynchronous one agrees. */
async function both(path: string, maxBytes = MAX_HEARTBEAT_BYTES): Promise<BoundedRead> {
  const sync = readBoundedFileSync(path, maxBytes);
  expect(await readBoundedFile(path, maxBytes)).toEqual(sync);
  return sync;
}

describe("readBoundedFileSync", () => {
  it("reads a plain file whole", async () => {
    const file = join(freshDir(), "backup.last");
    writeFileSync(file, beat("backup"));
    expect(await both(file)).toMatchObject({ ok: true, text: beat("backup"), modifiedAt: expect.any(Date) });
  });

  it("does not follow a symlink, even to a valid heartbeat, nor a dangling one", async () => {
    const dir = freshDir();
    writeFileSync(join(dir, "real.json"), beat("backup"));
    symlinkSync(join(dir, "real.json"), join(dir, "backup.last"));
    symlinkSync(join(dir, "nowhere"), join(dir, "dangling.last"));
    for (const name of ["backup.last", "dangling.last"]) {
      expect(await both(join(dir, name))).toEqual({ ok: false, code: "ELOOP", reason: "is a symbolic link (not followed)", modifiedAt: null });
    }
  });

  it("returns at once for a FIFO with no writer, and for one whose writer never writes", async () => {
    const fifo = join(freshDir(), "pipe.last");
    execFileSync("mkfifo", [fifo]);
    // Without O_NONBLOCK the open would wait for a writer forever and this test would time out.
    expect(await both(fifo)).toMatchObject({ ok: false, code: undefined, reason: "is not a regular file" });
    // O_RDWR on a FIFO never blocks on Linux: we are its writer, and we write nothing.
    const writer = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    try {
      expect(await both(fifo)).toMatchObject({ ok: false, reason: "is not a regular file" });
    } finally {
      closeSync(writer);
    }
  });

  it("refuses a folder named like a heartbeat", async () => {
    const folder = join(freshDir(), "db.last");
    mkdirSync(folder);
    expect(await both(folder)).toMatchObject({ ok: false, reason: "is not a regular file", modifiedAt: expect.any(Date) });
  });

  it("reads exactly 64 KiB, refuses one byte more and names the size", async () => {
    const dir = freshDir();
    writeFileSync(join(dir, "edge.last"), "x".repeat(MAX_HEARTBEAT_BYTES));
    writeFileSync(join(dir, "over.last"), "x".repeat(MAX_HEARTBEAT_BYTES + 1));
    const edge = await both(join(dir, "edge.last"));
    expect(edge.ok && edge.text.length).toBe(MAX_HEARTBEAT_BYTES);
    expect(await both(join(dir, "over.last"))).toMatchObject({ ok: false, reason: "too large", size: MAX_HEARTBEAT_BYTES + 1 });
    expect(await both(join(dir, "edge.last"), 1000)).toMatchObject({ ok: false, reason: "too large", size: MAX_HEARTBEAT_BYTES });
  });

  it("reads a file longer than fstat said, but never past the cap", () => {
    // /proc files report size 0 to fstat and then have content: the path for a file that grew.
    // (Its content changes from read to read, so the two readers cannot be compared here.)
    const whole = readBoundedFileSync("/proc/self/status", MAX_HEARTBEAT_BYTES);
    expect(whole.ok && whole.text).toMatch(/^Name:/);
    expect(readBoundedFileSync("/proc/self/status", 16)).toMatchObject({ ok: false, reason: "too large" });
    expect(readBoundedFileSync("/proc/self/status", 16)).not.toHaveProperty("size");
  });

  it("reports a file that cannot be read, naming the error, whether open or read fails", async () => {
    const file = join(freshDir(), "plain.last");
    writeFileSync(file, "{}");
    expect(await both(join(file, "child.last"))).toMatchObject({ ok: false, code: "ENOTDIR", reason: expect.stringMatching(/^cannot be read: .*ENOTDIR/) });
    expect(await both(join(root, "nope.last"))).toMatchObject({ ok: false, code: "ENOENT", modifiedAt: null });
    // Opens as a regular file, then the read fails (address 0 of our memory is never mapped).
    expect(readBoundedFileSync("/proc/self/mem", 100)).toMatchObject({ ok: false, code: "EIO", reason: expect.stringMatching(/^cannot be read: .*EIO/) });
    expect(await readBoundedFile("/proc/self/mem", 100)).toMatchObject({ ok: false, code: "EIO", reason: expect.stringMatching(/^cannot be read: .*EIO/) });
  });

  it("never returns a previous file's bytes from its reused buffer", () => {
    const dir = freshDir();
    writeFileSync(join(dir, "long.last"), "L".repeat(5000));
    writeFileSync(join(dir, "short.last"), "short");
    writeFileSync(join(dir, "empty.last"), "");
    expect(readBoundedFileSync(join(dir, "long.last"), MAX_HEARTBEAT_BYTES)).toMatchObject({ ok: true, text: "L".repeat(5000) });
    expect(readBoundedFileSync(join(dir, "short.last"), MAX_HEARTBEAT_BYTES)).toMatchObject({ ok: true, text: "short" });
    expect(readBoundedFileSync(join(dir, "empty.last"), MAX_HEARTBEAT_BYTES)).toMatchObject({ ok: true, text: "" });
  });
});

describe("readHeartbeatFileSync", () => {
  it("gives the same result as readHeartbeatFile for a good, a torn, a large and a symlinked heartbeat", async () => {
    const dir = freshDir();
    writeFileSync(join(dir, "good.last"), beat("good"));
    writeFileSync(join(dir, "torn.last"), beat("torn").slice(0, 20));
    writeFileSync(join(dir, "big.last"), " ".repeat(MAX_HEARTBEAT_BYTES + 1));
    symlinkSync(join(dir, "good.last"), join(dir, "link.last"));
    const results = [];
    for (const name of ["good", "torn", "big", "link"]) {
      const path = join(dir, `${name}.last`);
      const sync = readHeartbeatFileSync(path);
      expect(await readHeartbeatFile(path)).toEqual(sync);
      results.push(sync.ok ? "ok" : sync.reason);
    }
    expect(results).toEqual(["ok", "not valid JSON", "larger than 64 KiB (65537 bytes)", "is a symbolic link (not followed)"]);
  });
});

describe("scanHeartbeats, read synchronously", () => {
  it("classifies a folder named x.last, a FIFO, a symlink and a torn file; skips none", async () => {
    const dir = freshDir();
    writeFileSync(join(dir, "good.last"), beat("good"));
    mkdirSync(join(dir, "folder.last"));
    execFileSync("mkfifo", [join(dir, "pipe.last")]);
    symlinkSync(join(dir, "good.last"), join(dir, "link.last"));
    writeFileSync(join(dir, "torn.last"), beat("torn").slice(0, 20));
    const states = await scanHeartbeats({ dirs: [dir], now: new Date(NOW) });
    expect(Object.fromEntries(states.map((s) => [s.job, s.status === "invalid" ? s.reason : s.status]))).toEqual({
      good: "ok",
      folder: "heartbeat file is not a regular file",
      pipe: "heartbeat file is not a regular file",
      link: "heartbeat file is a symbolic link (not followed)",
      torn: "heartbeat file not valid JSON",
    });
  });

  it("judges every kind of file as the one-file reader does, dates of invalid files included", async () => {
    // The scan reads a good heartbeat without fstat and asks for it only when the verdict needs
    // it; the one-file reader always does. Each file's state must be the same either way.
    const dir = freshDir();
    const future = new Date(Date.parse(NOW) + 3_600_000).toISOString();
    const files: Record<string, string> = {
      good: beat("good"),
      torn: beat("torn").slice(0, 20),
      empty: "",
      big: " ".repeat(MAX_HEARTBEAT_BYTES + 1),
      // Exactly the cap: read whole in the one read, and good.
      full: beat("full").padEnd(MAX_HEARTBEAT_BYTES, " "),
      // Good JSON that judges invalid: dated by the file's modification time, set below.
      future: JSON.stringify({ format: "lastbeat/1", job: "future", status: "ok", at: future, interval_s: 300 }),
      wrong: JSON.stringify({ format: "lastbeat/1", job: "other", status: "ok", at: NOW, interval_s: 300 }),
    };
    const modified = new Date("2026-11-20T08:00:00.000Z");
    for (const [name, text] of Object.entries(files)) {
      writeFileSync(join(dir, `${name}.last`), text);
      utimesSync(join(dir, `${name}.last`), modified, modified);
    }
    mkdirSync(join(dir, "folder.last"));
    execFileSync("mkfifo", [join(dir, "pipe.last")]);
    symlinkSync(join(dir, "good.last"), join(dir, "link.last"));
    const now = new Date(NOW);
    const states = await scanHeartbeats({ dirs: [dir], now });
    const names = [...Object.keys(files), "folder", "pipe", "link"];
    expect(states.map((s) => s.job).sort()).toEqual([...names].sort());
    for (const state of states) {
      const file = join(dir, `${state.job}.last`);
      const read = readHeartbeatFileSync(file);
      const expected = read.ok
        ? evaluate(read.heartbeat, undefined, now, { file, modifiedAt: read.modifiedAt })
        : evaluate(undefined, undefined, now, { job: state.job, file, invalidReason: `heartbeat file ${read.reason}`, modifiedAt: read.modifiedAt });
      expect(state, state.job).toEqual(expected);
    }
    const byJob = new Map(states.map((s) => [s.job, s]));
    expect(byJob.get("future")).toMatchObject({ status: "invalid", alertingSince: modified });
    expect(byJob.get("full")).toMatchObject({ status: "ok" });
    expect(byJob.get("big")).toMatchObject({ status: "invalid", alertingSince: modified });
  });

  it("reports a --dir that is a file instead of calling it empty", async () => {
    const file = join(freshDir(), "not-a-folder");
    writeFileSync(file, "");
    const states = await scanHeartbeats({ dirs: [file], now: new Date(NOW) });
    expect(states).toMatchObject([{ job: `folder:${file}`, status: "invalid", alerting: true, reason: expect.stringMatching(/^heartbeat folder cannot be read: .*ENOTDIR/) }]);
  });

  it("lets the event loop run between slices (sliceMs 0: after every file)", async () => {
    const dir = freshDir();
    const count = 40;
    for (let i = 0; i < count; i++) writeFileSync(join(dir, `job-${i}.last`), beat(`job-${i}`));
    const turns = countTurns();
    const scanned = await scanHeartbeats({ dirs: [dir], now: new Date(NOW), sliceMs: 0 });
    turns.stop();
    expect(scanned).toHaveLength(count);
    // A yield per listed entry and per file read: other work ran at least once per file. Without
    // slices it would run only across the few asynchronous steps before the reading starts.
    expect(turns.count()).toBeGreaterThanOrEqual(count);
  });
});

describe("what the mutation audit found unpinned", () => {
  it("says a file that grew past the cap while read is larger than 64 KiB, without a size fstat never gave", async () => {
    // /proc files report size 0 to fstat; a process's smaps runs past 64 KiB.
    expect(readFileSync("/proc/self/smaps").length).toBeGreaterThan(MAX_HEARTBEAT_BYTES);
    const expected = { ok: false, reason: "larger than 64 KiB", modifiedAt: expect.any(Date) };
    expect(await readHeartbeatFile("/proc/self/smaps")).toEqual(expected);
    expect(readHeartbeatFileSync("/proc/self/smaps")).toEqual(expected);
  });

  it("reads a file that grew since fstat byte for byte, as it is", async () => {
    const read = await both("/proc/self/cmdline");
    expect(read).toMatchObject({ ok: true, text: readFileSync("/proc/self/cmdline", "utf8") });
  });

  it("takes the job name from the file name, only the final .last cut off", async () => {
    const dir = freshDir();
    writeFileSync(join(dir, "db.last-night.last"), beat("db.last-night"));
    expect(await readHeartbeatFile(join(dir, "db.last-night.last"))).toMatchObject({ ok: true, heartbeat: { job: "db.last-night" } });
  });

  it("reads past 64 KiB when a caller asks for a larger cap", async () => {
    const dir = freshDir();
    writeFileSync(join(dir, "big"), "b".repeat(100_000));
    expect(await both(join(dir, "big"), 200_000)).toMatchObject({ ok: true, text: "b".repeat(100_000) });
    expect(await both(join(dir, "big"), 100_000)).toMatchObject({ ok: true, text: "b".repeat(100_000) });
    expect(await both(join(dir, "big"), 99_999)).toMatchObject({ ok: false, reason: "too large", size: 100_000 });
  });

  it("closes every file and folder it opens, whatever it finds", async () => {
    const dir = freshDir();
    writeFileSync(join(dir, "ok.last"), beat("ok"));
    writeFileSync(join(dir, "big.last"), "x".repeat(MAX_HEARTBEAT_BYTES + 1));
    writeFileSync(join(dir, "torn.last"), "{");
    mkdirSync(join(dir, "folder.last"));
    execFileSync("mkfifo", [join(dir, "pipe.last")]);
    const paths = ["ok.last", "big.last", "torn.last", "folder.last", "pipe.last"].map((name) => join(dir, name));
    const openFds = () => readdirSync("/proc/self/fd").length;
    const before = openFds();
    for (let i = 0; i < 50; i++) {
      for (const path of paths) {
        readBoundedFileSync(path, MAX_HEARTBEAT_BYTES);
        await readBoundedFile(path, MAX_HEARTBEAT_BYTES);
      }
      await scanHeartbeats({ dirs: [dir], now: new Date(NOW) });
    }
    // A leak would leave hundreds open; a little slack for whatever else the process opens.
    expect(openFds() - before).toBeLessThan(20);
  });

  it("reads the folder LASTBEAT_DIR names in the environment it is given, when no folder is", async () => {
    const dir = freshDir();
    writeFileSync(join(dir, "backup.last"), beat("backup"));
    for (const dirs of [undefined, []]) {
      const states = await scanHeartbeats({ dirs, env: { LASTBEAT_DIR: dir }, now: new Date(NOW) });
      expect(states.map((s) => [s.job, s.status, s.file])).toEqual([["backup", "ok", join(dir, "backup.last")]]);
    }
  });

  it("takes a manifest already parsed", async () => {
    const dir = freshDir();
    writeFileSync(join(dir, "backup.last"), beat("backup"));
    const manifest = parseManifest(JSON.stringify({ jobs: { backup: { every: "5m" }, invoices: { every: "1d" } } }));
    const states = await scanHeartbeats({ dirs: [dir], manifest, now: new Date(NOW) });
    expect(states.map((s) => [s.job, s.status])).toEqual([["backup", "ok"], ["invoices", "missing"]]);
  });

  it("gives the event loop a turn after each listed entry and each file read, and none inside a slice", async () => {
    const dir = freshDir();
    const count = 40;
    for (let i = 0; i < count; i++) writeFileSync(join(dir, `job-${i}.last`), beat(`job-${i}`));
    const ticksAtEachState = async (sliceMs: number) => {
      const turns = countTurns();
      const seen = await scanHeartbeats({ dirs: [dir], now: new Date(NOW), sliceMs }, () => turns.count());
      turns.stop();
      return seen;
    };
    const sliced = await ticksAtEachState(0);
    expect(sliced[0]).toBeGreaterThanOrEqual(count); // a turn per entry listed before the first read
    for (let i = 1; i < count; i++) expect(sliced[i]).toBeGreaterThan(sliced[i - 1]!); // and per file
    const whole = await ticksAtEachState(1e9);
    expect(new Set(whole).size).toBe(1); // one slice: no turn between files
    expect(whole[0]).toBeLessThan(count);
  });
});

/** Counts the event loop's turns (one setImmediate each) until stopped: other work the scan let run. */
function countTurns(): { count(): number; stop(): void } {
  let turns = 0;
  let running = true;
  const turn = () => {
    turns++;
    if (running) setImmediate(turn);
  };
  setImmediate(turn);
  return { count: () => turns, stop: () => void (running = false) };
}

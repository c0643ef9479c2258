import { execFileSync } from "node:child_process";
import { lstat, mkdir, open, readFile, readdir, rename, stat, symlink, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LastbeatError } from "lastbeat";
import type { JobState } from "lastbeat";
import { JOURNAL_FILE, MAX_JOURNAL_REASON_CHARS, changeTime, isJournalJob, journalChanges, readJournal, updateJournal } from "lastbeat/internal";
import type { AtomicFs, JournalEntry } from "lastbeat/internal";
import { testdir } from "../support/testdir.js";

const entry = (job: string, at: string, from: JournalEntry["from"], to: JournalEntry["to"], reason = `${job} is ${to}`): JournalEntry => ({ at, job, from, to, reason });
const line = (e: JournalEntry) => `${JSON.stringify(e)}\n`;

const backupFailed = entry("backup", "2026-11-23T02:00:00.000Z", null, "failed", "exit code 1");
const backupOk = entry("backup", "2026-11-23T03:10:00.000Z", "failed", "ok", "last beat ok");
const syncLate = entry("sync", "2026-11-23T03:30:00.000Z", "ok", "late", "due 10m ago");

async function journalWith(text: string | Buffer): Promise<string> {
  const file = join(await testdir("lastbeat-journal-"), JOURNAL_FILE);
  await writeFile(file, text);
  return file;
}

describe("readJournal", () => {
  it("reads a missing journal as an empty one, and says it found none", async () => {
    const dir = await testdir("lastbeat-journal-");
    expect(await readJournal(join(dir, JOURNAL_FILE))).toEqual({ found: false, entries: [], truncated: false, skippedLines: 0, bytes: 0 });
  });

  it("returns the entries in file order, with every byte counted", async () => {
    const text = [backupFailed, backupOk, syncLate].map(line).join("");
    const read = await readJournal(await journalWith(text));
    expect(read).toEqual({ found: true, entries: [backupFailed, backupOk, syncLate], truncated: false, skippedLines: 0, bytes: Buffer.byteLength(text) });
  });

  it("skips and counts every line that is not a valid entry, and keeps reading after it", async () => {
    const bad = [
      "{not json",
      "[1,2]",
      "null",
      JSON.stringify({ ...backupOk, at: "yesterday" }),
      JSON.stringify({ ...backupOk, at: "2026-02-30T00:00:00Z" }),
      JSON.stringify({ ...backupOk, job: "" }),
      JSON.stringify({ ...backupOk, job: "two\nlines" }),
      JSON.stringify({ ...backupOk, job: 7 }),
      JSON.stringify({ ...backupOk, to: "sideways" }),
      JSON.stringify({ ...backupOk, from: "sideways" }),
      JSON.stringify({ ...backupOk, from: undefined }),
      JSON.stringify({ ...backupOk, reason: null }),
    ];
    const text = [line(backupFailed), ...bad.map((b) => `${b}\n`), "\n", "   \n", line(syncLate)].join("");
    const read = await readJournal(await journalWith(text));
    expect(read.entries).toEqual([backupFailed, syncLate]);
    expect(read.skippedLines).toBe(bad.length); // blank lines hold no entry and are not counted
  });

  it("accepts the names a scan gives and any ISO time, returning the time in UTC", async () => {
    const text = [
      JSON.stringify({ ...backupOk, job: "backup@/mnt/host-a", at: "2026-11-23T04:10:00+01:00", extra: "ignored" }),
      JSON.stringify({ ...backupOk, job: "folder:/var/lib/heartbeats" }),
    ].join("\n"); // no newline after the last line: still read
    const read = await readJournal(await journalWith(text));
    expect(read.entries.map((e) => [e.job, e.at])).toEqual([
      ["backup@/mnt/host-a", "2026-11-23T03:10:00.000Z"],
      ["folder:/var/lib/heartbeats", backupOk.at],
    ]);
    expect(read.entries[0]).not.toHaveProperty("extra");
  });

  it("reads lines that straddle its read chunks, however long", async () => {
    const entries = Array.from({ length: 3000 }, (_, i) => entry(`job-${i % 7}`, new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(), "ok", "failed", "r".repeat(i % 500)));
    const text = entries.map(line).join("");
    const read = await readJournal(await journalWith(text));
    expect(read.entries).toEqual(entries);
    expect(read.bytes).toBe(Buffer.byteLength(text));
    const tail = await readJournal(await journalWith(text), { maxBytes: 200_001 });
    expect(tail.entries).toEqual(entries.slice(entries.length - tail.entries.length));
    expect(tail.skippedLines).toBe(0);
    expect(tail.bytes).toBe(200_001);
  });

  it("skips an overlong line without holding it, and reads the lines around it", async () => {
    const huge = JSON.stringify({ ...backupOk, reason: "x".repeat(200_000) });
    const read = await readJournal(await journalWith(`${line(backupFailed)}${huge}\n${line(syncLate)}`));
    expect(read.entries).toEqual([backupFailed, syncLate]);
    expect(read.skippedLines).toBe(1);
  });

  it("reads only the last maxBytes of a larger journal, dropping the partial first line", async () => {
    const lines = [backupFailed, backupOk, syncLate].map(line);
    const text = lines.join("");
    const file = await journalWith(text);
    // Cut inside the second line: the second is partial, only the third is an entry.
    const cut = Buffer.byteLength(lines[2]!) + 5;
    expect(await readJournal(file, { maxBytes: cut })).toEqual({ found: true, entries: [syncLate], truncated: true, skippedLines: 0, bytes: cut });
    // Cut exactly where the second line begins: it is whole, and kept.
    const atLine = Buffer.byteLength(lines[1]! + lines[2]!);
    expect((await readJournal(file, { maxBytes: atLine })).entries).toEqual([backupOk, syncLate]);
    expect((await readJournal(file, { maxBytes: Buffer.byteLength(text) })).truncated).toBe(false);
  });

  it("returns exactly the entries wholly inside the last maxBytes, for any journal and any cap", async () => {
    const dir = await testdir("lastbeat-journal-");
    const arbitraryEntry = fc.record({
      at: fc.integer({ min: 0, max: 4_000_000_000_000 }).map((ms) => new Date(ms).toISOString()),
      job: fc.constantFrom("backup", "sync", "db.dump", "héllo-wörld"),
      from: fc.constantFrom(null, "ok", "failed", "stale"),
      to: fc.constantFrom("ok", "late", "flaky", "failed", "missing"),
      reason: fc.string({ maxLength: 40 }),
    }) as fc.Arbitrary<JournalEntry>;
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(arbitraryEntry, { maxLength: 30 }), fc.nat(4000), async (entries, maxBytes) => {
        const file = join(dir, `j${n++}`);
        const lines = entries.map(line);
        await writeFile(file, lines.join(""));
        const read = await readJournal(file, { maxBytes });
        let room = maxBytes;
        const expected: JournalEntry[] = [];
        for (let i = lines.length - 1; i >= 0 && Buffer.byteLength(lines[i]!) <= room; i--) {
          room -= Buffer.byteLength(lines[i]!);
          expected.unshift(entries[i]!);
        }
        expect(read.entries).toEqual(expected);
        expect(read.skippedLines).toBe(0);
        expect(read.bytes).toBe(Math.min(maxBytes, Buffer.byteLength(lines.join(""))));
        expect(read.truncated).toBe(read.bytes < Buffer.byteLength(lines.join("")));
      }),
      { numRuns: 200 },
    );
  });

  it("refuses a symlink at the journal's path and never reads its target", async () => {
    const dir = await testdir("lastbeat-journal-");
    await writeFile(join(dir, "elsewhere"), line(backupFailed));
    await symlink(join(dir, "elsewhere"), join(dir, JOURNAL_FILE));
    const failure = await readJournal(join(dir, JOURNAL_FILE)).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(LastbeatError);
    expect((failure as LastbeatError).code).toBe("E_SYMLINK");
    expect((failure as Error).message).toBe(`refusing to read the journal ${join(dir, JOURNAL_FILE)}: it is a symbolic link`);
  });

  it("never waits on a FIFO, and names the file that is not a regular one", async () => {
    const dir = await testdir("lastbeat-journal-");
    const fifo = join(dir, JOURNAL_FILE);
    execFileSync("mkfifo", [fifo]);
    await expect(readJournal(fifo)).rejects.toThrow(`refusing to read the journal ${fifo}: it is not a regular file`);
    const folder = join(dir, "folder");
    await mkdir(folder);
    await expect(readJournal(folder)).rejects.toThrow(`refusing to read the journal ${folder}: it is not a regular file`);
  });

  it("throws a LastbeatError naming the file for any other read error", async () => {
    const dir = await testdir("lastbeat-journal-");
    await writeFile(join(dir, "file"), "");
    const failure = await readJournal(join(dir, "file", JOURNAL_FILE)).catch((e: unknown) => e);
    expect((failure as LastbeatError).code).toBe("E_READ");
    expect((failure as Error).message).toBe(`cannot read the journal ${join(dir, "file", JOURNAL_FILE)}: not a directory (ENOTDIR)`);
  });
});

const NOW = new Date("2026-11-23T06:30:00.000Z");
const DAY = 86_400_000;
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY).toISOString();

/** A job state as the scan gives it; only what the journal reads matters. */
function state(job: string, status: JobState["status"], fields: Partial<JobState> = {}): JobState {
  const alerting = ["stale", "failed", "overrun", "missing", "invalid"].includes(status);
  return {
    job,
    status,
    alerting,
    reason: `${job} is ${status}`,
    lastBeatAt: null,
    lastOkAt: null,
    ageSeconds: null,
    intervalSeconds: 3600,
    ratio: null,
    dueAt: null,
    graceEndAt: null,
    alertingSince: null,
    file: null,
    heartbeat: null,
    ...fields,
  };
}

const at = (iso: string) => new Date(iso);

describe("changeTime", () => {
  const beat = at("2026-11-23T02:00:00.000Z");
  it("dates a change by what the files tell, per status", () => {
    expect(changeTime(state("a", "failed", { lastBeatAt: at("2026-11-23T02:30:00Z"), alertingSince: beat }), undefined, NOW)).toEqual(beat);
    expect(changeTime(state("a", "stale", { lastBeatAt: at("2026-11-22T20:00:00Z"), alertingSince: beat }), undefined, NOW)).toEqual(beat);
    expect(changeTime(state("a", "ok", { lastBeatAt: beat }), undefined, NOW)).toEqual(beat);
    expect(changeTime(state("a", "flaky", { lastBeatAt: beat }), undefined, NOW)).toEqual(beat);
    expect(changeTime(state("a", "late", { lastBeatAt: at("2026-11-23T01:00:00Z"), dueAt: beat }), undefined, NOW)).toEqual(beat);
    const started = state("a", "running", { lastBeatAt: at("2026-11-23T02:00:05Z"), heartbeat: { job: "a", status: "start", at: "2026-11-23T02:00:05Z", interval_s: 60, started_at: "2026-11-23T02:00:00Z" } });
    expect(changeTime(started, undefined, NOW)).toEqual(beat);
    expect(changeTime(state("a", "running", { lastBeatAt: beat }), undefined, NOW)).toEqual(beat);
    expect(changeTime(state("a", "paused", { lastBeatAt: beat }), undefined, NOW)).toEqual(NOW);
    expect(changeTime(state("a", "missing"), undefined, NOW)).toEqual(NOW);
  });

  it("never dates a change before the job's previous entry or after now", () => {
    const previous = entry("a", "2026-11-23T03:00:00.000Z", null, "failed");
    expect(changeTime(state("a", "ok", { lastBeatAt: beat }), previous, NOW)).toEqual(at(previous.at));
    expect(changeTime(state("a", "ok", { lastBeatAt: at("2026-11-24T00:00:00Z") }), previous, NOW)).toEqual(NOW);
  });
});

describe("journalChanges", () => {
  const latest = new Map([
    ["backup", entry("backup", "2026-11-23T02:00:00.000Z", null, "failed")],
    ["retired", entry("retired", "2026-11-20T02:00:00.000Z", null, "ok")],
  ]);

  it("has one entry per changed job, none for an unchanged or vanished one", () => {
    const states = [state("backup", "failed", { lastBeatAt: at("2026-11-23T02:30:00Z"), alertingSince: at("2026-11-23T02:30:00Z") }), state("sync", "ok", { lastBeatAt: at("2026-11-23T06:00:00Z") })];
    expect(journalChanges(states, latest, NOW)).toEqual([entry("sync", "2026-11-23T06:00:00.000Z", null, "ok", "sync is ok")]);
    const recovered = [state("backup", "ok", { lastBeatAt: at("2026-11-23T03:10:00Z"), reason: "next beat due 04:10" })];
    expect(journalChanges(recovered, latest, NOW)).toEqual([entry("backup", "2026-11-23T03:10:00.000Z", "failed", "ok", "next beat due 04:10")]);
  });

  it("keeps reasons to one bounded line and job names to one printable line", () => {
    const [change] = journalChanges([state("bad\nname\u001b[31m", "invalid", { reason: `line one\nline two\u001b[2J ${"x".repeat(2000)}` })], latest, NOW);
    expect(change!.job).toBe("bad\uFFFDname\uFFFD[31m");
    expect(isJournalJob(change!.job)).toBe(true);
    expect(change!.reason.startsWith("line one line two x")).toBe(true);
    expect(change!.reason.length).toBeLessThanOrEqual(MAX_JOURNAL_REASON_CHARS);
  });
});

describe("updateJournal", () => {
  async function journalFile(lines: JournalEntry[] = []): Promise<string> {
    return journalWith(lines.map(line).join(""));
  }

  it("creates the journal, appends only changes, and leaves it alone when nothing changed", async () => {
    const file = join(await testdir("lastbeat-journal-"), JOURNAL_FILE);
    const failing = [state("backup", "failed", { lastBeatAt: at("2026-11-23T02:00:00Z"), alertingSince: at("2026-11-23T02:00:00Z") })];
    expect((await updateJournal(file, failing, { now: NOW })).appended).toHaveLength(1);
    const before = await readFile(file, "utf8");
    expect(await updateJournal(file, failing, { now: NOW })).toEqual({ appended: [], rewritten: false, bytesBefore: Buffer.byteLength(before), overCap: false, skippedLines: 0 });
    expect(await readFile(file, "utf8")).toBe(before);
    expect((await stat(file)).mode & 0o777).toBe(0o644);
  });

  it("starts a new line after a last line that lost its newline", async () => {
    const file = await journalWith(JSON.stringify(backupFailed));
    await updateJournal(file, [state("backup", "ok", { lastBeatAt: at(backupOk.at), reason: backupOk.reason })], { now: NOW });
    expect((await readJournal(file)).entries).toEqual([backupFailed, backupOk]);
  });

  it("trims past 91 days to the last 90 and each job's latest entry, not before", async () => {
    const old = [entry("backup", daysAgo(200), null, "ok"), entry("quiet", daysAgo(100), null, "ok"), entry("backup", daysAgo(95), "ok", "failed")];
    const recent = [entry("backup", daysAgo(89), "failed", "ok"), entry("backup", daysAgo(1), "ok", "late")];
    const states = [state("backup", "late", { dueAt: at(daysAgo(1)) }), state("quiet", "ok")];
    // The oldest entry that could go is 90.5 days old: within the hysteresis, nothing is rewritten.
    const young = await journalFile([entry("backup", daysAgo(90.5), null, "ok"), ...recent]);
    expect((await updateJournal(young, states.slice(0, 1), { now: NOW })).rewritten).toBe(false);

    const file = await journalFile([...old, ...recent]);
    const update = await updateJournal(file, [...states, state("new", "running", { lastBeatAt: NOW })], { now: NOW });
    expect(update.rewritten).toBe(true);
    // quiet's entry is 100 days old but still its latest: its status stays known.
    expect((await readJournal(file)).entries).toEqual([old[1], ...recent, entry("new", NOW.toISOString(), null, "running", "new is running")]);
    expect((await updateJournal(file, states, { now: NOW })).rewritten).toBe(false);
  });

  it("rewrites a journal over its cap to fit: each job's latest, then the newest entries", async () => {
    const entries = Array.from({ length: 400 }, (_, i) => entry(`job-${i % 4}`, daysAgo(80 - i * 0.1), "ok", i % 2 ? "failed" : "ok", "r".repeat(100)));
    const quiet = entry("quiet", daysAgo(300), null, "paused");
    const file = await journalFile([quiet, ...entries]);
    const size = (await stat(file)).size;
    const cap = 10_000;
    const update = await updateJournal(file, [], { now: NOW, maxBytes: cap });
    expect(update).toMatchObject({ rewritten: true, overCap: true, bytesBefore: size });
    const read = await readJournal(file, { maxBytes: cap });
    expect(read.truncated).toBe(false);
    expect(read.bytes).toBeLessThanOrEqual(cap);
    expect(read.bytes).toBeGreaterThan(cap - 200); // less than one line short of it
    // What is kept is the newest stretch, plus the latest entry of a job outside it.
    expect(read.entries[0]).toEqual(quiet);
    expect(read.entries.slice(1)).toEqual(entries.slice(entries.length - read.entries.length + 1));
    expect((await updateJournal(file, [], { now: NOW, maxBytes: cap })).rewritten).toBe(false);
  });

  it("rewrites a journal without its corrupt lines, and says how many there were", async () => {
    const file = await journalWith(`${line(backupFailed)}{torn\n${line(backupOk)}`);
    expect(await updateJournal(file, [state("backup", "ok")], { now: NOW })).toMatchObject({ rewritten: true, skippedLines: 1, appended: [] });
    expect(await readFile(file, "utf8")).toBe(`${line(backupFailed)}${line(backupOk)}`);
  });

  it("refuses a symlink at the journal's path: the link and its target stay as they are", async () => {
    const dir = await testdir("lastbeat-journal-");
    await writeFile(join(dir, "target"), "precious\n");
    await symlink(join(dir, "target"), join(dir, JOURNAL_FILE));
    const failure = await updateJournal(join(dir, JOURNAL_FILE), [state("backup", "failed")], { now: NOW }).catch((e: unknown) => e);
    expect((failure as LastbeatError).code).toBe("E_SYMLINK");
    expect(await readFile(join(dir, "target"), "utf8")).toBe("precious\n");
    expect((await lstat(join(dir, JOURNAL_FILE))).isSymbolicLink()).toBe(true);
  });

  it("keeps the journal intact when its rewrite fails, and names the file", async () => {
    const text = `${line(entry("backup", daysAgo(120), null, "ok"))}${line(entry("backup", daysAgo(100), "ok", "failed"))}`;
    const file = await journalWith(text);
    const fs: AtomicFs = { open, unlink, rename: async () => Promise.reject(Object.assign(new Error("no space"), { code: "ENOSPC" })) };
    await expect(updateJournal(file, [state("backup", "ok")], { now: NOW, fs })).rejects.toThrow(`cannot rewrite the journal ${file}: no space left on device (ENOSPC)`);
    expect(await readFile(file, "utf8")).toBe(text);
    expect((await readdir(join(file, ".."))).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
});

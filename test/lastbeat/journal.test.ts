import { execFileSync } from "node:child_process";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LastbeatError } from "lastbeat";
import { JOURNAL_FILE, readJournal } from "lastbeat/internal";
import type { JournalEntry } from "lastbeat/internal";
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
  it("reads a missing journal as an empty one", async () => {
    const dir = await testdir("lastbeat-journal-");
    expect(await readJournal(join(dir, JOURNAL_FILE))).toEqual({ entries: [], truncated: false, skippedLines: 0, bytes: 0 });
  });

  it("returns the entries in file order, with every byte counted", async () => {
    const text = [backupFailed, backupOk, syncLate].map(line).join("");
    const read = await readJournal(await journalWith(text));
    expect(read).toEqual({ entries: [backupFailed, backupOk, syncLate], truncated: false, skippedLines: 0, bytes: Buffer.byteLength(text) });
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
    expect(await readJournal(file, { maxBytes: cut })).toEqual({ entries: [syncLate], truncated: true, skippedLines: 0, bytes: cut });
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

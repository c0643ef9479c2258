import { mkdir, readFile, readdir, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { JOURNAL_FILE, readJournal } from "lastbeat/internal";
import type { JournalEntry } from "lastbeat/internal";
import { runLastbeat } from "../support/cli.js";
import { findLeaks } from "../support/leaks.js";
import { testdir } from "../support/testdir.js";

/* The checker's journal through the real CLI: what `lastbeat check` appends, when, and what it refuses. */

const TOKEN = "lbtok_journal0123456789abcdef";

async function heartbeats(): Promise<string> {
  const dir = join(await testdir("lastbeat-journal-cli-"), "hb");
  await mkdir(dir);
  return dir;
}

const beat = (dir: string, job: string, status: "ok" | "fail", now: string, message?: string) =>
  runLastbeat(["beat", job, "--every", "1h", "--status", status, "--dir", dir, "--now", now, ...(message ? ["--message", message] : [])]);

const check = (dir: string, now: string, ...flags: string[]) => runLastbeat(["check", "--forge", "none", "--dir", dir, "--now", now, ...flags], { env: { LASTBEAT_TOKEN: TOKEN } });

const journalOf = async (dir: string) => (await readJournal(join(dir, JOURNAL_FILE))).entries;

const line = (e: JournalEntry) => `${JSON.stringify(e)}\n`;

describe("lastbeat check writes the journal", () => {
  it("dates a failure at 02:00 and its recovery at 03:10 by the beats, however often it checks", async () => {
    const dir = await heartbeats();
    expect((await beat(dir, "backup", "ok", "2026-11-23T01:00:00Z")).code).toBe(0);
    expect((await check(dir, "2026-11-23T01:05:00Z")).code).toBe(0);
    const before = await journalOf(dir);
    expect(before).toEqual([{ at: "2026-11-23T01:00:00.000Z", job: "backup", from: null, to: "ok", reason: "next beat due 2026-11-23T02:00:00.000Z" }]);

    expect((await beat(dir, "backup", "fail", "2026-11-23T02:00:00Z", "exit 1")).code).toBe(0);
    for (const time of ["02:15", "02:30", "02:45", "03:00"]) {
      const run = await check(dir, `2026-11-23T${time}:00Z`);
      expect(run.code, time).toBe(1);
      expect(run.stderr, time).toBe("");
    }
    expect((await beat(dir, "backup", "ok", "2026-11-23T03:10:00Z")).code).toBe(0);
    expect((await check(dir, "2026-11-23T03:15:00Z")).code).toBe(0);

    const after = await journalOf(dir);
    expect(after.slice(before.length)).toEqual([
      { at: "2026-11-23T02:00:00.000Z", job: "backup", from: "ok", to: "failed", reason: "last run failed: exit 1" },
      { at: "2026-11-23T03:10:00.000Z", job: "backup", from: "failed", to: "ok", reason: "next beat due 2026-11-23T04:10:00.000Z" },
    ]);
  });

  it("appends nothing when nothing changed, and nothing at all on --dry-run", async () => {
    const dir = await heartbeats();
    await beat(dir, "backup", "ok", "2026-11-23T01:00:00Z");
    await check(dir, "2026-11-23T01:05:00Z", "--dry-run");
    expect(await readdir(dir)).toEqual(["backup.last"]);
    await check(dir, "2026-11-23T01:05:00Z");
    const text = await readFile(join(dir, JOURNAL_FILE), "utf8");
    await check(dir, "2026-11-23T01:20:00Z");
    expect(await readFile(join(dir, JOURNAL_FILE), "utf8")).toBe(text);
    // Late at 02:00 (its due time), whenever the checker first sees it; --dry-run still writes nothing.
    await check(dir, "2026-11-23T02:40:00Z", "--dry-run");
    expect(await readFile(join(dir, JOURNAL_FILE), "utf8")).toBe(text);
    await check(dir, "2026-11-23T02:40:00Z");
    expect((await journalOf(dir)).at(-1)).toMatchObject({ at: "2026-11-23T02:00:00.000Z", from: "ok", to: "late" });
  });

  it("checkers racing on one folder write each change once", async () => {
    const dir = await heartbeats();
    for (const job of ["a", "b", "c"]) await beat(dir, job, job === "b" ? "fail" : "ok", "2026-11-23T01:00:00Z");
    // A long history of other jobs: reading it takes each checker long enough that, without the
    // lock, they would all read before any of them appended.
    const history = Array.from({ length: 40_000 }, (_, i) =>
      line({ at: new Date(Date.parse("2026-11-01T00:00:00Z") + i * 30_000).toISOString(), job: `other-${i % 40}`, from: "ok", to: i % 2 ? "ok" : "late", reason: "z".repeat(60) }),
    );
    await writeFile(join(dir, JOURNAL_FILE), history.join(""));
    const runs = await Promise.all([1, 2, 3, 4].map(() => check(dir, "2026-11-23T01:05:00Z")));
    expect(runs.map((r) => r.code)).toEqual([1, 1, 1, 1]);
    const entries = (await journalOf(dir)).slice(history.length);
    expect(entries.map((e) => `${e.job}:${e.from}->${e.to}`).sort()).toEqual(["a:null->ok", "b:null->failed", "c:null->ok"]);
  });

  it("never lets a token in a job's message reach the journal", async () => {
    const dir = await heartbeats();
    await beat(dir, "leaky", "fail", "2026-11-23T01:00:00Z", `curl -H "Authorization: token ${TOKEN}" failed`);
    expect((await check(dir, "2026-11-23T01:05:00Z")).code).toBe(1);
    const text = await readFile(join(dir, JOURNAL_FILE), "utf8");
    expect(text).toContain("Authorization: token ***");
    expect(findLeaks(text, TOKEN)).toEqual([]);
  });

  it("trims a 10 MB journal to its last 90 days and each job's latest entry, losing nothing recent", async () => {
    const dir = await heartbeats();
    await beat(dir, "backup", "ok", "2026-11-23T05:30:00Z");
    const now = Date.parse("2026-11-23T06:00:00Z");
    const iso = (daysAgo: number) => new Date(now - daysAgo * 86_400_000).toISOString();
    const filler = "x".repeat(200);
    const old: string[] = [];
    const recent: JournalEntry[] = [];
    // 100 to 200 days old: 40,000 lines that may go; then 90 days of recent ones that must stay.
    for (let i = 0; i < 40_000; i++) old.push(line({ at: iso(200 - i * 0.0025), job: `old-${i % 50}`, from: "ok", to: i % 2 ? "ok" : "failed", reason: filler }));
    for (let i = 0; i < 900; i++) recent.push({ at: iso(89.9 - i * 0.099), job: `job-${i % 30}`, from: "ok", to: i % 2 ? "ok" : "late", reason: `recent ${i}` });
    const text = old.join("") + recent.map(line).join("");
    await writeFile(join(dir, JOURNAL_FILE), text);
    expect(Buffer.byteLength(text)).toBeGreaterThan(10_000_000);

    const run = await check(dir, "2026-11-23T06:00:00Z");
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(""); // under the cap: trimmed without a word
    const read = await readJournal(join(dir, JOURNAL_FILE));
    expect(read.bytes).toBe((await stat(join(dir, JOURNAL_FILE))).size);
    expect(read.bytes).toBeLessThan(300_000);
    // Every recent entry, in order; of the old ones, only each job's latest; then the new line.
    const oldLatest = read.entries.filter((e) => e.job.startsWith("old-"));
    expect(oldLatest).toHaveLength(50);
    expect(new Set(oldLatest.map((e) => e.job)).size).toBe(50);
    expect(read.entries.filter((e) => e.job.startsWith("job-"))).toEqual(recent);
    expect(read.entries.at(-1)).toMatchObject({ job: "backup", from: null, to: "ok" });
  });

  it("says once when the journal is over its cap, naming the file and its size", async () => {
    const dir = await heartbeats();
    await beat(dir, "backup", "ok", "2026-11-23T05:30:00Z");
    const entries = Array.from({ length: 100_000 }, (_, i) =>
      line({ at: new Date(Date.parse("2026-11-01T00:00:00Z") + i * 20_000).toISOString(), job: `job-${i % 100}`, from: "ok", to: "late", reason: "y".repeat(100) }),
    );
    await writeFile(join(dir, JOURNAL_FILE), entries.join(""));
    const size = (await stat(join(dir, JOURNAL_FILE))).size;
    expect(size).toBeGreaterThan(16 * 1024 * 1024);
    const run = await check(dir, "2026-11-23T06:00:00Z");
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(
      `warning: the journal ${join(dir, JOURNAL_FILE)} is ${(size / 1_048_576).toFixed(1)} MiB, over its cap of 16.0 MiB: trimmed to each job's latest entry and the newest that fit\n`,
    );
    const read = await readJournal(join(dir, JOURNAL_FILE));
    expect(read.bytes).toBeLessThanOrEqual(16 * 1024 * 1024);
    expect(read.entries.at(-1)).toMatchObject({ job: "backup", from: null, to: "ok" });
    expect((await check(dir, "2026-11-23T06:15:00Z")).stderr).toBe("");
  }, 60_000);

  it("refuses a symlink at the journal's path: one warning, the target untouched, the check unchanged", async () => {
    const dir = await heartbeats();
    await beat(dir, "backup", "fail", "2026-11-23T01:00:00Z");
    const target = join(dir, "..", "elsewhere");
    await writeFile(target, "precious\n");
    await symlink(target, join(dir, JOURNAL_FILE));
    const run = await check(dir, "2026-11-23T01:05:00Z");
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`warning: journal not updated: refusing to read the journal ${join(dir, JOURNAL_FILE)}: it is a symbolic link\n`);
    expect(await readFile(target, "utf8")).toBe("precious\n");
  });

  it("skips a corrupt line, says how many, and rewrites the journal without it", async () => {
    const dir = await heartbeats();
    await beat(dir, "backup", "ok", "2026-11-23T01:00:00Z");
    const first: JournalEntry = { at: "2026-11-23T01:00:00.000Z", job: "backup", from: null, to: "ok", reason: "next beat due 2026-11-23T02:00:00.000Z" };
    await writeFile(join(dir, JOURNAL_FILE), `${line(first)}{"at":"2026-11-23T01:01:00Z","job":\n`);
    expect((await readJournal(join(dir, JOURNAL_FILE))).skippedLines).toBe(1);
    const run = await check(dir, "2026-11-23T01:05:00Z");
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(`warning: the journal ${join(dir, JOURNAL_FILE)} had 1 line that is not an entry; rewritten without it\n`);
    expect(await readFile(join(dir, JOURNAL_FILE), "utf8")).toBe(line(first));
  });

  it("a journal it cannot write is one warning: the check still syncs and exits as before", async () => {
    const dir = await heartbeats();
    await beat(dir, "backup", "fail", "2026-11-23T01:00:00Z");
    await mkdir(join(dir, JOURNAL_FILE)); // a folder where the file should be
    const issues = join(dir, "..", "issues");
    const run = await runLastbeat(["check", "--forge", "file", "--repo", issues, "--dir", dir, "--now", "2026-11-23T01:05:00Z"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`warning: journal not updated: refusing to read the journal ${join(dir, JOURNAL_FILE)}: it is not a regular file\n`);
    expect((await readdir(issues)).filter((f) => f.endsWith(".md"))).toHaveLength(1);
  });
});

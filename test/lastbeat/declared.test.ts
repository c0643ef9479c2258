import { readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { declaredMemoryText, readDeclaredMemory, rememberDeclared, writeDeclaredMemory } from "lastbeat/internal";
import { testdir } from "../support/testdir.js";

/* The checker's memory of since when each declared job is declared (docs/spec.md, "A declared job that has not beaten yet"). */

const at = (iso: string) => new Date(iso);

describe("the memory of declared jobs", () => {
  const A = "/etc/cron.d/a";
  const B = "/etc/cron.d/b";
  const entry = (since: string, by: string) => ({ since: at(since), by });

  it("keeps a job's first time, adds new jobs with this run's, forgets a job its file no longer declares, and round-trips", async () => {
    const path = join(await testdir("lastbeat-declared-"), "heartbeat-checker.declared");
    const first = rememberDeclared(new Map(), new Map([["backup", entry("2026-11-23T10:00:00Z", A)], ["sync", entry("2026-11-23T10:00:00Z", A)]]), new Set([A]));
    expect(first.changed).toBe(true);
    // The crontab was edited: this run counts from the edit, the memory from the first sighting.
    const edited = rememberDeclared(first.memory, new Map([["backup", entry("2026-11-24T09:00:00Z", A)], ["sync", entry("2026-11-24T09:00:00Z", A)]]), new Set([A]));
    expect(edited).toEqual({ memory: first.memory, changed: false });
    // sync's line is gone from A, which was read; report's is new.
    const next = rememberDeclared(first.memory, new Map([["backup", entry("2026-11-24T09:00:00Z", A)], ["report", entry("2026-11-24T09:00:00Z", A)]]), new Set([A]));
    expect(next).toEqual({ memory: new Map([["backup", entry("2026-11-23T10:00:00Z", A)], ["report", entry("2026-11-24T09:00:00Z", A)]]), changed: true });
    // A job moved to another file keeps its time and takes its new file.
    expect(rememberDeclared(next.memory, new Map([["backup", entry("2026-11-25T00:00:00Z", B)]]), new Set([A, B])).memory.get("backup")).toEqual(entry("2026-11-23T10:00:00Z", B));
    // Declared by B too, but read by a checker that does not read A: A, still there, stays its file.
    expect(rememberDeclared(next.memory, new Map([["backup", entry("2026-11-25T00:00:00Z", B)], ["report", entry("2026-11-25T00:00:00Z", A)]]), new Set([B]))).toEqual({ memory: next.memory, changed: false });
    const checked = { at: at("2026-11-24T09:00:00Z"), read: new Set([A]) };
    await writeDeclaredMemory(path, next.memory, checked);
    expect(await readFile(path, "utf8")).toBe(declaredMemoryText(next.memory, checked));
    expect(await readDeclaredMemory(path)).toEqual({ memory: next.memory, checked, found: true, warning: null });
    expect(await readDeclaredMemory(join(path, "..", "none"))).toEqual({ memory: new Map(), checked: null, found: false, warning: null });
  });

  it("keeps the jobs of files this run did not read (another checker's, another host's), even files this host does not have", () => {
    const memory = new Map([["a", entry("2026-11-23T10:00:00Z", A)], ["b", entry("2026-11-23T10:05:00Z", B)]]);
    // A checker reading only B (or nothing at all) leaves a's entry alone.
    expect(rememberDeclared(memory, new Map([["b", entry("2026-11-24T00:00:00Z", B)]]), new Set([B]))).toEqual({ memory, changed: false });
    expect(rememberDeclared(memory, new Map(), new Set())).toEqual({ memory, changed: false });
    // Only a run that reads A and finds no a forgets it.
    expect(rememberDeclared(memory, new Map(), new Set([A]))).toEqual({ memory: new Map([["b", entry("2026-11-23T10:05:00Z", B)]]), changed: true });
  });

  it("reads hostile content as no memory, or without the bad entries, with a warning naming the file", async () => {
    const dir = await testdir("lastbeat-declared-");
    const path = join(dir, "heartbeat-checker.declared");
    for (const text of ["[]", '{"format":"other","jobs":{}}', '{"format":"lastbeat-declared/1","jobs":[]}', "\u0000"]) {
      await writeFile(path, text);
      expect(await readDeclaredMemory(path)).toEqual({ memory: new Map(), checked: null, found: true, warning: `the checker's memory of declared jobs ${path} is not lastbeat-declared/1 JSON: not used` });
    }
    const by = "/etc/cron.d/shop";
    const entries = {
      backup: { since: "2026-11-23T10:00:00.000Z", by },
      "../etc": { since: "2026-11-23T10:00:00.000Z", by },
      sync: { since: "yesterday", by },
      report: { since: "2026-11-23T10:00:00.000Z", by: "relative/file" },
      "bad name": { since: "2026-11-23T10:00:00Z", by },
      late: { since: "2026-13-45T10:00:00Z", by },
      old: "2026-11-23T10:00:00.000Z",
    };
    await writeFile(path, JSON.stringify({ format: "lastbeat-declared/1", jobs: entries }));
    expect(await readDeclaredMemory(path)).toEqual({
      memory: new Map([["backup", { since: at("2026-11-23T10:00:00Z"), by }]]),
      checked: null,
      found: true,
      warning: `the checker's memory of declared jobs ${path} had 6 entries that are not a job name with a UTC time and a file: left out`,
    });
    const link = join(dir, "link.declared");
    await symlink(path, link);
    expect((await readDeclaredMemory(link)).warning).toMatch(/^the checker's memory of declared jobs .*link\.declared .*symbolic link.*: not used$/);
  });

  it("refuses to grow past its cap, leaving the file as it was", async () => {
    const path = join(await testdir("lastbeat-declared-"), "heartbeat-checker.declared");
    const small = new Map([["backup", { since: at("2026-11-23T10:00:00Z"), by: "/etc/crontab" }]]);
    const checked = { at: at("2026-11-23T10:00:00Z"), read: new Set(["/etc/crontab"]) };
    await writeDeclaredMemory(path, small, checked);
    const big = new Map(Array.from({ length: 100 }, (_, i) => [`job-${i}`, { since: at("2026-11-23T10:00:00Z"), by: "/etc/crontab" }] as const));
    await expect(writeDeclaredMemory(path, big, checked, { maxBytes: 1000 })).rejects.toThrow(/would be \d+ bytes, over its cap of 1000: not updated$/);
    expect((await readDeclaredMemory(path)).memory).toEqual(small);
  });
});

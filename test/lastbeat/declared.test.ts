import { readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { declaredMemoryText, readDeclaredMemory, rememberDeclared, writeDeclaredMemory } from "lastbeat/internal";
import { testdir } from "../support/testdir.js";

/* The checker's memory of since when each declared job is declared (docs/spec.md, "A declared job that has not beaten yet"). */

const at = (iso: string) => new Date(iso);

describe("the memory of declared jobs", () => {
  it("keeps a job's first time, adds new jobs with this run's, forgets jobs no longer declared, and round-trips", async () => {
    const path = join(await testdir("lastbeat-declared-"), "heartbeat-checker.declared");
    const first = rememberDeclared(new Map(), new Map([["backup", at("2026-11-23T10:00:00Z")], ["sync", at("2026-11-23T10:00:00Z")]]));
    expect(first.changed).toBe(true);
    // The crontab was edited: this run counts from the edit, the memory from the first sighting.
    const edited = rememberDeclared(first.memory, new Map([["backup", at("2026-11-24T09:00:00Z")], ["sync", at("2026-11-24T09:00:00Z")]]));
    expect(edited).toEqual({ memory: first.memory, changed: false });
    // sync's line is gone; report's is new.
    const next = rememberDeclared(first.memory, new Map([["backup", at("2026-11-24T09:00:00Z")], ["report", at("2026-11-24T09:00:00Z")]]));
    expect(next).toEqual({ memory: new Map([["backup", at("2026-11-23T10:00:00Z")], ["report", at("2026-11-24T09:00:00Z")]]), changed: true });
    // Only a job gone changes it too.
    expect(rememberDeclared(next.memory, new Map([["backup", at("2026-11-25T00:00:00Z")]])).changed).toBe(true);
    await writeDeclaredMemory(path, next.memory);
    expect(await readFile(path, "utf8")).toBe(declaredMemoryText(next.memory));
    expect(await readDeclaredMemory(path)).toEqual({ memory: next.memory, found: true, warning: null });
    expect(await readDeclaredMemory(join(path, "..", "none"))).toEqual({ memory: new Map(), found: false, warning: null });
  });

  it("reads hostile content as no memory, or without the bad entries, with a warning naming the file", async () => {
    const dir = await testdir("lastbeat-declared-");
    const path = join(dir, "heartbeat-checker.declared");
    for (const text of ["[]", '{"format":"other","jobs":{}}', '{"format":"lastbeat-declared/1","jobs":[]}', "\u0000"]) {
      await writeFile(path, text);
      expect(await readDeclaredMemory(path)).toEqual({ memory: new Map(), found: true, warning: `the checker's memory of declared jobs ${path} is not lastbeat-declared/1 JSON: not used` });
    }
    const entries = { backup: "2026-11-23T10:00:00.000Z", "../etc": "2026-11-23T10:00:00.000Z", sync: "yesterday", report: 5, "bad name": "2026-11-23T10:00:00Z", late: "2026-13-45T10:00:00Z" };
    await writeFile(path, JSON.stringify({ format: "lastbeat-declared/1", jobs: entries }));
    expect(await readDeclaredMemory(path)).toEqual({
      memory: new Map([["backup", at("2026-11-23T10:00:00Z")]]),
      found: true,
      warning: `the checker's memory of declared jobs ${path} had 5 entries that are not a job name with a UTC time: left out`,
    });
    const link = join(dir, "link.declared");
    await symlink(path, link);
    expect((await readDeclaredMemory(link)).warning).toMatch(/^the checker's memory of declared jobs .*link\.declared .*symbolic link.*: not used$/);
  });

  it("refuses to grow past its cap, leaving the file as it was", async () => {
    const path = join(await testdir("lastbeat-declared-"), "heartbeat-checker.declared");
    const small = new Map([["backup", at("2026-11-23T10:00:00Z")]]);
    await writeDeclaredMemory(path, small);
    const big = new Map(Array.from({ length: 100 }, (_, i) => [`job-${i}`, at("2026-11-23T10:00:00Z")] as const));
    await expect(writeDeclaredMemory(path, big, { maxBytes: 1000 })).rejects.toThrow(/would be \d+ bytes, over its cap of 1000: not updated$/);
    expect((await readDeclaredMemory(path)).memory).toEqual(small);
  });
});

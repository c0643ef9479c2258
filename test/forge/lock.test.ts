import { readFile, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { acquireSyncLock } from "@lastbeat/forge";
import { tempDir } from "./helpers.js";

describe("the check lock", () => {
  it("is exclusive, waits for the holder, and is free again after release", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const path = join(dir, ".lastbeat-check.lock");
      const first = await acquireSyncLock(path);
      expect(JSON.parse(await readFile(path, "utf8"))).toMatchObject({ pid: process.pid, host: hostname() });
      let polls = 0;
      // The second waits (through the injected sleep) until the first releases.
      const second = acquireSyncLock(path, {
        sleep: async () => {
          polls += 1;
          if (polls === 3) await first.release();
        },
      });
      await (await second).release();
      expect(polls).toBe(3);
    } finally {
      await cleanup();
    }
  });

  it("gives up after its timeout with a clear message", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const path = join(dir, "x.lock");
      const held = await acquireSyncLock(path);
      let t = 0;
      await expect(acquireSyncLock(path, { timeoutMs: 1000, now: () => (t += 400), sleep: async () => {} })).rejects.toThrow(
        new RegExp(`another lastbeat check \\(pid ${process.pid} on .*\\) still holds`),
      );
      await held.release();
    } finally {
      await cleanup();
    }
  });

  it("takes over a lock whose process is gone, or that is very old", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const path = join(dir, "x.lock");
      // No process has pid 2^22 + 1 (above Linux's pid_max default).
      await writeFile(path, JSON.stringify({ pid: 4_194_305, host: hostname(), at: Date.now() }));
      await (await acquireSyncLock(path, { timeoutMs: 0 })).release();
      await writeFile(path, JSON.stringify({ pid: process.pid, host: "elsewhere", at: Date.now() - 2 * 3600_000 }));
      await (await acquireSyncLock(path, { timeoutMs: 0 })).release();
      await writeFile(path, JSON.stringify({ pid: process.pid, host: "elsewhere", at: Date.now() }));
      await expect(acquireSyncLock(path, { timeoutMs: 0 })).rejects.toThrow(/still holds/);
    } finally {
      await cleanup();
    }
  });
});

import { mkdir, symlink, truncate, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LastbeatError, scanHeartbeats } from "lastbeat";
import { loadManifest } from "lastbeat/internal";
import { FIFO_TIMEOUT_MS, fifoAt, noMkfifo } from "../support/fifo.js";
import { testdir } from "../support/testdir.js";


/** The E_MANIFEST error `loadManifest` rejects with, checked to be one. */
async function manifestError(path: string): Promise<string> {
  const failure = await loadManifest(path).catch((e: unknown) => e);
  expect(failure).toBeInstanceOf(LastbeatError);
  expect((failure as LastbeatError).code).toBe("E_MANIFEST");
  return (failure as Error).message;
}


describe("loadManifest reads the file defensively", () => {
  it.skipIf(noMkfifo)("a FIFO is not a regular file, said at once instead of waiting for a writer", { timeout: FIFO_TIMEOUT_MS }, async () => {
    const fifo = fifoAt(join(await testdir("lastbeat-manifest-"), "fifo.json"));
    expect(await manifestError(fifo)).toBe(`manifest ${fifo} is not a regular file`);
  });

  it("a device is not a regular file either, never read on and on", { timeout: FIFO_TIMEOUT_MS }, async () => {
    expect(await manifestError("/dev/zero")).toBe("manifest /dev/zero is not a regular file");
  });

  it("1 MiB is read; one byte more is refused, naming the size", async () => {
    const file = join(await testdir("lastbeat-manifest-"), "lastbeat.json");
    const text = JSON.stringify({ jobs: { backup: { every: "1d" } } });
    await writeFile(file, text + " ".repeat(1024 * 1024 - text.length));
    expect([...(await loadManifest(file)).jobs.keys()]).toEqual(["backup"]);
    await truncate(file, 1024 * 1024 + 1);
    expect(await manifestError(file)).toBe(`manifest ${file} is larger than 1 MiB (1048577 bytes)`);
  });

  it("a missing file names the file and the reason", async () => {
    const file = join(await testdir("lastbeat-manifest-"), "nope.json");
    expect(await manifestError(file)).toBe(`manifest ${file} cannot be read: no such file or directory (ENOENT)`);
  });

  it.skipIf(noMkfifo)("a link is followed (a Kubernetes ConfigMap is links), but not to a FIFO", { timeout: FIFO_TIMEOUT_MS }, async () => {
    const dir = await testdir("lastbeat-manifest-");
    await mkdir(join(dir, "..data"));
    await writeFile(join(dir, "..data", "lastbeat.json"), JSON.stringify({ jobs: { backup: { every: "1d" } } }));
    await symlink(join("..data", "lastbeat.json"), join(dir, "lastbeat.json"));
    expect([...(await loadManifest(join(dir, "lastbeat.json"))).jobs.keys()]).toEqual(["backup"]);

    const fifo = fifoAt(join(dir, "pipe"));
    await symlink(fifo, join(dir, "to-pipe.json"));
    expect(await manifestError(join(dir, "to-pipe.json"))).toBe(`manifest ${join(dir, "to-pipe.json")} is not a regular file`);
  });

  it.skipIf(noMkfifo)("a scan given a FIFO as its manifest fails at once, naming it", { timeout: FIFO_TIMEOUT_MS }, async () => {
    const dir = await testdir("lastbeat-manifest-");
    const fifo = fifoAt(join(dir, "lastbeat.json"));
    await expect(scanHeartbeats({ dirs: [dir], manifest: fifo })).rejects.toThrow(`manifest ${fifo} is not a regular file`);
  });
});

describe("a manifest's jobs are declared since the file last changed", () => {
  it("so a job that never beat waits for its first run, then alerts as missing", async () => {
    const dir = await testdir("lastbeat-manifest-");
    const file = join(dir, "lastbeat.json");
    await writeFile(file, JSON.stringify({ jobs: { backup: { every: "1h" }, report: { schedule: "0 6 * * *" } } }));
    const changed = new Date("2026-11-23T10:00:00Z");
    await utimes(file, changed, changed);
    const manifest = await loadManifest(file);
    expect(manifest.jobs.get("backup")?.declaredAt?.toISOString()).toBe("2026-11-23T10:00:00.000Z");
    const at = async (now: string) =>
      Object.fromEntries((await scanHeartbeats({ dirs: [dir], manifest: file, now: new Date(now) })).map((s) => [s.job, `${s.status}: ${s.reason}`]));
    expect(await at("2026-11-23T10:30:00Z")).toEqual({
      backup: "ok: no heartbeat yet; its first run is due 2026-11-23T11:00:00.000Z",
      report: "ok: no heartbeat yet; its first run is due 2026-11-24T06:00:00.000Z",
    });
    expect(await at("2026-11-23T12:00:00.001Z")).toEqual({
      backup: "missing: declared in the manifest but no heartbeat file was found",
      report: "ok: no heartbeat yet; its first run is due 2026-11-24T06:00:00.000Z",
    });
  });
});

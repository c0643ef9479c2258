import { spawn, type ChildProcess } from "node:child_process";
import { readFile, readdir, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireCheckLock, acquireRunLock, holderOf, LockError, procProcessTable, readLockHolder, staleReason, type LockHolder, type ProcessTable } from "../../packages/cli/src/lock.js";
import { testdir } from "../support/testdir.js";

/*
 * Real processes, real /proc: a pid that is gone is one we started and waited for; a pid reused
 * by another process is a live child whose recorded start does not match its real one.
 */

let dir: string;
const children: ChildProcess[] = [];
beforeEach(async () => {
  dir = await testdir("lastbeat-lock-");
});
afterEach(async () => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

const host = hostname();
const now = new Date("2026-11-23T10:00:00.000Z");
const clock = () => now;

/** A live process that idles until the test ends. */
async function liveChild(): Promise<number> {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  children.push(child);
  await new Promise((resolve) => child.once("spawn", resolve));
  return child.pid!;
}

/** A pid that existed and is gone now. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.once("close", resolve));
  return child.pid!;
}

const plant = (path: string, holder: object) => writeFile(path, JSON.stringify(holder));
const ticksOf = (pid: number) => procProcessTable.startTicks(pid)!;
const hasProc = procProcessTable.startTicks(process.pid) !== undefined;

describe("staleness: one set of rules for every lock", () => {
  it("a live holder with its own start is not stale", async () => {
    const pid = await liveChild();
    const holder: LockHolder = { pid, host, at: new Date().toISOString(), ...(hasProc && { start_ticks: ticksOf(pid) }) };
    expect(staleReason(holder, { now: new Date() })).toBeNull();
  });

  it("stale when its process is gone", async () => {
    const pid = await deadPid();
    expect(staleReason({ pid, host, at: now.toISOString() }, { now })).toBe(`its process (pid ${pid}) is gone`);
  });

  it.skipIf(!hasProc)("stale when its pid now belongs to another process (recorded start differs)", async () => {
    const pid = await liveChild();
    const holder: LockHolder = { pid, host, at: new Date().toISOString(), start_ticks: ticksOf(pid) - 1 };
    expect(staleReason(holder, { now: new Date() })).toBe(`pid ${pid} now belongs to another process`);
  });

  it.skipIf(!hasProc)("an older lock without a recorded start: stale when the pid's process started after the lock", async () => {
    const pid = await liveChild();
    const tenMinutesAgo = new Date(Date.now() - 10 * 60_000).toISOString();
    expect(staleReason({ pid, host, at: tenMinutesAgo }, { now: new Date() })).toBe(
      `pid ${pid} now belongs to a process started after the lock was taken`,
    );
    expect(staleReason({ pid, host, at: new Date(Date.now() + 60_000).toISOString() }, { now: new Date() })).toBeNull();
  });

  it.skipIf(procProcessTable.bootId() === undefined)("stale after a reboot: pid 1 is alive, but the boot id differs", () => {
    const holder: LockHolder = { pid: 1, host, at: now.toISOString(), start_ticks: ticksOf(1), boot_id: "00000000-0000-0000-0000-000000000000" };
    expect(staleReason(holder, { now })).toBe("the machine has restarted since it was taken");
  });

  it("stale when older than the age limit, whatever its process or host; another host's fresh lock is kept", () => {
    const holder = holderOf(new Date(now.getTime() - 3_600_001));
    expect(staleReason(holder, { now, maxAgeMs: 3_600_000 })).toBe("it is older than 3600s");
    expect(staleReason(holder, { now: new Date(now.getTime() - 1), maxAgeMs: 3_600_000 })).toBeNull();
    expect(staleReason({ ...holder, host: "elsewhere", pid: 4_194_305 }, { now: new Date(now.getTime() - 1), maxAgeMs: 3_600_000 })).toBeNull();
  });

  it("keepLiveHolder (the run lock): the age limit only for holders that cannot be looked at", () => {
    const old = new Date(now.getTime() - 3_600_001).toISOString();
    const table = (ticks: number | undefined, boot = "boot-1"): ProcessTable => ({ alive: () => true, startTicks: () => ticks, startedAtMs: () => undefined, bootId: () => boot });
    const holder: LockHolder = { pid: 4242, host, at: old, start_ticks: 77, boot_id: "boot-1" };
    const rules = { now, maxAgeMs: 3_600_000, keepLiveHolder: true };
    // Provably alive here: same boot, same start. The checker's lock (no keepLiveHolder) is taken over by age.
    expect(staleReason(holder, { ...rules, table: table(77) })).toBeNull();
    expect(staleReason(holder, { now, maxAgeMs: 3_600_000, table: table(77) })).toBe("it is older than 3600s");
    // Cannot be looked at: its start is unreadable here, it recorded none, or it is another host's.
    expect(staleReason(holder, { ...rules, table: table(undefined) })).toBe("it is older than 3600s");
    const { start_ticks: _, ...noStart } = holder;
    expect(staleReason(noStart, { ...rules, table: table(77) })).toBe("it is older than 3600s");
    expect(staleReason({ ...holder, host: "elsewhere" }, { ...rules, table: table(77) })).toBe("it is older than 3600s");
    // Not the holder at all: stale at once, however young.
    const young = { ...holder, at: now.toISOString() };
    expect(staleReason(young, { ...rules, table: table(78) })).toBe("pid 4242 now belongs to another process");
    expect(staleReason(young, { ...rules, table: table(77, "boot-2") })).toBe("the machine has restarted since it was taken");
    expect(staleReason(young, { ...rules, table: { ...table(77), alive: () => false } })).toBe("its process (pid 4242) is gone");
  });

  it("reads the older lock formats (check: at in ms; run: started_at) and nothing it cannot understand", async () => {
    const path = join(dir, "x.lock");
    await plant(path, { pid: 7, host: "h", at: now.getTime() });
    expect(await readLockHolder(path)).toEqual({ pid: 7, host: "h", at: now.toISOString() });
    await plant(path, { pid: 7, host: "h", run_id: "r", started_at: now.toISOString() });
    expect(await readLockHolder(path)).toEqual({ pid: 7, host: "h", at: now.toISOString(), run_id: "r" });
    await writeFile(path, "{ half");
    expect(await readLockHolder(path)).toBeNull();
    await plant(path, { pid: -1, host: "h", at: 1 });
    expect(await readLockHolder(path)).toBeNull();
    expect(await readLockHolder(join(dir, "none.lock"))).toBeUndefined();
  });
});

describe("the check lock", () => {
  it("is exclusive, waits for the holder, and is free again after release", async () => {
    const path = join(dir, ".lastbeat-check.lock");
    const first = await acquireCheckLock(path, { clock });
    expect(JSON.parse(await readFile(path, "utf8"))).toMatchObject({ pid: process.pid, host, at: now.toISOString() });
    let polls = 0;
    const second = acquireCheckLock(path, {
      clock,
      sleep: async () => {
        polls += 1;
        if (polls === 3) await first.release();
      },
    });
    await (await second).release();
    expect(polls).toBe(3);
    expect(await readdir(dir)).toEqual([]);
  });

  it("gives up after its timeout with a LockError of its own code", async () => {
    const path = join(dir, "x.lock");
    const held = await acquireCheckLock(path);
    let t = now.getTime();
    const error = await acquireCheckLock(path, { timeoutMs: 1000, clock: () => new Date((t += 400)), sleep: async () => {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockError);
    expect(error).toMatchObject({ code: "E_LOCK", errno: undefined, message: `another lastbeat check (pid ${process.pid} on ${host}) still holds ${path}` });
    await held.release();
  });

  it("replaces a stale lock and says so; a foreign fresh one is waited for", async () => {
    const path = join(dir, "x.lock");
    const pid = await deadPid();
    await plant(path, { pid, host, at: now.toISOString() });
    const said: string[] = [];
    await (await acquireCheckLock(path, { timeoutMs: 0, clock, onStale: (m) => said.push(m) })).release();
    expect(said).toEqual([`replaced a stale lock ${path} (pid ${pid} on ${host}, taken ${now.toISOString()}): its process (pid ${pid}) is gone`]);
    await plant(path, { pid: process.pid, host: "elsewhere", at: now.toISOString() });
    await expect(acquireCheckLock(path, { timeoutMs: 0, clock })).rejects.toThrow(/still holds/);
  });

  it("a folder that cannot take the file is a LockError carrying the errno (no digging in causes)", async () => {
    const error = await acquireCheckLock(join(dir, "missing", "x.lock")).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "LockError", code: "E_LOCK", errno: "ENOENT" });
  });
});

describe("the run lock", () => {
  const run = (self: LockHolder, extra: { maxAgeMs?: number; onStale?: (m: string) => void; clock?: () => Date } = {}) => {
    const events: string[] = [];
    return {
      events,
      result: acquireRunLock({
        dir,
        job: "job",
        self,
        clock,
        ...extra,
        onAcquired: async () => void events.push("acquired"),
        onBusy: async (holder) => void events.push(`busy ${holder.pid}`),
      }),
    };
  };
  const lockPath = () => join(dir, `.job@${host.replace(/[^A-Za-z0-9._-]/g, "_")}.lock`);

  it.skipIf(!hasProc)("a live holder makes the run skip, past the job's max runtime too: a hung run here is never taken over", async () => {
    const pid = await liveChild();
    await plant(lockPath(), { pid, host, at: new Date(now.getTime() - 2 * 3_600_000).toISOString(), run_id: "hung", start_ticks: ticksOf(pid), boot_id: procProcessTable.bootId() });
    const said: string[] = [];
    for (const maxAgeMs of [undefined, 3_600_000]) {
      const skipped = run(holderOf(now, { run_id: "a" }), { ...(maxAgeMs !== undefined && { maxAgeMs }), onStale: (m) => said.push(m) });
      expect(await skipped.result).toMatchObject({ acquired: false, holder: { pid, run_id: "hung" } });
      expect(skipped.events).toEqual([`busy ${pid}`]);
    }
    expect(said).toEqual([]);
    expect(await readLockHolder(lockPath())).toMatchObject({ pid, run_id: "hung" });
  });

  it("past the job's max runtime, a holder that cannot be looked at is replaced, and that is said: another host's, one without a recorded start", async () => {
    const pid = await liveChild();
    // Taken after the child started (an older lock's holder started before its lock), two hours before the pinned clock.
    const at = new Date().toISOString();
    const later = new Date(Date.parse(at) + 2 * 3_600_000);
    for (const holder of [
      { pid, host: "elsewhere", at, run_id: "hung", ...(hasProc && { start_ticks: ticksOf(pid) }) },
      { pid, host, at, run_id: "hung" }, // an older lock: no start to compare, whatever /proc says
    ]) {
      await plant(lockPath(), holder);
      const said: string[] = [];
      const replaced = run(holderOf(later, { run_id: "b" }), { maxAgeMs: 3_600_000, onStale: (m) => said.push(m), clock: () => later });
      const result = await replaced.result;
      expect(result.acquired).toBe(true);
      expect(replaced.events).toEqual(["acquired"]);
      expect(said).toHaveLength(1);
      expect(said[0]).toMatch(/^replaced a stale lock .*\(pid \d+ on .*, taken .*\): it is older than 3600s$/);
      expect(await readLockHolder(lockPath())).toMatchObject({ pid: process.pid, run_id: "b" });
      if (result.acquired) await result.release(async () => {});
      expect(await readdir(dir)).toEqual([]);
    }
  });

  it("a lock left by a run that is gone is replaced at once, however young", async () => {
    const pid = await deadPid();
    await plant(lockPath(), { pid, host, at: now.toISOString(), run_id: "dead", start_ticks: 1 });
    const said: string[] = [];
    const replaced = run(holderOf(now, { run_id: "c" }), { maxAgeMs: 3_600_000, onStale: (m) => said.push(m) });
    expect((await replaced.result).acquired).toBe(true);
    expect(said).toEqual([expect.stringMatching(new RegExp(`: its process \\(pid ${pid}\\) is gone$`))]);
  });
});

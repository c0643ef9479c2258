import { readFileSync } from "node:fs";
import { open, stat, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { readBoundedFile, writeFileAtomically } from "lastbeat/internal";

/*
 * The CLI's locks: one `lastbeat check` at a time per heartbeat folder, and `run --no-overlap`'s
 * one run per job and host. Both keep their holder in a small JSON file created whole and
 * exclusively, and both judge a holder stale by the same rules: its process is gone, its pid now
 * belongs to a process that started after the lock (pid reuse, reboot, container restart), or
 * the lock is older than the age limit (the job's max runtime; an hour for the checker). The run
 * lock applies the age limit only to a holder it cannot look at (another host, no recorded or
 * readable process start): a run whose process is provably alive here is never taken over, so a
 * hung run stays hung, and overrun, instead of being hidden by a new run beside it.
 */

/** A lock could not be taken: another holder keeps it (`busy`), or the file cannot be created. */
export class LockError extends Error {
  override readonly name = "LockError";
  readonly code = "E_LOCK";
  /** The errno when the lock file could not be created (EACCES, EROFS, ENOSPC…); undefined when busy. */
  readonly errno: string | undefined;

  constructor(message: string, options: { errno?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.errno = options.errno;
  }
}

/** Who holds a lock: what the lock file says. */
export interface LockHolder {
  pid: number;
  host: string;
  /** When the lock was taken (ISO). */
  at: string;
  /** `run --no-overlap`: the run holding the lock, as its `start` beat names it. */
  run_id?: string;
  /** The holder process's start, in clock ticks since boot (Linux `/proc/<pid>/stat`). */
  start_ticks?: number;
  /** The kernel's boot id when the lock was taken (Linux): another one means a reboot since. */
  boot_id?: string;
}

/** What the lock rules need to know about the machine's processes; real `/proc` by default. */
export interface ProcessTable {
  /** Whether a process with this pid exists (signal 0; EPERM means it does). */
  alive(pid: number): boolean;
  /** Its start in clock ticks since boot, or undefined where that cannot be read (no /proc). */
  startTicks(pid: number): number | undefined;
  /** Its start as a time (ms since the epoch), or undefined where that cannot be read. */
  startedAtMs(pid: number): number | undefined;
  /** The kernel's boot id, or undefined where there is none. */
  bootId(): string | undefined;
}

/** Linux reports process start times in USER_HZ ticks, 100 per second on every architecture we run on. */
const TICKS_PER_SECOND = 100;

export const procProcessTable: ProcessTable = {
  alive(pid) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "EPERM"; // alive, owned by another user
    }
  },
  startTicks(pid) {
    try {
      // The command name (field 2) may hold spaces and parentheses: count fields after the last ")".
      const text = readFileSync(`/proc/${pid}/stat`, "utf8");
      const ticks = Number(text.slice(text.lastIndexOf(")") + 2).split(" ")[19]);
      return Number.isSafeInteger(ticks) ? ticks : undefined;
    } catch {
      return undefined;
    }
  },
  startedAtMs(pid) {
    const ticks = this.startTicks(pid);
    const boot = bootTimeMs();
    return ticks === undefined || boot === undefined ? undefined : boot + (ticks * 1000) / TICKS_PER_SECOND;
  },
  bootId() {
    try {
      return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || undefined;
    } catch {
      return undefined;
    }
  },
};

function bootTimeMs(): number | undefined {
  try {
    const line = /^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"));
    return line ? Number(line[1]) * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** The holder this process writes into a lock it takes. */
export function holderOf(now: Date, extra: { run_id?: string } = {}, table: ProcessTable = procProcessTable): LockHolder {
  const holder: LockHolder = { pid: process.pid, host: hostname(), at: now.toISOString(), ...extra };
  const ticks = table.startTicks(process.pid);
  if (ticks !== undefined) holder.start_ticks = ticks;
  const boot = table.bootId();
  if (boot !== undefined) holder.boot_id = boot;
  return holder;
}

/**
 * Reads a lock file: undefined when there is none, null when it cannot be understood (garbage,
 * a FIFO or a link planted in a shared folder), else its holder. Bounded, non-blocking, never
 * follows a symlink. Also reads the older formats (`at` in ms; `started_at` of run locks).
 */
export async function readLockHolder(path: string): Promise<LockHolder | null | undefined> {
  const file = await readBoundedFile(path, 4096);
  if (!file.ok) return file.code === "ENOENT" ? undefined : null;
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(file.text) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const { pid, host } = value;
  const rawAt = value.at ?? value.started_at;
  const at = typeof rawAt === "number" ? new Date(rawAt) : typeof rawAt === "string" ? new Date(rawAt) : null;
  if (typeof pid !== "number" || !Number.isSafeInteger(pid) || pid <= 0 || typeof host !== "string") return null;
  if (!at || !Number.isFinite(at.getTime())) return null;
  const holder: LockHolder = { pid, host, at: at.toISOString() };
  if (typeof value.run_id === "string") holder.run_id = value.run_id;
  if (typeof value.start_ticks === "number" && Number.isSafeInteger(value.start_ticks)) holder.start_ticks = value.start_ticks;
  if (typeof value.boot_id === "string") holder.boot_id = value.boot_id;
  return holder;
}

export interface StalenessRules {
  now: Date;
  /** A lock older than this is stale (the job's max runtime); see `keepLiveHolder`. */
  maxAgeMs?: number;
  /**
   * The age limit only for holders that cannot be looked at (another host, no recorded or
   * readable process start): a holder provably alive on this host — same boot, same pid, same
   * process start — is kept whatever its age. The run lock's rule; the checker's lock is taken
   * over by age, as a hung checker must not stop every later check.
   */
  keepLiveHolder?: boolean;
  /** This machine's name: processes of another host cannot be looked at. */
  host?: string;
  table?: ProcessTable;
}

/** Why `holder` no longer holds its lock, or null while it does. */
export function staleReason(holder: LockHolder, rules: StalenessRules): string | null {
  const table = rules.table ?? procProcessTable;
  const takenAt = Date.parse(holder.at);
  const age = rules.now.getTime() - takenAt;
  const tooOld = rules.maxAgeMs !== undefined && age > rules.maxAgeMs ? `it is older than ${Math.round(rules.maxAgeMs / 1000)}s` : null;
  if (holder.host !== (rules.host ?? hostname())) return tooOld;
  const looked = lookAtHolder(holder, table, takenAt);
  if (looked.stale !== null) return looked.stale;
  return rules.keepLiveHolder && looked.proven ? null : tooOld;
}

/**
 * What this host's process table says of a holder taken here: why it is stale (gone, a reboot,
 * its pid reused), else whether it is provably the holder (its recorded start matches).
 */
function lookAtHolder(holder: LockHolder, table: ProcessTable, takenAt: number): { stale: string | null; proven: boolean } {
  if (!table.alive(holder.pid)) return { stale: `its process (pid ${holder.pid}) is gone`, proven: false };
  const bootId = table.bootId();
  if (holder.boot_id !== undefined && bootId !== undefined && holder.boot_id !== bootId) {
    return { stale: "the machine has restarted since it was taken", proven: false };
  }
  if (holder.start_ticks !== undefined) {
    const ticks = table.startTicks(holder.pid);
    if (ticks !== undefined && ticks !== holder.start_ticks) return { stale: `pid ${holder.pid} now belongs to another process`, proven: false };
    return { stale: null, proven: ticks !== undefined };
  }
  // An older lock without the holder's start: a process that started after the lock was taken
  // cannot be its holder. A second of slack for the boot time's whole seconds.
  const startedAt = table.startedAtMs(holder.pid);
  if (startedAt !== undefined && startedAt > takenAt + 1000) {
    return { stale: `pid ${holder.pid} now belongs to a process started after the lock was taken`, proven: false };
  }
  return { stale: null, proven: false };
}

function describeHolder(holder: LockHolder | null): string {
  return holder ? `pid ${holder.pid} on ${holder.host}, taken ${holder.at}` : "unreadable";
}

/** Creates the lock file whole, only if it does not exist: false when someone else holds it. */
async function createLock(path: string, holder: LockHolder): Promise<boolean> {
  try {
    await writeFileAtomically(path, `${JSON.stringify(holder)}\n`, 0o644, undefined, { exclusive: true });
    return true;
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code;
    if (errno === "EEXIST") return false;
    throw new LockError(`cannot create lock file ${path} (${errno ?? String(error)})`, { cause: error, ...(errno !== undefined && { errno }) });
  }
}

/** Removes the lock only when it still holds what was judged: a new holder's lock is never removed. */
async function removeIfUnchanged(path: string, judged: LockHolder | null): Promise<void> {
  const again = await readLockHolder(path);
  if (again === undefined) return;
  const same = judged === null ? again === null : again !== null && JSON.stringify(again) === JSON.stringify(judged);
  if (same) await unlink(path).catch(ignoreMissing);
}

export interface Lock {
  readonly path: string;
  release(): Promise<void>;
}

export interface CheckLockOptions {
  /** How long to wait for another checker to finish before giving up. */
  timeoutMs?: number;
  /** A lock older than this is taken over even when its process looks alive. */
  staleMs?: number;
  pollMs?: number;
  clock?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  table?: ProcessTable;
  /** Told when a stale lock is replaced (the CLI says so on stderr). */
  onStale?: (message: string) => void;
}

/**
 * One `lastbeat check` at a time: a live holder is waited for, so checkers started together run
 * one after the other and each sees what the previous one wrote. Throws LockError when the
 * holder outlives `timeoutMs` (busy) or when the file cannot be created (`errno`).
 */
export async function acquireCheckLock(path: string, options: CheckLockOptions = {}): Promise<Lock> {
  const { timeoutMs = 120_000, staleMs = 60 * 60_000, pollMs = 100 } = options;
  const clock = options.clock ?? (() => new Date());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const table = options.table ?? procProcessTable;
  const deadline = clock().getTime() + timeoutMs;
  for (;;) {
    if (await createLock(path, holderOf(clock(), {}, table))) {
      let released = false;
      return {
        path,
        async release() {
          if (released) return;
          released = true;
          await unlink(path).catch(() => {});
        },
      };
    }
    const holder = await readLockHolder(path);
    if (holder === undefined) continue;
    const why = holder === null ? "it cannot be read" : staleReason(holder, { now: clock(), maxAgeMs: staleMs, table });
    if (why !== null) {
      await removeIfUnchanged(path, holder);
      options.onStale?.(`replaced a stale lock ${path} (${describeHolder(holder)}): ${why}`);
      continue;
    }
    if (clock().getTime() >= deadline) {
      throw new LockError(`another lastbeat check (pid ${holder!.pid} on ${holder!.host}) still holds ${path}`);
    }
    await sleep(pollMs);
  }
}

export interface RunLockOptions {
  dir: string;
  job: string;
  /** The holder to write: this process, the run's id and start. */
  self: LockHolder;
  /**
   * The job's max runtime: an older lock is stale when its holder cannot be looked at (another
   * host sharing the folder, no readable process start); a live holder on this host is kept.
   */
  maxAgeMs?: number;
  clock?: () => Date;
  table?: ProcessTable;
  /** Called with the lock held, before anyone else can look: write the `start` beat. */
  onAcquired: () => Promise<void>;
  /** Called while the holder runs on: write the "skipped" beat. */
  onBusy: (holder: LockHolder) => Promise<void>;
  /** Told when a stale lock is replaced (the CLI says so on stderr). */
  onStale?: (message: string) => void;
}

export type RunLockResult =
  | { acquired: true; release: (beforeRelease: () => Promise<void>) => Promise<void> }
  | { acquired: false; holder: LockHolder };

/**
 * `run --no-overlap`: one run per job and host at a time, in `<dir>/.<job>@<host>.lock`.
 *
 * Every transition — take the lock and write the `start` beat, write a "skipped" beat, write the
 * final beat and drop the lock — happens under a short mutex (`….lock.mutex`), so a skipping run
 * can never overwrite the final beat of the run that just finished, and two runs replacing the
 * same stale lock cannot both win.
 */
export async function acquireRunLock(options: RunLockOptions): Promise<RunLockResult> {
  const clock = options.clock ?? (() => new Date());
  const base = join(options.dir, `.${options.job}@${safeHost(options.self.host)}.lock`);
  const mutex = `${base}.mutex`;
  return withMutex(mutex, async (): Promise<RunLockResult> => {
    const holder = await readLockHolder(base);
    if (holder !== undefined) {
      const why =
        holder === null
          ? "it cannot be read"
          : holder.pid === options.self.pid && holder.host === options.self.host
            ? "it names this very process"
            : staleReason(holder, {
                now: clock(),
                host: options.self.host,
                ...(options.maxAgeMs !== undefined && { maxAgeMs: options.maxAgeMs }),
                keepLiveHolder: true,
                ...(options.table && { table: options.table }),
              });
      if (why === null) {
        await options.onBusy(holder!);
        return { acquired: false, holder: holder! };
      }
      await unlink(base).catch(ignoreMissing);
      options.onStale?.(`replaced a stale lock ${base} (${describeHolder(holder)}): ${why}`);
    }
    if (!(await createLock(base, options.self))) throw new LockError(`lock file ${base} appeared while the mutex was held`);
    await options.onAcquired();
    return {
      acquired: true,
      release: (beforeRelease) =>
        withMutex(mutex, async () => {
          await beforeRelease();
          const current = await readLockHolder(base);
          if (current && current.run_id === options.self.run_id) await unlink(base).catch(ignoreMissing);
        }),
    };
  });
}

/** A mutex held for milliseconds (one heartbeat write); older than this, its holder crashed. */
const MUTEX_STALE_MS = 30_000;

async function withMutex<T>(path: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      await (await open(path, "wx", 0o644)).close();
      break;
    } catch (error) {
      const errno = (error as NodeJS.ErrnoException).code;
      if (errno !== "EEXIST") throw new LockError(`cannot create lock file ${path} (${errno ?? String(error)})`, { cause: error, ...(errno !== undefined && { errno }) });
    }
    const info = await stat(path).catch(() => null);
    // Compared with the kernel's mtime, so with the real time, not the injected clock.
    if (info && Date.now() - info.mtimeMs > MUTEX_STALE_MS) {
      await unlink(path).catch(ignoreMissing);
      continue;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(25, 1 + attempt)));
  }
  try {
    return await fn();
  } finally {
    await unlink(path).catch(ignoreMissing);
  }
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== "ENOENT") throw error;
}

function safeHost(host: string): string {
  return host.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 100) || "host";
}

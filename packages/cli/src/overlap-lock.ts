import { open, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { readBoundedFile } from "lastbeat/internal";

/** Who holds a job's run lock; also what the `start` beat says (pid + host). */
export interface LockHolder {
  pid: number;
  host: string;
  run_id: string;
  started_at: string;
}

export interface RunLockOptions {
  dir: string;
  job: string;
  self: LockHolder;
  /** Called with the lock held, before anyone else can look: write the `start` beat. */
  onAcquired: () => Promise<void>;
  /** Called while the holder cannot finish: write the "skipped" beat. */
  onBusy: (holder: LockHolder) => Promise<void>;
  /** `process.kill(pid, 0)` by default; injectable for tests. */
  isAlive?: (pid: number) => boolean;
}

export type RunLockResult =
  | { acquired: true; release: (beforeRelease: () => Promise<void>) => Promise<void> }
  | { acquired: false; holder: LockHolder };

/**
 * `--no-overlap`: one run per job and host at a time.
 *
 * `<dir>/.<job>@<host>.lock` is created with O_EXCL and holds the running pid; a lock whose pid is
 * dead (kill -9, reboot) is broken. Every transition — take the lock and write the `start` beat,
 * write a "skipped" beat, write the final beat and drop the lock — happens under a short mutex
 * (`….lock.mutex`, also O_EXCL), so a skipping run can never overwrite the final beat of the run
 * that just finished, and two runs breaking the same stale lock cannot both win.
 */
export async function acquireRunLock(options: RunLockOptions): Promise<RunLockResult> {
  const isAlive = options.isAlive ?? pidAlive;
  const base = join(options.dir, `.${options.job}@${safeHost(options.self.host)}.lock`);
  const mutex = `${base}.mutex`;
  return withMutex(mutex, async (): Promise<RunLockResult> => {
    const holder = await readHolder(base);
    if (holder && holder.host === options.self.host && isAlive(holder.pid) && holder.pid !== options.self.pid) {
      await options.onBusy(holder);
      return { acquired: false, holder };
    }
    // No lock, an unreadable one (crash between create and write) or a dead holder: take it.
    if (holder !== undefined) await unlink(base).catch(ignoreMissing);
    const handle = await open(base, "wx", 0o644);
    try {
      await handle.writeFile(`${JSON.stringify(options.self)}\n`);
    } finally {
      await handle.close();
    }
    await options.onAcquired();
    return {
      acquired: true,
      release: (beforeRelease) =>
        withMutex(mutex, async () => {
          await beforeRelease();
          const current = await readHolder(base);
          if (current && current.run_id === options.self.run_id) await unlink(base).catch(ignoreMissing);
        }),
    };
  });
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, owned by another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** undefined: no lock file; null: a lock file that cannot be understood. */
async function readHolder(path: string): Promise<LockHolder | null | undefined> {
  // Bounded, non-blocking, no symlinks: in a shared sticky folder anyone may plant a FIFO or a
  // link to /dev/zero here; that is an unreadable lock, removed and taken over.
  const file = await readBoundedFile(path, 4096);
  if (!file.ok) return file.code === "ENOENT" ? undefined : null;
  try {
    const value = JSON.parse(file.text) as Partial<LockHolder>;
    if (typeof value.pid === "number" && typeof value.host === "string" && typeof value.run_id === "string") {
      return { pid: value.pid, host: value.host, run_id: value.run_id, started_at: String(value.started_at ?? "") };
    }
  } catch {
    // fall through
  }
  return null;
}

/** A mutex held for milliseconds (one heartbeat write); older than this, its holder crashed. */
const MUTEX_STALE_MS = 30_000;

async function withMutex<T>(path: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      await (await open(path, "wx", 0o644)).close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const info = await stat(path).catch(() => null);
    if (info && Date.now() - info.mtimeMs > MUTEX_STALE_MS) {
      await unlink(path).catch(ignoreMissing);
      continue;
    }
    await delay(Math.min(25, 1 + attempt));
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

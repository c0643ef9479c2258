import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { link, unlink, writeFile } from "node:fs/promises";
import { readBoundedFile } from "lastbeat/internal";
import { ForgeError } from "./errors.js";

export interface SyncLock {
  readonly path: string;
  release(): Promise<void>;
}

export interface LockOptions {
  /** How long to wait for another checker to finish before giving up (exit 3). */
  timeoutMs?: number;
  /** A lock older than this is taken over even when its pid looks alive (pid reuse). */
  staleMs?: number;
  /** Poll interval while waiting. */
  pollMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

interface LockContent {
  pid: number;
  host: string;
  at: number;
}

/**
 * One `lastbeat check` at a time per heartbeat folder: an O_EXCL lock file holding pid, host and
 * time. A lock whose process is gone (same host) or that is older than `staleMs` is removed; a
 * live one is waited for, so checkers started together run one after the other and each sees
 * what the previous one wrote.
 */
export async function acquireSyncLock(path: string, options: LockOptions = {}): Promise<SyncLock> {
  const { timeoutMs = 120_000, staleMs = 60 * 60_000, pollMs = 100 } = options;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const me: LockContent = { pid: process.pid, host: hostname(), at: now() };
  const deadline = now() + timeoutMs;
  for (;;) {
    // Written in full to a temp file, then linked into place: link(2) fails when the lock
    // exists, and the lock is never seen half-written.
    const temp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
    try {
      await writeFile(temp, JSON.stringify({ ...me, at: now() }), { flag: "wx", mode: 0o644 });
      await link(temp, path);
      let released = false;
      return {
        path,
        async release() {
          if (released) return;
          released = true;
          await unlink(path).catch(() => {});
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new ForgeError(`cannot create lock file ${path} (${(error as NodeJS.ErrnoException).code ?? error})`, { cause: error });
      }
    } finally {
      await unlink(temp).catch(() => {});
    }
    const holder = await readHolder(path);
    if (holder === "gone") continue;
    if (holder === null || isStale(holder, me.host, now(), staleMs)) {
      // Remove only the lock we judged stale: if it changed meanwhile, someone else holds it now.
      const again = await readHolder(path);
      if (again !== "gone" && sameHolder(holder, again)) await unlink(path).catch(() => {});
      continue;
    }
    if (now() >= deadline) {
      throw new ForgeError(`another lastbeat check (pid ${holder.pid} on ${holder.host}) still holds ${path}`);
    }
    await sleep(pollMs);
  }
}

async function readHolder(path: string): Promise<LockContent | null | "gone"> {
  // Bounded, non-blocking, no symlinks: a FIFO or a link to a device planted at the lock path is
  // an unreadable lock, judged stale and removed, never a checker that hangs.
  const file = await readBoundedFile(path, 4096);
  if (!file.ok) return file.code === "ENOENT" ? "gone" : null;
  try {
    const data = JSON.parse(file.text) as Partial<LockContent>;
    if (typeof data.pid === "number" && typeof data.host === "string" && typeof data.at === "number") {
      return { pid: data.pid, host: data.host, at: data.at };
    }
  } catch {
    // Half-written by a holder that is writing right now, or garbage: decided below.
  }
  return null;
}

function sameHolder(a: LockContent | null, b: LockContent | null | "gone"): boolean {
  if (a === null || b === null || b === "gone") return a === null && b === null;
  return a.pid === b.pid && a.host === b.host && a.at === b.at;
}

function isStale(holder: LockContent, host: string, now: number, staleMs: number): boolean {
  if (now - holder.at > staleMs) return true;
  if (holder.host !== host) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

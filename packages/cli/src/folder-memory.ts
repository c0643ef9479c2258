import { createHash } from "node:crypto";
import { existsSync, lstatSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FOLDERS_FILE, defaultHeartbeatDir, hasGlobChars, jobAndFolder, readFolderMemory, type DirExpansion, type FolderMemory } from "lastbeat/internal";
import type { CliIo } from "./io.js";
import { acquireCheckLock, LockError } from "./lock.js";
import { absolute } from "./options.js";

/*
 * Where the checker keeps its own heartbeat, lock, journal and folder memory, and how every reader
 * finds the memory (`heartbeat-checker.folders`, docs/spec.md "Folders"): the same rule for all,
 * so `status`, `report` and `metrics` judge the folders `check` judges.
 */

/**
 * Where the checker's own heartbeat and the lock go: the first `--dir` when it names one folder
 * (no glob characters, or a folder that exists as written, as the scan reads it: `app[1]`), else
 * undefined (the default).
 */
export function checkerDir(flags: { dir?: string[] }, io: CliIo): string | undefined {
  const first = flags.dir?.[0];
  if (first === undefined) return undefined;
  const path = absolute(first, io);
  return !hasGlobChars(first) || existsSync(path) ? path : undefined;
}

/**
 * The folder of the checker's own heartbeat, its lock, its journal and its folder memory: the
 * first plain `--dir`, else the readers' default. Not created here.
 */
export const checkerFolder = (ownDir: string | undefined, io: CliIo): string => ownDir ?? defaultHeartbeatDir(io.env);

/** The checker's folder memory as a reader found it. */
export interface LoadedFolderMemory {
  path: string;
  memory: FolderMemory;
}

/**
 * The checker's memory of the folders its patterns matched, when a pattern is scanned (a scan of
 * plain folders never reads it: no cost on the common path). Never throws: a broken file is one
 * warning on stderr and no memory.
 */
export async function loadFolderMemory(flags: { dir?: string[] }, dirs: readonly string[] | undefined, io: CliIo): Promise<LoadedFolderMemory | null> {
  if (dirs === undefined || !dirs.some(hasGlobChars)) return null;
  const path = join(checkerFolder(checkerDir(flags, io), io), FOLDERS_FILE);
  const read = await readFolderMemory(path);
  if (read.warning !== null) io.stderr.write(`warning: ${read.warning}\n`);
  return { path, memory: read.memory };
}

/**
 * Whether `job` is retired (`<job>.retired`, left by `lastbeat retire`) in the folders a scan
 * read: `<job>@<folder>` in that folder, a plain `<job>` in any of them. Only the name is looked
 * at (lstat), never followed or read. For the few jobs whose file vanished, not for every job.
 */
export function retiredIn(expansion: DirExpansion | undefined, fallback: readonly string[]): (job: string) => boolean {
  const dirs = expansion?.dirs ?? fallback;
  const has = (dir: string, job: string) => {
    try {
      return lstatSync(join(dir, `${job}.retired`), { throwIfNoEntry: false }) !== undefined;
    } catch {
      return false; // a folder we may not look into holds no retirement we can see
    }
  };
  return (name) => {
    const { job, folder } = jobAndFolder(name);
    // A job of a folder no longer scanned (retired, or left out of --dir) left with its folder.
    if (folder !== null) return !dirs.includes(folder) || has(folder, job);
    return dirs.some((dir) => has(dir, job));
  };
}

/** Errors that mean "this folder cannot take a file", not "another checker holds the lock". */
const REFUSALS = new Set(["ENOSPC", "EROFS", "EACCES", "EPERM", "ENOENT", "ENOTDIR", "EDQUOT"]);

/**
 * The lock beside the heartbeats, else in the temp folder (keyed by the heartbeat folder), else
 * none with a warning: a full, read-only or foreign heartbeat folder must never silence the alerts.
 */
export async function lockCheckerFolder(dir: string, io: CliIo): Promise<{ release(): Promise<void> } | null> {
  const key = createHash("sha1").update(dir).digest("hex").slice(0, 12);
  const candidates = [join(dir, ".lastbeat-check.lock"), join(tmpdir(), `lastbeat-check-${key}.lock`)];
  for (const path of candidates) {
    try {
      return await acquireCheckLock(path, { clock: io.now, onStale: (message) => io.stderr.write(`lastbeat: ${message}\n`) });
    } catch (error) {
      if (!(error instanceof LockError) || error.errno === undefined || !REFUSALS.has(error.errno)) throw error;
    }
  }
  io.stderr.write(`warning: no lock file could be created (${candidates.join(", ")}); syncing without one\n`);
  return null;
}


import { closeSync, constants, fstatSync, openSync, opendirSync, readSync } from "node:fs";
import type { Dir, Stats } from "node:fs";
import { open } from "node:fs/promises";
import { basename, sep } from "node:path";
import { defaultHeartbeatDir, expandDirPatterns, type DirExpansion, type FolderMemory } from "./dir.js";
import { errnoText } from "./errors.js";
import { evaluate } from "./evaluate.js";
import { isValidJobName } from "./job-name.js";
import { declarationFor, loadManifest } from "./manifest.js";
import type { Manifest } from "./manifest.js";
import { parseHeartbeat } from "./parse.js";
import type { Declaration, Heartbeat, JobState } from "./types.js";
import { MAX_HEARTBEAT_BYTES } from "./types.js";

export type ReadResult =
  | { ok: true; heartbeat: Heartbeat; modifiedAt: Date }
  | { ok: false; reason: string; modifiedAt: Date | null };

/**
 * Reads one heartbeat file defensively and never throws: symlinks are not followed, FIFOs and
 * other non-regular files are not opened for reading (O_NONBLOCK), and no more than 64 KiB is read.
 */
export async function readHeartbeatFile(path: string): Promise<ReadResult> {
  return heartbeatFrom(await readBoundedFile(path, MAX_HEARTBEAT_BYTES), stemOf(path));
}

/**
 * The same, synchronously, for scans: one file costs four plain system calls on this thread
 * (open, fstat, read, close) instead of four round trips through libuv's thread pool.
 */
export function readHeartbeatFileSync(path: string): ReadResult {
  return heartbeatFrom(readBoundedFileSync(path, MAX_HEARTBEAT_BYTES), stemOf(path));
}

/**
 * One file of a scan, read and judged while it is still open. A good heartbeat costs three system
 * calls (open, one read of up to 64 KiB + 1 byte, close): fstat, a fifth of a scan's time, is
 * made only when the verdict needs what it says. That is when the read did not give 1 byte to
 * 64 KiB of text that parses (a FIFO, a folder, an empty or oversized file, a short read on a
 * network mount, a torn write): then the file is read again by `readOpenSync`, exactly as
 * `readHeartbeatFileSync` reads it, so every reason is the same. And it is when a good heartbeat
 * still judges `invalid` (dated in the future, no interval): the state is dated by the file's
 * modification time. Only a device node, which only root can make, yields text without fstat
 * seeing it, and that text is still at most 64 KiB and read without blocking.
 */
function judgeFileSync(path: string, stem: string, job: string, declaration: Declaration | undefined, now: Date): JobState {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (error) {
    return judgeRead(heartbeatFrom(openFailure(error), stem), path, job, declaration, now);
  }
  try {
    const buffer = (scratch ??= Buffer.allocUnsafe(MAX_HEARTBEAT_BYTES + 1));
    let length = 0;
    try {
      length = readSync(fd, buffer, 0, buffer.length, 0);
    } catch {
      // A folder (EISDIR), a FIFO (ESPIPE): readOpenSync names it.
    }
    if (length > 0 && length <= MAX_HEARTBEAT_BYTES) {
      const parsed = parseHeartbeat(buffer.toString("utf8", 0, length), stem);
      if (parsed.ok) {
        const state = evaluate(parsed.heartbeat, declaration, now, { file: path, modifiedAt: null });
        if (state.status !== "invalid") return state;
        return evaluate(parsed.heartbeat, declaration, now, { file: path, modifiedAt: fstatSync(fd).mtime });
      }
    }
    return judgeRead(heartbeatFrom(readOpenSync(fd, MAX_HEARTBEAT_BYTES), stem), path, job, declaration, now);
  } finally {
    closeSync(fd);
  }
}

/** The state of a scanned file from what reading it gave. */
function judgeRead(result: ReadResult, file: string, job: string, declaration: Declaration | undefined, now: Date): JobState {
  return result.ok
    ? evaluate(result.heartbeat, declaration, now, { file, modifiedAt: result.modifiedAt })
    : evaluate(undefined, declaration, now, { job, file, invalidReason: `heartbeat file ${result.reason}`, modifiedAt: result.modifiedAt });
}

const stemOf = (path: string) => basename(path).replace(/\.last$/, "");

function heartbeatFrom(file: BoundedRead, stem: string): ReadResult {
  if (!file.ok) {
    const reason = file.reason === "too large" ? `larger than 64 KiB${file.size !== undefined ? ` (${file.size} bytes)` : ""}` : file.reason;
    return { ok: false, reason, modifiedAt: file.modifiedAt };
  }
  const parsed = parseHeartbeat(file.text, stem);
  return parsed.ok
    ? { ok: true, heartbeat: parsed.heartbeat, modifiedAt: file.modifiedAt }
    : { ok: false, reason: parsed.reason, modifiedAt: file.modifiedAt };
}

export type BoundedRead =
  | { ok: true; text: string; modifiedAt: Date }
  | { ok: false; code: string | undefined; reason: string; size?: number; modifiedAt: Date | null };

/** Never through a symlink (ELOOP), never waiting for a FIFO's writer or a device. */
export const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

function openFailure(error: unknown): BoundedRead {
  const code = (error as NodeJS.ErrnoException).code;
  const reason = code === "ELOOP" ? "is a symbolic link (not followed)" : `cannot be read: ${errnoText(error)}`;
  return { ok: false, code, reason, modifiedAt: null };
}

function readFailure(error: unknown): BoundedRead {
  return { ok: false, code: (error as NodeJS.ErrnoException).code, reason: `cannot be read: ${errnoText(error)}`, modifiedAt: null };
}

/** What fstat alone refuses: anything but a regular file, or one already over the cap. */
function refusal(info: Stats, maxBytes: number): BoundedRead | null {
  if (!info.isFile()) return { ok: false, code: undefined, reason: "is not a regular file", modifiedAt: info.mtime };
  if (info.size > maxBytes) return { ok: false, code: undefined, reason: "too large", size: info.size, modifiedAt: info.mtime };
  return null;
}

/**
 * Reads a small file that someone else may have planted: never follows a symlink, never blocks on
 * a FIFO (O_NONBLOCK), never opens a device for reading, never reads more than `maxBytes`.
 * Never throws; `code` is `ENOENT` when there is no file.
 */
export async function readBoundedFile(path: string, maxBytes: number): Promise<BoundedRead> {
  let handle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (error) {
    return openFailure(error);
  }
  try {
    const info = await handle.stat();
    const refused = refusal(info, maxBytes);
    if (refused) return refused;
    const modifiedAt = info.mtime;
    // Sized by fstat, plus one byte to notice a file that grew since: one read in the common case.
    const buffer = Buffer.allocUnsafe(info.size + 1);
    let length = 0;
    while (length < buffer.length) {
      const want = buffer.length - length;
      const { bytesRead } = await handle.read(buffer, length, want, length);
      length += bytesRead;
      if (bytesRead < want) break; // a short read of a regular file is its end
    }
    if (length === buffer.length) {
      // It grew while we read: read on, but never past the cap.
      const rest = Buffer.allocUnsafe(maxBytes + 1 - length);
      let extra = 0;
      while (length + extra <= maxBytes) {
        const { bytesRead } = await handle.read(rest, extra, rest.length - extra, length + extra);
        if (bytesRead === 0) break;
        extra += bytesRead;
      }
      if (length + extra > maxBytes) return { ok: false, code: undefined, reason: "too large", modifiedAt };
      return { ok: true, text: Buffer.concat([buffer, rest.subarray(0, extra)]).toString("utf8"), modifiedAt };
    }
    return { ok: true, text: buffer.toString("utf8", 0, length), modifiedAt };
  } catch (error) {
    return readFailure(error);
  } finally {
    await handle.close().catch(() => {});
  }
}

/** Reused by every synchronous read up to 64 KiB: nothing else runs while one is under way. */
let scratch: Buffer | undefined;

/**
 * `readBoundedFile` synchronously, with the same guarantees and the same results: open, fstat,
 * one read into a reused buffer, close, all on the calling thread. For scans of thousands of
 * files, where the thread-pool round trip of each asynchronous call costs more than the call.
 */
export function readBoundedFileSync(path: string, maxBytes: number): BoundedRead {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (error) {
    return openFailure(error);
  }
  try {
    return readOpenSync(fd, maxBytes);
  } finally {
    closeSync(fd);
  }
}

/** `readBoundedFileSync` of a file already open (with OPEN_FLAGS); from its start, whatever was read before. */
function readOpenSync(fd: number, maxBytes: number): BoundedRead {
  try {
    const info = fstatSync(fd);
    const refused = refusal(info, maxBytes);
    if (refused) return refused;
    // Room for one byte past the cap, so a file that grew beyond it since fstat is noticed.
    const buffer = maxBytes <= MAX_HEARTBEAT_BYTES ? (scratch ??= Buffer.allocUnsafe(MAX_HEARTBEAT_BYTES + 1)) : Buffer.allocUnsafe(maxBytes + 1);
    let length = 0;
    while (length <= maxBytes) {
      const want = maxBytes + 1 - length;
      const bytesRead = readSync(fd, buffer, length, want, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      // Less than asked for, and at least what fstat said: the end of a regular file. Not for a
      // file fstat calls empty (/proc): it hands out a page per read, and only 0 is its end.
      if (bytesRead < want && length >= info.size && info.size > 0) break;
    }
    if (length > maxBytes) return { ok: false, code: undefined, reason: "too large", modifiedAt: info.mtime };
    return { ok: true, text: buffer.toString("utf8", 0, length), modifiedAt: info.mtime };
  } catch (error) {
    return readFailure(error);
  }
}

export interface ScanOptions {
  /** Folders to scan; globs allowed. Defaults to the writer's folder. */
  dirs?: readonly string[];
  /** A manifest path, or one already parsed. */
  manifest?: string | Manifest;
  now?: Date;
  env?: Record<string, string | undefined>;
  cwd?: string;
  /**
   * Longest stretch, in milliseconds, the scan reads synchronously before it lets other work on
   * the event loop run (default 10): a service that scans 100,000 files stays responsive.
   */
  sliceMs?: number;
}

/**
 * What lastbeat's own commands add to a scan (not the public API): the checker's memory of the
 * folders each pattern matched, and a look at how the patterns expanded.
 */
export interface InternalScanOptions extends ScanOptions {
  /** Per absolute glob pattern, the folders it matched before: still scanned when they no longer match. */
  rememberedFolders?: FolderMemory;
  /** Called once with the expansion of the folder patterns, before any file is read. */
  onExpanded?: (expansion: DirExpansion) => void;
}

/**
 * A folder that could not be listed, or a pattern that names none: reported as an `invalid`
 * pseudo-job so it is never silent.
 */
const FOLDER_JOB = (dir: string) => `folder:${dir}`;

/** For a folder scanned only because the checker remembers it: which pattern matched it, and how to forget it. */
function matchedBefore(remembered: ReadonlyMap<string, string>, dir: string): string {
  const pattern = remembered.size === 0 ? undefined : remembered.get(dir);
  return pattern === undefined ? "" : `; it matched ${pattern} before (gone for good? lastbeat retire 'folder:${dir}' with the checker's --dir flags)`;
}

/** Entries fetched from the kernel per directory read while listing a folder. */
const LISTING_BATCH = 1024;

/**
 * Synchronous work cut into slices of at most `ms`, yielding to the event loop between them.
 * Checked after each file, so the event loop waits at most one slice plus one file.
 */
class Slices {
  private end: number;
  constructor(private readonly ms: number) {
    this.end = performance.now() + ms;
  }
  get due(): boolean {
    return performance.now() >= this.end;
  }
  async yield(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.end = performance.now() + this.ms;
  }
}

/**
 * Reads every `*.last` in the folders and the manifest's declarations and evaluates them all.
 * Never throws on one bad file (it becomes `invalid`), nor for a folder that is missing or a
 * pattern that matches none (each an `invalid` `folder:` pseudo-job); throws only for a bad
 * manifest or a malformed folder pattern.
 */
export function scanHeartbeats(options?: ScanOptions): Promise<JobState[]>;
/**
 * The same, handing each state to `map` as soon as it is evaluated and keeping only what `map`
 * returns: a large fleet's parsed heartbeats never all sit in memory at once.
 */
export function scanHeartbeats<T>(options: ScanOptions, map: (state: JobState) => T): Promise<T[]>;
export async function scanHeartbeats<T>(
  options: InternalScanOptions = {},
  map: (state: JobState) => T = (state) => state as unknown as T,
): Promise<T[]> {
  const now = options.now ?? new Date();
  const env = options.env ?? process.env;
  const manifest =
    typeof options.manifest === "string" ? await loadManifest(options.manifest) : (options.manifest ?? null);
  const patterns = options.dirs && options.dirs.length > 0 ? options.dirs : [defaultHeartbeatDir(env)];
  const expansion = await expandDirPatterns(patterns, options.cwd, options.rememberedFolders);
  options.onExpanded?.(expansion);
  const { dirs, unmatched, remembered } = expansion;
  // Synchronous reads, in slices: per file, the thread pool's round trips cost more than the
  // reads themselves, and a long-running caller still gets the event loop back every slice.
  const slices = new Slices(options.sliceMs ?? 10);

  /** Each folder's `*.last` entry names, as listed; paths are built as each file is read. */
  const folders: { dir: string; prefix: string; names: string[] }[] = [];
  const out: T[] = [];
  // A folder that is missing or unreadable is never "no jobs, all healthy": a typo in --dir
  // would otherwise silence every alert.
  const folderInvalid = (dir: string, error: unknown) =>
    out.push(
      map(
        evaluate(undefined, undefined, now, {
          job: FOLDER_JOB(dir),
          file: dir,
          invalidReason:
            ((error as NodeJS.ErrnoException).code === "ENOENT"
              ? "heartbeat folder does not exist"
              : `heartbeat folder cannot be read: ${errnoText(error)}`) + matchedBefore(remembered, dir),
        }),
      ),
    );
  for (const { pattern, reason } of unmatched) {
    out.push(map(evaluate(undefined, undefined, now, { job: FOLDER_JOB(pattern), file: pattern, invalidReason: reason })));
  }
  for (const dir of dirs) {
    let listing: Dir;
    try {
      listing = opendirSync(dir, { bufferSize: LISTING_BATCH });
    } catch (error) {
      folderInvalid(dir, error);
      continue;
    }
    const names: string[] = [];
    // `dir` is absolute and normalised (expandDirs): one separator between it and a name is
    // what path.join would give, without normalising 100,000 paths again.
    folders.push({ dir, prefix: dir.endsWith(sep) ? dir : dir + sep, names });
    try {
      for (let entry = listing.readSync(); entry !== null; entry = listing.readSync()) {
        if (entry.name.endsWith(".last")) names.push(entry.name);
        if (slices.due) await slices.yield();
      }
    } catch (error) {
      // Failing part-way (EIO on a network mount): the files listed so far are still read.
      folderInvalid(dir, error);
    } finally {
      listing.closeSync();
    }
  }

  // Names seen in more than one folder are qualified by folder, and a manifest's job with no file
  // is `missing`: with one folder and no manifest neither can happen, and no set is built.
  const seen = new Set<string>();
  const duplicated = new Set<string>();
  if (manifest || folders.length > 1) {
    for (const { names } of folders) {
      for (const name of names) {
        const stem = name.slice(0, -5);
        (seen.has(stem) ? duplicated : seen).add(stem);
        if (slices.due) await slices.yield();
      }
    }
  }

  for (const { dir, prefix, names } of folders) {
    for (const name of names) {
      if (slices.due) await slices.yield();
      const stem = name.slice(0, -5);
      const path = prefix + name;
      // The same job name in several folders (many hosts on a shared mount): qualify by folder.
      const job = duplicated.has(stem) ? `${stem}@${dir}` : stem;
      // The manifest's global maintenance windows reach jobs it does not declare too.
      const declaration = declarationFor(manifest, stem);
      if (!isValidJobName(stem)) {
        out.push(map(evaluate(undefined, declaration, now, { job, file: path, invalidReason: "file name is not a valid job name" })));
        continue;
      }
      const state = judgeFileSync(path, stem, job, declaration, now);
      out.push(map(job === stem ? state : { ...state, job }));
    }
  }

  if (manifest) {
    for (const name of manifest.jobs.keys()) {
      if (slices.due) await slices.yield();
      if (!seen.has(name)) out.push(map(evaluate(undefined, declarationFor(manifest, name), now, { job: name })));
    }
  }
  return out;
}

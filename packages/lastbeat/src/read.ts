import { constants } from "node:fs";
import { open, readdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { defaultHeartbeatDir, expandDirs } from "./dir.js";
import { errnoText } from "./errors.js";
import { evaluate } from "./evaluate.js";
import { isValidJobName } from "./job-name.js";
import { loadManifest } from "./manifest.js";
import type { Manifest } from "./manifest.js";
import { parseHeartbeat } from "./parse.js";
import type { Heartbeat, JobState } from "./types.js";
import { MAX_HEARTBEAT_BYTES } from "./types.js";

export type ReadResult =
  | { ok: true; heartbeat: Heartbeat; modifiedAt: Date }
  | { ok: false; reason: string; modifiedAt: Date | null };

/**
 * Reads one heartbeat file defensively and never throws: symlinks are not followed, FIFOs and
 * other non-regular files are not opened for reading (O_NONBLOCK), and no more than 64 KiB is read.
 */
export async function readHeartbeatFile(path: string): Promise<ReadResult> {
  const file = await readBoundedFile(path, MAX_HEARTBEAT_BYTES);
  if (!file.ok) {
    const reason = file.reason === "too large" ? `larger than 64 KiB${file.size !== undefined ? ` (${file.size} bytes)` : ""}` : file.reason;
    return { ok: false, reason, modifiedAt: file.modifiedAt };
  }
  const stem = basename(path).replace(/\.last$/, "");
  return { ...parseHeartbeat(file.text, stem), modifiedAt: file.modifiedAt };
}

export type BoundedRead =
  | { ok: true; text: string; modifiedAt: Date }
  | { ok: false; code: string | undefined; reason: string; size?: number; modifiedAt: Date | null };

/**
 * Reads a small file that someone else may have planted: never follows a symlink, never blocks on
 * a FIFO (O_NONBLOCK), never opens a device for reading, never reads more than `maxBytes`.
 * Never throws; `code` is `ENOENT` when there is no file.
 */
export async function readBoundedFile(path: string, maxBytes: number): Promise<BoundedRead> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "ELOOP" ? "is a symbolic link (not followed)" : `cannot be read: ${errnoText(error)}`;
    return { ok: false, code, reason, modifiedAt: null };
  }
  try {
    const info = await handle.stat();
    const modifiedAt = info.mtime;
    if (!info.isFile()) return { ok: false, code: undefined, reason: "is not a regular file", modifiedAt };
    if (info.size > maxBytes) return { ok: false, code: undefined, reason: "too large", size: info.size, modifiedAt };
    // Sized by fstat, plus one byte to notice a file that grew since: one read in the common case.
    const buffer = Buffer.allocUnsafe(Math.min(info.size, maxBytes) + 1);
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
    return { ok: false, code: (error as NodeJS.ErrnoException).code, reason: `cannot be read: ${errnoText(error)}`, modifiedAt: null };
  } finally {
    await handle.close().catch(() => {});
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
  /** How many files are read at once. */
  concurrency?: number;
}

/** A folder that could not be listed; reported as an `invalid` pseudo-job so it is never silent. */
const FOLDER_JOB = (dir: string) => `folder:${dir}`;

/**
 * Reads every `*.last` in the folders and the manifest's declarations and evaluates them all.
 * Never throws on one bad file (it becomes `invalid`); throws only for a bad manifest.
 */
export function scanHeartbeats(options?: ScanOptions): Promise<JobState[]>;
/**
 * The same, handing each state to `map` as soon as it is evaluated and keeping only what `map`
 * returns: a large fleet's parsed heartbeats never all sit in memory at once.
 */
export function scanHeartbeats<T>(options: ScanOptions, map: (state: JobState) => T): Promise<T[]>;
export async function scanHeartbeats<T>(
  options: ScanOptions = {},
  map: (state: JobState) => T = (state) => state as unknown as T,
): Promise<T[]> {
  const now = options.now ?? new Date();
  const env = options.env ?? process.env;
  const manifest =
    typeof options.manifest === "string" ? await loadManifest(options.manifest) : (options.manifest ?? null);
  const patterns = options.dirs && options.dirs.length > 0 ? options.dirs : [defaultHeartbeatDir(env)];
  const dirs = await expandDirs(patterns, options.cwd);

  const files: { dir: string; name: string; path: string }[] = [];
  const out: T[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      // A folder that is missing or unreadable is never "no jobs, all healthy": a typo in --dir
      // would otherwise silence every alert.
      out.push(
        map(
          evaluate(undefined, undefined, now, {
            job: FOLDER_JOB(dir),
            file: dir,
            invalidReason:
              (error as NodeJS.ErrnoException).code === "ENOENT"
                ? "heartbeat folder does not exist"
                : `heartbeat folder cannot be read: ${errnoText(error)}`,
          }),
        ),
      );
      continue;
    }
    for (const name of names) {
      if (name.endsWith(".last")) files.push({ dir, name: name.slice(0, -5), path: join(dir, name) });
    }
  }

  const seen = new Set<string>();
  const duplicated = new Set<string>();
  for (const f of files) (seen.has(f.name) ? duplicated : seen).add(f.name);

  const evaluated = await mapLimit(files, options.concurrency ?? 64, async (f) => {
    // The same job name in several folders (many hosts on a shared mount): qualify by folder.
    const job = duplicated.has(f.name) ? `${f.name}@${f.dir}` : f.name;
    const declaration = manifest?.jobs.get(f.name);
    if (!isValidJobName(f.name)) {
      return map(evaluate(undefined, declaration, now, { job, file: f.path, invalidReason: "file name is not a valid job name" }));
    }
    const result = await readHeartbeatFile(f.path);
    if (!result.ok) {
      const context = { job, file: f.path, invalidReason: `heartbeat file ${result.reason}`, modifiedAt: result.modifiedAt };
      return map(evaluate(undefined, declaration, now, context));
    }
    const state = evaluate(result.heartbeat, declaration, now, { file: f.path, modifiedAt: result.modifiedAt });
    return map(job === f.name ? state : { ...state, job });
  });
  for (const item of evaluated) out.push(item);

  if (manifest) {
    for (const [name, declaration] of manifest.jobs) {
      if (!seen.has(name)) out.push(map(evaluate(undefined, declaration, now, { job: name })));
    }
  }
  return out;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

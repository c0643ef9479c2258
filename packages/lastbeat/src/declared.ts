/*
 * The checker's memory of since when each declared job is declared, `heartbeat-checker.declared`
 * beside its journal (docs/spec.md, "A declared job that has not beaten yet"). A declared job with
 * no heartbeat file waits for its first run counted from that time; the declaring file's
 * modification time alone would restart the count at every edit of a shared crontab or manifest,
 * so a broken job in one edited more often than its grace would never alert. The memory lives
 * beside the heartbeats on purpose: a reboot that clears a folder on tmpfs (`/run`) clears the
 * memory with the heartbeats, and every job then waits for its first run since the boot.
 *
 * Only `check` writes it, under its lock; `status`, `report` and `metrics` read it. Anyone who can
 * write the heartbeat folder can plant or edit the file, so it is read like a heartbeat: never
 * through a symlink, never waiting on a FIFO, never more than DECLARED_MAX_BYTES, every entry
 * checked before it is used (a time planted in the future makes the job `missing` at once, as
 * evaluate treats a declaration dated ahead of now).
 */
import type { AtomicFs } from "./atomic.js";
import { isAbsolutePath, readMemoryFile, writeMemoryFile } from "./checker-memory.js";
import { isValidJobName } from "./job-name.js";

/** The checker's memory of its declared jobs, beside its journal. */
export const DECLARED_FILE = "heartbeat-checker.declared";
/** 1 MiB holds some 15,000 declared jobs. */
export const DECLARED_MAX_BYTES = 1024 * 1024;
const FORMAT = "lastbeat-declared/1";
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3})?Z$/;
const FILE = { what: "the checker's memory of declared jobs", format: FORMAT, key: "jobs", maxBytes: DECLARED_MAX_BYTES };

/** Since when a job is declared, and the file that declares it (a crontab or manifest, absolute). */
export interface DeclaredEntry {
  since: Date;
  by: string;
}

/** The check that last wrote the memory: when, and the declaring files it read. */
export interface DeclaredCheck {
  at: Date;
  read: ReadonlySet<string>;
}

export interface DeclaredMemoryRead {
  /** Per job, since when it is declared and by which file. Empty when none could be read. */
  memory: Map<string, DeclaredEntry>;
  /**
   * The check that wrote it (null when not said): a job of one of those files that the memory
   * does not hold was put in after that check.
   */
  checked: DeclaredCheck | null;
  /** False when there is no file (the checker never ran here, or a reboot cleared the folder). */
  found: boolean;
  /** One line naming the file and what was wrong with it; null when whole. */
  warning: string | null;
}

/**
 * Reads the memory. Never throws: a missing file is an empty memory; a symlink, FIFO, folder,
 * file over 1 MiB or text that is not the memory is an empty memory with a warning; entries that
 * are not a job name with a UTC ISO time are left out, with a warning.
 */
export async function readDeclaredMemory(path: string): Promise<DeclaredMemoryRead> {
  const read = await readMemoryFile(path, FILE);
  const jobs = read.entries;
  if (jobs === null) return { memory: new Map(), checked: null, found: read.found, warning: read.warning };
  const checkedAt = typeof read.top?.checked_at === "string" && ISO.test(read.top.checked_at) ? new Date(read.top.checked_at) : null;
  const files = Array.isArray(read.top?.read) ? read.top.read.filter(isAbsolutePath) : null;
  const checked = checkedAt !== null && Number.isFinite(checkedAt.getTime()) && files !== null ? { at: checkedAt, read: new Set(files) } : null;
  const memory = new Map<string, DeclaredEntry>();
  let skipped = 0;
  for (const [job, entry] of Object.entries(jobs)) {
    const { since, by } = (typeof entry === "object" && entry !== null ? entry : {}) as Record<string, unknown>;
    const at = typeof since === "string" && ISO.test(since) ? new Date(since) : null;
    if (!isValidJobName(job) || at === null || !Number.isFinite(at.getTime()) || !isAbsolutePath(by)) skipped++;
    else memory.set(job, { since: at, by });
  }
  const warning =
    skipped === 0
      ? null
      : `the checker's memory of declared jobs ${path} had ${skipped} ${skipped === 1 ? "entry" : "entries"} that ${skipped === 1 ? "is" : "are"} not a job name with a UTC time and a file: left out`;
  return { memory, checked, found: true, warning };
}

/**
 * The memory after a run that declared `declared` (each job's time as the readers counted it this
 * run, and its file) and read the files `read`: a job remembered keeps its time (and takes its
 * file now), a new one is remembered with this run's, and a job no longer declared is forgotten
 * when its file was read and does not declare it any more; declared again later, it is new. A job
 * of a file this run did not read stays, even one this host does not have: another checker sharing
 * the folder (other crontabs, another manifest, another host's files) keeps its jobs. Whether
 * anything changed.
 */
export function rememberDeclared(
  memory: ReadonlyMap<string, DeclaredEntry>,
  declared: ReadonlyMap<string, DeclaredEntry>,
  read: ReadonlySet<string>,
): { memory: Map<string, DeclaredEntry>; changed: boolean } {
  const out = new Map<string, DeclaredEntry>();
  let changed = false;
  for (const [job, entry] of memory) {
    if (declared.has(job) || !read.has(entry.by)) out.set(job, entry);
    else changed = true;
  }
  for (const [job, entry] of declared) {
    const known = out.get(job);
    // Declared by two files two checkers sharing the folder read in turn: the first file stays,
    // rather than the memory being rewritten on every run.
    if (known !== undefined && (known.by === entry.by || !read.has(known.by))) continue;
    out.set(job, { since: known?.since ?? entry.since, by: entry.by });
    changed = true;
  }
  return { memory: out, changed };
}

/** The file's text: one JSON object, the check that wrote it, jobs sorted. */
export function declaredMemoryText(memory: ReadonlyMap<string, DeclaredEntry>, checked: DeclaredCheck): string {
  const jobs: Record<string, { since: string; by: string }> = {};
  for (const job of [...memory.keys()].sort()) {
    const { since, by } = memory.get(job) as DeclaredEntry;
    jobs[job] = { since: since.toISOString(), by };
  }
  return `${JSON.stringify({ format: FORMAT, checked_at: checked.at.toISOString(), read: [...checked.read].sort(), jobs }, null, 2)}\n`;
}

/**
 * Replaces the memory atomically (temp file, fsync, rename; never through a symlink). Throws an
 * Error naming the file when it cannot be written or would pass its cap: the file is then left as
 * it was.
 */
export async function writeDeclaredMemory(
  path: string,
  memory: ReadonlyMap<string, DeclaredEntry>,
  checked: DeclaredCheck,
  options: { maxBytes?: number; fs?: AtomicFs } = {},
): Promise<void> {
  await writeMemoryFile(path, declaredMemoryText(memory, checked), { ...FILE, overCap: "not updated" }, options);
}

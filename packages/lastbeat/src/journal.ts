/*
 * The checker's journal, `heartbeat-checker.journal` beside its own heartbeat: one JSON line per
 * change of a job's status (docs/spec.md, "The checker's journal"). The checker appends to it and
 * trims it; the brief reads it. Anyone who can write the heartbeat folder can plant or edit this
 * file, so it is read like a heartbeat: never through a symlink, never waiting on a FIFO, never
 * more than a bounded number of bytes, one line at a time, each line checked before it is used.
 */
import { constants } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";
import { LastbeatError, errnoText } from "./errors.js";
import { isoTime } from "./iso.js";
import { isTime } from "./parse.js";
import type { JobStatus, JournalEntry } from "./types.js";
import { STATUS_SEVERITY } from "./types.js";

/** What `readJournal` reads at most unless told otherwise: the newest 16 MiB. */
export const JOURNAL_MAX_BYTES = 16 * 1024 * 1024;

/**
 * The longest line read as an entry. The checker writes far shorter ones (its reasons are cut to
 * MAX_JOURNAL_REASON_CHARS); a longer line is skipped without ever being held whole.
 */
export const MAX_JOURNAL_LINE_BYTES = 64 * 1024;

/** The longest job name in the journal: a scan's `folder:<path>` and `<job>@<path>` carry a path. */
const MAX_JOURNAL_JOB_CHARS = 8192;

/** Bytes read per system call while streaming the file. */
const CHUNK_BYTES = 64 * 1024;

export interface JournalRead {
  /** Valid entries in file order, which is the order they were written in (chronological). */
  entries: JournalEntry[];
  /** True when the file was larger than `maxBytes` and only its end was read. */
  truncated: boolean;
  /** Lines that were not a valid entry and were left out; callers say how many. */
  skippedLines: number;
  /** Bytes of the file read. */
  bytes: number;
}

export interface ReadJournalOptions {
  /** Read at most this many bytes, the end of the file (default 16 MiB). */
  maxBytes?: number;
}

const STATUSES: ReadonlySet<string> = new Set<JobStatus>(STATUS_SEVERITY);
// Control characters and line separators: a job name in the journal is one printable line.
const NOT_IN_JOB = /[\u0000-\u001F\u007F-\u009F\u2028\u2029]/;

/**
 * Whether `name` can be a job in the journal: the name of a job file, or one of the names a scan
 * gives (`backup@/mnt/host-a`, `folder:/var/lib/heartbeats`), even a broken file's name, as long as
 * it is one printable line of at most 8192 characters.
 */
export function isJournalJob(name: unknown): name is string {
  return typeof name === "string" && name.length > 0 && name.length <= MAX_JOURNAL_JOB_CHARS && !NOT_IN_JOB.test(name);
}

/** One line's entry, or null when it is not a valid one. `at` comes back in UTC (`…Z`). */
export function parseJournalLine(line: string): JournalEntry | null {
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) return null;
  const { at, job, from, to, reason } = data as Record<string, unknown>;
  if (!isTime(at) || !isJournalJob(job) || typeof reason !== "string") return null;
  if (typeof to !== "string" || !STATUSES.has(to)) return null;
  if (from !== null && (typeof from !== "string" || !STATUSES.has(from))) return null;
  const time = new Date(at);
  if (Number.isNaN(time.getTime())) return null;
  return { at: isoTime(time), job, from: from as JobStatus | null, to: to as JobStatus, reason };
}

/** One line of the file: its text, or null when it was too long or is the partial first line. */
export interface JournalLine {
  text: string | null;
  /** Its length in bytes, newline included when there is one. */
  bytes: number;
  /** The rest of a line that began before the stretch read: never an entry. */
  partial?: true;
}

/**
 * The lines of `handle` between byte `start` and `end`, streamed: at most one chunk and one line
 * (up to MAX_JOURNAL_LINE_BYTES) are held at a time; a longer line is counted, never held. When
 * `start` falls inside a line, the rest of it comes first, as `partial`. A last line without its
 * newline is still handed out.
 */
export async function* journalLines(handle: FileHandle, start: number, end: number): AsyncGenerator<JournalLine> {
  let partial = false;
  if (start > 0) {
    // The byte before `start` says whether the stretch begins a line.
    const before = Buffer.alloc(1);
    const { bytesRead } = await handle.read(before, 0, 1, start - 1);
    partial = bytesRead === 1 && before[0] !== 0x0a;
  }
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let dropped = partial; // the current line's bytes are not kept (partial, or too long)
  const line = (tail: Buffer, newline: number): JournalLine => {
    const bytes = pendingBytes + tail.length + newline;
    if (partial) return { text: null, bytes, partial: true };
    if (dropped || bytes - newline > MAX_JOURNAL_LINE_BYTES) return { text: null, bytes };
    return { text: (pending.length === 0 ? tail : Buffer.concat([...pending, tail])).toString("utf8"), bytes };
  };
  let position = start;
  while (position < end) {
    const { bytesRead } = await handle.read(chunk, 0, Math.min(CHUNK_BYTES, end - position), position);
    if (bytesRead === 0) break; // the file shrank while we read (someone truncated it)
    position += bytesRead;
    let from = 0;
    for (let newline = chunk.indexOf(0x0a, from); newline !== -1 && newline < bytesRead; newline = chunk.indexOf(0x0a, from)) {
      yield line(chunk.subarray(from, newline), 1);
      pending = [];
      pendingBytes = 0;
      partial = dropped = false;
      from = newline + 1;
    }
    if (from < bytesRead) {
      const rest = chunk.subarray(from, bytesRead);
      pendingBytes += rest.length;
      if (dropped || pendingBytes > MAX_JOURNAL_LINE_BYTES) {
        dropped = true;
        pending = [];
      } else pending.push(Buffer.from(rest));
    }
  }
  if (pendingBytes > 0) yield line(Buffer.alloc(0), 0);
}

/** Never through a symlink (ELOOP), never waiting for a FIFO's writer or a device. */
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Opens the journal for reading, or returns null when there is none. Throws a LastbeatError
 * naming the file for a symlink, anything but a regular file, or any other error.
 */
export async function openJournal(path: string): Promise<{ handle: FileHandle; size: number } | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, READ_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return null;
    if (code === "ELOOP") throw new LastbeatError("E_SYMLINK", `refusing to read the journal ${path}: it is a symbolic link`);
    throw new LastbeatError("E_READ", `cannot read the journal ${path}: ${errnoText(error)}`, { cause: error });
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new LastbeatError("E_READ", `refusing to read the journal ${path}: it is not a regular file`);
    return { handle, size: info.size };
  } catch (error) {
    await handle.close().catch(() => {});
    if (error instanceof LastbeatError) throw error;
    throw new LastbeatError("E_READ", `cannot read the journal ${path}: ${errnoText(error)}`, { cause: error });
  }
}

/**
 * Reads the checker's journal: its valid entries in file order, at most the last `maxBytes` of it
 * (the first, partial, line of that stretch left out, and `truncated` set). A missing file is an
 * empty journal. Lines that are not a valid entry are left out and counted in `skippedLines`;
 * blank lines are not entries and not counted. Throws a LastbeatError naming the file when it is
 * a symlink (never followed), not a regular file, or cannot be read.
 */
export async function readJournal(path: string, options: ReadJournalOptions = {}): Promise<JournalRead> {
  const maxBytes = Math.max(0, options.maxBytes ?? JOURNAL_MAX_BYTES);
  const opened = await openJournal(path);
  if (!opened) return { entries: [], truncated: false, skippedLines: 0, bytes: 0 };
  const { handle, size } = opened;
  const start = Math.max(0, size - maxBytes);
  const read: JournalRead = { entries: [], truncated: start > 0, skippedLines: 0, bytes: 0 };
  try {
    for await (const line of journalLines(handle, start, size)) {
      read.bytes += line.bytes;
      if (line.partial || (line.text !== null && line.text.trim() === "")) continue;
      const entry = line.text === null ? null : parseJournalLine(line.text);
      if (entry) read.entries.push(entry);
      else read.skippedLines++;
    }
    return read;
  } catch (error) {
    throw new LastbeatError("E_READ", `cannot read the journal ${path}: ${errnoText(error)}`, { cause: error });
  } finally {
    await handle.close().catch(() => {});
  }
}

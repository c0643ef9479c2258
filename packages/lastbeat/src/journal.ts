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
import { writeFileAtomically } from "./atomic.js";
import type { AtomicFs } from "./atomic.js";
import { LastbeatError, errnoText } from "./errors.js";
import { isoTime } from "./iso.js";
import { isTime } from "./parse.js";
import { OPEN_FLAGS } from "./read.js";
import { firstChars, plainLine } from "./text.js";
import type { JobState, JobStatus, JournalEntry } from "./types.js";
import { ALERTING_STATUSES, STATUS_SEVERITY } from "./types.js";
import { isPseudoJob, keptAlerting } from "./vanished.js";

/** What `readJournal` reads at most unless told otherwise: the newest 16 MiB. */
export const JOURNAL_MAX_BYTES = 16 * 1024 * 1024;

/**
 * The longest line read as an entry. The checker writes far shorter ones (its reasons are cut to
 * MAX_JOURNAL_REASON_CHARS); a longer line is skipped without ever being held whole.
 */
const MAX_JOURNAL_LINE_BYTES = 64 * 1024;

/** The longest job name in the journal: a scan's `folder:<path>` and `<job>@<path>` carry a path. */
const MAX_JOURNAL_JOB_CHARS = 8192;

/** Bytes read per system call while streaming the file. */
const CHUNK_BYTES = 64 * 1024;

export interface JournalRead {
  /** False when there is no journal file (read as an empty journal). */
  found: boolean;
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
interface JournalLine {
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
async function* journalLines(handle: FileHandle, start: number, end: number): AsyncGenerator<JournalLine> {
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

/**
 * Opens the journal for reading, or returns null when there is none. Throws a LastbeatError
 * naming the file for a symlink, anything but a regular file, or any other error.
 */
async function openJournal(path: string): Promise<{ handle: FileHandle; size: number } | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, OPEN_FLAGS);
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
  if (!opened) return { found: false, entries: [], truncated: false, skippedLines: 0, bytes: 0 };
  const { handle, size } = opened;
  const start = Math.max(0, size - maxBytes);
  const read: JournalRead = { found: true, entries: [], truncated: start > 0, skippedLines: 0, bytes: 0 };
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

/** Entries younger than this are kept when the journal is trimmed. */
export const JOURNAL_KEEP_DAYS = 90;
/**
 * Trimmed once the oldest entry is older than this: a day past JOURNAL_KEEP_DAYS, so the file is
 * rewritten about once a day, not on every run.
 */
const TRIM_AFTER_DAYS = JOURNAL_KEEP_DAYS + 1;
/** A reason in the journal is one line of at most this many characters. */
export const MAX_JOURNAL_REASON_CHARS = 500;

const DAY_MS = 86_400_000;

/**
 * The journal's name for a job: the scan's name, unless a broken file's name holds characters a
 * journal line cannot (a newline, an escape), which become U+FFFD. The same job always gets the
 * same name, so its changes are compared run after run.
 */
export function journalJob(job: string): string {
  const name = job.replace(new RegExp(NOT_IN_JOB.source, "g"), "\uFFFD");
  return name.length === 0 ? "\uFFFD" : firstChars(name, MAX_JOURNAL_JOB_CHARS);
}

/**
 * When a job entered its current status as far as its files tell (not when the checker noticed):
 * an alerting status since it alerts, ok/flaky/failed at the beat, late at the due time, running
 * at the run's start; else `now`. Never before the job's previous entry, never after `now`, so the
 * journal of one job reads in order however the files' clocks disagree.
 */
export function changeTime(state: JobState, previous: JournalEntry | undefined, now: Date): Date {
  let at: Date | null;
  if (state.alerting) at = state.alertingSince ?? state.lastBeatAt;
  else if (state.status === "ok" || state.status === "flaky" || state.status === "failed") at = state.lastBeatAt;
  else if (state.status === "late") at = state.dueAt;
  else if (state.status === "running") at = state.heartbeat?.started_at !== undefined ? new Date(state.heartbeat.started_at) : state.lastBeatAt;
  else at = null;
  let ms = at === null || Number.isNaN(at.getTime()) ? now.getTime() : at.getTime();
  ms = Math.min(ms, now.getTime());
  if (previous) ms = Math.max(ms, Date.parse(previous.at));
  return new Date(ms);
}

/**
 * One entry per job whose status differs from its latest entry (`from: null` for a job the journal
 * has never seen). Jobs the journal knows but the states do not (retired, gone) get none.
 * `reason` gives the text to record (the CLI redacts tokens); it is cut to one bounded line here.
 */
export function journalChanges(
  states: readonly JobState[],
  latest: ReadonlyMap<string, JournalEntry>,
  now: Date,
  reason: (state: JobState) => string = (state) => state.reason,
): JournalEntry[] {
  const changes: JournalEntry[] = [];
  for (const state of states) {
    const job = journalJob(state.job);
    const previous = latest.get(job);
    if (previous?.to === state.status) continue;
    changes.push({
      at: isoTime(changeTime(state, previous, now)),
      job,
      from: previous?.to ?? null,
      to: state.status,
      reason: plainLine(reason(state), MAX_JOURNAL_REASON_CHARS),
    });
  }
  // A folder or crontab line that alerted and left the scan has recovered (the folder is back or
  // was retired, the line fixed): said once, so the brief does not call it down for ever. A job's
  // heartbeat file that left gets no line (it is "heartbeat file removed", or retired).
  let names: Set<string> | undefined;
  for (const [job, entry] of latest) {
    if (!isPseudoJob(job) || !ALERTING_STATUSES.has(entry.to)) continue;
    names ??= new Set(states.map((state) => journalJob(state.job)));
    if (names.has(job)) continue;
    const at = Math.max(now.getTime(), Date.parse(entry.at));
    changes.push({ at: isoTime(new Date(at)), job, from: entry.to, to: "ok", reason: LEFT_SCAN_REASON });
  }
  return changes;
}

/** Why a folder or crontab line that alerted is `ok` in the journal once it left the scan. */
export const LEFT_SCAN_REASON = "no longer alerting: the folder or line is fine again, or no longer watched";

/** A line as the journal stores it. */
const journalLine = (entry: JournalEntry) => `${JSON.stringify({ at: entry.at, job: entry.job, from: entry.from, to: entry.to, reason: entry.reason })}\n`;

/** What one pass over the journal learns: each job's latest entry, and whether to trim. */
interface JournalSummary {
  /** Per job, its latest entry, the index of its line and the line's size. */
  latest: Map<string, { entry: JournalEntry; line: number; bytes: number }>;
  skippedLines: number;
  /** The oldest entry that is not its job's latest: what a trim could drop. */
  oldestDroppableMs: number;
  /** Bytes of the lines younger than the keep horizon, but for each job's latest. */
  recentBytes: number;
  endsWithNewline: boolean;
}

const emptySummary = (): JournalSummary => ({ latest: new Map(), skippedLines: 0, oldestDroppableMs: Number.POSITIVE_INFINITY, recentBytes: 0, endsWithNewline: true });

async function summarize(handle: FileHandle, size: number, horizonMs: number): Promise<JournalSummary> {
  const summary = emptySummary();
  let index = 0;
  for await (const { text, bytes } of journalLines(handle, 0, size)) {
    const line = index++;
    if (text !== null && text.trim() === "") continue;
    const entry = text === null ? null : parseJournalLine(text);
    if (!entry) {
      summary.skippedLines++;
      continue;
    }
    const ms = Date.parse(entry.at);
    if (ms >= horizonMs) summary.recentBytes += bytes;
    const replaced = summary.latest.get(entry.job);
    if (replaced) summary.oldestDroppableMs = Math.min(summary.oldestDroppableMs, Date.parse(replaced.entry.at));
    summary.latest.set(entry.job, { entry, line, bytes });
  }
  // Counted apart: they are kept whatever their age.
  for (const { entry, bytes } of summary.latest.values()) if (Date.parse(entry.at) >= horizonMs) summary.recentBytes -= bytes;
  if (size > 0) {
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    summary.endsWithNewline = last[0] === 0x0a;
  }
  return summary;
}

/**
 * The trimmed journal, line by line: every job's latest entry, and the entries younger than the
 * horizon, the oldest of those left out as long as the rest would not fit in `maxBytes`; then the
 * new entries. Invalid lines are left out. Read from the open handle, never held whole.
 */
async function* trimmedLines(
  handle: FileHandle,
  size: number,
  summary: JournalSummary,
  horizonMs: number,
  maxBytes: number,
  appended: readonly JournalEntry[],
): AsyncGenerator<string> {
  const latestLines = new Set<number>();
  let latestBytes = 0;
  for (const { line, bytes } of summary.latest.values()) {
    latestLines.add(line);
    latestBytes += bytes;
  }
  const budget = maxBytes - latestBytes - appended.reduce((sum, e) => sum + Buffer.byteLength(journalLine(e)), 0);
  let recentLeft = summary.recentBytes; // bytes of the recent lines (not latest) from this one on
  let batch = "";
  let index = 0;
  for await (const { text, bytes } of journalLines(handle, 0, size)) {
    const line = index++;
    const entry = text === null ? null : parseJournalLine(text);
    if (!entry) continue;
    if (!latestLines.has(line)) {
      if (Date.parse(entry.at) < horizonMs) continue;
      const fits = recentLeft <= budget;
      recentLeft -= bytes;
      if (!fits) continue;
    }
    // Written as the checker writes it: a line a person or another tool wrote (a time with an
    // offset, unknown fields) may come out a few bytes longer; the next run trims the rest.
    batch += journalLine(entry);
    if (batch.length >= CHUNK_BYTES) {
      yield batch;
      batch = "";
    }
  }
  yield batch + appended.map(journalLine).join("");
}

export interface UpdateJournalOptions {
  now: Date;
  /** The text to record for a state (default its reason); cut to one line of 500 characters. */
  reason?: (state: JobState) => string;
  /** The journal's cap: past it, it is trimmed to fit (default 16 MiB). */
  maxBytes?: number;
  /** The file calls of the rewrite (tests inject failures). */
  fs?: AtomicFs;
  /**
   * Apply `keptAlerting` with the journal as the memory: a declared job the journal has alerting
   * that now waits for a first run stays alerting, so no recovery is recorded. For a check whose
   * forge did not sync (none, or unreachable): the forge's memory did not say.
   */
  keepAlerting?: boolean;
}

export interface JournalUpdate {
  /** The entries added, one per change of a job's status. */
  appended: JournalEntry[];
  /** Whether the journal was rewritten (trimmed) rather than appended to. */
  rewritten: boolean;
  /** The journal's size before this update. */
  bytesBefore: number;
  /** Whether it was over `maxBytes` (the caller says so). */
  overCap: boolean;
  /** Lines that were not valid entries (left out of the rewrite). */
  skippedLines: number;
}

/** Appends in one write(2), O_APPEND: readers and other appenders never see half a line. */
const APPEND_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;

async function appendLines(path: string, text: string): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(path, APPEND_FLAGS, 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ELOOP") throw new LastbeatError("E_SYMLINK", `refusing to write the journal ${path}: it is a symbolic link`);
    throw new LastbeatError("E_WRITE", `cannot write the journal ${path}: ${errnoText(error)}`, { cause: error });
  }
  try {
    if (!(await handle.stat()).isFile()) throw new LastbeatError("E_WRITE", `refusing to write the journal ${path}: it is not a regular file`);
    const data = Buffer.from(text);
    const { bytesWritten } = await handle.write(data, 0, data.length);
    if (bytesWritten !== data.length) throw new LastbeatError("E_WRITE", `cannot write the journal ${path}: wrote ${bytesWritten} of ${data.length} bytes`);
  } catch (error) {
    if (error instanceof LastbeatError) throw error;
    throw new LastbeatError("E_WRITE", `cannot write the journal ${path}: ${errnoText(error)}`, { cause: error });
  } finally {
    await handle.close().catch(() => {});
  }
}

/**
 * A new journal is created whole (temp file, then linked into place): on a full disk no empty
 * journal is left behind. False when one appeared meanwhile, to be appended to instead.
 */
async function createJournal(path: string, text: string, fs: AtomicFs | undefined): Promise<boolean> {
  try {
    await writeFileAtomically(path, text, 0o644, fs, { exclusive: true });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw new LastbeatError("E_WRITE", `cannot write the journal ${path}: ${errnoText(error)}`, { cause: error });
  }
}

/**
 * Records the changes of the jobs' statuses since the journal's latest entries: appends one line
 * per change, or, when the oldest entry is more than 91 days old, the file is over `maxBytes` or
 * holds lines that are not entries, rewrites it atomically with the entries of the last 90 days,
 * each job's latest entry and the new ones. Callers serialize updates (the checker's lock).
 * Throws a LastbeatError naming the file when it cannot be read or written.
 */
export async function updateJournal(path: string, states: readonly JobState[], options: UpdateJournalOptions): Promise<JournalUpdate> {
  const { now } = options;
  const maxBytes = options.maxBytes ?? JOURNAL_MAX_BYTES;
  const horizonMs = now.getTime() - JOURNAL_KEEP_DAYS * DAY_MS;
  const opened = await openJournal(path);
  try {
    const size = opened?.size ?? 0;
    const summary = opened
      ? await summarize(opened.handle, size, horizonMs).catch((error: unknown) => {
          throw new LastbeatError("E_READ", `cannot read the journal ${path}: ${errnoText(error)}`, { cause: error });
        })
      : emptySummary();
    const latest = new Map([...summary.latest].map(([job, { entry }]) => [job, entry]));
    const judged = options.keepAlerting
      ? states.map((state) => {
          const last = latest.get(state.job);
          return last !== undefined && ALERTING_STATUSES.has(last.to) ? keptAlerting(state, last.to, null) : state;
        })
      : states;
    const appended = journalChanges(judged, latest, now, options.reason);
    const update: JournalUpdate = { appended, rewritten: false, bytesBefore: size, overCap: size > maxBytes, skippedLines: summary.skippedLines };
    const trim = summary.oldestDroppableMs < now.getTime() - TRIM_AFTER_DAYS * DAY_MS || update.overCap || summary.skippedLines > 0;
    if (opened && trim) {
      try {
        await writeFileAtomically(path, trimmedLines(opened.handle, size, summary, horizonMs, maxBytes, appended), 0o644, options.fs);
      } catch (error) {
        throw new LastbeatError("E_WRITE", `cannot rewrite the journal ${path}: ${errnoText(error)}`, { cause: error });
      }
      update.rewritten = true;
    } else if (appended.length > 0) {
      // A last line cut short (a crash mid-write, a hand edit) must not swallow the first new one.
      const text = (summary.endsWithNewline ? "" : "\n") + appended.map(journalLine).join("");
      if (opened || !(await createJournal(path, text, options.fs))) await appendLines(path, text);
    }
    return update;
  } finally {
    await opened?.handle.close().catch(() => {});
  }
}

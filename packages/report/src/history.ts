import type { JobState, JobStatus } from "lastbeat";
import { ALERTING_STATUSES, keptAlerting, withVanished, type JournalEntry } from "lastbeat/internal";

/*
 * What the checker's journal (`heartbeat-checker.journal`, one line per status change of a job)
 * says about the past: the episodes during which a job alerted, the moments it turned flaky, and
 * the share of the last 30 days it spent not alerting. Pure: (entries, now) → facts; the CLI reads
 * the file, the brief words and escapes the result.
 */

/** How the brief's journal(s) read: where each was looked for, and what came of it. */
export interface JournalSource {
  /** The journal's path: beside the checker's own heartbeat. */
  path: string;
  /** `absent`: no such file (the checker has not journaled there yet); `unreadable`: see `error`. */
  state: "read" | "absent" | "unreadable";
  /** Only the end of a huge journal was read. */
  truncated: boolean;
  /** Lines that were not a journal entry and were left out. */
  skippedLines: number;
  /** Bytes read. */
  bytes: number;
  /** Why an `unreadable` journal could not be read, on one line naming the file. */
  error?: string;
}

/** Every journal the brief read, merged. */
export interface Journal {
  sources: JournalSource[];
  /** Every entry of every journal read, in any order (each job's are ordered by `at` here). */
  entries: readonly JournalEntry[];
}

/** A stretch of time during which a job alerted. */
export interface Episode {
  job: string;
  /** The status that began it (`failed`, `stale`…). */
  status: JobStatus;
  /** The journal's reason for that status: text from files, untrusted. */
  reason: string;
  /** Null when it began before the first line the journal has of the job. */
  startedAt: Date | null;
  /** Null while the job is still alerting (as far as the journal tells, up to now). */
  endedAt: Date | null;
  /** The status it ended in (`ok`, `paused`…), null while it goes on. */
  endedIn: JobStatus | null;
  /** Later alerting statuses within the same episode, e.g. a failed job that then went stale. */
  changes: { at: Date; status: JobStatus }[];
}

/** A job that turned flaky: failing, but below its alert threshold. */
export interface FlakyTurn {
  job: string;
  at: Date;
  reason: string;
}

/** What happened in a window, from the journal. */
export interface History {
  from: Date;
  to: Date;
  /** Episodes that began or ended in the window, each job's oldest first. */
  episodes: Episode[];
  flaky: FlakyTurn[];
}

/** A job's share of time not alerting over a span the journal covers. */
export interface Availability {
  /** 0…1 */
  ratio: number;
  /** The start of the span: 30 days ago, or later when the journal knows the job only since then. */
  from: Date;
  to: Date;
  /** Whether the span is the whole 30 days. */
  whole: boolean;
  /** Seconds spent alerting within the span. */
  downSeconds: number;
}

/** The span availability is computed over. */
export const AVAILABILITY_DAYS = 30;
const DAY_MS = 86_400_000;

interface Change {
  at: Date;
  from: JobStatus | null;
  to: JobStatus;
  reason: string;
}

/**
 * Each job's changes in time order, ignoring lines dated after `now` (a brief as of an earlier
 * time sees only what had happened by then) and lines whose time cannot be read.
 */
export function changesByJob(entries: readonly JournalEntry[], now: Date): JournalChanges {
  const byJob = new Map<string, Change[]>();
  for (const entry of entries) {
    const at = new Date(entry.at);
    if (Number.isNaN(at.getTime()) || at.getTime() > now.getTime()) continue;
    let list = byJob.get(entry.job);
    if (list === undefined) byJob.set(entry.job, (list = []));
    list.push({ at, from: entry.from, to: entry.to, reason: entry.reason });
  }
  // The journal is chronological, but several journals (or a clock step) may interleave: sort,
  // keeping the file order of lines with the same time.
  for (const list of byJob.values()) list.sort((a, b) => a.at.getTime() - b.at.getTime());
  return byJob;
}

/** The journal grouped by `changesByJob`: a brief groups it once for all it says. */
export type JournalChanges = Map<string, Change[]>;

/** The earliest time any line of the journal speaks of: before it, the journal knows nothing. */
export function journalStart(byJob: ReadonlyMap<string, readonly Change[]>): Date | null {
  let first: Date | null = null;
  for (const list of byJob.values()) {
    const at = list[0]?.at;
    if (at !== undefined && (first === null || at < first)) first = at;
  }
  return first;
}

const alerting = (status: JobStatus | null): boolean => status !== null && ALERTING_STATUSES.has(status);

/** A job's alerting episodes, oldest first, from its changes (time-ordered). */
export function episodesOf(job: string, changes: readonly Change[]): Episode[] {
  const episodes: Episode[] = [];
  let open: Episode | null = null;
  const first = changes[0];
  // The first line says what the job was before it: alerting since a time the journal does not hold.
  if (first !== undefined && alerting(first.from)) {
    open = { job, status: first.from!, reason: "", startedAt: null, endedAt: null, endedIn: null, changes: [] };
  }
  for (const change of changes) {
    if (alerting(change.to)) {
      if (open === null) {
        open = { job, status: change.to, reason: change.reason, startedAt: change.at, endedAt: null, endedIn: null, changes: [] };
      } else if (change.to !== (open.changes.at(-1)?.status ?? open.status)) {
        open.changes.push({ at: change.at, status: change.to });
      }
    } else if (open !== null) {
      episodes.push({ ...open, endedAt: change.at, endedIn: change.to });
      open = null;
    }
  }
  if (open !== null) episodes.push(open);
  return episodes;
}

/** Every job's alerting episodes up to `now`, per job, oldest first. */
export function allEpisodes(entries: readonly JournalEntry[], now: Date): Episode[] {
  return [...changesByJob(entries, now)].flatMap(([job, changes]) => episodesOf(job, changes));
}

/** The entries grouped (`changesByJob`), unless they already are. */
const grouped = (entries: readonly JournalEntry[] | JournalChanges, now: Date): JournalChanges =>
  entries instanceof Map ? entries : changesByJob(entries as readonly JournalEntry[], now);

/** Within (from, to]: an event exactly at the window's start belonged to the previous brief. */
function within(at: Date | null, from: Date, to: Date): boolean {
  return at !== null && at.getTime() > from.getTime() && at.getTime() <= to.getTime();
}

/**
 * What happened in (from, now]: each alerting episode that began or ended in it (an episode that
 * began earlier and goes on is in "Needs attention" already), and each turn to flaky.
 */
export function historySince(entries: readonly JournalEntry[] | JournalChanges, from: Date, now: Date): History {
  const episodes: Episode[] = [];
  const flaky: FlakyTurn[] = [];
  for (const [job, changes] of grouped(entries, now)) {
    episodes.push(...episodesOf(job, changes).filter((e) => within(e.startedAt, from, now) || within(e.endedAt, from, now)));
    for (const c of changes) if (c.to === "flaky" && c.from !== "flaky" && within(c.at, from, now)) flaky.push({ job, at: c.at, reason: c.reason });
  }
  return { from, to: now, episodes, flaky };
}

/**
 * Each job's availability over the last 30 days: the share of the time the journal covers in
 * which the job was not alerting. The journal covers a job from the window's start when it holds
 * a line of the job from before it; else from the job's first line when that line says the job
 * was new (`from: null`); else from the journal's own first line, since no change of the job was
 * journaled between it and the job's first line. Jobs the journal never names are absent.
 */
export function availabilities(entries: readonly JournalEntry[] | JournalChanges, now: Date): Map<string, Availability> {
  const byJob = grouped(entries, now);
  const start = journalStart(byJob);
  const windowStart = new Date(now.getTime() - AVAILABILITY_DAYS * DAY_MS);
  const out = new Map<string, Availability>();
  for (const [job, changes] of byJob) {
    const first = changes[0];
    if (first === undefined || start === null) continue;
    const known = first.from === null ? first.at : start;
    const from = known > windowStart ? known : windowStart;
    const span = now.getTime() - from.getTime();
    if (span <= 0) continue;
    const down = downMs(changes, from, now);
    out.set(job, { ratio: 1 - down / span, from, to: now, whole: from.getTime() === windowStart.getTime(), downSeconds: down / 1000 });
  }
  return out;
}

/** Milliseconds within [from, to] during which the job was alerting. */
function downMs(changes: readonly Change[], from: Date, to: Date): number {
  // The status at `from`: the last change at or before it, else what the first change came from.
  let status: JobStatus | null = changes[0]?.from ?? null;
  let since = from.getTime();
  let down = 0;
  for (const change of changes) {
    const at = change.at.getTime();
    if (at > since) {
      if (alerting(status)) down += Math.min(at, to.getTime()) - since;
      since = at;
    }
    status = change.to;
  }
  if (alerting(status) && to.getTime() > since) down += to.getTime() - since;
  return down;
}

/**
 * `99.3%`: rounded down to a tenth, so a job that was down at all never reads `100%`; `100%` only
 * when it never alerted.
 */
export function formatAvailability(ratio: number): string {
  if (ratio >= 1) return "100%";
  const tenths = Math.floor(Math.max(0, ratio) * 1000 + 1e-9);
  return `${(Math.min(tenths, 999) / 10).toFixed(1)}%`;
}

/**
 * The jobs the journal says are alerting now (their latest change is into an alerting status),
 * each with since when: the start of its current episode, null when that began before the journal.
 */
export function alertingInJournal(entries: readonly JournalEntry[] | JournalChanges, now: Date): Map<string, Date | null> {
  return new Map([...alertingNow(entries, now)].map(([job, { since }]) => [job, since]));
}

/** alertingInJournal, with each job's latest (alerting) status. */
function alertingNow(entries: readonly JournalEntry[] | JournalChanges, now: Date): Map<string, { status: string; since: Date | null }> {
  const out = new Map<string, { status: string; since: Date | null }>();
  for (const [job, changes] of grouped(entries, now)) {
    const last = changes.at(-1);
    if (last === undefined || !alerting(last.to)) continue;
    out.set(job, { status: last.to, since: episodesOf(job, changes).at(-1)?.startedAt ?? null });
  }
  return out;
}

/**
 * `states` as `lastbeat check` sees them: plus a `missing` state ("heartbeat file removed") for
 * each job the journal says is alerting whose heartbeat file is gone and which is not retired
 * (`retired` is asked only about those), by the rule check applies to its open issues
 * (`withVanished`); and a declared job the journal says is alerting that now waits for a first
 * run stays `missing` (`keptAlerting`). The journal is the brief's memory of what was alerting.
 */
export function withVanishedFromJournal(
  states: readonly JobState[],
  journal: Journal | undefined,
  now: Date,
  retired: (job: string) => boolean,
): JobState[] {
  const entries = journal?.entries ?? [];
  if (entries.length === 0) return [...states];
  const remembered = alertingNow(entries, now);
  const kept = states.map((state) => {
    const memory = remembered.get(state.job);
    return memory === undefined ? state : keptAlerting(state, memory.status, memory.since);
  });
  return withVanished(kept, new Map([...remembered].map(([job, { since }]) => [job, since])), retired);
}

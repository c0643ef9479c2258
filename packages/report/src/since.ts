import type { JobStatus } from "lastbeat";
import { JOURNAL_FILE } from "lastbeat/internal";
import { plainLine } from "lastbeat/text";
import { changesByJob, historySince, journalStart, type Episode, type FlakyTurn, type History, type Journal, type JournalChanges, type JournalSource } from "./history.js";
import { MAX_CELL_CHARS } from "./panel.js";
import { formatAt, formatDowntime, formatSpan, formatWhen } from "./time.js";

/*
 * The brief's "Since the last brief" section: what the checker's journal says happened in the
 * window (24 hours unless `--since`), in words, as plain unescaped text each format escapes.
 */

/** The window of the section unless the caller says otherwise: one brief a day. */
export const DEFAULT_SINCE_SECONDS = 86_400;
/** Longest reason quoted from the journal, in characters. */
const MAX_REASON_CHARS = 200;

/** One line of the section: a job, then what happened to it. Both plain, unescaped. */
export interface SinceEvent {
  job: string;
  /** `failed at 02:00, recovered at 03:10 — down 1h 10m (last run failed: disk full)` */
  text: string;
}

export interface SinceLastBrief {
  from: Date;
  to: Date;
  /** `Since yesterday 06:30 (1 day), from the checker's journal.` */
  window: string;
  /** One line saying the journal is absent, unreadable, cut or had lines skipped; null when whole. */
  journalNote: string | null;
  /** Each journal looked for, and how it read. */
  journals: JournalSource[];
  /** Whether any journal was read: without one, the section cannot say that nothing happened. */
  known: boolean;
  events: SinceEvent[];
  /** The facts the events are worded from, for the JSON brief. */
  history: History;
}

/** `changes`: the journal's entries already grouped (`changesByJob`), when the caller has them. */
export function sinceLastBrief(journal: Journal | undefined, sinceSeconds: number, now: Date, tz: string, changes?: JournalChanges): SinceLastBrief {
  const from = new Date(now.getTime() - sinceSeconds * 1000);
  const history = historySince(changes ?? journal?.entries ?? [], from, now);
  const events = [
    ...history.episodes.map((episode) => ({ job: episode.job, at: eventTime(episode, from), event: episodeEvent(episode, now, tz) })),
    ...history.flaky.map((turn) => ({ job: turn.job, at: turn.at, event: flakyEvent(turn, now, tz) })),
  ];
  // Per job, jobs in the order of their first event, each job's events in time order.
  const firstAt = new Map<string, number>();
  for (const { job, at } of events) firstAt.set(job, Math.min(firstAt.get(job) ?? Infinity, at.getTime()));
  const order = (a: number | string, b: number | string) => (a < b ? -1 : a > b ? 1 : 0);
  events.sort((a, b) => order(firstAt.get(a.job)!, firstAt.get(b.job)!) || order(a.job, b.job) || order(a.at.getTime(), b.at.getTime()));
  return {
    from,
    to: now,
    window: `Since ${formatWhen(from, now, tz)} (${formatSpan(sinceSeconds)}), from the checker's journal.`,
    journalNote: journalNote(journal, now, tz, changes),
    journals: journal?.sources ?? [],
    known: (journal?.sources ?? []).some((source) => source.state === "read"),
    events: events.map((e) => e.event),
    history,
  };
}

/** When an episode shows up in the window: its start, or its end when it began before. */
function eventTime(episode: Episode, from: Date): Date {
  return episode.startedAt !== null && episode.startedAt > from ? episode.startedAt : episode.endedAt!;
}

/** `failed`, `went stale`…: a job entering an alerting status, as a verb. */
const ENTERED: Partial<Record<JobStatus, string>> = {
  failed: "failed",
  stale: "went stale",
  overrun: "overran",
  missing: "went missing",
  invalid: "went invalid",
};

const entered = (status: JobStatus) => ENTERED[status] ?? `became ${status}`;

/** A job name from a journal line, on one line; `?` when nothing printable is left of it. */
function jobName(job: string): string {
  return plainLine(job, MAX_CELL_CHARS) || "?";
}

function reasonOf(reason: string): string {
  const text = plainLine(reason, MAX_REASON_CHARS);
  return text === "" ? "" : ` (${text})`;
}

/**
 * `failed at 02:00, recovered at 03:10 — down 1h 10m (last run failed: disk full)`, or while it
 * goes on `failed at 02:00 — down since 02:00, 4h 30m so far (…)`.
 */
export function episodeEvent(episode: Episode, now: Date, tz: string): SinceEvent {
  const parts: string[] = [];
  const { startedAt, endedAt } = episode;
  parts.push(startedAt === null ? `${entered(episode.status)} before the journal begins` : `${entered(episode.status)} ${formatAt(startedAt, now, tz)}`);
  for (const change of episode.changes) parts.push(`${entered(change.status)} ${formatAt(change.at, now, tz)}`);
  let text = parts.join(", then ");
  if (endedAt !== null) {
    const ended = episode.endedIn === "paused" ? "was paused" : "recovered";
    text += `, ${ended} ${formatAt(endedAt, now, tz)}`;
    if (startedAt !== null) text += ` — down ${formatDowntime((endedAt.getTime() - startedAt.getTime()) / 1000)}`;
  } else if (startedAt !== null) {
    const since = formatAt(startedAt, now, tz).replace(/^(at|on) /, "");
    text += ` — down since ${since}, ${formatDowntime((now.getTime() - startedAt.getTime()) / 1000)} so far`;
  }
  return { job: jobName(episode.job), text: text + reasonOf(episode.reason) };
}

/** `turned flaky at 03:00 (1 of 3 failures before alerting)` */
export function flakyEvent(turn: FlakyTurn, now: Date, tz: string): SinceEvent {
  return { job: jobName(turn.job), text: `turned flaky ${formatAt(turn.at, now, tz)}${reasonOf(turn.reason)}` };
}

/** The line the section shows when nothing happened in its window (and a journal was read). */
export const NOTHING_HAPPENED = "Nothing happened: no job started or stopped alerting, and none turned flaky.";

/**
 * One line about what the journal could not tell: absent (the checker has not run here yet),
 * unreadable, only its end read, or lines skipped. Null when every journal read whole.
 * `changes`: the entries already grouped, as for sinceLastBrief.
 */
export function journalNote(journal: Journal | undefined, now: Date, tz: string, changes?: JournalChanges): string | null {
  const sources = journal?.sources ?? [];
  const read = sources.filter((s) => s.state === "read");
  const notes: string[] = [];
  if (read.length === 0 && !sources.some((s) => s.state === "unreadable")) {
    notes.push(`No journal yet: lastbeat check keeps ${JOURNAL_FILE} beside its own heartbeat, so what happened before now is unknown.`);
  }
  for (const source of sources.filter((s) => s.state === "unreadable")) {
    notes.push(`${source.error ?? `cannot read the journal ${source.path}`}: what happened before now is unknown.`);
  }
  if (read.some((s) => s.truncated)) {
    const first = journalStart(changes ?? changesByJob(journal?.entries ?? [], now));
    const back = first === null ? "" : `, back to ${formatWhen(first, now, tz)}`;
    notes.push(`The journal is too large to read whole: only its end was read${back}.`);
  }
  const skipped = read.reduce((n, s) => n + s.skippedLines, 0);
  if (skipped > 0) notes.push(`${skipped} ${skipped === 1 ? "line" : "lines"} of the journal could not be read and ${skipped === 1 ? "was" : "were"} skipped.`);
  return notes.length === 0 ? null : plainLine(notes.join(" "));
}


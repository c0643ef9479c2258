import { evaluate, type JobState, type JobStatus } from "lastbeat";
import { CHECKER_JOB, isCheckerJob, jsonWithJobs, sortJobStates, summarizeJobs } from "lastbeat/internal";
import { fencedBlock, inlineMarkdown, lastLines, plainLine } from "lastbeat/text";
import type { Tail } from "lastbeat/text";
import { jobJson, MAX_CELL_CHARS, noteFor, panelRows, renderPanelMarkdown, renderPanelText } from "./panel.js";
import type { PanelRow, RenderOptions } from "./panel.js";
import { availabilities, changesByJob, type Availability, type Journal } from "./history.js";
import { DEFAULT_SINCE_SECONDS, NOTHING_HAPPENED, sinceLastBrief, type SinceLastBrief } from "./since.js";
import { statusLabel } from "./status.js";
import { formatAgo, formatClock, formatLongDate, formatSpan, formatWhen } from "./time.js";

export interface BriefOptions extends RenderOptions {
  /**
   * Whether the brief watches the checker's own heartbeat (default true). When it does, a brief
   * without `heartbeat-checker` treats the checker as `missing`: nobody would be alerted.
   */
  checker?: boolean;
  /** Cron lines that run no lastbeat (from `--crontabs`): a short section, never an alert by itself. */
  unmonitored?: readonly UnmonitoredLine[];
  /** How far back "Since the last brief" looks, in seconds (default one day). */
  sinceSeconds?: number;
}

/** A cron line that runs no lastbeat. */
export interface UnmonitoredLine {
  /** `/etc/cron.d/php:9` */
  where: string;
  /** As written: `09,39 * * * *`, `@daily`. */
  schedule: string;
  user: string | null;
  command: string;
}

/** What the checker's own heartbeat says about whether anyone is being alerted. */
export interface CheckerFreshness {
  status: JobStatus;
  alerting: boolean;
  /** `✓ ok — last ran 4 minutes ago (every 15 minutes)`, plain text. */
  text: string;
}

/** Lines of a job's output tail shown in the brief. */
const MAX_TAIL_LINES = 20;
/** Longest note or line of facts about an alerting job, in characters. */
const MAX_LINE_CHARS = 300;

/** One alerting job as every format of the brief shows it: plain (unescaped) text, computed once. */
export interface BriefAlert {
  job: string;
  status: JobStatus;
  /** `✗ failed` */
  statusLabel: string;
  /** Why it alerts, in words: the panel's note, on one line. */
  note: string;
  /** `last beat today 04:03 (5 hours ago)`, `every 1 day`, `alerting since today 04:03`. */
  facts: string[];
  file: string | null;
  /** The end of the job's output, when it left any. */
  tail: Tail | null;
  /** `Output (last 20 lines)` or `Output (end)`. */
  tailCaption: string;
}

/** Everything a brief shows, computed once; each format only lays it out. */
export interface Brief {
  now: Date;
  tz: string;
  /** `Wednesday 8 April 2026` in the reader's zone. */
  date: string;
  /** `07:00` in the reader's zone. */
  time: string;
  /** Worst first, including a `missing` checker the brief added. */
  states: JobState[];
  /** Built on first use (see buildBrief). */
  readonly rows: PanelRow[];
  /** `7 jobs: 5 ok, 1 late, 1 stale` */
  summary: string;
  counts: Partial<Record<JobStatus, number>>;
  /** Built on first use (see buildBrief). */
  readonly alerts: BriefAlert[];
  checker: CheckerFreshness | null;
  /** What the checker's journal says happened in the window before `now`. */
  since: SinceLastBrief;
  /** Each job's availability over 30 days, by job name, for the jobs the journal names. */
  availability: ReadonlyMap<string, Availability>;
  unmonitored: readonly UnmonitoredLine[];
}

export function buildBrief(input: readonly JobState[], options: BriefOptions): Brief {
  const tz = options.tz ?? "UTC";
  const watchChecker = options.checker ?? true;
  const withChecker = watchChecker && !input.some(isChecker) ? [...input, missingChecker(options.now)] : input;
  const states = sortJobStates(withChecker);
  const counts: Partial<Record<JobStatus, number>> = {};
  for (const state of states) counts[state.status] = (counts[state.status] ?? 0) + 1;
  // Sorted worst first, so with several checkers (one per host on a shared mount) the worst speaks.
  const checkerState = watchChecker ? states.find(isChecker) : undefined;
  // The journal grouped once, for the panel's availability column, its JSON and the section.
  const changes = changesByJob(options.journal?.entries ?? [], options.now);
  const availability = availabilities(changes, options.now);
  const { now } = options;
  let rows: PanelRow[] | undefined;
  let alerts: BriefAlert[] | undefined;
  return {
    now: options.now,
    tz,
    date: formatLongDate(options.now, tz),
    time: formatClock(options.now, tz),
    states,
    // The panel's cells and the alerts' sentences are built on first use: the JSON brief needs
    // neither, and for a fleet of 10,000 jobs they are most of what rendering costs.
    get rows() {
      return (rows ??= panelRows(states, { now, tz, availability }));
    },
    summary: summarizeJobs(states),
    counts,
    get alerts() {
      return (alerts ??= states.filter((state) => state.alerting).map((state) => briefAlert(state, now, tz)));
    },
    checker: checkerState ? checkerFreshness(checkerState, options.now) : null,
    availability,
    since: sinceLastBrief(options.journal, options.sinceSeconds ?? DEFAULT_SINCE_SECONDS, options.now, tz, changes),
    unmonitored: options.unmonitored ?? [],
  };
}

const isChecker = (state: JobState): boolean => isCheckerJob(state.job);

function missingChecker(now: Date): JobState {
  return { ...evaluate(undefined, undefined, now, { job: CHECKER_JOB }), reason: "lastbeat check never ran here, so nobody is alerted" };
}

function checkerFreshness(state: JobState, now: Date): CheckerFreshness {
  const ran = state.lastBeatAt ? `last ran ${formatAgo(state.lastBeatAt, now)}` : "";
  const every = state.intervalSeconds ? ` (every ${formatSpan(state.intervalSeconds)})` : "";
  let detail: string;
  switch (state.status) {
    case "ok":
    case "late":
    case "running":
      detail = `${ran}${every}`;
      break;
    case "stale":
    case "overrun":
      detail = `${ran}${every}: alert issues are not being opened or closed — check the cron entry that runs lastbeat check`;
      break;
    case "failed":
      detail = `${ran}${every} but failed${failure(state)}; alert issues may be out of date`;
      break;
    case "missing":
      detail = `no ${CHECKER_JOB}.last: lastbeat check has never run against these heartbeats, so nobody is alerted`;
      break;
    default:
      detail = state.reason;
  }
  return { status: state.status, alerting: state.alerting, text: `${statusLabel(state.status)} — ${plainLine(detail, MAX_LINE_CHARS)}` };
}

/** ` (forge 502)` or ` (exit code 3)`, from the failed beat. */
function failure(state: JobState): string {
  const hb = state.heartbeat;
  if (hb?.message !== undefined) return ` (${hb.message})`;
  return hb?.exit_code !== undefined ? ` (exit code ${hb.exit_code})` : "";
}

function briefAlert(state: JobState, now: Date, tz: string): BriefAlert {
  const facts: string[] = [];
  facts.push(state.lastBeatAt ? `last beat ${formatWhen(state.lastBeatAt, now, tz)} (${formatAgo(state.lastBeatAt, now)})` : "never beat");
  if (state.intervalSeconds) facts.push(`every ${formatSpan(state.intervalSeconds)}`);
  if (state.alertingSince) facts.push(`alerting since ${formatWhen(state.alertingSince, now, tz)}`);
  const output = state.heartbeat?.output_tail;
  const tail = output === undefined || output.trim() === "" ? null : lastLines(output, { maxLines: MAX_TAIL_LINES });
  return {
    job: state.job,
    status: state.status,
    statusLabel: statusLabel(state.status),
    note: plainLine(noteFor(state, now, tz), MAX_LINE_CHARS),
    facts,
    file: state.file,
    tail,
    tailCaption: tail?.cut ? `Output (last ${MAX_TAIL_LINES} lines)` : "Output (end)",
  };
}

/** The facts on one line, with the file (the HTML page shows the file apart, as code). */
function factsLine(alert: BriefAlert): string {
  return [...alert.facts, ...(alert.file ? [`file ${alert.file}`] : [])].join(" · ");
}

/** The brief in GitHub-flavoured markdown: for a mail, a wiki page, or an issue. */
export function renderBriefMarkdown(brief: Brief): string {
  const out: string[] = [];
  out.push(`# Morning brief — ${brief.date}`);
  out.push(`**${brief.summary}** · as of ${brief.time} ${inlineMarkdown(brief.tz)}`);
  if (brief.checker) out.push(`**Checker:** ${inlineMarkdown(brief.checker.text)}`);
  if (brief.alerts.length === 0) {
    out.push("## Needs attention", "Nothing: no job is alerting.");
  } else {
    out.push(`## Needs attention (${brief.alerts.length})`);
    for (const alert of brief.alerts) {
      out.push(`### ${alert.statusLabel}: ${inlineMarkdown(alert.job)}`);
      out.push(`${inlineMarkdown(alert.note)}  \n${inlineMarkdown(factsLine(alert))}`);
      if (alert.tail) out.push(`${alert.tailCaption}:`, fencedBlock(alert.tail.text));
    }
  }
  out.push(`## ${SINCE_TITLE}`, ...sinceLines(brief.since).map((line) => inlineMarkdown(line)));
  if (brief.since.events.length > 0) {
    out.push(brief.since.events.map((event) => `- **${inlineMarkdown(event.job)}** ${inlineMarkdown(event.text)}`).join("\n"));
  }
  out.push(renderPanelMarkdown(brief.rows).trimEnd());
  if (brief.unmonitored.length > 0) {
    out.push(`## Unmonitored cron lines (${brief.unmonitored.length})`, UNMONITORED_NOTE);
    out.push(brief.unmonitored.map((line) => `- ${inlineMarkdown(unmonitoredText(line))}`).join("\n"));
  }
  return `${out.join("\n\n")}\n`;
}

/** The brief as plain text with aligned columns, for a terminal or a plain-text mail. */
export function renderBriefText(brief: Brief): string {
  const out: string[] = [];
  const title = `Morning brief — ${brief.date}, ${brief.time} ${plainLine(brief.tz)}`;
  out.push(`${title}\n${"=".repeat(Array.from(title).length)}`);
  const head = [brief.summary];
  if (brief.checker) head.push(`Checker: ${brief.checker.text}`);
  out.push(head.join("\n"));
  if (brief.alerts.length === 0) {
    out.push("Needs attention: nothing, no job is alerting.");
  } else {
    const items = brief.alerts.map((alert) => {
      const lines = [
        `${alert.statusLabel}: ${plainLine(alert.job, MAX_CELL_CHARS)}`,
        `  ${alert.note}`,
        `  ${plainLine(factsLine(alert), MAX_LINE_CHARS)}`,
      ];
      if (alert.tail) {
        lines.push(`  ${alert.tailCaption}:`, ...alert.tail.text.split("\n").map((line) => `    │ ${line}`.trimEnd()));
      }
      return lines.join("\n");
    });
    out.push(`Needs attention (${brief.alerts.length})\n\n${items.join("\n\n")}`);
  }
  const since = [SINCE_TITLE, ...sinceLines(brief.since).map((line) => plainLine(line))];
  if (brief.since.events.length > 0) {
    since.push("", ...brief.since.events.map((event) => `  ${plainLine(event.job)}: ${plainLine(event.text)}`));
  }
  out.push(since.join("\n"));
  out.push(`Heartbeat panel\n\n${renderPanelText(brief.rows).trimEnd()}`);
  if (brief.unmonitored.length > 0) {
    const lines = brief.unmonitored.map((line) => `  ${unmonitoredText(line)}`);
    out.push(`Unmonitored cron lines (${brief.unmonitored.length})\n${UNMONITORED_NOTE}\n\n${lines.join("\n")}`);
  }
  return `${out.join("\n\n")}\n`;
}

/** The brief as JSON: the `status --json` job objects plus the summary and the checker. */
export function briefJson(brief: Brief) {
  return { ...briefJsonHead(brief), jobs: brief.states.map(briefJobJson(brief)) };
}

/** The JSON brief with `jobs: []` where its jobs go (the key keeps its place when filled). */
function briefJsonHead(brief: Brief) {
  return {
    now: brief.now.toISOString(),
    tz: brief.tz,
    title: `Morning brief — ${brief.date}`,
    summary: brief.summary,
    counts: brief.counts,
    alerting: brief.states.filter((state) => state.alerting).length,
    checker: brief.checker && { status: brief.checker.status, alerting: brief.checker.alerting, text: brief.checker.text },
    since_last_brief: sinceJson(brief.since),
    jobs: [] as never[],
    ...(brief.unmonitored.length > 0 && { unmonitored: brief.unmonitored }),
  };
}

const briefJobJson = (brief: Brief) => (state: JobState) => jobJson(state, brief.now, brief.tz, brief.availability.get(state.job));

/** renderBriefJson's text in pieces, its jobs 100 at a time (jsonWithJobs). */
export function briefJsonParts(brief: Brief): Generator<string> {
  return jsonWithJobs(briefJsonHead(brief), brief.states, briefJobJson(brief));
}

export function renderBriefJson(brief: Brief): string {
  return [...briefJsonParts(brief)].join("");
}

export const SINCE_TITLE = "Since the last brief";

/**
 * The section's lines before its list: the window, what the journal could not tell, and that
 * nothing happened when a journal was read and it names no event.
 */
export function sinceLines(since: SinceLastBrief): string[] {
  const lines = [since.window];
  if (since.journalNote !== null) lines.push(since.journalNote);
  if (since.known && since.events.length === 0) lines.push(NOTHING_HAPPENED);
  return lines;
}

/** "Since the last brief" in the JSON brief: the window, the journal's state, the events in words and as facts. */
function sinceJson(since: SinceLastBrief) {
  const iso = (at: Date | null) => at?.toISOString() ?? null;
  return {
    from: iso(since.from),
    to: iso(since.to),
    journal_note: since.journalNote,
    journals: since.journals.map((source) => ({
      path: source.path,
      state: source.state,
      truncated: source.truncated,
      skipped_lines: source.skippedLines,
      bytes: source.bytes,
      ...(source.error !== undefined && { error: source.error }),
    })),
    events: since.events,
    episodes: since.history.episodes.map((episode) => ({
      job: episode.job,
      status: episode.status,
      reason: episode.reason,
      started_at: iso(episode.startedAt),
      ended_at: iso(episode.endedAt),
      ended_in: episode.endedIn,
      down_s:
        episode.startedAt === null ? null : Math.round(((episode.endedAt ?? since.to).getTime() - episode.startedAt.getTime()) / 1000),
      changes: episode.changes.map((change) => ({ at: iso(change.at), status: change.status })),
    })),
    flaky: since.history.flaky.map((turn) => ({ job: turn.job, at: iso(turn.at), reason: turn.reason })),
  };
}

export const UNMONITORED_NOTE = "Not watched: nothing alerts when they fail. Wrap them in `lastbeat run <job> --`.";

/** `/etc/cron.d/php:9 · 09,39 * * * * · root: /usr/lib/php/sessionclean`, on one line. */
export function unmonitoredText(line: UnmonitoredLine): string {
  return plainLine(`${line.where} · ${line.schedule} · ${line.user === null ? "" : `${line.user}: `}${line.command}`, 200);
}

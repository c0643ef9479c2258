import { CHECKER_JOB, sortJobStates, summarizeJobs } from "lastbeat/internal";
import type { JobState, JobStatus } from "lastbeat";
import { escapeMarkdownInline, lastLines, markdownFence, oneLine, MAX_TAIL_LINES } from "./escape.js";
import { jobJson, noteFor, panelRows, renderPanelMarkdown, renderPanelText } from "./panel.js";
import type { PanelRow, RenderOptions } from "./panel.js";
import { statusLabel } from "./status.js";
import { formatAgo, formatClock, formatLongDate, formatSpan, formatWhen } from "./time.js";

export interface BriefOptions extends RenderOptions {
  /**
   * Whether the brief watches the checker's own heartbeat (default true). When it does, a brief
   * without `heartbeat-checker` treats the checker as `missing`: nobody would be alerted.
   */
  checker?: boolean;
}

/** What the checker's own heartbeat says about whether anyone is being alerted. */
export interface CheckerFreshness {
  status: JobStatus;
  alerting: boolean;
  /** `✓ ok — last ran 4 minutes ago (every 15 minutes)`, plain text. */
  text: string;
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
  rows: PanelRow[];
  /** `7 jobs: 5 ok, 1 late, 1 stale` */
  summary: string;
  counts: Partial<Record<JobStatus, number>>;
  alerting: JobState[];
  checker: CheckerFreshness | null;
}

export function buildBrief(input: readonly JobState[], options: BriefOptions): Brief {
  const tz = options.tz ?? "UTC";
  const watchChecker = options.checker ?? true;
  const withChecker = watchChecker && !input.some(isChecker) ? [...input, missingChecker()] : input;
  const states = sortJobStates(withChecker);
  const counts: Partial<Record<JobStatus, number>> = {};
  for (const state of states) counts[state.status] = (counts[state.status] ?? 0) + 1;
  // Sorted worst first, so with several checkers (one per host on a shared mount) the worst speaks.
  const checkerState = watchChecker ? states.find(isChecker) : undefined;
  return {
    now: options.now,
    tz,
    date: formatLongDate(options.now, tz),
    time: formatClock(options.now, tz),
    states,
    rows: panelRows(states, { now: options.now, tz }),
    summary: summarizeJobs(states),
    counts,
    alerting: states.filter((state) => state.alerting),
    checker: checkerState ? checkerFreshness(checkerState, options.now) : null,
  };
}

/** `heartbeat-checker`, or `heartbeat-checker@<dir>` when several folders hold one. */
function isChecker(state: JobState): boolean {
  return state.job === CHECKER_JOB || state.job.startsWith(`${CHECKER_JOB}@`);
}

function missingChecker(): JobState {
  return {
    job: CHECKER_JOB,
    status: "missing",
    alerting: true,
    reason: "lastbeat check never ran here, so nobody is alerted",
    lastBeatAt: null,
    lastOkAt: null,
    ageSeconds: null,
    intervalSeconds: null,
    ratio: null,
    dueAt: null,
    graceEndAt: null,
    alertingSince: null,
    file: null,
    heartbeat: null,
  };
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
  return { status: state.status, alerting: state.alerting, text: `${statusLabel(state.status)} — ${oneLine(detail, 300)}` };
}

/** ` (forge 502)` or ` (exit code 3)`, from the failed beat. */
function failure(state: JobState): string {
  const hb = state.heartbeat;
  if (hb?.message !== undefined) return ` (${hb.message})`;
  return hb?.exit_code !== undefined ? ` (exit code ${hb.exit_code})` : "";
}

/** One line of facts about an alerting job: when it last beat, its rhythm, since when it alerts. */
function alertFacts(state: JobState, brief: Brief): string {
  const facts: string[] = [];
  if (state.lastBeatAt) {
    facts.push(`last beat ${formatWhen(state.lastBeatAt, brief.now, brief.tz)} (${formatAgo(state.lastBeatAt, brief.now)})`);
  } else {
    facts.push("never beat");
  }
  if (state.intervalSeconds) facts.push(`every ${formatSpan(state.intervalSeconds)}`);
  if (state.alertingSince) facts.push(`alerting since ${formatWhen(state.alertingSince, brief.now, brief.tz)}`);
  if (state.file) facts.push(`file ${state.file}`);
  return facts.join(" · ");
}

function tailOf(state: JobState): { text: string; cut: boolean } | null {
  const tail = state.heartbeat?.output_tail;
  if (tail === undefined || tail.trim() === "") return null;
  return lastLines(tail);
}

function tailCaption(cut: boolean): string {
  return cut ? `Output (last ${MAX_TAIL_LINES} lines):` : "Output (end):";
}

/** The brief in GitHub-flavoured markdown: for a mail, a wiki page, or an issue. */
export function renderBriefMarkdown(brief: Brief): string {
  const out: string[] = [];
  out.push(`# Morning brief — ${brief.date}`);
  out.push(`**${brief.summary}** · as of ${brief.time} ${escapeMarkdownInline(brief.tz)}`);
  if (brief.checker) out.push(`**Checker:** ${escapeMarkdownInline(brief.checker.text)}`);
  if (brief.alerting.length === 0) {
    out.push("## Needs attention", "Nothing: no job is alerting.");
  } else {
    out.push(`## Needs attention (${brief.alerting.length})`);
    for (const state of brief.alerting) {
      out.push(`### ${statusLabel(state.status)}: ${escapeMarkdownInline(state.job)}`);
      out.push(`${escapeMarkdownInline(noteFor(state, brief.now, brief.tz))}  \n${escapeMarkdownInline(alertFacts(state, brief))}`);
      const tail = tailOf(state);
      if (tail) out.push(tailCaption(tail.cut), markdownFence(tail.text));
    }
  }
  out.push(renderPanelMarkdown(brief.rows).trimEnd());
  return `${out.join("\n\n")}\n`;
}

/** The brief as plain text with aligned columns, for a terminal or a plain-text mail. */
export function renderBriefText(brief: Brief): string {
  const out: string[] = [];
  const title = `Morning brief — ${brief.date}, ${brief.time} ${oneLine(brief.tz)}`;
  out.push(`${title}\n${"=".repeat(Array.from(title).length)}`);
  const head = [brief.summary];
  if (brief.checker) head.push(`Checker: ${brief.checker.text}`);
  out.push(head.join("\n"));
  if (brief.alerting.length === 0) {
    out.push("Needs attention: nothing, no job is alerting.");
  } else {
    const items = brief.alerting.map((state) => {
      const lines = [
        `${statusLabel(state.status)}: ${oneLine(state.job)}`,
        `  ${oneLine(noteFor(state, brief.now, brief.tz), 300)}`,
        `  ${oneLine(alertFacts(state, brief), 300)}`,
      ];
      const tail = tailOf(state);
      if (tail) {
        lines.push(`  ${tailCaption(tail.cut)}`, ...tail.text.split("\n").map((line) => `    │ ${line}`.trimEnd()));
      }
      return lines.join("\n");
    });
    out.push(`Needs attention (${brief.alerting.length})\n\n${items.join("\n\n")}`);
  }
  out.push(`Heartbeat panel\n\n${renderPanelText(brief.rows).trimEnd()}`);
  return `${out.join("\n\n")}\n`;
}

/** The brief as JSON: the `status --json` job objects plus the summary and the checker. */
export function briefJson(brief: Brief) {
  return {
    now: brief.now.toISOString(),
    tz: brief.tz,
    title: `Morning brief — ${brief.date}`,
    summary: brief.summary,
    counts: brief.counts,
    alerting: brief.alerting.length,
    checker: brief.checker && { status: brief.checker.status, alerting: brief.checker.alerting, text: brief.checker.text },
    jobs: brief.states.map((state) => jobJson(state, brief.now, brief.tz)),
  };
}

export function renderBriefJson(brief: Brief): string {
  return `${JSON.stringify(briefJson(brief), null, 2)}\n`;
}

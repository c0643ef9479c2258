import type { JobState } from "lastbeat";
import { formatDuration, sortJobStates } from "lastbeat/internal";
import { fencedBlock, firstChars, inlineMarkdown, plainLine } from "lastbeat/text";
import { jobKey, markerFor, shortHash, stateLine, type AlertSnapshot, type IssueKey } from "./markers.js";

/*
 * Issue bodies are a pure function of the alerting job states: no "checked at" clock, so an
 * unchanged situation renders the same body and the checker writes nothing (docs/forges.md).
 * Comments may mention durations up to `now`: they are written once, never compared.
 *
 * Everything fits every forge's limits: a title of at most 255 characters (Gitea's; GitHub's is
 * 256), a body or comment of at most 65,536 (GitHub's, kept on Gitea and the file forge too). A table that would not fit is
 * cut worst-first with "…and N more (by status: …)".
 */

export const TITLE_PREFIX = "[heartbeat-checker]";
/** GitHub allows 256; Gitea and Forgejo 255. */
export const MAX_TITLE_CHARS = 255;
export const MAX_BODY_CHARS = 65_536;
export const MAX_COMMENT_CHARS = 65_536;
const MAX_TITLE_JOBS = 5;
/** Room kept for the "…and N more" line and the note after it. */
const CUT_RESERVE = 400;

export interface RenderedIssue {
  title: string;
  body: string;
  /**
   * What a reader acts on (the alerting jobs, each status and reason), hashed: when it is the
   * one stored in the open issue, nothing is written even if times or output moved on.
   */
  fingerprint: string;
}

/** `2025-01-31 06:00 UTC`: exact to the minute, the same on every run. */
export function formatTime(date: Date | null): string {
  if (!date) return "never";
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** Job → status and alerting-since, for the alerting jobs, worst first. */
export function snapshotOf(states: readonly JobState[]): AlertSnapshot {
  const snapshot: AlertSnapshot = new Map();
  for (const s of sortJobStates(states.filter((s) => s.alerting))) {
    snapshot.set(s.job, { status: s.status, since: s.alertingSince ? s.alertingSince.toISOString() : null });
  }
  return snapshot;
}

/** The fingerprint of `RenderedIssue`: the set of alerting jobs, their statuses and reasons. */
export function fingerprintOf(alerting: readonly JobState[]): string {
  const lines = alerting.map((s) => `${s.job}\u0000${s.status}\u0000${s.reason}`).sort();
  return shortHash(lines.join("\n"));
}

/** `web-1: ` in front of what a title says, so each checker's issues are told apart at a glance. */
function titleOf(scope: string, text: string): string {
  return cutTitle(`${TITLE_PREFIX} ${scope}: ${text}`);
}

/** The title prefix of a scope's issues: how an issue whose marker a person removed is recognised. */
export function titlePrefix(scope: string): string {
  return `${TITLE_PREFIX} ${scope}: `;
}

function countOf(n: number): string {
  return `${grouped(n)} ${n === 1 ? "job" : "jobs"}`;
}

/** `1,880`: the same on every machine, whatever its locale. */
function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

function namesForTitle(alerting: readonly JobState[]): string {
  const names = alerting.slice(0, MAX_TITLE_JOBS).map((s) => plainLine(s.job));
  const more = alerting.length > MAX_TITLE_JOBS ? ` and ${grouped(alerting.length - MAX_TITLE_JOBS)} more` : "";
  return `${names.join(", ")}${more}`;
}

export function renderRollupIssue(states: readonly JobState[], scope: string): RenderedIssue {
  const alerting = sortJobStates(states.filter((s) => s.alerting));
  const count = countOf(alerting.length);
  const title = titleOf(scope, `${count} alerting: ${namesForTitle(alerting)}`);
  const intro =
    `**${count} alerting.** This issue is kept up to date by \`lastbeat check\` (scope \`${scope}\`): ` +
    "it is edited when the set of alerting jobs, a status or a reason changes, and closed when every job has recovered.";
  return { title, body: renderBody("rollup", scope, alerting, intro), fingerprint: fingerprintOf(alerting) };
}

export function renderJobIssue(state: JobState, scope: string): RenderedIssue {
  const title = titleOf(scope, `${plainLine(state.job)} is ${state.status}`);
  const intro =
    `**${inlineMarkdown(state.job, 200)} is ${state.status}.** This issue is kept up to date by \`lastbeat check\` (scope \`${scope}\`) ` +
    "and closed when the job recovers.";
  return { title, body: renderBody(jobKey(state.job), scope, [state], intro), fingerprint: fingerprintOf([state]) };
}

/**
 * Per-job mode past `--max-new-issues`: the jobs that started alerting beyond the cap share one
 * issue, so a mass outage is one notification and a bounded number of writes.
 */
export function renderStormIssue(states: readonly JobState[], scope: string, maxNewIssues: number): RenderedIssue {
  const alerting = sortJobStates(states.filter((s) => s.alerting));
  const count = countOf(alerting.length);
  const title = titleOf(scope, `storm: ${count} alerting: ${namesForTitle(alerting)}`);
  const intro =
    `**${count} alerting in a storm.** More jobs started alerting at once than \`--max-new-issues\` (${maxNewIssues}) ` +
    `allows new issues in one run, so these share one issue (scope \`${scope}\`). It is edited when the set of jobs, ` +
    "a status or a reason changes, and closed when every job listed here has recovered.";
  return { title, body: renderBody("storm", scope, alerting, intro), fingerprint: fingerprintOf(alerting) };
}

function renderBody(key: IssueKey, scope: string, alerting: readonly JobState[], intro: string): string {
  const fingerprint = fingerprintOf(alerting);
  const snapshot = snapshotOf(alerting);
  // The hash is fixed-length, so the line's length is known before the rest is rendered.
  const draft = stateLine({ snapshot, fingerprint, bodyHash: "0".repeat(16) });
  const headLength = markerFor(key, scope).length + draft.length + 2;
  const rest = renderVisible(alerting, intro, MAX_BODY_CHARS - headLength - 1);
  const line = stateLine({ snapshot, fingerprint, bodyHash: visibleHash(rest) });
  return `${markerFor(key, scope)}\n${line}\n${rest}`;
}

/** The hash of what follows the state line, as the checker wrote it: a person's edit changes it. */
export function visibleHash(rest: string): string {
  return shortHash(rest.replace(/\r\n/g, "\n").trimEnd());
}

/** The part of a body after the state line. */
export function visiblePart(body: string): string {
  const lines = body.replace(/\r\n/g, "\n").split("\n");
  const index = lines.findIndex((l) => l.trim().startsWith("<!-- lastbeat:state "));
  return index < 0 ? body : lines.slice(index + 1).join("\n");
}

function renderVisible(alerting: readonly JobState[], intro: string, budget: number): string {
  const head = `\n${intro}\n\n`;
  const tableText = table(alerting, budget - head.length - 1);
  let body = `${head}${tableText}`;
  for (const d of alerting.map(detail)) {
    if (d === null) continue;
    if (body.length + d.length + 2 + 80 > budget) {
      body += "\n\n_Further output left out: the issue would be too long._";
      break;
    }
    body += `\n\n${d}`;
  }
  return `${body}\n`;
}

const TABLE_HEAD = ["| Job | Status | Last beat | Alerting since | Interval | Why |", "| --- | --- | --- | --- | --- | --- |"].join("\n");

/** The table, worst first, cut to `budget` characters with a count of what was left out. */
function table(alerting: readonly JobState[], budget: number): string {
  let text = TABLE_HEAD;
  let shown = 0;
  for (const s of alerting) {
    const row = `\n| ${[
      inlineMarkdown(s.job, 128),
      `**${s.status}**`,
      formatTime(s.lastBeatAt),
      s.alertingSince ? formatTime(s.alertingSince) : "—",
      s.intervalSeconds ? formatDuration(s.intervalSeconds) : "—",
      inlineMarkdown(s.reason, 240) || "—",
    ].join(" | ")} |`;
    if (text.length + row.length > budget - CUT_RESERVE) break;
    text += row;
    shown += 1;
  }
  const left = alerting.slice(shown);
  if (left.length === 0) return text;
  return `${text}\n\n${moreLine(left.map((s) => s.status))}`;
}

/** `…and 1,880 more (by status: 1,200 stale, 680 failed)`, statuses in the order given (worst first). */
function moreLine(statuses: readonly string[]): string {
  return `…and ${grouped(statuses.length)} more (by status: ${byStatus(statuses)})`;
}

/** `1,200 stale, 680 failed`, statuses in the order given. */
function byStatus(statuses: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const status of statuses) counts.set(status, (counts.get(status) ?? 0) + 1);
  return [...counts].map(([status, n]) => `${grouped(n)} ${inlineMarkdown(status, 20)}`).join(", ");
}

/** The message and the end of the output, in a fence, when the heartbeat has any. */
function detail(state: JobState): string | null {
  const hb = state.heartbeat;
  if (!hb) return null;
  const parts: string[] = [];
  // The table's "Why" already holds a short one-line message (`last run failed: <message>`).
  const messageShown = hb.message !== undefined && hb.message.length <= 200 && !/[\r\n]/.test(hb.message) && state.reason.includes(hb.message);
  if (hb.message && !messageShown) parts.push(`**${inlineMarkdown(state.job, 128)}** — message:\n\n${fencedBlock(hb.message, { maxChars: 1024, maxLines: 10 })}`);
  if (hb.output_tail) {
    parts.push(`**${inlineMarkdown(state.job, 128)}** — end of output:\n\n${fencedBlock(hb.output_tail, { maxChars: 2000, maxLines: 40 })}`);
  }
  return parts.length > 0 ? parts.join("\n\n") : null;
}

function cutTitle(title: string): string {
  return firstChars(title, MAX_TITLE_CHARS);
}

/** Why a job left the alert: it beats again, or a person retired it on purpose. */
export interface Departures {
  /** Jobs retired with `lastbeat retire` since they last alerted. */
  retired: ReadonlySet<string>;
}

/** How a recovered job is described: what it is now and how long it was alerting. */
function recoveryLine(job: string, since: string | null, current: JobState | undefined, now: Date, departures: Departures): string {
  const name = `**${inlineMarkdown(job, 128)}**`;
  const sinceDate = since ? new Date(since) : null;
  // The beat that ended the alert, when there is one; else this check.
  const recoveredAt =
    current?.lastBeatAt && sinceDate && current.lastBeatAt > sinceDate && current.lastBeatAt <= now ? current.lastBeatAt : now;
  const how = departures.retired.has(job)
    ? "was retired on purpose (`lastbeat retire`)"
    : current
      ? `is now ${current.status}`
      : "is no longer listed";
  const span = sinceDate
    ? ` after alerting for ${formatDuration(Math.max(0, (recoveredAt.getTime() - sinceDate.getTime()) / 1000))} (since ${formatTime(sinceDate)})`
    : "";
  return `- ${name} ${how}${span}`;
}

/** Lines joined under `head`, cut to the comment limit with a count of what was left out. */
function boundedList(head: string, lines: readonly string[]): string {
  let text = head;
  let shown = 0;
  for (const line of lines) {
    if (text.length + line.length + 1 > MAX_COMMENT_CHARS - CUT_RESERVE) break;
    text += `\n${line}`;
    shown += 1;
  }
  if (shown < lines.length) text += `\n\n…and ${grouped(lines.length - shown)} more`;
  return `${text}\n`;
}

/**
 * What the issue could not name: jobs it only counted (`+N` in its state marker) and jobs it kept
 * by hash whose heartbeat file then vanished (docs/forges.md, "Storms").
 */
export interface Unnamed {
  forgotten: number;
  unnamedGone: number;
}

/** `- 3 jobs whose names this issue did not keep disappeared …`, or nothing. */
function unnamedGoneLine(n: number): string[] {
  if (n === 0) return [];
  const them = n === 1 ? "it" : "them";
  return [
    `- ${countOf(n)} whose ${n === 1 ? "name" : "names"} this issue did not keep disappeared (heartbeat file removed): ` +
      `lastbeat cannot name ${them}, so it no longer watches ${them}; a job declared in the manifest is still reported as missing`,
  ];
}

/**
 * One comment per change of the alerting set or of a job's status. A job the issue did not
 * remember may have been one it could only count, so it is never said to have started alerting
 * then: those are counted, by status.
 */
export function renderChangeComment(
  previous: AlertSnapshot,
  next: AlertSnapshot,
  states: readonly JobState[],
  now: Date,
  departures: Departures = { retired: new Set() },
  unnamed: Unnamed = { forgotten: 0, unnamedGone: 0 },
): string {
  const byJob = new Map(states.map((s) => [s.job, s]));
  const lines: string[] = [];
  const unknown: string[] = [];
  for (const [job, { status }] of next) {
    const before = previous.get(job);
    if (!before && unnamed.forgotten > 0) unknown.push(status);
    else if (!before) lines.push(`- **${inlineMarkdown(job, 128)}** started alerting: ${status}`);
    else if (before.status !== status) lines.push(`- **${inlineMarkdown(job, 128)}** changed: ${inlineMarkdown(before.status, 20)} → ${status}`);
  }
  for (const [job, { since }] of previous) {
    if (!next.has(job)) lines.push(recoveryLine(job, since, byJob.get(job), now, departures));
  }
  // The counts first: a long list is cut at its end.
  const counts = unnamedGoneLine(unnamed.unnamedGone);
  if (lines.length === 0 && unknown.length === 0 && counts.length === 0 && unnamed.forgotten > 0) {
    // Nothing it can name changed: the change is among the jobs it could only count.
    counts.push(
      `- no job this issue could name changed: the change is among the ${grouped(unnamed.forgotten)} it could only count ` +
        `(${grouped(previous.size + unnamed.forgotten)} alerting before, ${grouped(next.size)} now; the issue lists them)`,
    );
  }
  if (unknown.length > 0) {
    counts.unshift(
      `- ${countOf(unknown.length)} alerting that this issue did not remember by name: it could only count ${grouped(unnamed.forgotten)} ` +
        `of its jobs, so these may have been alerting before (${byStatus(unknown)})`,
    );
  }
  return boundedList(`The alerting jobs changed (${countOf(next.size)} alerting now):\n`, [...counts, ...lines]);
}

/** The last word on an incident: what recovered and for how long it was alerting. */
export function renderCloseComment(
  previous: AlertSnapshot | null,
  states: readonly JobState[],
  now: Date,
  departures: Departures = { retired: new Set() },
  unnamed: Unnamed = { forgotten: 0, unnamedGone: 0 },
): string {
  const byJob = new Map(states.map((s) => [s.job, s]));
  // The counts first: a long list is cut at its end.
  const counts = unnamedGoneLine(unnamed.unnamedGone);
  if (unnamed.forgotten > 0) counts.unshift(`- ${countOf(unnamed.forgotten)} that this issue could only count, not name: none of them alerts now`);
  if ((!previous || previous.size === 0) && counts.length === 0) return "Every job has recovered; closing.\n";
  const named = previous ?? new Map<string, { since: string | null }>();
  const lines = [...counts, ...[...named].map(([job, { since }]) => recoveryLine(job, since, byJob.get(job), now, departures))];
  const one = named.size + unnamed.forgotten + unnamed.unnamedGone === 1;
  const allRetired = counts.length === 0 && [...named.keys()].every((job) => departures.retired.has(job));
  const what = allRetired
    ? one
      ? "The job was retired"
      : "Every job was retired"
    : unnamed.unnamedGone > 0
      ? "No job of this issue alerts any more"
      : one
        ? "The job has recovered"
        : "Every job has recovered";
  return boundedList(`${what}; closing.\n`, lines);
}

export function renderDuplicateComment(keep: number): string {
  return `Closing as a duplicate of #${keep}: lastbeat keeps the oldest open alert issue.\n`;
}

export function renderSupersededComment(mode: "rollup" | "per-job"): string {
  return mode === "rollup"
    ? "lastbeat check now keeps one rollup issue for all jobs; closing this per-job issue.\n"
    : "lastbeat check now keeps one issue per job; closing this rollup issue.\n";
}

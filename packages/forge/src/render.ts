import type { JobState } from "lastbeat";
import { formatDuration, sortJobStates } from "lastbeat/internal";
import { codeBlock, inlineText, titleText } from "./markdown.js";
import { jobKey, markerFor, stateLine, type AlertSnapshot } from "./markers.js";

/*
 * Issue bodies are a pure function of the alerting job states: no "checked at" clock, so an
 * unchanged situation renders the same body and the checker writes nothing (SPEC §6).
 * Comments may mention durations up to `now`: they are written once, never compared.
 */

export const TITLE_PREFIX = "[heartbeat-checker]";
/** GitHub refuses bodies over 65 536 characters; stay well below. */
const MAX_BODY_CHARS = 60_000;
const MAX_TITLE_JOBS = 5;

export interface RenderedIssue {
  title: string;
  body: string;
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

export function renderRollupIssue(states: readonly JobState[]): RenderedIssue {
  const alerting = sortJobStates(states.filter((s) => s.alerting));
  const count = `${alerting.length} ${alerting.length === 1 ? "job" : "jobs"}`;
  const names = alerting.slice(0, MAX_TITLE_JOBS).map((s) => titleText(s.job));
  const more = alerting.length > MAX_TITLE_JOBS ? ` and ${alerting.length - MAX_TITLE_JOBS} more` : "";
  const title = cutTitle(`${TITLE_PREFIX} ${count} alerting: ${names.join(", ")}${more}`);
  const intro =
    `**${count} alerting.** This issue is kept up to date by \`lastbeat check\`: ` +
    "it is edited when the set of alerting jobs changes and closed when every job has recovered.";
  return { title, body: renderBody("rollup", alerting, intro) };
}

export function renderJobIssue(state: JobState): RenderedIssue {
  const title = cutTitle(`${TITLE_PREFIX} ${titleText(state.job)} is ${state.status}`);
  const intro =
    `**${inlineText(state.job)} is ${state.status}.** This issue is kept up to date by \`lastbeat check\` ` +
    "and closed when the job recovers.";
  return { title, body: renderBody(jobKey(state.job), [state], intro) };
}

function renderBody(key: Parameters<typeof markerFor>[0], alerting: readonly JobState[], intro: string): string {
  const head = [markerFor(key), stateLine(snapshotOf(alerting)), "", intro, "", table(alerting)].join("\n");
  const details = alerting.map(detail).filter((d): d is string => d !== null);
  let body = head;
  for (const d of details) {
    if (body.length + d.length + 2 > MAX_BODY_CHARS) {
      body += "\n\n_Further output left out: the issue would be too long._";
      break;
    }
    body += `\n\n${d}`;
  }
  return `${body}\n`;
}

function table(alerting: readonly JobState[]): string {
  const rows = alerting.map((s) =>
    [
      inlineText(s.job, 128),
      `**${s.status}**`,
      formatTime(s.lastBeatAt),
      s.alertingSince ? formatTime(s.alertingSince) : "—",
      s.intervalSeconds ? formatDuration(s.intervalSeconds) : "—",
      inlineText(s.reason, 240) || "—",
    ].join(" | "),
  );
  return [
    "| Job | Status | Last beat | Alerting since | Interval | Why |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows.map((r) => `| ${r} |`),
  ].join("\n");
}

/** The message and the end of the output, in a fence, when the heartbeat has any. */
function detail(state: JobState): string | null {
  const hb = state.heartbeat;
  if (!hb) return null;
  const parts: string[] = [];
  // The table's "Why" already holds a short one-line message (`last run failed: <message>`).
  const messageShown = hb.message !== undefined && hb.message.length <= 200 && !/[\r\n]/.test(hb.message) && state.reason.includes(hb.message);
  if (hb.message && !messageShown) parts.push(`**${inlineText(state.job, 128)}** — message:\n\n${codeBlock(hb.message, { maxChars: 1024, maxLines: 10 })}`);
  if (hb.output_tail) {
    parts.push(`**${inlineText(state.job, 128)}** — end of output:\n\n${codeBlock(hb.output_tail, { maxChars: 2000, maxLines: 40 })}`);
  }
  return parts.length > 0 ? parts.join("\n\n") : null;
}

function cutTitle(title: string): string {
  return title.length <= 200 ? title : `${title.slice(0, 199)}…`;
}

/** How a recovered job is described: what it is now and how long it was alerting. */
function recoveryLine(job: string, since: string | null, current: JobState | undefined, now: Date): string {
  const name = `**${inlineText(job, 128)}**`;
  const sinceDate = since ? new Date(since) : null;
  // The beat that ended the alert, when there is one; else this check.
  const recoveredAt =
    current?.lastBeatAt && sinceDate && current.lastBeatAt > sinceDate && current.lastBeatAt <= now ? current.lastBeatAt : now;
  const how = current ? `is now ${current.status}` : "no longer reports (heartbeat removed)";
  const span = sinceDate
    ? ` after alerting for ${formatDuration(Math.max(0, (recoveredAt.getTime() - sinceDate.getTime()) / 1000))} (since ${formatTime(sinceDate)})`
    : "";
  return `- ${name} ${how}${span}`;
}

/** One comment per change of the alerting set or of a job's status. */
export function renderChangeComment(
  previous: AlertSnapshot,
  next: AlertSnapshot,
  states: readonly JobState[],
  now: Date,
): string {
  const byJob = new Map(states.map((s) => [s.job, s]));
  const lines: string[] = [];
  for (const [job, { status }] of next) {
    const before = previous.get(job);
    if (!before) lines.push(`- **${inlineText(job, 128)}** started alerting: ${status}`);
    else if (before.status !== status) lines.push(`- **${inlineText(job, 128)}** changed: ${inlineText(before.status, 20)} → ${status}`);
  }
  for (const [job, { since }] of previous) {
    if (!next.has(job)) lines.push(recoveryLine(job, since, byJob.get(job), now));
  }
  const count = `${next.size} ${next.size === 1 ? "job" : "jobs"}`;
  return `The alerting jobs changed (${count} alerting now):\n\n${lines.join("\n")}\n`;
}

/** The last word on an incident: what recovered and for how long it was alerting. */
export function renderCloseComment(previous: AlertSnapshot | null, states: readonly JobState[], now: Date): string {
  const byJob = new Map(states.map((s) => [s.job, s]));
  if (!previous || previous.size === 0) return "Every job has recovered; closing.\n";
  const lines = [...previous].map(([job, { since }]) => recoveryLine(job, since, byJob.get(job), now));
  const what = previous.size === 1 ? "The job has recovered" : "Every job has recovered";
  return `${what}; closing.\n\n${lines.join("\n")}\n`;
}

export function renderDuplicateComment(keep: number): string {
  return `Closing as a duplicate of #${keep}: lastbeat keeps the oldest open alert issue.\n`;
}

export function renderSupersededComment(mode: "rollup" | "per-job"): string {
  return mode === "rollup"
    ? "lastbeat check now keeps one rollup issue for all jobs; closing this per-job issue.\n"
    : "lastbeat check now keeps one issue per job; closing this rollup issue.\n";
}

import type { JobState } from "lastbeat";
import type { ForgeIssue } from "./forge.js";
import { jobKey, keyOfBody, snapshotOfBody, type AlertSnapshot, type IssueKey } from "./markers.js";
import {
  renderChangeComment,
  renderCloseComment,
  renderDuplicateComment,
  renderJobIssue,
  renderRollupIssue,
  renderSupersededComment,
  snapshotOf,
  type RenderedIssue,
} from "./render.js";

export type SyncMode = "rollup" | "per-job";

/**
 * What the checker will do to the forge. `issue: null` on a comment means "the issue the create
 * of the same key opens".
 */
export type PlannedAction =
  | { kind: "create"; key: IssueKey; title: string; body: string }
  | { kind: "update"; key: IssueKey; issue: number; title: string; body: string }
  | { kind: "comment"; key: IssueKey; issue: number; body: string }
  | { kind: "close"; key: IssueKey; issue: number; comment: string }
  | { kind: "close-duplicate"; key: IssueKey; issue: number; of: number; comment: string }
  | { kind: "none"; key: IssueKey | null; issue: number | null };

export interface PlanInput {
  mode: SyncMode;
  /** Every job state of this run; only the alerting ones make issues. */
  states: readonly JobState[];
  /** The open issues carrying our label, as listed from the forge. */
  issues: readonly ForgeIssue[];
  now: Date;
}

/**
 * The pure heart of `lastbeat check`: the forge's open issues and the job states in, the actions
 * that make the forge match out. Running it again on the result plans nothing but `none`.
 */
export function planSync(input: PlanInput): PlannedAction[] {
  const { mode, now } = input;
  const ours = groupByKey(input.issues);
  const actions: PlannedAction[] = [];

  // Several open issues with one marker (two checkers raced, or a person reopened an old one):
  // keep the oldest, close the others with a link to it.
  const kept = new Map<IssueKey, ForgeIssue>();
  for (const [key, issues] of ours) {
    const [oldest, ...newer] = issues;
    kept.set(key, oldest!);
    for (const dup of newer) {
      actions.push({ kind: "close-duplicate", key, issue: dup.number, of: oldest!.number, comment: renderDuplicateComment(oldest!.number) });
    }
  }

  // Issues of the other mode (the user switched --mode): close them.
  for (const [key, issue] of kept) {
    const otherMode = mode === "rollup" ? key !== "rollup" : key === "rollup";
    if (otherMode) {
      actions.push({ kind: "close", key, issue: issue.number, comment: renderSupersededComment(mode) });
      kept.delete(key);
    }
  }

  const states = carrySince(input.states, kept.values(), now);
  const desired = new Map<IssueKey, { rendered: RenderedIssue; snapshot: AlertSnapshot }>();
  const alerting = states.filter((s) => s.alerting);
  if (mode === "rollup") {
    if (alerting.length > 0) desired.set("rollup", { rendered: renderRollupIssue(alerting), snapshot: snapshotOf(alerting) });
  } else {
    for (const state of alerting) {
      desired.set(jobKey(state.job), { rendered: renderJobIssue(state), snapshot: snapshotOf([state]) });
    }
  }

  for (const [key, { rendered, snapshot }] of desired) {
    const issue = kept.get(key);
    if (!issue) {
      actions.push({ kind: "create", key, title: rendered.title, body: rendered.body });
      continue;
    }
    if (issue.title === rendered.title && normalise(issue.body) === normalise(rendered.body)) {
      actions.push({ kind: "none", key, issue: issue.number });
      continue;
    }
    // A body a person edited (or a new message) is restored silently; a comment is for a change
    // of the alerting set or of a status, and only when we know what it was before. The comment
    // goes first: if the edit then fails, the next run comments again (a duplicate) rather than
    // finding the body current and never saying what changed (a lost notification).
    const previous = snapshotOfBody(issue.body);
    if (previous && !sameStatuses(previous, snapshot)) {
      actions.push({ kind: "comment", key, issue: issue.number, body: renderChangeComment(previous, snapshot, states, now) });
    }
    actions.push({ kind: "update", key, issue: issue.number, title: rendered.title, body: rendered.body });
  }
  for (const [key, issue] of kept) {
    if (desired.has(key)) continue;
    actions.push({ kind: "close", key, issue: issue.number, comment: renderCloseComment(snapshotOfBody(issue.body), states, now) });
  }
  if (actions.length === 0) actions.push({ kind: "none", key: null, issue: null });
  return actions;
}

/**
 * "Alerting since" is when the job's incident began, not when its latest status did: a job that
 * went stale at 02:10 and then failed at 02:40 has been down since 02:10, and the closing comment
 * must say so. The start is carried forward from the open issue's state marker; a job whose
 * files say nothing about when it began (`missing`) starts when the checker first saw it.
 */
function carrySince(states: readonly JobState[], issues: Iterable<ForgeIssue>, now: Date): JobState[] {
  const previous = new Map<string, Date>();
  for (const issue of issues) {
    for (const [job, { since }] of snapshotOfBody(issue.body) ?? []) {
      const at = since === null ? NaN : Date.parse(since);
      if (Number.isFinite(at)) previous.set(job, new Date(at));
    }
  }
  return states.map((state) => {
    if (!state.alerting) return state;
    const before = previous.get(state.job);
    const current = state.alertingSince;
    const since = before && (!current || before.getTime() < current.getTime()) ? before : (current ?? now);
    return since === current ? state : { ...state, alertingSince: since };
  });
}

/** Our open issues by key, oldest first (creation time, then number). */
export function groupByKey(issues: readonly ForgeIssue[]): Map<IssueKey, ForgeIssue[]> {
  const groups = new Map<IssueKey, ForgeIssue[]>();
  for (const issue of issues) {
    const key = keyOfBody(issue.body);
    if (!key) continue;
    const list = groups.get(key) ?? [];
    list.push(issue);
    groups.set(key, list);
  }
  for (const list of groups.values()) list.sort(olderFirst);
  return groups;
}

function olderFirst(a: ForgeIssue, b: ForgeIssue): number {
  return Date.parse(a.createdAt) - Date.parse(b.createdAt) || a.number - b.number;
}

function sameStatuses(a: AlertSnapshot, b: AlertSnapshot): boolean {
  if (a.size !== b.size) return false;
  for (const [job, { status }] of a) if (b.get(job)?.status !== status) return false;
  return true;
}

/** Forges may hand a body back with CRLF line ends or without the final newline. */
function normalise(body: string): string {
  return body.replace(/\r\n/g, "\n").trimEnd();
}

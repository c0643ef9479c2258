import type { JobState } from "lastbeat";
import { REMOVED_REASON, sortJobStates, withVanished as withVanishedJobs } from "lastbeat/internal";
import type { ForgeIssue } from "./forge.js";
import { jobKey, markerOfBody, stateOfBody, type AlertSnapshot, type IssueKey } from "./markers.js";
import {
  renderChangeComment,
  renderCloseComment,
  renderDuplicateComment,
  renderJobIssue,
  renderRollupIssue,
  renderStormIssue,
  renderSupersededComment,
  snapshotOf,
  titlePrefix,
  visibleHash,
  visiblePart,
  type Departures,
  type RenderedIssue,
} from "./render.js";

export type SyncMode = "rollup" | "per-job";

/** Per-job mode: at most this many new issues a run; the rest share one storm issue. */
export const DEFAULT_MAX_NEW_ISSUES = 10;
/**
 * Writes one run may make: far under GitHub's secondary limits (80 content-creating requests a
 * minute, 500 an hour) at four runs an hour, and done in under a minute with GitHub's spacing of
 * writes. What does not fit is left for the next run, which plans again from the forge.
 */
export const DEFAULT_MAX_WRITES = 40;

/** Why a job alerts after its heartbeat file vanished (a reboot cleared the folder, a person deleted it). */
export { REMOVED_REASON };

/**
 * What the checker will do to the forge, in order. An update comes before the comment that
 * announces it, so a comment is never posted for an edit that could not be made.
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
  /** The checker's scope: only issues of this scope are read, edited or closed. */
  scope: string;
  /** Every job state of this run; only the alerting ones make issues. */
  states: readonly JobState[];
  /** The open issues carrying our label, as listed from the forge (every scope's). */
  issues: readonly ForgeIssue[];
  now: Date;
  /** Per-job mode: new issues a run may open before the rest go into the storm issue. */
  maxNewIssues?: number;
  /** Writes a run may make; the rest waits for the next run. */
  maxWrites?: number;
  /** Jobs retired on purpose: a vanished heartbeat of these is not `missing`. */
  retired?: ReadonlySet<string>;
}

export interface SyncPlan {
  actions: PlannedAction[];
  /** The job states the plan is for: the scan's, plus remembered jobs whose file vanished (`missing`). */
  states: JobState[];
  /** Writes left for the next run because this run's budget was spent. */
  deferredWrites: number;
}

/**
 * The pure heart of `lastbeat check`: the forge's open issues and the job states in, the actions
 * that make the forge match out. Running it again on the result plans nothing but `none`.
 */
export function planSync(input: PlanInput): SyncPlan {
  const { mode, now, scope } = input;
  const maxWrites = Math.max(1, input.maxWrites ?? DEFAULT_MAX_WRITES);
  const departures: Departures = { retired: input.retired ?? new Set() };
  const ours = ownIssues(input.issues, scope, new Set(input.states.map((s) => s.job)));
  const groups: Array<{ priority: number; actions: PlannedAction[] }> = [];
  const nones: PlannedAction[] = [];

  // Several open issues with one key (two checkers raced, or a person reopened an old one):
  // keep the oldest, close the others with a link to it.
  const kept = new Map<IssueKey, ForgeIssue>();
  for (const [key, issues] of ours) {
    const [oldest, ...newer] = issues;
    kept.set(key, oldest!);
    for (const dup of newer) {
      groups.push({
        priority: 3,
        actions: [{ kind: "close-duplicate", key, issue: dup.number, of: oldest!.number, comment: renderDuplicateComment(oldest!.number) }],
      });
    }
  }

  // The checker's memory: what its open issues say was alerting.
  const memory = new Map<string, { status: string; since: string | null }>();
  for (const issue of kept.values()) for (const [job, entry] of stateOfBody(issue.body)?.snapshot ?? []) memory.set(job, entry);
  const stormMembers = new Set(kept.has("storm") ? (stateOfBody(kept.get("storm")!.body)?.snapshot.keys() ?? []) : []);

  // Issues of the other mode (the user switched --mode): close them.
  for (const [key, issue] of kept) {
    const otherMode = mode === "rollup" ? key !== "rollup" : key === "rollup";
    if (otherMode) {
      groups.push({ priority: 3, actions: [{ kind: "close", key, issue: issue.number, comment: renderSupersededComment(mode) }] });
      kept.delete(key);
    }
  }

  const states = carrySince(withVanished(input.states, memory, departures.retired), memory, now);
  const alerting = states.filter((s) => s.alerting);
  const desired = new Map<IssueKey, { rendered: RenderedIssue; snapshot: AlertSnapshot }>();
  if (mode === "rollup") {
    if (alerting.length > 0) desired.set("rollup", { rendered: renderRollupIssue(alerting, scope), snapshot: snapshotOf(alerting) });
  } else {
    const maxNew = Math.max(0, Math.min(input.maxNewIssues ?? DEFAULT_MAX_NEW_ISSUES, maxWrites - 4));
    const storm: JobState[] = [];
    let opened = 0;
    // Worst first, so the jobs that get an issue of their own are the ones that matter most.
    for (const state of sortJobStates(alerting)) {
      const key = jobKey(state.job);
      if (kept.has(key)) {
        desired.set(key, { rendered: renderJobIssue(state, scope), snapshot: snapshotOf([state]) });
      } else if (stormMembers.has(state.job) || opened >= maxNew) {
        storm.push(state);
      } else {
        opened += 1;
        desired.set(key, { rendered: renderJobIssue(state, scope), snapshot: snapshotOf([state]) });
      }
    }
    if (storm.length > 0) {
      const maxNewIssues = input.maxNewIssues ?? DEFAULT_MAX_NEW_ISSUES;
      desired.set("storm", { rendered: renderStormIssue(storm, scope, maxNewIssues), snapshot: snapshotOf(storm) });
    }
  }

  for (const [key, { rendered, snapshot }] of desired) {
    const issue = kept.get(key);
    if (!issue) {
      // The shared issue first: in a storm it is the one that must not wait for the next run.
      groups.push({ priority: key.startsWith("job:") ? 1 : 0, actions: [{ kind: "create", key, title: rendered.title, body: rendered.body }] });
      continue;
    }
    const stored = stateOfBody(issue.body);
    const untouched =
      issue.title === rendered.title && stored?.bodyHash != null && stored.bodyHash === visibleHash(visiblePart(issue.body)) && sameMarker(issue.body, rendered.body);
    if (untouched && stored?.fingerprint === rendered.fingerprint) {
      nones.push({ kind: "none", key, issue: issue.number });
      continue;
    }
    const update: PlannedAction = { kind: "update", key, issue: issue.number, title: rendered.title, body: rendered.body };
    const previous = stored?.snapshot ?? null;
    if (previous && !sameStatuses(previous, snapshot)) {
      // A change of the alerting set or of a status: one comment, after the edit it announces.
      const comment = renderChangeComment(previous, snapshot, states, now, departures);
      groups.push({ priority: 2, actions: [update, { kind: "comment", key, issue: issue.number, body: comment }] });
    } else {
      // A new reason is edited in silently; so is a body or title a person changed.
      groups.push({ priority: stored?.fingerprint === rendered.fingerprint ? 5 : 2, actions: [update] });
    }
  }
  for (const [key, issue] of kept) {
    if (desired.has(key)) continue;
    groups.push({
      priority: 3,
      actions: [{ kind: "close", key, issue: issue.number, comment: renderCloseComment(stateOfBody(issue.body)?.snapshot ?? null, states, now, departures) }],
    });
  }

  // Spend the write budget by priority; the order within a priority is the order planned.
  const ordered = groups.map((g, i) => ({ ...g, i })).sort((a, b) => a.priority - b.priority || a.i - b.i);
  const actions: PlannedAction[] = [];
  let writes = 0;
  let deferredWrites = 0;
  for (const group of ordered) {
    const cost = group.actions.reduce((n, a) => n + writesOf(a), 0);
    if (writes + cost > maxWrites) {
      deferredWrites += cost;
      continue;
    }
    writes += cost;
    actions.push(...group.actions);
  }
  actions.push(...nones);
  if (actions.length === 0) actions.push({ kind: "none", key: null, issue: null });
  return { actions, states, deferredWrites };
}

/** Content-creating requests an action sends. */
export function writesOf(action: PlannedAction): number {
  switch (action.kind) {
    case "none":
      return 0;
    case "close":
    case "close-duplicate":
      return 2;
    default:
      return 1;
  }
}

/**
 * Disappearance is not recovery: a job the open issue says was alerting, whose heartbeat file is
 * gone and which nobody retired, stays alerting as `missing` until it beats again (the rule the
 * brief shares, `withVanished` in lastbeat/internal).
 */
function withVanished(
  states: readonly JobState[],
  memory: ReadonlyMap<string, { status: string; since: string | null }>,
  retired: ReadonlySet<string>,
): JobState[] {
  const remembered = new Map<string, Date | null>();
  for (const [job, { since }] of memory) remembered.set(job, since === null ? null : new Date(since));
  return withVanishedJobs(states, remembered, retired);
}

/**
 * "Alerting since" is when the job's incident began, not when its latest status did: a job that
 * went stale at 02:10 and then failed at 02:40 has been down since 02:10, and the closing comment
 * must say so. The start is carried forward from the open issue's state marker; a job whose
 * files say nothing about when it began (`missing`) starts when the checker first saw it.
 */
function carrySince(states: readonly JobState[], memory: ReadonlyMap<string, { since: string | null }>, now: Date): JobState[] {
  return states.map((state) => {
    if (!state.alerting) return state;
    const remembered = memory.get(state.job)?.since;
    const at = remembered ? Date.parse(remembered) : NaN;
    const before = Number.isFinite(at) ? new Date(at) : undefined;
    const current = state.alertingSince;
    const since = before && (!current || before.getTime() < current.getTime()) ? before : (current ?? now);
    return since === current ? state : { ...state, alertingSince: since };
  });
}

/**
 * The open issues that belong to this checker, by key, oldest first (creation time, then
 * number): issues whose marker names our scope; issues written before scopes existed whose
 * state names one of our jobs (adopted, and given our scope on the next edit); and issues of our
 * label whose marker a person removed but whose title still starts with our scope's prefix.
 */
export function ownIssues(issues: readonly ForgeIssue[], scope: string, jobs: ReadonlySet<string>): Map<IssueKey, ForgeIssue[]> {
  const groups = new Map<IssueKey, ForgeIssue[]>();
  for (const issue of issues) {
    const key = ownKey(issue, scope, jobs);
    if (!key) continue;
    const list = groups.get(key) ?? [];
    list.push(issue);
    groups.set(key, list);
  }
  for (const list of groups.values()) list.sort(olderFirst);
  return groups;
}

function ownKey(issue: ForgeIssue, scope: string, jobs: ReadonlySet<string>): IssueKey | null {
  const marker = markerOfBody(issue.body);
  if (marker) {
    if (marker.scope === scope) return marker.key;
    if (marker.scope !== null) return null;
    const remembered = [...(stateOfBody(issue.body)?.snapshot.keys() ?? [])];
    return remembered.some((job) => jobs.has(job)) ? marker.key : null;
  }
  return keyOfTitle(issue.title, scope);
}

/** The key our title for `scope` implies: `… web-1: 3 jobs alerting: …`, `… web-1: storm: …`, `… web-1: backup is stale`. */
function keyOfTitle(title: string, scope: string): IssueKey | null {
  const prefix = titlePrefix(scope);
  if (!title.startsWith(prefix)) return null;
  const rest = title.slice(prefix.length);
  if (rest.startsWith("storm: ")) return "storm";
  if (/^[\d,]+ jobs? alerting: /.test(rest)) return "rollup";
  const job = /^(\S+) is (stale|failed|overrun|missing|invalid)$/.exec(rest);
  return job ? jobKey(job[1]!) : null;
}

function olderFirst(a: ForgeIssue, b: ForgeIssue): number {
  return Date.parse(a.createdAt) - Date.parse(b.createdAt) || a.number - b.number;
}

function sameMarker(body: string, rendered: string): boolean {
  return body.replace(/\r\n/g, "\n").split("\n")[0]?.trim() === rendered.split("\n")[0];
}

function sameStatuses(a: AlertSnapshot, b: AlertSnapshot): boolean {
  if (a.size !== b.size) return false;
  for (const [job, { status }] of a) if (b.get(job)?.status !== status) return false;
  return true;
}

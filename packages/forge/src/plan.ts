import type { JobState } from "lastbeat";
import { REMOVED_REASON, folderOfJob, keptAlerting, presentNames, sortJobStates, withVanished as withVanishedJobs } from "lastbeat/internal";
import type { ForgeIssue } from "./forge.js";
import { jobKey, markerOfBody, nameHash, saidId, stateOfBody, withSaid, type AlertSnapshot, type IssueKey, type IssueState } from "./markers.js";
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
 * What the checker will do to the forge, in order. A change's comment comes before the edit it
 * announces, and a close's before the close: until the edit or close is made the body still
 * records the old state, so the next run plans the same change again, and its comment is posted
 * only when the said line (`said`, the comment's last line) is not already the issue's latest.
 */
export type PlannedAction =
  | { kind: "create"; key: IssueKey; title: string; body: string }
  | { kind: "update"; key: IssueKey; issue: number; title: string; body: string }
  | { kind: "comment"; key: IssueKey; issue: number; body: string; said: string }
  | { kind: "close"; key: IssueKey; issue: number; comment: string; said: string }
  | { kind: "close-duplicate"; key: IssueKey; issue: number; of: number; comment: string; said: string }
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
  /**
   * The folders this run scanned, when known: a remembered `job@<folder>` of a folder no longer
   * scanned (retired with `lastbeat retire 'folder:<dir>'`, or left out of `--dir`) left with it,
   * as if retired, instead of staying `missing` with no way to clear it.
   */
  scannedDirs?: ReadonlySet<string>;
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
  const ours = ownIssues(input.issues, scope, input.states);
  const groups: Array<{ priority: number; actions: PlannedAction[] }> = [];
  const nones: PlannedAction[] = [];

  // Several open issues with one key (two checkers raced, or a person reopened an old one):
  // keep the oldest, close the others with a link to it.
  const kept = new Map<IssueKey, ForgeIssue>();
  for (const [key, issues] of ours) {
    const [oldest, ...newer] = issues;
    kept.set(key, oldest!);
    for (const dup of newer) groups.push({ priority: 3, actions: [closeDuplicate(key, dup, oldest!.number)] });
  }

  // The checker's memory: what its open issues say was alerting. Jobs an issue kept only by a
  // hash are named again from this scan (a job that recovered is still in it, as `ok`).
  const remembered = recall(kept, new Set([...presentNames(input.states), ...departures.retired]));
  const memory = new Map<string, { status: string; since: string | null }>();
  for (const r of remembered.values()) for (const [job, entry] of r.jobs) memory.set(job, entry);
  const stormMembers = new Set(remembered.get("storm")?.jobs.keys() ?? []);
  // A storm issue that could only count some of its jobs may hold any alerting job: none of them
  // gets an issue of its own while it does (a job stays where it started).
  const stormForgets = (remembered.get("storm")?.forgotten ?? 0) > 0;
  if (input.scannedDirs) {
    const left = [...memory.keys()].filter((job) => {
      const folder = folderOfJob(job);
      return folder !== null && !input.scannedDirs!.has(folder);
    });
    if (left.length > 0) departures.retired = new Set([...departures.retired, ...left]);
  }

  // Issues of the other mode (the user switched --mode): close them.
  for (const [key, issue] of kept) {
    const otherMode = mode === "rollup" ? key !== "rollup" : key === "rollup";
    if (otherMode) {
      groups.push({ priority: 3, actions: [close(key, issue, renderSupersededComment(mode))] });
      kept.delete(key);
    }
  }

  const states = carrySince(keptMissing(withVanished(input.states, memory, departures.retired), memory), memory, now);
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
      } else if (stormMembers.has(state.job) || stormForgets || opened >= maxNew) {
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
    const previous = remembered.get(key) ?? null;
    if (previous && !sameStatuses(stored!, stateOfBody(rendered.body))) {
      // A change of the alerting set or of a status: one comment, before the edit it announces.
      const said = saidId(stored, rendered.fingerprint);
      const body = withSaid(renderChangeComment(previous.jobs, snapshot, states, now, departures, previous), said);
      groups.push({ priority: 2, actions: [{ kind: "comment", key, issue: issue.number, body, said }, update] });
    } else {
      // A new reason is edited in silently; so is a body or title a person changed.
      groups.push({ priority: stored?.fingerprint === rendered.fingerprint ? 5 : 2, actions: [update] });
    }
  }
  for (const [key, issue] of kept) {
    if (desired.has(key)) continue;
    const comment = renderCloseComment(remembered.get(key)?.jobs ?? null, states, now, departures, remembered.get(key));
    groups.push({ priority: 3, actions: [close(key, issue, comment)] });
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

/** Closing `issue` with `comment`, which says it once (see PlannedAction). */
function close(key: IssueKey, issue: ForgeIssue, comment: string): Extract<PlannedAction, { kind: "close" }> {
  const said = saidId(stateOfBody(issue.body), "closed");
  return { kind: "close", key, issue: issue.number, comment: withSaid(comment, said), said };
}

/** Closing `dup` as a duplicate of `keep`, with a comment that links it, said once. */
export function closeDuplicate(key: IssueKey, dup: ForgeIssue, keep: number): Extract<PlannedAction, { kind: "close-duplicate" }> {
  const said = saidId(stateOfBody(dup.body), "closed");
  return { kind: "close-duplicate", key, issue: dup.number, of: keep, comment: withSaid(renderDuplicateComment(keep), said), said };
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

/** The rule of `keptAlerting` (lastbeat/internal) for the jobs the open issues remember. */
function keptMissing(states: readonly JobState[], memory: ReadonlyMap<string, { status: string }>): JobState[] {
  return states.map((state) => keptAlerting(state, memory.get(state.job)?.status, null));
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
 * number): issues whose marker names our scope; issues written before scopes existed that we
 * adopt (see `adopts`: given our scope on the next edit); and issues of our label whose marker a
 * person removed but whose title still starts with our scope's prefix. `states` is this
 * checker's scan.
 */
export function ownIssues(issues: readonly ForgeIssue[], scope: string, states: readonly JobState[]): Map<IssueKey, ForgeIssue[]> {
  const scan = scanOf(states);
  const groups = new Map<IssueKey, ForgeIssue[]>();
  for (const issue of issues) {
    const key = ownKey(issue, scope, scan);
    if (!key) continue;
    const list = groups.get(key) ?? [];
    list.push(issue);
    groups.set(key, list);
  }
  for (const list of groups.values()) list.sort(olderFirst);
  return groups;
}

/**
 * Issues written before scopes existed that this checker leaves open although it runs some of
 * the jobs they remember (none alerting here, or not all of them run here): which host such an
 * issue was opened for cannot be told, so it is never closed as recovered by a host that did not
 * alert. `lastbeat check` names each one on stderr every run, until a person closes it or a
 * checker adopts it.
 */
export function unadoptedIssues(issues: readonly ForgeIssue[], scope: string, states: readonly JobState[]): Array<{ issue: ForgeIssue; jobs: string[] }> {
  const scan = scanOf(states);
  const left: Array<{ issue: ForgeIssue; jobs: string[] }> = [];
  for (const issue of issues) {
    if (markerOfBody(issue.body)?.scope !== null || ownKey(issue, scope, scan) !== null) continue;
    const remembered = [...(stateOfBody(issue.body)?.snapshot.keys() ?? [])];
    if (remembered.some((job) => scan.all.has(job))) left.push({ issue, jobs: remembered });
  }
  return left.sort((a, b) => olderFirst(a.issue, b.issue));
}

interface Scan {
  all: ReadonlySet<string>;
  alerting: ReadonlySet<string>;
}

function scanOf(states: readonly JobState[]): Scan {
  return { all: new Set(states.map((s) => s.job)), alerting: new Set(states.filter((s) => s.alerting).map((s) => s.job)) };
}

function ownKey(issue: ForgeIssue, scope: string, scan: Scan): IssueKey | null {
  const marker = markerOfBody(issue.body);
  if (marker) {
    if (marker.scope === scope) return marker.key;
    if (marker.scope !== null) return null;
    return adopts([...(stateOfBody(issue.body)?.snapshot.keys() ?? [])], scan) ? marker.key : null;
  }
  return keyOfTitle(issue.title, scope);
}

/**
 * An issue from before scopes is adopted only by a checker where one of the jobs it remembers
 * alerts now and which runs every one of them: a host where they are healthy never closes
 * another host's alert as recovered, and adopting never turns a job this host does not run into
 * a `missing` one here.
 */
function adopts(remembered: readonly string[], scan: Scan): boolean {
  return remembered.some((job) => scan.alerting.has(job)) && remembered.every((job) => scan.all.has(job));
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

/**
 * Whether two stored states say the same, like with like: the issue's state against the new one
 * as it would be stored (a job kept by name in one and by hash in the other is the same job), and
 * the same count of jobs neither could keep. A full snapshot against a cut one would announce the
 * cut-off jobs as changes on every run.
 */
function sameStatuses(a: IssueState, b: IssueState | null): boolean {
  if (!b || a.forgotten !== b.forgotten) return false;
  const x = storedStatuses(a);
  const y = storedStatuses(b);
  if (x.size !== y.size) return false;
  for (const [id, status] of x) if (y.get(id) !== status) return false;
  return true;
}

function storedStatuses(state: IssueState): Map<string, string> {
  const statuses = new Map<string, string>();
  for (const [job, { status }] of state.snapshot) statuses.set(nameHash(job), status);
  for (const [hash, { status }] of state.hashed) statuses.set(hash, status);
  return statuses;
}

/** What one open issue remembers, with the jobs it kept by hash named from the scan. */
interface Remembered {
  jobs: AlertSnapshot;
  /** Jobs kept by hash that no scanned job has: their heartbeat file vanished, so they cannot be named. */
  unnamedGone: number;
  /** Jobs the issue could only count (`+N`). */
  forgotten: number;
}

function recall(kept: ReadonlyMap<IssueKey, ForgeIssue>, present: ReadonlySet<string>): Map<IssueKey, Remembered> {
  const remembered = new Map<IssueKey, Remembered>();
  let byHash: Map<string, string> | null = null;
  for (const [key, issue] of kept) {
    const stored = stateOfBody(issue.body);
    if (!stored) continue;
    const jobs: AlertSnapshot = new Map(stored.snapshot);
    let unnamedGone = 0;
    if (stored.hashed.size > 0) byHash ??= new Map([...present].map((job) => [nameHash(job), job]));
    for (const [hash, entry] of stored.hashed) {
      const job = byHash!.get(hash);
      if (job === undefined) unnamedGone += 1;
      else if (!jobs.has(job)) jobs.set(job, entry);
    }
    remembered.set(key, { jobs, unnamedGone, forgotten: stored.forgotten });
  }
  return remembered;
}

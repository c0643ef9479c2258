import type { JobState } from "lastbeat";
import { ForgeError } from "./errors.js";
import type { Forge, ForgeIssue } from "./forge.js";
import { saidOfComment, type IssueKey } from "./markers.js";
import { closeDuplicate, ownIssues, planSync, unadoptedIssues, type PlannedAction, type SyncMode } from "./plan.js";

/** One action as it was applied (or would be, in a dry run): the `actions` of `check --json`. */
export interface AppliedAction {
  kind: "create" | "update" | "comment" | "close" | "none";
  issue: number | null;
  key: IssueKey | null;
  /** Set when an issue was closed as a duplicate of this one. */
  duplicate_of?: number;
  /**
   * Found on the forge instead of sent again: a create whose answer was lost, or a comment (of a
   * change or a close) the run before posted before its edit or close failed.
   */
  recovered?: true;
}

export interface SyncOptions {
  mode: SyncMode;
  /** The checker's scope: it never touches another scope's issues. */
  scope: string;
  label: string;
  states: readonly JobState[];
  now: Date;
  dryRun?: boolean;
  /** Per-job mode: new issues a run may open; past it, one storm issue (default 10). */
  maxNewIssues?: number;
  /** Writes a run may make (default 40); the rest is left for the next run. */
  maxWrites?: number;
  /** Jobs retired on purpose (`lastbeat retire`): their vanished heartbeat is not `missing`. */
  retired?: ReadonlySet<string>;
  /** The folders this run scanned: a remembered `job@<folder>` of another folder left with it (see PlanInput). */
  scannedDirs?: ReadonlySet<string>;
}

export interface SyncResult {
  planned: PlannedAction[];
  applied: AppliedAction[];
  /** The states synced: the scan's plus remembered alerting jobs whose file vanished. */
  states: JobState[];
  /** Writes left for the next run (this run's budget was spent). */
  deferredWrites: number;
  /**
   * Open issues from before scopes that name jobs of this checker but that it does not adopt
   * (none of them alerts here, or it does not run them all): left open, for a person to close.
   */
  unadopted: Array<{ issue: number; url: string; jobs: string[] }>;
}

/**
 * Lists the forge's open issues carrying the label, plans, and applies the plan. In the steady
 * state that is one list request and nothing else.
 */
export async function syncAlerts(forge: Forge, options: SyncOptions): Promise<SyncResult> {
  const issues = await forge.listOpenIssues(options.label);
  const plan = planSync({
    mode: options.mode,
    scope: options.scope,
    states: options.states,
    issues,
    now: options.now,
    ...(options.maxNewIssues !== undefined && { maxNewIssues: options.maxNewIssues }),
    ...(options.maxWrites !== undefined && { maxWrites: options.maxWrites }),
    ...(options.retired !== undefined && { retired: options.retired }),
    ...(options.scannedDirs !== undefined && { scannedDirs: options.scannedDirs }),
  });
  const planned = plan.actions;
  const unadopted = unadoptedIssues(issues, options.scope, options.states).map(({ issue, jobs }) => ({ issue: issue.number, url: issue.url, jobs }));
  const result = { planned, states: plan.states, deferredWrites: plan.deferredWrites, unadopted };
  if (options.dryRun) return { ...result, applied: planned.map(toApplied) };
  const applied = await applyPlan(forge, planned, {
    label: options.label,
    known: issues,
    scope: options.scope,
    states: options.states,
  });
  return { ...result, applied };
}

function toApplied(action: PlannedAction): AppliedAction {
  switch (action.kind) {
    case "create":
      return { kind: "create", issue: null, key: action.key };
    case "close-duplicate":
      return { kind: "close", issue: action.issue, key: action.key, duplicate_of: action.of };
    default:
      return { kind: action.kind, issue: action.issue, key: action.key };
  }
}

/**
 * Applies planned actions in order. Creates are careful: the label is ensured first, an unclear
 * failure is followed by a fresh list (the issue may exist after all), and after creating, the
 * list is read again so a checker on another host that raced us ends with one open issue. A
 * change's or close's comment is posted once: not when it is already the issue's latest said
 * comment (`saidBefore`).
 */
export async function applyPlan(
  forge: Forge,
  actions: readonly PlannedAction[],
  context: { label: string; known: readonly ForgeIssue[]; scope: string; states: readonly JobState[] },
): Promise<AppliedAction[]> {
  const applied: AppliedAction[] = [];
  let labelEnsured = false;
  let created = false;
  const knownNumbers = new Set(context.known.map((i) => i.number));
  const issueOf = (number: number) => context.known.find((i) => i.number === number) ?? { number };
  for (const action of actions) {
    switch (action.kind) {
      case "none":
        applied.push(toApplied(action));
        break;
      case "update":
        await forge.updateIssue(action.issue, { title: action.title, body: action.body });
        applied.push(toApplied(action));
        break;
      case "comment": {
        const recovered = await saidBefore(forge, issueOf(action.issue), action.said);
        if (!recovered) await forge.comment(action.issue, action.body);
        applied.push({ ...toApplied(action), ...(recovered && { recovered: true as const }) });
        break;
      }
      case "close":
      case "close-duplicate": {
        const recovered = await saidBefore(forge, issueOf(action.issue), action.said);
        if (!recovered) await forge.comment(action.issue, action.comment);
        await forge.closeIssue(action.issue);
        applied.push({ ...toApplied(action), ...(recovered && { recovered: true as const }) });
        break;
      }
      case "create": {
        if (!labelEnsured) {
          await forge.ensureLabel(context.label);
          labelEnsured = true;
        }
        const result = await createOnce(forge, action, context, knownNumbers);
        knownNumbers.add(result.issue.number);
        created = true;
        applied.push({ kind: "create", issue: result.issue.number, key: action.key, ...(result.recovered && { recovered: true as const }) });
        break;
      }
    }
  }
  if (created) applied.push(...(await closeRacedDuplicates(forge, context, applied)));
  return applied;
}

/**
 * Whether the comment with `said` is the latest said comment on the issue: the run before posted
 * it and then could not make the edit or close it announced (a 502, a timeout), so the body still
 * records the old state and this run planned the same change again. Only the latest said comment
 * counts: a job that flaps makes the same transition again later, and that one is announced. An
 * issue the list says has no comments is not read.
 *
 * Only the checker's own comment counts: the latest said line must be in a comment by the issue's
 * author (the account that opened it, the checker's); on the file forge, which names no authors,
 * any. The said id can be computed by anyone who can read the body (on a public repository,
 * anyone may comment): a line a person planted never silences an announcement, whatever token the
 * checker holds today. When in doubt the change is announced: a latest said line by anyone else
 * (a person, or the checker under a new account) or an issue whose author the forge did not name
 * can at worst repeat a comment, never leave one out.
 */
async function saidBefore(forge: Forge, issue: Pick<ForgeIssue, "number" | "comments" | "author">, said: string): Promise<boolean> {
  if (issue.comments === 0) return false;
  const comments = await forge.recentComments(issue);
  for (let i = comments.length - 1; i >= 0; i--) {
    const comment = comments[i]!;
    const id = saidOfComment(comment.body);
    if (id === null) continue;
    const ours = forge.kind === "file" || (issue.author !== undefined && comment.author === issue.author);
    return ours && id === said;
  }
  return false;
}

/**
 * Creates an issue without ever sending the same create twice blindly: after an answer that
 * leaves it in doubt (5xx, timeout, dropped connection) the open issues are listed, and an issue
 * with our marker that was not there before is the one we created.
 */
async function createOnce(
  forge: Forge,
  action: Extract<PlannedAction, { kind: "create" }>,
  context: { label: string; scope: string; states: readonly JobState[] },
  knownNumbers: ReadonlySet<number>,
): Promise<{ issue: ForgeIssue; recovered: boolean }> {
  const { label } = context;
  const attempts = 2;
  for (let attempt = 1; ; attempt++) {
    try {
      return { issue: await forge.createIssue({ title: action.title, body: action.body, label }), recovered: false };
    } catch (error) {
      if (!(error instanceof ForgeError) || !error.unclear) throw error;
      let found: ForgeIssue | undefined;
      try {
        const issues = await forge.listOpenIssues(label);
        found = ownIssues(issues.filter((i) => !knownNumbers.has(i.number)), context.scope, context.states).get(action.key)?.[0];
      } catch {
        throw error;
      }
      if (found) return { issue: found, recovered: true };
      if (attempt >= attempts) throw error;
    }
  }
}

/** After creating: if another checker created the same issue meanwhile, keep the oldest. */
async function closeRacedDuplicates(
  forge: Forge,
  context: { label: string; scope: string; states: readonly JobState[] },
  applied: AppliedAction[],
): Promise<AppliedAction[]> {
  const extra: AppliedAction[] = [];
  const createdKeys = new Set(applied.filter((a) => a.kind === "create").map((a) => a.key));
  const groups = ownIssues(await forge.listOpenIssues(context.label), context.scope, context.states);
  for (const key of createdKeys) {
    const [oldest, ...newer] = groups.get(key!) ?? [];
    if (!oldest) continue;
    for (const dup of newer) {
      // Said like the planner's duplicate closes, so a close that fails here is not said twice.
      const { comment, said } = closeDuplicate(key!, dup, oldest.number);
      const recovered = await saidBefore(forge, dup, said);
      if (!recovered) await forge.comment(dup.number, comment);
      await forge.closeIssue(dup.number);
      extra.push({ kind: "close", issue: dup.number, key, duplicate_of: oldest.number, ...(recovered && { recovered: true as const }) });
    }
  }
  return extra;
}

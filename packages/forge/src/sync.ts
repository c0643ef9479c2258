import type { JobState } from "lastbeat";
import { ForgeError } from "./errors.js";
import type { Forge, ForgeIssue } from "./forge.js";
import type { IssueKey } from "./markers.js";
import { groupByKey, planSync, type PlannedAction, type SyncMode } from "./plan.js";
import { renderDuplicateComment } from "./render.js";

/** One action as it was applied (or would be, in a dry run): the `actions` of `check --json`. */
export interface AppliedAction {
  kind: "create" | "update" | "comment" | "close" | "none";
  issue: number | null;
  key: IssueKey | null;
  /** Set when an issue was closed as a duplicate of this one. */
  duplicate_of?: number;
  /** A create whose answer was lost, found on the forge afterwards instead of sent again. */
  recovered?: true;
}

export interface SyncOptions {
  mode: SyncMode;
  label: string;
  states: readonly JobState[];
  now: Date;
  dryRun?: boolean;
}

export interface SyncResult {
  planned: PlannedAction[];
  applied: AppliedAction[];
}

/**
 * Lists the forge's open issues carrying the label, plans, and applies the plan. In the steady
 * state that is one list request and nothing else.
 */
export async function syncAlerts(forge: Forge, options: SyncOptions): Promise<SyncResult> {
  const issues = await forge.listOpenIssues(options.label);
  const planned = planSync({ mode: options.mode, states: options.states, issues, now: options.now });
  if (options.dryRun) return { planned, applied: planned.map(toApplied) };
  const applied = await applyPlan(forge, planned, { label: options.label, known: issues });
  return { planned, applied };
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
 * list is read again so a checker on another host that raced us ends with one open issue.
 */
export async function applyPlan(
  forge: Forge,
  actions: readonly PlannedAction[],
  context: { label: string; known: readonly ForgeIssue[] },
): Promise<AppliedAction[]> {
  const applied: AppliedAction[] = [];
  let labelEnsured = false;
  let created = false;
  const knownNumbers = new Set(context.known.map((i) => i.number));
  for (const action of actions) {
    switch (action.kind) {
      case "none":
        applied.push(toApplied(action));
        break;
      case "update":
        await forge.updateIssue(action.issue, { title: action.title, body: action.body });
        applied.push(toApplied(action));
        break;
      case "comment":
        await forge.comment(action.issue, action.body);
        applied.push(toApplied(action));
        break;
      case "close":
      case "close-duplicate":
        await forge.comment(action.issue, action.comment);
        await forge.closeIssue(action.issue);
        applied.push(toApplied(action));
        break;
      case "create": {
        if (!labelEnsured) {
          await forge.ensureLabel(context.label);
          labelEnsured = true;
        }
        const result = await createOnce(forge, action, context.label, knownNumbers);
        knownNumbers.add(result.issue.number);
        created = true;
        applied.push({ kind: "create", issue: result.issue.number, key: action.key, ...(result.recovered && { recovered: true as const }) });
        break;
      }
    }
  }
  if (created) applied.push(...(await closeRacedDuplicates(forge, context.label, applied)));
  return applied;
}

/**
 * Creates an issue without ever sending the same create twice blindly: after an answer that
 * leaves it in doubt (5xx, timeout, dropped connection) the open issues are listed, and an issue
 * with our marker that was not there before is the one we created.
 */
async function createOnce(
  forge: Forge,
  action: Extract<PlannedAction, { kind: "create" }>,
  label: string,
  knownNumbers: ReadonlySet<number>,
): Promise<{ issue: ForgeIssue; recovered: boolean }> {
  const attempts = 2;
  for (let attempt = 1; ; attempt++) {
    try {
      return { issue: await forge.createIssue({ title: action.title, body: action.body, label }), recovered: false };
    } catch (error) {
      if (!(error instanceof ForgeError) || !error.unclear) throw error;
      let found: ForgeIssue | undefined;
      try {
        const issues = await forge.listOpenIssues(label);
        found = groupByKey(issues.filter((i) => !knownNumbers.has(i.number))).get(action.key)?.[0];
      } catch {
        throw error;
      }
      if (found) return { issue: found, recovered: true };
      if (attempt >= attempts) throw error;
    }
  }
}

/** After creating: if another checker created the same issue meanwhile, keep the oldest. */
async function closeRacedDuplicates(forge: Forge, label: string, applied: AppliedAction[]): Promise<AppliedAction[]> {
  const extra: AppliedAction[] = [];
  const createdKeys = new Set(applied.filter((a) => a.kind === "create").map((a) => a.key));
  const groups = groupByKey(await forge.listOpenIssues(label));
  for (const key of createdKeys) {
    const [oldest, ...newer] = groups.get(key!) ?? [];
    if (!oldest) continue;
    for (const dup of newer) {
      await forge.comment(dup.number, renderDuplicateComment(oldest.number));
      await forge.closeIssue(dup.number);
      extra.push({ kind: "close", issue: dup.number, key, duplicate_of: oldest.number });
    }
  }
  return extra;
}

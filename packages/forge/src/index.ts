export type { Forge, ForgeIssue, ForgeKind, NewIssue } from "./forge.js";
export { ForgeError, redact } from "./errors.js";
export { createGitHubForge, splitRepo } from "./github.js";
export type { GitHubForgeOptions } from "./github.js";
export { createGiteaForge, apiBase } from "./gitea.js";
export type { GiteaForgeOptions } from "./gitea.js";
export { createFileForge, parseIssueFile } from "./file.js";
export type { FileForgeOptions } from "./file.js";
export { ROLLUP_MARKER, markerFor, jobKey, keyOfBody, snapshotOfBody } from "./markers.js";
export type { IssueKey, AlertSnapshot } from "./markers.js";
export { inlineText, codeBlock, cutStart, cutEnd } from "./markdown.js";
export {
  TITLE_PREFIX,
  renderRollupIssue,
  renderJobIssue,
  renderChangeComment,
  renderCloseComment,
  formatTime,
  snapshotOf,
} from "./render.js";
export type { RenderedIssue } from "./render.js";
export { planSync, groupByKey } from "./plan.js";
export type { PlannedAction, PlanInput, SyncMode } from "./plan.js";
export { syncAlerts, applyPlan } from "./sync.js";
export type { AppliedAction, SyncOptions, SyncResult } from "./sync.js";
export { acquireSyncLock } from "./lock.js";
export type { SyncLock, LockOptions } from "./lock.js";

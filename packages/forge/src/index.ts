export type { Forge, ForgeIssue, ForgeKind, NewIssue } from "./forge.js";
export { ForgeError, redact } from "./errors.js";
export { createGitHubForge, splitRepo } from "./github.js";
export type { GitHubForgeOptions } from "./github.js";
export { createGiteaForge, apiBase } from "./gitea.js";
export type { GiteaForgeOptions } from "./gitea.js";
export { createGitLabForge, gitlabApiBase, projectPath, GITLAB_COM } from "./gitlab.js";
export type { GitLabForgeOptions } from "./gitlab.js";
export { createFileForge, parseIssueFile } from "./file.js";
export type { FileForgeOptions } from "./file.js";
export { markerFor, jobKey, keyOfBody, markerOfBody, snapshotOfBody, stateOfBody, stateLine, nameHash, saidId, saidOfComment, isValidScope, SCOPE_PATTERN, MAX_STATE_CHARS } from "./markers.js";
export type { IssueKey, AlertSnapshot, IssueState, MarkerInfo } from "./markers.js";
export {
  TITLE_PREFIX,
  renderRollupIssue,
  renderJobIssue,
  renderStormIssue,
  renderChangeComment,
  renderCloseComment,
  formatTime,
  snapshotOf,
  titlePrefix,
  MAX_TITLE_CHARS,
  MAX_BODY_CHARS,
  MAX_COMMENT_CHARS,
} from "./render.js";
export type { RenderedIssue } from "./render.js";
export { planSync, ownIssues, unadoptedIssues, writesOf, DEFAULT_MAX_NEW_ISSUES, DEFAULT_MAX_WRITES, REMOVED_REASON } from "./plan.js";
export type { PlannedAction, PlanInput, SyncPlan, SyncMode } from "./plan.js";
export { syncAlerts, applyPlan } from "./sync.js";
export type { AppliedAction, SyncOptions, SyncResult } from "./sync.js";

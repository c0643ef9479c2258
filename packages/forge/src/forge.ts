/** An open issue as the checker sees it, whatever the forge. */
export interface ForgeIssue {
  number: number;
  title: string;
  body: string;
  /** ISO-8601; the oldest of several duplicates is kept. */
  createdAt: string;
  /** Where a person reads it: the web page, or the file for the file forge. */
  url: string;
  labels: string[];
  /** How many comments it has, as the list says; absent when the forge does not say. */
  comments?: number;
  /** Who opened it (the checker's account, for its own issues); absent when the forge does not say (the file forge). */
  author?: string;
}

/** A comment as `recentComments` reads it. */
export interface ForgeComment {
  body: string;
  /** Who wrote it; absent when the forge does not say. */
  author?: string;
}

export interface NewIssue {
  title: string;
  body: string;
  label: string;
}

/**
 * What the checker needs from a forge, nothing more. Every adapter lists through the plain issue
 * list filtered by label (never a search endpoint, which lags behind writes: docs/spec.md, "Alert issues").
 */
export interface Forge {
  readonly kind: "github" | "gitea" | "gitlab" | "file";
  /** Human name of the target, for messages: `github acme/ops`. */
  readonly target: string;
  /** Every open issue (not pull request) carrying `label`, all pages, oldest first. */
  listOpenIssues(label: string): Promise<ForgeIssue[]>;
  /**
   * Creates an issue carrying `label` (which must exist: call `ensureLabel` first). Never retried
   * by the adapter on an unclear answer: it throws a ForgeError with `unclear: true` and the caller
   * lists again before trying once more.
   */
  createIssue(issue: NewIssue): Promise<ForgeIssue>;
  updateIssue(number: number, change: { title: string; body: string }): Promise<void>;
  comment(number: number, body: string): Promise<void>;
  /**
   * The issue's latest comments, at most 100, oldest first: asked for only before a
   * change or close is announced (never in the steady state), in one request; on GitHub, which
   * pages comments oldest first, `issue.comments` says where the last page is, and a short last
   * page is completed from the one before.
   */
  recentComments(issue: Pick<ForgeIssue, "number" | "comments">): Promise<ForgeComment[]>;
  closeIssue(number: number): Promise<void>;
  /** Creates the label when the forge does not have it (a person may have deleted it). */
  ensureLabel(label: string): Promise<void>;
}

export type ForgeKind = Forge["kind"];

import { listOf, toComment, withAuthor, listShape, objectShape, optionalCount, optionalText, text, time, wholeNumber, type AnswerShape } from "./answers.js";
import { ForgeError } from "./errors.js";
import type { Forge, ForgeIssue, NewIssue } from "./forge.js";
import { splitRepo } from "./github.js";
import { createHttpClient, type HttpRetryOptions } from "./http.js";

export interface GiteaForgeOptions extends HttpRetryOptions {
  repo: string;
  token: string;
  /** `https://gitea.example.com` or `https://gitea.example.com/api/v1`. */
  url: string;
}

interface GiteaIssue {
  number: number;
  user?: unknown;
  title: string;
  body?: string | null;
  created_at: string;
  html_url?: string | null;
  labels?: Array<{ name: string }> | null;
  comments?: number | null;
  pull_request?: unknown;
}

interface GiteaLabel {
  id: number;
  name: string;
}

/** An issue's labels are objects read by name; null when it has none. */
const labelObjects = listOf((l) => typeof (l as { name?: unknown } | null)?.name === "string", "a list of labels", { optional: true });
/** The fields of an issue the checker reads. */
const ISSUE_FIELDS = { number: wholeNumber, title: text, body: optionalText, created_at: time, html_url: optionalText, labels: labelObjects, comments: optionalCount };
const ISSUE_LIST = listShape<GiteaIssue>("a list of issues", ISSUE_FIELDS);
const ISSUE = objectShape<GiteaIssue>("an issue", ISSUE_FIELDS);
/** An edit or close is believed done only when its answer is the issue (not a proxy's page). */
const EDITED = objectShape<{ number: number }>("an issue", { number: wholeNumber });
const COMMENT = objectShape<{ id: number }>("a comment", { id: wholeNumber });
const COMMENT_LIST = listShape<{ id: number; body?: string | null; user?: unknown }>("a list of comments", { id: wholeNumber, body: optionalText });
/** The latest comments a run reads before it announces a change. */
const RECENT_COMMENTS = 100;
const LABEL_LIST = listShape<GiteaLabel>("a list of labels", { id: wholeNumber, name: text });
const LABEL = objectShape<GiteaLabel>("a label", { id: wholeNumber, name: text });

/** Gitea caps pages at 50 items (MAX_RESPONSE_ITEMS) whatever `limit` asks for. */
const PAGE_LIMIT = 50;

/**
 * Gitea and Forgejo (`/api/v1`) over plain fetch. Their differences from GitHub: labels are IDs
 * on create, pages hold at most 50, an edit answers 201, auth is `Authorization: token …`.
 */
export function createGiteaForge(options: GiteaForgeOptions): Forge {
  const [owner, repo] = splitRepo(options.repo);
  const api = apiBase(options.url);
  const repoPath = `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}`;
  const target = `gitea ${owner}/${repo}`;
  const request = createHttpClient({ ...options, api, headers: { authorization: `token ${options.token}` }, target });

  /** Every page of a list, each checked against `shape`: one page not understood fails the whole list. */
  async function pages<T>(what: string, path: string, shape: AnswerShape<T[]>): Promise<T[]> {
    const all: T[] = [];
    const sep = path.includes("?") ? "&" : "?";
    for (let page = 1; page <= 1000; page++) {
      const { data: items, headers } = await request(what, "GET", `${path}${sep}limit=${PAGE_LIMIT}&page=${page}`, undefined, { expect: shape });
      all.push(...items);
      const link = headers.get("link");
      const hasNext = link !== null ? /rel="next"/.test(link) : items.length >= PAGE_LIMIT;
      if (!hasNext || items.length === 0) break;
    }
    return all;
  }

  async function labelId(label: string): Promise<number | undefined> {
    const labels = await pages("reading labels", `${repoPath}/labels`, LABEL_LIST);
    return labels.find((l) => l.name.toLowerCase() === label.toLowerCase())?.id;
  }

  return {
    kind: "gitea",
    target,
    async listOpenIssues(label) {
      const issues = await pages(
        "listing open issues",
        `${repoPath}/issues?state=open&type=issues&labels=${encodeURIComponent(label)}`,
        ISSUE_LIST,
      );
      const want = label.toLowerCase();
      // Older Gitea versions ignore an unknown label filter and list everything: check ourselves.
      return issues
        .filter((i) => !i.pull_request && (i.labels ?? []).some((l) => l.name.toLowerCase() === want))
        .map(toIssue)
        .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || a.number - b.number);
    },
    async createIssue(issue: NewIssue) {
      const id = await labelId(issue.label);
      if (id === undefined) throw new ForgeError(`${target}: label ${issue.label} does not exist`);
      const { data } = await request(
        "creating an issue",
        "POST",
        `${repoPath}/issues`,
        { title: issue.title, body: issue.body, labels: [id] },
        { retry: false, ok: [201], expect: ISSUE },
      );
      return toIssue(data);
    },
    async updateIssue(number, change) {
      // Gitea answers an edit with 201 Created.
      await request(`editing issue #${number}`, "PATCH", `${repoPath}/issues/${number}`, change, { ok: [200, 201], expect: EDITED });
    },
    async comment(number, body) {
      await request(`commenting on issue #${number}`, "POST", `${repoPath}/issues/${number}/comments`, { body }, { ok: [201], expect: COMMENT });
    },
    async recentComments(issue) {
      // Gitea's issue comments are not paged (only `since` and `before`): one answer holds them all, oldest first.
      const { data } = await request(`reading the comments of issue #${issue.number}`, "GET", `${repoPath}/issues/${issue.number}/comments`, undefined, {
        ok: [200],
        expect: COMMENT_LIST,
      });
      return data.slice(-RECENT_COMMENTS).map(toComment);
    },
    async closeIssue(number) {
      await request(`closing issue #${number}`, "PATCH", `${repoPath}/issues/${number}`, { state: "closed" }, { ok: [200, 201], expect: EDITED });
    },
    async ensureLabel(label) {
      if ((await labelId(label)) !== undefined) return;
      await request("creating label", "POST", `${repoPath}/labels`, {
        name: label,
        color: "#d73a4a",
        description: "lastbeat: a cron job is silent or failing",
      }, { ok: [201, 409, 422], expect: LABEL });
    },
  };
}

/** Accepts the site root or the API base. */
export function apiBase(url: string): string {
  const trimmed = url.trim().replace(/\/+$/, "");
  return /\/api\/v1$/.test(trimmed) ? trimmed : `${trimmed}/api/v1`;
}

function toIssue(i: GiteaIssue): ForgeIssue {
  return {
    number: i.number,
    title: i.title,
    body: i.body ?? "",
    createdAt: i.created_at,
    url: i.html_url ?? "",
    labels: (i.labels ?? []).map((l) => l.name),
    ...(typeof i.comments === "number" && { comments: i.comments }),
    ...withAuthor(i),
  };
}

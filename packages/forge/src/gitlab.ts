import { listOf, toComment, withAuthor, listShape, objectShape, optionalCount, optionalText, text, time, wholeNumber } from "./answers.js";
import { ForgeError } from "./errors.js";
import type { Forge, ForgeIssue, NewIssue } from "./forge.js";
import { createHttpClient, type HttpRetryOptions } from "./http.js";

export interface GitLabForgeOptions extends HttpRetryOptions {
  /** The project's full path: `group/project` or `group/subgroup/project`. */
  repo: string;
  token: string;
  /** `https://gitlab.example.com` or its `/api/v4` base; gitlab.com when not given. */
  url?: string;
}

interface GitLabIssue {
  /** The number people see (`#12`) and the `:issue_iid` of the routes; never the global `id`. */
  iid: number;
  title: string;
  description?: string | null;
  created_at: string;
  web_url?: string | null;
  labels?: string[] | null;
  /** Comments by people and bots, not GitLab's system notes ("changed the description"). */
  user_notes_count?: number | null;
  author?: unknown;
}

/** The fields of an issue the checker reads; labels are names (no `with_labels_details`). */
const ISSUE_FIELDS = {
  iid: wholeNumber,
  title: text,
  description: optionalText,
  created_at: time,
  web_url: optionalText,
  labels: listOf((l) => typeof l === "string", "a list of label names", { optional: true }),
  user_notes_count: optionalCount,
};
const ISSUE_LIST = listShape<GitLabIssue>("a list of issues", ISSUE_FIELDS);
const ISSUE = objectShape<GitLabIssue>("an issue", ISSUE_FIELDS);
/** An edit or close is believed done only when its answer is the issue (not a proxy's page). */
const EDITED = objectShape<{ iid: number }>("an issue", { iid: wholeNumber });
const NOTE = objectShape<{ id: number }>("a note", { id: wholeNumber });
const NOTE_LIST = listShape<{ id: number; body?: string | null; author?: unknown }>("a list of notes", { id: wholeNumber, body: optionalText });
const LABEL = objectShape<{ name: string }>("a label", { name: text });

export const GITLAB_COM = "https://gitlab.com";

/** GitLab answers at most 100 items a page. */
const PAGE_LIMIT = 100;

/**
 * GitLab (gitlab.com and self-managed, REST API v4) over plain fetch. Its differences: the
 * project is addressed by its URL-encoded full path, issues by their project-scoped `iid`, the
 * body is `description`, labels are comma-separated names (created when missing), comments are
 * notes, closing is `state_event=close`, auth is `PRIVATE-TOKEN`.
 */
export function createGitLabForge(options: GitLabForgeOptions): Forge {
  const project = projectPath(options.repo);
  const api = gitlabApiBase(options.url ?? GITLAB_COM);
  const projectRoute = `/projects/${encodeURIComponent(project)}`;
  const target = `gitlab ${project}`;
  const request = createHttpClient({ ...options, api, headers: { "private-token": options.token }, target, messageOf: gitlabMessage });

  return {
    kind: "gitlab",
    target,
    async listOpenIssues(label) {
      const all: GitLabIssue[] = [];
      const query = `state=opened&labels=${encodeURIComponent(label)}&order_by=created_at&sort=asc&per_page=${PAGE_LIMIT}`;
      for (let page = 1; page <= 1000; page++) {
        // Each page is checked: one not understood fails the list, never reads as its end.
        const { data: items, headers } = await request("listing open issues", "GET", `${projectRoute}/issues?${query}&page=${page}`, undefined, {
          expect: ISSUE_LIST,
        });
        all.push(...items);
        // `x-next-page` is empty on the last page; past 10,000 issues GitLab may send only `Link`.
        const next = headers.get("x-next-page");
        const link = headers.get("link");
        const hasNext = next !== null ? next.trim() !== "" : link !== null && /rel="next"/.test(link);
        if (!hasNext || items.length === 0) break;
      }
      const want = label.toLowerCase();
      return all
        .filter((i) => (i.labels ?? []).some((l) => l.toLowerCase() === want))
        .map(toIssue)
        .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || a.number - b.number);
    },
    async createIssue(issue: NewIssue) {
      const { data } = await request(
        "creating an issue",
        "POST",
        `${projectRoute}/issues`,
        { title: issue.title, description: issue.body, labels: issue.label },
        { retry: false, ok: [201], expect: ISSUE },
      );
      const created = toIssue(data);
      // GitLab drops the labels of a create by a member below Reporter instead of refusing it: the
      // issue would never be found again and every run would open another.
      if (!created.labels.some((l) => l.toLowerCase() === issue.label.toLowerCase())) {
        // Its author may close it: better than one more open, unfindable issue every run.
        await request(`closing issue #${created.number}`, "PUT", `${projectRoute}/issues/${created.number}`, { state_event: "close" }).catch(() => {});
        throw new ForgeError(
          `${target}: issue #${created.number} was created without the label ${issue.label}: the token's role cannot set labels (it needs at least Reporter)`,
        );
      }
      return created;
    },
    async updateIssue(iid, change) {
      await request(`editing issue #${iid}`, "PUT", `${projectRoute}/issues/${iid}`, { title: change.title, description: change.body }, { expect: EDITED });
    },
    async comment(iid, body) {
      await request(`commenting on issue #${iid}`, "POST", `${projectRoute}/issues/${iid}/notes`, { body }, { ok: [201], expect: NOTE });
    },
    async recentComments(issue) {
      const query = `sort=desc&order_by=created_at&per_page=${PAGE_LIMIT}`;
      const { data } = await request(`reading the notes of issue #${issue.number}`, "GET", `${projectRoute}/issues/${issue.number}/notes?${query}`, undefined, {
        ok: [200],
        expect: NOTE_LIST,
      });
      return data.map(toComment).reverse();
    },
    async closeIssue(iid) {
      await request(`closing issue #${iid}`, "PUT", `${projectRoute}/issues/${iid}`, { state_event: "close" }, { expect: EDITED });
    },
    async ensureLabel(label) {
      // Creating an issue creates a missing label too, but grey and without a description.
      try {
        await request(`reading label ${label}`, "GET", `${projectRoute}/labels/${encodeURIComponent(label)}`, undefined, { ok: [200], expect: LABEL });
        return;
      } catch (error) {
        if (!(error instanceof ForgeError) || error.status !== 404) throw error;
      }
      // 409 "Label already exists": another checker created it a moment ago.
      await request(
        `creating label ${label}`,
        "POST",
        `${projectRoute}/labels`,
        { name: label, color: "#d73a4a", description: "lastbeat: a cron job is silent or failing" },
        { ok: [201, 409], expect: LABEL },
      );
    },
  };
}

/** Accepts the site (`https://gitlab.example.com`, also under a relative root) or its `/api/v4` base. */
export function gitlabApiBase(url: string): string {
  const trimmed = url.trim().replace(/\/+$/, "");
  return /\/api\/v4$/.test(trimmed) ? trimmed : `${trimmed}/api/v4`;
}

/** `group/subgroup/project`: at least two segments, no empty ones, no spaces. */
export function projectPath(repo: string): string {
  const trimmed = repo.trim().replace(/^\/+|\/+$/g, "");
  if (!/^[^/\s]+(\/[^/\s]+)+$/.test(trimmed) || trimmed.split("/").some((s) => s === "." || s === "..")) {
    throw new ForgeError(`--repo must be a GitLab project path like group/project or group/subgroup/project, got ${JSON.stringify(repo)}`);
  }
  return trimmed;
}

function toIssue(i: GitLabIssue): ForgeIssue {
  return {
    number: i.iid,
    title: i.title,
    body: i.description ?? "",
    createdAt: i.created_at,
    url: i.web_url ?? "",
    labels: i.labels ?? [],
    ...(typeof i.user_notes_count === "number" && { comments: i.user_notes_count }),
    ...withAuthor(i),
  };
}

/**
 * GitLab's error bodies: `{"message": "404 Project Not Found"}`, a validation failure as
 * `{"message": {"title": ["is too long (maximum is 255 characters)"]}}`, or `{"error": "…"}`.
 */
function gitlabMessage(data: unknown): string | undefined {
  const d = data as { message?: unknown; error?: unknown } | null;
  if (typeof d?.message === "string") return d.message;
  if (d?.message && typeof d.message === "object") {
    return Object.entries(d.message as Record<string, unknown>)
      .map(([field, problems]) => `${field} ${Array.isArray(problems) ? problems.join(", ") : String(problems)}`)
      .join("; ");
  }
  return typeof d?.error === "string" ? d.error : undefined;
}

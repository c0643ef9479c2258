import { GITLAB_LIMITS, GitLabRoutes } from "./gitlab.js";
import { pageOf } from "./pages.js";
import { BOT, type FakeComment, type FakeIssue, type FakeLabel, type Flavor, type ForgeState } from "./state.js";

/*
 * The issue API routes lastbeat uses, in GitHub's and Gitea's JSON shapes, with their
 * differences: GitHub mixes pull requests into the issue list, pages by `per_page` (≤ 100),
 * answers an edit with 200 and takes label names; Gitea pages by `limit` (≤ 50) with
 * `X-Total-Count`, takes label IDs on create and answers an edit with 201. GitLab's face is its
 * own module (./gitlab.ts), routed to from here.
 */

export interface Reply {
  status: number;
  body?: unknown;
  /** A plain-text answer instead of JSON (GitLab's throttle answer). */
  text?: string;
  headers?: Record<string, string>;
}

export interface Site {
  owner: string;
  repoName: string;
  /** `""` (GitHub), `/api/v1` (Gitea) or `/api/v4` (GitLab). */
  prefix: string;
  /** `http://127.0.0.1:port`, known once the server listens. */
  origin(): string;
}

/** Titles and bodies longer than these are refused; `null` when the forge sets no limit. */
export const LENGTH_LIMITS: Record<Flavor, { title: number; body: number | null }> = {
  github: { title: 256, body: 65_536 },
  // Gitea: `binding:"MaxSize(255)"` on the title; bodies are LONGTEXT.
  gitea: { title: 255, body: null },
  gitlab: { title: GITLAB_LIMITS.title, body: GITLAB_LIMITS.description },
};

export class Routes {
  private readonly flavor: Flavor;
  private readonly gitlab: GitLabRoutes | null;

  constructor(
    private readonly state: ForgeState,
    private readonly site: Site,
  ) {
    this.flavor = state.flavor;
    this.gitlab = state.flavor === "gitlab" ? new GitLabRoutes(state, site) : null;
  }

  notFound(): Reply {
    if (this.gitlab) return this.gitlab.notFound();
    return {
      status: 404,
      body: this.flavor === "github" ? { message: "Not Found", documentation_url: "https://docs.github.com/rest", status: "404" } : { message: "Not Found", url: this.site.origin() },
    };
  }

  unauthorised(): Reply {
    if (this.gitlab) return this.gitlab.unauthorised();
    return { status: 401, body: this.flavor === "github" ? { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" } : { message: "token is required" } };
  }

  private invalid(message: string, errors: unknown[] = []): Reply {
    return {
      status: 422,
      body: this.flavor === "github" ? { message: "Validation Failed", errors, documentation_url: "https://docs.github.com/rest" } : { message, url: this.site.origin() },
    };
  }

  /**
   * The forges' length limits, answered as they answer them: GitHub refuses a title over 256
   * characters and a body or comment over 65,536 (422 "is too long"); Gitea a title over 255.
   */
  private tooLong(resource: "Issue" | "IssueComment", b: Record<string, unknown>): Reply | null {
    const limits = LENGTH_LIMITS[this.flavor];
    for (const field of ["title", "body"] as const) {
      const value = b[field];
      const max = field === "title" ? limits.title : limits.body;
      if (typeof value !== "string" || max === null || value.length <= max) continue;
      if (field === "title" && resource === "IssueComment") continue;
      const message = `${field} is too long (maximum is ${max} characters)`;
      return this.invalid(message, [{ resource, code: "custom", field, message }]);
    }
    return null;
  }

  route(method: string, path: string, query: URLSearchParams, body: unknown): Reply {
    if (this.gitlab) return this.gitlab.route(method, path, query, body);
    const { state, flavor } = this;
    const { owner, repoName, prefix } = this.site;
    const origin = this.site.origin();
    const repoPrefix = `/repos/${owner}/${repoName}`;
    if (!path.startsWith(`${repoPrefix}/`)) return this.notFound();
    const rest = path.slice(repoPrefix.length);
    const b = (body ?? {}) as Record<string, unknown>;
    let m: RegExpExecArray | null;

    if (rest === "/issues" && method === "GET") return this.listIssues(path, query);
    if (rest === "/issues" && method === "POST") {
      if (typeof b.title !== "string" || b.title === "") return this.invalid("title is required", [{ resource: "Issue", field: "title", code: "missing_field" }]);
      const tooLong = this.tooLong("Issue", b);
      if (tooLong) return tooLong;
      const wanted = Array.isArray(b.labels) ? b.labels : [];
      let names: string[];
      if (flavor === "gitea") {
        // Gitea's CreateIssueOption.labels is []int64: names do not unmarshal.
        if (wanted.some((l) => typeof l !== "number")) return this.invalid("[]: json: cannot unmarshal string into Go struct field CreateIssueOption.labels of type int64");
        const found = wanted.map((id) => state.labels.find((l) => l.id === id));
        if (found.some((l) => !l)) return this.invalid("label does not exist");
        names = found.map((l) => l!.name);
      } else {
        if (wanted.some((l) => typeof l !== "string")) return this.invalid("labels must be names");
        names = wanted as string[];
      }
      const issue = state.addIssue({ title: b.title, body: typeof b.body === "string" ? b.body : "", labels: names });
      return { status: 201, body: this.issueJson(issue), headers: { location: `${origin}${prefix}${repoPrefix}/issues/${issue.number}` } };
    }
    if ((m = /^\/issues\/(\d+)$/.exec(rest))) {
      const issue = state.findIssue(Number(m[1]));
      if (!issue) return this.notFound();
      if (method === "GET") return { status: 200, body: this.issueJson(issue) };
      if (method === "PATCH") {
        const tooLong = this.tooLong("Issue", b);
        if (tooLong) return tooLong;
        if (typeof b.title === "string") issue.title = b.title;
        if (typeof b.body === "string") issue.body = b.body;
        if (b.state === "closed" && issue.state === "open") {
          issue.state = "closed";
          issue.closed_at = state.now().toISOString();
          issue.state_reason = typeof b.state_reason === "string" ? b.state_reason : "completed";
        } else if (b.state === "open") {
          issue.state = "open";
          issue.closed_at = null;
          issue.state_reason = flavor === "github" ? "reopened" : null;
        }
        issue.updated_at = state.now().toISOString();
        // Gitea answers an edit with 201 Created.
        return { status: flavor === "gitea" ? 201 : 200, body: this.issueJson(issue) };
      }
    }
    if ((m = /^\/issues\/(\d+)\/comments$/.exec(rest)) && method === "GET") {
      const issue = state.findIssue(Number(m[1]));
      if (!issue) return this.notFound();
      return this.listComments(path, query, issue);
    }
    if ((m = /^\/issues\/(\d+)\/comments$/.exec(rest)) && method === "POST") {
      const issue = state.findIssue(Number(m[1]));
      if (!issue) return this.notFound();
      if (typeof b.body !== "string" || b.body === "") return this.invalid("body is required");
      const tooLong = this.tooLong("IssueComment", b);
      if (tooLong) return tooLong;
      const comment = state.addComment(issue, b.body);
      return { status: 201, body: this.commentJson(issue, comment) };
    }
    if (rest === "/labels" && method === "GET") {
      return this.paged(path, query, state.labels.map((l) => this.labelJson(l)));
    }
    if (rest === "/labels" && method === "POST") {
      if (typeof b.name !== "string" || b.name === "") return this.invalid("name is required");
      if (state.findLabel(b.name)) {
        return flavor === "github"
          ? this.invalid("Validation Failed", [{ resource: "Label", code: "already_exists", field: "name" }])
          : { status: 409, body: { message: "label already exists" } };
      }
      const color = typeof b.color === "string" ? b.color : "";
      if (flavor === "gitea" ? !/^#?[0-9a-f]{6}$/i.test(color) : !/^[0-9a-f]{6}$/i.test(color)) return this.invalid(`invalid color ${color}`);
      const label = state.addLabel({ name: b.name, color: color.replace(/^#/, ""), description: typeof b.description === "string" ? b.description : "" });
      return { status: 201, body: this.labelJson(label) };
    }
    if ((m = /^\/labels\/([^/]+)$/.exec(rest)) && flavor === "github" && method === "GET") {
      const label = state.findLabel(decodeURIComponent(m[1]!));
      return label ? { status: 200, body: this.labelJson(label) } : this.notFound();
    }
    return this.notFound();
  }

  private listIssues(path: string, query: URLSearchParams): Reply {
    const state = query.get("state") ?? "open";
    const wanted = (query.get("labels") ?? "").split(",").map((l) => l.trim().toLowerCase()).filter(Boolean);
    let list = this.state.issues.filter((i) => state === "all" || i.state === state);
    if (wanted.length > 0) list = list.filter((i) => wanted.every((w) => i.labels.some((l) => l.toLowerCase() === w)));
    if (this.flavor === "gitea") {
      const type = query.get("type");
      if (type === "issues") list = list.filter((i) => !i.pull);
      if (type === "pulls") list = list.filter((i) => i.pull);
      // Gitea lists newest first.
      list = [...list].sort((a, b) => b.number - a.number);
    } else {
      const direction = query.get("direction") ?? "desc";
      list = [...list].sort((a, b) => (direction === "asc" ? a.number - b.number : b.number - a.number));
    }
    return this.paged(path, query, list.map((i) => this.issueJson(i)));
  }

  /**
   * An issue's comments, oldest first (GitHub: "ordered by ascending ID"), `since` and (Gitea)
   * `before` filtering by update time. GitHub pages them like issues; Gitea does not page them at
   * all: `page` and `limit` are ignored and one answer holds every comment, with `X-Total-Count`.
   */
  private listComments(path: string, query: URLSearchParams, issue: FakeIssue): Reply {
    const since = query.get("since");
    const before = this.flavor === "gitea" ? query.get("before") : null;
    for (const time of [since, before]) {
      if (time !== null && Number.isNaN(Date.parse(time))) return this.invalid(`invalid time ${time}`);
    }
    const list = issue.comments
      .filter((c) => (since === null || Date.parse(c.created_at) >= Date.parse(since)) && (before === null || Date.parse(c.created_at) < Date.parse(before)))
      .map((c) => this.commentJson(issue, c));
    if (this.flavor === "gitea") return { status: 200, body: list, headers: { "x-total-count": String(list.length) } };
    return this.paged(path, query, list);
  }

  private paged(path: string, query: URLSearchParams, all: unknown[]): Reply {
    const github = this.flavor === "github";
    const { prefix } = this.site;
    const origin = this.site.origin();
    const { items, page, last, link } = pageOf(all, query, { sizeParam: github ? "per_page" : "limit", max: github ? 100 : 50, fallback: 30, url: `${origin}${prefix}${path}` });
    const links: string[] = [];
    if (page < last) links.push(link(page + 1, "next"), link(last, "last"));
    if (page > 1) links.push(link(1, "first"), link(page - 1, "prev"));
    const headers: Record<string, string> = {};
    if (links.length > 0) headers.link = links.join(", ");
    if (!github) headers["x-total-count"] = String(all.length);
    return { status: 200, body: items, headers };
  }

  // ---- JSON shapes -------------------------------------------------------------------------

  private user(login = BOT) {
    const origin = this.site.origin();
    const id = login === BOT ? 1 : 2;
    return this.flavor === "github"
      ? {
          login,
          id,
          node_id: Buffer.from(`04:User${id}`).toString("base64"),
          avatar_url: `${origin}/avatars/${id}`,
          gravatar_id: "",
          url: `${origin}/users/${login}`,
          html_url: `${origin}/${login}`,
          followers_url: `${origin}/users/${login}/followers`,
          following_url: `${origin}/users/${login}/following{/other_user}`,
          gists_url: `${origin}/users/${login}/gists{/gist_id}`,
          starred_url: `${origin}/users/${login}/starred{/owner}{/repo}`,
          subscriptions_url: `${origin}/users/${login}/subscriptions`,
          organizations_url: `${origin}/users/${login}/orgs`,
          repos_url: `${origin}/users/${login}/repos`,
          events_url: `${origin}/users/${login}/events{/privacy}`,
          received_events_url: `${origin}/users/${login}/received_events`,
          type: "User",
          site_admin: false,
        }
      : { id, login, full_name: "", email: `${login}@example.test` };
  }

  private htmlBase(): string {
    return `${this.site.origin()}/${this.site.owner}/${this.site.repoName}`;
  }

  private labelJson(l: FakeLabel) {
    const { owner, repoName, prefix } = this.site;
    const url = `${this.site.origin()}${prefix}/repos/${owner}/${repoName}/labels/${encodeURIComponent(l.name)}`;
    return this.flavor === "github"
      ? { id: l.id, node_id: `LA_${l.id}`, url, name: l.name, description: l.description || null, color: l.color, default: false }
      : { id: l.id, name: l.name, color: l.color, description: l.description, exclusive: false, is_archived: false, url };
  }

  private issueJson(i: FakeIssue) {
    const { owner, repoName, prefix } = this.site;
    const origin = this.site.origin();
    const api = `${origin}${prefix}/repos/${owner}/${repoName}/issues/${i.number}`;
    const html = `${this.htmlBase()}/${i.pull ? "pull" : "issues"}/${i.number}`;
    const issueLabels = i.labels
      .map((n) => this.state.findLabel(n))
      .filter((l): l is FakeLabel => !!l)
      .map((l) => this.labelJson(l));
    if (this.flavor === "github") {
      return {
        id: i.id,
        node_id: `I_${i.id}`,
        url: api,
        repository_url: `${origin}/repos/${owner}/${repoName}`,
        labels_url: `${api}/labels{/name}`,
        comments_url: `${api}/comments`,
        events_url: `${api}/events`,
        html_url: html,
        number: i.number,
        state: i.state,
        state_reason: i.state_reason,
        title: i.title,
        body: i.body,
        user: this.user(i.author),
        labels: issueLabels,
        assignee: null,
        assignees: [],
        milestone: null,
        locked: false,
        active_lock_reason: null,
        comments: i.comments.length,
        closed_at: i.closed_at,
        created_at: i.created_at,
        updated_at: i.updated_at,
        author_association: "OWNER",
        ...(i.pull && {
          pull_request: {
            url: `${origin}/repos/${owner}/${repoName}/pulls/${i.number}`,
            html_url: html,
            diff_url: `${html}.diff`,
            patch_url: `${html}.patch`,
            merged_at: null,
          },
        }),
      };
    }
    return {
      id: i.id,
      url: api,
      html_url: html,
      number: i.number,
      user: this.user(i.author),
      original_author: "",
      title: i.title,
      body: i.body,
      ref: "",
      labels: issueLabels,
      milestone: null,
      assignee: null,
      assignees: null,
      state: i.state,
      is_locked: false,
      comments: i.comments.length,
      created_at: i.created_at,
      updated_at: i.updated_at,
      closed_at: i.closed_at,
      due_date: null,
      pull_request: i.pull ? { merged: false, merged_at: null, draft: false, html_url: html } : null,
      repository: { id: 1, name: repoName, owner, full_name: `${owner}/${repoName}` },
    };
  }

  private commentJson(i: FakeIssue, c: FakeComment) {
    const { owner, repoName } = this.site;
    const origin = this.site.origin();
    const html = `${this.htmlBase()}/issues/${i.number}#issuecomment-${c.id}`;
    return this.flavor === "github"
      ? {
          id: c.id,
          node_id: `IC_${c.id}`,
          url: `${origin}/repos/${owner}/${repoName}/issues/comments/${c.id}`,
          html_url: html,
          issue_url: `${origin}/repos/${owner}/${repoName}/issues/${i.number}`,
          body: c.body,
          user: this.user(c.author),
          created_at: c.created_at,
          updated_at: c.created_at,
          author_association: "OWNER",
        }
      : { id: c.id, html_url: html, issue_url: `${this.htmlBase()}/issues/${i.number}`, user: this.user(c.author), body: c.body, created_at: c.created_at, updated_at: c.created_at };
  }
}

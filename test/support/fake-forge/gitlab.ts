import { pageOf } from "./pages.js";
import type { Reply, Site } from "./routes.js";
import { BOT, type FakeComment, type FakeIssue, type FakeLabel, type ForgeState } from "./state.js";

/*
 * GitLab's face of the fake forge: the REST API v4 routes lastbeat uses, in GitLab's shapes.
 * Checked against GitLab's own API documentation, docs.gitlab.com/api/issues, /api/notes,
 * /api/labels and /api/rest (pagination, namespaced paths), version 18.10 (as mirrored in
 * Knuckles-Team/gitlab-api@01e20797, gitlab_api/skills/gitlab-api-docs/reference/issues.md) and the
 * attribute limits stated there ("description … Limited to 1,048,576 characters"); the pinned
 * contract is test/forge/fake-forge-gitlab.test.ts. What GitLab does that the others do not:
 *
 * - the project is `:id`, its full path URL-encoded (`acme%2Fops`): an unencoded path is a 404;
 * - issues are addressed by `iid` (the `#12` people see), never by the global `id`;
 * - `state` is `opened`/`closed`, and a list without `state` lists both;
 * - the body is `description`; labels are comma-separated names, created when missing;
 * - an edit is `PUT` (200), closing is `state_event=close`, comments are notes (`body`);
 * - pages: `per_page` ≤ 100 (default 20), `x-next-page` (empty on the last page) and `Link`;
 * - errors: `{"message": "404 Project Not Found"}`, validation `{"message": {"title": [...]}}`
 *   with 400, a missing parameter `{"error": "title is missing"}`.
 */

export const GITLAB_LIMITS = { title: 255, description: 1_048_576, note: 1_000_000 } as const;
export const PROJECT_ID = 42;

export class GitLabRoutes {
  constructor(
    private readonly state: ForgeState,
    private readonly site: Site,
  ) {}

  private get project(): string {
    return `${this.site.owner}/${this.site.repoName}`;
  }

  notFound(what = "404 Not Found"): Reply {
    return { status: 404, body: { message: what } };
  }

  unauthorised(): Reply {
    return { status: 401, body: { message: "401 Unauthorized" } };
  }

  private missing(param: string): Reply {
    return { status: 400, body: { error: `${param} is missing` } };
  }

  private invalid(field: string, problem: string): Reply {
    return { status: 400, body: { message: { [field]: [problem] } } };
  }

  private tooLong(field: string, value: unknown, max: number): Reply | null {
    return typeof value === "string" && value.length > max ? this.invalid(field, `is too long (maximum is ${max} characters)`) : null;
  }

  route(method: string, path: string, query: URLSearchParams, body: unknown): Reply {
    const { state } = this;
    const m0 = /^\/projects\/([^/]+)(\/.*)$/.exec(path);
    if (!m0) return this.notFound();
    // `:id` is the numeric id or the URL-encoded full path; `acme/ops` unencoded never gets here.
    const id = decodeURIComponent(m0[1]!);
    if (id !== this.project && id !== String(PROJECT_ID)) return this.notFound("404 Project Not Found");
    const rest = m0[2]!;
    const b = (body ?? {}) as Record<string, unknown>;
    let m: RegExpExecArray | null;

    if (rest === "/issues" && method === "GET") return this.listIssues(path, query);
    if (rest === "/issues" && method === "POST") {
      if (typeof b.title !== "string" || b.title === "") return this.missing("title");
      const tooLong = this.tooLong("title", b.title, GITLAB_LIMITS.title) ?? this.tooLong("description", b.description, GITLAB_LIMITS.description);
      if (tooLong) return tooLong;
      const names = labelNames(b.labels);
      if (names === null) return { status: 400, body: { error: "labels is invalid" } };
      for (const name of names) if (!state.findLabel(name)) state.addLabel({ name, color: "#6699cc" });
      const issue = state.addIssue({ title: b.title, body: typeof b.description === "string" ? b.description : "", labels: names });
      return { status: 201, body: this.issueJson(issue) };
    }
    if ((m = /^\/issues\/(\d+)$/.exec(rest))) {
      const issue = this.byIid(Number(m[1]));
      if (!issue) return this.notFound("404 Issue Not Found");
      if (method === "GET") return { status: 200, body: this.issueJson(issue) };
      if (method === "PUT") {
        const known = ["title", "description", "state_event", "labels", "add_labels", "remove_labels"];
        if (!known.some((k) => b[k] !== undefined)) {
          return { status: 400, body: { error: `${known.join(", ")} are missing, at least one parameter must be provided` } };
        }
        if (b.title !== undefined && (typeof b.title !== "string" || b.title === "")) return this.invalid("title", "can't be blank");
        const tooLong = this.tooLong("title", b.title, GITLAB_LIMITS.title) ?? this.tooLong("description", b.description, GITLAB_LIMITS.description);
        if (tooLong) return tooLong;
        if (b.state_event !== undefined && b.state_event !== "close" && b.state_event !== "reopen") {
          return { status: 400, body: { error: "state_event does not have a valid value" } };
        }
        if (typeof b.title === "string") issue.title = b.title;
        if (typeof b.description === "string") issue.body = b.description;
        if (b.state_event === "close" && issue.state === "open") {
          issue.state = "closed";
          issue.closed_at = state.now().toISOString();
          issue.state_reason = "completed";
        } else if (b.state_event === "reopen" && issue.state === "closed") {
          issue.state = "open";
          issue.closed_at = null;
          issue.state_reason = null;
        }
        issue.updated_at = state.now().toISOString();
        return { status: 200, body: this.issueJson(issue) };
      }
    }
    if ((m = /^\/issues\/(\d+)\/notes$/.exec(rest)) && method === "GET") {
      const issue = this.byIid(Number(m[1]));
      if (!issue) return this.notFound("404 Issue Not Found");
      return this.listNotes(path, query, issue);
    }
    if ((m = /^\/issues\/(\d+)\/notes$/.exec(rest)) && method === "POST") {
      const issue = this.byIid(Number(m[1]));
      if (!issue) return this.notFound("404 Issue Not Found");
      if (typeof b.body !== "string" || b.body === "") return this.missing("body");
      const tooLong = this.tooLong("note", b.body, GITLAB_LIMITS.note);
      if (tooLong) return tooLong;
      const note = state.addComment(issue, b.body);
      return { status: 201, body: this.noteJson(issue, note) };
    }
    if ((m = /^\/labels\/([^/]+)$/.exec(rest)) && method === "GET") {
      const label = state.findLabel(decodeURIComponent(m[1]!));
      return label ? { status: 200, body: this.labelJson(label) } : this.notFound("404 Label Not Found");
    }
    if (rest === "/labels" && method === "POST") {
      if (typeof b.name !== "string" || b.name === "") return this.missing("name");
      if (typeof b.color !== "string" || b.color === "") return this.missing("color");
      if (!/^#[0-9a-f]{6}$/i.test(b.color)) return this.invalid("color", "must be a valid color code");
      if (state.findLabel(b.name)) return { status: 409, body: { message: "Label already exists" } };
      const label = state.addLabel({ name: b.name, color: b.color, description: typeof b.description === "string" ? b.description : "" });
      return { status: 201, body: this.labelJson(label) };
    }
    return this.notFound();
  }

  private byIid(iid: number): FakeIssue | undefined {
    // Merge requests have their own iids and routes: never an issue.
    const issue = this.state.findIssue(iid);
    return issue && !issue.pull ? issue : undefined;
  }

  private listIssues(path: string, query: URLSearchParams): Reply {
    const wantedState = query.get("state") ?? "all";
    if (!["opened", "closed", "all"].includes(wantedState)) return { status: 400, body: { error: "state does not have a valid value" } };
    const wanted = (query.get("labels") ?? "").split(",").map((l) => l.trim().toLowerCase()).filter(Boolean);
    let list = this.state.issues.filter((i) => !i.pull && (wantedState === "all" || (wantedState === "opened" ? i.state === "open" : i.state === "closed")));
    if (wanted.length > 0) list = list.filter((i) => wanted.every((w) => i.labels.some((l) => l.toLowerCase() === w)));
    const orderBy = query.get("order_by") ?? "created_at";
    const asc = (query.get("sort") ?? "desc") === "asc";
    const key = (i: FakeIssue) => (orderBy === "updated_at" ? Date.parse(i.updated_at) : Date.parse(i.created_at)) * 1e6 + i.number;
    list = [...list].sort((a, b) => (asc ? key(a) - key(b) : key(b) - key(a)));
    return this.paged(path, query, list.map((i) => this.issueJson(i)));
  }

  /** An issue's notes: `sort` asc or desc (default desc, newest first), `order_by` created_at or updated_at, paged like issues. */
  private listNotes(path: string, query: URLSearchParams, issue: FakeIssue): Reply {
    const sort = query.get("sort") ?? "desc";
    const orderBy = query.get("order_by") ?? "created_at";
    if (sort !== "asc" && sort !== "desc") return { status: 400, body: { error: "sort does not have a valid value" } };
    if (orderBy !== "created_at" && orderBy !== "updated_at") return { status: 400, body: { error: "order_by does not have a valid value" } };
    // Notes are never edited here: updated_at is created_at, and the id breaks ties.
    const key = (c: FakeComment) => Date.parse(c.created_at) * 1e6 + c.id;
    const list = [...issue.comments].sort((a, b) => (sort === "asc" ? key(a) - key(b) : key(b) - key(a)));
    return this.paged(path, query, list.map((c) => this.noteJson(issue, c)));
  }

  private paged(path: string, query: URLSearchParams, all: unknown[]): Reply {
    const { items, page, last, size, link } = pageOf(all, query, { sizeParam: "per_page", max: 100, fallback: 20, url: `${this.site.origin()}${this.site.prefix}${path}` });
    const links: string[] = [];
    if (page > 1) links.push(link(page - 1, "prev"));
    if (page < last) links.push(link(page + 1, "next"));
    links.push(link(1, "first"), link(last, "last"));
    return {
      status: 200,
      body: items,
      headers: {
        link: links.join(", "),
        "x-page": String(page),
        "x-per-page": String(size),
        "x-next-page": page < last ? String(page + 1) : "",
        "x-prev-page": page > 1 ? String(page - 1) : "",
        "x-total": String(all.length),
        "x-total-pages": String(last),
      },
    };
  }

  // ---- JSON shapes (docs.gitlab.com/api/issues, /api/notes, /api/labels) -------------------

  private webBase(): string {
    return `${this.site.origin()}/${this.project}`;
  }

  private user(username = BOT) {
    const origin = this.site.origin();
    return { id: username === BOT ? 1 : 2, username, name: username, state: "active", locked: false, avatar_url: null, web_url: `${origin}/${username}` };
  }

  private labelJson(l: FakeLabel) {
    const open = this.state.openIssues(l.name).length;
    return {
      id: l.id,
      name: l.name,
      color: l.color.startsWith("#") ? l.color : `#${l.color}`,
      text_color: "#FFFFFF",
      description: l.description || null,
      description_html: l.description,
      open_issues_count: open,
      closed_issues_count: 0,
      open_merge_requests_count: 0,
      subscribed: false,
      priority: null,
      is_project_label: true,
      archived: false,
    };
  }

  private issueJson(i: FakeIssue) {
    const api = `${this.site.origin()}${this.site.prefix}/projects/${PROJECT_ID}`;
    return {
      id: i.id,
      iid: i.number,
      project_id: PROJECT_ID,
      title: i.title,
      description: i.body,
      state: i.state === "open" ? "opened" : "closed",
      created_at: i.created_at,
      updated_at: i.updated_at,
      closed_at: i.closed_at,
      closed_by: i.state === "closed" ? this.user() : null,
      labels: i.labels.map((n) => this.state.findLabel(n)?.name ?? n),
      milestone: null,
      assignees: [],
      author: this.user(i.author),
      type: "ISSUE",
      assignee: null,
      user_notes_count: i.comments.length,
      merge_requests_count: 0,
      upvotes: 0,
      downvotes: 0,
      due_date: null,
      confidential: false,
      discussion_locked: null,
      issue_type: "issue",
      web_url: `${this.webBase()}/-/issues/${i.number}`,
      time_stats: { time_estimate: 0, total_time_spent: 0, human_time_estimate: null, human_total_time_spent: null },
      task_completion_status: { count: 0, completed_count: 0 },
      has_tasks: false,
      _links: {
        self: `${api}/issues/${i.number}`,
        notes: `${api}/issues/${i.number}/notes`,
        award_emoji: `${api}/issues/${i.number}/award_emoji`,
        project: api,
        closed_as_duplicate_of: null,
      },
      references: { short: `#${i.number}`, relative: `#${i.number}`, full: `${this.project}#${i.number}` },
      severity: "UNKNOWN",
      moved_to_id: null,
      imported: false,
      imported_from: "none",
      service_desk_reply_to: null,
    };
  }

  private noteJson(i: FakeIssue, c: FakeComment) {
    return {
      id: c.id,
      type: null,
      body: c.body,
      attachment: null,
      author: this.user(c.author),
      created_at: c.created_at,
      updated_at: c.created_at,
      system: false,
      noteable_id: i.id,
      noteable_type: "Issue",
      project_id: PROJECT_ID,
      resolvable: false,
      confidential: false,
      internal: false,
      imported: false,
      imported_from: "none",
      noteable_iid: i.number,
      commands_changes: {},
    };
  }
}

/** `labels` as GitLab's API takes it: a comma-separated string or (JSON) an array of names. */
function labelNames(value: unknown): string[] | null {
  if (value === undefined || value === null) return [];
  if (typeof value === "string") return value.split(",").map((l) => l.trim()).filter(Boolean);
  if (Array.isArray(value) && value.every((l) => typeof l === "string")) return value.map((l) => (l as string).trim()).filter(Boolean);
  return null;
}

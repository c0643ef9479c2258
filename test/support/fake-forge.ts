import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/*
 * A real HTTP server on 127.0.0.1, port 0, that models the parts of GitHub's and Gitea's issue
 * APIs lastbeat uses, with their differences: GitHub mixes pull requests into the issue list,
 * pages by `per_page` (≤ 100) with a `Link` header, answers an edit with 200 and takes label
 * names; Gitea pages by `limit` (≤ 50) with `Link` and `X-Total-Count`, takes label IDs on create
 * and answers an edit with 201. Auth headers are checked. Every request is logged, and faults can
 * be injected (status codes, answers after the write happened, dropped connections, slow answers,
 * rate limits with `retry-after`). The GitHub side is checked against @octokit/openapi in
 * test/forge/fake-forge-openapi.test.ts.
 */

export type Flavor = "github" | "gitea";

export interface FakeComment {
  id: number;
  body: string;
  created_at: string;
}

export interface FakeIssue {
  id: number;
  number: number;
  title: string;
  body: string;
  state: "open" | "closed";
  state_reason: string | null;
  labels: string[];
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  pull: boolean;
  comments: FakeComment[];
}

export interface FakeLabel {
  id: number;
  name: string;
  color: string;
  description: string;
}

export interface LoggedRequest {
  method: string;
  /** Path without the API prefix and without the query: `/repos/o/r/issues`. */
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** The status answered, or "dropped" when the connection was cut. */
  status: number | "dropped";
  /** The JSON answered, and its headers. */
  response?: unknown;
  headers?: Record<string, string>;
}

export interface Fault {
  method?: string;
  /** Matched against the logged path. */
  path?: RegExp;
  /** How many matching requests it applies to (default 1). */
  times?: number;
  /** Answer with this status instead of handling the request. */
  status?: number;
  /** Handle the request (the write happens), then answer `status` or drop: the lost answer. */
  afterHandling?: boolean;
  /** Close the connection without an answer. */
  drop?: boolean;
  /** `retry-after` seconds on the answer. */
  retryAfter?: number;
  /** GitHub's rate-limit answers: a 403 "secondary rate limit" message, or remaining 0. */
  rateLimit?: "secondary" | "primary";
  /** Hold the answer this long (a slow server). */
  delayMs?: number;
}

export interface FakeForgeOptions {
  flavor: Flavor;
  token?: string;
  owner?: string;
  repo?: string;
  /** The server's clock for created/updated times; defaults to a fixed instant ticking 1 s per write. */
  now?: () => Date;
}

export interface FakeForge {
  readonly flavor: Flavor;
  /** The API base a client is given: `http://127.0.0.1:port` (GitHub) or `…/api/v1` (Gitea). */
  readonly url: string;
  readonly token: string;
  readonly repo: string;
  readonly issues: FakeIssue[];
  readonly labels: FakeLabel[];
  readonly requests: LoggedRequest[];
  fault(fault: Fault): void;
  /** Requests since the last `resetLog`, split by reads and writes. */
  counts(): { reads: number; writes: number; total: number };
  resetLog(): void;
  openIssues(label?: string): FakeIssue[];
  issue(number: number): FakeIssue;
  /** What a person does in the web UI. */
  person: {
    close(number: number): void;
    editBody(number: number, body: string): void;
    deleteLabel(name: string): void;
    open(fields: { title: string; body?: string; labels?: string[]; pull?: boolean }): FakeIssue;
  };
  close(): Promise<void>;
}

const BASE_TIME = Date.parse("2025-01-01T00:00:00Z");

export async function startFakeForge(options: FakeForgeOptions): Promise<FakeForge> {
  const flavor = options.flavor;
  const token = options.token ?? "fake-token-0123456789abcdef";
  const owner = options.owner ?? "acme";
  const repoName = options.repo ?? "ops";
  let tick = 0;
  const now = options.now ?? (() => new Date(BASE_TIME + 1000 * tick++));
  const issues: FakeIssue[] = [];
  const labels: FakeLabel[] = [];
  const requests: LoggedRequest[] = [];
  const faults: Array<Fault & { left: number }> = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let nextId = 1000;
  let logStart = 0;
  let origin = "";

  const prefix = flavor === "github" ? "" : "/api/v1";
  const htmlBase = () => `${origin}/${owner}/${repoName}`;

  function addIssue(fields: { title: string; body?: string; labels?: string[]; pull?: boolean }): FakeIssue {
    const at = now().toISOString();
    for (const name of fields.labels ?? []) {
      if (!findLabel(name)) {
        if (flavor === "gitea") throw new Error(`fake gitea: label ${name} does not exist`);
        labels.push({ id: nextId++, name, color: "ededed", description: "" });
      }
    }
    const issue: FakeIssue = {
      id: nextId++,
      number: issues.length + 1,
      title: fields.title,
      body: fields.body ?? "",
      state: "open",
      state_reason: null,
      labels: (fields.labels ?? []).map((n) => findLabel(n)!.name),
      created_at: at,
      updated_at: at,
      closed_at: null,
      pull: fields.pull ?? false,
      comments: [],
    };
    issues.push(issue);
    return issue;
  }

  function findLabel(name: string): FakeLabel | undefined {
    return labels.find((l) => l.name.toLowerCase() === name.toLowerCase());
  }

  // ---- JSON shapes -------------------------------------------------------------------------

  const user = () =>
    flavor === "github"
      ? {
          login: "lastbeat-bot",
          id: 1,
          node_id: "MDQ6VXNlcjE=",
          avatar_url: `${origin}/avatars/1`,
          gravatar_id: "",
          url: `${origin}/users/lastbeat-bot`,
          html_url: `${origin}/lastbeat-bot`,
          followers_url: `${origin}/users/lastbeat-bot/followers`,
          following_url: `${origin}/users/lastbeat-bot/following{/other_user}`,
          gists_url: `${origin}/users/lastbeat-bot/gists{/gist_id}`,
          starred_url: `${origin}/users/lastbeat-bot/starred{/owner}{/repo}`,
          subscriptions_url: `${origin}/users/lastbeat-bot/subscriptions`,
          organizations_url: `${origin}/users/lastbeat-bot/orgs`,
          repos_url: `${origin}/users/lastbeat-bot/repos`,
          events_url: `${origin}/users/lastbeat-bot/events{/privacy}`,
          received_events_url: `${origin}/users/lastbeat-bot/received_events`,
          type: "User",
          site_admin: false,
        }
      : { id: 1, login: "lastbeat-bot", full_name: "", email: "bot@example.test" };

  function labelJson(l: FakeLabel) {
    const url = `${origin}${prefix}/repos/${owner}/${repoName}/labels/${encodeURIComponent(l.name)}`;
    return flavor === "github"
      ? { id: l.id, node_id: `LA_${l.id}`, url, name: l.name, description: l.description || null, color: l.color, default: false }
      : { id: l.id, name: l.name, color: l.color, description: l.description, exclusive: false, is_archived: false, url };
  }

  function issueJson(i: FakeIssue) {
    const api = `${origin}${prefix}/repos/${owner}/${repoName}/issues/${i.number}`;
    const html = `${htmlBase()}/${i.pull ? "pull" : "issues"}/${i.number}`;
    const issueLabels = i.labels.map((n) => findLabel(n)).filter((l): l is FakeLabel => !!l).map(labelJson);
    if (flavor === "github") {
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
        user: user(),
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
      user: user(),
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

  function commentJson(i: FakeIssue, c: FakeComment) {
    const html = `${htmlBase()}/issues/${i.number}#issuecomment-${c.id}`;
    return flavor === "github"
      ? {
          id: c.id,
          node_id: `IC_${c.id}`,
          url: `${origin}/repos/${owner}/${repoName}/issues/comments/${c.id}`,
          html_url: html,
          issue_url: `${origin}/repos/${owner}/${repoName}/issues/${i.number}`,
          body: c.body,
          user: user(),
          created_at: c.created_at,
          updated_at: c.created_at,
          author_association: "OWNER",
        }
      : { id: c.id, html_url: html, issue_url: `${htmlBase()}/issues/${i.number}`, user: user(), body: c.body, created_at: c.created_at, updated_at: c.created_at };
  }

  // ---- routing -----------------------------------------------------------------------------

  interface Reply {
    status: number;
    body?: unknown;
    headers?: Record<string, string>;
  }

  const notFound = (): Reply => ({
    status: 404,
    body: flavor === "github" ? { message: "Not Found", documentation_url: "https://docs.github.com/rest", status: "404" } : { message: "Not Found", url: origin },
  });
  const invalid = (message: string, errors: unknown[] = []): Reply => ({
    status: 422,
    body: flavor === "github" ? { message: "Validation Failed", errors, documentation_url: "https://docs.github.com/rest" } : { message, url: origin },
  });

  function route(method: string, path: string, query: URLSearchParams, body: unknown): Reply {
    const repoPrefix = `/repos/${owner}/${repoName}`;
    if (!path.startsWith(`${repoPrefix}/`)) return notFound();
    const rest = path.slice(repoPrefix.length);
    const b = (body ?? {}) as Record<string, unknown>;
    let m: RegExpExecArray | null;

    if (rest === "/issues" && method === "GET") return listIssues(path, query);
    if (rest === "/issues" && method === "POST") {
      if (typeof b.title !== "string" || b.title === "") return invalid("title is required", [{ resource: "Issue", field: "title", code: "missing_field" }]);
      const wanted = Array.isArray(b.labels) ? b.labels : [];
      let names: string[];
      if (flavor === "gitea") {
        // Gitea's CreateIssueOption.labels is []int64: names do not unmarshal.
        if (wanted.some((l) => typeof l !== "number")) return invalid("[]: json: cannot unmarshal string into Go struct field CreateIssueOption.labels of type int64");
        const found = wanted.map((id) => labels.find((l) => l.id === id));
        if (found.some((l) => !l)) return invalid("label does not exist");
        names = found.map((l) => l!.name);
      } else {
        if (wanted.some((l) => typeof l !== "string")) return invalid("labels must be names");
        names = wanted as string[];
      }
      const issue = addIssue({ title: b.title, body: typeof b.body === "string" ? b.body : "", labels: names });
      return { status: 201, body: issueJson(issue), headers: { location: `${origin}${prefix}${repoPrefix}/issues/${issue.number}` } };
    }
    if ((m = /^\/issues\/(\d+)$/.exec(rest))) {
      const issue = issues.find((i) => i.number === Number(m![1]));
      if (!issue) return notFound();
      if (method === "GET") return { status: 200, body: issueJson(issue) };
      if (method === "PATCH") {
        if (typeof b.title === "string") issue.title = b.title;
        if (typeof b.body === "string") issue.body = b.body;
        if (b.state === "closed" && issue.state === "open") {
          issue.state = "closed";
          issue.closed_at = now().toISOString();
          issue.state_reason = typeof b.state_reason === "string" ? b.state_reason : "completed";
        } else if (b.state === "open") {
          issue.state = "open";
          issue.closed_at = null;
          issue.state_reason = flavor === "github" ? "reopened" : null;
        }
        issue.updated_at = now().toISOString();
        // Gitea answers an edit with 201 Created.
        return { status: flavor === "gitea" ? 201 : 200, body: issueJson(issue) };
      }
    }
    if ((m = /^\/issues\/(\d+)\/comments$/.exec(rest)) && method === "POST") {
      const issue = issues.find((i) => i.number === Number(m![1]));
      if (!issue) return notFound();
      if (typeof b.body !== "string" || b.body === "") return invalid("body is required");
      const comment: FakeComment = { id: nextId++, body: b.body, created_at: now().toISOString() };
      issue.comments.push(comment);
      return { status: 201, body: commentJson(issue, comment) };
    }
    if (rest === "/labels" && method === "GET") {
      return paged(path, query, labels.map(labelJson));
    }
    if (rest === "/labels" && method === "POST") {
      if (typeof b.name !== "string" || b.name === "") return invalid("name is required");
      if (findLabel(b.name)) {
        return flavor === "github"
          ? invalid("Validation Failed", [{ resource: "Label", code: "already_exists", field: "name" }])
          : { status: 409, body: { message: "label already exists" } };
      }
      const color = typeof b.color === "string" ? b.color : "";
      if (flavor === "gitea" ? !/^#?[0-9a-f]{6}$/i.test(color) : !/^[0-9a-f]{6}$/i.test(color)) return invalid(`invalid color ${color}`);
      const label: FakeLabel = { id: nextId++, name: b.name, color: color.replace(/^#/, ""), description: typeof b.description === "string" ? b.description : "" };
      labels.push(label);
      return { status: 201, body: labelJson(label) };
    }
    if ((m = /^\/labels\/([^/]+)$/.exec(rest)) && flavor === "github" && method === "GET") {
      const label = findLabel(decodeURIComponent(m[1]!));
      return label ? { status: 200, body: labelJson(label) } : notFound();
    }
    return notFound();
  }

  function listIssues(path: string, query: URLSearchParams): Reply {
    const state = query.get("state") ?? "open";
    const wanted = (query.get("labels") ?? "").split(",").map((l) => l.trim().toLowerCase()).filter(Boolean);
    let list = issues.filter((i) => state === "all" || i.state === state);
    if (wanted.length > 0) list = list.filter((i) => wanted.every((w) => i.labels.some((l) => l.toLowerCase() === w)));
    if (flavor === "gitea") {
      const type = query.get("type");
      if (type === "issues") list = list.filter((i) => !i.pull);
      if (type === "pulls") list = list.filter((i) => i.pull);
      // Gitea lists newest first.
      list = [...list].sort((a, b) => b.number - a.number);
    } else {
      const direction = query.get("direction") ?? "desc";
      list = [...list].sort((a, b) => (direction === "asc" ? a.number - b.number : b.number - a.number));
    }
    return paged(path, query, list.map(issueJson));
  }

  function paged(path: string, query: URLSearchParams, all: unknown[]): Reply {
    const sizeParam = flavor === "github" ? "per_page" : "limit";
    const max = flavor === "github" ? 100 : 50;
    const fallback = flavor === "github" ? 30 : 30;
    const requested = Number(query.get(sizeParam) ?? fallback);
    const size = Math.min(max, Math.max(1, Number.isFinite(requested) ? requested : fallback));
    const page = Math.max(1, Number(query.get("page") ?? 1) || 1);
    const items = all.slice((page - 1) * size, page * size);
    const last = Math.max(1, Math.ceil(all.length / size));
    const link = (p: number, rel: string) => {
      const q = new URLSearchParams(query);
      q.set("page", String(p));
      q.set(sizeParam, String(size));
      return `<${origin}${prefix}${path}?${q}>; rel="${rel}"`;
    };
    const links: string[] = [];
    if (page < last) links.push(link(page + 1, "next"), link(last, "last"));
    if (page > 1) links.push(link(1, "first"), link(page - 1, "prev"));
    const headers: Record<string, string> = {};
    if (links.length > 0) headers.link = links.join(", ");
    if (flavor === "gitea") headers["x-total-count"] = String(all.length);
    return { status: 200, body: items, headers };
  }

  // ---- server ------------------------------------------------------------------------------

  function authorised(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? "";
    if (flavor === "gitea") return header === `token ${token}` || header === `Bearer ${token}`;
    return header === `token ${token}` || header === `bearer ${token}` || header === `Bearer ${token}`;
  }

  function send(res: ServerResponse, reply: Reply): void {
    const text = reply.body === undefined ? "" : JSON.stringify(reply.body);
    res.writeHead(reply.status, { "content-type": "application/json; charset=utf-8", ...reply.headers });
    res.end(text);
  }

  function takeFault(method: string, path: string): Fault | undefined {
    const index = faults.findIndex((f) => (!f.method || f.method === method) && (!f.path || f.path.test(path)));
    if (index < 0) return undefined;
    const fault = faults[index]!;
    fault.left -= 1;
    if (fault.left <= 0) faults.splice(index, 1);
    return fault;
  }

  function faultReply(fault: Fault): Reply {
    const headers: Record<string, string> = {};
    if (fault.retryAfter !== undefined) headers["retry-after"] = String(fault.retryAfter);
    if (fault.rateLimit === "secondary") {
      return {
        status: fault.status ?? 403,
        headers,
        body: { message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", documentation_url: "https://docs.github.com/rest" },
      };
    }
    if (fault.rateLimit === "primary") {
      headers["x-ratelimit-remaining"] = "0";
      headers["x-ratelimit-limit"] = "5000";
      headers["x-ratelimit-reset"] = String(Math.floor(Date.now() / 1000) + 1);
      return { status: fault.status ?? 429, headers, body: { message: "API rate limit exceeded", documentation_url: "https://docs.github.com/rest" } };
    }
    return { status: fault.status ?? 500, headers, body: { message: `injected ${fault.status ?? 500}` } };
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://fake");
      const method = req.method ?? "GET";
      let path = url.pathname;
      if (flavor === "github" && path.startsWith("/api/v3/")) path = path.slice(7);
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown = undefined;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      const entry: LoggedRequest = { method, path: path.startsWith(prefix) ? path.slice(prefix.length) : path, query: Object.fromEntries(url.searchParams), body, status: 0 };
      requests.push(entry);

      const finish = (reply: Reply | "drop") => {
        if (reply === "drop") {
          entry.status = "dropped";
          req.socket.destroy();
          return;
        }
        entry.status = reply.status;
        entry.response = reply.body;
        entry.headers = reply.headers ?? {};
        send(res, reply);
      };
      const later = (ms: number | undefined, fn: () => void) => {
        if (!ms) return fn();
        const t = setTimeout(() => {
          timers.delete(t);
          fn();
        }, ms);
        timers.add(t);
      };

      if (!path.startsWith(prefix)) return finish(notFound());
      if (!authorised(req)) {
        return finish({ status: 401, body: flavor === "github" ? { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" } : { message: "token is required" } });
      }
      const fault = takeFault(method, entry.path);
      if (fault && !fault.afterHandling) {
        return later(fault.delayMs, () => finish(fault.drop ? "drop" : fault.status || fault.rateLimit ? faultReply(fault) : route(method, entry.path, url.searchParams, body)));
      }
      const reply = route(method, entry.path, url.searchParams, body);
      if (fault?.afterHandling) return later(fault.delayMs, () => finish(fault.drop ? "drop" : faultReply(fault)));
      finish(reply);
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    flavor,
    url: `${origin}${prefix}`,
    token,
    repo: `${owner}/${repoName}`,
    issues,
    labels,
    requests,
    fault(fault) {
      faults.push({ ...fault, left: fault.times ?? 1 });
    },
    counts() {
      const since = requests.slice(logStart);
      const reads = since.filter((r) => r.method === "GET").length;
      return { reads, writes: since.length - reads, total: since.length };
    },
    resetLog() {
      logStart = requests.length;
    },
    openIssues(label) {
      return issues.filter((i) => i.state === "open" && !i.pull && (!label || i.labels.some((l) => l.toLowerCase() === label.toLowerCase())));
    },
    issue(number) {
      const found = issues.find((i) => i.number === number);
      if (!found) throw new Error(`fake forge: no issue #${number}`);
      return found;
    },
    person: {
      close(number) {
        const issue = issues.find((i) => i.number === number)!;
        issue.state = "closed";
        issue.closed_at = now().toISOString();
        issue.state_reason = "completed";
      },
      editBody(number, body) {
        const issue = issues.find((i) => i.number === number)!;
        issue.body = body;
        issue.updated_at = now().toISOString();
      },
      deleteLabel(name) {
        const label = findLabel(name);
        if (!label) return;
        labels.splice(labels.indexOf(label), 1);
        for (const issue of issues) issue.labels = issue.labels.filter((l) => l.toLowerCase() !== name.toLowerCase());
      },
      open(fields) {
        for (const name of fields.labels ?? []) {
          if (!findLabel(name)) labels.push({ id: nextId++, name, color: "ededed", description: "" });
        }
        return addIssue(fields);
      },
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

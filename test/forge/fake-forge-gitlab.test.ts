import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syncAlerts, type Forge } from "@lastbeat/forge";
import { startFakeForge, type FakeForge, type LoggedRequest } from "../support/fake-forge.js";
import { NOW, at, forgeFor, state, SCOPE } from "./helpers.js";

/*
 * The GitLab side of the fake must not drift from the real API. GitLab publishes no machine-
 * readable description of these endpoints that we can vendor (its OpenAPI v2 file covers other
 * resources), so the contract below is transcribed from GitLab's REST API documentation,
 * version 18.10: docs.gitlab.com/api/issues ("List project issues", "Create an issue", "Edit an
 * issue"), /api/notes ("List project issue notes", "Create new issue note"), /api/labels ("Retrieve a project label",
 * "Create a project label") and /api/rest (namespaced paths, pagination headers), as mirrored in
 * Knuckles-Team/gitlab-api at 01e20797 / 032050e3 (gitlab_api/skills/gitlab-api-docs/reference/
 * issues.md, api_labels.md). Every request the GitLab adapter makes in a full lifecycle is
 * checked against it (the endpoint exists, its query and body parameters are documented, the
 * status is the documented one), and every answer of the fake carries the documented fields.
 */

interface Endpoint {
  method: string;
  /** Path below `/api/v4`, `:id` the URL-encoded project path, `:issue_iid` / `:label_id`. */
  path: string;
  query?: readonly string[];
  body?: readonly string[];
  status: number;
  /** The documented fields of the answer (of each item, for a list). */
  fields?: Record<string, string>;
}

const ISSUE_FIELDS = {
  id: "number",
  iid: "number",
  project_id: "number",
  title: "string",
  description: "string",
  state: "string",
  created_at: "string",
  updated_at: "string",
  labels: "array",
  web_url: "string",
  author: "object",
  assignees: "array",
  user_notes_count: "number",
  references: "object",
  _links: "object",
  confidential: "boolean",
  issue_type: "string",
};
const NOTE_FIELDS = { id: "number", body: "string", author: "object", created_at: "string", system: "boolean", noteable_id: "number", noteable_type: "string", noteable_iid: "number" };
const LABEL_FIELDS = { id: "number", name: "string", color: "string", text_color: "string", is_project_label: "boolean", archived: "boolean" };

const ENDPOINTS: readonly Endpoint[] = [
  {
    method: "GET",
    path: "/projects/:id/issues",
    query: ["state", "labels", "order_by", "sort", "per_page", "page", "iids[]", "search", "author_id", "assignee_id", "milestone", "scope", "created_after", "updated_after"],
    status: 200,
    fields: ISSUE_FIELDS,
  },
  { method: "POST", path: "/projects/:id/issues", body: ["title", "description", "labels", "confidential", "assignee_ids", "milestone_id", "created_at", "due_date", "issue_type"], status: 201, fields: ISSUE_FIELDS },
  { method: "PUT", path: "/projects/:id/issues/:issue_iid", body: ["title", "description", "state_event", "labels", "add_labels", "remove_labels", "confidential", "discussion_locked"], status: 200, fields: ISSUE_FIELDS },
  { method: "GET", path: "/projects/:id/issues/:issue_iid/notes", query: ["sort", "order_by", "per_page", "page"], status: 200, fields: NOTE_FIELDS },
  { method: "POST", path: "/projects/:id/issues/:issue_iid/notes", body: ["body", "created_at", "internal"], status: 201, fields: NOTE_FIELDS },
  { method: "GET", path: "/projects/:id/labels/:label_id", query: ["include_ancestor_groups"], status: 200, fields: LABEL_FIELDS },
  { method: "POST", path: "/projects/:id/labels", body: ["name", "color", "description", "priority"], status: 201, fields: LABEL_FIELDS },
];

/** Documented answers other than success that the adapter relies on. */
const ERROR_STATUSES: Record<string, number[]> = {
  "GET /projects/:id/labels/:label_id": [404],
  "POST /projects/:id/labels": [409],
};

function endpointOf(request: LoggedRequest, project: string): Endpoint | undefined {
  const encoded = encodeURIComponent(project);
  if (!request.path.startsWith(`/projects/${encoded}/`)) return undefined;
  const rest = request.path.slice(`/projects/${encoded}`.length);
  const template = `/projects/:id${rest.replace(/^\/issues\/\d+/, "/issues/:issue_iid").replace(/^\/labels\/[^/]+$/, "/labels/:label_id")}`;
  return ENDPOINTS.find((e) => e.method === request.method && e.path === template);
}

function typeOf(value: unknown): string {
  return Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
}

function problemsOf(request: LoggedRequest, project: string): string[] {
  const what = `${request.method} ${request.path}`;
  const endpoint = endpointOf(request, project);
  if (!endpoint) return [`${what}: no such documented endpoint`];
  const problems: string[] = [];
  for (const name of Object.keys(request.query)) if (!endpoint.query?.includes(name)) problems.push(`${what}: query ${name} is not documented`);
  if (request.body !== undefined) {
    if (typeof request.body !== "object" || request.body === null) problems.push(`${what}: body is not a JSON object`);
    else for (const name of Object.keys(request.body)) if (!endpoint.body?.includes(name)) problems.push(`${what}: body field ${name} is not documented`);
  }
  const allowed = [endpoint.status, ...(ERROR_STATUSES[`${endpoint.method} ${endpoint.path}`] ?? [])];
  if (typeof request.status !== "number" || !allowed.includes(request.status)) problems.push(`${what}: status ${request.status} is not documented`);
  if (request.status === endpoint.status && endpoint.fields) {
    const items = Array.isArray(request.response) ? request.response : [request.response];
    for (const item of items) {
      for (const [field, type] of Object.entries(endpoint.fields)) {
        const actual = typeOf((item as Record<string, unknown>)[field]);
        if (actual !== type) problems.push(`${what}: answer field ${field} is ${actual}, documented as ${type}`);
      }
    }
  }
  return problems;
}

describe("the fake's GitLab face against GitLab's API documentation (18.10)", () => {
  let fake: FakeForge;
  let forge: Forge;
  const project = "acme/infra/ops";

  beforeAll(async () => {
    fake = await startFakeForge({ flavor: "gitlab", owner: "acme/infra", repo: "ops" });
    forge = await forgeFor(fake);
    const run = (mode: "rollup" | "per-job", states: ReturnType<typeof state>[], now: Date) =>
      syncAlerts(forge, { scope: SCOPE, mode, label: "heartbeat", states, now });
    const later = (h: number) => at(h);
    // A whole life in both modes: open, edit + comment, close; a person's second issue is closed as a duplicate.
    await run("rollup", [state("backup", { at: at(-5) })], NOW);
    await run("rollup", [state("backup", { at: at(-5) }, later(1)), state("db", { at: later(0.5), status: "fail", exit_code: 2 }, later(1))], later(1));
    await run("rollup", [state("backup", { at: later(2) }, later(2))], later(2));
    await run("per-job", [state("backup", { at: at(-5) }, later(3))], later(3));
    const [ours] = fake.openIssues("heartbeat");
    fake.person.open({ title: ours!.title, body: ours!.body, labels: ["heartbeat"] });
    await run("per-job", [state("backup", { at: at(-5) }, later(4))], later(4));
    await run("per-job", [state("backup", { at: later(5) }, later(5))], later(5));
  });
  afterAll(() => fake.close());

  it("makes only documented requests, and the fake answers them in the documented shapes", () => {
    expect(fake.requests.length).toBeGreaterThan(10);
    expect(fake.requests.flatMap((r) => problemsOf(r, project))).toEqual([]);
    // Every documented operation lastbeat needs was exercised.
    const used = new Set(fake.requests.map((r) => `${r.method} ${endpointOf(r, project)?.path}`));
    expect([...used].sort()).toEqual(ENDPOINTS.map((e) => `${e.method} ${e.path}`).sort());
  });

  it("addresses issues by iid (the number people see), never by the global id", () => {
    const issue = fake.issues[0]!;
    expect(issue.id).not.toBe(issue.number);
    const paths = fake.requests.map((r) => r.path).filter((p) => /\/issues\/\d+/.test(p));
    expect(paths.length).toBeGreaterThan(0);
    const iids = new Set(fake.issues.map((i) => String(i.number)));
    for (const p of paths) expect(iids.has(/\/issues\/(\d+)/.exec(p)![1]!), p).toBe(true);
    expect(paths.some((p) => p.includes(`/issues/${issue.id}`))).toBe(false);
  });

  it("sends labels as comma-separated names, closes with state_event, lists opened issues a hundred a page", () => {
    const create = fake.requests.find((r) => r.method === "POST" && r.path.endsWith("/issues"))!;
    expect((create.body as { labels: unknown }).labels).toBe("heartbeat");
    const closes = fake.requests.filter((r) => r.method === "PUT" && (r.body as { state_event?: string }).state_event !== undefined);
    expect(closes.map((r) => r.body)).toEqual(closes.map(() => ({ state_event: "close" })));
    const list = fake.requests.find((r) => r.method === "GET" && r.path.endsWith("/issues"))!;
    expect(list.query).toMatchObject({ state: "opened", labels: "heartbeat", per_page: "100", page: "1" });
  });

  it("answers as GitLab does where the adapter depends on it", async () => {
    const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = { "private-token": fake.token }) =>
      fetch(`${fake.url}${path}`, { method, headers: { ...headers, "content-type": "application/json" }, ...(body !== undefined && { body: JSON.stringify(body) }) });
    const encoded = encodeURIComponent(project);
    // An unencoded project path is another route: 404.
    expect((await call("GET", `/projects/${project}/issues`)).status).toBe(404);
    // No state: opened and closed issues both.
    const all = (await (await call("GET", `/projects/${encoded}/issues?per_page=100`)).json()) as Array<{ state: string }>;
    expect(new Set(all.map((i) => i.state))).toEqual(new Set(["opened", "closed"]));
    // Notes newest first unless asked otherwise, a hundred a page at most.
    const [issue] = fake.issues.filter((i) => i.comments.length >= 2);
    const notes = async (query: string) => ((await (await call("GET", `/projects/${encoded}/issues/${issue!.number}/notes${query}`)).json()) as Array<{ id: number }>).map((n) => n.id);
    const ids = issue!.comments.map((c) => c.id);
    expect(await notes("")).toEqual([...ids].reverse());
    expect(await notes("?sort=asc")).toEqual(ids);
    expect(await notes("?sort=desc&order_by=created_at&per_page=1")).toEqual([ids.at(-1)]);
    expect((await call("GET", `/projects/${encoded}/issues/${issue!.number}/notes?sort=newest`)).status).toBe(400);
    // Pagination headers: x-next-page empty on the last page.
    const page = await call("GET", `/projects/${encoded}/issues?per_page=1&page=1`);
    expect(page.headers.get("x-next-page")).toBe("2");
    expect(page.headers.get("link")).toMatch(/rel="next"/);
    const lastPage = await call("GET", `/projects/${encoded}/issues?per_page=100&page=1`);
    expect(lastPage.headers.get("x-next-page")).toBe("");
    // Validation failures are 400 with a message per field; a missing parameter an `error`.
    const long = await call("POST", `/projects/${encoded}/issues`, { title: "x".repeat(256) });
    expect([long.status, await long.json()]).toEqual([400, { message: { title: ["is too long (maximum is 255 characters)"] } }]);
    const missing = await call("POST", `/projects/${encoded}/issues`, { description: "no title" });
    expect([missing.status, await missing.json()]).toEqual([400, { error: "title is missing" }]);
    // A wrong token: 401 "401 Unauthorized"; the Authorization header of other forges is not GitLab's.
    expect((await call("GET", `/projects/${encoded}/issues`, undefined, { "private-token": "nope-0123456789" })).status).toBe(401);
    expect((await call("GET", `/projects/${encoded}/issues`, undefined, { authorization: `token ${fake.token}` })).status).toBe(401);
  });
});

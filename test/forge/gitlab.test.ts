import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ForgeError, createGitLabForge, gitlabApiBase, projectPath, renderRollupIssue, syncAlerts, type Forge } from "@lastbeat/forge";
import { startFakeForge, type FakeForge } from "../support/fake-forge.js";
import { NOW, at, state, SCOPE } from "./helpers.js";

/*
 * What only GitLab does: URL forms and project paths, its `RateLimit-Reset` throttle answer, a
 * create whose labels GitLab silently dropped (a role below Reporter), pages told by `Link`
 * alone, and its validation messages. The lifecycle, faults, races and leaks it shares with
 * GitHub and Gitea run in the forge matrices (lifecycle, faults, people, scopes, storms).
 */

const LABEL = "heartbeat";
const backupStale = state("backup", { at: at(-5) });
const run = (forge: Forge) => syncAlerts(forge, { scope: SCOPE, mode: "rollup", label: LABEL, states: [backupStale], now: NOW });

describe("GitLab URLs and project paths", () => {
  it("takes the site or its /api/v4 base, also under a relative root", () => {
    expect(gitlabApiBase("https://gitlab.example.com")).toBe("https://gitlab.example.com/api/v4");
    expect(gitlabApiBase("https://gitlab.example.com/api/v4/")).toBe("https://gitlab.example.com/api/v4");
    expect(gitlabApiBase("https://example.com/gitlab/")).toBe("https://example.com/gitlab/api/v4");
  });

  it("accepts group/project and nested subgroups; refuses anything else", () => {
    expect(projectPath("acme/ops")).toBe("acme/ops");
    expect(projectPath("acme/infra/eu/ops")).toBe("acme/infra/eu/ops");
    for (const bad of ["ops", "acme//ops", "acme/../ops", "acme/my ops", ""]) expect(() => projectPath(bad), bad).toThrow(/--repo must be a GitLab project path/);
  });

  it("talks to gitlab.com when no URL is given, with the project path encoded as one segment", async () => {
    const seen: Array<{ url: string; headers: Record<string, string> }> = [];
    const forge = createGitLabForge({
      repo: "acme/infra/ops",
      token: "lbtok_gitlab-test-0123456789",
      fetch: async (url, init) => {
        seen.push({ url: String(url), headers: init?.headers as Record<string, string> });
        return new Response("[]", { status: 200, headers: { "content-type": "application/json", "x-next-page": "" } });
      },
    });
    expect(await forge.listOpenIssues(LABEL)).toEqual([]);
    expect(seen.map((s) => s.url)).toEqual([
      "https://gitlab.com/api/v4/projects/acme%2Finfra%2Fops/issues?state=opened&labels=heartbeat&order_by=created_at&sort=asc&per_page=100&page=1",
    ]);
    expect(seen[0]!.headers).toMatchObject({ "private-token": "lbtok_gitlab-test-0123456789" });
    expect(seen[0]!.headers).not.toHaveProperty("authorization");
    expect(forge.target).toBe("gitlab acme/infra/ops");
  });
});

describe("waits a throttled GitLab asks for", () => {
  const now = new Date("2025-03-10T12:00:00Z");
  const seconds = Math.floor(now.getTime() / 1000);
  /** The wait after one 429 carrying `headers`, by the adapter's injected clock and sleep. */
  async function waitAfter(headers: Record<string, string>): Promise<number[]> {
    const waits: number[] = [];
    let calls = 0;
    const forge = createGitLabForge({
      repo: "acme/ops",
      token: "lbtok_gitlab-test-0123456789",
      now: () => now,
      sleep: async (ms) => void waits.push(ms),
      fetch: async () =>
        calls++ === 0
          ? new Response("Retry later\n", { status: 429, headers })
          : new Response("[]", { status: 200, headers: { "content-type": "application/json", "x-next-page": "" } }),
    });
    await forge.listOpenIssues(LABEL);
    return waits;
  }

  it("reads retry-after (seconds or a date), else ratelimit-reset (a Unix time)", async () => {
    expect(await waitAfter({ "retry-after": "7" })).toEqual([7000]);
    expect(await waitAfter({ "retry-after": "Mon, 10 Mar 2025 12:00:30 GMT" })).toEqual([30_000]);
    expect(await waitAfter({ "ratelimit-reset": String(seconds + 42) })).toEqual([42_000]);
    expect(await waitAfter({ "ratelimit-reset": String(seconds - 5) })).toEqual([0]);
    expect(await waitAfter({ "retry-after": "3", "ratelimit-reset": String(seconds + 42) })).toEqual([3000]);
    // Neither: the backoff of a first retry.
    expect(await waitAfter({})).toEqual([1000]);
  });
});

describe("on a GitLab fake", () => {
  let fake: FakeForge;
  let waits: number[];
  const forgeWith = (extra: Partial<Parameters<typeof createGitLabForge>[0]> = {}) =>
    createGitLabForge({ repo: fake.repo, token: fake.token, url: fake.url, retryBaseMs: 1000, sleep: async (ms) => void waits.push(ms), ...extra });
  beforeEach(async () => {
    fake = await startFakeForge({ flavor: "gitlab" });
    waits = [];
  });
  afterEach(() => fake.close());
  const creates = () => fake.requests.filter((r) => r.method === "POST" && r.path.endsWith("/issues"));

  it("waits out a 429 until RateLimit-Reset (no Retry-After), then syncs", async () => {
    fake.fault({ method: "GET", path: /\/issues$/, rateLimit: "primary", retryAfter: 30 });
    const r = await run(forgeWith());
    expect(r.applied.map((a) => a.kind)).toEqual(["create"]);
    expect(fake.requests[0]!.status).toBe(429);
    expect(fake.requests[0]!.headers).not.toHaveProperty("retry-after");
    // 30 s ahead by the fake's clock, read by the adapter's a moment later.
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(29_000);
    expect(waits[0]).toBeLessThanOrEqual(31_000);
  });

  it("sends a create again after a 429 (refused, never processed), with no duplicate", async () => {
    fake.fault({ method: "POST", path: /\/issues$/, rateLimit: "primary", retryAfter: 1 });
    const r = await run(forgeWith());
    expect(r.applied.map((a) => a.kind)).toEqual(["create"]);
    expect(creates().map((c) => c.status)).toEqual([429, 201]);
    expect(fake.openIssues(LABEL)).toHaveLength(1);
  });

  it("does not wait out a reset an hour away: exit 3 now, the next run reconciles", async () => {
    fake.fault({ method: "GET", rateLimit: "primary", retryAfter: 3600 });
    await expect(run(forgeWith())).rejects.toThrow(/listing open issues failed with HTTP 429 \(Retry later\)/);
    expect(waits).toEqual([]);
    expect((await run(forgeWith())).applied.map((a) => a.kind)).toEqual(["create"]);
  });

  it("a token whose role cannot set labels (GitLab drops them silently): the issue is closed again and the run fails naming the role", async () => {
    // GitLab ignores `labels` on a create by a member below Reporter: what the fake receives then.
    const dropLabels: typeof fetch = (url, init) => {
      if (init?.method === "POST" && /\/issues$/.test(String(url))) {
        const { labels: _dropped, ...body } = JSON.parse(String(init.body)) as Record<string, unknown>;
        return fetch(url, { ...init, body: JSON.stringify(body) });
      }
      return fetch(url, init);
    };
    const error = await run(forgeWith({ fetch: dropLabels })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ForgeError);
    expect((error as ForgeError).message).toBe(
      "gitlab acme/ops: issue #1 was created without the label heartbeat: the token's role cannot set labels (it needs at least Reporter)",
    );
    expect(fake.issues.map((i) => [i.number, i.state])).toEqual([[1, "closed"]]);
    expect(fake.issues.filter((i) => i.state === "open")).toEqual([]);
  });

  it("follows Link when x-next-page is missing (past 10,000 issues GitLab leaves out the counts)", async () => {
    for (let n = 0; n < 120; n++) fake.person.open({ title: `chore ${n}`, body: "not ours", labels: [LABEL] });
    const { title, body } = renderRollupIssue([backupStale], SCOPE);
    const ours = fake.person.open({ title, body, labels: [LABEL] });
    const linkOnly: typeof fetch = async (url, init) => {
      const answer = await fetch(url, init);
      const headers = new Headers(answer.headers);
      headers.delete("x-next-page");
      headers.delete("x-total");
      headers.delete("x-total-pages");
      return new Response(await answer.text(), { status: answer.status, headers });
    };
    fake.resetLog();
    const r = await run(forgeWith({ fetch: linkOnly }));
    expect(r.applied).toEqual([{ kind: "none", issue: ours.number, key: "rollup" }]);
    expect(fake.requests.map((q) => q.query.page)).toEqual(["1", "2"]);
  });

  it("shows GitLab's validation message in one line", async () => {
    const forge = forgeWith();
    await expect(forge.createIssue({ title: "x".repeat(300), body: "", label: LABEL })).rejects.toThrow(
      "gitlab acme/ops: creating an issue failed with HTTP 400 (title is too long (maximum is 255 characters))",
    );
  });
});

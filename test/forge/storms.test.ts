import { afterEach, describe, expect, it } from "vitest";
import { MAX_BODY_CHARS, MAX_COMMENT_CHARS, MAX_TITLE_CHARS, syncAlerts, type Forge, type SyncMode, type SyncResult } from "@lastbeat/forge";
import type { JobState } from "lastbeat";
import { startFakeForge, type FakeForge, type Flavor } from "../support/fake-forge.js";
import { HOUR, NOW, SCOPE, fileForge, forgeFor, state } from "./helpers.js";
import { testdir } from "../support/testdir.js";

/*
 * A mass outage, against forges that enforce GitHub's limits: titles ≤ 256, bodies and comments
 * ≤ 65,536 (422 past them), and at most 80 writes a minute and 500 an hour (403 past them).
 * Every run is 15 minutes after the last, and the fake counts its limits by that clock.
 */

const LABEL = "heartbeat";
const RUN = 15 * 60_000;
const name = (i: number) => `job-${String(i).padStart(4, "0")}`;

/** `n` jobs, the first `failing` failed, the rest stale, as seen at `now`; `ok` of them beat again. */
function outage(n: number, now: Date, options: { failing?: number; ok?: ReadonlySet<number> } = {}): JobState[] {
  return Array.from({ length: n }, (_, i) => {
    if (options.ok?.has(i)) return state(name(i), { at: new Date(now.getTime() - 60_000) }, now);
    if (i < (options.failing ?? 0)) {
      return state(name(i), { at: new Date(NOW.getTime() - 20 * 60_000), status: "fail", exit_code: 1, message: `exit ${i}`, output_tail: `line\n`.repeat(200) }, now);
    }
    return state(name(i), { at: new Date(NOW.getTime() - 5 * HOUR) }, now);
  });
}

interface Story {
  fake?: FakeForge;
  forge: Forge;
  clock: { now: Date };
  sync(mode: SyncMode, states: JobState[], extra?: { maxNewIssues?: number; maxWrites?: number }): Promise<SyncResult & { writes: number }>;
  open(): Promise<Array<{ number: number; title: string; body: string }>>;
  cleanup(): Promise<void>;
}

async function story(kind: Flavor | "file"): Promise<Story> {
  const clock = { now: NOW };
  if (kind === "file") {
    const dir = await testdir();
    const forge = fileForge(dir, () => clock.now);
    return {
      forge,
      clock,
      async sync(mode, states, extra = {}) {
        const r = await syncAlerts(forge, { scope: SCOPE, mode, label: LABEL, states, now: clock.now, ...extra });
        return { ...r, writes: r.applied.filter((a) => a.kind !== "none").length };
      },
      open: () => forge.listOpenIssues(LABEL),
      cleanup: async () => {},
    };
  }
  const fake = await startFakeForge({ flavor: kind, limitsClock: () => clock.now });
  const forge = await forgeFor(fake);
  return {
    fake,
    forge,
    clock,
    async sync(mode, states, extra = {}) {
      fake.resetLog();
      const r = await syncAlerts(forge, { scope: SCOPE, mode, label: LABEL, states, now: clock.now, ...extra });
      return { ...r, writes: fake.counts().writes };
    },
    open: async () => fake.openIssues(LABEL),
    cleanup: () => fake.close(),
  };
}

/** Nothing the forge was sent went past a limit, and nothing was refused. */
function expectWithinLimits(s: Story): void {
  if (!s.fake) return;
  const refused = s.fake.requests.filter((r) => r.status === 422 || r.status === 403);
  expect(refused.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([]);
  for (const r of s.fake.requests) {
    const body = r.body as { title?: string; body?: string } | undefined;
    if (typeof body?.title === "string") expect(body.title.length).toBeLessThanOrEqual(MAX_TITLE_CHARS);
    if (typeof body?.body === "string") expect(body.body.length).toBeLessThanOrEqual(Math.min(MAX_BODY_CHARS, MAX_COMMENT_CHARS));
  }
}

describe.each(["github", "gitea", "gitlab", "file"] as const)("a mass outage on the %s forge", (kind) => {
  let s: Story;
  afterEach(() => s.cleanup());

  it.each([400, 2000])("rollup: %i jobs open, update and close one issue within the limits", async (n) => {
    s = await story(kind);
    let r = await s.sync("rollup", outage(n, s.clock.now, { failing: 30 }));
    expect(r.applied.map((a) => a.kind)).toEqual(["create"]);
    let [issue] = await s.open();
    expect(issue!.title).toBe(`[heartbeat-checker] web-1: ${n.toLocaleString("en-US")} jobs alerting: job-0000, job-0001, job-0002, job-0003, job-0004 and ${(n - 5).toLocaleString("en-US")} more`);
    expect(issue!.body.length).toBeLessThanOrEqual(MAX_BODY_CHARS);
    expect(issue!.body).toContain("| job-0000 | **failed** |");
    // Cut worst first: every failed job is shown, the rest are counted by status.
    const shown = rowsShown(issue!.body);
    expect(shown).toBeGreaterThan(30);
    if (n > 400) expect(shown).toBeLessThan(n);
    if (shown < n) expect(issue!.body).toContain(`…and ${(n - shown).toLocaleString("en-US")} more (by status: ${(n - shown).toLocaleString("en-US")} stale)`);

    // Steady: nothing written.
    s.clock.now = new Date(s.clock.now.getTime() + RUN);
    r = await s.sync("rollup", outage(n, s.clock.now, { failing: 30 }));
    expect(r.writes).toBe(0);

    // A third recovers: one comment and one edit, both within the limits.
    s.clock.now = new Date(s.clock.now.getTime() + RUN);
    const ok = new Set(Array.from({ length: Math.floor(n / 3) }, (_, i) => i * 3));
    r = await s.sync("rollup", outage(n, s.clock.now, { failing: 30, ok }));
    expect(r.applied.map((a) => a.kind)).toEqual(["comment", "update"]);
    [issue] = await s.open();
    expect(issue!.title).toContain(`${(n - ok.size).toLocaleString("en-US")} jobs alerting`);

    // All recover: closed with a comment.
    s.clock.now = new Date(s.clock.now.getTime() + RUN);
    const all = new Set(Array.from({ length: n }, (_, i) => i));
    r = await s.sync("rollup", outage(n, s.clock.now, { ok: all }));
    expect(r.applied.map((a) => a.kind)).toEqual(["close"]);
    expect(await s.open()).toEqual([]);
    expectWithinLimits(s);
  });

  it.each([400, 2000])("per-job: %i jobs make 10 issues and one storm issue, in bounded writes", async (n) => {
    s = await story(kind);
    let r = await s.sync("per-job", outage(n, s.clock.now, { failing: 30 }));
    expect(r.writes).toBeLessThanOrEqual(40);
    const open = await s.open();
    expect(open).toHaveLength(11);
    const storm = open.find((i) => i.title.startsWith("[heartbeat-checker] web-1: storm: "))!;
    expect(storm.title).toContain(`${(n - 10).toLocaleString("en-US")} jobs alerting`);
    expect(storm.body).toContain("<!-- lastbeat:storm scope=web-1 -->");
    expect(open.filter((i) => i.title.endsWith(" is failed"))).toHaveLength(10);

    // Steady: nothing written; the next run does not move storm jobs into issues of their own.
    s.clock.now = new Date(s.clock.now.getTime() + RUN);
    r = await s.sync("per-job", outage(n, s.clock.now, { failing: 30 }));
    expect(r.writes).toBe(0);

    // All recover: every issue closed, within a run's budget.
    s.clock.now = new Date(s.clock.now.getTime() + RUN);
    const all = new Set(Array.from({ length: n }, (_, i) => i));
    r = await s.sync("per-job", outage(n, s.clock.now, { ok: all }));
    expect(r.applied.filter((a) => a.kind === "close")).toHaveLength(11);
    expect(r.writes).toBeLessThanOrEqual(40);
    expect(await s.open()).toEqual([]);
    expectWithinLimits(s);
  });
});

function rowsShown(body: string): number {
  return body.split("\n").filter((l) => /^\| job-\d{4} \|/.test(l)).length;
}

describe("writes per run stay under GitHub's secondary limits", () => {
  let fake: FakeForge;
  afterEach(() => fake.close());

  it("the fake refuses the 81st write in a minute (so the tests below can fail)", async () => {
    const clock = { now: NOW };
    fake = await startFakeForge({ flavor: "github", limitsClock: () => clock.now });
    const forge = await forgeFor(fake, { retries: 1 });
    await forge.ensureLabel(LABEL);
    const issue = await forge.createIssue({ title: "t", body: "b", label: LABEL });
    for (let i = 0; i < 78; i++) await forge.comment(issue.number, `c${i}`);
    await expect(forge.comment(issue.number, "one too many")).rejects.toThrow(/^github acme\/ops: commenting on issue #1 failed with HTTP 403 \(You have exceeded a secondary rate limit/);
    clock.now = new Date(NOW.getTime() + 61_000);
    await forge.comment(issue.number, "a minute later");
  });

  it("refuses an over-long title, body or comment with 422 and one clear line", async () => {
    fake = await startFakeForge({ flavor: "github" });
    const forge = await forgeFor(fake);
    await forge.ensureLabel(LABEL);
    await expect(forge.createIssue({ title: "x".repeat(257), body: "b", label: LABEL })).rejects.toThrow(
      /^github acme\/ops: creating an issue failed with HTTP 422 \(Validation Failed: title is too long \(maximum is 256 characters\)\)$/,
    );
    const issue = await forge.createIssue({ title: "t", body: "b", label: LABEL });
    await expect(forge.comment(issue.number, "x".repeat(65_537))).rejects.toThrow(/HTTP 422 .*body is too long \(maximum is 65536 characters\)/);
    await expect(forge.updateIssue(issue.number, { title: "t", body: "x".repeat(65_537) })).rejects.toThrow(/HTTP 422/);
  });

  it("per-job: 300 jobs going stale, then recovering, over runs 15 minutes apart: never past 80 a minute or 500 an hour", async () => {
    const clock = { now: NOW };
    fake = await startFakeForge({ flavor: "github", limitsClock: () => clock.now });
    const forge = await forgeFor(fake);
    const perRun: number[] = [];
    const run = async (states: JobState[], extra: { maxNewIssues?: number } = {}) => {
      fake.resetLog();
      await syncAlerts(forge, { scope: SCOPE, mode: "per-job", label: LABEL, states, now: clock.now, ...extra });
      perRun.push(fake.counts().writes);
      clock.now = new Date(clock.now.getTime() + RUN);
    };
    // A bigger cap than a run's budget still ends in a bounded run.
    await run(outage(300, clock.now), { maxNewIssues: 1000 });
    for (let i = 0; i < 3; i++) await run(outage(300, clock.now));
    const all = new Set(Array.from({ length: 300 }, (_, i) => i));
    for (let i = 0; i < 8; i++) await run(outage(300, clock.now, { ok: all }));
    expect(fake.openIssues(LABEL)).toEqual([]);
    expect(Math.max(...perRun)).toBeLessThanOrEqual(40);
    expect(fake.limits.refused).toBe(0);
    expect(fake.limits.inHourBefore(clock.now)).toBeLessThanOrEqual(500);
  });
});

import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import {
  MAX_STATE_CHARS,
  nameHash,
  planSync,
  stateLine,
  stateOfBody,
  syncAlerts,
  type ForgeIssue,
  type PlannedAction,
  type SyncMode,
  type SyncPlan,
} from "@lastbeat/forge";
import type { JobState } from "lastbeat";
import { startFakeForge, type FakeForge } from "../support/fake-forge.js";
import { HOUR, NOW, SCOPE, forgeFor, state } from "./helpers.js";

/*
 * What the open issues remember once the alerting jobs' names no longer fit the state marker:
 * the worst day the product names (2,000 jobs at once, names of 30 to 60 characters) is
 * remembered whole, and past any capacity the checker degrades by counting, never by flooding
 * the forge with issues or claiming that jobs it could not remember "started alerting".
 */

const RUN = 15 * 60_000;
const LABEL = "heartbeat";
const pad = (i: number) => String(i).padStart(5, "0");
/** `nightly-warehouse-export-00000`: 30 characters. */
const warehouse = (i: number) => `nightly-warehouse-export-${pad(i)}`;
/** 123 characters, as in the user's per-job test. */
const long123 = (i: number) => `${"batch-export-to-the-archive-bucket-".padEnd(117, "x")}-${pad(i)}`;
/** 100 characters, for far more jobs than any marker holds. */
const long100 = (i: number) => `${"fleet-".padEnd(94, "y")}-${pad(i)}`;

const staleAt = (job: string, now: Date) => state(job, { at: new Date(NOW.getTime() - 5 * HOUR) }, now);
const okAt = (job: string, now: Date) => state(job, { at: new Date(now.getTime() - 60_000) }, now);
const runAt = (run: number) => new Date(NOW.getTime() + run * RUN);

/** A forge in memory: the planner's actions applied as a forge would, its open issues fed back. */
class Forge {
  open: Array<ForgeIssue & { thread: string[] }> = [];
  closed: Array<ForgeIssue & { thread: string[] }> = [];
  private next = 1;

  run(mode: SyncMode, states: JobState[], now: Date, retired?: Set<string>): SyncPlan {
    const plan = planSync({ scope: SCOPE, mode, states, issues: this.open, now, ...(retired && { retired }) });
    for (const a of plan.actions) this.apply(a, now);
    return plan;
  }

  private apply(a: PlannedAction, now: Date): void {
    const issue = "issue" in a ? this.open.find((i) => i.number === a.issue) : undefined;
    switch (a.kind) {
      case "create":
        this.open.push({ number: this.next++, title: a.title, body: a.body, createdAt: now.toISOString(), url: "", labels: [LABEL], thread: [] });
        break;
      case "update":
        Object.assign(issue!, { title: a.title, body: a.body });
        break;
      case "comment":
        issue!.thread.push(a.body);
        break;
      case "close":
      case "close-duplicate":
        issue!.thread.push(a.comment);
        this.open = this.open.filter((i) => i !== issue);
        this.closed.push(issue!);
        break;
      case "none":
        break;
    }
  }
}

const kinds = (plan: SyncPlan) => plan.actions.map((a) => `${a.kind} ${a.key ?? "-"}`);
const writes = (plan: SyncPlan) => plan.actions.filter((a) => a.kind !== "none");
const comments = (plan: SyncPlan) => plan.actions.flatMap((a) => (a.kind === "comment" ? [a.body] : a.kind === "close" ? [a.comment] : []));

describe("the user's two reports, at the planner", () => {
  it("per-job: 1,000 stale jobs with 123-character names, nothing changing, a check every 15 minutes: 10 issues and one storm issue, then no write for 70 runs", () => {
    const forge = new Forge();
    const jobs = Array.from({ length: 1000 }, (_, i) => long123(i));
    const first = forge.run("per-job", jobs.map((j) => staleAt(j, NOW)), NOW);
    expect(writes(first).filter((a) => a.kind === "create")).toHaveLength(11);
    const storm = forge.open.find((i) => i.title.includes(": storm: "))!;
    expect(storm.title).toContain("990 jobs alerting");
    expect(stateOfBody(storm.body)!.forgotten).toBe(0);
    for (let run = 1; run <= 70; run++) {
      const plan = forge.run("per-job", jobs.map((j) => staleAt(j, runAt(run))), runAt(run));
      expect(writes(plan), `run ${run}`).toEqual([]);
    }
    expect(forge.open).toHaveLength(11);
    expect(storm.thread).toEqual([]);
  });

  it("rollup: 2,000 jobs named like nightly-warehouse-export-00000 are all remembered; one recovers and the comment names it, and no other", () => {
    const forge = new Forge();
    const jobs = Array.from({ length: 2000 }, (_, i) => warehouse(i));
    forge.run("rollup", jobs.map((j) => staleAt(j, NOW)), NOW);
    const stored = stateOfBody(forge.open[0]!.body)!;
    expect(writes(forge.run("rollup", jobs.map((j) => staleAt(j, runAt(1))), runAt(1)))).toEqual([]);
    // The last by name: the first to be cut from a marker that keeps names alone.
    const recovered = warehouse(1999);
    const plan = forge.run("rollup", jobs.map((j) => (j === recovered ? okAt(j, runAt(2)) : staleAt(j, runAt(2)))), runAt(2));
    expect(kinds(plan)).toEqual(["comment rollup", "update rollup"]);
    expect(comments(plan)).toEqual([
      expect.stringMatching(
        /^The alerting jobs changed \(1,999 jobs alerting now\):\n\n- \*\*nightly-warehouse-export-01999\*\* is now ok after alerting for 3h 29m \(since 2025-03-10 09:00 UTC\)\n\n<!-- lastbeat:said [0-9a-f]+ -->\n$/,
      ),
    ]);
    expect(writes(forge.run("rollup", jobs.map((j) => (j === recovered ? okAt(j, runAt(3)) : staleAt(j, runAt(3)))), runAt(3)))).toEqual([]);
    // Every job was remembered, some by name and the rest by hash.
    expect(stored.snapshot.size + stored.hashed.size).toBe(2000);
    expect(stored.forgotten).toBe(0);
  });
});

describe("issues open before the upgrade", () => {
  it("a v2 storm issue that could only count its jobs (+N) opens no new per-job issue, and its next change is told like with like", () => {
    const forge = new Forge();
    const jobs = Array.from({ length: 1000 }, (_, i) => long123(i));
    forge.run("per-job", jobs.map((j) => staleAt(j, NOW)), NOW);
    const storm = forge.open.find((i) => i.title.includes(": storm: "))!;
    // What the previous version stored: as many names as fit, the rest counted.
    const { fingerprint, bodyHash, snapshot } = stateOfBody(storm.body)!;
    const members = [...snapshot.keys(), ...jobs.filter((j) => !snapshot.has(j)).slice(10)].slice(0, 300);
    const v2 = `<!-- lastbeat:state v2 fp=${fingerprint} h=${bodyHash} stale:${members.map((j) => `${j}@ha530`).join(",")} +690 -->`;
    storm.body = storm.body.replace(/^<!-- lastbeat:state .*$/m, v2);
    expect(stateOfBody(storm.body)).toMatchObject({ forgotten: 690 });
    for (let run = 1; run <= 3; run++) expect(writes(forge.run("per-job", jobs.map((j) => staleAt(j, runAt(run))), runAt(run))), `run ${run}`).toEqual([]);
    // One job it named recovers: named, and the 690 it could not name are not said to have "started".
    const plan = forge.run("per-job", jobs.map((j) => (j === members[0] ? okAt(j, runAt(4)) : staleAt(j, runAt(4)))), runAt(4));
    expect(kinds(plan)).toEqual(["comment storm", "update storm", ...Array.from({ length: 10 }, () => expect.stringMatching(/^none job:/))]);
    const [comment] = comments(plan);
    expect(comment).toContain(`- **${members[0]}** is now ok after alerting for`);
    expect(comment).toContain("- 690 jobs alerting that this issue did not remember by name: it could only count 690 of its jobs, so these may have been alerting before (690 stale)");
    expect(comment).not.toContain("started alerting");
    expect(stateOfBody(storm.body)).toMatchObject({ forgotten: 0 });
  });
});

describe("the user's two reports, through the fake GitHub forge", () => {
  let fake: FakeForge;
  afterEach(() => fake.close());

  it("per-job: 1,000 stale jobs with 123-character names open 11 issues once, then nothing; rollup: one of 2,000 recovers and is named", async () => {
    const clock = { now: NOW };
    fake = await startFakeForge({ flavor: "github", limitsClock: () => clock.now });
    const forge = await forgeFor(fake);
    const sync = (mode: SyncMode, scope: string, states: JobState[]) => syncAlerts(forge, { scope, mode, label: LABEL, states, now: clock.now });

    const perJob = Array.from({ length: 1000 }, (_, i) => long123(i));
    await sync("per-job", "db-1", perJob.map((j) => staleAt(j, clock.now)));
    expect(fake.openIssues(LABEL)).toHaveLength(11);
    for (let run = 1; run <= 4; run++) {
      clock.now = runAt(run);
      fake.resetLog();
      await sync("per-job", "db-1", perJob.map((j) => staleAt(j, clock.now)));
      expect(fake.counts().writes, `run ${run}`).toBe(0);
    }
    expect(fake.openIssues(LABEL)).toHaveLength(11);

    const rollup = Array.from({ length: 2000 }, (_, i) => warehouse(i));
    await sync("rollup", SCOPE, rollup.map((j) => staleAt(j, clock.now)));
    clock.now = runAt(5);
    const recovered = warehouse(1999);
    const r = await sync("rollup", SCOPE, rollup.map((j) => (j === recovered ? okAt(j, clock.now) : staleAt(j, clock.now))));
    expect(r.applied.map((a) => a.kind)).toEqual(["comment", "update"]);
    const issue = fake.openIssues(LABEL).find((i) => i.title.startsWith(`[heartbeat-checker] ${SCOPE}: `))!;
    expect(issue.title).toContain("1,999 jobs alerting");
    expect(issue.comments.map((c) => c.body)).toEqual([expect.stringMatching(/^The alerting jobs changed \(1,999 jobs alerting now\):\n\n- \*\*nightly-warehouse-export-01999\*\* is now ok after /)]);
    expect(issue.comments[0]!.body).not.toContain("started alerting");
    expect(fake.limits.refused).toBe(0);
  });
});

describe("past any capacity: 20,000 jobs with 100-character names", () => {
  const jobs = Array.from({ length: 20_000 }, (_, i) => long100(i));
  /** Every job stale but `ok` ones, plus `extra` newly failing. */
  const scan = (now: Date, ok: ReadonlySet<string> = new Set(), extra: string[] = []) => [
    ...jobs.map((j) => (ok.has(j) ? okAt(j, now) : staleAt(j, now))),
    ...extra.map((j) => state(j, { at: new Date(now.getTime() - 60_000), status: "fail", exit_code: 1, message: "exit 1" }, now)),
  ];

  it.each(["rollup", "per-job"] as const)("%s: steady runs write nothing; a change is commented without claiming that counted jobs started alerting; no new per-job issue while the storm counts", (mode) => {
    const forge = new Forge();
    forge.run(mode, scan(NOW), NOW);
    const shared = () => forge.open.find((i) => !i.title.match(/ is (stale|failed)$/))!;
    const first = stateOfBody(shared().body)!;
    expect(shared().body.split("\n")[1]!.length).toBeLessThanOrEqual(MAX_STATE_CHARS);
    const opened = forge.open.length;
    for (let run = 1; run <= 3; run++) expect(writes(forge.run(mode, scan(runAt(run)), runAt(run))), `run ${run}`).toEqual([]);

    // One remembered job recovers (the first by name past the 10 with issues of their own), one
    // counted job recovers (the last), and a new job starts failing: it joins the shared issue,
    // and the comment names what it knows.
    const ok = new Set([jobs[10]!, jobs[19_999]!]);
    const plan = forge.run(mode, scan(runAt(4), ok, ["brand-new"]), runAt(4));
    expect(forge.open).toHaveLength(opened);
    expect(writes(plan).filter((a) => a.kind === "create")).toEqual([]);
    const [comment] = comments(plan);
    expect(comment).toContain(`- **${jobs[10]}** is now ok after alerting for`);
    expect(comment).not.toContain("started alerting");
    expect(comment).toMatch(/^- [\d,]+ jobs alerting that this issue did not remember by name: it could only count [\d,]+ of its jobs, so these may have been alerting before \(1 failed, [\d,]+ stale\)$/m);
    for (let run = 5; run <= 6; run++) expect(writes(forge.run(mode, scan(runAt(run), ok, ["brand-new"]), runAt(run))), `run ${run}`).toEqual([]);

    // Everything recovers: closed, and the closing comment counts what it could not name.
    const end = forge.run(mode, [...scan(runAt(7), new Set(jobs)), okAt("brand-new", runAt(7))], runAt(7));
    expect(end.actions.filter((a) => a.kind === "close").length).toBe(opened);
    expect(forge.open).toEqual([]);
    const closing = comments(end).find((c) => c.includes("could only count"))!;
    expect(closing).toMatch(/^Every job has recovered; closing\.\n\n- [\d,]+ jobs that this issue could only count, not name: none of them alerts now\n/);
    // What the shared issue first stored: names and hashes up to 40,000 characters, the rest counted.
    expect(first.forgotten).toBeGreaterThan(10_000);
    expect(first.snapshot.size + first.hashed.size + first.forgotten).toBe(mode === "rollup" ? 20_000 : 19_990);
  });
});

describe("a job kept only by hash", () => {
  const jobs = Array.from({ length: 2000 }, (_, i) => `${"report-".padEnd(54, "z")}-${pad(i)}`);

  it("is named when it recovers or is retired, and counted when its heartbeat file vanishes: it cannot be kept alerting as missing without its name", () => {
    const forge = new Forge();
    forge.run("rollup", jobs.map((j) => staleAt(j, NOW)), NOW);
    const stored = stateOfBody(forge.open[0]!.body)!;
    expect(stored.forgotten).toBe(0);
    const hashed = jobs.filter((j) => stored.hashed.has(nameHash(j)));
    const named = jobs.filter((j) => stored.snapshot.has(j));
    expect(hashed.length + named.length).toBe(2000);
    const [gone, retired, back] = hashed;
    const removed = named[0]!;

    // One hashed job's file vanishes, one is retired, one beats again; a named job's file vanishes.
    const scan = (now: Date) =>
      jobs.filter((j) => j !== gone && j !== retired && j !== removed).map((j) => (j === back ? okAt(j, now) : staleAt(j, now)));
    const plan = forge.run("rollup", scan(runAt(1)), runAt(1), new Set([retired!]));
    expect(plan.states.find((s) => s.job === removed)).toMatchObject({ status: "missing", reason: "heartbeat file removed" });
    expect(plan.states.find((s) => s.job === gone)).toBeUndefined();
    const [comment] = comments(plan);
    expect(comment).toContain(
      "- 1 job whose name this issue did not keep disappeared (heartbeat file removed): lastbeat cannot name it, so it no longer watches it; a job declared in the manifest is still reported as missing",
    );
    expect(comment).toContain(`- **${removed}** changed: stale → missing`);
    expect(comment).toContain(`- **${retired}** was retired on purpose (\`lastbeat retire\`)`);
    expect(comment).toContain(`- **${back}** is now ok after alerting for`);
    expect(comment).toMatch(/^The alerting jobs changed \(1,997 jobs alerting now\):\n/);
    expect(writes(forge.run("rollup", scan(runAt(2)), runAt(2), new Set([retired!])))).toEqual([]);
  });
});

/** `n` distinct names of up to 128 characters, with the odd characters a broken file's name may hold. */
const names = fc
  .record({ odd: fc.uniqueArray(fc.string({ minLength: 1, maxLength: 128, unit: "grapheme" }), { maxLength: 20 }), n: fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 3000, max: 5000 })), length: fc.integer({ min: 6, max: 128 }) })
  .map(({ odd, n, length }) => [...new Set([...odd, ...Array.from({ length: n }, (_, i) => `${"j".repeat(length - 6)}-${pad(i)}`)])]);

describe("properties", () => {
  it("nothing changed, nothing planned: the planner on its own result plans only `none`, in both modes, and the marker stays within 40,000 characters", () => {
    fc.assert(
      fc.property(names, fc.integer({ min: 1, max: 7 }), (jobs, spread) => {
        const at = (i: number, now: Date) =>
          i % 3 === 0
            ? state(jobs[i]!, { at: new Date(NOW.getTime() - 20 * 60_000), status: "fail", exit_code: 1, message: "x" }, now)
            : state(jobs[i]!, { at: new Date(NOW.getTime() - (5 + (i % spread)) * HOUR) }, now);
        for (const mode of ["rollup", "per-job"] as const) {
          const forge = new Forge();
          forge.run(mode, jobs.map((_, i) => at(i, NOW)), NOW);
          for (const issue of forge.open) expect(issue.body.split("\n")[1]!.length).toBeLessThanOrEqual(MAX_STATE_CHARS);
          const again = forge.run(mode, jobs.map((_, i) => at(i, runAt(1))), runAt(1));
          expect(again.actions.every((a) => a.kind === "none"), `${mode}: ${kinds(again).filter((k) => !k.startsWith("none")).slice(0, 5).join(", ")}`).toBe(true);
        }
      }),
      { numRuns: 12 },
    );
  });

  it("the stored marker depends on the jobs alone, never on the order of the scan", () => {
    fc.assert(
      fc.property(
        names.chain((jobs) => fc.tuple(fc.constant(jobs), fc.shuffledSubarray(jobs, { minLength: jobs.length, maxLength: jobs.length }))),
        ([jobs, shuffled]) => {
          const entry = (job: string) => [job, { status: job.length % 2 === 0 ? "stale" : "failed", since: new Date(NOW.getTime() - (job.length % 5) * 60_000).toISOString() }] as const;
          const line = (order: string[]) => stateLine({ snapshot: new Map(order.map(entry)), fingerprint: null, bodyHash: null });
          expect(line(shuffled)).toBe(line(jobs));
          expect(line(jobs).length).toBeLessThanOrEqual(MAX_STATE_CHARS);
        },
      ),
      { numRuns: 30 },
    );
  });
});

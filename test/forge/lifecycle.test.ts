import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { syncAlerts, type SyncMode } from "@lastbeat/forge";
import type { JobState } from "lastbeat";
import { harness, type Harness } from "./harness.js";
import { NOW, backupOk, backupStale, dbFailed, dbOk, minutes, state, SCOPE } from "./helpers.js";

/*
 * The whole life of an alert, in both modes, on GitHub, Gitea, GitLab and the file forge:
 * healthy → no issue; one job stale → one issue; unchanged → zero writes; a second job fails →
 * one comment + body updated; all recover → closing comment + closed; a new incident → a new issue.
 */

const LABEL = "heartbeat";
// Fixed beats, evaluated at later and later times: the situation only changes when we say so.
const backupFailed = (now: Date) => state("backup", { at: minutes(40), status: "fail", exit_code: 3 }, now);

describe.each(["github", "gitea", "gitlab", "file"] as const)("lifecycle on the %s forge", (kind) => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness(kind, LABEL);
  });
  afterEach(async () => {
    await h.cleanup();
  });

  const sync = (mode: SyncMode, states: JobState[], now: Date) => syncAlerts(h.forge, { scope: SCOPE, mode, label: LABEL, states, now });
  /** Reads and writes of one run. */
  const writesOf = async (fn: () => Promise<unknown>) => {
    h.resetLog();
    await fn();
    return h.counts();
  };

  it("rollup mode", async () => {
    // Healthy: no issue, one read.
    let counts = await writesOf(async () => {
      const r = await sync("rollup", [backupOk(NOW), dbOk(NOW)], NOW);
      expect(r.applied).toEqual([{ kind: "none", issue: null, key: null }]);
    });
    expect(counts).toEqual({ reads: 1, writes: 0, total: 1 });
    expect(await h.open()).toEqual([]);

    // One job stale: one issue.
    let r = await sync("rollup", [backupStale(minutes(15)), dbOk(minutes(15))], minutes(15));
    expect(r.applied.map((a) => a.kind)).toEqual(["create"]);
    const [issue] = await h.open();
    expect(issue?.body).toContain("<!-- lastbeat:rollup scope=web-1 -->");
    expect(issue?.body).toContain("| backup | **stale** |");
    const first = issue!.number;

    // Unchanged: one read, zero writes.
    counts = await writesOf(async () => {
      r = await sync("rollup", [backupStale(minutes(30)), dbOk(minutes(30))], minutes(30));
      expect(r.applied).toEqual([{ kind: "none", issue: first, key: "rollup" }]);
    });
    expect(counts).toEqual({ reads: 1, writes: 0, total: 1 });

    // A second job fails: exactly one comment, and the body updated. The issue has no comment
    // yet, so none is read first.
    counts = await writesOf(async () => {
      r = await sync("rollup", [backupStale(minutes(45)), dbFailed(minutes(45))], minutes(45));
    });
    expect(r.applied.map((a) => [a.kind, a.issue])).toEqual([["comment", first], ["update", first]]);
    expect(counts).toEqual({ reads: 1, writes: 2, total: 3 });
    let [now] = await h.open();
    expect(now?.body).toContain("| db-dump | **failed** |");
    expect(now?.comments).toHaveLength(1);
    expect(now?.comments[0]).toContain("**db-dump** started alerting: failed");

    // Unchanged again, run after run: no more comments.
    for (const m of [60, 75, 90]) {
      counts = await writesOf(() => sync("rollup", [backupStale(minutes(m)), dbFailed(minutes(m))], minutes(m)));
      expect(counts.writes).toBe(0);
    }
    [now] = await h.open();
    expect(now?.comments).toHaveLength(1);

    // Everything recovers: a closing comment that says what and for how long, then closed. The
    // issue's comments are read first (one request): this one was not said before.
    counts = await writesOf(async () => {
      r = await sync("rollup", [backupOk(minutes(105)), dbOk(minutes(105))], minutes(105));
    });
    expect(r.applied.map((a) => [a.kind, a.issue])).toEqual([["close", first]]);
    expect(counts).toEqual({ reads: 2, writes: 2, total: 4 });
    expect(await h.open()).toEqual([]);
    const closed = (await h.all()).find((i) => i.number === first)!;
    expect(closed.state).toBe("closed");
    expect(closed.comments).toHaveLength(2);
    expect(closed.comments[1]).toContain("**backup** is now ok after alerting for 4h 44m (since 2025-03-10 09:00 UTC)");
    expect(closed.comments[1]).toContain("**db-dump** is now ok after alerting for 1h 24m");

    // A new incident opens a new issue.
    r = await sync("rollup", [backupOk(minutes(120)), dbFailed(minutes(120))], minutes(120));
    expect(r.applied.map((a) => a.kind)).toEqual(["create"]);
    const open = await h.open();
    expect(open).toHaveLength(1);
    expect(open[0]!.number).not.toBe(first);
  });

  it("per-job mode", async () => {
    let r = await sync("per-job", [backupOk(NOW), dbOk(NOW)], NOW);
    expect(r.applied).toEqual([{ kind: "none", issue: null, key: null }]);

    r = await sync("per-job", [backupStale(minutes(15)), dbOk(minutes(15))], minutes(15));
    expect(r.applied.map((a) => [a.kind, a.key])).toEqual([["create", "job:backup"]]);
    const backupIssue = r.applied[0]!.issue!;

    const counts = await writesOf(async () => {
      r = await sync("per-job", [backupStale(minutes(30)), dbOk(minutes(30))], minutes(30));
    });
    expect(r.applied).toEqual([{ kind: "none", issue: backupIssue, key: "job:backup" }]);
    expect(counts).toEqual({ reads: 1, writes: 0, total: 1 });

    // A second job fails: its own issue; the first one is left alone.
    r = await sync("per-job", [backupStale(minutes(45)), dbFailed(minutes(45))], minutes(45));
    expect(r.applied.map((a) => [a.kind, a.key])).toEqual([["create", "job:db-dump"], ["none", "job:backup"]]);
    const dbIssue = r.applied[0]!.issue!;
    let open = await h.open();
    expect(open.map((i) => i.number).sort()).toEqual([backupIssue, dbIssue].sort());
    expect(open.find((i) => i.number === dbIssue)?.body).toContain("<!-- lastbeat:job:db-dump scope=web-1 -->");

    // A status change on one job: its body updated + one comment.
    r = await sync("per-job", [backupFailed(minutes(60)), dbFailed(minutes(60))], minutes(60));
    expect(r.applied.map((a) => [a.kind, a.issue])).toEqual([["comment", backupIssue], ["update", backupIssue], ["none", dbIssue]]);
    open = await h.open();
    expect(open.find((i) => i.number === backupIssue)?.comments).toEqual([expect.stringContaining("**backup** changed: stale → failed")]);
    expect(open.find((i) => i.number === dbIssue)?.comments).toEqual([]);

    // One recovers: only its issue closes.
    r = await sync("per-job", [backupFailed(minutes(75)), dbOk(minutes(75))], minutes(75));
    expect(r.applied.map((a) => [a.kind, a.issue])).toEqual([["close", dbIssue], ["none", backupIssue]]);
    r = await sync("per-job", [backupOk(minutes(90)), dbOk(minutes(90))], minutes(90));
    expect(r.applied.map((a) => [a.kind, a.issue])).toEqual([["close", backupIssue]]);
    expect(await h.open()).toEqual([]);
    const closed = (await h.all()).find((i) => i.number === backupIssue)!;
    expect(closed.comments.at(-1)).toContain("The job has recovered; closing.");

    // A new incident: a new issue.
    r = await sync("per-job", [backupStale(minutes(105)), dbOk(minutes(105))], minutes(105));
    expect(r.applied[0]).toMatchObject({ kind: "create", key: "job:backup" });
    expect(r.applied[0]!.issue).not.toBe(backupIssue);
  });
});

import { describe, expect, it } from "vitest";
import {
  planSync,
  saidId,
  saidOfComment,
  stateLine,
  stateOfBody,
  unadoptedIssues,
  writesOf,
  type ForgeIssue,
  type IssueState,
  type PlanInput,
  type PlannedAction,
} from "@lastbeat/forge";
import { evaluate, type JobState } from "lastbeat";
import { closeDuplicate } from "../../packages/forge/src/plan.js";
import { NOW, at, failed, healthy, stale, state, SCOPE } from "./helpers.js";

const plan = (input: PlanInput) => planSync(input).actions;

/** Applies the planner's create/update to an in-memory issue, as a forge would. */
function apply(actions: PlannedAction[], issue: { title: string; body: string } | null) {
  for (const a of actions) if (a.kind === "create" || a.kind === "update") return { title: a.title, body: a.body };
  return issue;
}
const asIssue = ({ title, body }: { title: string; body: string }) => [
  { number: 1, title, body, createdAt: NOW.toISOString(), url: "", labels: ["heartbeat"] },
];

it("keeps when a job's incident began across a change of status, and the closing comment counts from there", () => {
  // 12:00 sync is stale (alerting since 09:00); at 13:00 it has failed instead; at 14:00 it is fine.
  let issue = apply(plan({ scope: SCOPE, mode: "rollup", states: [stale("sync")], issues: [], now: NOW }), null)!;
  expect(issue.body).toContain("2025-03-10 09:00 UTC");
  const later = at(1);
  const second = plan({ scope: SCOPE, mode: "rollup", states: [failed("sync", later)], issues: asIssue(issue), now: later });
  expect(second.map((a) => a.kind)).toEqual(["comment", "update"]);
  issue = apply(second, issue)!;
  expect(issue.body).toContain("| sync | **failed** |");
  expect(issue.body).toMatch(/\| 2025-03-10 09:00 UTC \| 1h \|/); // still since 09:00, not 12:40
  const end = at(2);
  const close = plan({ scope: SCOPE, mode: "rollup", states: [healthy("sync", end)], issues: asIssue(issue), now: end });
  expect(close).toMatchObject([{ kind: "close" }]);
  expect((close[0] as { comment: string }).comment).toContain("after alerting for 4h 50m (since 2025-03-10 09:00 UTC)");
});

it("dates a missing job from the run that first saw it, then keeps that date so the body is stable", () => {
  const missing = (now: Date): JobState => evaluate(undefined, { intervalSeconds: 3600 }, now, { job: "invoices" });
  const first = plan({ scope: SCOPE, mode: "rollup", states: [missing(NOW)], issues: [], now: NOW });
  const issue = apply(first, null)!;
  expect(issue.body).toContain("2025-03-10 12:00 UTC");
  const again = plan({ scope: SCOPE, mode: "rollup", states: [missing(at(1))], issues: asIssue(issue), now: at(1) });
  expect(again).toEqual([{ kind: "none", key: "rollup", issue: 1 }]);
});

it("reads a body the forge stored with CRLF line ends (a web edit) as the same body: no write", () => {
  const states = [stale("backup"), failed("db")];
  const issue = apply(plan({ scope: SCOPE, mode: "rollup", states, issues: [], now: NOW }), null)!;
  const crlf = { title: issue.title, body: issue.body.replace(/\n/g, "\r\n") };
  expect(crlf.body).not.toBe(issue.body);
  expect(plan({ scope: SCOPE, mode: "rollup", states, issues: asIssue(crlf), now: NOW })).toEqual([{ kind: "none", key: "rollup", issue: 1 }]);
});

it("reads a per-job body stored with CRLF line ends as the same body: no write", () => {
  const states = [failed("db")];
  const created = plan({ scope: SCOPE, mode: "per-job", states, issues: [], now: NOW });
  const issue = apply(created, null)!;
  const crlf = { title: issue.title, body: issue.body.replace(/\n/g, "\r\n") };
  expect(plan({ scope: SCOPE, mode: "per-job", states, issues: asIssue(crlf), now: NOW }).map((a) => a.kind)).toEqual(["none"]);
});

/*
 * The planner alone, on issues as a forge lists them: duplicates, a change of mode, issues a
 * person edited or half-deleted, issues from before scopes, the storm and the write budget.
 * The loopback-forge suites (storms, scopes, lifecycle) drive the same paths end to end; these
 * pin each decision to the action it produces.
 */
type Rendered = { title: string; body: string };
const open = (number: number, { title, body }: Rendered, createdAt = NOW): ForgeIssue => ({
  number,
  title,
  body,
  createdAt: createdAt.toISOString(),
  url: "",
  labels: ["heartbeat"],
});
/** The issue the planner would create for `states` in `mode`. */
function rendered(mode: PlanInput["mode"], states: JobState[], key = mode === "rollup" ? "rollup" : `job:${states[0]!.job}`): Rendered {
  const create = planSync({ scope: SCOPE, mode, states, issues: [], now: NOW }).actions.find((a) => a.kind === "create" && a.key === key);
  if (create?.kind !== "create") throw new Error(`no ${key} issue planned`);
  return { title: create.title, body: create.body };
}
const lines = (body: string) => body.split("\n");
const summary = (actions: PlannedAction[]) => actions.map((a) => `${a.kind} ${a.key ?? "-"}${"issue" in a && a.issue !== null ? ` #${a.issue}` : ""}`);

describe("the planner on the issues it finds", () => {
  it("keeps the oldest of several issues with one key (by creation, then number) and closes the others after the writes that matter", () => {
    const before = rendered("rollup", [stale("backup")]);
    const issues = [open(5, before, at(-1)), open(9, before, at(-2)), open(7, before, at(-2))];
    const { actions } = planSync({ scope: SCOPE, mode: "rollup", states: [stale("backup"), failed("db")], issues, now: NOW });
    expect(summary(actions)).toEqual(["comment rollup #7", "update rollup #7", "close-duplicate rollup #9", "close-duplicate rollup #5"]);
    for (const a of actions.filter((a) => a.kind === "close-duplicate")) {
      expect(a).toMatchObject({ of: 7, comment: `Closing as a duplicate of #7: lastbeat keeps the oldest open alert issue.\n\n<!-- lastbeat:said ${a.said} -->\n` });
    }
  });

  it("closes the other mode's issues when --mode changes, either way", () => {
    const rollup = open(1, rendered("rollup", [stale("backup")]));
    const toPerJob = planSync({ scope: SCOPE, mode: "per-job", states: [stale("backup")], issues: [rollup], now: NOW }).actions;
    expect(summary(toPerJob)).toEqual(["create job:backup", "close rollup #1"]);
    expect(toPerJob[1]).toMatchObject({ comment: expect.stringMatching(/^lastbeat check now keeps one issue per job; closing this rollup issue\.\n\n<!-- lastbeat:said [0-9a-f]{16} -->\n$/) });

    const perJob = open(2, rendered("per-job", [stale("backup")]));
    const toRollup = planSync({ scope: SCOPE, mode: "rollup", states: [stale("backup")], issues: [perJob], now: NOW }).actions;
    expect(summary(toRollup)).toEqual(["create rollup", "close job:backup #2"]);
    expect(toRollup[1]).toMatchObject({ comment: expect.stringMatching(/^lastbeat check now keeps one rollup issue for all jobs; closing this per-job issue\.\n\n<!-- lastbeat:said [0-9a-f]{16} -->\n$/) });
    // The same mode keeps its issue.
    expect(summary(planSync({ scope: SCOPE, mode: "per-job", states: [stale("backup")], issues: [perJob], now: NOW }).actions)).toEqual(["none job:backup #2"]);
  });

  it("repairs a title, a body or a marker line a person changed, in one silent edit", () => {
    const states = [stale("backup")];
    const issue = rendered("rollup", states);
    const edits: Rendered[] = [
      { ...issue, title: `${issue.title} (looking)` },
      { ...issue, body: issue.body.replace("| backup |", "| backup (ignore) |") },
      // Written before scopes: the marker names no scope; the state names our job, so it is ours.
      { ...issue, body: issue.body.replace("<!-- lastbeat:rollup scope=web-1 -->", "<!-- lastbeat:rollup -->") },
    ];
    for (const edited of edits) {
      const { actions } = planSync({ scope: SCOPE, mode: "rollup", states, issues: [open(1, edited)], now: NOW });
      expect(summary(actions)).toEqual(["update rollup #1"]);
      expect(actions[0]).toMatchObject(issue);
    }
  });

  it("adopts an issue from before scopes only when one of the jobs its state names alerts here and this checker runs them all", () => {
    const theirs = rendered("rollup", [stale("backup"), stale("elsewhere")]);
    const unscoped = { ...theirs, body: theirs.body.replace(" scope=web-1", "") };
    const ours = planSync({ scope: SCOPE, mode: "rollup", states: [stale("backup"), healthy("elsewhere")], issues: [open(1, unscoped)], now: NOW });
    expect(summary(ours.actions).slice(0, 2)).toEqual(["comment rollup #1", "update rollup #1"]);
    expect(lines((ours.actions[1] as { body: string }).body)[0]).toBe("<!-- lastbeat:rollup scope=web-1 -->");
    // Naming none of them, it is another checker's: left alone.
    const other = planSync({ scope: SCOPE, mode: "rollup", states: [stale("db")], issues: [open(1, unscoped)], now: NOW });
    expect(summary(other.actions)).toEqual(["create rollup"]);
    // Running only some of them: adopting would make "elsewhere" missing here; left alone.
    const some = planSync({ scope: SCOPE, mode: "rollup", states: [stale("backup")], issues: [open(1, unscoped)], now: NOW });
    expect(summary(some.actions)).toEqual(["create rollup"]);
    expect(some.states.map((s) => s.job)).toEqual(["backup"]);
    // Healthy here: not closed as recovered, since it may be another host's alert.
    const healthyHere = planSync({ scope: SCOPE, mode: "rollup", states: [healthy("backup"), healthy("elsewhere")], issues: [open(1, unscoped)], now: NOW });
    expect(summary(healthyHere.actions)).toEqual(["none -"]);
  });

  it("plans over an issue whose state line a person deleted, never throwing", () => {
    const withoutState = (issue: Rendered) => ({ ...issue, body: lines(issue.body).filter((l) => !l.startsWith("<!-- lastbeat:state")).join("\n") });
    const rollup = open(1, withoutState(rendered("rollup", [stale("backup")])));
    expect(summary(planSync({ scope: SCOPE, mode: "rollup", states: [stale("backup")], issues: [rollup], now: NOW }).actions)).toEqual(["update rollup #1"]);
    const close = planSync({ scope: SCOPE, mode: "rollup", states: [healthy("backup")], issues: [rollup], now: NOW }).actions;
    expect(summary(close)).toEqual(["close rollup #1"]);
    const storm = open(2, withoutState(rendered("per-job", Array.from({ length: 12 }, (_, i) => failed(`job-${i}`)), "storm")));
    expect(() => planSync({ scope: SCOPE, mode: "per-job", states: [failed("job-0")], issues: [storm], now: NOW })).not.toThrow();
    // An issue from before scopes without a state names none of our jobs: not ours.
    const unscoped = { ...rollup, body: rollup.body.replace(" scope=web-1", "") };
    expect(summary(planSync({ scope: SCOPE, mode: "rollup", states: [stale("backup")], issues: [unscoped], now: NOW }).actions)).toEqual(["create rollup"]);
  });

  it("claims an issue of our label whose markers a person removed, by its title", () => {
    const strip = (issue: Rendered) => ({ ...issue, body: lines(issue.body).filter((l) => !l.startsWith("<!-- lastbeat:")).join("\n") });
    const many = Array.from({ length: 12 }, (_, i) => failed(`job-${i}`));
    const cases: Array<[PlanInput["mode"], JobState[], Rendered, string]> = [
      ["rollup", [stale("backup")], rendered("rollup", [stale("backup")]), "rollup"],
      ["rollup", [stale("backup"), failed("db")], rendered("rollup", [stale("backup"), failed("db")]), "rollup"],
      ["per-job", [stale("backup")], rendered("per-job", [stale("backup")]), "job:backup"],
      ["per-job", many, rendered("per-job", many, "storm"), "storm"],
    ];
    for (const [mode, states, issue, key] of cases) {
      const { actions } = planSync({ scope: SCOPE, mode, states, issues: [open(1, strip(issue))], now: NOW, maxNewIssues: 0 });
      expect(summary(actions), issue.title).toContain(`update ${key} #1`);
      expect(summary(actions), issue.title).not.toContain(`create ${key}`);
    }
    // Another scope's title, or a title that only looks like ours, is not ours.
    const rollup = strip(rendered("rollup", [stale("backup")]));
    const lookalikes = [
      rollup.title.replace("web-1", "web-2"),
      `Re: ${rollup.title}`,
      "[heartbeat-checker] web-1: backup is sad",
      "[heartbeat-checker] web-1: two jobs alerting: backup",
      "[heartbeat-checker] web-1: note: 3 jobs alerting: backup",
    ];
    for (const title of lookalikes) {
      expect(summary(planSync({ scope: SCOPE, mode: "rollup", states: [stale("backup")], issues: [open(1, { ...rollup, title })], now: NOW }).actions), title).toEqual(["create rollup"]);
    }
    const job = strip(rendered("per-job", [stale("backup")]));
    for (const title of ["[heartbeat-checker] web-1: the backup is stale", "[heartbeat-checker] web-1: backup is stale again"]) {
      expect(summary(planSync({ scope: SCOPE, mode: "per-job", states: [stale("backup")], issues: [open(1, { ...job, title })], now: NOW }).actions), title).toEqual(["create job:backup"]);
    }
    // A rollup of many jobs: the count has more than one digit.
    const twelve = Array.from({ length: 12 }, (_, i) => stale(`job-${i}`));
    const big = strip(rendered("rollup", twelve));
    expect(big.title).toMatch(/: 12 jobs alerting: /);
    expect(summary(planSync({ scope: SCOPE, mode: "rollup", states: twelve, issues: [open(1, big)], now: NOW }).actions)).toEqual(["update rollup #1"]);
  });

  it("keeps a job whose heartbeat file vanished alerting as missing, 'heartbeat file removed', until retired", () => {
    const issue = open(1, rendered("rollup", [stale("backup"), failed("db")]));
    const { states, actions } = planSync({ scope: SCOPE, mode: "rollup", states: [failed("db")], issues: [issue], now: NOW });
    expect(states.find((s) => s.job === "backup")).toMatchObject({ status: "missing", alerting: true, reason: "heartbeat file removed", file: null, heartbeat: null });
    expect(summary(actions)).toEqual(["comment rollup #1", "update rollup #1"]);
    const retired = planSync({ scope: SCOPE, mode: "rollup", states: [failed("db")], issues: [issue], now: NOW, retired: new Set(["backup"]) });
    expect(retired.states.map((s) => s.job)).toEqual(["db"]);
  });

  it("keeps a declared job that never beat alerting as missing when a newer crontab gives it a new first run, until it beats", () => {
    const decl = (declaredAt: Date) => ({ intervalSeconds: 3600, declaredAt });
    const never = (now: Date, declaredAt: Date) => evaluate(undefined, decl(declaredAt), now, { job: "invoices" });
    // Declared at 08:00 and never run: missing since its grace ended at 10:00.
    const missing = never(NOW, at(-4));
    expect(missing).toMatchObject({ status: "missing", alerting: true });
    const issue = open(1, rendered("rollup", [missing]));
    // At 12:30 someone edits the crontab (perhaps the fix): the evaluation alone now waits for 13:30.
    const edited = never(at(0.5), at(0.5));
    expect(edited).toMatchObject({ status: "ok", alerting: false });
    const kept = planSync({ scope: SCOPE, mode: "rollup", states: [edited], issues: [issue], now: at(0.5) });
    expect(kept.states).toMatchObject([{ job: "invoices", status: "missing", alerting: true, reason: `no heartbeat file since it began alerting; its next run is due ${at(1.5).toISOString()}` }]);
    expect(kept.states[0]!.alertingSince).toEqual(missing.alertingSince);
    // The issue stays open: the new wording is edited in silently, nothing is announced as recovered.
    expect(summary(kept.actions)).toEqual(["update rollup #1"]);
    // Only the job the issue remembers: a healthy job and another job waiting for its first run stay as they are.
    const fresh = evaluate(undefined, decl(at(0.5)), at(0.5), { job: "fresh" });
    const others = planSync({ scope: SCOPE, mode: "rollup", states: [edited, healthy("db", at(0.5)), fresh], issues: [issue], now: at(0.5) }).states;
    expect(others.map((s) => [s.job, s.status])).toEqual([["invoices", "missing"], ["db", "ok"], ["fresh", "ok"]]);
    expect(others[2]).toBe(fresh);
    // Without the open issue's memory the job simply waits: nothing opens.
    expect(summary(planSync({ scope: SCOPE, mode: "rollup", states: [edited], issues: [], now: at(0.5) }).actions)).toEqual(["none -"]);
    // Its first beat closes it.
    const beaten = planSync({ scope: SCOPE, mode: "rollup", states: [healthy("invoices", at(1))], issues: [open(1, rendered("rollup", kept.states))], now: at(1) });
    expect(summary(beaten.actions)).toEqual(["close rollup #1"]);
  });

  it("keeps a declared job that alerted with a heartbeat file (stale) alerting as missing when the file is gone and the job waits for a first run, in the same words on every run", () => {
    const issue = open(1, rendered("rollup", [stale("invoices")]));
    // A reboot emptied the folder, the checker's memory with it: the job waits for its first run since.
    const waiting = evaluate(undefined, { intervalSeconds: 3600, declaredAt: at(-0.5) }, NOW, { job: "invoices" });
    expect(waiting.status).toBe("ok");
    const { states, actions } = planSync({ scope: SCOPE, mode: "rollup", states: [waiting], issues: [issue], now: NOW });
    expect(states).toMatchObject([{ job: "invoices", status: "missing", alerting: true, reason: `no heartbeat file since it began alerting; its next run is due ${at(0.5).toISOString()}` }]);
    expect(summary(actions)).toEqual(["comment rollup #1", "update rollup #1"]);
    // An @reboot job waiting for the next boot has no due time: the reason says none.
    const atBoot = { ...evaluate(undefined, {}, NOW, { job: "invoices" }), status: "ok" as const, alerting: false, alertingSince: null, reason: "no heartbeat yet; it runs at the next boot" };
    expect(planSync({ scope: SCOPE, mode: "rollup", states: [atBoot], issues: [issue], now: NOW }).states).toMatchObject([{ status: "missing", reason: "no heartbeat file since it began alerting" }]);
    // The next run remembers it as missing: nothing to say, nothing to edit.
    const again = planSync({ scope: SCOPE, mode: "rollup", states: [waiting], issues: [open(1, rendered("rollup", states))], now: NOW });
    expect(summary(again.actions)).toEqual(["none rollup #1"]);
  });

  it("closes a folder's or a crontab line's alert once it left the scan: a pseudo-job has no file to remove", () => {
    const pseudo = (job: string) => ({ ...evaluate(undefined, undefined, NOW, { job, file: "/x", invalidReason: "heartbeat folder does not exist" }) });
    const issue = open(1, rendered("rollup", [pseudo("folder:/mnt/hosts/c/hb"), pseudo("crontab:/etc/cron.d/x:3"), pseudo("cron:/etc/crontab:9")]));
    const { states, actions } = planSync({ scope: SCOPE, mode: "rollup", states: [healthy("db")], issues: [issue], now: NOW });
    expect(states.map((s) => [s.job, s.status])).toEqual([["db", "ok"]]);
    expect(summary(actions)).toEqual(["close rollup #1"]);
  });
});

describe("a job renamed by the scan of several folders", () => {
  // Found in two folders it is `<job>@<folder>`; left in one, plain `<job>` again: the same file.
  const at = (job: string, folder: string, make: (job: string) => JobState): JobState => ({ ...make(job), file: `${folder}/${job.split("@")[0]}.last` });

  it("closes the alert of `backup@<folder>` when that folder's file, now plain `backup`, is healthy: not 'heartbeat file removed'", () => {
    const issue = open(1, rendered("rollup", [at("backup@/hosts/a", "/hosts/a", stale)]));
    const { states, actions } = planSync({ scope: SCOPE, mode: "rollup", states: [at("backup", "/hosts/a", healthy)], issues: [issue], now: NOW });
    expect(states.map((s) => [s.job, s.status])).toEqual([["backup", "ok"]]);
    expect(summary(actions)).toEqual(["close rollup #1"]);
  });

  it("keeps the alert of plain `backup` on its file, now `backup@<folder>` beside another folder's, without a missing job", () => {
    const issue = open(1, rendered("rollup", [at("backup", "/hosts/a", stale)]));
    const states = [at("backup@/hosts/a", "/hosts/a", stale), at("backup@/hosts/b", "/hosts/b", healthy)];
    const plan = planSync({ scope: SCOPE, mode: "rollup", states, issues: [issue], now: NOW });
    expect(plan.states.filter((s) => s.status === "missing")).toEqual([]);
  });

  it("still says 'heartbeat file removed' when the file is gone from that folder, whatever else is scanned", () => {
    const issue = open(1, rendered("rollup", [at("backup@/hosts/a", "/hosts/a", stale)]));
    const { states } = planSync({ scope: SCOPE, mode: "rollup", states: [at("backup", "/hosts/b", healthy)], issues: [issue], now: NOW });
    expect(states.find((s) => s.job === "backup@/hosts/a")).toMatchObject({ status: "missing", reason: "heartbeat file removed" });
  });
});

describe("the planner in a storm and on a write budget", () => {
  it("opens the shared storm issue first, and says how many new issues a run may open", () => {
    const states = [stale("backup"), failed("db"), failed("aaa"), failed("zzz")];
    const { actions } = planSync({ scope: SCOPE, mode: "per-job", states, issues: [], now: NOW, maxNewIssues: 2 });
    expect(summary(actions)).toEqual(["create storm", "create job:aaa", "create job:db"]);
    expect((actions[0] as { body: string }).body).toContain("`--max-new-issues` (2)");
    const many = Array.from({ length: 12 }, (_, i) => failed(`job-${String(i).padStart(2, "0")}`));
    const storm = planSync({ scope: SCOPE, mode: "per-job", states: many, issues: [], now: NOW }).actions[0];
    expect(storm).toMatchObject({ kind: "create", key: "storm" });
    expect((storm as { body: string }).body).toContain("`--max-new-issues` (10)");
  });

  it("keeps updating a job's own issue while new alerts go to the storm, and keeps storm members in it", () => {
    const own = open(1, rendered("per-job", [failed("aaa")]));
    const states = [failed("aaa"), failed("bbb"), failed("ccc")];
    const { actions } = planSync({ scope: SCOPE, mode: "per-job", states, issues: [own], now: NOW, maxNewIssues: 0 });
    expect(summary(actions)).toEqual(["create storm", "none job:aaa #1"]);
    // With room again, a job in the storm issue stays there rather than opening its own.
    const storm = open(2, { title: (actions[0] as Rendered).title, body: (actions[0] as Rendered).body });
    const next = planSync({ scope: SCOPE, mode: "per-job", states, issues: [own, storm], now: NOW, maxNewIssues: 10 });
    expect(summary(next.actions)).toEqual(["none job:aaa #1", "none storm #2"]);
  });

  it("spends the budget on a changed alert before repairing a person's edit, and counts what waits", () => {
    const aaa = rendered("per-job", [failed("aaa")]);
    const bbb = rendered("per-job", [failed("bbb")]);
    const issues = [open(1, { ...aaa, body: aaa.body.replace("disk full", "disk fine, says a person") }), open(2, bbb)];
    const states = [failed("aaa"), failed("bbb", NOW, { message: "disk full again" })];
    const tight = planSync({ scope: SCOPE, mode: "per-job", states, issues, now: NOW, maxWrites: 1 });
    expect(summary(tight.actions)).toEqual(["update job:bbb #2"]);
    expect(tight.deferredWrites).toBe(1);
    const roomy = planSync({ scope: SCOPE, mode: "per-job", states, issues, now: NOW, maxWrites: 5 });
    expect(summary(roomy.actions)).toEqual(["update job:bbb #2", "update job:aaa #1"]);
    expect(roomy.deferredWrites).toBe(0);
  });

  it("ends a change's and a close's comment with the said line of its transition, the same on every run until the body changes", () => {
    const issue = open(1, rendered("rollup", [stale("backup")]));
    // Fixed beats, evaluated later and later: the situation only changes when the test says so.
    const backup = (now: Date) => state("backup", { at: at(-5) }, now);
    const db = (now: Date) => state("db", { at: at(-0.2), status: "fail", exit_code: 2, message: "disk full" }, now);
    const change = (now: Date) => planSync({ scope: SCOPE, mode: "rollup", states: [backup(now), db(now)], issues: [issue], now }).actions;
    const [comment] = change(NOW);
    if (comment?.kind !== "comment") throw new Error("no comment planned");
    expect(comment.said).toMatch(/^[0-9a-f]{16}$/);
    expect(comment.body.endsWith(`\n\n<!-- lastbeat:said ${comment.said} -->\n`)).toBe(true);
    expect(saidOfComment(comment.body)).toBe(comment.said);
    // An hour later, the same change: the same id, though the comment's durations moved on.
    expect(change(at(1))[0]).toMatchObject({ kind: "comment", said: comment.said });
    // Another change from the same state, and the close, say other ids.
    const other = planSync({ scope: SCOPE, mode: "rollup", states: [stale("backup"), stale("db")], issues: [issue], now: NOW }).actions[0];
    const close = planSync({ scope: SCOPE, mode: "rollup", states: [healthy("backup")], issues: [issue], now: NOW }).actions[0];
    const ids = [comment.said, (other as { said: string }).said, (close as { said: string }).said];
    expect(new Set(ids).size).toBe(3);
    // A person's comment says nothing; a said line counts only as the last line.
    expect(saidOfComment("looking into it")).toBeNull();
    expect(saidOfComment(`<!-- lastbeat:said ${comment.said} -->\nquoted above`)).toBeNull();
    expect(saidOfComment(`done\r\n\r\n<!-- lastbeat:said ${comment.said} -->\r\n`)).toBe(comment.said);
  });

  it("counts a close as two writes (comment and close), anything else that writes as one", () => {
    const key = "rollup" as const;
    expect(writesOf({ kind: "none", key: null, issue: null })).toBe(0);
    expect(writesOf({ kind: "close", key, issue: 1, comment: "", said: "" })).toBe(2);
    expect(writesOf({ kind: "close-duplicate", key, issue: 2, of: 1, comment: "", said: "" })).toBe(2);
    expect(writesOf({ kind: "create", key, title: "", body: "" })).toBe(1);
    expect(writesOf({ kind: "update", key, issue: 1, title: "", body: "" })).toBe(1);
    expect(writesOf({ kind: "comment", key, issue: 1, body: "", said: "" })).toBe(1);
  });
});

describe("the planner's job states", () => {
  it("are the scan's, untouched where nothing alerts", () => {
    const states = [healthy("backup"), healthy("db")];
    expect(planSync({ scope: SCOPE, mode: "rollup", states, issues: [], now: NOW }).states).toEqual(states);
  });

  it("keep a job's own start of alerting when it is earlier than the one its issue remembers", () => {
    const issue = open(1, rendered("rollup", [stale("backup")])); // remembers 09:00
    const early = state("backup", { at: at(-4), status: "fail", exit_code: 1, message: "x" }); // failing since 08:00
    const [planned] = planSync({ scope: SCOPE, mode: "rollup", states: [early], issues: [issue], now: NOW }).states;
    expect(planned!.alertingSince).toEqual(early.alertingSince);
    expect(early.alertingSince!.getTime()).toBeLessThan(at(-3).getTime());
  });
});

describe("the planner's memory of issues from before scopes and of scanned folders", () => {
  const unscoped = (issue: Rendered) => ({ ...issue, body: issue.body.replace(" scope=web-1", "") });

  it("names the issues from before scopes it leaves open oldest first, and skips one whose state line a person deleted", () => {
    const theirs = unscoped(rendered("rollup", [stale("backup")]));
    const states = [healthy("backup")];
    const issues = [open(5, theirs, at(-1)), open(3, theirs, at(-2)), open(4, theirs, at(-2))];
    expect(unadoptedIssues(issues, SCOPE, states).map(({ issue, jobs }) => [issue.number, jobs])).toEqual([
      [3, ["backup"]],
      [4, ["backup"]],
      [5, ["backup"]],
    ]);
    const withoutState = { ...theirs, body: lines(theirs.body).filter((l) => !l.startsWith("<!-- lastbeat:state")).join("\n") };
    expect(unadoptedIssues([open(1, withoutState)], SCOPE, states)).toEqual([]);
  });

  it("lets a remembered job@<folder> of a folder no longer scanned leave with it, as if retired; a plain job's vanished file stays missing", () => {
    const issue = open(1, rendered("rollup", [stale("backup@/hosts/a"), stale("mail"), stale("old"), stale("db")]));
    const run = (scannedDirs: string[]) =>
      planSync({ scope: SCOPE, mode: "rollup", states: [stale("db")], issues: [issue], now: NOW, retired: new Set(["old"]), scannedDirs: new Set(scannedDirs) });
    const missing = (p: ReturnType<typeof run>) => p.states.filter((s) => s.status === "missing").map((s) => s.job);
    // /hosts/a no longer scanned: its job left with it; `mail` (no folder in its name) vanished; `old` stays retired.
    const gone = run(["/hosts/b"]);
    expect(missing(gone)).toEqual(["mail"]);
    const [comment] = gone.actions;
    expect(comment).toMatchObject({ kind: "comment", body: expect.stringMatching(/\n- \*\*backup@\S*\/hosts\/a\*\* was retired on purpose/) });
    // Still scanned: the file vanished from a folder that is still there.
    expect(missing(run(["/hosts/a", "/hosts/b"]))).toEqual(["backup@/hosts/a", "mail"]);
  });

  it("dates a vanished job whose issue kept no start for it from this run, not from 1970", () => {
    const issue = rendered("rollup", [stale("backup"), stale("db")]);
    const stored = stateOfBody(issue.body)!;
    const noStart = new Map([...stored.snapshot].map(([job, entry]) => [job, job === "backup" ? { ...entry, since: null } : entry]));
    const edited = withStateLine(issue, stateLine({ ...stored, snapshot: noStart }));
    expect(stateOfBody(edited.body)!.snapshot.get("backup")).toMatchObject({ since: null });
    const { states } = planSync({ scope: SCOPE, mode: "rollup", states: [stale("db")], issues: [open(1, edited)], now: NOW });
    expect(states.find((s) => s.job === "backup")).toMatchObject({ status: "missing", alertingSince: NOW });
  });

  it("reads a marker line an editor padded with blanks as ours and unchanged: no write", () => {
    const states = [stale("backup")];
    const issue = rendered("rollup", states);
    const [marker, ...rest] = lines(issue.body);
    const padded = { ...issue, body: [`${marker}  `, ...rest].join("\n") };
    expect(summary(planSync({ scope: SCOPE, mode: "rollup", states, issues: [open(1, padded)], now: NOW }).actions)).toEqual(["none rollup #1"]);
  });
});

describe("the planner's said lines", () => {
  it("name every closing by its transition to 'closed', a duplicate's too, as sync.ts names the duplicate its create raced into", () => {
    const issue = rendered("rollup", [stale("backup")]);
    const closed = saidId(stateOfBody(issue.body), "closed");
    const actions = planSync({ scope: SCOPE, mode: "rollup", states: [healthy("backup")], issues: [open(1, issue, at(-2)), open(2, issue, at(-1))], now: NOW }).actions;
    expect(actions.map((a) => ("said" in a ? a.said : null))).toEqual([closed, closed]);
    expect(closeDuplicate("rollup", open(2, issue), 1).said).toBe(closed);
    // Another transition, another id.
    expect(saidId(stateOfBody(issue.body), "0123456789abcdef")).not.toBe(closed);
  });
});

describe("the planner's memory past the marker's capacity", () => {
  /** The issue with its state line squeezed (shorter and shorter) until `fits` says the stored state is as wanted. */
  function squeezed(issue: Rendered, fits: (state: IssueState) => boolean): Rendered {
    const stored = stateOfBody(issue.body)!;
    // The writer keeps room for a count (" +NNNNNNNNN") whether or not it needs one.
    for (let max = stateLine(stored).length + 20; max > 0; max -= 1) {
      const line = stateLine(stored, max);
      if (fits(stateOfBody(line)!)) return withStateLine(issue, line);
    }
    throw new Error("no squeeze gives that state");
  }
  const a = "nightly-export-a";
  const b = "nightly-export-b";
  const hashedBoth = (s: IssueState) => s.hashed.size === 2 && s.snapshot.size === 0 && s.forgotten === 0;

  it("names the jobs an issue kept by hash again from the scan, and from the retired list", () => {
    const issue = open(1, squeezed(rendered("rollup", [stale(a), stale(b)]), hashedBoth));
    const recovered = planSync({ scope: SCOPE, mode: "rollup", states: [healthy(a), stale(b)], issues: [issue], now: NOW }).actions;
    expect(summary(recovered)).toEqual(["comment rollup #1", "update rollup #1"]);
    expect((recovered[0] as { body: string }).body).toMatch(/^The alerting jobs changed \(1 job alerting now\):\n\n- \*\*nightly-export-a\*\* is now ok after alerting for /);
    const retired = planSync({ scope: SCOPE, mode: "rollup", states: [stale(b)], issues: [issue], now: NOW, retired: new Set([a]) }).actions;
    expect((retired[0] as { body: string }).body).toContain("- **nightly-export-a** was retired on purpose (`lastbeat retire`)");
  });

  it("counts a job kept by hash whose heartbeat file vanished, and says it is no longer watched", () => {
    const issue = open(1, squeezed(rendered("rollup", [stale(a), stale(b)]), hashedBoth));
    const { actions, states } = planSync({ scope: SCOPE, mode: "rollup", states: [stale(b)], issues: [issue], now: NOW });
    expect(states.map((s) => s.job)).toEqual([b]);
    expect(summary(actions)).toEqual(["comment rollup #1", "update rollup #1"]);
    expect((actions[0] as { body: string }).body).toContain(
      "\n- 1 job whose name this issue did not keep disappeared (heartbeat file removed): lastbeat cannot name it, so it no longer watches it;",
    );
  });

  it("announces a change of the count of jobs the issue could not name, though the named ones stay as they were", () => {
    const issue = open(1, squeezed(rendered("rollup", [stale("aa"), stale("bb"), stale("zz")]), (s) => s.snapshot.size === 2 && s.forgotten === 1));
    const { actions } = planSync({ scope: SCOPE, mode: "rollup", states: [stale("aa"), stale("bb"), healthy("zz")], issues: [issue], now: NOW });
    expect(summary(actions)).toEqual(["comment rollup #1", "update rollup #1"]);
    // Never an empty list: it says where the change is.
    expect((actions[0] as { body: string }).body).toMatch(
      /^The alerting jobs changed \(2 jobs alerting now\):\n\n- no job this issue could name changed: the change is among the 1 it could only count \(3 alerting before, 2 now; the issue lists them\)\n/,
    );
  });

  it("opens no issue of a job's own while the storm issue counts members it cannot name", () => {
    const many = Array.from({ length: 12 }, (_, i) => failed(`job-${String(i).padStart(2, "0")}`));
    const storm = rendered("per-job", many, "storm");
    const members = [...stateOfBody(storm.body)!.snapshot.keys()];
    expect(members).toHaveLength(2);
    const counting = open(1, squeezed(storm, (s) => s.forgotten === 1 && s.snapshot.size + s.hashed.size === 1));
    const states = [...members.map((job) => failed(job)), failed("new-job")];
    const { actions } = planSync({ scope: SCOPE, mode: "per-job", states, issues: [counting], now: NOW });
    expect(summary(actions).filter((s) => s.startsWith("create"))).toEqual([]);
    expect(summary(actions)).toContain("update storm #1");
  });
});

/** `issue` with `line` in place of its state line. */
function withStateLine(issue: Rendered, line: string): Rendered {
  return { ...issue, body: lines(issue.body).map((l) => (l.startsWith("<!-- lastbeat:state") ? line : l)).join("\n") };
}

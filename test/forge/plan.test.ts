import { expect, it } from "vitest";
import { planSync, type PlanInput, type PlannedAction } from "@lastbeat/forge";
import { evaluate, type JobState } from "lastbeat";
import { NOW, at, failed, healthy, stale, SCOPE } from "./helpers.js";

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
  expect(second.map((a) => a.kind)).toEqual(["update", "comment"]);
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

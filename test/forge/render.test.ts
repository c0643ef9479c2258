import { describe, expect, it } from "vitest";
import {
  MAX_BODY_CHARS,
  MAX_COMMENT_CHARS,
  MAX_STATE_CHARS,
  markerOfBody,
  renderChangeComment,
  renderCloseComment,
  renderJobIssue,
  renderRollupIssue,
  renderStormIssue,
  snapshotOf,
  snapshotOfBody,
  stateOfBody,
} from "@lastbeat/forge";
import { NOW, failed, healthy, stale, state, at, SCOPE } from "./helpers.js";

describe("issue bodies", () => {
  it("renders the rollup issue: markers, table worst first, output in a fence", () => {
    const states = [
      healthy("web"),
      stale("backup"),
      failed("db-dump", NOW, { output_tail: "pg_dump: error: connection refused\nexit 2\n" }),
    ];
    const { title, body } = renderRollupIssue(states, SCOPE);
    expect(title).toMatchInlineSnapshot(`"[heartbeat-checker] web-1: 2 jobs alerting: db-dump, backup"`);
    expect(body).toMatchInlineSnapshot(`
      "<!-- lastbeat:rollup scope=web-1 -->
      <!-- lastbeat:state v3 fp=154d1a7e9cffe9f0 h=82623c246198c3c2 failed:ha57g=db-dump;stale:ha530=backup -->

      **2 jobs alerting.** This issue is kept up to date by \`lastbeat check\` (scope \`web-1\`): it is edited when the set of alerting jobs, a status or a reason changes, and closed when every job has recovered.

      | Job | Status | Last beat | Alerting since | Interval | Why |
      | --- | --- | --- | --- | --- | --- |
      | db-dump | **failed** | 2025-03-10 11:40 UTC | 2025-03-10 11:40 UTC | 1h | last run failed: disk full |
      | backup | **stale** | 2025-03-10 07:00 UTC | 2025-03-10 09:00 UTC | 1h | no beat since 2025-03-10T07:00:00.000Z; expected by 2025-03-10T08:00:00.000Z |

      **db-dump** — end of output:

      \`\`\`text
      pg_dump: error: connection refused
      exit 2
      \`\`\`
      "
    `);
  });

  it("renders the same body on every run of an unchanged situation", () => {
    const beat = { at: at(-5), message: "last seen" };
    const first = renderRollupIssue([state("backup", beat, NOW)], SCOPE);
    const later = renderRollupIssue([state("backup", beat, at(0.25))], SCOPE);
    expect(first.body).toContain("| backup | **stale** |");
    expect(later).toEqual(first);
  });

  it("renders a per-job issue", () => {
    const { title, body } = renderJobIssue(stale("backup"), SCOPE);
    expect(title).toMatchInlineSnapshot(`"[heartbeat-checker] web-1: backup is stale"`);
    expect(body).toMatchInlineSnapshot(`
      "<!-- lastbeat:job:backup scope=web-1 -->
      <!-- lastbeat:state v3 fp=e1d37d04d5b5cae0 h=4b8aaa4bf95c7359 stale:ha530=backup -->

      **backup is stale.** This issue is kept up to date by \`lastbeat check\` (scope \`web-1\`) and closed when the job recovers.

      | Job | Status | Last beat | Alerting since | Interval | Why |
      | --- | --- | --- | --- | --- | --- |
      | backup | **stale** | 2025-03-10 07:00 UTC | 2025-03-10 09:00 UTC | 1h | no beat since 2025-03-10T07:00:00.000Z; expected by 2025-03-10T08:00:00.000Z |
      "
    `);
  });

  it("comments on a change and on recovery with how long it was alerting", () => {
    const before = snapshotOf([stale("backup")]);
    const after = [stale("backup"), failed("db-dump")];
    expect(renderChangeComment(before, snapshotOf(after), after, NOW)).toMatchInlineSnapshot(`
      "The alerting jobs changed (2 jobs alerting now):

      - **db-dump** started alerting: failed
      "
    `);
    const recovered = [state("backup", { at: at(-0.5) }), healthy("db-dump")];
    expect(renderCloseComment(snapshotOfBody(renderRollupIssue(after, SCOPE).body), recovered, NOW)).toMatchInlineSnapshot(`
      "Every job has recovered; closing.

      - **db-dump** is now ok after alerting for 10m (since 2025-03-10 11:40 UTC)
      - **backup** is now ok after alerting for 2h 30m (since 2025-03-10 09:00 UTC)
      "
    `);
  });
});

describe("thresholds", () => {
  const run = (hours: number, status: "ok" | "fail") => ({ at: at(hours).toISOString(), status, ...(status === "fail" && { exit_code: 2 }) });
  // Failed twice (alerting from the second), then one ok run of the two needed to recover.
  const recovering = state("db-dump", { at: at(-1), recover_after: 2, runs: [run(-1, "ok"), run(-2, "fail"), run(-3, "fail")] });
  // One failure of the three that alert: flaky, not in any issue.
  const flaky = state("fetch", { at: at(-0.5), status: "fail", exit_code: 1, alert_after: 3, runs: [run(-0.5, "fail"), run(-1.5, "ok")] });

  it("leaves a flaky job out of the issue and shows why a recovering job still alerts", () => {
    expect([flaky.status, recovering.status]).toEqual(["flaky", "failed"]);
    const { title, body } = renderRollupIssue([flaky, recovering, stale("backup")], SCOPE);
    expect(title).toBe("[heartbeat-checker] web-1: 2 jobs alerting: db-dump, backup");
    expect(body).not.toContain("fetch");
    expect(body).toMatchInlineSnapshot(`
      "<!-- lastbeat:rollup scope=web-1 -->
      <!-- lastbeat:state v3 fp=c1b5059956f7dff6 h=d3e276910729640f failed:ha530=db-dump;stale:ha530=backup -->

      **2 jobs alerting.** This issue is kept up to date by \`lastbeat check\` (scope \`web-1\`): it is edited when the set of alerting jobs, a status or a reason changes, and closed when every job has recovered.

      | Job | Status | Last beat | Alerting since | Interval | Why |
      | --- | --- | --- | --- | --- | --- |
      | db-dump | **failed** | 2025-03-10 11:00 UTC | 2025-03-10 09:00 UTC | 1h | recovering: 1 of 2 ok runs before recovery; last failure: exit code 2 at 2025-03-10T10:00:00.000Z |
      | backup | **stale** | 2025-03-10 07:00 UTC | 2025-03-10 09:00 UTC | 1h | no beat since 2025-03-10T07:00:00.000Z; expected by 2025-03-10T08:00:00.000Z |
      "
    `);
  });

  it("no issue is opened while every job is at most flaky", () => {
    expect(snapshotOf([flaky, healthy("web")]).size).toBe(0);
  });
});

describe("bounded bodies", () => {
  const many = (n: number, prefix = "job-") => Array.from({ length: n }, (_, i) => stale(`${prefix}${String(i).padStart(4, "0")}`));

  it("renders the storm issue of per-job mode", () => {
    const { title, body } = renderStormIssue([stale("backup"), failed("db-dump")], SCOPE, 10);
    expect(title).toMatchInlineSnapshot(`"[heartbeat-checker] web-1: storm: 2 jobs alerting: db-dump, backup"`);
    expect(body.split("\n").slice(0, 4).join("\n")).toMatchInlineSnapshot(`
      "<!-- lastbeat:storm scope=web-1 -->
      <!-- lastbeat:state v3 fp=154d1a7e9cffe9f0 h=0fd637b43e0e214c failed:ha57g=db-dump;stale:ha530=backup -->

      **2 jobs alerting in a storm.** More jobs started alerting at once than \`--max-new-issues\` (10) allows new issues in one run, so these share one issue (scope \`web-1\`). It is edited when the set of jobs, a status or a reason changes, and closed when every job listed here has recovered."
    `);
  });

  it("cuts the table worst first and counts the rest by status", () => {
    const states = [...many(1500), ...Array.from({ length: 500 }, (_, i) => failed(`fail-${i}`))];
    const { title, body } = renderRollupIssue(states, SCOPE);
    expect(title).toBe("[heartbeat-checker] web-1: 2,000 jobs alerting: fail-0, fail-1, fail-10, fail-100, fail-101 and 1,995 more");
    expect(body.length).toBeLessThanOrEqual(MAX_BODY_CHARS);
    const rows = body.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| Job") && !l.startsWith("| ---"));
    expect(rows.every((r) => r.includes("**failed**"))).toBe(true);
    expect(body).toMatch(new RegExp(`\\n\\n…and ${(2000 - rows.length).toLocaleString("en-US")} more \\(by status: ${(500 - rows.length).toLocaleString("en-US")} failed, 1,500 stale\\)\\n`));
    // Every job is still remembered in the state marker.
    expect(snapshotOfBody(body)?.size).toBe(2000);
  });

  it("bounds the state marker: names that do not fit are kept by hash, jobs past 40,000 characters counted, never cut", () => {
    const long = many(2000, `${"x".repeat(120)}-`);
    const whole = stateOfBody(renderRollupIssue(long, SCOPE).body)!;
    expect(whole.forgotten).toBe(0);
    expect(whole.snapshot.size).toBeGreaterThan(0);
    expect(whole.snapshot.size + whole.hashed.size).toBe(2000);
    const more = many(6000, `${"x".repeat(120)}-`);
    const { title, body } = renderRollupIssue(more, SCOPE);
    expect(title.length).toBeLessThanOrEqual(255);
    expect(title.endsWith("…")).toBe(true);
    expect(body.length).toBeLessThanOrEqual(MAX_BODY_CHARS);
    const state = stateOfBody(body)!;
    expect(state.snapshot.size + state.hashed.size + state.forgotten).toBe(6000);
    expect(state.forgotten).toBeGreaterThan(0);
    const line = body.split("\n")[1]!;
    expect(line.length).toBeLessThanOrEqual(MAX_STATE_CHARS);
    expect(line).toMatch(new RegExp(` \\+${state.forgotten} -->$`));
  });

  it("bounds change and closing comments", () => {
    const states = many(2000, `${"y".repeat(60)}-`);
    const comment = renderChangeComment(new Map(), snapshotOf(states), states, NOW);
    expect(comment.length).toBeLessThanOrEqual(MAX_COMMENT_CHARS);
    expect(comment).toMatch(/\n\n…and [\d,]+ more\n$/);
    const close = renderCloseComment(snapshotOf(states), [], NOW, { retired: new Set(states.map((s) => s.job)) });
    expect(close.length).toBeLessThanOrEqual(MAX_COMMENT_CHARS);
    expect(close.startsWith("Every job was retired; closing.")).toBe(true);
  });

  it("reads the first state format, and a marker without a scope, for issues opened before", () => {
    const body = "<!-- lastbeat:job:a%20b -->\n<!-- lastbeat:state a%20b=stale@2025-03-10T09:00:00.000Z -->\n";
    expect(markerOfBody(body)).toEqual({ key: "job:a b", scope: null });
    expect(stateOfBody(body)).toEqual({
      snapshot: new Map([["a b", { status: "stale", since: "2025-03-10T09:00:00.000Z" }]]),
      hashed: new Map(),
      fingerprint: null,
      bodyHash: null,
      forgotten: 0,
    });
    // The second format, still read: issues opened before v3 carry on, `+N` included.
    const v2 = "<!-- lastbeat:rollup scope=web-1 -->\n<!-- lastbeat:state v2 fp=154d1a7e9cffe9f0 h=- failed:db-dump@ha57g;stale:backup@ha530,a%20b@- +3 -->\n";
    expect(stateOfBody(v2)).toEqual({
      snapshot: new Map([
        ["db-dump", { status: "failed", since: "2025-03-10T11:40:00.000Z" }],
        ["backup", { status: "stale", since: "2025-03-10T09:00:00.000Z" }],
        ["a b", { status: "stale", since: null }],
      ]),
      hashed: new Map(),
      fingerprint: "154d1a7e9cffe9f0",
      bodyHash: null,
      forgotten: 3,
    });
  });
});

import { describe, expect, it } from "vitest";
import { renderChangeComment, renderCloseComment, renderJobIssue, renderRollupIssue, snapshotOf, snapshotOfBody } from "@lastbeat/forge";
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
      <!-- lastbeat:state v2 fp=154d1a7e9cffe9f0 h=82623c246198c3c2 failed:db-dump@ha57g;stale:backup@ha530 -->

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
      <!-- lastbeat:state v2 fp=e1d37d04d5b5cae0 h=4b8aaa4bf95c7359 stale:backup@ha530 -->

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

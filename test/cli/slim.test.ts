import { renderJobIssue, renderRollupIssue } from "@lastbeat/forge";
import { buildBrief, formatBrief, renderPanel, REPORT_FORMATS } from "@lastbeat/report";
import { evaluate, type Heartbeat, type JobState } from "lastbeat";
import { formatDuration, journalChanges } from "lastbeat/internal";
import { describe, expect, it } from "vitest";
import { renderMetrics } from "../../packages/cli/src/prometheus.js";
import { HEARTBEAT_USE, slimState } from "../../packages/cli/src/slim.js";
import { statusTable } from "../../packages/cli/src/status-table.js";

/*
 * Each reader keeps only the heartbeat fields it renders (slim.ts): rendering from slimmed states
 * must give exactly what the whole states give, for heartbeats that carry every field there is,
 * a 20-run history included. A reader that starts showing another field fails here until that
 * field is added to its list.
 */

const NOW = new Date("2025-06-02T06:00:00Z");

const runs = Array.from({ length: 20 }, (_, i) => ({
  at: new Date(NOW.getTime() - (i + 1) * 3_600_000).toISOString(),
  status: i % 7 === 3 ? ("fail" as const) : ("ok" as const),
  duration_ms: 1000 + i * 37,
  exit_code: i % 7 === 3 ? 2 : 0,
}));

function full(job: string, status: Heartbeat["status"], agoS: number): Heartbeat {
  const at = new Date(NOW.getTime() - agoS * 1000).toISOString();
  return {
    format: "lastbeat/1",
    job,
    status,
    at,
    interval_s: 3600,
    schedule: "0 * * * *",
    tz: "UTC",
    grace: "2x",
    max_runtime_s: 1800,
    last_ok_at: new Date(NOW.getTime() - 86_400_000).toISOString(),
    started_at: new Date(NOW.getTime() - (agoS + 42) * 1000).toISOString(),
    duration_ms: 42_000,
    exit_code: status === "fail" ? 3 : 0,
    signal: "SIGTERM",
    run_id: `run-${job}`,
    pid: 4242,
    host: "db-1",
    message: status === "fail" ? "dump failed: disk full\nsecond line" : "done",
    output_tail: "pg_dump: error: could not write\nNo space left on device\n",
    runs,
    alert_after: 1,
    recover_after: 1,
  };
}

const states: JobState[] = [
  evaluate(full("backup", "fail", 600), undefined, NOW),
  evaluate(full("etl", "ok", 600), undefined, NOW),
  evaluate(full("sync", "start", 7200), undefined, NOW),
  evaluate(full("import", "start", 60), undefined, NOW),
  evaluate(full("reports", "ok", 4 * 86_400), undefined, NOW),
  evaluate(undefined, undefined, NOW, { job: "gone", file: "/x/gone.last", invalidReason: "heartbeat file not valid JSON" }),
];
const slim = (use: readonly Parameters<typeof slimState>[1][number][]) => states.map((s) => slimState(s, use));

describe("slimState", () => {
  it("drops every heartbeat field the reader does not use, the runs included", () => {
    const [backup] = slim(HEARTBEAT_USE.metrics);
    expect(backup?.heartbeat).toEqual({ job: "backup", status: "fail", at: states[0]?.heartbeat?.at, interval_s: 3600, duration_ms: 42_000, exit_code: 3 });
    expect(slim(HEARTBEAT_USE.check)[0]?.heartbeat).not.toHaveProperty("runs");
    expect(slim(HEARTBEAT_USE.report)[0]?.heartbeat?.runs).toHaveLength(20);
    // The state itself is untouched, and a state without a heartbeat stays as it is.
    expect({ ...slim([])[0], heartbeat: null }).toEqual({ ...states[0], heartbeat: null });
    expect(slim([])[5]).toBe(states[5]);
  });

  it("the status table renders the same from slimmed states", () => {
    const options = { color: false, formatDuration };
    expect(statusTable(slim(HEARTBEAT_USE.status), options)).toBe(statusTable(states, options));
  });

  it("metrics render the same from slimmed states", () => {
    expect(renderMetrics(slim(HEARTBEAT_USE.metrics), NOW)).toBe(renderMetrics(states, NOW));
  });

  it("check's issues and journal entries are the same from slimmed states", () => {
    const kept = slim(HEARTBEAT_USE.check);
    expect(renderRollupIssue(kept, "host-1")).toEqual(renderRollupIssue(states, "host-1"));
    kept.forEach((state, i) => expect(renderJobIssue(state, "host-1")).toEqual(renderJobIssue(states[i] as JobState, "host-1")));
    expect(kept.map((s) => s.status)).toContain("running");
    expect(journalChanges(kept, new Map(), NOW)).toEqual(journalChanges(states, new Map(), NOW));
  });

  it("the brief and the panel render the same from slimmed states, in every format", () => {
    const kept = slim(HEARTBEAT_USE.report);
    for (const format of REPORT_FORMATS) {
      const options = { now: NOW, tz: "Europe/Berlin", format };
      expect(renderPanel(kept, options)).toBe(renderPanel(states, options));
      expect(formatBrief(buildBrief(kept, options), format)).toBe(formatBrief(buildBrief(states, options), format));
    }
  });
});

import { evaluate } from "lastbeat";
import { describe, expect, it } from "vitest";
import { escapeLabelValue, renderMetrics } from "../../packages/cli/src/prometheus.js";

const now = new Date("2025-01-31T06:00:00Z");

describe("renderMetrics", () => {
  it("renders every family with HELP and TYPE, one series per status", () => {
    const ok = evaluate(
      { job: "backup", status: "ok", at: "2025-01-31T05:00:00.000Z", interval_s: 86400, duration_ms: 1500, exit_code: 0 },
      undefined,
      now,
      { file: "/hb/backup.last" },
    );
    const missing = evaluate(undefined, { intervalSeconds: 300 }, now, { job: "sync" });
    expect(renderMetrics([ok, missing], now)).toMatchInlineSnapshot(`
      "# HELP lastbeat_last_beat_timestamp_seconds Unix time of the job's last heartbeat.
      # TYPE lastbeat_last_beat_timestamp_seconds gauge
      lastbeat_last_beat_timestamp_seconds{job="backup"} 1738299600
      # HELP lastbeat_last_success_timestamp_seconds Unix time of the job's last ok heartbeat.
      # TYPE lastbeat_last_success_timestamp_seconds gauge
      lastbeat_last_success_timestamp_seconds{job="backup"} 1738299600
      # HELP lastbeat_interval_seconds Declared interval between runs of the job.
      # TYPE lastbeat_interval_seconds gauge
      lastbeat_interval_seconds{job="backup"} 86400
      lastbeat_interval_seconds{job="sync"} 300
      # HELP lastbeat_due_timestamp_seconds Unix time the job's next heartbeat is due.
      # TYPE lastbeat_due_timestamp_seconds gauge
      lastbeat_due_timestamp_seconds{job="backup"} 1738386000
      # HELP lastbeat_grace_end_timestamp_seconds Unix time after which the job's silence is alerting (stale).
      # TYPE lastbeat_grace_end_timestamp_seconds gauge
      lastbeat_grace_end_timestamp_seconds{job="backup"} 1738472400
      # HELP lastbeat_age_seconds Seconds since the job's last heartbeat, at the time of the scan.
      # TYPE lastbeat_age_seconds gauge
      lastbeat_age_seconds{job="backup"} 3600
      # HELP lastbeat_job_status 1 for the job's current status, 0 for every other status.
      # TYPE lastbeat_job_status gauge
      lastbeat_job_status{job="backup",status="invalid"} 0
      lastbeat_job_status{job="backup",status="failed"} 0
      lastbeat_job_status{job="backup",status="overrun"} 0
      lastbeat_job_status{job="backup",status="missing"} 0
      lastbeat_job_status{job="backup",status="stale"} 0
      lastbeat_job_status{job="backup",status="flaky"} 0
      lastbeat_job_status{job="backup",status="late"} 0
      lastbeat_job_status{job="backup",status="running"} 0
      lastbeat_job_status{job="backup",status="paused"} 0
      lastbeat_job_status{job="backup",status="ok"} 1
      lastbeat_job_status{job="sync",status="invalid"} 0
      lastbeat_job_status{job="sync",status="failed"} 0
      lastbeat_job_status{job="sync",status="overrun"} 0
      lastbeat_job_status{job="sync",status="missing"} 1
      lastbeat_job_status{job="sync",status="stale"} 0
      lastbeat_job_status{job="sync",status="flaky"} 0
      lastbeat_job_status{job="sync",status="late"} 0
      lastbeat_job_status{job="sync",status="running"} 0
      lastbeat_job_status{job="sync",status="paused"} 0
      lastbeat_job_status{job="sync",status="ok"} 0
      # HELP lastbeat_alerting 1 when the job is alerting (stale, failed, overrun, missing or invalid).
      # TYPE lastbeat_alerting gauge
      lastbeat_alerting{job="backup"} 0
      lastbeat_alerting{job="sync"} 1
      # HELP lastbeat_last_duration_seconds Duration of the job's last completed run.
      # TYPE lastbeat_last_duration_seconds gauge
      lastbeat_last_duration_seconds{job="backup"} 1.5
      # HELP lastbeat_last_exit_code Exit code of the job's last completed run.
      # TYPE lastbeat_last_exit_code gauge
      lastbeat_last_exit_code{job="backup"} 0
      # HELP lastbeat_scan_timestamp_seconds Unix time these metrics were computed.
      # TYPE lastbeat_scan_timestamp_seconds gauge
      lastbeat_scan_timestamp_seconds 1738303200
      "
    `);
  });

  it("a flaky job has status flaky 1 (and every other 0) and is not alerting", () => {
    const runs = [{ at: "2025-01-31T05:00:00.000Z", status: "fail" as const, exit_code: 2 }, { at: "2025-01-31T04:00:00.000Z", status: "ok" as const }];
    const flaky = evaluate(
      { job: "fetch", status: "fail", at: "2025-01-31T05:00:00.000Z", interval_s: 3600, exit_code: 2, alert_after: 3, runs },
      undefined,
      now,
    );
    const lines = renderMetrics([flaky], now).split("\n");
    expect(lines.filter((line) => line.startsWith("lastbeat_job_status{") && line.endsWith(" 1"))).toEqual(['lastbeat_job_status{job="fetch",status="flaky"} 1']);
    expect(lines).toContain('lastbeat_alerting{job="fetch"} 0');
    expect(lines).toContain('lastbeat_last_exit_code{job="fetch"} 2');
  });

  it("gives no run length or exit code for a run under way, which has neither yet", () => {
    // A start beat carries the last finished run's fields forward; they are not this run's.
    const running = evaluate(
      { job: "etl", status: "start", at: "2025-01-31T05:50:00.000Z", started_at: "2025-01-31T05:50:00.000Z", interval_s: 3600, duration_ms: 1200, exit_code: 0 },
      undefined,
      now,
    );
    const text = renderMetrics([running], now);
    expect(text).toContain('lastbeat_job_status{job="etl",status="running"} 1');
    expect(text).not.toContain("lastbeat_last_duration_seconds");
    expect(text).not.toContain("lastbeat_last_exit_code");
  });

  it("with no jobs, gives the scan time alone; values no number can print are Prometheus' NaN and ±Inf", () => {
    expect(renderMetrics([], now)).toBe(
      "# HELP lastbeat_scan_timestamp_seconds Unix time these metrics were computed.\n# TYPE lastbeat_scan_timestamp_seconds gauge\nlastbeat_scan_timestamp_seconds 1738303200\n",
    );
    const base = evaluate(undefined, undefined, now, { job: "odd", file: "/x", invalidReason: "bad" });
    const text = renderMetrics([{ ...base, ageSeconds: Number.NaN, intervalSeconds: Number.POSITIVE_INFINITY, ratio: null }, { ...base, job: "odd2", intervalSeconds: Number.NEGATIVE_INFINITY }], now);
    const lines = text.split("\n");
    expect(lines).toContain('lastbeat_age_seconds{job="odd"} NaN');
    expect(lines).toContain('lastbeat_interval_seconds{job="odd"} +Inf');
    expect(lines).toContain('lastbeat_interval_seconds{job="odd2"} -Inf');
  });

  it("escapes label values and can rename the job label", () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    const odd = evaluate(undefined, undefined, now, { job: 'we"ird\\job\n', file: "/x", invalidReason: "bad" });
    const text = renderMetrics([odd], now, "lastbeat_job");
    expect(text).toContain('lastbeat_alerting{lastbeat_job="we\\"ird\\\\job\\n"} 1');
    expect(text.split("\n").every((line) => !line.includes("\r"))).toBe(true);
  });

  it("a fleet's samples, joined a thousand at a time, come out whole: each family one block, in job order", () => {
    // 2,345 jobs (parts of 1,000 and a rest) and exactly 2,000 (no rest): no blank line either way.
    for (const count of [2000, 2345]) {
      const even = Array.from({ length: count }, (_, i) => evaluate({ job: `j${i}`, status: "ok", at: "2025-01-31T05:00:00.000Z", interval_s: 60 }, undefined, now));
      expect(renderMetrics(even, now)).not.toContain("\n\n");
    }
    const jobs = Array.from({ length: 2345 }, (_, i) => `job-${i}`);
    const states = jobs.map((job) => evaluate({ job, status: "ok", at: "2025-01-31T05:00:00.000Z", interval_s: 86400, exit_code: 0 }, undefined, now));
    const lines = renderMetrics(states, now).split("\n");
    expect(lines.at(-1)).toBe("");
    expect(lines.slice(0, -1).every((line) => line !== "")).toBe(true);
    const samplesOf = (name: string) => {
      const start = lines.indexOf(`# TYPE ${name} gauge`) + 1;
      const end = lines.findIndex((line, i) => i >= start && !line.startsWith(`${name}{`) && !line.startsWith(`${name} `));
      return lines.slice(start, end);
    };
    expect(samplesOf("lastbeat_interval_seconds")).toEqual(jobs.map((job) => `lastbeat_interval_seconds{job="${job}"} 86400`));
    expect(samplesOf("lastbeat_last_exit_code")).toEqual(jobs.map((job) => `lastbeat_last_exit_code{job="${job}"} 0`));
    expect(samplesOf("lastbeat_job_status")).toHaveLength(jobs.length * 10);
    expect(samplesOf("lastbeat_scan_timestamp_seconds")).toEqual(["lastbeat_scan_timestamp_seconds 1738303200"]);
  });
});
